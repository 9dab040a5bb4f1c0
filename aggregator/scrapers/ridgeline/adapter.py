"""Ridgeline Mutual adapter: form login with CSRF, TOTP, then one search per capability.

- eligibility: member search -> benefits page (one page).
- authorization: member search -> list -> every listed authorization's detail page.
- claim status: claim-number or member + dates search -> every results page ("Next >") -> every listed
  claim's detail page.

Every page an answer comes from is captured, and the record's provenance names all of them.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

from pydantic import ValidationError

from aggregator.browser import Capture
from aggregator.errors import (
    CredentialsMissing,
    CredentialsRejected,
    MfaNeedsHuman,
    ParseError,
    PortalMaintenance,
    SessionExpired,
    UnexpectedPage,
)
from aggregator.models import (
    Authorization,
    AuthorizationList,
    AuthorizationQuery,
    ClaimList,
    ClaimQuery,
    ClaimStatus,
    EligibilityAnswer,
    EligibilityQuery,
    MemberNotFound,
)
from aggregator.scrapers.framework import CarrierAdapter, Document, PortalPage, header_key
from aggregator.scrapers.ridgeline import maps
from aggregator.scrapers.ridgeline.manifest import MANIFEST
from aggregator.scrapers.ridgeline.pages import (
    BenefitsPage,
    CaptchaPage,
    HomePage,
    LoginPage,
    MaintenancePage,
    MfaPage,
    SearchPage,
    page_message,
    parse_benefits,
    parse_not_found,
)
from aggregator.scrapers.ridgeline.pages_authorizations import (
    AuthDetailPage,
    AuthListing,
    AuthListPage,
    AuthSearchPage,
    auth_links,
    parse_auth_answer,
)
from aggregator.scrapers.ridgeline.pages_claims import (
    ClaimDetailPage,
    ClaimResultsListing,
    ClaimResultsPage,
    ClaimSearchPage,
    claim_links,
    next_page_link,
    parse_claim_answer,
)

US_DATE = "%m/%d/%Y"
Query = EligibilityQuery | AuthorizationQuery | ClaimQuery
PageAnswer = (EligibilityAnswer | AuthListing | Authorization | ClaimResultsListing | ClaimStatus)
P = TypeVar("P")


class RidgelineAdapter(CarrierAdapter):
    manifest = MANIFEST

    async def login(self) -> None:
        # Take the security code before the password: waiting for a fresh TOTP window can take up to
        # 30 s, and doing it between the two pages would let a short idle timeout expire the login.
        if self.credentials.next_totp is None:
            raise CredentialsMissing(f"{MANIFEST.display_name} asks for a security code and the account has no TOTP seed")
        code = await self.credentials.next_totp()
        await self.session.goto("/login")
        await self._expect(LoginPage, label="login")
        await self.session.fill("input[name=username]", self.credentials.username)
        await self.session.fill("input[name=password]", self.credentials.password)
        await self.session.click_and_wait("#loginButton")
        page, doc = await self._expect(MfaPage, LoginPage, CaptchaPage, HomePage, label="after-password")
        if page is LoginPage:
            await self._login_refused(doc)
        if page is MfaPage:
            await self.session.fill("input[name=otp]", code)
            await self.session.click_and_wait("#verifyButton")
            page, doc = await self._expect(HomePage, MfaPage, CaptchaPage, LoginPage, label="after-code")
            if page is MfaPage:
                # A fresh, never-used code was refused: the seed is wrong. Retrying risks a lockout.
                capture = await self.session.capture("security-code-refused")
                raise CredentialsRejected(f"{MANIFEST.display_name} refused the security code: check the TOTP seed",
                                          evidence_ids=[capture.evidence_id])
            if page is LoginPage:
                await self._login_refused(doc)
        if page is CaptchaPage:
            capture = await self.session.capture("captcha")
            raise MfaNeedsHuman(f"{MANIFEST.display_name} shows a CAPTCHA after login: a person must log in once",
                                evidence_ids=[capture.evidence_id])

    async def check_eligibility(self, query: EligibilityQuery) -> EligibilityAnswer:
        await self.session.goto("/eligibility")
        await self._expect(SearchPage, label="search")
        await self.session.fill("input[name=memberId]", query.member_id)
        await self.session.fill("input[name=dob]", query.date_of_birth.strftime(US_DATE))
        await self.session.fill("input[name=lastName]", query.last_name or "")
        await self.session.fill("input[name=dos]", query.service_date.strftime(US_DATE))
        await self.session.click_and_wait("#searchButton")
        await self._expect(BenefitsPage, SearchPage, label="search-result")
        doc, capture = await self.capture("eligibility-result")
        try:
            answer = self.parse_answer("eligibility", capture.html, query)
        except ParseError as error:
            raise self.attach(error, capture) from None
        return answer.model_copy(update={"provenance": self.provenance(capture)})  # type: ignore[return-value]

    async def check_authorizations(self, query: AuthorizationQuery) -> AuthorizationList | MemberNotFound:
        await self.session.goto("/authorizations")
        await self._expect(AuthSearchPage, label="authorization-search")
        await self.session.fill("input[name=memberId]", query.member_id)
        await self.session.fill("input[name=dob]", query.date_of_birth.strftime(US_DATE))
        await self.session.click_and_wait("#searchButton")
        await self._expect(AuthListPage, AuthSearchPage, label="authorization-search-result")
        _, listed = await self.capture("authorization-search-result")
        listing = self._read("authorization", listed, query, AuthListing, MemberNotFound)
        if isinstance(listing, MemberNotFound):
            return listing.model_copy(update={"provenance": self.provenance(listed)})
        if (listing.member_id, listing.date_of_birth) != (query.member_id, query.date_of_birth):
            raise self.attach(ParseError("the authorization list is for a different member than the one searched"),
                              listed)
        links = self._pure(lambda: auth_links(Document.parse(listed.html)), listed)
        if set(links) != {row.auth_number for row in listing.rows}:
            raise self.attach(ParseError("the authorization list's links disagree with its rows"), listed)
        captures, found = [listed], []
        for row in listing.rows:
            await self.session.goto(links[row.auth_number])
            await self._expect(AuthDetailPage, label="authorization-detail")
            _, detail = await self.capture("authorization-detail")
            captures.append(detail)
            auth = self._read("authorization", detail, query, Authorization)
            shown = (auth.auth_number, auth.service_type, auth.status, auth.effective_date, auth.expiration_date)
            if shown != (row.auth_number, row.service_type, row.status, row.effective_date, row.expiration_date):
                raise self.attach(ParseError("an authorization's detail page disagrees with its row in the list"),
                                  listed, detail)
            if auth.member_id != query.member_id:
                raise self.attach(ParseError("a listed authorization belongs to a different member"), detail)
            # Each authorization names the two pages it was read from, so an auditor can show exactly those.
            found.append(auth.model_copy(update={"provenance": self.provenance(listed, detail)}))
        return self._pure(lambda: AuthorizationList(carrier=MANIFEST.slug, query=query, authorizations=tuple(found),
                                                    provenance=self.provenance(*captures)), *captures)

    async def check_claims(self, query: ClaimQuery) -> ClaimList | MemberNotFound:
        await self.session.goto("/claims")
        await self._expect(ClaimSearchPage, label="claim-search")
        if query.claim_number:
            await self.session.fill("input[name=claimNumber]", query.claim_number)
            await self.session.fill("input[name=memberId]", "")
            await self.session.fill("input[name=dob]", "")
        else:
            assert query.member_id and query.date_of_birth and query.service_from and query.service_to
            await self.session.fill("input[name=claimNumber]", "")
            await self.session.fill("input[name=memberId]", query.member_id)
            await self.session.fill("input[name=dob]", query.date_of_birth.strftime(US_DATE))
            await self.session.fill("input[name=fromDate]", query.service_from.strftime(US_DATE))
            await self.session.fill("input[name=toDate]", query.service_to.strftime(US_DATE))
        await self.session.click_and_wait("#searchButton")
        await self._expect(ClaimResultsPage, ClaimSearchPage, label="claim-search-result")
        _, first = await self.capture("claim-results-page-1")
        answer = self._read("claim_status", first, query, ClaimResultsListing, MemberNotFound)
        if isinstance(answer, MemberNotFound):
            return answer.model_copy(update={"provenance": self.provenance(first)})
        self._check_criteria(answer, query, first)
        if answer.pages > maps.MAX_RESULT_PAGES:
            raise self.attach(ParseError(f"the search has {answer.pages} result pages, more than the "
                                         f"{maps.MAX_RESULT_PAGES} a real answer has"), first)
        captures, rows, links = [first], [], {}
        listed_on: dict[str, Capture] = {}  # claim number -> the results page that listed it
        listing, capture = answer, first
        while True:
            # Each page must be the next one: a page that repeats or skips, or a claim listed twice, is
            # never merged into an answer (and a portal that loops cannot keep us here).
            if (listing.page, listing.pages, listing.total) != (len(captures), answer.pages, answer.total):
                raise self.attach(ParseError("the result pages do not follow one another (a page repeats or "
                                             "skips, or the count changed)"), *captures)
            repeated = {r.claim_number for r in listing.rows} & {r.claim_number for r in rows}
            if repeated:
                raise self.attach(ParseError("a claim number is listed on two result pages"), *captures)
            rows += listing.rows
            listed_on.update({r.claim_number: capture for r in listing.rows})
            page_links = self._pure(lambda c=capture: claim_links(Document.parse(c.html)), capture)
            if set(page_links) != {r.claim_number for r in listing.rows}:
                raise self.attach(ParseError("the result page's links disagree with its rows"), capture)
            links.update(page_links)
            if not listing.has_next:
                break
            if len(captures) >= maps.MAX_RESULT_PAGES:
                raise self.attach(ParseError("more result pages than any real answer has"), *captures)
            next_href = self._pure(lambda c=capture: next_page_link(Document.parse(c.html)), capture)
            if next_href is None:
                raise self.attach(ParseError("the page says there is a next page but has no 'Next' link"), capture)
            await self.session.goto(next_href)
            await self._expect(ClaimResultsPage, label="claim-results")
            _, capture = await self.capture(f"claim-results-page-{len(captures) + 1}")
            captures.append(capture)
            listing = self._read("claim_status", capture, query, ClaimResultsListing)
            self._check_criteria(listing, query, capture)
        if listing.page != answer.pages or len(rows) != answer.total:
            raise self.attach(ParseError("the result pages end before 'Page N of N' or hold a different number "
                                         "of claims than found"), *captures)
        claims = []
        for row in rows:
            await self.session.goto(links[row.claim_number])
            await self._expect(ClaimDetailPage, label="claim-detail")
            _, detail = await self.capture("claim-detail")
            captures.append(detail)
            claim = self._read("claim_status", detail, query, ClaimStatus)
            shown = (claim.payer_claim_number, claim.provider_account_number, claim.service_from, claim.service_to,
                     claim.billed, claim.paid, claim.status_category)
            if shown != (row.claim_number, row.provider_account_number, row.service_from, row.service_to,
                         row.billed, row.paid, row.status_category):
                raise self.attach(ParseError("a claim's detail page disagrees with its row in the results"), detail)
            claims.append(claim.model_copy(update={"provenance": self.provenance(listed_on[row.claim_number], detail)}))
        return self._pure(lambda: ClaimList(carrier=MANIFEST.slug, query=query, claims=tuple(claims),
                                            provenance=self.provenance(*captures)), *captures)

    @classmethod
    def parse_answer(cls, flow: str, html: str, query: Any) -> PageAnswer:
        """Pure: a captured page -> what it says (used live and by the recorded-page tests).

        eligibility: the benefits page -> EligibilityRecord, the search page -> MemberNotFound.
        authorization: the list -> AuthListing, a detail page -> Authorization, the search -> MemberNotFound.
        claim_status: a results page -> ClaimResultsListing, a detail page -> ClaimStatus, the search ->
        MemberNotFound (member searches only).
        """
        doc = Document.parse(html)
        if flow == "eligibility":
            if BenefitsPage.is_current(doc, ""):
                return parse_benefits(doc, MANIFEST.slug)
            if SearchPage.is_current(doc, ""):
                return parse_not_found(doc, query, MANIFEST.slug)
            raise UnexpectedPage("the result page is neither benefits nor a search result")
        if flow == "authorization":
            return parse_auth_answer(doc, query, MANIFEST.slug)
        if flow == "claim_status":
            return parse_claim_answer(doc, query, MANIFEST.slug)
        raise ValueError(f"ridgeline has no '{flow}' pages")

    # --- reading captured pages -----------------------------------------------------------------

    def _read(self, flow: str, capture: Capture, query: Query, *expected: type[P]) -> P:
        """Parse the captured HTML; anything but the expected kinds of answer is an error with evidence."""
        answer = self._pure(lambda: self.parse_answer(flow, capture.html, query), capture)
        if not isinstance(answer, expected):
            raise self.attach(UnexpectedPage(f"{MANIFEST.display_name} showed a {type(answer).__name__} page "
                                             f"where {' or '.join(e.__name__ for e in expected)} was expected"),
                              capture)
        return answer

    def _pure(self, step: Any, *captures: Capture) -> Any:
        """Run a pure step on captured pages; its parse errors (and refused records) carry their evidence."""
        try:
            return step()
        except (ParseError, UnexpectedPage) as error:
            raise self.attach(error, *captures) from None
        except ValidationError as error:
            fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in error.errors())
            raise self.attach(ParseError(f"the pages do not make a valid answer ({fields})"), *captures) from None

    def _check_criteria(self, listing: ClaimResultsListing, query: ClaimQuery, capture: Capture) -> None:
        """The results page repeats the search: it must be the search we made."""
        if query.claim_number:
            wanted: tuple[Any, ...] = (_claim_number(query.claim_number), None, None, None)
        else:
            wanted = (None, query.member_id, query.service_from, query.service_to)
        if (listing.claim_number, listing.member_id, listing.service_from, listing.service_to) != wanted:
            raise self.attach(ParseError("the results page is for a different search than the one made"), capture)

    # --- landing --------------------------------------------------------------------------------

    async def _expect(self, *pages: type[PortalPage], label: str) -> tuple[type[PortalPage], Document]:
        """Classify where we landed; pages any step may meet are handled here once."""
        page, doc = await self.land(*pages, MaintenancePage, LoginPage, label=label)
        if page is MaintenancePage:
            capture = await self.session.capture("maintenance")
            raise PortalMaintenance(f"{MANIFEST.display_name} shows its scheduled-maintenance page",
                                    evidence_ids=[capture.evidence_id])
        if page is LoginPage and LoginPage not in pages:
            raise SessionExpired(f"{MANIFEST.display_name} session expired")
        return page, doc

    async def _login_refused(self, doc: Document) -> None:
        message = header_key(page_message(doc) or "")
        if message.startswith(header_key(LoginPage.EXPIRED)):
            raise SessionExpired(f"{MANIFEST.display_name} expired the login before it finished")
        capture = await self.session.capture("login-refused")
        if message.startswith(header_key(LoginPage.LOCKED)):
            raise CredentialsRejected(f"{MANIFEST.display_name} says the account is locked: contact the carrier",
                                      evidence_ids=[capture.evidence_id])
        if message == header_key(LoginPage.INVALID):
            raise CredentialsRejected(f"{MANIFEST.display_name} rejected the username or password",
                                      evidence_ids=[capture.evidence_id])
        raise UnexpectedPage(f"{MANIFEST.display_name} returned to the login page with an unknown message",
                             evidence_ids=[capture.evidence_id])


def _claim_number(text: str) -> str:
    """How the portal matches claim numbers: spaces removed, upper case."""
    return re.sub(r"\s+", "", text).upper()
