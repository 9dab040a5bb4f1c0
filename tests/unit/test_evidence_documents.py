"""Evidence entries that hold a downloaded document (an EOB PDF) beside the screenshot and HTML."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import pytest
from sqlmodel import Session

from aggregator.browser import CapturedPage
from aggregator.evidence import EvidenceRecorder, SnapshotFiles, entry_hash, sha256_hex, verify_chain
from aggregator.store import Repository
from aggregator.store.tables import EvidenceRow

PDF = b"%PDF-1.4\n% an EOB\n"


def page(n: int, document: bytes | None = None) -> CapturedPage:
    return CapturedPage(url=f"http://127.0.0.1/p{n}", html=f"<html>{n}</html>", screenshot_png=b"\x89PNG" + bytes([n]),
                        carrier="cascade", account_label="billing", flow="claim_status", label="claim-eob",
                        document=document, document_media_type="application/pdf" if document else None)


@pytest.fixture
def recorder(tmp_path: Path) -> EvidenceRecorder:
    return EvidenceRecorder(SnapshotFiles(tmp_path / "snapshots"),
                            Repository.open(f"sqlite:///{tmp_path / 'a.db'}"))


def _update(recorder: EvidenceRecorder, evidence_id: str, **fields: object) -> None:
    with Session(recorder.repository.engine) as s:
        row = s.get(EvidenceRow, evidence_id)
        for key, value in fields.items():
            setattr(row, key, value)
        s.add(row)
        s.commit()


def test_document_is_stored_content_addressed_and_in_the_hash(recorder):
    plain, with_pdf = recorder.record(page(1), None), recorder.record(page(2, PDF), None)
    row = recorder.repository.evidence(with_pdf)
    assert row.document_sha256 == sha256_hex(PDF) and row.document_path.endswith(sha256_hex(PDF) + ".pdf")
    assert recorder.files.path(row.document_path).read_bytes() == PDF
    assert row.document_media_type == "application/pdf"
    assert recorder.repository.evidence(plain).document_path is None
    assert verify_chain(recorder.repository, recorder.files) == (2, [])
    # The hash covers the document: the same row without it hashes differently.
    assert entry_hash(row) != entry_hash(row.model_copy(update={"document_sha256": None, "document_media_type": None}))


def test_rows_without_documents_keep_the_hash_they_always_had(recorder):
    row = recorder.repository.evidence(recorder.record(page(1), None))
    fields = {"id": row.id, "seq": row.seq, "lookup_id": row.lookup_id, "carrier": row.carrier,
              "account_label": row.account_label, "flow": row.flow, "label": row.label, "url": row.url,
              "captured_at": row.captured_at.replace(tzinfo=None).isoformat(timespec="microseconds"),
              "screenshot_sha256": row.screenshot_sha256, "html_sha256": row.html_sha256, "prev_hash": row.prev_hash}
    legacy = hashlib.sha256(json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    assert row.entry_hash == legacy == entry_hash(row)


def test_altered_or_missing_document_is_detected(recorder):
    ids = [recorder.record(page(n, PDF + bytes([n])), None) for n in (1, 2)]
    first, second = (recorder.repository.evidence(i) for i in ids)
    recorder.files.path(first.document_path).write_bytes(b"%PDF-1.4 edited")
    recorder.files.path(second.document_path).unlink()
    checked, problems = verify_chain(recorder.repository, recorder.files)
    assert checked == 2
    assert [(p.seq, p.problem.split(":")[0]) for p in problems] == [(1, "document file altered"), (2, "document file missing")]


def test_a_document_dropped_from_its_row_is_detected(recorder):
    evidence_id = recorder.record(page(1, PDF), None)
    _update(recorder, evidence_id, document_path=None, document_sha256=None, document_media_type=None)
    _, problems = verify_chain(recorder.repository, recorder.files)
    assert [p.problem.split(":")[0] for p in problems] == ["entry altered"]


def test_captured_page_without_document_is_unchanged() -> None:
    fields = {f.name: f.default for f in dataclasses.fields(CapturedPage) if f.name.startswith("document")}
    assert fields == {"document": None, "document_media_type": None}
