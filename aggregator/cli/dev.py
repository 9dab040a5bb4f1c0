"""`aggregator dev ...`: tools for people who develop this product. `new-carrier` generates a working
skeleton of a new carrier (aggregator/dev/scaffold.py; docs/adding-a-carrier.md walks on from there)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from aggregator.cli.common import app, console, fail

dev_app = typer.Typer(help="Developer tools: generate a new carrier's skeleton.", no_args_is_help=True)
app.add_typer(dev_app, name="dev")


@dev_app.command("new-carrier")
def new_carrier_command(
    slug: Annotated[str, typer.Argument(help="the carrier's slug: lowercase letters, digits, '_' (e.g. acme)")],
    name: Annotated[str | None, typer.Option("--name", help="display name (default: from the slug)")] = None,
    capabilities: Annotated[str, typer.Option(
        "--capabilities", help="comma-separated; the skeleton implements eligibility")] = "eligibility",
    root: Annotated[Path | None, typer.Option(
        "--root", help="source checkout to write into (default: the one holding this package, else the current "
                       "directory)")] = None,
    record: Annotated[bool, typer.Option(
        "--record/--no-record", help="record the new carrier's pages from its sandbox portal with Chromium "
                                     "(`aggregator sandbox record-pages`) once the files are written")] = True,
) -> None:
    """Generate a working skeleton of a new carrier in its four folders (adapter, sandbox portal, tests,
    recorded pages): its own tests and the whole suite pass at once. Only new files, never an edit."""
    from aggregator.dev.scaffold import ScaffoldError, find_root, new_carrier, parse_capabilities

    try:
        where = (root.resolve() if root else find_root())
        written = new_carrier(slug, where, name=name, capabilities=parse_capabilities(capabilities))
    except ScaffoldError as error:
        raise fail(str(error), 2) from None
    for path in written:
        console.print(f"  created {path.relative_to(where)}", highlight=False)
    console.print(f"carrier '{slug}': {len(written)} files in aggregator/scrapers/{slug}/, sandbox/{slug}/ and "
                  f"tests/carriers/{slug}/", highlight=False)
    again = f"aggregator sandbox record-pages --carrier {slug}"
    if not record:
        console.print(f"next: record its pages (`{again}`), then `make test`; see docs/adding-a-carrier.md",
                      highlight=False)
        return
    console.print(f"recording its pages into tests/recorded_pages/{slug}/ (sandbox portal + Chromium) ...",
                  highlight=False)
    # A child process started in the checkout, so it imports the carrier just written (this process may have
    # imported the packages before they existed), through the sandbox's own command.
    done = subprocess.run([sys.executable, "-m", "aggregator", "sandbox", "record-pages", "--carrier", slug,
                           "--out", "tests/recorded_pages"], cwd=where, check=False)
    if done.returncode != 0:
        raise fail(f"recording failed (above); the generated files are kept: fix and run `{again}`", 1)
    console.print(f"done: run `pytest tests/carriers/{slug}`, then `make test`; see docs/adding-a-carrier.md",
                  highlight=False)
