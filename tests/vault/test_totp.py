"""TOTP: never the same time-step twice for an account, never a code about to expire."""

from __future__ import annotations

import asyncio

import pyotp
import pytest
from pydantic import SecretStr

from aggregator.errors import VaultError
from vault import TotpCodes

SEED = SecretStr("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")  # 160 bits
WINDOW = 30 * 57_000_000  # the start of some 30 s window


class FakeTime:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self, now: float) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _codes(fake: FakeTime, **kwargs: float) -> TotpCodes:
    return TotpCodes(clock=fake.clock, sleep=fake.sleep, **kwargs)  # type: ignore[arg-type]


def _expected(at: float) -> str:
    return pyotp.TOTP(SEED.get_secret_value()).at(at)


async def test_fresh_window_gives_the_current_code_at_once() -> None:
    fake = FakeTime(WINDOW + 3)
    assert await _codes(fake).next_code("acct", SEED) == _expected(WINDOW)
    assert fake.sleeps == []


async def test_never_the_same_code_twice() -> None:
    fake = FakeTime(WINDOW + 1)
    totp = _codes(fake)
    first = await totp.next_code("acct", SEED)
    second = await totp.next_code("acct", SEED)  # same window: must wait for the next one
    third = await totp.next_code("acct", SEED)
    assert first == _expected(WINDOW)
    assert second == _expected(WINDOW + 30)
    assert third == _expected(WINDOW + 60)
    assert len({first, second, third}) == 3
    assert len(fake.sleeps) == 2 and all(s > 0 for s in fake.sleeps)


async def test_waits_when_fewer_than_five_seconds_are_left() -> None:
    fake = FakeTime(WINDOW + 27)  # 3 s left
    code = await _codes(fake).next_code("acct", SEED)
    assert code == _expected(WINDOW + 30)
    assert fake.sleeps and 3 <= fake.sleeps[0] < 3.5
    assert WINDOW + 30 <= fake.now < WINDOW + 31


async def test_exactly_five_seconds_left_is_enough() -> None:
    fake = FakeTime(WINDOW + 25)
    assert await _codes(fake).next_code("acct", SEED) == _expected(WINDOW)
    assert fake.sleeps == []


async def test_accounts_are_independent() -> None:
    fake = FakeTime(WINDOW + 1)
    totp = _codes(fake)
    assert await totp.next_code("a", SEED) == await totp.next_code("b", SEED)
    assert fake.sleeps == []


async def test_concurrent_requests_for_one_account_get_different_steps() -> None:
    fake = FakeTime(WINDOW + 1)
    totp = _codes(fake)
    codes = await asyncio.gather(*(totp.next_code("acct", SEED) for _ in range(3)))
    assert sorted(codes) == sorted(_expected(WINDOW + 30 * i) for i in range(3))


async def test_a_clock_going_backwards_does_not_reuse_a_step() -> None:
    fake = FakeTime(WINDOW + 31)
    totp = _codes(fake)
    await totp.next_code("acct", SEED)
    fake.now = WINDOW + 1  # NTP stepped the clock back one window
    assert await totp.next_code("acct", SEED) == _expected(WINDOW + 60)


async def test_bad_seed_is_a_vault_error() -> None:
    with pytest.raises(VaultError, match="not valid base32"):
        await _codes(FakeTime(WINDOW)).next_code("acct", SecretStr("not base32 !!"))


async def test_80_bit_seeds_still_common_on_portals_work() -> None:
    class Reference(pyotp.TOTP):
        min_secret_length_bits = 0

    fake = FakeTime(WINDOW + 1)
    code = await _codes(fake).next_code("acct", SecretStr("JBSWY3DPEHPK3PXP"))
    assert code == Reference("JBSWY3DPEHPK3PXP").at(WINDOW)
