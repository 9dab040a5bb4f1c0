"""Evidence: every page an answer comes from, kept as a full-page PNG and its HTML.

Files are content-addressed (`<sha[:2]>/<sha>.png|.html|.pdf`) so identical captures are stored once and a
file's name is its own checksum; they live in the store `evidence_files(settings)` picks (the snapshots
directory, or an S3-compatible bucket: aggregator/evidence_files.py). Each capture gets a row in the database whose
`entry_hash` covers its metadata, its file hashes and the previous row's hash: a tamper-evident chain an
auditor can verify end to end (`verify_chain`). A capture may hold a document the page offered for
download (an EOB PDF): its hash and media type join the entry hash only when there is one.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice

from aggregator.browser import CapturedPage, EvidenceSink
from aggregator.evidence_files import EvidenceFiles, SnapshotFiles, read_many, sha256_hex
from aggregator.evidence_mask import boxes_to_json
from aggregator.store import GENESIS_HASH, Repository, new_id, utcnow
from aggregator.store.tables import EvidenceRow

__all__ = ["ChainProblem", "EvidenceRecorder", "SnapshotFiles", "entry_hash", "sha256_hex", "verify_chain",
           "verify_entry"]

VERIFY_BATCH = 256  # entries whose files are fetched together (in parallel on S3) while verifying the chain


def entry_hash(row: EvidenceRow) -> str:
    """Hash of everything that identifies a capture, chained to the previous entry."""
    fields = {
        "id": row.id, "seq": row.seq, "lookup_id": row.lookup_id, "carrier": row.carrier,
        "account_label": row.account_label, "flow": row.flow, "label": row.label, "url": row.url,
        "captured_at": _utc_iso(row.captured_at),
        "screenshot_sha256": row.screenshot_sha256, "html_sha256": row.html_sha256,
        "prev_hash": row.prev_hash,
    }
    # Only entries that hold a document hash it, so every entry written before documents existed keeps
    # exactly the hash it was chained with.
    if row.document_sha256 is not None:
        fields["document_sha256"] = row.document_sha256
        fields["document_media_type"] = row.document_media_type
    # Likewise the boxes masked for staff: under the chain, so nobody can quietly unmask a copy.
    if row.mask_boxes is not None:
        fields["mask_boxes"] = row.mask_boxes
    return sha256_hex(json.dumps(fields, sort_keys=True, separators=(",", ":")).encode())


# Content-addressed name suffix per document media type (anything else is kept as .bin).
DOCUMENT_SUFFIXES = {"application/pdf": ".pdf"}


class EvidenceRecorder:
    def __init__(self, files: EvidenceFiles, repository: Repository) -> None:
        self.files = files
        self.repository = repository

    def sink_for(self, lookup_id: str | None) -> EvidenceSink:
        async def sink(page: CapturedPage) -> str:
            return await asyncio.to_thread(self.record, page, lookup_id)

        return sink

    def record(self, page: CapturedPage, lookup_id: str | None) -> str:
        png_sha, png_path = self.files.put(page.screenshot_png, ".png")
        html_sha, html_path = self.files.put(page.html.encode("utf-8"), ".html")
        doc_sha = doc_path = None
        if page.document is not None:
            doc_sha, doc_path = self.files.put(page.document, DOCUMENT_SUFFIXES.get(page.document_media_type or "", ".bin"))
        captured_at = utcnow()
        evidence_id = new_id()

        def build(seq: int, prev_hash: str) -> EvidenceRow:
            row = EvidenceRow(
                id=evidence_id, seq=seq, lookup_id=lookup_id, carrier=page.carrier,
                account_label=page.account_label, flow=page.flow, label=page.label, url=page.url,
                captured_at=captured_at, screenshot_sha256=png_sha, html_sha256=html_sha,
                screenshot_path=png_path, html_path=html_path, prev_hash=prev_hash, entry_hash="",
                document_path=doc_path, document_sha256=doc_sha,
                document_media_type=page.document_media_type if page.document is not None else None,
                mask_boxes=boxes_to_json(page.mask_boxes),
            )
            row.entry_hash = entry_hash(row)
            return row

        return self.repository.append_evidence(build).id


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    evidence_id: str
    problem: str


def verify_chain(repository: Repository, files: EvidenceFiles) -> tuple[int, list[ChainProblem]]:
    """Recompute every file hash and every link. Returns (entries checked, problems found). A store that
    cannot be read raises its error (aggregator/evidence_files.py): "unreadable" is not "missing"."""
    problems: list[ChainProblem] = []
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    for rows in _batches(repository.evidence_chain(), VERIFY_BATCH):
        file_problems = read_many(files, lambda row: _file_problems(row, files), rows)
        for row, found in zip(rows, file_problems, strict=True):
            checked += 1
            if row.seq != expected_seq:
                problems.append(ChainProblem(row.seq, row.id, f"sequence gap: expected entry {expected_seq}"))
            if row.prev_hash != expected_prev:
                problems.append(ChainProblem(row.seq, row.id, "link broken: previous-hash does not match the entry before"))
            if entry_hash(row) != row.entry_hash:
                problems.append(ChainProblem(row.seq, row.id, "entry altered: metadata no longer matches its hash"))
            problems.extend(found)
            expected_prev = row.entry_hash
            expected_seq = row.seq + 1
    return checked, problems


def verify_entry(row: EvidenceRow, previous: EvidenceRow | None, files: EvidenceFiles) -> list[ChainProblem]:
    """Check ONE entry: its files against their hashes, its own entry hash, and its link to `previous`
    (the entry before it in the chain, None for the first). What the web app's "verify" action runs."""
    problems: list[ChainProblem] = []
    expected_prev, expected_seq = (previous.entry_hash, previous.seq + 1) if previous else (GENESIS_HASH, 1)
    if row.seq != expected_seq:
        problems.append(ChainProblem(row.seq, row.id, f"sequence gap: expected entry {expected_seq}"))
    if row.prev_hash != expected_prev:
        problems.append(ChainProblem(row.seq, row.id, "link broken: previous-hash does not match the entry before"))
    if previous is not None and entry_hash(previous) != previous.entry_hash:
        problems.append(ChainProblem(previous.seq, previous.id, "entry altered: metadata no longer matches its hash"))
    if entry_hash(row) != row.entry_hash:
        problems.append(ChainProblem(row.seq, row.id, "entry altered: metadata no longer matches its hash"))
    return problems + _file_problems(row, files)


def _file_problems(row: EvidenceRow, files: EvidenceFiles) -> list[ChainProblem]:
    """Each file of the entry read back from the store and hashed against the hash the entry recorded."""
    stored = [("screenshot", row.screenshot_path, row.screenshot_sha256), ("html", row.html_path, row.html_sha256)]
    if row.document_path is not None or row.document_sha256 is not None:
        stored.append(("document", row.document_path or "", row.document_sha256 or ""))
    problems: list[ChainProblem] = []
    for kind, relative, digest in stored:
        data = files.read(relative) if relative else None
        if data is None:
            problems.append(ChainProblem(row.seq, row.id, f"{kind} file missing: {relative}"))
        elif sha256_hex(data) != digest:
            problems.append(ChainProblem(row.seq, row.id, f"{kind} file altered: {relative}"))
    return problems


def _batches(rows: Iterable[EvidenceRow], size: int) -> Iterator[list[EvidenceRow]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def _utc_iso(moment: datetime) -> str:
    # SQLite hands datetimes back without a zone; the hash must not depend on the backend.
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="microseconds")
