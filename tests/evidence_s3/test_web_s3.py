"""The web app and the FHIR export reading evidence from S3 (moto on loopback, see conftest.py).

The web tests' seed (tests/web/conftest.py) records three captures into the directory store; the store is
copied to the bucket object by object under the same names (what `aws s3 sync` does) and the local copy
deleted, so everything below can only have come from S3. Auditors and admins get the originals, staff the
masked copy; verification and a missing object show as they do on disk; a store that cannot be reached is a
503 with a plain sentence.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import socket
from datetime import UTC, datetime
from io import BytesIO

from fastapi.testclient import TestClient
from PIL import Image

from aggregator.evidence_files import evidence_files
from aggregator.evidence_mask import MASK_TEXT
from aggregator.exports.formats import export_day
from aggregator.store.tables import AppointmentRow
from aggregator.web import create_app
from tests.evidence_s3.conftest import ACCESS_KEY_ID, SECRET_ACCESS_KEY, S3Server, local_files, s3_settings
from tests.web.conftest import csrf_of, login, no_runner, seed_data

PREFIX = "practice-1/"
EXPORTED_AT = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _pixel(png: bytes) -> tuple[int, ...]:
    return Image.open(BytesIO(png)).convert("RGB").getpixel((0, 0))


def test_web_app_and_fhir_export_read_the_evidence_from_s3(tmp_path, s3_server, bucket, monkeypatch):
    from aggregator.settings import Settings

    seed = seed_data(Settings(data_dir=tmp_path / "data"))
    snapshots = seed.settings.resolved_snapshots_dir
    with seed.repository.session() as session:
        day = session.get(AppointmentRow, "appt-1").service_date
    on_disk = export_day(seed.repository, day, "fhir", timezone=seed.settings.timezone,
                         files=evidence_files(seed.settings), now=EXPORTED_AT).content
    originals = local_files(snapshots)
    raw = s3_server.client()
    for name, data in originals.items():
        raw.put_object(Bucket=bucket, Key=PREFIX + name, Body=data)
    shutil.rmtree(snapshots)
    settings = s3_settings(seed.settings.resolved_data_dir, s3_server, bucket)

    # The FHIR export sizes and hashes each file from the bucket: the same bundle as from the directory.
    from_s3 = export_day(seed.repository, day, "fhir", timezone=settings.timezone, files=evidence_files(settings),
                         now=EXPORTED_AT).content
    assert from_s3 == on_disk
    attachments = [entry["resource"]["content"][0]["attachment"] for entry in json.loads(from_s3)["entry"]
                   if entry["resource"]["resourceType"] == "DocumentReference"]
    assert attachments and all("size" in a and "hash" in a for a in attachments)
    for attachment in attachments:
        data = next(d for d in originals.values() if len(d) == attachment["size"]
                    and base64.b64encode(hashlib.sha1(d).digest()).decode() == attachment["hash"])  # noqa: S324
        assert data

    row = seed.repository.evidence(seed.evidence_ids[-1])
    app = create_app(settings, runner_provider=no_runner)
    with TestClient(app, base_url="http://127.0.0.1") as auditor:
        login(auditor, "auditor")
        shot = auditor.get(f"/evidence/{row.id}/screenshot")
        assert shot.status_code == 200 and shot.headers["content-type"] == "image/png"
        assert shot.content == originals[row.screenshot_path]
        html = auditor.get(f"/evidence/{row.id}/html")
        assert html.status_code == 200 and html.content == originals[row.html_path] and seed.portal_user in html.text
        assert html.headers["content-type"].startswith("text/plain") and "sandbox" in html.headers["content-security-policy"]
        page = auditor.get(f"/audit/evidence/{row.id}")
        verified = auditor.post(f"/audit/evidence/{row.id}/verify", data={"csrf_token": csrf_of(page.text)})
        assert "Verified" in verified.text and "FAILED" not in verified.text
        chain = auditor.post("/audit/chain/verify", data={"csrf_token": csrf_of(page.text)})
        assert "3 evidence entries, files and chain intact" in chain.text

    with TestClient(app, base_url="http://127.0.0.1") as staff:
        login(staff, "staff")
        masked = staff.get(f"/evidence/{row.id}/screenshot")
        assert masked.status_code == 200 and masked.content != originals[row.screenshot_path]
        assert _pixel(masked.content) == (0, 0, 0) != _pixel(originals[row.screenshot_path])  # the recorded box
        masked_html = staff.get(f"/evidence/{row.id}/html")
        assert masked_html.status_code == 200
        assert seed.portal_user not in masked_html.text and MASK_TEXT in masked_html.text

    raw.delete_object(Bucket=bucket, Key=PREFIX + row.html_path)
    with TestClient(app, base_url="http://127.0.0.1") as auditor:
        login(auditor, "auditor")
        assert auditor.get(f"/evidence/{row.id}/html").status_code == 404
        api = auditor.post(f"/api/evidence/{row.id}/verify",
                           headers={"Authorization": f"Bearer {seed.api_tokens['auditor']}"}).json()
        assert api["ok"] is False and api["problems"] == [f"entry 3: html file missing: {row.html_path}"]
    assert not snapshots.exists()  # nothing was written back to the disk

    with socket.socket() as probe:  # a port nothing listens on: the store is down
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # the AWS setting; by default each read is tried three times
    down = create_app(s3_settings(seed.settings.resolved_data_dir, S3Server(f"http://127.0.0.1:{port}"), bucket),
                      runner_provider=no_runner)
    with TestClient(down, base_url="http://127.0.0.1") as auditor:
        login(auditor, "auditor")
        failed = auditor.get(f"/evidence/{row.id}/screenshot")
        assert failed.status_code == 503 and "evidence store cannot be read" in failed.text
        assert ACCESS_KEY_ID not in failed.text and SECRET_ACCESS_KEY not in failed.text and str(port) not in failed.text
