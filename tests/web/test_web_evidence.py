"""Evidence pages, verification (and tampering found by the web and the CLI), the access log, the API."""

from __future__ import annotations

from typer.testing import CliRunner

from aggregator.cli import app as cli_app
from aggregator.store import web as store
from tests.web.conftest import Seed, csrf_of, login


def _log(seed: Seed, **filters):
    return store.access_log(seed.repository, **filters)


def test_every_view_of_evidence_or_phi_is_logged(client, seed: Seed):
    login(client, "staff")
    evidence_id = seed.evidence_ids[-1]
    assert client.get("/worklist").status_code == 200
    page = client.get(f"/appointments/{seed.appointment_id}")
    assert page.status_code == 200 and f"/evidence/{evidence_id}/screenshot" in page.text
    assert client.get(f"/evidence/{evidence_id}/screenshot").headers["content-type"] == "image/png"
    html = client.get(f"/evidence/{evidence_id}/html")
    assert html.headers["content-type"].startswith("text/plain") and "sandbox" in html.headers["content-security-policy"]
    seen = {(r.username, r.action, r.object_type, r.object_id) for r in _log(seed)}
    assert {("staff", "view", "worklist", str(seen and next(r.object_id for r in _log(seed, object_type="worklist")))),
            ("staff", "view", "appointment", seed.appointment_id), ("staff", "view", "lookup", seed.lookup_id),
            ("staff", "view_screenshot_masked", "evidence", evidence_id),
            ("staff", "view_html_masked", "evidence", evidence_id)} <= seen
    api = client.get(f"/api/lookups/{seed.lookup_id}", headers={"Authorization": f"Bearer {seed.api_tokens['auditor']}"})
    assert api.status_code == 200 and api.json()["records"][0]["kind"] == "eligibility"
    assert [e["id"] for e in api.json()["evidence"]] == seed.evidence_ids
    assert ("auditor", "api_read", "lookup", seed.lookup_id) in {(r.username, r.action, r.object_type, r.object_id)
                                                                 for r in _log(seed)}
    assert all(r.client_ip for r in _log(seed))


def test_auditor_viewer_shows_metadata_and_verifies(client, seed: Seed):
    login(client, "auditor")
    evidence_id = seed.evidence_ids[-1]
    row = seed.repository.evidence(evidence_id)
    page = client.get(f"/audit/evidence/{evidence_id}")
    for value in (row.url, row.screenshot_sha256, row.html_sha256, row.entry_hash, row.prev_hash, seed.record_id[:12]):
        assert value in page.text
    assert "entry 3 of 3" in page.text.replace("Evidence entry", "entry")
    verified = client.post(f"/audit/evidence/{evidence_id}/verify", data={"csrf_token": csrf_of(page.text)})
    assert "Verified" in verified.text and "FAILED" not in verified.text
    found = client.get("/audit/evidence", params={"member_id": row and seed.repository.get_lookup(seed.lookup_id).member_id})
    assert all(f"/audit/evidence/{e}" in found.text for e in seed.evidence_ids)
    nothing = client.get("/audit/evidence", params={"member_id": "XX000"})
    assert "No evidence matches" in nothing.text


def test_a_tampered_screenshot_is_found_by_the_web_verify_and_the_cli(client, seed: Seed):
    tampered = seed.repository.evidence(seed.evidence_ids[1])
    path = seed.settings.resolved_snapshots_dir / tampered.screenshot_path
    path.write_bytes(path.read_bytes()[:-1] + b"\x00")  # one byte
    login(client, "auditor")
    page = client.get(f"/audit/evidence/{tampered.id}")
    result = client.post(f"/audit/evidence/{tampered.id}/verify", data={"csrf_token": csrf_of(page.text)})
    assert "Verification FAILED" in result.text
    assert f"entry 2: screenshot file altered: {tampered.screenshot_path}" in result.text
    untouched = client.post(f"/audit/evidence/{seed.evidence_ids[2]}/verify", data={"csrf_token": csrf_of(page.text)})
    assert "Verified" in untouched.text  # its own files and its link are intact
    chain = client.post("/audit/chain/verify", data={"csrf_token": csrf_of(page.text)})
    assert "1 problem(s) in 3 entries" in chain.text and "screenshot file altered" in chain.text
    api = client.post(f"/api/evidence/{tampered.id}/verify", headers={"Authorization": f"Bearer {seed.api_tokens['auditor']}"})
    assert api.json()["ok"] is False and "screenshot file altered" in api.json()["problems"][0]

    cli = CliRunner().invoke(cli_app, ["evidence", "verify", "--data-dir", str(seed.settings.resolved_data_dir)])
    assert cli.exit_code == 1
    assert f"entry 2 ({tampered.id}): screenshot file altered: {tampered.screenshot_path}" in " ".join(cli.output.split())


def test_altered_metadata_breaks_the_entry_and_not_its_neighbours(client, seed: Seed):
    from aggregator.store.tables import EvidenceRow

    with seed.repository.session() as s:
        row = s.get(EvidenceRow, seed.evidence_ids[0])
        row.url = "http://127.0.0.1:9/elsewhere"
        s.add(row)
        s.commit()
    headers = {"Authorization": f"Bearer {seed.api_tokens['auditor']}"}
    first = client.post(f"/api/evidence/{seed.evidence_ids[0]}/verify", headers=headers).json()
    assert first["problems"] == ["entry 1: entry altered: metadata no longer matches its hash"]
    second = client.post(f"/api/evidence/{seed.evidence_ids[1]}/verify", headers=headers).json()
    assert second["problems"] == ["entry 1: entry altered: metadata no longer matches its hash"]  # its predecessor


def test_access_log_page_lists_views_for_auditors(client, seed: Seed):
    login(client, "auditor")
    client.get(f"/audit/evidence/{seed.evidence_ids[0]}")
    page = client.get("/audit/access-log")
    assert seed.evidence_ids[0] in page.text and "auditor" in page.text
    api = client.get("/api/access-log", headers={"Authorization": f"Bearer {seed.api_tokens['admin']}"}).json()
    assert api[0]["object_id"] == seed.evidence_ids[0] and api[0]["username"] == "auditor"


def test_openapi_schema_documents_the_api(client, seed: Seed):
    schema = client.get("/api/openapi.json", headers={"Authorization": f"Bearer {seed.api_tokens['staff']}"}).json()
    assert {"/api/lookups", "/api/worklist", "/api/lookups/{lookup_id}", "/api/evidence/{evidence_id}"} <= set(schema["paths"])
    assert not any(p.startswith("/admin") or p == "/login" for p in schema["paths"])
    assert schema["components"]["securitySchemes"]["token"]["scheme"] == "bearer"
