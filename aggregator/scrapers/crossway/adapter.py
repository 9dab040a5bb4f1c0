"""Crossway hub adapter: single sign-on through Crossway ID, the organization / provider / payer pickers,
then one patient search per lookup for the payer the adapter is built for (`self.payer`).

- sign-in: hub `/` -> `a#signin` -> Crossway ID (another origin; the browser context keeps both origins'
  cookies) -> username + password -> TOTP -> consent (once) -> back at the hub -> organization (the
  account's Tax ID) -> provider (the account's NPI) -> payer list. A live Crossway ID session answers the
  hub at once (no password): landing on the hub's pickers after `a#signin` is a sign-in too.
- eligibility: the payer's search, by member id + DOB or, where the payer allows it, by first + last
  name + DOB; a name search with several candidates takes the one whose coverage may be current on the
  date of service when exactly one may be, and otherwise stops (needs attention), never guessing.
- claim status: member id + DOB + service dates -> every listed claim's detail page.

Searches are paced (`framework.pacing`): the hub answers 429 to a search less than a second after the
user's previous one; if it does anyway, the search is made once more after the wait. "Daily Limit
Reached" is `DailyLimitReached` (the runner plans within the cap, so this is never expected).
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

from pydantic import SecretStr

from aggregator.browser import Capture
from aggregator.errors import (
    ActionRequired,
    AggregatorError,
    CodeRefused,
    CredentialsRejected,
    DailyLimitReached,
    ParseError,
    PortalUnavailable,
    RateLimited,
    SignInNeeded,
    UnexpectedPage,
)
from aggregator.human_steps import HumanStep
from aggregator.models import (
    ClaimList,
    ClaimQuery,
    ClaimStatus,
    EligibilityAnswer,
    EligibilityQuery,
    EligibilityRecord,
    MemberNotFound,
    RejectReason,
)
from aggregator.scrapers.framework import AccountNotice, CarrierAdapter, Document, PortalPage, clean, header_key
from aggregator.scrapers.framework.activity import links_for_rows
from aggregator.scrapers.framework.listings import check_answers_search
from aggregator.scrapers.framework.pacing import pace_searches, search_answered

from . import maps
from .claims import ClaimResultsListing, claim_links, parse_claim_detail, parse_claim_results, searched
from .eligibility import CandidateListing, current_candidate, parse_candidates, parse_eligibility, parse_no_match
from .manifest import MANIFEST
from .pages import (
    LOGIN_MESSAGES,
    CandidatesPage,
    ClaimDetailPage,
    ClaimResultsPage,
    DailyLimitPage,
    EligibilityPage,
    IdpConsentPage,
    IdpErrorPage,
    IdpLoginPage,
    IdpMfaPage,
    IdpPasswordPage,
    IdpPushPage,
    LandingPage,
    MaintenancePage,
    NoMatchPage,
    OrganizationsPage,
    PayersPage,
    ProvidersPage,
    SearchPage,
    SignInCancelledPage,
    SignInErrorPage,
    TooManyRequestsPage,
    login_message,
    messages,
    mfa_channel,
    password_warning,
    payer_of_page,
)

US_DATE = "%m/%d/%Y"
_SEARCH_FORMS = "_crossway_search_forms"  # (payer, transaction) -> the search form's address, on the session
MAX_PACE_GATE_WAIT_SECONDS = 60.0  # the longest wait for the hub's pace gate before the one resubmission
PageAnswer = EligibilityAnswer | CandidateListing | ClaimResultsListing | ClaimStatus
# Where a hub step may land when the hub session ended and a live Crossway ID session signed in again.
REENTERED = (OrganizationsPage, ProvidersPage)
# The pages a sign-in may reach once Crossway ID has what it asked for (or asked nothing: a remembered device).
AFTER_SECOND_FACTOR = (IdpConsentPage, IdpPasswordPage, *REENTERED, PayersPage, SignInErrorPage)
PUSH_POLL_SECONDS = 2.0  # how often Crossway ID is asked whether the person approved the push


class CrosswayAdapter(CarrierAdapter):
    manifest = MANIFEST
    maintenance_page = MaintenancePage
    login_page = IdpLoginPage  # a hub page whose session ended, with no live Crossway ID session

    # --- signing in -------------------------------------------------------------------------------

    async def login(self) -> None:
        await self.session.goto("/")
        page, doc = await self.expect(LandingPage, PayersPage, *REENTERED, IdpLoginPage, label="hub-landing")
        if page is LandingPage:
            await self.session.click_and_wait("a#signin")
            page, doc = await self._after_signin()
        if page in REENTERED:
            page, doc = await self._pick_organization_and_provider(page)
        if page is not PayersPage:
            raise await self.captured("after-sign-in", UnexpectedPage(
                f"{MANIFEST.display_name}: the sign-in did not end on the payer list"))
        self._note_password_warning(doc)

    async def _after_signin(self) -> tuple[type[PortalPage], Document]:
        """From `a#signin` to the hub's pickers: through Crossway ID's pages, or straight back when its
        session is alive (silent re-authorization: no password is asked for, none is given)."""
        page, doc = await self.expect(IdpLoginPage, IdpConsentPage, IdpPasswordPage, IdpErrorPage, *REENTERED,
                                      PayersPage, SignInErrorPage, SignInCancelledPage, label="sign-in")
        if page is IdpLoginPage:
            # A TOTP code is taken before the password (waiting for a fresh step may outlast the page); with a
            # remembered device Crossway ID asks for none and the code is simply not used.
            totp = await self._fresh_code() if self.credentials.totp_secret is not None else None
            await self.session.fill("input[name=username]", self.credentials.username)
            await self.session.fill("input[name=password]", self.credentials.password)
            await self.session.click_and_wait("#signin, #login-form button[type=submit]")
            page, doc = await self.expect(IdpMfaPage, IdpPushPage, IdpLoginPage, IdpErrorPage, *AFTER_SECOND_FACTOR,
                                          label="after-password")
            if page is IdpLoginPage:
                await self.login_refused(login_message(doc), LOGIN_MESSAGES)
            if page is IdpErrorPage:
                raise await self._idp_refused()
            if page in (IdpMfaPage, IdpPushPage):
                page, doc = await self._second_factor(page, doc, totp)
        if page is IdpPasswordPage and self.credentials.password_change is not None:
            # The product is changing the password (a person asked, aggregator/password_change.py): the forced
            # change takes the new one, and the sign-in goes on.
            page, doc = await self._submit_new_password(self.credentials.password_change.new_password,
                                                        IdpConsentPage, *REENTERED, PayersPage, SignInErrorPage)
        if page is IdpPasswordPage:
            # Choosing a new password is a person's decision (and the vault must learn it): stop here.
            raise await self.captured("password-expired", ActionRequired(
                f"{MANIFEST.display_name}: the Crossway ID password has expired; change it from the account's "
                f"page (`aggregator vault change-password`) or at Crossway ID", kind="password_change"))
        if page is IdpConsentPage:
            # Once per user: the hub may read the user's name and organizations (what any sign-in needs).
            await self.session.click_and_wait("button[name=decision][value=allow]")
            page, doc = await self.expect(*REENTERED, PayersPage, SignInErrorPage, SignInCancelledPage, IdpErrorPage,
                                          label="after-consent")
        if page is IdpErrorPage:
            raise await self._idp_refused()
        if page is SignInCancelledPage:
            raise await self.captured("sign-in-cancelled", ActionRequired(
                f"{MANIFEST.display_name}: the sign-in was cancelled at the consent page; a person must allow "
                f"access once", kind="consent"))
        if page is SignInErrorPage:
            # The hub could not verify the identity provider's answer (its state or code): never taken as
            # signed in, and never retried in a loop here; the runner's one later attempt starts afresh.
            raise await self.captured("sign-in-not-verified", PortalUnavailable(
                f"{MANIFEST.display_name} could not verify the sign-in (state or code mismatch); no session "
                f"was used"))
        return page, doc

    async def _second_factor(self, page: type[PortalPage], doc: Document,
                             totp: str | None) -> tuple[type[PortalPage], Document]:
        """The code or approval Crossway ID asks for: TOTP from the vault; a code by text or e-mail, or a push,
        from the person at the screen (nobody there: `SignInNeeded` at once). "Remember this device" is always
        ticked, so the next sign-in from this browser state asks for nothing. A refused code is never retried."""
        channel, said = mfa_channel(doc)
        if page is IdpPushPage or channel == "push":
            return await self._push_approval(said)
        if channel == "totp":
            if totp is None:
                totp = await self._fresh_code()  # raises CredentialsMissing: the account has no seed
            code = totp
        else:
            step = HumanStep.CODE_BY_TEXT if channel == "sms" else HumanStep.CODE_BY_EMAIL
            code = await self.code_from_person(step, said, lifetime_seconds=maps.CODE_LIFETIME_SECONDS)
        await self.session.fill("input[name=code]", code)
        await self._remember_device()
        await self.session.click_and_wait("#verify, #mfa-form button[type=submit]")
        page, doc = await self.expect(IdpMfaPage, IdpLoginPage, IdpErrorPage, *AFTER_SECOND_FACTOR, label="after-code")
        if page is IdpMfaPage and channel == "totp":
            # A fresh, never-used code was refused: the seed is wrong. Retrying risks a lockout.
            raise await self.captured("security-code-refused", CredentialsRejected(
                f"{MANIFEST.display_name} (Crossway ID) refused the security code: check the TOTP seed"))
        if page is IdpMfaPage:
            expired = any(header_key(m) == header_key(maps.MSG_CODE_EXPIRED) for m in messages(doc))
            raise await self.captured("code-refused", self._told_person(CodeRefused(
                f"{MANIFEST.display_name} did not accept the code: "
                + ("it had expired" if expired else "it was not correct")
                + "; nothing was retried. Sign in again to get a new code")))
        if page is IdpLoginPage:  # too many wrong codes lock the user
            await self.login_refused(login_message(doc), LOGIN_MESSAGES)
        if page is IdpErrorPage:
            raise await self._idp_refused()
        self._told_person(None)
        return page, doc

    async def _push_approval(self, said: str) -> tuple[type[PortalPage], Document]:
        """Tell the person, then ask Crossway ID now and then whether the request was approved, until it says
        so, says denied or expired, or the request's lifetime is over."""
        await self.approval_from_person(said, lifetime_seconds=maps.CODE_LIFETIME_SECONDS)
        await self._remember_device()
        deadline = asyncio.get_running_loop().time() + maps.CODE_LIFETIME_SECONDS
        while True:
            await self.session.click_and_wait("#push-check, #push-form button[type=submit]")
            page, doc = await self.expect(IdpPushPage, IdpLoginPage, IdpErrorPage, *AFTER_SECOND_FACTOR, label="push")
            if page is not IdpPushPage:
                break
            if asyncio.get_running_loop().time() > deadline:
                raise await self.captured("push-not-approved", self._told_person(SignInNeeded(
                    f"{MANIFEST.display_name}: the sign-in request was not approved in time",
                    step=HumanStep.PUSH_APPROVAL)))
            # A person is reading their phone: ask again every few seconds, never faster.
            await asyncio.sleep(PUSH_POLL_SECONDS)
        if page is IdpLoginPage:
            said_now = login_message(doc) or ""
            for words, why in ((maps.MSG_PUSH_DENIED, "was denied on the phone"),
                               (maps.MSG_PUSH_EXPIRED, "expired before it was approved")):
                if header_key(said_now) == header_key(words):
                    raise await self.captured("push-refused", self._told_person(SignInNeeded(
                        f"{MANIFEST.display_name}: the sign-in request {why}", step=HumanStep.PUSH_APPROVAL)))
            await self.login_refused(said_now, LOGIN_MESSAGES)
        if page is IdpErrorPage:
            raise await self._idp_refused()
        self._told_person(None)
        return page, doc

    async def _remember_device(self) -> None:
        if Document.parse(await self.session.html()).select("input[name=remember]"):
            await self.session.check("input[name=remember]")

    def _told_person(self, error: AggregatorError | None) -> Any:
        if self.credentials.person is not None:
            self.credentials.person.done(error.reason if error is not None else None)
        return error

    async def _fresh_code(self) -> str:
        """Taken at Crossway ID's password page, not before `a#signin`: a live Crossway ID session signs in
        without one, and a code taken then would be spent for nothing."""
        return await self.fresh_totp()

    async def _idp_refused(self) -> AggregatorError:
        return await self.captured("identity-provider-error", PortalUnavailable(
            f"{MANIFEST.display_name} (Crossway ID) refused the sign-in request; no session was used"))

    async def _pick_organization_and_provider(self, page: type[PortalPage]) -> tuple[type[PortalPage], Document]:
        """The organization (the account's Tax ID), then the provider (its NPI): never a guess."""
        if page is OrganizationsPage:
            await self._pick("taxId", self.credentials.tax_id, what="organization (Tax ID)")
            page, _ = await self.expect(ProvidersPage, OrganizationsPage, label="after-organization")
            if page is OrganizationsPage:
                raise await self.captured("organization-refused", UnexpectedPage(
                    f"{MANIFEST.display_name} refused the organization chosen"))
        await self._pick("npi", self.credentials.npi, what="provider (NPI)")
        page, doc = await self.expect(PayersPage, ProvidersPage, label="after-provider")
        if page is ProvidersPage:
            raise await self.captured("provider-refused", UnexpectedPage(
                f"{MANIFEST.display_name} refused the provider chosen"))
        return page, doc

    async def _pick(self, field: str, wanted: str | None, *, what: str) -> None:
        doc = Document.parse(await self.session.html())
        offered = [clean(el.get("value")) for el in doc.select(f"input[type=radio][name={field}]")]
        if not wanted or wanted not in offered:
            # The account's configuration names no such choice (or none): a person must say whom it acts for.
            raise await self.captured(f"no-{field}", ActionRequired(
                f"{MANIFEST.display_name}: the account's {what} is {'not set' if not wanted else 'not offered'}; "
                f"set it on the portal account", kind="account_scope"))
        await self.session.click(f"input[type=radio][name={field}][value='{wanted}']")
        form, button = ("#org-form", "#choose-org") if field == "taxId" else ("#provider-form", "#choose-provider")
        await self.session.click_and_wait(f"{button}, {form} button[type=submit]")

    def _note_password_warning(self, doc: Document) -> None:
        """The hub warns of an expiring Crossway ID password on every page: noted once per adapter."""
        found = password_warning(doc)
        if found is None or any(n.kind == "password_expiring" for n in self.notices):
            return
        text, due = found
        self.notices.append(AccountNotice(kind="password_expiring", message=text, due=due))

    # --- the search --------------------------------------------------------------------------------

    async def _open_search(self, transaction: str) -> None:
        """The payer list -> this payer's search form (re-entering the pickers once if the hub session was
        renewed by a live Crossway ID session on the way). The form's address, once the list's link led to
        it, is kept on the session: later searches open it directly (a page less each), and anything else
        found there (the list, the pickers) takes the whole way again."""
        known: dict[tuple[str, str], str] = getattr(self.session, _SEARCH_FORMS, {})
        if (self.payer, transaction) in known:
            await self.session.goto(known[(self.payer, transaction)])
            page, doc = await self.expect(SearchPage, PayersPage, *REENTERED, label="search")
            if page is SearchPage:
                self._note_password_warning(doc)
                self._check_payer(doc)
                return
        await self.session.goto("/payers")
        page, doc = await self.expect(PayersPage, *REENTERED, label="payers")
        if page in REENTERED:
            page, doc = await self._pick_organization_and_provider(page)
        self._note_password_warning(doc)
        links = doc.select(f"#payer-list li.payer[data-payer='{self.payer}'] a.{transaction}")
        if len(links) != 1:
            raise await self.captured("payer-not-listed", ActionRequired(
                f"{MANIFEST.display_name} does not list the payer for the organization the account acts for",
                kind="payer_enrollment"))
        await self.session.click_and_wait(f"#payer-list li.payer[data-payer='{self.payer}'] a.{transaction}")
        _, form = await self.expect(SearchPage, label="search")
        self._check_payer(form)
        setattr(self.session, _SEARCH_FORMS, {**known, (self.payer, transaction): self.session.url})

    def _check_payer(self, doc: Document) -> None:
        """A page the hub drew for another payer is never read as this payer's."""
        entry = payer_of_page(doc)
        if entry.slug != self.payer:
            raise UnexpectedPage(f"{MANIFEST.display_name} showed another payer's page")

    async def _search(self, transaction: str, fields: dict[str, str], *, by_name: bool,
                      label: str) -> tuple[type[PortalPage], Document, str]:
        """Fill and submit the search (paced); one more time after the hub's pace gate, never more. The page
        it led to, parsed, and its HTML (see `expect_read`)."""
        for attempt in (1, 2):
            await self._open_search(transaction)
            if by_name:
                await self.session.click("input[name=searchBy][value=name]")
            await self.session.fill_form({f"input[name={name}]": value for name, value in fields.items()})
            await pace_searches(self.session, MANIFEST.limits.min_seconds_between_searches)
            try:
                try:
                    await self.session.click_and_wait("#search, #search-form button[type=submit]")
                finally:
                    search_answered(self.session)
            except RateLimited as limited:
                doc = Document.parse(await self.session.html())
                if attempt == 2 or not (TooManyRequestsPage.is_current(doc, "")
                                        and TooManyRequestsPage.is_search_pace(doc)):
                    raise await self.captured("too-many-requests", RateLimited(
                        f"{MANIFEST.display_name} refused the search as too fast (HTTP 429)",
                        retry_after_seconds=limited.retry_after_seconds)) from None
                # The hub's Retry-After is the rest of its interval, rounded up (the manifest's interval stands
                # in when the header is missing): waited here, bounded, before the one resubmission.
                asked = limited.retry_after_seconds
                await asyncio.sleep(min(asked if asked is not None else
                                        math.ceil(MANIFEST.limits.min_seconds_between_searches) or 1.0,
                                        MAX_PACE_GATE_WAIT_SECONDS))
                continue
            page, doc, html = await self.expect_read(EligibilityPage, ClaimResultsPage, NoMatchPage, CandidatesPage,
                                                     SearchPage, DailyLimitPage, label=label)
            if page is DailyLimitPage:
                raise await self.captured("daily-limit", DailyLimitReached(
                    f"{MANIFEST.display_name} says the account reached its daily search limit; searches are "
                    f"available again on the hub's next day"))
            if page is SearchPage:
                # The hub refused what was entered (a form message): our input, never a result.
                said = messages(doc)
                unsupported = any(header_key(m) == header_key(maps.MSG_NAME_SEARCH_UNSUPPORTED) for m in said)
                raise await self.captured("search-refused", ParseError(
                    f"{MANIFEST.display_name} refused the search form"
                    + (": the payer does not allow a search by name" if unsupported else "")))
            self._check_payer(doc)
            self._note_password_warning(doc)
            return page, doc, html
        raise AssertionError("unreachable: the second attempt returns or raises")

    async def _choose_candidate(self, query: EligibilityQuery | ClaimQuery, service_date: Any, label: str,
                                html: str) -> tuple[type[PortalPage], Document, str]:
        """Several patients match a name search (the list's `html` as `expect_read` read it): the one whose
        coverage may be current on the date of service, when exactly one may be; else a person decides (needs
        attention)."""
        _, capture = await self.capture("candidates", html=html)
        listing = self.read("eligibility", capture, query, CandidateListing)
        chosen = current_candidate(listing, service_date)
        if chosen is None:
            raise self.attach(ParseError(f"{len(listing.rows)} patients match the name and date of birth and "
                                         f"not exactly one has coverage that may be current on the date of service"),
                              capture)
        doc = Document.parse(capture.html)
        links = [a.get("href") for a in doc.select("#candidates a.candidate") if clean(a.text_content()) ==
                 chosen.member_id]
        if len(links) != 1 or not (links[0] or "").startswith("/"):
            raise self.attach(ParseError("the chosen candidate has no link of its own"), capture)
        await self.session.goto(links[0] or "")
        page, doc, html = await self.expect_read(EligibilityPage, ClaimResultsPage, NoMatchPage, CandidatesPage,
                                                 label=label)
        if page is CandidatesPage:
            raise await self.captured("candidates-gone", ParseError(
                f"{MANIFEST.display_name} no longer has the candidate list"))
        self._check_payer(doc)
        return page, doc, html

    # --- eligibility --------------------------------------------------------------------------------

    async def check_eligibility(self, query: EligibilityQuery) -> EligibilityAnswer:
        entry = MANIFEST.payer(self.payer)
        if query.by_name and not entry.name_search:
            # Refused before any search is spent: the hub would only say so on its form.
            raise ActionRequired(f"{entry.display_name} cannot be searched by patient name on "
                                 f"{MANIFEST.display_name}: give the member id", kind="member_id_required")
        fields = {"dob": query.date_of_birth.strftime(US_DATE), "dos": query.service_date.strftime(US_DATE)}
        if query.by_name:
            fields |= {"memberId": "", "firstName": query.first_name or "", "lastName": query.last_name or ""}
        else:
            fields |= {"memberId": query.member_id or ""}
        page, _, html = await self._search("eligibility", fields, by_name=query.by_name, label="search-result")
        if page is CandidatesPage:
            page, _, html = await self._choose_candidate(query, query.service_date, "candidate-result", html)
        if page is not EligibilityPage and page is not NoMatchPage:
            raise await self.captured("unexpected-result", UnexpectedPage(
                f"{MANIFEST.display_name} answered an eligibility search with another page"))
        _, capture = await self.capture("eligibility-result", html=html)
        answer = self.read("eligibility", capture, query, EligibilityRecord, MemberNotFound)
        if answer.carrier != self.payer:
            raise self.attach(UnexpectedPage(f"{MANIFEST.display_name} showed another payer's answer"), capture)
        return answer.model_copy(update={"provenance": self.provenance(capture)})

    # --- claim status -------------------------------------------------------------------------------

    async def check_claims(self, query: ClaimQuery) -> ClaimList | MemberNotFound:
        if query.claim_number or not (query.member_id and query.date_of_birth and query.service_from
                                      and query.service_to):
            raise ActionRequired(f"{MANIFEST.display_name} finds claims by member id, date of birth and service "
                                 f"dates only", kind="member_search_required")
        fields = {"memberId": query.member_id, "dob": query.date_of_birth.strftime(US_DATE),
                  "fromDate": query.service_from.strftime(US_DATE), "toDate": query.service_to.strftime(US_DATE)}
        page, _, html = await self._search("claims", fields, by_name=False, label="claim-search-result")
        _, listed = await self.capture("claim-results", html=html)
        answer = self.read("claim_status", listed, query, ClaimResultsListing, MemberNotFound)
        if isinstance(answer, MemberNotFound):
            return answer.model_copy(update={"provenance": self.provenance(listed)})
        if answer.carrier != self.payer or not searched(answer, query):
            raise self.attach(ParseError("the claim results are for another payer or search than the one made"),
                              listed)
        links = links_for_rows(self, claim_links, listed, (r.claim_number for r in answer.rows), what="claim list")
        captures: list[Capture] = [listed]
        claims = []
        for row in answer.rows:
            await self.session.goto(links[row.claim_number])
            _, doc, html = await self.expect_read(ClaimDetailPage, label="claim-detail")
            self._check_payer(doc)
            _, detail = await self.capture("claim-detail", html=html)
            captures.append(detail)
            claim = self.read("claim_status", detail, query, ClaimStatus)
            if not row.shows(claim) or claim.carrier != self.payer:
                raise self.attach(ParseError("a claim's detail page disagrees with its row in the results"), detail)
            claims.append(claim.model_copy(update={"provenance": self.provenance(listed, detail)}))
        return self.pure(lambda: ClaimList(carrier=self.payer, query=query, claims=tuple(claims),
                                           provenance=self.provenance(*captures)), *captures)

    # --- reading captured pages ---------------------------------------------------------------------

    @classmethod
    def parse_answer(cls, flow: str, html: str, query: Any) -> PageAnswer:
        """Pure: a captured page -> what it says (used live and by the recorded-page tests).

        eligibility: the result page -> EligibilityRecord (read with the layout of the payer the page names),
        the no-match page -> MemberNotFound, a name search's candidates -> CandidateListing.
        claim_status: the results -> ClaimResultsListing, a claim's page -> ClaimStatus, no match ->
        MemberNotFound. Every flow: the daily-limit page -> DailyLimitReached, the pace gate -> RateLimited,
        maintenance -> PortalMaintenance; any other page -> UnexpectedPage.
        """
        doc = Document.parse(html)
        answer = cls._parse_page(flow, doc, query)
        if _name_differs(answer, query):
            # The hub finds members by id and birth date alone; a payer's own portal refuses a last name its
            # record does not have (X12 AAA 73). The page shows the payer's record: the name is not on it.
            assert isinstance(answer, EligibilityRecord)
            return MemberNotFound(carrier=answer.carrier, query=query, reject_reason=RejectReason.INVALID_NAME)
        _check_answers(answer, query)
        return answer

    @staticmethod
    def _parse_page(flow: str, doc: Document, query: Any) -> PageAnswer:
        from aggregator.errors import PortalMaintenance

        if DailyLimitPage.is_current(doc, ""):
            raise DailyLimitReached(f"{MANIFEST.display_name} says the account reached its daily search limit")
        if TooManyRequestsPage.is_current(doc, ""):
            raise RateLimited(f"{MANIFEST.display_name} refused the search as too fast")
        if MaintenancePage.is_current(doc, ""):
            raise PortalMaintenance(f"{MANIFEST.display_name} shows its maintenance page")
        if NoMatchPage.is_current(doc, "") and flow in ("eligibility", "claim_status"):
            return parse_no_match(doc, query)
        if flow == "eligibility":
            if EligibilityPage.is_current(doc, ""):
                return parse_eligibility(doc)
            if CandidatesPage.is_current(doc, ""):
                return parse_candidates(doc)
            raise UnexpectedPage("the page is none of the eligibility result, no-match or candidate pages")
        if flow == "claim_status":
            if ClaimResultsPage.is_current(doc, ""):
                return parse_claim_results(doc)
            if ClaimDetailPage.is_current(doc, ""):
                return parse_claim_detail(doc)
            raise UnexpectedPage("the page is none of the claim results, claim detail or no-match pages")
        raise UnexpectedPage(f"{MANIFEST.display_name} has no '{flow}' pages")

    # --- changing the password (aggregator/password_change.py) ---------------------------------------

    async def change_password(self, new_password: SecretStr) -> None:
        """The payer list -> `a#idp-account` (Crossway ID's account page) -> `a#change-password-link` -> the
        form (current, new, confirm) -> "Your password was changed." Then back to the hub's payer list, so
        the session goes on serving lookups. A refusal (the form again, with its error messages) changed
        nothing: `ActionRequired(kind="password_change_failed")` saying the portal's reasons."""
        from .pages import IdpAccountPage, IdpPasswordChangedPage

        await self.session.goto("/payers")
        page, doc = await self.expect(PayersPage, *REENTERED, label="payers")
        if page in REENTERED:
            page, doc = await self._pick_organization_and_provider(page)
        if not doc.select("a#idp-account"):
            raise await self.captured("no-account-link", UnexpectedPage(
                f"{MANIFEST.display_name}: the payer list has no link to Crossway ID's account page"))
        await self.session.click_and_wait("a#idp-account")
        await self.expect(IdpAccountPage, label="idp-account")
        await self.session.click_and_wait("a#change-password-link")
        await self.expect(IdpPasswordPage, label="password-form")
        await self._submit_new_password(new_password, IdpPasswordChangedPage)
        await self.capture("password-changed")
        await self.session.goto("/payers")
        page, doc = await self.expect(PayersPage, *REENTERED, label="payers-after-change")
        if page in REENTERED:
            await self._pick_organization_and_provider(page)


    async def _submit_new_password(self, new_password: SecretStr,
                                   *after: type[PortalPage]) -> tuple[type[PortalPage], Document]:
        """Crossway ID's password form (the forced change at expiry, or the account page's): current, new,
        confirm. The form again with its error messages: refused, nothing changed."""
        from .pages import password_refusals

        await self.session.fill("input[name=currentPassword]", self.credentials.password)
        await self.session.fill("input[name=newPassword]", new_password)
        await self.session.fill("input[name=confirmPassword]", new_password)
        self.submitting_new_password()
        await self.session.click_and_wait("#change-password, #password-form button[type=submit]")
        page, doc = await self.expect(IdpPasswordPage, *after, label="password-submitted")
        if page is IdpPasswordPage:
            said = password_refusals(doc)
            raise await self.captured("password-refused", ActionRequired(
                f"{MANIFEST.display_name} (Crossway ID) refused the new password"
                + (f": {' '.join(said)}" if said else " without saying why"), kind="password_change_failed"))
        self.password_changed = True
        return page, doc


