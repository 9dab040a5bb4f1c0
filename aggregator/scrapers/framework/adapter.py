"""The shape every carrier adapter has, and the page-class contract.

An adapter receives a `PortalSession` and `Credentials` and returns records; it never sees the vault,
the store or the scheduler. Landing on a page is always classified against the page classes the
adapter expects next: a page no class recognises is an `UnexpectedPage` with evidence, never a guess.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar, NoReturn, TypeVar, overload

from pydantic import SecretStr, ValidationError

from aggregator.browser import Capture, PortalSession
from aggregator.errors import (
    ActionRequired,
    AggregatorError,
    CredentialsMissing,
    CredentialsRejected,
    ParseError,
    PortalMaintenance,
    SessionExpired,
    SignInNeeded,
    UnexpectedPage,
)
from aggregator.human_steps import HumanStep, Person, Prompt
from aggregator.logging import register_secret
from aggregator.models import (
    AuthorizationList,
    AuthorizationQuery,
    ClaimList,
    ClaimQuery,
    EligibilityAnswer,
    EligibilityQuery,
    MemberNotFound,
    Provenance,
)
from aggregator.scrapers.framework.checked import checked_check, checked_parser, crash_reason, log_crash
from aggregator.scrapers.framework.html import Document
from aggregator.scrapers.framework.login import LoginMessages
from aggregator.scrapers.framework.manifest import Capability, Manifest

T = TypeVar("T")
P = TypeVar("P")
Q = TypeVar("Q")


@dataclass(frozen=True)
class PasswordChange:
    """A password change under way (aggregator/password_change.py): the new password, and what must happen
    just before the portal's button sends it (the vault marks it submitted)."""

    new_password: SecretStr
    submitting: Callable[[], None]


@dataclass(frozen=True)
class Credentials:
    """Secrets stay SecretStr until `PortalSession.fill` puts them into a form field."""

    username: SecretStr
    password: SecretStr
    totp_secret: SecretStr | None = None
    security_answers: Mapping[str, SecretStr] = field(default_factory=dict)
    # Returns a TOTP code never used before for this account (the runner owns the bookkeeping).
    next_totp: Callable[[], Awaitable[str]] | None = None
    # Whom the account acts for on a hub (its organization and provider pickers); not secrets.
    tax_id: str | None = None
    npi: str | None = None
    # Someone at the screen who can type a code sent by text or e-mail, or approve a push (None: nobody, the
    # overnight run: such a sign-in stops at once with `SignInNeeded`).
    person: Person | None = None
    # Set while the product changes the password: a login that meets the portal's forced change (an expired
    # password) sets this one instead of stopping for a person.
    password_change: PasswordChange | None = None


@dataclass(frozen=True)
class AccountNotice:
    """Something the portal told the account's user that a person must act on before it stops the account
    (e.g. "your password expires in 10 days"). No member data: it is shown on the worklist and admin page."""

    kind: str  # "password_expiring"
    message: str
    due: date | None = None


class PortalPage:
    """One screen of a portal: recognises itself and parses purely from HTML.

    Subclasses set `name` and implement `is_current`; parsers are plain functions or static methods
    taking a `Document` so recorded pages test them without a browser.
    """

    name: ClassVar[str]

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        raise NotImplementedError


def classify(doc: Document, url: str, candidates: tuple[type[PortalPage], ...]) -> type[PortalPage] | None:
    """Exactly one candidate must recognise the page; none or several means we do not know where we are."""
    matches = [page for page in candidates if page.is_current(doc, url)]
    return matches[0] if len(matches) == 1 else None


