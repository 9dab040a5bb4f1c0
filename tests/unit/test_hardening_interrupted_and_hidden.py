"""Issue 12 item 10 (non-web part): lookups a killed process left open are closed as "interrupted" at the
next start; NUL, control and bidi characters in names are refused at import with row, field and why."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from aggregator.models import EligibilityQuery
from aggregator.overnight.appointments import COLUMNS, Appointment, RowProblem, read_csv, read_fhir_bundle
from aggregator.store import Repository
from aggregator.store.repository import INTERRUPTED, process_owner

from .test_appointments_fhir import appointment, coverage, patient

QUERY = EligibilityQuery(member_id="RM123456789", date_of_birth=date(1980, 2, 3), service_date=date(2026, 11, 30))

# A process that starts a lookup and then dies mid-way (SIGKILL: no cleanup of any kind runs).
STARTS_A_LOOKUP = """
import sys, time
from datetime import date
from aggregator.models import EligibilityQuery
from aggregator.store import Repository
repository = Repository.open(sys.argv[1])
query = EligibilityQuery(member_id="RM123456789", date_of_birth=date(1980, 2, 3), service_date=date(2026, 11, 30))
print(repository.create_lookup(flow="eligibility", carrier="ridgeline", query=query, source="cli").id, flush=True)
time.sleep(120)
"""


def test_a_lookup_left_open_by_a_killed_process_is_interrupted_at_the_next_open(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'aggregator.db'}"
    repository = Repository.open(url)
    child = subprocess.Popen([sys.executable, "-c", STARTS_A_LOOKUP, url], stdout=subprocess.PIPE, text=True)
    try:
        killed_lookup = child.stdout.readline().strip()  # type: ignore[union-attr]
        mine = repository.create_lookup(flow="eligibility", carrier="ridgeline", query=QUERY, source="cli")
        elsewhere = repository.create_lookup(flow="eligibility", carrier="ridgeline", query=QUERY, source="web")
        repository._update_lookup(elsewhere.id, owner="another-host.example:4242:1700000000")
        assert repository.get_lookup(killed_lookup).outcome is None  # type: ignore[union-attr]
        assert Repository.open(url).get_lookup(killed_lookup).outcome is None  # alive: left alone  # type: ignore[union-attr]
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    reopened = Repository.open(url)
    closed = reopened.get_lookup(killed_lookup)
    assert closed is not None and closed.outcome == INTERRUPTED and closed.reason_code == INTERRUPTED
    assert closed.finished_at is not None and "interrupted" in (closed.reason or "")
    assert reopened.get_lookup(mine.id).outcome is None  # this process is alive: its lookup is running  # type: ignore[union-attr]
    assert reopened.get_lookup(elsewhere.id).outcome is None  # another host: cannot tell, never guessed  # type: ignore[union-attr]
    assert reopened.get_lookup(mine.id).owner == process_owner()  # type: ignore[union-attr]
    assert reopened.close_interrupted_lookups() == 0  # idempotent


HIDDEN = {"NUL": "\x00", "RLO": "\u202e", "LRO": "\u202d", "RLE": "\u202b", "LRE": "\u202a", "PDF": "\u202c",
          "LRI": "\u2066", "RLI": "\u2067", "FSI": "\u2068", "PDI": "\u2069", "LRM": "\u200e", "RLM": "\u200f",
          "ALM": "\u061c", "BEL": "\x07", "ESC": "\x1b", "DEL": "\x7f", "CSI": "\x9b", "ZWSP": "\u200b", "BOM": "\ufeff"}


@pytest.mark.parametrize("char", HIDDEN.values(), ids=HIDDEN.keys())
def test_hidden_characters_in_names_are_refused_with_row_field_and_why(tmp_path: Path, char: str):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerow(["A1", "2026-11-30T09:15", f"Oka{char}for", "Grace", "1980-02-03", "ridgeline", "RM123456789",
                     "", "", ""])
    writer.writerow(["A2", "2026-11-30T09:30", "Okafor", f"Gr{char}ace", "1980-02-03", "ridgeline", "RM123456788",
                     "", "", ""])
    writer.writerow(["A3", "2026-11-30T09:45", "Okafor", "Grace", "1980-02-03", "ridgeline", "RM123456787", "", "", ""])
    path = tmp_path / "day.csv"
    path.write_text(out.getvalue(), encoding="utf-8", newline="")
    items = list(read_csv(path))
    problems = [i for i in items if isinstance(i, RowProblem)]
    assert [a.id for a in items if isinstance(a, Appointment)] == ["A3"]
    rows = {p.field: p.row for p in problems}
    assert set(rows) == {"patient_last_name", "patient_first_name"}
    assert rows["patient_first_name"] == rows["patient_last_name"] + 1
    for problem in problems:
        assert f"U+{ord(char):04X}" in problem.reason and "Okafor" not in problem.reason and "Grace" not in problem.reason


def test_line_breaks_and_tabs_inside_a_name_cell_are_spaces_not_control_characters(tmp_path: Path):
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([COLUMNS, ["A1", "2026-11-30T09:15", "Okafor\t Smith", "Mary\r\nAnn",
                                                             "1980-02-03", "ridgeline", "RM123456789", "", "", ""]])
    path = tmp_path / "day.csv"
    path.write_text(out.getvalue(), encoding="utf-8", newline="")
    [found] = list(read_csv(path))
    assert isinstance(found, Appointment)
    assert (found.patient_last_name, found.patient_first_name) == ("Okafor Smith", "Mary Ann")


def test_hidden_characters_in_fhir_names_are_refused_too(tmp_path: Path):
    path = tmp_path / "day.json"
    path.write_text(json.dumps({"resourceType": "Bundle", "entry": [
        {"resource": r} for r in (patient("p1", family="Okafor\u202e"), coverage("c1", "p1"), appointment("a1", "p1"))]}))
    [problem] = list(read_fhir_bundle(path))
    assert (problem.row, problem.field, problem.resource) == (2, "patient_last_name", "Patient/p1")
    assert "bidirectional" in problem.reason


@pytest.mark.parametrize("char", ["\u202e", "\u2066", "\u200b", "\u200e", "\x00", "\x85", "\ufeff"])
def test_vault_account_labels_refuse_bidi_invisible_and_control_characters(char: str):
    from pydantic import ValidationError

    from vault import AccountInput

    with pytest.raises(ValidationError, match="label must be 1-100 printable characters"):
        AccountInput(carrier="ridgeline", label=f"front{char}desk", username="u", password="p")
    assert AccountInput(carrier="ridgeline", label="front desk", username="u", password="p").label == "front desk"
