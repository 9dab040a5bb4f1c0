"""One TOTP clock for a test's runners and the sandbox portals, which jumps where a runner would sleep.

The product never submits a TOTP code twice: `vault.TotpCodes` waits for the next 30-second step when the
current one is used (or nearly over). In tests that wait is dead time, up to half a minute per re-login.
`TotpClock` gives the runners' `TotpCodes` a clock and a sleep: the sleep moves this clock and every
portal's TOTP clock (`PortalState.advance_totp_clock`) forward by the time asked instead of waiting. Both
read real time plus the same offset, so the portal sees the step the runner computed; a code is still used
once per step, and the portal still refuses and counts (`mfa_reused`) a code whose step was used.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterable

from sandbox.portal_state import PortalState
from vault import TotpCodes


class TotpClock:
    def __init__(self, portals: Iterable[PortalState]) -> None:
        self.portals = list(portals)
        self.offset = 0.0
        self._lock = threading.Lock()
        self._read = threading.local()  # this thread's last reading: the time a sleeper slept from
        for portal in self.portals:
            portal.advance_totp_clock(to_offset=0.0)

    def now(self) -> float:
        self._read.value = time.time() + self.offset
        return self._read.value

    async def sleep(self, seconds: float) -> None:
        """Jump to when the sleeper would wake: `seconds` after the clock reading it decided on (TotpCodes reads
        the clock, then sleeps, with no await between). Sleepers from the same moment share one jump, as they
        would share real time: two that wait for the next step move the clock one step, not two."""
        with self._lock:
            wake = getattr(self._read, "value", time.time() + self.offset) + seconds
            self.offset = max(self.offset, wake - time.time())
            for portal in self.portals:
                portal.advance_totp_clock(to_offset=self.offset)
        await asyncio.sleep(0)

    def codes(self) -> TotpCodes:
        """A runner's own code memory (one per runner, as in the product), on this clock."""
        return TotpCodes(clock=self.now, sleep=self.sleep)
