"""Ridgeline Mutual adapter: form login with CSRF, TOTP, then one search per capability.

- eligibility: member search -> benefits page (one page).
- authorization: member search -> list -> every listed authorization's detail page.
- claim status: claim-number or member + dates search -> every results page ("Next >") -> every listed
  claim's detail page.

Every page an answer comes from is captured, and the record's provenance names all of them.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from aggregator.browser import Capture
from aggregator.errors import (
    CredentialsRejected,
    MfaNeedsHuman,
    ParseError,
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
    EligibilityRecord,
    MemberNotFound,
)
from aggregator.scrapers.framework import CarrierAdapter, Document
from aggregator.scrapers.framework.activity import authorizations_from_list, check_same_search, links_for_rows
from aggregator.scrapers.framework.listings import ClaimListRow, check_answers_search
from aggregator.scrapers.ridgeline import maps
from aggregator.scrapers.ridgeline.manifest import MANIFEST
from aggregator.scrapers.ridgeline.pages import (
    LOGIN_MESSAGES,
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
# Buttons by the form field they submit (the portal reads the name; an id is only presentation), with
# the id the portal prints today as the first choice.
LOGIN_BUTTON = "#loginButton, input[type=submit][name=login]"
VERIFY_BUTTON = "#verifyButton, input[type=submit][name=verify]"
SEARCH_BUTTON = "#searchButton, input[type=submit][name=search]"
PageAnswer = (EligibilityAnswer | AuthListing | Authorization | ClaimResultsListing | ClaimStatus)


class RidgelineAdapter(CarrierAdapter):
    manifest = MANIFEST
    maintenance_page = MaintenancePage
    login_page = LoginPage

    async def login(self) -> None:
        code = await self.fresh_totp()
        await self.session.goto("/login")
        await self.expect(LoginPage, label="login")
        await self.session.fill("input[name=username]", self.credentials.username)
        await self.session.fill("input[name=password]", self.credentials.password)
        await self.session.click_and_wait(LOGIN_BUTTON)
        page, doc = await self.expect(MfaPage, LoginPage, CaptchaPage, HomePage, label="after-password")
        if page is LoginPage:
            await self.login_refused(page_message(doc), LOGIN_MESSAGES)
        if page is MfaPage:
            await self.session.fill("input[name=otp]", code)
            await self.session.click_and_wait(VERIFY_BUTTON)
            page, doc = await self.expect(HomePage, MfaPage, CaptchaPage, LoginPage, label="after-code")
            if page is MfaPage:
                # A fresh, never-used code was refused: the seed is wrong. Retrying risks a lockout.
                raise await self.captured("security-code-refused", CredentialsRejected(
                    f"{MANIFEST.display_name} refused the security code: check the TOTP seed"))
            if page is LoginPage:
                await self.login_refused(page_message(doc), LOGIN_MESSAGES)
        if page is CaptchaPage:
            raise await self.captured("captcha", MfaNeedsHuman(
                f"{MANIFEST.display_name} shows a CAPTCHA after login: a person must log in once"))

    async def check_eligibility(self, query: EligibilityQuery) -> EligibilityAnswer:
        await self.session.goto("/eligibility")
        await self.expect(SearchPage, label="search")
        await self.session.fill_form({
            "input[name=memberId]": query.required_member_id,
            "input[name=dob]": query.date_of_birth.strftime(US_DATE),
            "input[name=lastName]": query.last_name or "",
            "input[name=dos]": query.service_date.strftime(US_DATE),
        })
        await self.session.click_and_wait(SEARCH_BUTTON)
        capture = await self.expect_captured(BenefitsPage, SearchPage,
                                             label="search-result", capture="eligibility-result")
        answer = self.read("eligibility", capture, query, EligibilityRecord, MemberNotFound)
        return answer.model_copy(update={"provenance": self.provenance(capture)})

    async def check_authorizations(self, query: AuthorizationQuery) -> AuthorizationList | MemberNotFound:
        await self.session.goto("/authorizations")
        await self.expect(AuthSearchPage, label="authorization-search")
        await self.session.fill_form({
            "input[name=memberId]": query.member_id,
            "input[name=dob]": query.date_of_birth.strftime(US_DATE),
        })
        await self.session.click_and_wait(SEARCH_BUTTON)
        listed = await self.expect_captured(AuthListPage, AuthSearchPage,
                                            label="authorization-search-result", capture="authorization-search-result")
        return await authorizations_from_list(self, query, listed, what="authorization list", read_links=auth_links,
                                              open_detail=self._open_authorization)

    async def _open_authorization(self, href: str) -> None:
        await self.session.goto(href)
        await self.expect(AuthDetailPage, label="authorization-detail")

    async def check_claims(self, query: ClaimQuery) -> ClaimList | MemberNotFound:
        await self.session.goto("/claims")
        await self.expect(ClaimSearchPage, label="claim-search")
        if query.claim_number:
            await self.session.fill_form({
                "input[name=claimNumber]": query.claim_number,
                "input[name=memberId]": "",
                "input[name=dob]": "",
            })
        else:
            assert query.member_id and query.date_of_birth and query.service_from and query.service_to
            await self.session.fill_form({
                "input[name=claimNumber]": "",
                "input[name=memberId]": query.member_id,
                "input[name=dob]": query.date_of_birth.strftime(US_DATE),
                "input[name=fromDate]": query.service_from.strftime(US_DATE),
                "input[name=toDate]": query.service_to.strftime(US_DATE),
            })
        await self.session.click_and_wait(SEARCH_BUTTON)
        first = await self.expect_captured(ClaimResultsPage, ClaimSearchPage,
                                           label="claim-search-result", capture="claim-results-page-1")
        answer = self.read("claim_status", first, query, ClaimResultsListing, MemberNotFound)
        if isinstance(answer, MemberNotFound):
            return answer.model_copy(update={"provenance": self.provenance(first)})
        check_same_search(self, answer, query, first, what="results page")
        if answer.pages > maps.MAX_RESULT_PAGES:
            raise self.attach(ParseError(f"the search has {answer.pages} result pages, more than the "
                                         f"{maps.MAX_RESULT_PAGES} a real answer has"), first)
        captures: list[Capture] = [first]
        rows: list[ClaimListRow] = []
        links: dict[str, str] = {}
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
            links.update(links_for_rows(self, claim_links, capture, (r.claim_number for r in listing.rows),
                                        what="result page"))
            if not listing.has_next:
                break
            if len(captures) >= maps.MAX_RESULT_PAGES:
                raise self.attach(ParseError("more result pages than any real answer has"), *captures)
            next_href = self.pure(partial(_next_page_href, capture.html), capture)
            if next_href is None:
                raise self.attach(ParseError("the page says there is a next page but has no 'Next' link"), capture)
            await self.session.goto(next_href)
            capture = await self.expect_captured(ClaimResultsPage,
                                                 label="claim-results", capture=f"claim-results-page-{len(captures) + 1}")
            captures.append(capture)
            listing = self.read("claim_status", capture, query, ClaimResultsListing)
            check_same_search(self, listing, query, capture, what="results page")
        if listing.page != answer.pages or len(rows) != answer.total:
            raise self.attach(ParseError("the result pages end before 'Page N of N' or hold a different number "
                                         "of claims than found"), *captures)
        claims = []
        for row in rows:
            await self.session.goto(links[row.claim_number])
            detail = await self.expect_captured(ClaimDetailPage, label="claim-detail", capture="claim-detail")
            captures.append(detail)
            claim = self.read("claim_status", detail, query, ClaimStatus)
            if not row.shows(claim):
                raise self.attach(ParseError("a claim's detail page disagrees with its row in the results"), detail)
            claims.append(claim.model_copy(update={"provenance": self.provenance(listed_on[row.claim_number], detail)}))
        return self.pure(lambda: ClaimList(carrier=MANIFEST.slug, query=query, claims=tuple(claims),
                                            provenance=self.provenance(*captures)), *captures)

    @classmethod
    def parse_answer(cls, flow: str, html: str, query: Any) -> PageAnswer:
        """Pure: a captured page -> what it says (used live and by the recorded-page tests).

        eligibility: the benefits page -> EligibilityRecord, the search page -> MemberNotFound.
        authorization: the list -> AuthListing, a detail page -> Authorization, the search -> MemberNotFound.
        claim_status: a results page -> ClaimResultsListing, a detail page -> ClaimStatus, the search ->
        MemberNotFound (member searches only).
        """
        answer = cls._parse_page(flow, Document.parse(html), query)
        check_answers_search(answer, query)  # a page about another member or claim is no answer
        return answer

    @staticmethod
    def _parse_page(flow: str, doc: Document, query: Any) -> PageAnswer:
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


def _next_page_href(html: str) -> str | None:
    return next_page_link(Document.parse(html))
