"""Cascade Care adapter: a frameset portal (content in the `main` frame) with ASP.NET postbacks.

- login: user name + password -> one of three security questions (answered from the vault by its
  text) -> notices (important announcement, "password expires in N days": passed) -> home. An expired
  password is `ActionRequired` (the runner freezes the account), a CAPTCHA or a question the vault does
  not know is `MfaNeedsHuman`, a refused answer `CredentialsRejected`.
- eligibility: inquiry form -> eligibility detail (one page).
- authorization: search -> summary -> each row's `Select$` postback -> detail -> `lnkBack`.
- claim status: search -> the claims report (`<pre>`) -> per claim the `EOB$` postback -> the EOB page,
  whose PDF is downloaded and kept in the same evidence entry as the page -> `lnkBack`. The record is read
  from the PDF and must agree with the claim's report row.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from pydantic import SecretStr

from aggregator.browser import PortalSession
from aggregator.errors import (
    ActionRequired,
    CredentialsRejected,
    MfaNeedsHuman,
    ParseError,
    UnexpectedPage,
)
from aggregator.human_steps import HumanStep
from aggregator.models import (
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
from aggregator.scrapers.cascade import pages as p
from aggregator.scrapers.cascade.eob import parse_eob
from aggregator.scrapers.cascade.manifest import MANIFEST
from aggregator.scrapers.cascade.pages_activity import (
    AuthDetailPage,
    AuthListPage,
    AuthSearchPage,
    ClaimReport,
    ClaimReportPage,
    ClaimSearchPage,
    EobOffer,
    EobPage,
    auth_links,
    claim_links,
    parse_auth_answer,
    parse_claim_answer,
    report_received_dates,
)
from aggregator.scrapers.framework import CarrierAdapter, Credentials, Document, PortalPage, header_key
from aggregator.scrapers.framework.activity import authorizations_from_list, check_same_search, links_for_rows
from aggregator.scrapers.framework.pdf import PDF_MEDIA_TYPE
from aggregator.scrapers.framework.postback import PostBack

CONTENT_FRAME = "main"
FRAMESET = "/Default.aspx"
US_DATE = "%m/%d/%Y"
MAX_NOTICES = 4  # interstitials between the security question and home; more is a loop


class CascadeAdapter(CarrierAdapter):
    manifest = MANIFEST
    maintenance_page = p.MaintenancePage
    login_page = p.LoginPage

    def __init__(self, session: PortalSession, credentials: Credentials, payer: str | None = None) -> None:
        super().__init__(session, credentials, payer)
        session.content_frame = CONTENT_FRAME

    # --- login ----------------------------------------------------------------------------------

    async def login(self) -> None:
        await self.session.goto(FRAMESET, whole_page=True)
        page, doc = await self.expect(p.LoginPage, p.HomePage, label="login")
        if page is p.HomePage:
            return
        await self.session.fill("#txtUserName", self.credentials.username)
        await self.session.fill("#txtPassword", self.credentials.password)
        await self.session.click_and_wait("#btnLogin")
        page, doc = await self.expect(p.SecurityQuestionPage, p.LoginPage, p.PasswordExpiredPage, label="after-password")
        if page is p.LoginPage:
            await self.login_refused(p.page_message(doc), p.LOGIN_MESSAGES)
        if page is p.PasswordExpiredPage:
            raise await self.captured("password-expired", ActionRequired(
                f"{MANIFEST.display_name} says the password has expired: a person must change it",
                kind="password_expired"))
        await self.session.fill("#txtAnswer", await self._answer_for(p.security_question(doc)))
        await self.session.click_and_wait("#btnContinue")
        for _ in range(MAX_NOTICES + 1):
            page, doc = await self.expect(p.HomePage, p.AnnouncementPage, p.PasswordNoticePage, p.CaptchaPage,
                                           p.SecurityQuestionPage, p.LoginPage, label="after-answer")
            if page is p.HomePage:
                return
            if page is p.AnnouncementPage:
                await self.session.click_and_wait("#btnAcknowledge")
            elif page is p.PasswordNoticePage:
                await self.session.click_and_wait("#btnRemindLater")  # the password still works: a person renews it
            elif page is p.CaptchaPage:
                raise await self.captured("captcha", MfaNeedsHuman(
                    f"{MANIFEST.display_name} shows a CAPTCHA after login: a person must log in once"))
            elif page is p.SecurityQuestionPage:
                # The vault's answer to the question asked was refused: retrying risks a lockout.
                raise await self.captured("security-answer-refused", CredentialsRejected(
                    f"{MANIFEST.display_name} refused the security answer: check it in the vault"))
            else:
                await self.login_refused(p.page_message(doc), p.LOGIN_MESSAGES)
        raise await self.captured("notice-loop", UnexpectedPage(f"{MANIFEST.display_name} kept showing notices after login"))

    async def _answer_for(self, question: str) -> Any:
        wanted = header_key(question)
        answers = [a for q, a in self.credentials.security_answers.items() if header_key(q) == wanted]
        if len(answers) != 1:
            raise await self.captured("unknown-security-question", MfaNeedsHuman(
                f"{MANIFEST.display_name} asks a security question the vault has no answer for",
                step=HumanStep.SECURITY_QUESTION))
        return answers[0]

    # --- capabilities ---------------------------------------------------------------------------

    async def check_eligibility(self, query: EligibilityQuery) -> EligibilityAnswer:
        await self._open("/Eligibility.aspx", p.EligibilitySearchPage, label="eligibility-search")
        await self.session.fill_form({
            "#txtMemberId": query.required_member_id,
            "#txtDob": query.date_of_birth.strftime(US_DATE),
            "#txtLastName": query.last_name or "",
            "#txtInquiryDate": query.service_date.strftime(US_DATE),
        })
        await self.session.click_and_wait("#btnSearch")
        capture = await self.expect_captured(p.EligibilityResultPage, p.EligibilitySearchPage,
                                             label="eligibility-result", capture="eligibility-result")
        answer = self.read("eligibility", capture, query, EligibilityRecord, MemberNotFound)
        return answer.model_copy(update={"provenance": self.provenance(capture)})

    async def check_authorizations(self, query: AuthorizationQuery) -> AuthorizationList | MemberNotFound:
        await self._open("/Authorizations.aspx", AuthSearchPage, label="authorization-search")
        await self.session.fill_form({"#txtMemberId": query.member_id, "#txtDob": query.date_of_birth.strftime(US_DATE)})
        await self.session.click_and_wait("#btnFindAuths")
        listed = await self.expect_captured(AuthListPage, AuthSearchPage,
                                            label="authorization-search-result", capture="authorization-search-result")
        return await authorizations_from_list(self, query, listed, what="authorization summary",
                                              read_links=auth_links, open_detail=self._open_authorization,
                                              back=self._back_to_summary)

    async def _open_authorization(self, link: PostBack) -> None:
        await self.session.click_and_wait(link.selector)
        await self.expect(AuthDetailPage, label="authorization-detail")

    async def _back_to_summary(self) -> None:
        await self.session.click_and_wait("#lnkBack")
        await self.expect(AuthListPage, label="authorization-summary")

    async def check_claims(self, query: ClaimQuery) -> ClaimList | MemberNotFound:
        await self._open("/Claims.aspx", ClaimSearchPage, label="claim-search")
        member_fields = ("", "", "", "")
        if not query.claim_number:
            assert query.member_id and query.date_of_birth and query.service_from and query.service_to
            member_fields = (query.member_id, query.date_of_birth.strftime(US_DATE),
                             query.service_from.strftime(US_DATE), query.service_to.strftime(US_DATE))
        await self.session.fill_form({"#txtClaimNo": query.claim_number or "",
                                      **dict(zip(("#txtMemberId", "#txtDob", "#txtFrom", "#txtThru"), member_fields,
                                                 strict=True))})
        await self.session.click_and_wait("#btnRunReport")
        report_capture = await self.expect_captured(ClaimReportPage, ClaimSearchPage,
                                                    label="claim-search-result", capture="claims-report")
        report = self.read("claim_status", report_capture, query, ClaimReport, MemberNotFound)
        if isinstance(report, MemberNotFound):
            return report.model_copy(update={"provenance": self.provenance(report_capture)})
        check_same_search(self, report, query, report_capture, what="claims report")
        links = links_for_rows(self, claim_links, report_capture, (row.claim_number for row in report.rows),
                               what="claims report")
        received = self.pure(lambda: report_received_dates(Document.parse(report_capture.html)), report_capture)
        captures, claims = [report_capture], []
        for row in report.rows:
            await self.session.click_and_wait(links[row.claim_number].selector)
            await self.expect(EobPage, label="claim-eob")
            # The page offering the download is kept with the very PDF it sent, as one evidence entry.
            document = await self.session.download("#lnkDownload")
            _, eob = await self.capture("claim-eob", document=document.data, document_media_type=PDF_MEDIA_TYPE)
            captures.append(eob)
            if self.read("claim_status", eob, query, EobOffer).claim_number != row.claim_number:
                raise self.attach(ParseError("the EOB page is for a different claim than the one opened"), eob)
            claim = self.pure(partial(self.parse_document, "eob", document.data), eob)
            if not row.shows(claim) or received.get(row.claim_number, claim.received_date) != claim.received_date:
                raise self.attach(ParseError("a claim's EOB disagrees with its row in the claims report"),
                                  report_capture, eob)
            claims.append(claim.model_copy(update={"provenance": self.provenance(report_capture, eob)}))
            await self.session.click_and_wait("#lnkBack")
            await self.expect(ClaimReportPage, label="claims-report")
        return self.pure(lambda: ClaimList(carrier=MANIFEST.slug, query=query, claims=tuple(claims),
                                            provenance=self.provenance(*captures)), *captures)

    # --- pure reading ---------------------------------------------------------------------------

    @classmethod
    def parse_answer(cls, flow: str, html: str, query: Any) -> Any:
        """Pure: a captured content-frame page -> what it says (live and in recorded-page tests).

        eligibility: the detail page -> EligibilityRecord, the form with a message -> MemberNotFound.
        authorization: summary -> AuthListing, detail -> Authorization, form -> MemberNotFound.
        claim_status: the report -> ClaimReport, the EOB page -> EobOffer, form -> MemberNotFound (the
        claim record itself comes from the EOB PDF: `parse_document`).
        """
        doc = Document.parse(html)
        if flow == "eligibility":
            if p.EligibilityResultPage.is_current(doc, ""):
                return p.answer_for(p.parse_eligibility(doc, MANIFEST.slug), query)
            if p.EligibilitySearchPage.is_current(doc, ""):
                return p.parse_not_found(doc, query, MANIFEST.slug)
            raise UnexpectedPage("the page is neither an eligibility detail nor the inquiry form")
        if flow == "authorization":
            return parse_auth_answer(doc, query, MANIFEST.slug)
        if flow == "claim_status":
            return parse_claim_answer(doc, query, MANIFEST.slug)
        raise ValueError(f"cascade has no '{flow}' pages")

    @classmethod
    def parse_document(cls, kind: str, data: bytes) -> ClaimStatus:
        """Pure: a downloaded document -> its record (`eob`: the claim's explanation of benefits)."""
        if kind != "eob":
            raise ValueError(f"cascade has no '{kind}' documents")
        return parse_eob(data, MANIFEST.slug)

    # --- navigation -----------------------------------------------------------------------------

    async def _open(self, path: str, page: type[PortalPage], *, label: str) -> None:
        """Open a screen in the content frame, loading the frameset first when the tab lacks it."""
        if not self.session.in_content_frame:
            await self.session.goto(FRAMESET, whole_page=True)
            await self.expect(p.HomePage, label="frameset")
        await self.session.goto(path)
        await self.expect(page, label=label)


    # --- changing the password (aggregator/password_change.py) -----------------------------------

    async def change_password(self, new_password: SecretStr) -> None:
        """Home -> `a#lnkChangePassword` -> current, new, confirm -> `btnChangePassword` -> "Your password has
        been changed." (`lblPasswordChanged`), then Home again. A refusal (`lblPasswordError`, one message
        per broken rule) changed nothing: `ActionRequired(kind="password_change_failed")` saying why."""
        await self._open("/Home.aspx", p.HomePage, label="home")
        await self.session.click_and_wait("#lnkChangePassword")
        await self.expect(p.ChangePasswordPage, label="password-form")
        await self.session.fill("#txtCurrentPassword", self.credentials.password)
        await self.session.fill("#txtNewPassword", new_password)
        await self.session.fill("#txtConfirmPassword", new_password)
        self.submitting_new_password()
        await self.session.click_and_wait("#btnChangePassword")
        page, doc = await self.expect(p.PasswordChangedPage, p.ChangePasswordPage, label="password-changed")
        if page is p.ChangePasswordPage:
            said = p.password_refusals(doc)
            raise await self.captured("password-refused", ActionRequired(
                f"{MANIFEST.display_name} refused the new password"
                + (f": {' '.join(said)}" if said else " without saying why"), kind="password_change_failed"))
        self.password_changed = True
        await self.capture("password-changed")
        await self._open("/Home.aspx", p.HomePage, label="home")
