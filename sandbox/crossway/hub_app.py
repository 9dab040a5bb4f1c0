"""The Crossway hub: a multi-payer provider portal behind Crossway ID (FastAPI, server-rendered).

Flow (README.md in this folder has the screens and their selectors):

    /            landing page (`a#signin`), or /payers when signed in
    /signin      -> 302 <Crossway ID>/authorize?client_id=crossway-hub&redirect_uri=<hub>/oidc/callback&state&nonce...
    /oidc/callback?code&state   state must equal the one this browser's hub session sent (else the
                 "sign-in could not be verified" page, 400); the code is redeemed once, for this client
                 and redirect URI; the nonce must match -> a new hub session -> /organizations
    /organizations (Tax ID picker) -> /providers (NPI picker) -> /payers (the organization's payers)
    /payers/<payer>/search?transaction=eligibility|claims  member id + DOB, or first + last name + DOB
                 where the payer allows it -> result page, candidate list, or a no-match result page
    /payers/<payer>/claims/<number>  claim detail

Every search (POST .../search) passes the per-user gates first: the daily cap (`daily_search_cap`; the
"Daily limit reached" page, HTTP 200) and the pace (`min_search_interval_seconds`; HTTP 429 with
`Retry-After`). A hub session expires after `idle_timeout_seconds` (fault settings); its next page sends
the browser through /signin again, which a live Crossway ID session answers without a password.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from aggregator.models import EligibilityQuery, MemberNotFound, RejectReason, normalize_member_id
from aggregator.models.claims import ClaimQuery
from sandbox.control import install_faults
from sandbox.crossway import results, truth
from sandbox.crossway import vocabulary as v
from sandbox.crossway.controls import control_router, json_body
from sandbox.crossway.directory import Organization
from sandbox.crossway.html import e, field, form, hidden, hub_page, message, table
from sandbox.crossway.hub_state import CLIENT_ID, HubSession, HubState
from sandbox.crossway.idp_app import with_query
from sandbox.crossway.payers import PAYERS, HubPayer, hub_payer
from sandbox.data_changes import DataChangeError

REJECTS = {RejectReason.NOT_FOUND: v.MSG_NOT_FOUND, RejectReason.DOB_MISMATCH: v.MSG_DOB_MISMATCH,
           RejectReason.INVALID_NAME: v.MSG_NAME_MISMATCH}
TRANSACTIONS = {"eligibility": "Eligibility and Benefits", "claims": "Claim Status"}
CLAIM_SEARCH_DAYS = 365  # the claim search form's default range: today - 365 days .. today


class _Redirect(Exception):
    def __init__(self, location: str) -> None:
        self.location = location


def _day(text: str) -> date | None:
    try:
        return datetime.strptime(text.strip(), "%m/%d/%Y").date()
    except ValueError:
        return None


def create_hub_app(state: HubState) -> FastAPI:
    app = FastAPI(title="Crossway provider hub (sandbox)", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.hub = state

    def banner(session: HubSession | None) -> str | None:
        if session is None or session.password_expires_on is None:
            return None
        days = (session.password_expires_on - state.calendar.today()).days
        if 0 < days <= state.settings.password_warning_days:
            return v.MSG_PASSWORD_WARNING.format(days=days, s="" if days == 1 else "s",
                                                 date=v.fmt_date(session.password_expires_on))
        return None

    def context(session: HubSession) -> str | None:
        org = state.directory.organization(session.tax_id or "")
        if org is None:
            return None
        provider = org.provider(session.npi or "")
        who = f" · Provider: {provider.name} (NPI {provider.npi})" if provider else ""
        return f"Organization: {org.name} (Tax ID {org.tax_id}){who}"

    def page(title: str, body: str, session: HubSession | None = None, status: int = 200) -> HTMLResponse:
        signed_in = session is not None and session.stage == "auth"
        return HTMLResponse(hub_page(title, body, user=session.display_name if signed_in and session else None,
                                     banner=banner(session) if signed_in else None,
                                     context=context(session) if signed_in and session else None),
                            status_code=status)

    class Pages:
        def maintenance(self, request: Request, until: str) -> Response:
            return page("Scheduled Maintenance", f'<p id="maintenance">Crossway is unavailable for scheduled '
                                                 f"maintenance until {e(until)} ET. Please try again later.</p>")

        def server_error(self, request: Request, status: int) -> Response:
            return page("Service Error", f'<p id="service-error">Crossway could not complete your request '
                                         f"(error {status}). Please try again.</p>", status=status)

        def too_many_requests(self, request: Request) -> Response:
            response = page("Too Many Requests", message(v.MSG_TOO_MANY), status=429)
            response.headers["Retry-After"] = "60"
            return response

    install_faults(app, state, Pages(), v.HUB_COOKIE)
    router = control_router(state)

    @router.post("/expire-sessions")
    def expire_sessions() -> dict[str, Any]:
        return {"expired": state.expire_sessions()}

    @router.post("/reset-all")
    def reset_all() -> dict[str, Any]:
        """Both apps, the shared settings and the hub's day back to the start (`/reset` resets one app)."""
        state.reset_all()
        return {"reset": True, "today": state.calendar.today().isoformat()}

    @router.post("/searches")
    async def set_searches(request: Request) -> Response:
        """`{"username", "today": N}`: as if the user had already searched N times on the hub's day."""
        body = await json_body(request)
        if isinstance(body, Response):
            return body
        count, username = body.get("today"), str(body.get("username"))
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            return JSONResponse({"error": 'body must be {"username": ..., "today": N}'}, status_code=422)
        if state.directory.account(username) is None:
            return JSONResponse({"error": "unknown username"}, status_code=404)
        state.set_searches_today(username, count)
        return JSONResponse({"searches_left": state.searches_left(username)})

    @router.get("/data")
    def get_data() -> dict[str, Any]:
        return {"changes": state.data_changes()}

    @router.post("/data")
    async def change_data(request: Request) -> Response:
        """`{"payer": slug, ...a sandbox.data_changes change}`: changes the hub's copy of that payer's data."""
        body = await json_body(request)
        if isinstance(body, Response):
            return body
        payer = str(body.pop("payer", ""))
        try:
            applied = state.apply_data_change(payer, body)
        except DataChangeError as exc:
            return JSONResponse({"error": exc.message}, status_code=exc.status)
        return JSONResponse({"applied": applied, "changes": len(state.data_changes())})

    app.include_router(router)

    @app.exception_handler(_Redirect)
    async def redirect(request: Request, exc: _Redirect) -> Response:
        return RedirectResponse(exc.location, status_code=302)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return page("Page Not Found" if exc.status_code == 404 else "Request Error",
                    "<p>The page you asked for does not exist.</p>", status=exc.status_code)

    def with_cookie(response: Response, session: HubSession) -> Response:
        response.set_cookie(v.HUB_COOKIE, session.id, httponly=True, samesite="lax", path="/")
        return response

    def signed_in(request: Request) -> HubSession:
        session, expired = state.lookup(request.cookies.get(v.HUB_COOKIE))
        if session is None or session.stage != "auth":
            raise _Redirect("/signin?expired=1" if expired else "/signin")
        return session

    def acting(request: Request) -> tuple[HubSession, Organization]:
        """A signed-in session that has chosen its organization and provider."""
        session = signed_in(request)
        org = state.directory.organization(session.tax_id or "")
        if org is None:
            raise _Redirect("/organizations")
        if org.provider(session.npi or "") is None:
            raise _Redirect("/providers")
        return session, org

    def payer_for(org: Organization, slug: str) -> HubPayer:
        payer = hub_payer(slug)
        if payer is None:
            raise StarletteHTTPException(404)
        if payer.slug not in org.payers:
            raise _Redirect("/payers?not_enrolled=1")
        return payer

    def csrf_ok(session: HubSession, data: Any) -> bool:
        token = data.get("_csrf")
        return isinstance(token, str) and secrets.compare_digest(token.encode(), session.csrf.encode())

    def redirect_uri(request: Request) -> str:
        return str(request.base_url).rstrip("/") + "/oidc/callback"

    # --- sign-in ---------------------------------------------------------------------------------

    @app.get("/")
    def landing(request: Request) -> Response:
        session, _ = state.lookup(request.cookies.get(v.HUB_COOKIE))
        if session is not None and session.stage == "auth":
            raise _Redirect("/payers")
        return page("Welcome", '<p>One sign-in for every payer.</p><p><a href="/signin" id="signin">Sign in with '
                               "Crossway ID</a></p>")

    @app.get("/signin")
    def signin(request: Request) -> Response:
        session, _ = state.lookup(request.cookies.get(v.HUB_COOKIE))
        if session is not None and session.stage == "auth":
            raise _Redirect("/payers")
        state.drop_session(session.id if session else None)
        pending = state.begin_sign_in()
        target = with_query(f"{state.idp_url}/authorize", {
            "client_id": CLIENT_ID, "redirect_uri": redirect_uri(request), "response_type": "code",
            "scope": "openid profile", "state": pending.oidc_state, "nonce": pending.nonce})
        return with_cookie(RedirectResponse(target, status_code=302), pending)

    def not_verified() -> Response:
        state.note_state_mismatch()
        return page("Sign-in Error", f'<p id="signin-error" class="error">{e(v.MSG_NOT_VERIFIED)}</p>'
                                     '<p><a href="/signin" id="signin">Sign in again</a></p>', status=400)

    @app.get("/oidc/callback")
    def callback(request: Request) -> Response:
        session, _ = state.lookup(request.cookies.get(v.HUB_COOKIE))
        returned = request.query_params.get("state", "")
        if (session is None or session.stage != "signing_in" or not returned
                or not secrets.compare_digest(returned.encode(), session.oidc_state.encode())):
            return not_verified()
        if request.query_params.get("error"):
            state.drop_session(session.id)
            return page("Sign-in Cancelled", f'<p id="signin-error" class="error">{e(v.MSG_ACCESS_DENIED)}</p>'
                                             '<p><a href="/signin" id="signin">Sign in again</a></p>')
        claims = state.exchange_code(request.query_params.get("code", ""), redirect_uri(request))
        if isinstance(claims, str) or not secrets.compare_digest(claims.nonce.encode(), session.nonce.encode()):
            state.note_exchange_failure()
            state.drop_session(session.id)
            return page("Sign-in Error", f'<p id="signin-error" class="error">{e(v.MSG_NOT_VERIFIED)}</p>'
                                         '<p><a href="/signin" id="signin">Sign in again</a></p>', status=400)
        return with_cookie(RedirectResponse("/organizations", status_code=302),
                           state.complete_sign_in(session, claims))

    @app.get("/signout")
    def signout(request: Request) -> Response:
        state.drop_session(request.cookies.get(v.HUB_COOKIE))
        response = page("Signed Out", '<p id="signed-out">You have signed out of Crossway.</p>'
                                      f'<p><a href="{e(state.idp_url)}/logout" id="idp-signout">Also sign out of '
                                      'Crossway ID</a></p><p><a href="/signin" id="signin">Sign in</a></p>')
        response.delete_cookie(v.HUB_COOKIE, path="/")
        return response

    # --- pickers ---------------------------------------------------------------------------------

    def radio(name: str, value: str, label: str, checked: bool) -> str:
        on = " checked" if checked else ""
        return (f'<p><label><input type="radio" name="{e(name)}" value="{e(value)}"{on}> {e(label)}</label></p>')

    @app.get("/organizations")
    def organizations(request: Request) -> Response:
        session = signed_in(request)
        return organizations_page(session, None)

    def organizations_page(session: HubSession, said: str | None) -> Response:
        assert session.username is not None
        options = "".join(radio("taxId", o.tax_id, f"{o.name} (Tax ID {o.tax_id})", o.tax_id == session.tax_id)
                          for o in state.directory.organizations_of(session.username))
        return page("Select Organization", message(said) + form("/organizations", options, ("choose-org", "Continue"),
                                                                 csrf=session.csrf, form_id="org-form"), session)

    @app.post("/organizations")
    async def choose_organization(request: Request) -> Response:
        session = signed_in(request)
        data = await request.form()
        assert session.username is not None
        tax_ids = {o.tax_id for o in state.directory.organizations_of(session.username)}
        chosen = str(data.get("taxId") or "")
        if not csrf_ok(session, data) or chosen not in tax_ids:
            return organizations_page(session, v.MSG_CHOOSE_ORG)
        session.tax_id, session.npi = chosen, None
        raise _Redirect("/providers")

    def providers_page(session: HubSession, org: Organization, said: str | None) -> Response:
        options = "".join(radio("npi", p.npi, f"{p.name} - {p.specialty} (NPI {p.npi})", p.npi == session.npi)
                          for p in org.providers)
        return page("Select Provider", message(said) + form("/providers", options, ("choose-provider", "Continue"),
                                                             csrf=session.csrf, form_id="provider-form"), session)

    def chosen_org(session: HubSession) -> Organization:
        org = state.directory.organization(session.tax_id or "")
        if org is None:
            raise _Redirect("/organizations")
        return org

    @app.get("/providers")
    def providers(request: Request) -> Response:
        session = signed_in(request)
        return providers_page(session, chosen_org(session), None)

    @app.post("/providers")
    async def choose_provider(request: Request) -> Response:
        session = signed_in(request)
        org = chosen_org(session)
        data = await request.form()
        chosen = str(data.get("npi") or "")
        if not csrf_ok(session, data) or org.provider(chosen) is None:
            return providers_page(session, org, v.MSG_CHOOSE_PROVIDER)
        session.npi = chosen
        raise _Redirect("/payers")

    @app.get("/payers")
    def payers(request: Request) -> Response:
        session, org = acting(request)
        said = message(v.MSG_NOT_ENROLLED) if request.query_params.get("not_enrolled") else ""
        items = "".join(
            f'<li class="payer" data-payer="{e(p.slug)}" data-payer-id="{e(p.carrier_profile.payer_id)}">'
            f'<span class="payer-name">{e(p.display_name)}</span> '
            f'<a class="eligibility" href="/payers/{e(p.slug)}/search?transaction=eligibility">Eligibility and '
            f'Benefits</a> <a class="claims" href="/payers/{e(p.slug)}/search?transaction=claims">Claim Status</a>'
            "</li>" for p in PAYERS if p.slug in org.payers)
        account_link = (f'<p><a href="{e(state.idp_url)}/account" id="idp-account">Manage your Crossway ID</a>'
                        "</p>")
        return page("Select Payer", said + f'<ul id="payer-list">{items}</ul>' + account_link, session)

    # --- search ----------------------------------------------------------------------------------

    def search_page(session: HubSession, payer: HubPayer, transaction: str, values: dict[str, str],
                    said: str | None) -> Response:
        today = state.calendar.today()
        mode = values.get("searchBy") or "member"
        modes = radio("searchBy", "member", "Member ID and date of birth", mode == "member")
        if payer.name_search:
            modes += radio("searchBy", "name", "Patient name and date of birth", mode == "name")
        fields = field("Member ID", "memberId", values.get("memberId", ""))
        if payer.name_search:
            fields += field("First name", "firstName", values.get("firstName", ""))
            fields += field("Last name", "lastName", values.get("lastName", ""))
        fields += field("Date of birth (MM/DD/YYYY)", "dob", values.get("dob", ""))
        if transaction == "eligibility":
            fields += field("Date of service (MM/DD/YYYY)", "dos", values.get("dos") or v.fmt_date(today))
        else:
            fields += field("Service from (MM/DD/YYYY)", "fromDate",
                            values.get("fromDate") or v.fmt_date(today - timedelta(days=CLAIM_SEARCH_DAYS)))
            fields += field("Service to (MM/DD/YYYY)", "toDate", values.get("toDate") or v.fmt_date(today))
        body = (f'<p id="payer-name" data-payer="{e(payer.slug)}">{e(payer.display_name)} - '
                f"{e(TRANSACTIONS[transaction])}</p>" + message(said)
                + form(f"/payers/{payer.slug}/search", hidden("transaction", transaction) + modes + fields,
                       ("search", "Search"), csrf=session.csrf, form_id="search-form"))
        return page("Patient Search", body, session)

    def transaction_of(text: str | None) -> str:
        return text if text in TRANSACTIONS else "eligibility"

    @app.get("/payers/{slug}/search")
    def search_form(request: Request, slug: str) -> Response:
        session, org = acting(request)
        payer = payer_for(org, slug)
        return search_page(session, payer, transaction_of(request.query_params.get("transaction")), {}, None)

    def no_match(session: HubSession, payer: HubPayer, transaction: str, text: str) -> Response:
        body = (f'<p id="payer-name" data-payer="{e(payer.slug)}">{e(payer.display_name)} - '
                f'{e(TRANSACTIONS[transaction])}</p><p id="no-match">{e(text)}</p>'
                f'<p><a href="/payers/{e(payer.slug)}/search?transaction={e(transaction)}" id="new-search">New '
                "search</a></p>")
        return page("No Patient Found", body, session)

    def member_result(session: HubSession, payer: HubPayer, transaction: str, member_id: str, dob: date,
                      form_values: dict[str, str]) -> Response:
        """The answer for one identified member: eligibility on the date of service, or claims in the range."""
        head = (f'<p id="payer-name" data-payer="{e(payer.slug)}">{e(payer.display_name)} - '
                f"{e(TRANSACTIONS[transaction])}</p>")
        if transaction == "eligibility":
            service_date = _day(form_values.get("dos", "")) or state.calendar.today()
            answer = truth.eligibility(state, payer.slug, EligibilityQuery(member_id=member_id, date_of_birth=dob,
                                                                            service_date=service_date))
            if isinstance(answer, MemberNotFound):
                return no_match(session, payer, transaction, REJECTS[answer.reject_reason])
            data = state.current_dataset().carrier(payer.slug)
            body = results.eligibility_body(answer, payer.layout, data, state.faults.layout_version)
            return page("Eligibility and Benefits", head + body, session)
        start, end = _day(form_values.get("fromDate", "")), _day(form_values.get("toDate", ""))
        assert start is not None and end is not None
        found = truth.claims(state, payer.slug, ClaimQuery(member_id=member_id, date_of_birth=dob, service_from=start,
                                                           service_to=end))
        if isinstance(found, RejectReason):
            return no_match(session, payer, transaction, REJECTS[found])
        criteria = (("Member ID", member_id), ("Date of Birth", v.fmt_date(dob)),
                    ("Service Dates", f"{v.fmt_date(start)} - {v.fmt_date(end)}"))
        return page("Claim Status Results", head + results.claims_body(found.claims, payer.slug, criteria), session)

    def invalid_fields(payer: HubPayer, transaction: str, values: dict[str, str]) -> str | None:
        mode = values.get("searchBy") or "member"
        if mode == "name" and not payer.name_search:
            return v.MSG_NAME_SEARCH_UNSUPPORTED
        if mode == "name" and not (values.get("firstName") and values.get("lastName") and values.get("dob")):
            return v.MSG_REQUIRED_NAME
        if mode != "name" and not (values.get("memberId") and values.get("dob")):
            return v.MSG_REQUIRED_MEMBER
        dates = ("dob", "dos") if transaction == "eligibility" else ("dob", "fromDate", "toDate")
        if any(values.get(k) and _day(values[k]) is None for k in dates):
            return v.MSG_DATE_FORMAT
        if transaction == "claims":
            start, end = _day(values.get("fromDate", "")), _day(values.get("toDate", ""))
            if start is None or end is None:
                return v.MSG_DATE_FORMAT
            if end < start:
                return v.MSG_RANGE_ORDER
        return None

    @app.post("/payers/{slug}/search")
    async def search(request: Request, slug: str) -> Response:
        session, org = acting(request)
        payer = payer_for(org, slug)
        data = await request.form()
        names = ("searchBy", "memberId", "firstName", "lastName", "dob", "dos", "fromDate", "toDate")
        values = {k: str(data.get(k) or "").strip() for k in names}
        transaction = transaction_of(str(data.get("transaction") or ""))
        if not csrf_ok(session, data):
            raise _Redirect(f"/payers/{payer.slug}/search?transaction={transaction}")
        problem = invalid_fields(payer, transaction, values)
        if problem:
            return search_page(session, payer, transaction, values, problem)
        assert session.username is not None
        gate, wait = state.admit_search(session.username)
        if gate == "limit":
            cap = state.settings.daily_search_cap
            return page("Daily Limit Reached", f'<p id="daily-limit">{e(v.MSG_DAILY_LIMIT.format(cap=cap))}</p>',
                        session)
        if gate == "slow":
            response = page("Too Many Requests", f'<p id="too-fast">{e(v.MSG_TOO_FAST)}</p>', session, status=429)
            response.headers["Retry-After"] = str(wait)
            return response
        dob = _day(values["dob"])
        assert dob is not None
        if values["searchBy"] != "name":
            try:
                member_id = normalize_member_id(values["memberId"])
            except ValueError:
                return no_match(session, payer, transaction, v.MSG_NOT_FOUND)
            return member_result(session, payer, transaction, member_id, dob, values)
        candidates = truth.name_candidates(state, payer.slug, values["firstName"], values["lastName"], dob)
        if not candidates:
            return no_match(session, payer, transaction, v.MSG_NOT_FOUND)
        if len(candidates) == 1:
            return member_result(session, payer, transaction, candidates[0].member_id, dob, values)
        token = secrets.token_hex(6)
        session.candidates[token] = {"payer": payer.slug, "transaction": transaction, "dob": dob.isoformat(),
                                     "members": [m.member_id for m in candidates], "form": values}
        while len(session.candidates) > 20:
            session.candidates.pop(next(iter(session.candidates)))
        today = state.calendar.today()
        rows = [(f'<a class="candidate" href="/payers/{e(payer.slug)}/candidates/{token}/{e(m.member_id)}">'
                 f"{e(m.member_id)}</a>", e(f"{m.last_name}, {m.first_name}"), e(v.fmt_date(m.date_of_birth)),
                 e(v.RELATIONSHIPS[m.relationship]),
                 e("Active" if m.coverage_kind(today) == "active" else f"{m.coverage_kind(today).title()} "
                   f"({v.fmt_date(m.effective_date)} - "
                   f"{v.fmt_date(m.termination_date) if m.termination_date else v.NO_VALUE})"))
                for m in candidates]
        body = (f'<p id="payer-name" data-payer="{e(payer.slug)}">{e(payer.display_name)} - '
                f'{e(TRANSACTIONS[transaction])}</p><p id="candidate-count">{len(candidates)} patients match. '
                "Select one.</p>" + table(("Member ID", "Patient Name", "Date of Birth", "Relationship", "Coverage"),
                                          rows, table_id="candidates", raw=True))
        return page("Select Patient", body, session)

    @app.get("/payers/{slug}/candidates/{token}/{member_id}")
    def candidate(request: Request, slug: str, token: str, member_id: str) -> Response:
        session, org = acting(request)
        payer = payer_for(org, slug)
        chosen = session.candidates.get(token)
        if chosen is None or chosen["payer"] != payer.slug or member_id not in chosen["members"]:
            return page("Select Patient", f'<p id="no-match">{e(v.MSG_CANDIDATES_GONE)}</p>', session)
        return member_result(session, payer, chosen["transaction"], member_id, date.fromisoformat(chosen["dob"]),
                             chosen["form"])

    @app.get("/payers/{slug}/claims/{number}")
    def claim_detail(request: Request, slug: str, number: str) -> Response:
        session, org = acting(request)
        payer = payer_for(org, slug)
        found = truth.claim(state, payer.slug, number.strip().upper())
        if found is None:
            return page("Claim Not Found", '<p id="no-match">The claim number was not found.</p>', session, status=404)
        head = f'<p id="payer-name" data-payer="{e(payer.slug)}">{e(payer.display_name)} - Claim Detail</p>'
        return page("Claim Detail", head + results.claim_detail_body(found), session)

    return app
