"""BluePeak Health screens: how each recognises itself (by its heading and its inputs, never the URL:
every screen of a single-page app lives at whatever URL the script left in the address bar)."""

from __future__ import annotations

from aggregator.scrapers.framework import Document, PortalPage, header_key, text_of

BUSY = "[role=progressbar]"  # the app's spinners: a screen is read only once none is left
TERMS_DIALOG = "[role=dialog]"


def heading_is(doc: Document, text: str) -> bool:
    return [header_key(text_of(h)) for h in doc.select("h1")] == [header_key(text)]


def alert(doc: Document) -> str | None:
    found = [text_of(el) for el in doc.select("[role=alert]") if text_of(el)]
    return found[0] if found else None


class LoginScreen(PortalPage):
    name = "sign in"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return heading_is(doc, "Sign in to Provider Connect") and bool(doc.select("input#username"))


class MfaScreen(PortalPage):
    name = "verification code"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return heading_is(doc, "Enter your verification code") and bool(doc.select("input#code"))


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
        return heading_is(doc, "Eligibility & benefits") and bool(doc.select("input#member-id"))


class AuthorizationScreen(PortalPage):
    name = "authorizations"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return heading_is(doc, "Authorizations") and bool(doc.select("input#member-id"))


class ClaimScreen(PortalPage):
    name = "claim status"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return heading_is(doc, "Claim status") and bool(doc.select("input#claim-number"))


# Screens any step may meet instead of the one it asked for.
INTERRUPTIONS: tuple[type[PortalPage], ...] = (LoginScreen, MaintenanceScreen, SlowDownScreen, ServerErrorScreen)