class CarrierAdapter(ABC):
    """Every subclass's parsers (`parse_answer`, `parse_document`) and answers (`check_*`) go through the
    framework's one checked path (framework/checked.py) without the subclass doing anything: only an
    `AggregatorError` or a record that keeps every invariant ever leaves them."""

    manifest: ClassVar[Manifest]
    # Pages any step of a server-rendered portal may meet instead of the one it asked for (`expect`).
    maintenance_page: ClassVar[type[PortalPage] | None] = None
    login_page: ClassVar[type[PortalPage] | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in ("parse_answer", "parse_document"):
            found = cls.__dict__.get(name)
            if isinstance(found, (classmethod, staticmethod)):
                setattr(cls, name, type(found)(checked_parser(found.__func__, name,
                                                                    takes_class=isinstance(found, classmethod))))
        for name in ("check_eligibility", "check_authorizations", "check_claims"):
            found = cls.__dict__.get(name)
            if callable(found):
                setattr(cls, name, checked_check(found))

    def __init__(self, session: PortalSession, credentials: Credentials, payer: str | None = None) -> None:
        self.session = session
        self.credentials = credentials
        # The payer this lookup is for: a hub serves several (manifest.payers); any other portal, itself.
        self.payer: str = self.manifest.payer(payer).slug if payer else self.manifest.slug
        self.notices: list[AccountNotice] = []  # the runner stores them for the account after the lookup
        self.logged_in_now = False  # the runner logged in with this adapter (a fresh login shows notices)
        self.password_changed = False  # the portal took `credentials.password_change` (at its login or after)

    # --- every adapter ------------------------------------------------------------------------------

    @abstractmethod
    async def login(self) -> None:
        """Log in from wherever the session is; raise the taxonomy's errors for every other landing."""

    async def change_password(self, new_password: SecretStr) -> None:
        """Change the account's password on the portal, logged in (the current one is
        `self.credentials.password`): return when the portal said it changed; `ActionRequired(kind=
        "password_change_failed")` with the portal's rule messages when it refused (nothing changed);
        `UnexpectedPage` when the outcome cannot be read (the change may have happened)."""
        raise ActionRequired(f"the product cannot change passwords on {self.manifest.display_name}",
                             kind="password_change_failed")

    # --- one method per capability (declared in the manifest, checked by the registry test) ----------

    async def check_eligibility(self, query: EligibilityQuery) -> EligibilityAnswer:
        raise NotImplementedError

    async def check_authorizations(self, query: AuthorizationQuery) -> AuthorizationList | MemberNotFound:
        raise NotImplementedError

    async def check_claims(self, query: ClaimQuery) -> ClaimList | MemberNotFound:
        raise NotImplementedError

    @classmethod
    def parse_answer(cls, flow: str, html: str, query: Any) -> Any:
        """Pure: a captured page -> what it says (used live and by the recorded-page tests)."""
        raise NotImplementedError

    @classmethod
    def parse_document(cls, kind: str, data: bytes) -> Any:
        """Pure: a document the portal sent (Cascade's EOB PDF) -> what it says; only portals that send some."""
        raise NotImplementedError

    @classmethod
    def implemented_capabilities(cls) -> frozenset[Capability]:
        methods = {
            Capability.ELIGIBILITY: "check_eligibility",
            Capability.AUTHORIZATION: "check_authorizations",
            Capability.CLAIM_STATUS: "check_claims",
        }
        return frozenset(cap for cap, name in methods.items()
                         if getattr(cls, name) is not getattr(CarrierAdapter, name))

    # --- shared steps -------------------------------------------------------------------------------

    async def land(self, *candidates: type[PortalPage], label: str = "page") -> tuple[type[PortalPage], Document]:
        """Classify the current page among `candidates`. An unknown page is captured and raised."""
        page, doc, _ = await self._land(*candidates, label=label)
        return page, doc

    async def _land(self, *candidates: type[PortalPage], label: str) -> tuple[type[PortalPage], Document, str]:
        """`land`, with the HTML the page was classified by."""
        candidates = tuple(dict.fromkeys(candidates))
        html = await self.session.html()
        doc = Document.parse(html)
        page = classify(doc, self.session.url, candidates)
        if page is None:
            capture = await self.session.capture(f"unexpected-{label}")
            raise UnexpectedPage(
                f"{self.manifest.display_name}: landed on a page the adapter does not recognise "
                f"(expected {' / '.join(c.name for c in candidates)})",
                evidence_ids=[capture.evidence_id],
            )
        return page, doc, html

    async def capture(self, label: str, *, document: bytes | None = None, document_media_type: str | None = None,
                      html: str | None = None) -> tuple[Document, Capture]:
        """Capture the current page as evidence (with the document it offered, when given) and return
        the very HTML captured, parsed. `html`: the page's HTML as `expect_read` just read it, nothing done
        to the page since (it is kept instead of read again)."""
        capture = await self.session.capture(label, document=document, document_media_type=document_media_type,
                                             html=html)
        return Document.parse(capture.html), capture

    def provenance(self, *captures: Capture) -> Provenance:
        return Provenance(
            carrier=self.payer,
            portal=self.manifest.slug if self.payer != self.manifest.slug else None,
            portal_account=self.session.account_label,
            fetched_at=datetime.now(UTC),
            evidence_ids=[c.evidence_id for c in captures],
        )

    @staticmethod
    def attach(error: AggregatorError, *captures: Capture) -> AggregatorError:
        return error.with_evidence(*(c.evidence_id for c in captures))

    async def captured(self, label: str, error: AggregatorError) -> AggregatorError:
        """`error` with a capture of the page that shows it as its evidence: `raise await self.captured(...)`."""
        return self.attach(error, await self.session.capture(label))

    async def expect(self, *pages: type[PortalPage], label: str) -> tuple[type[PortalPage], Document]:
        """`land` among `pages`; the maintenance and login pages any step may meet are handled here once."""
        page, doc, _ = await self.expect_read(*pages, label=label)
        return page, doc

    async def expect_captured(self, *pages: type[PortalPage], label: str, capture: str) -> Capture:
        """`expect`, then the page captured as evidence under the label `capture`: the HTML kept is the very one
        the page was classified by, read once (a read is a round trip to the browser, and a parse of it)."""
        _, _, html = await self.expect_read(*pages, label=label)
        return await self.session.capture(capture, html=html)

    async def expect_read(self, *pages: type[PortalPage], label: str) -> tuple[type[PortalPage], Document, str]:
        """`expect`, with the HTML the page was classified by: `capture(..., html=)` keeps it when nothing has
        been done to the page since."""
        anywhere = tuple(page for page in (self.maintenance_page, self.login_page) if page is not None)
        page, doc, html = await self._land(*pages, *anywhere, label=label)
        if page is self.maintenance_page:
            raise await self.captured("maintenance", PortalMaintenance(
                f"{self.manifest.display_name} shows its maintenance page"))
        if page is self.login_page and page not in pages:
            raise SessionExpired(f"{self.manifest.display_name} session expired")
        return page, doc, html

    # --- logging in ---------------------------------------------------------------------------------

    async def fresh_totp(self) -> str:
        """A never-used TOTP code. Take it before the login starts: waiting for a fresh window can take
        30 s, longer than a login page may idle."""
        if self.credentials.next_totp is None:
            raise CredentialsMissing(f"{self.manifest.display_name} asks for a security code and the account "
                                     f"has no TOTP seed")
        return await self.credentials.next_totp()

    async def code_from_person(self, step: HumanStep, message: str, *, lifetime_seconds: float) -> str:
        """The one-time code the portal just sent (`message`: where it went, in the portal's words), typed by
        the person at the screen within its lifetime. Nobody there, or no code in time: `SignInNeeded`."""
        person = await self._person_for(step)
        code = await person.code(self._prompt(step, message, lifetime_seconds))
        if not code:
            person.done("no code was entered before it expired")
            raise SignInNeeded(f"{self.manifest.display_name}: no code was entered before it expired; sign in "
                               f"again for a new code", step=step)
        register_secret(code)
        return code.strip()

    async def approval_from_person(self, message: str, *, lifetime_seconds: float) -> None:
        """Tell the person at the screen to approve the portal's push request (the adapter then watches the
        portal for the answer). Nobody there: `SignInNeeded`."""
        person = await self._person_for(HumanStep.PUSH_APPROVAL)
        await person.approve(self._prompt(HumanStep.PUSH_APPROVAL, message, lifetime_seconds))

    async def _person_for(self, step: HumanStep) -> Person:
        if self.credentials.person is None:
            what = {HumanStep.CODE_BY_TEXT: "a code sent by text message", HumanStep.CODE_BY_EMAIL:
                    "a code sent by e-mail", HumanStep.PUSH_APPROVAL: "a push approval"}.get(step, "a person")
            raise await self.captured("person-needed", SignInNeeded(f"{self.manifest.display_name} asks for {what} and nobody is at the screen: sign in "
                               f"to {self.manifest.display_name} now", step=step))
        return self.credentials.person

    def _prompt(self, step: HumanStep, message: str, lifetime_seconds: float) -> Prompt:
        return Prompt(step, self.manifest.display_name, message,
                      datetime.now(UTC) + timedelta(seconds=lifetime_seconds))

    def submitting_new_password(self) -> None:
        """Call right before the portal's button sends a new password: from here the portal may hold it."""
        if self.credentials.password_change is not None:
            self.credentials.password_change.submitting()

    async def login_refused(self, message: str | None, words: LoginMessages) -> NoReturn:
        """The portal sent us back to its login page saying `message`: an ended login is logged in again;
        a refused account (which the vault then freezes) or an unknown message carries a capture."""
        name, said = self.manifest.display_name, message or ""
        if words.login_ended(said):
            raise SessionExpired(f"{name} ended the login before it finished")
        why = words.rejection(said)
        if why is not None:
            raise await self.captured("login-refused", CredentialsRejected(f"{name} {why}"))
        raise await self.captured("login-refused", UnexpectedPage(
            f"{name} returned to the login page with a message the adapter does not know"))

    # --- reading captured pages -------------------------------------------------------------------

    def pure(self, step: Callable[[], T], *captures: Capture) -> T:
        """Run a pure step on captured pages; its errors (and records a model refuses) carry their evidence."""
        try:
            return step()
        except AggregatorError as error:
            # A parser raises what the page means: a misread, or a maintenance or sign-in screen.
            raise self.attach(error, *captures) from None
        except ValidationError as error:
            fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in error.errors())
            raise self.attach(ParseError(f"the captured pages do not make a valid answer ({fields})"),
                              *captures) from None
        except Exception as error:  # noqa: BLE001 - a step that crashes on what the pages say is a misread
            log_crash(self, "pure step", error)
            raise self.attach(ParseError(crash_reason(error)), *captures) from None

    # One overload per count of expected kinds, so the answer's type is their union (not their base class).
    @overload
    def read(self, flow: str, capture: Capture, query: Any, expected: type[P], /) -> P: ...

    @overload
    def read(self, flow: str, capture: Capture, query: Any, expected: type[P], other: type[Q], /) -> P | Q: ...

    def read(self, flow: str, capture: Capture, query: Any, *expected: type[object]) -> object:
        """Parse the captured HTML; anything but the expected kinds of answer is an error with evidence."""
        answer = self.pure(lambda: self.parse_answer(flow, capture.html, query), capture)
        if not isinstance(answer, expected):
            raise self.attach(UnexpectedPage(
                f"{self.manifest.display_name} showed a {type(answer).__name__} page where "
                f"{' or '.join(e.__name__ for e in expected)} was expected"), capture)
        return answer
