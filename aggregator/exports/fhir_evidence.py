"""The evidence behind an answer as FHIR: one `DocumentReference` per captured file (the page's screenshot, its
HTML, a PDF it offered) and one `Provenance` linking the answer's resources to them.

A DocumentReference names its file by SHA-256 (`masterIdentifier`) and its evidence entry by id, chain position
(`seq`) and entry hash (`identifier`), so a receiver can check it against `aggregator evidence verify` or the
audit pages. Its attachment has the content type, the size, FHIR's SHA-1 `hash` (of the stored file) and the
URL of the file in this product's web app (signed-in roles only: the evidence routes' rules apply). R4's
Provenance has no identifier element, so the Provenance's `entity.what` carries the file's SHA-256 identifier
beside the reference.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.provenance import Provenance

from aggregator.evidence_files import EvidenceFiles
from aggregator.exports.fhir_common import (
    SYSTEM_EVIDENCE_ENTRY_HASH,
    SYSTEM_EVIDENCE_ID,
    SYSTEM_EVIDENCE_SEQ,
    SYSTEM_FILE_SHA256,
    THO,
    ResourceSet,
    coding,
    concept,
    instant,
    resource_id,
)
from aggregator.store.tables import EvidenceRow

PRODUCT = "carrier portal aggregator"


@dataclass(frozen=True)
class EvidenceFile:
    kind: str  # screenshot / html / document: also the web app route's last segment
    title: str
    content_type: str
    sha256: str
    relative_path: str


def files_of(row: EvidenceRow) -> list[EvidenceFile]:
    files = [EvidenceFile("screenshot", "portal page screenshot", "image/png", row.screenshot_sha256, row.screenshot_path),
             EvidenceFile("html", "portal page HTML", "text/html", row.html_sha256, row.html_path)]
    if row.document_sha256 and row.document_path:
        files.append(EvidenceFile("document", "document the portal offered", row.document_media_type or
                                  "application/octet-stream", row.document_sha256, row.document_path))
    return files


def evidence_url(base_url: str, evidence_id: str, kind: str) -> str:
    """The file's route in the web app (aggregator/web/routes_staff.py), absolute when a base URL is known."""
    return f"{base_url.rstrip('/')}/evidence/{evidence_id}/{kind}"


def add_evidence(resources: ResourceSet, rows: list[EvidenceRow], *, targets: list[dict[str, Any]],
                 patient: dict[str, Any] | None, files: EvidenceFiles | None, base_url: str,
                 fetched_at: Any, account_label: str | None, payer: dict[str, Any]) -> None:
    """DocumentReferences for every file of `rows`, and the Provenance of `targets` citing them."""
    entities: list[dict[str, Any]] = []
    for row in rows:
        for file in files_of(row):
            document = _document(row, file, patient, files, base_url)
            entities.append({"role": "source", "what": {
                **resources.add(document), "type": "DocumentReference",
                "identifier": {"system": SYSTEM_FILE_SHA256, "value": file.sha256},
                "display": f"{file.title}, evidence entry {row.seq}",
            }})
    assembler = PRODUCT + (f" (portal account {account_label})" if account_label else "")
    provenance: dict[str, Any] = {
        "id": resource_id("provenance", *(t["reference"] for t in targets)),
        "target": targets, "recorded": instant(fetched_at),
        "agent": [
            {"type": concept(coding(f"{THO}/provenance-participant-type", "author", "Author")), "who": payer},
            {"type": concept(coding(f"{THO}/provenance-participant-type", "assembler", "Assembler")),
             "who": {"display": assembler}},
        ],
    }
    if entities:
        provenance["entity"] = entities
    resources.add(Provenance.model_validate(provenance))


def _document(row: EvidenceRow, file: EvidenceFile, patient: dict[str, Any] | None, files: EvidenceFiles | None,
              base_url: str) -> DocumentReference:
    attachment: dict[str, Any] = {"contentType": file.content_type, "url": evidence_url(base_url, row.id, file.kind),
                                  "title": f"{file.title} ({row.label})", "creation": instant(row.captured_at)}
    stored = files.read(file.relative_path) if files is not None else None
    if stored is not None:
        attachment.update(_size_and_sha1(stored))
    data: dict[str, Any] = {
        "id": resource_id("evidence", row.id, file.kind),
        "masterIdentifier": {"system": SYSTEM_FILE_SHA256, "value": file.sha256},
        "identifier": [{"system": SYSTEM_EVIDENCE_ID, "value": row.id},
                       {"system": SYSTEM_EVIDENCE_SEQ, "value": str(row.seq)},
                       {"system": SYSTEM_EVIDENCE_ENTRY_HASH, "value": row.entry_hash}],
        "status": "current", "type": {"text": file.title}, "date": instant(row.captured_at),
        "description": f"{row.flow}: {row.label}", "content": [{"attachment": attachment}],
    }
    if patient is not None:
        data["subject"] = patient
    return DocumentReference.model_validate(data)


def _size_and_sha1(data: bytes) -> dict[str, Any]:
    # FHIR's Attachment.hash is SHA-1 (base64) by definition; the SHA-256 the chain uses is the masterIdentifier.
    return {"size": len(data), "hash": base64.b64encode(hashlib.sha1(data).digest())}  # noqa: S324 - FHIR mandates SHA-1
