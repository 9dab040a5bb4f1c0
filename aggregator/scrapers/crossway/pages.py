"""Crossway screens (the hub and its identity provider, Crossway ID): how each recognises itself, and the
pure readers every answer page shares (the member summary, the payer a page is about, messages).

Recognition uses the page title (`Crossway - <h1>` / `Crossway ID - <h1>`) and a form field or a marker of
the screen, never the URL alone: the search is re-rendered at the same URL for a refused form, and a hub
page without a live session redirects through the identity provider to wherever the sign-in lands.

What a page is about is read from the page itself: the one element marked `data-payer` names the payer
whose layout the answer is drawn in (its words must name that payer too), and the member summary's `Payer
ID` must be that payer's (a page of another payer is never read with this payer's layout, nor answered for
it).

Parts of a page are found by what they say, never by their ids or classes (a redesign renames those): a
definition list by its terms, a table by its header row (`Document.table_with_headers`), a message or the
prior-authorization list by its words, a heading whatever its level. What is found must be found once.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Literal

from lxml.html import HtmlElement

from aggregator.errors import ParseError, UnexpectedPage
from aggregator.models import RejectReason, Relationship, ServiceType
from aggregator.models.base import Record
from aggregator.scrapers.framework import Document, PortalPage, clean, header_key, parse_date, text_of
from aggregator.scrapers.framework.html import next_element
from aggregator.scrapers.framework.login import LoginMessages
from aggregator.scrapers.framework.manifest import PayerEntry
from aggregator.scrapers.framework.reading import parse_amount

from . import maps
from .manifest import MANIFEST

_WARNING_DUE = re.compile(r"\((\d{2}/\d{2}/\d{4})\)")
# Any heading element: a redesign moves headings up or down a level without changing what they head.
HEADING = "self::h1 or self::h2 or self::h3 or self::h4 or self::h5 or self::h6"
# The terms that identify each definition list of the answer pages (every one is read, so all must be there).
MEMBER_SUMMARY = ("Payer ID", "Member ID", "Benefit Lines")
CLAIM_CRITERIA = ("Member ID", "Date of Birth", "Service Dates")
CLAIM_INFO = ("Claim Number", "Status Code", "Service Dates")


def title_is(doc: Document, title: str) -> bool:
    return header_key(doc.title) == header_key(maps.TITLE_PREFIX + title)


def idp_title_is(doc: Document, title: str) -> bool:
    return header_key(doc.title) == header_key(maps.IDP_TITLE_PREFIX + title)


# The hub's and Crossway ID's messages the adapter acts on: found by their words wherever they are drawn.
KNOWN_MESSAGES = (maps.MSG_INVALID_LOGIN, maps.MSG_LOCKED, maps.MSG_CODE_INVALID, maps.MSG_CODE_REUSED,
                  maps.MSG_SESSION_GONE, maps.MSG_NOT_VERIFIED, maps.MSG_ACCESS_DENIED,
                  maps.MSG_NAME_SEARCH_UNSUPPORTED, maps.MSG_CODE_WRONG, maps.MSG_CODE_EXPIRED,
                  maps.MSG_PUSH_DENIED, maps.MSG_PUSH_EXPIRED)


def messages(doc: Document) -> list[str]:
    """What the page says to the user, in page order, each once: the known messages (found by their words,
    so a renamed message box still says them) and any other error paragraph (`p.error`), which is reported
    as what it is, a message the adapter does not know."""
    shown = {el for _, el in saying_one_of(doc, KNOWN_MESSAGES)} | set(doc.select("p.error"))
    said: dict[str, str] = {}
    for el in doc.root.iter():
        if el in shown and (text := text_of(el)):
            said.setdefault(header_key(text), text)
    return list(said.values())


def says(doc: Document, sentence: str) -> bool:
    return any(header_key(text) == header_key(sentence) for text in messages(doc))


def innermost_saying(doc: Document, predicate: Callable[[str], bool], *, word: str) -> list[HtmlElement]:
    """The innermost elements whose whole text satisfies `predicate`, in page order (an element and its
    wrapper say the same words: the element is the one meant). Only elements whose text holds `word`, a
    word every match holds, are read."""
    matches = [el for el in doc.elements_with_word(word) if predicate(text_of(el))]
    return [el for el in matches if not any(other is not el and other in el.iterdescendants() for other in matches)]


def saying_one_of(doc: Document, sentences: tuple[str, ...]) -> list[tuple[str, HtmlElement]]:
    """(sentence, element) for every element that says one of `sentences` and nothing else, in page order."""
    found = []
    for sentence in sentences:
        wanted = header_key(sentence)
        said = innermost_saying(doc, _exactly(wanted), word=max(wanted.split(" "), key=len))
        found += [(sentence, el) for el in said]
    return found


def _exactly(wanted: str) -> Callable[[str], bool]:
    """A text that says `wanted` (a `header_key`) and nothing else."""
    return lambda text: header_key(text) == wanted


def has_definition_list(doc: Document) -> bool:
    """Whether the page draws a `<dl>`: what marks an answer screen (which one, and whether it holds the
    terms read, is the parser's to say: a renamed term is a drifted page, named as such, not another page)."""
    return doc.root.find(".//dl") is not None


def definition_lists(doc: Document, terms: tuple[str, ...]) -> list[HtmlElement]:
    """The `<dl>`s whose terms include every one of `terms` (compared by `header_key`)."""
    wanted = {header_key(term) for term in terms}
    return [dl for dl in doc.root.iter("dl") if wanted <= {header_key(text_of(dt)) for dt in dl.iter("dt")}]


# --- Crossway ID (the identity provider) -----------------------------------------------------------

class IdpLoginPage(PortalPage):
    name = "Crossway ID sign in"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return idp_title_is(doc, "Sign in") and bool(doc.select("input[name=username]"))


LOGIN_MESSAGES = LoginMessages(
    ended=(maps.MSG_SESSION_GONE,),
    rejected={maps.MSG_INVALID_LOGIN: "(Crossway ID) rejected the username or password",
              maps.MSG_LOCKED: "(Crossway ID) says the account is locked: contact the administrator"},
)


def login_message(doc: Document) -> str | None:
    """The one message the Crossway ID sign-in page shows (two at once contradict each other)."""
    said = messages(doc)
    if len(said) > 1:
        raise ParseError("the sign-in page shows two messages")
    return said[0] if said else None


class IdpMfaPage(PortalPage):
    name = "Crossway ID verification code"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return idp_title_is(doc, "Verify it's you") and bool(doc.select("input[name=code]"))


# How Crossway ID says the code comes (`#mfa-channel`'s data-channel); a page without it is the
# authenticator-app page as it was before Crossway ID offered other factors.
MFA_CHANNELS = ("totp", "sms", "email", "push")


def mfa_channel(doc: Document) -> tuple[str, str]:
    """(channel, what the page says about it). An unknown channel is a drifted page, never a guess."""
    found = doc.select("#mfa-channel")
    if not found:
        return "totp", ""
    channel = clean(found[0].get("data-channel")).lower()
    if channel not in MFA_CHANNELS:
        raise ParseError(f"Crossway ID asks for a second factor the adapter does not know ({channel or 'none'})")
    return channel, text_of(found[0])


class IdpPushPage(PortalPage):
    """Crossway ID waits for the user to approve the sign-in on their phone."""

    name = "Crossway ID push approval"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return idp_title_is(doc, "Verify it's you") and bool(doc.select("#push-form"))


class IdpPasswordPage(PortalPage):
    """The forced password change at expiry: only a person may choose the new password."""

    name = "Crossway ID password change"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return idp_title_is(doc, "Change your password") and bool(doc.select("input[name=newPassword]"))


class IdpAccountPage(PortalPage):
    """Crossway ID's own account page (reached from the hub's `a#idp-account`): where a password is changed."""

    name = "Crossway ID account"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return idp_title_is(doc, "Your Crossway ID") and bool(doc.select("a#change-password-link"))


class IdpPasswordChangedPage(PortalPage):
    """The voluntary change's answer: "Your password was changed." (`#password-changed`)."""

    name = "Crossway ID password changed"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return idp_title_is(doc, "Password changed") and bool(doc.select("#password-changed"))


def password_refusals(doc: Document) -> list[str]:
    """Why Crossway ID refused a new password: the change form's error messages (its rules, a mismatch, a
    wrong current password), in page order. They name rules, never the passwords typed."""
    return list(dict.fromkeys(text for el in doc.select(".error") if (text := text_of(el))))


class IdpConsentPage(PortalPage):
    name = "Crossway ID consent"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return idp_title_is(doc, "Allow access") and bool(doc.select("button[name=decision][value=allow]"))


class IdpErrorPage(PortalPage):
    """Crossway ID refused the sign-in request (a malformed or unregistered request, a session gone)."""

    name = "Crossway ID sign-in error"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return idp_title_is(doc, "Sign-in error")


# --- the hub -----------------------------------------------------------------------------------------

class MaintenancePage(PortalPage):
    """The hub's or Crossway ID's scheduled-maintenance page: either stops every step alike."""

    name = "maintenance"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return title_is(doc, "Scheduled Maintenance") or idp_title_is(doc, "Scheduled maintenance")


class LandingPage(PortalPage):
    name = "hub landing"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return title_is(doc, "Welcome") and bool(doc.select("a#signin"))


class SignInErrorPage(PortalPage):
    """The hub refused the identity provider's answer (state mismatch, a code it could not redeem)."""

    name = "hub sign-in error"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return title_is(doc, "Sign-in Error")


class SignInCancelledPage(PortalPage):
    name = "hub sign-in cancelled"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return title_is(doc, "Sign-in Cancelled")


class OrganizationsPage(PortalPage):
    name = "organization picker"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return title_is(doc, "Select Organization") and bool(doc.select("input[name=taxId]"))


class ProvidersPage(PortalPage):
    name = "provider picker"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return title_is(doc, "Select Provider") and bool(doc.select("input[name=npi]"))


class PayersPage(PortalPage):
    name = "payer list"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return title_is(doc, "Select Payer") and bool(doc.select("#payer-list"))


class SearchPage(PortalPage):
    """The patient search form; re-rendered with a `p.error` when the hub refuses what was entered."""

    name = "patient search"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return title_is(doc, "Patient Search") and bool(doc.select("input[name=dob]"))


class CandidatesPage(PortalPage):
    name = "patient candidates"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return title_is(doc, "Select Patient")


class NoMatchPage(PortalPage):
    name = "no patient found"
    REASONS = {
        header_key(maps.NOT_FOUND): RejectReason.NOT_FOUND,
        header_key(maps.DOB_MISMATCH): RejectReason.DOB_MISMATCH,
        header_key(maps.NAME_MISMATCH): RejectReason.INVALID_NAME,
    }

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return title_is(doc, "No Patient Found")


class DailyLimitPage(PortalPage):
    name = "daily limit reached"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return title_is(doc, "Daily Limit Reached")


class TooManyRequestsPage(PortalPage):
    name = "too many requests"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return title_is(doc, "Too Many Requests")

    @staticmethod
    def is_search_pace(doc: Document) -> bool:
        """The hub's own pace gate (a search too soon after the previous one), not a general 429."""
        return bool(saying_one_of(doc, (maps.MSG_TOO_FAST,)))


class EligibilityPage(PortalPage):
    name = "eligibility and benefits"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return title_is(doc, "Eligibility and Benefits") and has_definition_list(doc)


class ClaimResultsPage(PortalPage):
    name = "claim status results"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return title_is(doc, "Claim Status Results") and has_definition_list(doc)


class ClaimDetailPage(PortalPage):
    name = "claim detail"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return title_is(doc, "Claim Detail") and has_definition_list(doc)


# --- readers every answer page shares ----------------------------------------------------------------

class Definitions:
    """A `<dl>` read by its terms (case and spacing ignored): `Payer ID` -> the text of its `<dd>`.

    The list is the one holding every one of `terms` (found by its words, not its id). Each term once; a
    term printed twice, or a term without its definition, is a page we cannot trust. The hub prints `—` for
    "no value": `optional*` readers give None for it, the others refuse it.
    """

    def __init__(self, doc: Document, terms: tuple[str, ...], *, what: str) -> None:
        self.what = what
        found = definition_lists(doc, terms)
        if not found:
            held = {header_key(text_of(dt)) for dt in doc.root.iter("dt")}
            missing = [term for term in terms if header_key(term) not in held]
            raise ParseError(f"{what}: no definition list holds '{missing[0]}'" if missing else
                             f"{what}: no one definition list holds {', '.join(terms)}")
        if len(found) > 1:
            raise ParseError(f"expected one {what}, found {len(found)}")
        self.values: dict[str, str] = {}
        for term in found[0].iter("dt"):
            value = next_element(term)
            if value is None or value.tag != "dd":
                raise ParseError(f"{what}: a term without its value")
            key = header_key(text_of(term))
            if key in self.values:
                raise ParseError(f"{what}: a term appears twice")
            self.values[key] = text_of(value)

    def has(self, label: str) -> bool:
        return header_key(label) in self.values

    def text(self, label: str) -> str:
        value = self.values.get(header_key(label))
        if value is None:
            raise ParseError(f"{self.what} lacks '{label}'")
        if not value or value == maps.NO_VALUE:
            raise ParseError(f"{self.what}: '{label}' is empty")
        return value

    def optional(self, label: str) -> str | None:
        if header_key(label) not in self.values:
            raise ParseError(f"{self.what} lacks '{label}'")
        value = self.values[header_key(label)]
        if not value:
            raise ParseError(f"{self.what}: '{label}' is empty")
        return None if value == maps.NO_VALUE else value

    def day(self, label: str) -> date:
        return parse_date(self.text(label), field=label)

    def optional_day(self, label: str) -> date | None:
        value = self.optional(label)
        return None if value is None else parse_date(value, field=label)

    def amount(self, label: str) -> object:
        return parse_amount(self.text(label), field=label)

    def optional_amount(self, label: str) -> object:
        value = self.optional(label)
        return None if value is None else parse_amount(value, field=label)

    def count(self, label: str) -> int:
        value = self.text(label)
        if not (value.isascii() and value.isdigit()):
            raise ParseError(f"{self.what}: '{label}' is not a count")
        return int(value)


def payer_of_page(doc: Document) -> PayerEntry:
    """The payer the page is about: the one element marked `data-payer` (`<payer name> - <screen>`), for a
    payer the hub is declared to serve. The mark and the words must name the same payer."""
    marks = doc.select("[data-payer]")
    if len(marks) != 1:
        raise UnexpectedPage("the page does not say (once) which payer it is about")
    slug = clean(marks[0].get("data-payer"))
    if not any(entry.slug == slug for entry in MANIFEST.served_payers()):
        raise UnexpectedPage("the page is about a payer the Crossway adapter does not serve")
    entry = MANIFEST.payer(slug)
    named, dash, _ = text_of(marks[0]).partition(" - ")
    if not dash or header_key(named) != header_key(entry.display_name):
        raise ParseError("the page's words name another payer than the one it is marked for")
    return entry


def check_payer_id(entry: PayerEntry, shown: str) -> None:
    """The summary's `Payer ID` is the payer the page says it is about (else another payer's page)."""
    if entry.payer_id is not None and header_key(shown) != header_key(entry.payer_id):
        raise ParseError("the page's payer id is not the payer it says it is about")


def parse_visits(text: str, *, field: str) -> object:
    """`20 visits` -> Decimal('20')."""
    from aggregator.scrapers.framework import parse_quantity

    number, _, unit = clean(text).partition(" ")
    if header_key(unit) != maps.VISITS:
        raise ParseError(f"{field}: not a number of visits")
    return parse_quantity(number, field=field)


def prior_auth_lists(doc: Document) -> list[HtmlElement]:
    """The elements saying `Prior authorization required for: ...` (found by those words)."""
    label = header_key(maps.PRIOR_AUTH_PREFIX)
    return innermost_saying(doc, lambda text: header_key(text.partition(":")[0]) == label and ":" in text,
                            word="authorization")


def parse_prior_auth_list(doc: Document) -> tuple[list[ServiceType], HtmlElement]:
    """`Prior authorization required for: MRI/CAT Scan, Physical Therapy.` -> service types (or none), and
    the paragraph (the last thing every eligibility layout draws: what proves the tables above whole)."""
    found = prior_auth_lists(doc)
    if not found:
        raise ParseError("the prior-authorization list is missing: the page is cut short")
    if len(found) > 1:
        raise ParseError("the prior-authorization list is drawn twice")
    listed = clean(text_of(found[0]).partition(":")[2]).removesuffix(".").strip()
    if header_key(listed) == header_key(maps.PRIOR_AUTH_NONE):
        return [], found[0]
    services = [maps.SERVICE_TYPES(name) for name in (part.strip() for part in listed.split(",")) if name]
    if not services:
        raise ParseError("the prior-authorization list is empty")
    return services, found[0]


def password_warning(doc: Document) -> tuple[str, date | None] | None:
    """The hub's banner "Your Crossway ID password expires in N days (MM/DD/YYYY). ..." (it names no member
    and no user): its text and the date, or None when the page shows no warning."""
    prefix = header_key(maps.PASSWORD_WARNING_PREFIX)
    found = innermost_saying(doc, lambda text: header_key(text).startswith(prefix), word="expires")
    if not found:
        return None
    text = text_of(found[0])
    match = _WARNING_DUE.search(text)
    due = parse_date(match.group(1), field="password expiry") if match else None
    return text, due


# --- page models of the screens that lead to an answer ---------------------------------------------

class Choice(Record):
    value: str  # what the radio submits (a tax id, an NPI)
    label: str


class Candidate(Record):
    member_id: str
    last_name: str
    first_name: str
    date_of_birth: date
    relationship: Relationship
    coverage: str  # "Active", or "Termed (MM/DD/YYYY - MM/DD/YYYY)" / "Future (...)"
    coverage_from: date | None = None
    coverage_to: date | None = None


class CandidateListing(Record):
    """A name search that found several patients: the hub asks which one (`table#candidates`)."""

    kind: Literal["candidates"] = "candidates"
    carrier: str
    rows: tuple[Candidate, ...]
