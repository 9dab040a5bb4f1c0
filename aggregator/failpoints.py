"""Crash points for the crash tests: `reach(name)` ends the process at once when the environment variable
`AGGREGATOR_FAILPOINT` equals `name`, and does nothing otherwise.

The process ends with `os._exit(86)`: no `finally`, no atexit hook, no flushed buffer, no closed browser,
as a power cut or a killed worker would. A test runs a command in a subprocess with the variable set, sees
exit code 86, and then checks that the next run recovers from what was left (e.g. a password change cut
between the vault and the portal: aggregator/password_change.py names its points "password:pending",
"password:submitted" and "password:accepted").

Never set in production; the check is one environment lookup.
"""

from __future__ import annotations

import os

ENV = "AGGREGATOR_FAILPOINT"
EXIT_CODE = 86


def reach(name: str) -> None:
    """End the process now (exit code 86, no cleanup) when the crash test asked for this point."""
    if os.environ.get(ENV) == name:
        os._exit(EXIT_CODE)
