"""TOTP codes that a portal will accept: never the same code twice, never one about to expire.

Portals reject a code that was already used (replay protection) and a code typed in its last seconds
may expire before the form is submitted, which counts as a failed login. So we remember the last
time-step used per account and wait for a fresh window when needed. The memory is per process:
the runner guarantees one active job per account, which keeps it sufficient.
"""

from __future__ import annotations

import asyncio
import binascii
import time
from collections.abc import Awaitable, Callable

import pyotp
from pydantic import SecretStr

from aggregator.errors import VaultError


class _PortalTotp(pyotp.TOTP):
    # pyotp refuses seeds under 112 bits by default (NIST advice for *issuers*). We do not choose the
    # seed, the portal does, and 80-bit (16-character) seeds are still common; the vault refuses less.
    min_secret_length_bits = 80


class TotpCodes:
    def __init__(
        self,
        *,
        min_seconds_left: float = 5.0,
        interval: int = 30,
        digits: int = 6,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        if not 0 <= min_seconds_left < interval:
            raise ValueError("min_seconds_left must be within the interval")
        self.min_seconds_left = min_seconds_left
        self.interval = interval
        self.digits = digits
        self._clock = clock
        self._sleep = sleep
        self._last_counter: dict[str, int] = {}
        self._locks: dict[str, asyncio.Lock] = {}  # two logins of one account must not race for a code

    async def next_code(self, account_id: str, secret: SecretStr) -> str:
        try:
            totp = _PortalTotp(secret.get_secret_value(), digits=self.digits, interval=self.interval)
        except (binascii.Error, ValueError):
            raise VaultError("the stored TOTP seed is not valid base32; update it in the vault") from None
        async with self._locks.setdefault(account_id, asyncio.Lock()):
            while True:
                now = self._clock()
                counter = int(now // self.interval)
                seconds_left = self.interval * (counter + 1) - now
                if counter > self._last_counter.get(account_id, -1) and seconds_left >= self.min_seconds_left:
                    self._last_counter[account_id] = counter
                    return totp.at(counter * self.interval)
                # Sleep into the next window (a hair past its start, so we do not land a tick early).
                await self._sleep(seconds_left + 0.05)
