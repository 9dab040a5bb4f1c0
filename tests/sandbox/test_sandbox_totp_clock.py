"""The portal's TOTP clock can be moved forward (tests skip the 30-second wait for a fresh code), and a used
step stays used: moving the clock never lets a code through twice."""

from __future__ import annotations

import asyncio

import pyotp

from sandbox.portal_state import PortalState
from tests.e2e.totp_clock import TotpClock
from tests.sandbox.portal_client import Clock


def _code_at(state: PortalState, username: str, at: float) -> str:
    account = state.account(username)
    assert account is not None and account.totp_secret
    return pyotp.TOTP(account.totp_secret).at(int(at))


def test_codes_are_checked_against_the_moved_clock_and_a_used_step_stays_used(state, account, clock: Clock) -> None:
    ahead = _code_at(state, account.username, clock.now + 60)
    assert state.check_totp(account.username, ahead) == "invalid"  # two steps ahead of the portal
    assert state.advance_totp_clock(to_offset=60) == 60
    assert state.check_totp(account.username, ahead) == "ok"
    assert state.check_totp(account.username, ahead) == "reused"
    now = _code_at(state, account.username, clock.now)  # the step the portal's own clock is in: older, refused
    assert state.check_totp(account.username, now) == "invalid"
    counters = state.stats()["accounts"][account.username]
    assert (counters["mfa_reused"], counters["mfa_failures"]) == (1, 2)


def test_the_clock_only_moves_forward_and_a_reset_puts_it_back(state: PortalState) -> None:
    state.advance_totp_clock(to_offset=90)
    assert state.advance_totp_clock(to_offset=30) == 90
    state.reset()
    assert state.totp_offset == 0


async def test_the_control_api_reads_and_moves_the_totp_clock(portal) -> None:  # type: ignore[no-untyped-def]
    assert (await portal.http.get("/_sandbox/totp-clock")).json() == {"offset": 0}
    moved = await portal.http.post("/_sandbox/totp-clock", json={"offset": 31.5})
    assert moved.status_code == 200 and moved.json() == {"offset": 31.5}
    for bad in ({"offset": -1}, {"offset": "30"}, {"offset": True}, {}, [30]):
        refused = await portal.http.post("/_sandbox/totp-clock", json=bad)
        assert refused.status_code == 422, bad
    assert (await portal.http.get("/_sandbox/totp-clock")).json() == {"offset": 31.5}


async def test_sleepers_from_one_moment_share_one_jump(state: PortalState) -> None:
    """Two runners that both wait for the next step move the shared clock one step, not two (a third runner's
    code in flight stays within the portal's one step of drift)."""
    totp = TotpClock([state])
    start = totp.now()
    first, second = totp.now(), totp.now()
    await asyncio.gather(totp.sleep(30 - first % 30), totp.sleep(30 - second % 30))
    assert 0 < totp.now() - start < 31
    assert state.totp_offset == totp.offset
