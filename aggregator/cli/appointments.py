"""`aggregator appointments ...`: import the practice's appointment list, show a day's appointments.

Exit codes of `import`: 0 every row imported, 1 some rows had problems (the good rows were imported
anyway), 2 the file could not be imported at all (missing columns, bad mapping file, not UTF-8, not a
FHIR Bundle...; nothing written). Problem reasons never repeat a patient's name, DOB or member id.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from rich.console import Console
from rich.table import Table

from aggregator.cli.common import app
from aggregator.settings import Settings, private_dirs

if TYPE_CHECKING:
    from aggregator.overnight.appointments import Format

appointments_app = typer.Typer(help="The practice's appointment list: import it, list a day.", no_args_is_help=True)
app.add_typer(appointments_app, name="appointments")

console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 160)

EXIT_OK, EXIT_ROW_PROBLEMS, EXIT_FILE_ERROR = 0, 1, 2

DataDirOption = Annotated[Path | None, typer.Option("--data-dir", help="state directory (default: AGGREGATOR_DATA_DIR or .)")]


def _settings(data_dir: Path | None) -> Settings:
    from aggregator.errors import AggregatorError
    from aggregator.logging import configure_logging

    settings = Settings(data_dir=data_dir) if data_dir else Settings()
    configure_logging(settings.log_format, settings.log_level)
    try:
        private_dirs(settings)  # the default SQLite database lives there
    except AggregatorError as error:
        raise _fail(error.reason, EXIT_FILE_ERROR) from None
    return settings


def _fail(message: str, code: int) -> typer.Exit:
    err_console.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(code)


@appointments_app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="CSV export (header row) or FHIR R4 Bundle (.json)")],
    mapping: Annotated[Path | None, typer.Option("--mapping", help='JSON or TOML {"their column": "our column"}')] = None,
    file_format: Annotated[str | None, typer.Option("--format", help="csv or fhir (default: by extension/content)")] = None,
    timezone: Annotated[str | None, typer.Option("--timezone", help="practice time zone, e.g. America/New_York: "
                        "times with an offset are converted to it (default: the timezone setting)")] = None,
    show: Annotated[int, typer.Option("--show", help="problems to list (the count is always complete)")] = 200,
    data_dir: DataDirOption = None,
) -> None:
    """Import appointments: good rows are stored, bad rows are listed with row, field and reason."""
    from aggregator.overnight.appointments import AppointmentFileError, import_appointments, load_mapping
    from aggregator.store import Repository

    settings = _settings(data_dir)
    kind: Format | None = None
    if file_format == "csv":
        kind = "csv"
    elif file_format == "fhir":
        kind = "fhir"
    elif file_format is not None:
        raise _fail(f"--format must be csv or fhir, got '{file_format}'", EXIT_FILE_ERROR)
    timezone = timezone or getattr(settings, "timezone", None)  # AGGREGATOR_TIMEZONE, when the setting exists
    try:
        zone = ZoneInfo(timezone) if timezone else None
    except (ZoneInfoNotFoundError, ValueError):
        raise _fail(f"--timezone: unknown time zone '{timezone}' (e.g. America/New_York)", EXIT_FILE_ERROR) from None
    try:
        columns = load_mapping(mapping) if mapping else None
        repository = Repository.open(settings.resolved_database_url)
        report = import_appointments(repository, file, mapping=columns, format=kind,
                                     timezone=zone)
    except AppointmentFileError as error:
        raise _fail(f"{error.reason}; nothing imported", EXIT_FILE_ERROR) from None

    bad_rows = report.rows_with_problems
    console.print(f"{file.name}: {report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
                  f"{bad_rows} rows with problems", highlight=False)
    if not report.problems:
        raise typer.Exit(EXIT_OK)
    fhir = report.format == "fhir"
    table = Table(title="Not imported")
    for header in ("Entry" if fhir else "Row", "Field", "Reason", *(("Resource",) if fhir else ())):
        table.add_column(header)
    for problem in report.problems[:show]:
        where = f"entry[{problem.row}]" if fhir else str(problem.row)
        table.add_row(where, problem.field, problem.reason, *((problem.resource or "",) if fhir else ()))
    console.print(table)
    if len(report.problems) > show:
        console.print(f"... and {len(report.problems) - show} more problems (--show to list more)", highlight=False)
    raise typer.Exit(EXIT_ROW_PROBLEMS)


@appointments_app.command("list")
def list_command(
    day: Annotated[str, typer.Option("--date", help="service date, YYYY-MM-DD")],
    data_dir: DataDirOption = None,
) -> None:
    """The imported appointments of one day, by start time."""
    from aggregator.store import Repository
    from aggregator.store.appointments import appointments_on

    settings = _settings(data_dir)
    try:
        service_date = date.fromisoformat(day)
    except ValueError:
        raise _fail(f"--date must be a date as YYYY-MM-DD, got '{day}'", EXIT_FILE_ERROR) from None
    rows = appointments_on(Repository.open(settings.resolved_database_url), service_date)
    if not rows:
        console.print(f"No appointments on {service_date}.", highlight=False)
        return
    table = Table(title=f"Appointments on {service_date} ({len(rows)})")
    for header in ("Time", "Appointment", "Patient", "DOB", "Carrier", "Member ID", "Procedures", "Service type"):
        table.add_column(header)
    for row in rows:
        table.add_row(row.starts_at.strftime("%H:%M"), row.id, f"{row.patient_last_name}, {row.patient_first_name}",
                      str(row.patient_dob), row.carrier, row.member_id, (row.procedure_codes or "").replace(";", " "),
                      row.service_type or "")
    console.print(table)
