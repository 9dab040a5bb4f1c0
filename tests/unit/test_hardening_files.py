"""Issue 12 item 2: the data directory is its owner's alone (0700, files 0600) whatever the umask, and a
directory other users can read or write is refused with a one-line fix."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aggregator.cli import app
from aggregator.cli.vault import vault_app
from aggregator.store import Repository

LIST = ("appointment_id,appointment_start,patient_last_name,patient_first_name,patient_dob,carrier,member_id\n"
        "A1,2026-11-30T09:15,Okafor,Grace,1980-02-03,ridgeline,RM123456789\n")


@pytest.fixture
def open_umask():
    """The usual shell umask, under which files come out 0644 and folders 0755 unless the product says otherwise."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_cli_creates_the_data_dir_0700_and_the_database_files_0600(tmp_path: Path, open_umask):
    appointments = tmp_path / "day.csv"
    appointments.write_text(LIST)
    data = tmp_path / "new" / "data"
    result = CliRunner().invoke(app, ["appointments", "import", str(appointments), "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    listed = CliRunner().invoke(app, ["worklist", "--date", "2026-11-30", "--data-dir", str(data)])
    assert listed.exit_code == 0, listed.output
    assert mode(data) == 0o700
    files = [p for p in data.rglob("*") if p.is_file()]
    assert data / "aggregator.db" in files
    assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}
    assert os.umask(0o022) == 0o022  # the in-process CLI gave the caller's umask back


def test_repository_open_makes_sqlite_files_owner_only_even_outside_the_cli(tmp_path: Path, open_umask):
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    repository = Repository.open(f"sqlite:///{data / 'aggregator.db'}")
    repository.lookups()
    side_files = [data / "aggregator.db-wal", data / "aggregator.db-shm"]
    assert mode(data / "aggregator.db") == 0o600
    assert all(mode(p) == 0o600 for p in side_files if p.exists())


def test_a_database_an_older_version_left_world_readable_is_closed(tmp_path: Path, open_umask):
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    Repository.open(f"sqlite:///{data / 'aggregator.db'}").engine.dispose()
    (data / "aggregator.db").chmod(0o644)
    Repository.open(f"sqlite:///{data / 'aggregator.db'}").lookups()
    assert mode(data / "aggregator.db") == 0o600


@pytest.mark.parametrize("loose", [0o755, 0o750, 0o707, 0o770])
def test_a_data_dir_others_can_use_is_refused_with_a_one_line_fix(tmp_path: Path, loose: int):
    data = tmp_path / "shared"
    data.mkdir()
    data.chmod(loose)
    for command in (["worklist", "--date", "2026-11-30"], ["appointments", "list", "--date", "2026-11-30"],
                    ["users", "list"]):
        result = CliRunner().invoke(app, [*command, "--data-dir", str(data)])
        assert result.exit_code == 2, (command, result.output)
        message = " ".join(result.output.split())
        assert f"chmod 700 {data}" in message, message
        assert "Traceback" not in result.output
    vault = CliRunner().invoke(vault_app, ["list", "--data-dir", str(data)])
    assert vault.exit_code == 1 and f"chmod 700 {data}" in " ".join(vault.output.split())
    assert not (data / "aggregator.db").exists()  # nothing was written into it
    assert mode(data) == loose  # and the product did not change it behind the user's back


def test_demo_closes_its_own_folder_made_by_an_older_version(tmp_path: Path, monkeypatch):
    import sandbox.demo

    seen = {}
    monkeypatch.setattr(sandbox.demo, "run_demo", lambda settings, **_: seen.setdefault("dir", settings.data_dir) and 0)
    data = tmp_path / "demo-data"
    data.mkdir()
    data.chmod(0o755)
    result = CliRunner().invoke(app, ["demo", "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    assert mode(data) == 0o700 and seen["dir"] == data


def test_an_evidence_folder_elsewhere_that_others_can_read_is_refused_too(tmp_path: Path, monkeypatch):
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    evidence.chmod(0o755)
    monkeypatch.setenv("AGGREGATOR_SNAPSHOTS_DIR", str(evidence))
    result = CliRunner().invoke(app, ["worklist", "--date", "2026-11-30", "--data-dir", str(tmp_path / "data")])
    assert result.exit_code == 2 and f"chmod 700 {evidence}" in " ".join(result.output.split())
    evidence.chmod(0o700)
    assert CliRunner().invoke(app, ["worklist", "--date", "2026-11-30", "--data-dir", str(tmp_path / "data")]).exit_code == 0
