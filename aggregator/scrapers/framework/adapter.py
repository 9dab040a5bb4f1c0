"""The shape every carrier adapter has, and the page-class contract.

An adapter receives a `PortalSession` and `Credentials` and returns records; it never sees the vault,
the store or the scheduler. Landing on a page is always classified against the page classes the
adapter expects next: a page no class recognises is an `UnexpectedPage` with evidence, never a guess.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ClassVar

from pydantic import SecretStr

from aggregator.browser import Capture, PortalSession
from aggregator.errors import AggregatorError, UnexpectedPage
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
from aggregator.scrapers.framework.html import Document
from aggregator.scrapers.framework.manifest import Capability, Manifest


@dataclass(frozen=True)
class Credentials:
    """Secrets stay SecretStr until `PortalSession.fill` puts them into a form field."""

    username: SecretStr
    password: SecretStr
    totp_secret: SecretStr | None = None
    security_answers: Mapping[str, SecretStr] = field(default_factory=dict)
    # Returns a TOTP code never used before for this account (the runner owns the bookkeeping).
    next_totp: Callable[[], Awaitable[str]] | None = None


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
    manifest: ClassVar[Manifest]

    def __init__(self, session: PortalSession, credentials: Credentials) -> None:
        self.session = session
        self.credentials = credentials

    # --- every adapter ------------------------------------------------------------------------------

    @abstractmethod
    async def login(self) -> None:
        """Log in from wherever the session is; raise the taxonomy's errors for every other landing."""

    # --- one method per capability (declared in the manifest, checked by the registry test) ----------

    async def check_eligibility(self, query: EligibilityQuery) -> EligibilityAnswer:
        raise NotImplementedError

    async def check_authorizations(self, query: AuthorizationQuery) -> AuthorizationList | MemberNotFound:
        raise NotImplementedError

    async def check_claims(self, query: ClaimQuery) -> ClaimList | MemberNotFound:
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
        return page, doc

    async def capture(self, label: str) -> tuple[Document, Capture]:
        """Capture the current page as evidence and return the very HTML captured, parsed."""
        capture = await self.session.capture(label)
        return Document.parse(capture.html), capture

    def provenance(self, *captures: Capture) -> Provenance:
        return Provenance(
            carrier=self.manifest.slug,
            portal_account=self.session.account_label,
            fetched_at=datetime.now(UTC),
            evidence_ids=[c.evidence_id for c in captures],
        )

    @staticmethod
    def attach(error: AggregatorError, *captures: Capture) -> AggregatorError:
        return error.with_evidence(*(c.evidence_id for c in captures))
