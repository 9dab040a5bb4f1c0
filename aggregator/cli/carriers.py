"""`aggregator carriers`: the coverage matrix of every registered carrier (a table, `--json`, or `--markdown`,
which is docs/carriers.md). Read from the manifests only; no portal is contacted."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from aggregator.cli.common import app, console, fail
from aggregator.scrapers.framework.manifest_matrix import CarrierCoverage, coverage_matrix, matrix_markdown


@app.command("carriers")
def carriers(
    as_json: Annotated[bool, typer.Option("--json", help="print the matrix as JSON (one object per carrier)")] = False,
    markdown: Annotated[bool, typer.Option("--markdown", help="print docs/carriers.md (generated from the manifests)")] = False,
) -> None:
    """What each carrier's portal answers: capabilities, search modes, sign-in and MFA, limits and caps, and
    what it does not show, with the call-the-payer checklist."""
    from aggregator.scrapers.registry import all_adapters

    if as_json and markdown:
        raise fail("choose one of --json and --markdown", 2)
    manifests = [adapter.manifest for adapter in all_adapters()]
    if markdown:
        # Plain print: Rich would wrap long lines and read [brackets] as markup.
        print(matrix_markdown(manifests), end="")
        return
    rows = coverage_matrix(manifests)
    if as_json:
        print(json.dumps([row.model_dump(mode="json") for row in rows], indent=2))
        return
    console.print(_table(rows))


def _table(rows: tuple[CarrierCoverage, ...]) -> Table:
    table = Table(title="Carriers: what each portal answers", show_lines=True)
    for column in ("Carrier", "Capabilities", "Search modes", "Sign-in / MFA", "Limits and caps",
                   "Not shown: call the payer"):
        table.add_column(column, overflow="fold")
    for row in rows:
        capabilities = [f"[green]{c}[/green]" for c in row.capabilities]
        capabilities += [f"[red]{c}: not available[/red]" for c in row.not_available]
        limits = [f"{row.limits.max_concurrent_accounts} accounts at once, "
                  f"{row.limits.max_sessions_per_account} session each",
                  f"session kept {row.limits.session_lifetime_minutes} min"]
        limits += [f"maintenance {'/'.join(w.weekdays) if len(w.weekdays) < 7 else 'daily'} {w.start}-{w.end} "
                   f"{w.timezone}" for w in row.maintenance_windows]
        limits += [f"{c.label}: {c.value}" for c in row.caps]
        payers = "".join(f"\n[dim]payer: {escape(p)}[/dim]" for p in row.payers)
        table.add_row(
            f"{row.display_name}\n[dim]{row.slug} ({row.status})[/dim]{payers}",
            "\n".join(capabilities),
            "\n".join(m.mode for m in row.search_modes),
            "\n".join([row.login.kind, *(f"MFA: {m.kind}" for m in row.login.mfa)]),
            "\n".join(limits),
            "\n".join(f"{escape(g.missing)}\n[dim]-> {escape(g.text)}[/dim]" for g in row.gaps) or "[dim]nothing declared[/dim]",
        )
    return table
