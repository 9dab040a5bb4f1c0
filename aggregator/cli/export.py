"""`aggregator export --date D --format fhir|x12-json|csv [--out FILE]`: the day's answers for other systems.

Exit codes (as every command's, aggregator/cli/__init__.py): 0 written; 1 nothing to export for that date
(the message says why); 2 usage error (bad date, unknown format, an --out that cannot be written).
Without --out the export goes to stdout; with it, to FILE, made 0600 and replaced atomically (write to a
temporary file beside it, then rename), so a reader never sees half an export.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from aggregator.cli.common import DataDirOption, app, err_console, fail, load_settings, parse_iso_date

FORMAT_HELP = "fhir (FHIR R4 Bundle), x12-json (271-shaped JSON) or csv (the worklist)"


@app.command("export")
def export(
    day: Annotated[str, typer.Option("--date", help="appointment date, YYYY-MM-DD")],
    format_name: Annotated[str, typer.Option("--format", help=FORMAT_HELP)] = "fhir",
    out: Annotated[Path | None, typer.Option("--out", help="write to this file (0600) instead of stdout")] = None,
    base_url: Annotated[str, typer.Option(
        "--base-url", help="the web app's address (https://desk.example.org), for absolute evidence links in FHIR; "
                           "default: links relative to it")] = "",
    data_dir: DataDirOption = None,
) -> None:
    """The day's answers as FHIR, 271-shaped JSON or CSV (docs/exports.md)."""
    from aggregator.evidence_files import EvidenceStoreMisconfigured, EvidenceStoreUnavailable, evidence_files
    from aggregator.exports.formats import FORMATS, NothingToExport, export_day
    from aggregator.store import Repository

    target = parse_iso_date(day, "--date")
    if format_name not in FORMATS:
        raise fail(f"--format must be one of {', '.join(FORMATS)}, got '{format_name}'", 2)
    if base_url and not base_url.startswith(("https://", "http://")):
        raise fail(f"--base-url must start with https:// or http://, got '{base_url}'", 2)
    if out is not None and out.is_dir():
        raise fail(f"--out {out} is a directory; give a file name", 2)
    settings = load_settings(data_dir)
    repository = Repository.open(settings.resolved_database_url)
    try:
        result = export_day(repository, target, format_name, timezone=settings.timezone,
                            files=evidence_files(settings), base_url=base_url)
    except NothingToExport as empty:
        raise fail(str(empty), 1) from None
    except (EvidenceStoreUnavailable, EvidenceStoreMisconfigured) as error:  # FHIR hashes the stored files
        raise fail(f"cannot read the evidence store: {error.reason}", 2) from None
    if out is None:
        typer.echo(result.content, nl=False)
        return
    try:
        write_private(out, result.content.encode("utf-8"))
    except OSError as error:
        raise fail(f"cannot write {out}: {error.strerror}", 2) from None
    err_console.print(f"wrote {result.count} {'rows' if format_name == 'csv' else 'answers'} for {target} "
                      f"as {format_name} to {out}", highlight=False)


def write_private(path: Path, data: bytes) -> None:
    """Owner-only (0600) and atomic: a temporary file in the same folder, synced, then renamed over `path`."""
    fd, tmp = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".", prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)  # mkstemp makes it 0600 already; said again because the file holds PHI
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
