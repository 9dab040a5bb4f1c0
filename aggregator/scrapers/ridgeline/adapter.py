"""Ridgeline Mutual adapter: form login with CSRF, TOTP, then member search -> benefits page."""

from __future__ import annotations

from aggregator.errors import (
    CredentialsMissing,
    CredentialsRejected,
    MfaNeedsHuman,
    ParseError,
    PortalMaintenance,
    SessionExpired,
    UnexpectedPage,
)
from aggregator.models import EligibilityAnswer, EligibilityQuery
from aggregator.scrapers.framework import CarrierAdapter, Document, PortalPage, header_key
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

US_DATE = "%m/%d/%Y"


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
        return answer.model_copy(update={"provenance": self.provenance(capture)})

    @classmethod
    def parse_answer(cls, flow: str, html: str, query: EligibilityQuery) -> EligibilityAnswer:
        """Pure: the captured result page -> the answer (used live and by the recorded-page tests)."""
        if flow != "eligibility":
            raise ValueError(f"ridgeline has no '{flow}' pages")
        doc = Document.parse(html)
        if BenefitsPage.is_current(doc, ""):
            return parse_benefits(doc, MANIFEST.slug)
        if SearchPage.is_current(doc, ""):
            return parse_not_found(doc, query, MANIFEST.slug)
        raise UnexpectedPage("the result page is neither benefits nor a search result")

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
