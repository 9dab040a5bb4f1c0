"""BluePeak Health screens: how each recognises itself (by its heading and the labels of its inputs, never
the URL: every screen of a single-page app lives at whatever URL the script left in the address bar; nor
by element ids or classes, which a release may rename without changing what the screen says)."""

from __future__ import annotations

from lxml.html import HtmlElement

from aggregator.scrapers.framework import Document, PortalPage, header_key, text_of

TERMS_DIALOG = "[role=dialog]"

# The states the adapter waits for (JavaScript predicates run in the page; never a length of time). Each
# step that calls the API waits for its response first, and the app puts its spinner up before it sends
# the request, so "no spinner" after the response means the response was drawn.
# A screen drawn: a heading, and no spinner (`[role=progressbar]`) anywhere.
SETTLED = "() => !!document.querySelector('h1') && !document.querySelector('[role=progressbar]')"
# Every section open and drawn: each toggle expanded, its panel shown with content, as many toggles as
# the count the list states ("3 claim(s)"), and no spinner anywhere. (Another screen
# replacing this one, e.g. a lost session, also ends the wait: the next step classifies it.)
ALL_OPEN = """() => {
  if (!document.querySelector('h1') || document.querySelector('[role=progressbar]')) return false;
  const toggles = [...document.querySelectorAll('button[aria-controls][aria-expanded]')];
  const drawn = toggles.every(b => {
    const panel = document.getElementById(b.getAttribute('aria-controls'));
    return b.getAttribute('aria-expanded') === 'true' && panel && !panel.hidden && panel.textContent.trim() !== '';
  });
  const stated = [...document.querySelectorAll('h2')].map(h => /^(\\d+) /.exec(h.textContent.trim())).filter(m => m);
  return drawn && stated.every(m => Number(m[1]) === toggles.length);
}"""


HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


def headings(doc: Document) -> list[HtmlElement]:
    """Every heading of any level, in page order."""
    return [el for el in doc.root.iter(*HEADINGS)]


def heading_is(doc: Document, text: str) -> bool:
    """The screen's title (its one heading of the highest level drawn: a release may move every heading
    a level down) says `text`."""
    found = headings(doc)
    top = min((h.tag for h in found), default=None)
    return [header_key(text_of(h)) for h in found if h.tag == top] == [header_key(text)]


def alerts(doc: Document) -> list[str]:
    """The texts of the page's alerts, in page order (a search refusal, a sign-in message, a banner)."""
    return [text_of(el) for el in doc.select("[role=alert]") if text_of(el)]


def alert(doc: Document) -> str | None:
    found = alerts(doc)
    return found[0] if found else None


def has_input(doc: Document, label: str) -> bool:
    """An input the page labels `label` (the label's own words, compared like headers)."""
    wanted = header_key(label)
    for element in doc.root.iter("label"):
        if header_key(text_of(element)) != wanted:
            continue
        target = element.get("for")
        if element.xpath(".//input") or (target and doc.root.xpath("//input[@id=$id]", id=target)):
            return True
    return any(header_key(i.get("aria-label") or "") == wanted for i in doc.root.iter("input"))


class LoginScreen(PortalPage):
    name = "sign in"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return heading_is(doc, "Sign in to Provider Connect") and has_input(doc, "Username")


class MfaScreen(PortalPage):
    name = "verification code"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return heading_is(doc, "Enter your verification code") and bool(doc.select("input"))


class CaptchaScreen(PortalPage):
    name = "robot check"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return heading_is(doc, "Confirm you're not a robot")


class MaintenanceScreen(PortalPage):
    name = "maintenance"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return heading_is(doc, "Scheduled maintenance")


class SlowDownScreen(PortalPage):
    name = "rate limited"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return heading_is(doc, "Please slow down")


class ServerErrorScreen(PortalPage):
    name = "server error"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return heading_is(doc, "Something went wrong")


class HomeScreen(PortalPage):
    name = "home"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return heading_is(doc, "Welcome back")


class EligibilityScreen(PortalPage):
    name = "eligibility & benefits"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return heading_is(doc, "Eligibility & benefits") and has_input(doc, "Member ID")


class AuthorizationScreen(PortalPage):
    name = "authorizations"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return heading_is(doc, "Authorizations") and has_input(doc, "Member ID")


class ClaimScreen(PortalPage):
    name = "claim status"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return heading_is(doc, "Claim status") and has_input(doc, "Claim number")


# Screens any step may meet instead of the one it asked for.
INTERRUPTIONS: tuple[type[PortalPage], ...] = (LoginScreen, MaintenanceScreen, SlowDownScreen, ServerErrorScreen)
