"""BluePeak Health adapter: a single-page app. Scripted sign-in, TOTP, a terms-of-use modal once per
session, then one member search per capability.

Every step waits for the state the next one needs, never for time: a click that calls the API waits
for the response the page's own script asked for, then for the screen drawn from it (a heading and no
spinner: the app puts its spinner up before it sends the request) before it classifies the screen (a
maintenance, rate-limit or error screen, or the sign-in screen after a lost session, can replace any
screen). The member search lists the whole family on the card; the adapter picks the row whose member
id is exactly the one asked for. Results render in accordions whose content is drawn only when opened:
the adapter opens every one, waits until each is expanded with its content drawn and there are as many
as the list states, then captures (the screenshot shows every value) with the API responses kept in
the evidence HTML.

- eligibility: search -> candidates -> benefits (one capture of the candidates, one of the answer).
- authorization / claim status: search -> candidates -> the list, every item opened (claims may also
  be found by number: no candidates).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any
from urllib.parse import urlparse

from aggregator.browser import ApiResponse, Capture
from aggregator.errors import (
    ActionRequired,
    AggregatorError,
    CredentialsRejected,
    MfaNeedsHuman,
    PortalMaintenance,
    PortalUnavailable,
    RateLimited,
    SessionExpired,
    UnexpectedPage,
)
from aggregator.models import (
    AuthorizationList,
    AuthorizationQuery,
    ClaimList,
    ClaimQuery,
    EligibilityAnswer,
    EligibilityQuery,
    MemberNotFound,
)
from aggregator.scrapers.bluepeak import maps
from aggregator.scrapers.bluepeak.manifest import MANIFEST
from aggregator.scrapers.bluepeak.pages import (
    is_candidate_list,
    parse_authorizations,
    parse_claims,
    parse_eligibility,
    pick_candidate,
    refusal,
)
from aggregator.scrapers.bluepeak.screens import (
    ALL_OPEN,
    INTERRUPTIONS,
    SETTLED,
    TERMS_DIALOG,
    AuthorizationScreen,
    CaptchaScreen,
    ClaimScreen,
    EligibilityScreen,
    HomeScreen,
    LoginScreen,
    MaintenanceScreen,
    MfaScreen,
    ServerErrorScreen,
    SlowDownScreen,
    alert,
)
from aggregator.scrapers.framework import CarrierAdapter, Document, PortalPage, classify, text_of
from aggregator.scrapers.framework.spa import accordions, api_appendix

NAME = MANIFEST.display_name
Query = EligibilityQuery | AuthorizationQuery | ClaimQuery
FLOW_SCREENS: dict[str, type[PortalPage]] = {"eligibility": EligibilityScreen, "authorization": AuthorizationScreen,
                                             "claim_status": ClaimScreen}


class BluepeakAdapter(CarrierAdapter):
    manifest = MANIFEST

    # --- sign in ---------------------------------------------------------------------------------

    async def login(self) -> None:
        code = await self.fresh_totp()
        await self.session.goto("/app/login")
        page, doc = await self._screen(LoginScreen, HomeScreen, label="sign-in")
        if page is HomeScreen:
            return  # the browser still holds a live session
        await self.session.fill("#username", self.credentials.username)
        await self.session.fill("#password", self.credentials.password)
        async with self.session.expect_json("/api/auth/login"):
            await self.session.click("#sign-in")
        page, doc = await self._screen(MfaScreen, LoginScreen, label="after-password")
        if page is LoginScreen:
            await self.login_refused(alert(doc), maps.LOGIN_MESSAGES)
        await self.session.fill("#code", code)
        async with self.session.expect_json("/api/auth/mfa"):
            await self.session.click("#verify")
        page, doc = await self._screen(HomeScreen, MfaScreen, CaptchaScreen, LoginScreen, label="after-code")
        if page is MfaScreen:
            # A fresh, never-used code was refused: the seed is wrong. Retrying risks a lockout.
            raise await self.captured("security-code-refused", CredentialsRejected(
                f"{NAME} refused the verification code: check the TOTP seed"))
        if page is CaptchaScreen:
            raise await self.captured("captcha", MfaNeedsHuman(
                f"{NAME} shows a robot check after sign-in: a person must sign in once"))
        if page is LoginScreen:
            await self.login_refused(alert(doc), maps.LOGIN_MESSAGES)

    # --- capabilities ----------------------------------------------------------------------------

    async def check_eligibility(self, query: EligibilityQuery) -> EligibilityAnswer:
        await self._open("/app/eligibility", EligibilityScreen)
        await self.session.fill_form({**_member_fields(query.required_member_id, query.date_of_birth),
                                      "#last-name": query.last_name or "", "#dos": query.service_date.isoformat()})
        found = await self._choose_member("eligibility", query, r"/api/members/[^/?]+/eligibility")
        if isinstance(found, MemberNotFound):
            return found
        chosen, response = found
        result, answer = await self._answer("eligibility", query, response)
        return answer.model_copy(update={"provenance": self.provenance(chosen, result)})

    async def check_authorizations(self, query: AuthorizationQuery) -> AuthorizationList | MemberNotFound:
        await self._open("/app/authorizations", AuthorizationScreen)
        await self.session.fill_form(_member_fields(query.member_id, query.date_of_birth))
        found = await self._choose_member("authorization", query, r"/api/members/[^/?]+/authorizations")
        if isinstance(found, MemberNotFound):
            return found
        chosen, response = found
        result, answer = await self._answer("authorization", query, response)
        items = tuple(a.model_copy(update={"provenance": self.provenance(result)}) for a in answer.authorizations)
        return answer.model_copy(update={"authorizations": items, "provenance": self.provenance(chosen, result)})

    async def check_claims(self, query: ClaimQuery) -> ClaimList | MemberNotFound:
        await self._open("/app/claims", ClaimScreen)
        captures: list[Capture] = []
        if query.claim_number:
            await self.session.fill("#claim-number", query.claim_number)
            async with self.session.expect_json("/api/claims/") as call:
                await self.session.click("#find-claim")
            response = call.value
        else:
            assert query.member_id and query.date_of_birth and query.service_from and query.service_to
            await self.session.fill_form({**_member_fields(query.member_id, query.date_of_birth),
                                          "#from": query.service_from.isoformat(), "#to": query.service_to.isoformat()})
            found = await self._choose_member("claim_status", query, r"/api/members/[^/?]+/claims")
            if isinstance(found, MemberNotFound):
                return found
            chosen, response = found
            captures.append(chosen)
        result, answer = await self._answer("claim_status", query, response)
        items = tuple(c.model_copy(update={"provenance": self.provenance(result)}) for c in answer.claims)
        return answer.model_copy(update={"claims": items, "provenance": self.provenance(*captures, result)})

    @classmethod
    def parse_answer(cls, flow: str, html: str, query: Any) -> EligibilityAnswer | AuthorizationList | ClaimList:
        """Pure: a captured screen -> what it says (used live and by the recorded-page tests).

        The screen of the flow with a drawn result -> the record; with the search's "no such member"
        message -> MemberNotFound; with a candidate list lacking the member -> MemberNotFound (75).
        The maintenance, rate-limit, error and sign-in screens raise what they mean.
        """
        if flow not in FLOW_SCREENS:
            raise ValueError(f"bluepeak has no '{flow}' screens")
        doc = Document.parse(html)
        screen = classify(doc, "", (FLOW_SCREENS[flow], *INTERRUPTIONS))
        if screen is None:
            raise UnexpectedPage(f"{NAME}: not a {flow.replace('_', ' ')} screen")
        _raise_interruption(screen)
        not_found = refusal(doc, query, MANIFEST.slug)
        if not_found is not None:
            return not_found
        if is_candidate_list(doc):
            if pick_candidate(doc, query.member_id) is None:
                return MemberNotFound(carrier=MANIFEST.slug, query=query, reject_reason=maps.SEARCH_REFUSALS(
                    "We couldn't find a member with that ID."))
            raise UnexpectedPage(f"{NAME}: a member list is not an answer")
        if flow == "eligibility":
            return parse_eligibility(doc, MANIFEST.slug)
        if flow == "authorization":
            return parse_authorizations(doc, query, MANIFEST.slug)
        return parse_claims(doc, query, MANIFEST.slug)

    # --- steps -----------------------------------------------------------------------------------

    async def _choose_member(self, flow: str, query: Query, answer_url: str) -> tuple[Capture, ApiResponse] | MemberNotFound:
        """Search, capture the candidates (or the refusal), click the exact member; the answer's response."""
        async with self.session.expect_json("/api/members/search") as search:
            await self.session.click("#find-member")
        _, _, html = await self._screen_read(FLOW_SCREENS[flow], label=f"{flow}-search")
        chosen = await self.session.capture(f"{flow}-candidates", appendix=api_appendix(search.value), html=html)
        doc = Document.parse(chosen.html)
        member_id = self.pure(lambda: _searched(doc, query), chosen)
        if isinstance(member_id, MemberNotFound):
            return member_id.model_copy(update={"provenance": self.provenance(chosen)})
        async with self.session.expect_json(re.compile(answer_url)) as answer:
            await self.session.click(f'#candidates button[data-member-id="{member_id}"]')
        return chosen, answer.value

    async def _answer(self, flow: str, query: Query, response: ApiResponse) -> tuple[Capture, Any]:
        """The flow's answer screen, captured with every section open, and what it says."""
        result = await self._answer_capture(flow, FLOW_SCREENS[flow], response)
        return result, self._read(flow, result, query)

    async def _answer_capture(self, flow: str, screen: type[PortalPage], response: ApiResponse) -> Capture:
        """Settle, open every closed section (each draws only when opened; their toggles clicked together, so
        they draw at the same time), wait until every section is open and drawn, classify again, capture."""
        _, doc = await self._screen(screen, label=f"{flow}-result")
        toggles = []
        for section in accordions(doc.root, doc):
            if not section.expanded:
                toggle = next(b for b in doc.select("button[aria-controls]") if text_of(b) == section.title)
                toggles.append(f'button[aria-controls="{toggle.get("aria-controls")}"]')
        await self.session.click_each(toggles)
        await self.session.wait_until(ALL_OPEN, what="every section open and drawn")
        _, _, html = await self._screen_read(screen, label=f"{flow}-result")
        return await self.session.capture(f"{flow}-result", appendix=api_appendix(response), html=html)

    async def _open(self, path: str, screen: type[PortalPage]) -> None:
        """The flow's screen. Inside the signed-in app, through its own menu: the app draws the screen without
        loading the page again (the document is not fetched and the app not started anew: one request and
        one page load fewer per lookup); it still asks the portal for the session, as after any navigation.
        Elsewhere (signing in, an error screen), or when the menu lacks the link, by its address."""
        menu_link = f'nav a[data-link][href="{path}"]'
        in_app = urlparse(self.session.url).path.startswith("/app/")
        if not (in_app and await self.session.click_if_there(menu_link)):
            await self.session.goto(path)
        await self._screen(screen, label=path.rsplit("/", 1)[-1])

    async def _screen(self, *expected: type[PortalPage], label: str) -> tuple[type[PortalPage], Document]:
        """Wait for the screen to be drawn, pass the terms modal, and classify; interruptions raise."""
        page, doc, _ = await self._screen_read(*expected, label=label)
        return page, doc

    async def _screen_read(self, *expected: type[PortalPage], label: str) -> tuple[type[PortalPage], Document, str]:
        """`_screen`, with the HTML the screen was classified by (kept by a capture that follows at once)."""
        await self.session.wait_until(SETTLED, what="the screen drawn")
        html = await self.session.html()
        doc = Document.parse(html)
        if doc.select(TERMS_DIALOG):
            await self._accept_terms(doc)
            await self.session.wait_until(SETTLED, what="the screen drawn")
            html = await self.session.html()
            doc = Document.parse(html)
        page = classify(doc, self.session.url, tuple(dict.fromkeys((*expected, *INTERRUPTIONS))))
        if page is None:
            raise await self.captured(f"unexpected-{label}", UnexpectedPage(
                f"{NAME}: landed on a screen the adapter does not recognise "
                f"(expected {' / '.join(p.name for p in expected)})"))
        if page not in expected:
            if page is LoginScreen:
                raise SessionExpired(f"{NAME} session expired")
            capture = await self.session.capture(page.name.replace(" ", "-"))
            try:
                _raise_interruption(page)
            except AggregatorError as error:
                raise self.attach(error, capture) from None
        return page, doc, html

    async def _accept_terms(self, doc: Document) -> None:
        """The once-per-session acknowledgement of terms the practice already reviewed; a version it
        has not reviewed is a task for a person."""
        version = [text_of(v) for v in doc.select("#terms-version")]
        if len(version) != 1 or version[0] not in maps.KNOWN_TERMS_VERSIONS:
            raise await self.captured("terms-of-use", ActionRequired(
                f"{NAME} asks to accept terms of use the practice has not reviewed", kind="accept_terms"))
        async with self.session.expect_json("/api/terms/accept"):
            await self.session.click("#accept-terms")
        await self.session.wait_until_gone(TERMS_DIALOG)

    def _read(self, flow: str, capture: Capture, query: Query) -> Any:
        answer = self.pure(lambda: self.parse_answer(flow, capture.html, query), capture)
        if isinstance(answer, MemberNotFound):
            raise self.attach(UnexpectedPage(f"{NAME} showed a search refusal after a member was chosen"), capture)
        return answer


def _searched(doc: Document, query: Query) -> str | MemberNotFound:
    """After a member search: the exact member to click, or the definite "not found"."""
    not_found = refusal(doc, query, MANIFEST.slug)
    if not_found is not None:
        return not_found
    member_id = query.member_id
    assert member_id is not None
    picked = pick_candidate(doc, member_id)
    if picked is None:
        return MemberNotFound(carrier=MANIFEST.slug, query=query,
                              reject_reason=maps.SEARCH_REFUSALS("We couldn't find a member with that ID."))
    return picked


def _raise_interruption(screen: type[PortalPage]) -> None:
    if screen is MaintenanceScreen:
        raise PortalMaintenance(f"{NAME} shows its scheduled-maintenance screen")
    if screen is SlowDownScreen:
        raise RateLimited(f"{NAME} asks to slow down (too many requests)")
    if screen is ServerErrorScreen:
        raise PortalUnavailable(f"{NAME} shows its error screen")
    if screen is LoginScreen:
        raise SessionExpired(f"{NAME} session expired")


def _member_fields(member_id: str, date_of_birth: date) -> dict[str, str]:
    """The member search's fields, the same on every screen that searches for a member."""
    return {"#member-id": member_id, "#dob": date_of_birth.isoformat()}
