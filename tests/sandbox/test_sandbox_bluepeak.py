"""BluePeak sandbox portal over its JSON API (httpx over ASGI): login, terms, one session per account,
family search, name + DOB search, faults."""

from __future__ import annotations

import httpx
import pyotp
import pytest

from sandbox.bluepeak import create_app
from sandbox.bluepeak import vocabulary as v
from sandbox.portal_state import PortalState


@pytest.fixture
def bp_state(dataset, clock) -> PortalState:
    return PortalState(dataset, "bluepeak", clock=clock)


def client(state: PortalState) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(state.dataset, state)),
                             base_url="http://bluepeak.test")


async def sign_in(http: httpx.AsyncClient, state: PortalState, account, clock, step: int = 0) -> None:  # type: ignore[no-untyped-def]
    assert (await http.post("/api/auth/login", json={"username": account.username, "password": account.password})).status_code == 200
    code = pyotp.TOTP(account.totp_secret).at(int(clock.now) + 30 * step)
    assert (await http.post("/api/auth/mfa", json={"code": code})).json() == {"next": "home"}


async def test_login_terms_then_data_and_a_second_login_ends_the_first_session(bp_state, clock):
    account = bp_state.data.accounts[0]
    member = next(m for m in bp_state.data.members.values() if len(bp_state.data.household(m)) > 2)
    params = {"memberId": member.member_id, "dateOfBirth": member.date_of_birth.isoformat()}
    async with client(bp_state) as first, client(bp_state) as second:
        await sign_in(first, bp_state, account, clock)
        refused = await first.get("/api/members/search", params=params)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "TERMS_REQUIRED"
        assert (await first.post("/api/terms/accept", json={"version": v.TERMS_VERSION})).status_code == 200
        found = (await first.get("/api/members/search", params=params)).json()
        assert [c["memberId"] for c in found["candidates"]] == [m.member_id for m in bp_state.data.household(member)]
        await sign_in(second, bp_state, account, clock, step=1)
        ended = await first.get("/api/session")
        assert ended.status_code == 401 and ended.json()["error"]["code"] == "SESSION_ENDED"
    assert bp_state.stats()["accounts"][account.username]["sessions_ended_by_new_login"] == 1


async def test_refusals_follow_ground_truth_and_name_search_lists_matches(bp_state, clock):
    account = bp_state.data.accounts[1]
    member = next(iter(bp_state.data.members.values()))
    async with client(bp_state) as http:
        await sign_in(http, bp_state, account, clock)
        await http.post("/api/terms/accept", json={"version": v.TERMS_VERSION})
        for params, code in (({"memberId": bp_state.data.not_found_ids[0]}, v.ERROR_NOT_FOUND),
                             ({"memberId": member.member_id, "lastName": "Nobody"}, v.ERROR_NAME)):
            answer = await http.get("/api/members/search", params={"dateOfBirth": member.date_of_birth.isoformat(), **params})
            assert answer.status_code == 404 and answer.json()["error"]["code"] == code
        wrong = await http.get("/api/members/search", params={"memberId": member.member_id, "dateOfBirth": "1900-01-01"})
        assert wrong.json()["error"]["code"] == v.ERROR_DOB
        by_name = await http.get("/api/members/search", params={"lastName": member.last_name.upper(),
                                                                "dateOfBirth": member.date_of_birth.isoformat()})
        assert member.member_id in [c["memberId"] for c in by_name.json()["candidates"]]


async def test_faults_answer_the_api_in_json_and_the_shell_in_html(bp_state, clock):
    async with client(bp_state) as http:
        bp_state.update_faults({"maintenance": True})
        assert (await http.get("/api/session")).json()["error"]["code"] == "MAINTENANCE"
        shell = await http.get("/app/home")
        assert shell.status_code == 200 and "Scheduled maintenance" in shell.text
        bp_state.update_faults({"maintenance": False, "rate_limit": 1})
        await http.get("/app/home")
        limited = await http.get("/api/session")
        assert limited.status_code == 429 and limited.headers["Retry-After"] == "60"
