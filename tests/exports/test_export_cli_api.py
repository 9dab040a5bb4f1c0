"""`aggregator export` and `GET /api/exports` on the web tests' seeded data directory (one appointment with
its stored eligibility answer and evidence): formats, files, errors, roles and the access log."""

from __future__ import annotations

import base64
import hashlib
import json
import stat

from typer.testing import CliRunner

from aggregator.cli import app as cli
from aggregator.overnight import worklist
from aggregator.store import batches
from aggregator.store import web as store
from tests.exports import fhir_truth
from tests.web.conftest import Seed

runner = CliRunner()


def day_of(seed: Seed) -> str:
    appointment = batches.get_appointment(seed.repository, seed.appointment_id)
    assert appointment is not None
    return appointment.service_date.isoformat()


def export(seed: Seed, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(cli, ["export", *args, "--data-dir", str(seed.settings.resolved_data_dir)])


def test_cli_writes_each_format(seed, tmp_path):
    day = day_of(seed)
    fhir = export(seed, "--date", day, "--format", "fhir")
    assert fhir.exit_code == 0, fhir.output
    bundle = fhir_truth.round_trip(fhir.stdout)
    response = fhir_truth.eligibility_response(bundle, seed.lookup_id)
    assert response["outcome"] == "complete"
    # The evidence backing the answer: its files, with FHIR's SHA-1 of the bytes on disk.
    documents = fhir_truth.resources(bundle, "DocumentReference")
    row = seed.repository.evidence(seed.evidence_ids[-1])
    shot = next(d for d in documents if d["masterIdentifier"]["value"] == row.screenshot_sha256)
    png = (seed.settings.resolved_snapshots_dir / row.screenshot_path).read_bytes()
    assert shot["content"][0]["attachment"]["hash"] == base64.b64encode(hashlib.sha1(png).digest()).decode()
    assert shot["content"][0]["attachment"]["size"] == len(png)

    x12 = export(seed, "--date", day, "--format", "x12-json")
    assert x12.exit_code == 0, x12.output
    assert json.loads(x12.stdout)["date"] == day and len(json.loads(x12.stdout)["responses"]) == 1

    out = tmp_path / "day.csv"
    written = export(seed, "--date", day, "--format", "csv", "--out", str(out))
    assert written.exit_code == 0, written.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert out.read_text() == worklist.as_csv(worklist.worklist(seed.repository, batches.get_appointment(
        seed.repository, seed.appointment_id).service_date))
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_cli_errors_are_clear(seed, tmp_path):
    bad_date = export(seed, "--date", "2026-13-01")
    assert bad_date.exit_code == 2 and "--date must be a date" in bad_date.stderr
    bad_format = export(seed, "--date", day_of(seed), "--format", "hl7v2")
    assert bad_format.exit_code == 2 and "--format must be one of fhir, x12-json, csv" in bad_format.stderr
    empty = export(seed, "--date", "2020-01-01")
    assert empty.exit_code == 1 and "nothing to export for 2020-01-01" in empty.stderr
    directory = export(seed, "--date", day_of(seed), "--out", str(tmp_path))
    assert directory.exit_code == 2 and "is a directory" in directory.stderr


def bearer(seed: Seed, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {seed.api_tokens[role]}"}


def test_api_serves_the_export_to_desk_roles_and_logs_it(seed, client):
    day = day_of(seed)
    for role in ("admin", "staff"):
        answer = client.get(f"/api/exports?date={day}&format=fhir", headers=bearer(seed, role))
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("application/fhir+json")
        assert f"answers-{day}.fhir.json" in answer.headers["content-disposition"]
        bundle = fhir_truth.round_trip(answer.text)
        urls = {d["content"][0]["attachment"]["url"] for d in fhir_truth.resources(bundle, "DocumentReference")}
        assert all(u.startswith("http://127.0.0.1/evidence/") for u in urls)
    csv_answer = client.get(f"/api/exports?date={day}&format=csv", headers=bearer(seed, "staff"))
    assert csv_answer.status_code == 200 and csv_answer.text.startswith("appointment_id,")
    logged = store.access_log(seed.repository, object_type="export")
    assert [(e.username, e.action, e.object_id) for e in logged] == [
        ("staff", "api_read", f"{day} csv"), ("staff", "api_read", f"{day} fhir"), ("admin", "api_read", f"{day} fhir")]


def test_api_refuses_roles_that_may_not_see_the_worklist(seed, client):
    day = day_of(seed)
    assert client.get(f"/api/exports?date={day}", headers=bearer(seed, "auditor")).status_code == 403
    assert client.get(f"/api/exports?date={day}").status_code == 401
    assert client.get("/api/worklist", headers=bearer(seed, "auditor")).status_code == 403  # the same rule
    assert store.access_log(seed.repository, object_type="export") == []


def test_api_errors_and_schema(seed, client):
    headers = bearer(seed, "staff")
    assert client.get("/api/exports?date=2026-02-30", headers=headers).status_code == 422
    unknown = client.get(f"/api/exports?date={day_of(seed)}&format=hl7v2", headers=headers)
    assert unknown.status_code == 422 and "hl7v2" not in unknown.text  # input is never echoed back
    empty = client.get("/api/exports?date=2020-01-01&format=x12-json", headers=headers)
    assert empty.status_code == 404 and "nothing to export for 2020-01-01" in empty.json()["detail"]
    schema = client.get("/api/openapi.json", headers=headers).json()
    operation = schema["paths"]["/api/exports"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert parameters["format"]["schema"]["enum"] == ["fhir", "x12-json", "csv"]
    assert set(operation["responses"]["200"]["content"]) >= {"application/fhir+json", "application/json", "text/csv"}


def test_cli_makes_evidence_links_absolute_on_request(seed):
    answer = export(seed, "--date", day_of(seed), "--base-url", "https://desk.example.org/")
    assert answer.exit_code == 0, answer.output
    bundle = fhir_truth.round_trip(answer.stdout)
    urls = {d["content"][0]["attachment"]["url"] for d in fhir_truth.resources(bundle, "DocumentReference")}
    assert urls and all(u.startswith("https://desk.example.org/evidence/") for u in urls)
    relative = export(seed, "--date", day_of(seed), "--base-url", "desk.example.org")
    assert relative.exit_code == 2 and "--base-url must start with" in relative.stderr


def test_api_answers_the_ends_of_the_calendar_with_nothing_to_export(seed, client):
    for day in ("0001-01-01", "9999-12-31"):
        for format_name in ("fhir", "x12-json", "csv"):
            answer = client.get(f"/api/exports?date={day}&format={format_name}", headers=bearer(seed, "admin"))
            assert answer.status_code == 404, (day, format_name, answer.text)
