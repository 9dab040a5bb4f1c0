"""The S3 evidence store against a real S3-compatible server (moto on loopback, see conftest.py).

Evidence recorded through the S3 store lands under the same names, with the same bytes and SHA-256, as the
directory store writes; objects are private, and encrypted when asked; a put of an existing object writes
nothing once its hash checks; `verify_chain` and `aggregator evidence verify` find a tampered and a missing
object; the chain lives in the database (PostgreSQL with two "machines" writing at once); store failures
say what is wrong without credentials.
"""

from __future__ import annotations

import socket
from concurrent.futures import ThreadPoolExecutor
from io import BytesIO
from pathlib import Path

import boto3
import moto.settings
import pytest
from PIL import Image
from typer.testing import CliRunner

from aggregator.browser import CapturedPage
from aggregator.cli import app as cli_app
from aggregator.evidence import EvidenceRecorder, verify_chain, verify_entry
from aggregator.evidence_files import (
    DirectoryEvidenceFiles,
    EvidenceStoreMisconfigured,
    EvidenceStoreUnavailable,
    S3EvidenceFiles,
    evidence_files,
    sha256_hex,
)
from aggregator.metrics.evidence_sizes import EvidenceSizeTally
from aggregator.settings import Settings
from aggregator.store import Repository
from tests.evidence_s3.conftest import (
    ACCESS_KEY_ID,
    REGION,
    SECRET_ACCESS_KEY,
    S3Server,
    local_files,
    objects,
    s3_settings,
)

RECORDED = Path(__file__).parent.parent / "recorded_pages"
PREFIX = "practice-1/"


