"""Crossway: the sandbox's multi-payer hub and its identity provider Crossway ID (README.md in this folder).

Not a carrier folder (no `profile.py`): the hub is a portal that serves several payers, so
`sandbox.carriers.profiles()` does not list it and no carrier-parametrized test runs an adapter for it.
"""

from sandbox.crossway.payers import PAYERS, HubPayer, crossway_dataset
from sandbox.crossway.server import CrosswayHandle, start_crossway
from sandbox.crossway.world import Crossway, build_crossway

__all__ = ["PAYERS", "Crossway", "CrosswayHandle", "HubPayer", "build_crossway", "crossway_dataset", "start_crossway"]
