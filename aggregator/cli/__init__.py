"""The `aggregator` command: the root app (aggregator/cli/common.py) with every command group registered on it.

Each module imported below registers its commands on the root app; this package only gathers them (imports run
one way: this package -> command modules -> common). Commands that are not part of the product -- the sandbox
portals and the demo, which live beside `sandbox/` and are not in the wheel -- arrive as plugins through the
`aggregator.commands` entry-point group (see `load_plugins`).

Exit codes (stable, for scripts): 0 found / ok, 1 failed, 2 usage error, 3 member not found,
4 needs attention (adapter could not read the portal safely), 5 needs a human (account or portal
action), 6 retry later (portal unavailable or in maintenance), 7 not available at this carrier, 8 the
portals of one payer disagree (`reconcile`).
"""

from __future__ import annotations

from importlib.metadata import entry_points

import typer

from aggregator.cli import (  # noqa: F401  (they register commands)
    appointments,
    batch,
    canary,
    carriers,
    dev,
    evidence,
    export,
    lookup,
    morning_email,
    reconcile,
    record,
    signin,
    users,
    vault,
    worker,
)
from aggregator.cli.common import EXIT_CODES, app

__all__ = ["EXIT_CODES", "app", "main"]
PLUGIN_GROUP = "aggregator.commands"


def load_plugins(root: typer.Typer) -> None:
    """Call every installed `aggregator.commands` entry point with the root app.

    A plugin whose package is not installed (the wheel ships without the sandbox) is skipped; any other error in
    a plugin is raised, not hidden."""
    for entry in entry_points(group=PLUGIN_GROUP):
        try:
            register = entry.load()
        except ModuleNotFoundError as missing:
            if missing.name and entry.module.split(".")[0] == missing.name.split(".")[0]:
                continue
            raise
        register(root)


load_plugins(app)


def main() -> None:  # pragma: no cover - console entry point
    app()