def _name_differs(answer: object, query: Any) -> bool:
    """A member-id search that named a last name the found member's record does not have."""
    return (isinstance(answer, EligibilityRecord) and isinstance(query, EligibilityQuery) and not query.by_name
            and bool(query.last_name) and (answer.member.member_id, answer.member.date_of_birth, answer.service_date)
            == (query.member_id, query.date_of_birth, query.service_date)
            and clean(answer.member.last_name).casefold() != clean(query.last_name or "").casefold())


def _check_answers(answer: object, query: Any) -> None:
    """The answer is about what was asked: the member (by id, or by name and date of birth), the date of
    service, the claim search."""
    if isinstance(answer, EligibilityRecord) and isinstance(query, EligibilityQuery) and query.by_name:
        member = answer.member
        if (member.date_of_birth, answer.service_date) != (query.date_of_birth, query.service_date) or (
                clean(member.first_name).casefold(), clean(member.last_name).casefold()) != (
                clean(query.first_name or "").casefold(), clean(query.last_name or "").casefold()):
            raise ParseError("the benefits page is for another patient or date of service than asked")
        return
    if isinstance(answer, CandidateListing) and isinstance(query, EligibilityQuery):
        if not query.by_name or any(
                (c.date_of_birth, c.first_name.casefold(), c.last_name.casefold()) !=
                (query.date_of_birth, (query.first_name or "").casefold(), (query.last_name or "").casefold())
                for c in answer.rows):
            raise ParseError("the candidate list holds a patient other than the one searched")
        return
    if isinstance(answer, ClaimResultsListing) and isinstance(query, ClaimQuery):
        if not searched(answer, query):
            raise ParseError("the claim results repeat another search than the one made")
        return
    check_answers_search(answer, query)


__all__ = ["CrosswayAdapter"]