def png(n: int) -> bytes:
    buffer = BytesIO()
    Image.new("RGB", (40, 30), (n * 40 % 256, 100, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


def recorded_captures() -> list[CapturedPage]:
    """Two pages as the portals served them (tests/recorded_pages), one with the EOB PDF it offered, and the
    first page captured a second time (identical files: stored once)."""
    eligibility = (RECORDED / "ridgeline" / "eligibility" / "active_subscriber_family.html").read_text(encoding="utf-8")
    eob_page = (RECORDED / "cascade" / "claim_status" / "eob_page.html").read_text(encoding="utf-8")
    pdf = (RECORDED / "cascade" / "eob" / "eob_a1.pdf").read_bytes()
    first = CapturedPage(url="http://127.0.0.1:9/eligibility", html=eligibility, screenshot_png=png(1),
                         carrier="ridgeline", account_label="frontdesk", flow="eligibility", label="eligibility result",
                         mask_boxes=((0, 0, 5, 5),))
    return [first,
            CapturedPage(url="http://127.0.0.1:9/claims/eob", html=eob_page, screenshot_png=png(2), carrier="cascade",
                         account_label="billing", flow="claim_status", label="claim with EOB", document=pdf,
                         document_media_type="application/pdf"),
            CapturedPage(**{**first.__dict__, "label": "eligibility result, again"})]


def record(settings: Settings) -> tuple[Repository, list[str]]:
    settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)  # the SQLite database's folder
    repository = Repository.open(settings.resolved_database_url)
    recorder = EvidenceRecorder(evidence_files(settings), repository)
    return repository, [recorder.record(page, None) for page in recorded_captures()]


def file_columns(repository: Repository) -> list[tuple[object, ...]]:
    return [(r.screenshot_path, r.screenshot_sha256, r.html_path, r.html_sha256, r.document_path, r.document_sha256,
             r.document_media_type) for r in repository.evidence_chain()]


def test_evidence_lands_in_the_bucket_under_the_directory_stores_names_and_hashes(tmp_path, s3_server, bucket):
    local = Settings(data_dir=tmp_path / "local")
    remote = s3_settings(tmp_path / "remote", s3_server, bucket)
    assert isinstance(evidence_files(local), DirectoryEvidenceFiles)  # the default is unchanged
    assert isinstance(evidence_files(remote), S3EvidenceFiles)
    local_repository, _ = record(local)
    remote_repository, _ = record(remote)

    assert file_columns(remote_repository) == file_columns(local_repository)
    stored = objects(s3_server, bucket, PREFIX)
    assert stored == local_files(local.resolved_snapshots_dir)  # same names, same bytes: copyable either way
    assert len(stored) == 5  # 2 screenshots, 2 HTML, 1 PDF: the repeated page is stored once
    for name, data in stored.items():
        digest, suffix = name.split("/")[1].split(".")
        assert name.startswith(digest[:2] + "/") and sha256_hex(data) == digest
    assert set(objects(s3_server, bucket)) == {PREFIX + name for name in stored}  # nothing outside the prefix
    # The evidence never touched the local disk: the S3 process has no snapshots folder at all.
    assert not remote.resolved_snapshots_dir.exists()
    assert verify_chain(remote_repository, evidence_files(remote)) == (3, [])

    client = s3_server.client()
    for name in stored:
        head = client.head_object(Bucket=bucket, Key=PREFIX + name)
        assert head["ContentType"] == {"png": "image/png", "html": "text/plain; charset=utf-8",
                                       "pdf": "application/pdf"}[name.rsplit(".", 1)[1]]
        assert "ServerSideEncryption" not in head  # not asked for: the bucket's own default applies
        grants = client.get_object_acl(Bucket=bucket, Key=PREFIX + name)["Grants"]
        assert [g["Permission"] for g in grants] == ["FULL_CONTROL"]  # the owner only: private
        assert grants[0]["Grantee"]["Type"] == "CanonicalUser"


def test_server_side_encryption_is_requested_when_configured(tmp_path, s3_server, bucket):
    files = evidence_files(s3_settings(tmp_path, s3_server, bucket, evidence_s3_server_side_encryption="AES256"))
    _, name = files.put(png(7), ".png")
    assert s3_server.client().head_object(Bucket=bucket, Key=PREFIX + name)["ServerSideEncryption"] == "AES256"
    with pytest.raises(EvidenceStoreMisconfigured, match="KMS_KEY_ID needs"):
        evidence_files(s3_settings(tmp_path, s3_server, bucket, evidence_s3_kms_key_id="alias/evidence"))


def test_putting_an_existing_object_checks_its_hash_and_writes_nothing(tmp_path, s3_server, bucket):
    files = evidence_files(s3_settings(tmp_path, s3_server, bucket))
    assert isinstance(files, S3EvidenceFiles)
    puts: list[str] = []
    files.client.meta.events.register("before-call.s3.PutObject", lambda params, **_: puts.append(params["url_path"]))
    data = png(3)
    first = files.put(data, ".png")
    assert files.put(data, ".png") == first and len(puts) == 1  # read back, hash checked, no second write
    # Someone replaced the object: the next put of those bytes finds the hash wrong and writes them back.
    s3_server.client().put_object(Bucket=bucket, Key=PREFIX + first[1], Body=b"not the screenshot")
    assert files.put(data, ".png") == first and len(puts) == 2
    assert files.read(first[1]) == data
    assert files.read("../outside.png") is None and files.read("/etc/passwd") is None  # not a store name


def test_verify_reports_a_tampered_and_a_missing_object_function_and_cli(tmp_path, s3_server, bucket, monkeypatch):
    settings = s3_settings(tmp_path / "data", s3_server, bucket)
    repository, ids = record(settings)
    for name, value in (("EVIDENCE_STORE", "s3"), ("EVIDENCE_S3_BUCKET", bucket), ("EVIDENCE_S3_PREFIX", PREFIX),
                        ("EVIDENCE_S3_ENDPOINT_URL", s3_server.endpoint_url), ("EVIDENCE_S3_REGION", REGION)):
        monkeypatch.setenv(f"AGGREGATOR_{name}", value)
    cli = CliRunner()
    verified = cli.invoke(cli_app, ["evidence", "verify", "--data-dir", str(settings.resolved_data_dir)])
    assert verified.exit_code == 0 and "3 evidence entries" in verified.output, verified.output

    first, second, third = (repository.evidence(i) for i in ids)
    client = s3_server.client()
    client.put_object(Bucket=bucket, Key=PREFIX + first.html_path, Body=b"<html>edited</html>")
    client.delete_object(Bucket=bucket, Key=PREFIX + second.document_path)

    checked, problems = verify_chain(repository, evidence_files(settings))
    assert checked == 3
    # The third entry is the first page captured again: it names the same (now edited) HTML object.
    assert {(p.seq, p.problem) for p in problems} == {
        (1, f"html file altered: {first.html_path}"), (3, f"html file altered: {first.html_path}"),
        (2, f"document file missing: {second.document_path}")}
    assert [p.problem for p in verify_entry(second, first, evidence_files(settings))] == [
        f"document file missing: {second.document_path}"]
    assert verify_entry(third, second, evidence_files(settings))[0].problem.startswith("html file altered")

    broken = cli.invoke(cli_app, ["evidence", "verify", "--data-dir", str(settings.resolved_data_dir)])
    assert broken.exit_code == 1
    assert "html file altered" in broken.output and "document file missing" in broken.output
    assert "3 problem(s) in 3 evidence entries" in broken.output
    assert not settings.resolved_snapshots_dir.exists()


def test_the_chain_in_postgresql_and_the_files_in_s3_from_two_machines(tmp_path, s3_server, bucket, postgres_url):
    # Two processes (own data directory, own S3 client), one PostgreSQL database and one bucket, writing at once.
    machines = [EvidenceRecorder(evidence_files(s3_settings(tmp_path / f"machine-{n}", s3_server, bucket,
                                                            database_url=postgres_url)),
                                 Repository.open(postgres_url)) for n in (1, 2)]

    def capture(n: int) -> str:
        page = CapturedPage(url=f"http://127.0.0.1:9/{n}", html=f"<p>page {n}</p>", screenshot_png=png(n),
                            carrier="ridgeline", account_label=f"account-{n % 4}", flow="eligibility", label="result")
        return machines[n % 2].record(page, None)

    with ThreadPoolExecutor(max_workers=6) as pool:
        ids = list(pool.map(capture, range(24)))
    assert len(set(ids)) == 24
    auditor = Repository.open(postgres_url)
    auditor_settings = s3_settings(tmp_path / "auditor", s3_server, bucket, database_url=postgres_url)
    assert verify_chain(auditor, evidence_files(auditor_settings)) == (24, [])
    rows = list(auditor.evidence_chain())
    stored = objects(s3_server, bucket, PREFIX)
    # png(n) repeats every 32 captures' worth of colour steps, so the 24 screenshots and 24 pages are all distinct.
    assert set(stored) == {r.screenshot_path for r in rows} | {r.html_path for r in rows} and len(stored) == 48
    assert not any((tmp_path / f"machine-{n}").exists() for n in (1, 2))  # nothing written locally
    for repository in [*(m.repository for m in machines), auditor]:
        repository.engine.dispose()


def test_evidence_sizes_for_metrics_are_the_same_from_s3(tmp_path, s3_server, bucket):
    local = Settings(data_dir=tmp_path / "local")
    remote = s3_settings(tmp_path / "remote", s3_server, bucket)
    local_repository, _ = record(local)
    remote_repository, _ = record(remote)
    from_disk = EvidenceSizeTally(local_repository, evidence_files(local)).totals()
    from_s3 = EvidenceSizeTally(remote_repository, evidence_files(remote)).totals()
    assert from_s3 == from_disk and from_s3.bytes[("cascade", "document")] > 0


# --- errors: clear, and without keys or credentials ------------------------------------------------------------

def _no_secrets(error: Exception) -> None:
    text = str(error)
    assert ACCESS_KEY_ID not in text and SECRET_ACCESS_KEY not in text
    assert error.__cause__ is None and error.__suppress_context__  # botocore's error (with the request) is dropped


def test_a_missing_bucket_is_named(tmp_path, s3_server, bucket, monkeypatch):
    files = evidence_files(s3_settings(tmp_path, s3_server, "no-such-evidence-bucket"))
    for attempt in (lambda: files.put(b"x", ".png"), lambda: files.read("ab/" + "ab" * 32 + ".png")):
        with pytest.raises(EvidenceStoreMisconfigured, match="no-such-evidence-bucket/practice-1/ .* does not exist") as caught:
            attempt()
        _no_secrets(caught.value)
    for name, value in (("EVIDENCE_STORE", "s3"), ("EVIDENCE_S3_BUCKET", "no-such-evidence-bucket"),
                        ("EVIDENCE_S3_ENDPOINT_URL", s3_server.endpoint_url), ("EVIDENCE_S3_REGION", REGION)):
        monkeypatch.setenv(f"AGGREGATOR_{name}", value)
    record(Settings(data_dir=tmp_path / "data", evidence_store="directory"))  # a chain whose files are elsewhere
    result = CliRunner().invoke(cli_app, ["evidence", "verify", "--data-dir", str(tmp_path / "data")])
    assert result.exit_code == 2 and "cannot verify" in result.output and "does not exist" in result.output
    assert "Traceback" not in result.output


def test_access_denied_is_named(tmp_path, s3_server, bucket, monkeypatch):
    # A real IAM user of the server with no policy: once the server checks credentials, it may do nothing.
    iam = boto3.session.Session().client("iam", endpoint_url=s3_server.endpoint_url, region_name=REGION)
    iam.create_user(UserName="no-rights")
    key = iam.create_access_key(UserName="no-rights")["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    monkeypatch.setattr(moto.settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)
    files = evidence_files(s3_settings(tmp_path, s3_server, bucket))
    with pytest.raises(EvidenceStoreMisconfigured, match=r"denied access \(AccessDenied\): check the AWS credentials") as caught:
        files.put(png(4), ".png")
    _no_secrets(caught.value)
    assert key["AccessKeyId"] not in str(caught.value) and key["SecretAccessKey"] not in str(caught.value)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAUNKNOWNTOTHESERVER")
    with pytest.raises(EvidenceStoreMisconfigured, match=r"denied access \(InvalidAccessKeyId\)") as caught:
        evidence_files(s3_settings(tmp_path, s3_server, bucket)).read("ab/" + "ab" * 32 + ".png")
    assert "AKIAUNKNOWNTOTHESERVER" not in str(caught.value)


def test_no_credentials_is_named(tmp_path, s3_server, bucket, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(EvidenceStoreMisconfigured, match="no AWS credentials"):
        evidence_files(s3_settings(tmp_path, s3_server, bucket)).put(b"x", ".html")


def test_an_unreachable_endpoint_is_retryable(tmp_path, aws_environment, monkeypatch):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # the standard AWS setting; the default retries three times
    files = evidence_files(s3_settings(tmp_path, S3Server(f"http://user:pw@127.0.0.1:{port}"), "evidence-anywhere"))
    with pytest.raises(EvidenceStoreUnavailable, match=f"at http://127.0.0.1:{port} cannot be reached") as caught:
        files.read("ab/" + "ab" * 32 + ".png")
    assert caught.value.retryable and "pw" not in str(caught.value).replace("practice", "")
    _no_secrets(caught.value)
