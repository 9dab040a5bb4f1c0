"""Form-filling helpers for Ridgeline's authorization and claim pages (httpx over ASGI, for tests)."""

from __future__ import annotations

from datetime import date

import httpx

from aggregator.models.authorization import AuthorizationList, AuthorizationQuery
from aggregator.models.claims import ClaimList, ClaimQuery
from tests.sandbox.portal_client import PortalClient
from tests.sandbox.ridgeline_activity_reference import (
    ResultsPage,
    parse_auth_detail,
    parse_auth_list,
    parse_claim_detail,
    parse_claim_results,
)


def fmt(day: date | str) -> str:
    return day.strftime("%m/%d/%Y") if isinstance(day, date) else day


async def search_authorizations(portal: PortalClient, member_id: str, dob: date | str) -> httpx.Response:
    form = await portal.http.get("/authorizations")
    return await portal.http.post("/authorizations", data={"memberId": member_id, "dob": fmt(dob),
                                                           "csrfToken": portal.csrf(form)})


async def search_claims(portal: PortalClient, *, claim_number: str = "", member_id: str = "", dob: date | str = "",
                        service_from: date | str = "", service_to: date | str = "") -> httpx.Response:
    form = await portal.http.get("/claims")
    return await portal.http.post("/claims", data={
        "claimNumber": claim_number, "memberId": member_id, "dob": fmt(dob), "fromDate": fmt(service_from),
        "toDate": fmt(service_to), "csrfToken": portal.csrf(form)})


async def read_authorizations(portal: PortalClient, member_id: str, dob: date,
                              carrier: str = "ridgeline") -> AuthorizationList:
    """Search, then open every listed authorization's detail page: the list as the portal shows it."""
    page = await search_authorizations(portal, member_id, dob)
    assert "<title>Ridgeline Mutual - Authorizations</title>" in page.text, page.text
    details = []
    for row in parse_auth_list(page.text):
        detail = await portal.http.get(row.href)
        assert detail.status_code == 200
        auth = parse_auth_detail(detail.text, carrier)
        assert (auth.auth_number, auth.status, auth.service_type, auth.effective_date, auth.expiration_date) == \
            (row.number, row.status, row.service, row.effective, row.expires), "list and detail disagree"
        details.append(auth)
    return AuthorizationList(carrier=carrier, query=AuthorizationQuery(member_id=member_id, date_of_birth=dob),
                             authorizations=tuple(details))


async def read_claims(portal: PortalClient, query: ClaimQuery,
                      carrier: str = "ridgeline") -> tuple[ClaimList, list[ResultsPage]]:
    """Search, follow every "Next >" page and open every claim's detail page."""
    if query.claim_number:
        page = await search_claims(portal, claim_number=query.claim_number)
    else:
        assert query.member_id and query.date_of_birth and query.service_from and query.service_to
        page = await search_claims(portal, member_id=query.member_id, dob=query.date_of_birth,
                                   service_from=query.service_from, service_to=query.service_to)
    assert "<title>Ridgeline Mutual - Claim Status Results</title>" in page.text, page.text
    pages = [parse_claim_results(page.text)]
    while pages[-1].next_href:
        page = await portal.http.get(pages[-1].next_href)
        pages.append(parse_claim_results(page.text))
    claims = []
    for row in (row for p in pages for row in p.rows):
        detail = parse_claim_detail((await portal.http.get(row.href)).text, carrier)
        assert (detail.payer_claim_number, detail.provider_account_number, detail.service_from, detail.service_to,
                detail.billed, detail.paid, detail.status_category) == \
            (row.number, row.account, row.service_from, row.service_to, row.billed, row.paid, row.status)
        claims.append(detail)
    return ClaimList(carrier=carrier, query=query, claims=tuple(claims)), pages
