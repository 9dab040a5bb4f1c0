"""`aggregator appointments import|list` and `aggregator sandbox appointments`: summary, problem table, exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from aggregator.cli import app
from aggregator.overnight.appointments import COLUMNS

runner = CliRunner()
GOOD = "A1,2026-11-30T09:15,Okafor,Grace,1980-02-03,ridgeline,RM123456789,1234567893,99213,98"


def run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def data_dir(tmp_path: Path) -> str:
    return str(tmp_path / "data")


def test_sandbox_list_imports_cleanly_then_unchanged_then_lists(tmp_path, data_dir):
    out = tmp_path / "list.csv"
    written = run("sandbox", "appointments", "--date", "2026-11-30", "--count", "25", "--out", str(out),
                  "--carrier", "ridgeline")
    assert written.exit_code == 0, written.output
    assert "wrote 25 appointment(s) on 2026-11-30" in written.output
    first = run("appointments", "import", str(out), "--data-dir", data_dir)
    assert first.exit_code == 0, first.output
    assert "list.csv: 25 added, 0 updated, 0 unchanged, 0 rows with problems" in first.output
    again = run("appointments", "import", str(out), "--data-dir", data_dir)
    assert again.exit_code == 0 and "0 added, 0 updated, 25 unchanged, 0 rows with problems" in again.output
    listed = run("appointments", "list", "--date", "2026-11-30", "--data-dir", data_dir)
    assert listed.exit_code == 0 and "Appointments on 2026-11-30 (25)" in listed.output
    assert "A261130-0001" in listed.output and "A261130-0025" in listed.output
    empty = run("appointments", "list", "--date", "2026-12-01", "--data-dir", data_dir)
    assert empty.exit_code == 0 and "No appointments on 2026-12-01." in empty.output


def test_sandbox_fhir_bundle_imports(tmp_path, data_dir):
    out = tmp_path / "list.json"
    assert run("sandbox", "appointments", "--date", "2026-11-30", "--count", "10", "--out", str(out), "--format",
               "fhir", "--carrier", "ridgeline").exit_code == 0
    result = run("appointments", "import", str(out), "--data-dir", data_dir)
    assert result.exit_code == 0, result.output
    assert "10 added" in result.output


def test_rows_with_problems_exit_1_and_are_listed_without_patient_data(tmp_path, data_dir):
    path = tmp_path / "day.csv"
    bad_dob = GOOD.replace("A1,", "A2,").replace("1980-02-03", "1980-02-30").replace("RM123456789", "RM555000111")
    bad_carrier = GOOD.replace("A1,", "A3,").replace("ridgeline", "no-such-carrier")
    path.write_text("\n".join([",".join(COLUMNS), GOOD, bad_dob, bad_carrier, GOOD]) + "\n")
    result = run("appointments", "import", str(path), "--data-dir", data_dir)
    assert result.exit_code == 1
    assert "day.csv: 1 added, 0 updated, 0 unchanged, 3 rows with problems" in result.output
    cells = [[cell.strip() for cell in line.strip("│ ").split("│")] for line in result.output.splitlines()
             if line.startswith("│")]
    assert cells == [["3", "patient_dob", "not a real calendar date"],
                     ["4", "carrier", cells[1][2]],
                     ["5", "appointment_id", "duplicate of row 2"]]
    assert cells[1][2].startswith("unknown carrier 'no-such-carrier' (known: ")
    assert "1980-02-30" not in result.output and "RM555000111" not in result.output


def test_file_level_errors_exit_2_and_import_nothing(tmp_path, data_dir):
    path = tmp_path / "day.csv"
    path.write_text("appointment_id,patient_dob\n" + GOOD + "\n")
    result = run("appointments", "import", str(path), "--data-dir", data_dir)
    assert result.exit_code == 2
    assert "missing required column(s): appointment_start" in result.output and "nothing imported" in result.output
    mapping = tmp_path / "map.json"
    mapping.write_text('{"Member #": "member_number"}')
    path.write_text(",".join(COLUMNS) + "\n" + GOOD + "\n")
    bad_mapping = run("appointments", "import", str(path), "--mapping", str(mapping), "--data-dir", data_dir)
    assert bad_mapping.exit_code == 2 and "unknown column(s): member_number" in bad_mapping.output
    assert run("appointments", "import", str(path), "--timezone", "Mars/Olympus", "--data-dir", data_dir).exit_code == 2
    assert run("appointments", "import", str(tmp_path / "missing.csv"), "--data-dir", data_dir).exit_code == 2
    listed = run("appointments", "list", "--date", "2026-11-30", "--data-dir", data_dir)
    assert "No appointments on 2026-11-30." in listed.output


def test_mapping_and_timezone_options(tmp_path, data_dir):
    path = tmp_path / "export.csv"
    header = "Appt #,Start,Last,First,DOB,Insurance,Subscriber,NPI,CPT,STC"
    path.write_text(header + "\n" + GOOD.replace("2026-11-30T09:15", "2026-11-30T14:15Z") + "\n")
    mapping = tmp_path / "map.toml"
    mapping.write_text("\n".join(f'"{theirs}" = "{ours}"' for theirs, ours in zip(header.split(","), COLUMNS, strict=True)))
    result = run("appointments", "import", str(path), "--mapping", str(mapping), "--timezone", "America/New_York",
                 "--data-dir", data_dir)
    assert result.exit_code == 0, result.output
    listed = run("appointments", "list", "--date", "2026-11-30", "--data-dir", data_dir)
    assert "09:15" in listed.output and "A1" in listed.output
