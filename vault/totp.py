"""TOTP codes that a portal will accept: never the same code twice, never one about to expire.

Portals reject a code that was already used (replay protection) and a code typed in its last seconds
may expire before the form is submitted, which counts as a failed login. So we remember the last
time-step used per account and wait for a fresh window when needed.

Where that memory lives is a `UsedTotpSteps`: `InProcessTotpSteps` (the default) is enough while one
process logs into an account; a vault in PostgreSQL (vault/database.py) shares it between all workers, so
two machines never submit the same code (the later one waits for the next step, as a second login in one
process always did).
"""

from __future__ import annotations

import asyncio
import binascii
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

import pyotp
from pydantic import SecretStr

from aggregator.errors import VaultError


class _PortalTotp(pyotp.TOTP):
    # pyotp refuses seeds under 112 bits by default (NIST advice for *issuers*). We do not choose the
    # seed, the portal does, and 80-bit (16-character) seeds are still common; the vault refuses less.
    min_secret_length_bits = 80


class UsedTotpSteps(Protocol):
    """The last TOTP time-step used per account."""

    async def claim(self, account_id: str, step: int) -> bool:
        """Atomically: when `step` is later than the last step used for the account, record it and say
        True; otherwise False (that code, or a later one, was already used)."""
        ...


class InProcessTotpSteps:
    """This process's memory only: right while one process logs into each account."""

    def __init__(self) -> None:
        self._last_step: dict[str, int] = {}

    async def claim(self, account_id: str, step: int) -> bool:
        if step <= self._last_step.get(account_id, -1):
            return False
        self._last_step[account_id] = step
        return True


class TotpCodes:
    def __init__(
        self,
        *,
        min_seconds_left: float = 5.0,
        interval: int = 30,
        digits: int = 6,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        used_steps: UsedTotpSteps | None = None,
    ) -> None:
        if not 0 <= min_seconds_left < interval:
            raise ValueError("min_seconds_left must be within the interval")
        self.min_seconds_left = min_seconds_left
        self.interval = interval
        self.digits = digits
        self._clock = clock
        self._sleep = sleep
        self.used_steps: UsedTotpSteps = used_steps or InProcessTotpSteps()
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
                # Too late in this step, or its code already used (here or by another worker): next step.
                if seconds_left >= self.min_seconds_left and await self.used_steps.claim(account_id, counter):
                    return totp.at(counter * self.interval)
                # Sleep into the next window (a hair past its start, so we do not land a tick early).
                await self._sleep(seconds_left + 0.05)
