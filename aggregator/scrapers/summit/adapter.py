"""Summit Health Plan adapter: form login, then a TOTP code; eligibility is one member search and one benefits page.

Every page an answer comes from is captured as evidence, and the answer's provenance names it. The parser
(`parse_answer`) is pure: the recorded-page tests, the mutation suite and the fuzz tests call it offline,
and the framework runs it (and every `check_*` answer) through its one checked path, so only a record that
keeps every invariant or an `AggregatorError` ever leaves it.
"""

from __future__ import annotations

from typing import Any

from aggregator.errors import CredentialsRejected, UnexpectedPage
from aggregator.models import EligibilityAnswer, EligibilityQuery, EligibilityRecord, MemberNotFound
from aggregator.scrapers.framework import CarrierAdapter, Document
from aggregator.scrapers.framework.listings import check_answers_search

from .manifest import MANIFEST
from .pages import (
    LOGIN_MESSAGES,
    BenefitsPage,
    HomePage,
    LoginPage,
    MaintenancePage,
    MfaPage,
    SearchPage,
    page_message,
    parse_benefits,
    parse_maintenance,
    parse_not_found,
)

US_DATE = "%m/%d/%Y"
# Buttons by the form field they submit (the portal reads the name; an id is only presentation).
LOGIN_BUTTON = "#loginButton, input[type=submit][name=signin]"
VERIFY_BUTTON = "#verifyButton, input[type=submit][name=verify]"
SEARCH_BUTTON = "#searchButton, input[type=submit][name=search]"


class SummitAdapter(CarrierAdapter):
    manifest = MANIFEST
    maintenance_page = MaintenancePage
    login_page = LoginPage

    async def login(self) -> None:
        code = await self.fresh_totp()  # before the login starts: a fresh code may take a while
        await self.session.goto("/login")
        await self.expect(LoginPage, label="login")
        await self.session.fill("input[name=username]", self.credentials.username)
        await self.session.fill("input[name=password]", self.credentials.password)
        await self.session.click_and_wait(LOGIN_BUTTON)
        page, doc = await self.expect(MfaPage, LoginPage, HomePage, label="after-password")
        if page is LoginPage:
            await self.login_refused(page_message(doc, (LoginPage.INVALID, LoginPage.LOCKED, LoginPage.EXPIRED)),
                                     LOGIN_MESSAGES)
        if page is MfaPage:
            await self.session.fill("input[name=code]", code)
            await self.session.click_and_wait(VERIFY_BUTTON)
            page, doc = await self.expect(HomePage, MfaPage, LoginPage, label="after-code")
            if page is MfaPage:
                # A fresh, never-used code was refused: the seed is wrong. Retrying risks a lockout.
                raise await self.captured("security-code-refused", CredentialsRejected(
                    f"{MANIFEST.display_name} refused the verification code: check the TOTP seed"))
            if page is LoginPage:
                await self.login_refused(page_message(doc, (LoginPage.EXPIRED,)), LOGIN_MESSAGES)

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

    @classmethod
    def parse_answer(cls, flow: str, html: str, query: Any) -> EligibilityAnswer:
        """Pure: a captured page -> what it says. eligibility: the benefits page -> EligibilityRecord, the
        search page with a "not found" message -> MemberNotFound, the maintenance page -> PortalMaintenance."""
        if flow != "eligibility":
            raise UnexpectedPage(f"{MANIFEST.display_name} has no '{flow}' pages: the portal answers eligibility only")
        doc = Document.parse(html)
        answer: EligibilityAnswer
        if BenefitsPage.is_current(doc, ""):
            answer = parse_benefits(doc, MANIFEST.slug)
        elif SearchPage.is_current(doc, ""):
            answer = parse_not_found(doc, query, MANIFEST.slug)
        elif MaintenancePage.is_current(doc, ""):
            parse_maintenance(doc)
        else:
            raise UnexpectedPage("the result page is neither benefits nor a search result")
        check_answers_search(answer, query)  # a page about another member or day is no answer
        return answer
