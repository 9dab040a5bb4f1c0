"""The pages a lookup read, as its evidence captured them, for keeping as recorded cases.

Every page an adapter reads is captured by the shared session code (aggregator/evidence.py): HTML, PNG and
any document it downloaded, content-addressed, with their hashes in the evidence chain. A recorder runs a
real lookup through the real runner and takes the bytes from there, checked against those hashes, so a
recorded page is byte for byte what the parser saw live.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aggregator.errors import AggregatorError
from aggregator.settings import Settings

# Recorded-page flow -> the runner's lookup method.
RUNNER_LOOKUPS = {"eligibility": "eligibility", "authorization": "authorizations", "claim_status": "claims"}


class CaptureProblem(AggregatorError):
    """A captured file does not match the hash its evidence entry recorded, or is missing."""


@dataclass(frozen=True)
class CapturedPage:
    """One capture of a lookup, in capture order."""

    index: int  # 1-based, in the order the lookup captured them
    evidence_id: str
    label: str  # the adapter's name for the page, e.g. "eligibility-result"
    url: str
    html: bytes
    document: bytes | None  # a document the page offered for download (e.g. an EOB PDF)
    in_answer: bool  # named in the answer's provenance: the answer came from this page


async def lookup(runner: Any, slug: str, flow: str, query: Any, *, source: str = "record",
                 account_label: str | None = None) -> Any:
    """Run the runner's lookup for a recorded-page flow (eligibility, authorization, claim_status)."""
    if flow not in RUNNER_LOOKUPS:
        raise ValueError(f"unknown flow '{flow}' (known: {', '.join(RUNNER_LOOKUPS)})")
    method = getattr(runner, RUNNER_LOOKUPS[flow])
    return await method(slug, query, source=source, account_label=account_label)


def captured_pages(result: Any, snapshots_dir: Path) -> list[CapturedPage]:
    """Every capture of a finished lookup (`aggregator.runner.LookupResult`), files read back and checked
    against the hashes in the evidence chain."""
    named = evidence_ids_of(result.answer.model_dump(mode="json")) if result.answer is not None else set()
    return [CapturedPage(index=i, evidence_id=e.id, label=e.label, url=e.url,
                         html=_checked(snapshots_dir, e.html_path, e.html_sha256),
                         document=(_checked(snapshots_dir, e.document_path, e.document_sha256)
                                   if e.document_path is not None else None),
                         in_answer=e.id in named)
            for i, e in enumerate(result.evidence, start=1)]


def evidence_ids_of(answer_json: Any) -> set[str]:
    """Every evidence id any provenance in an answer names (a list's and each of its records')."""
    if isinstance(answer_json, dict):
        found = set((answer_json.get("provenance") or {}).get("evidence_ids") or ())
        return found.union(*(evidence_ids_of(v) for k, v in answer_json.items() if k != "provenance"))
    if isinstance(answer_json, list):
        return set().union(*(evidence_ids_of(item) for item in answer_json))
    return set()


def _checked(snapshots_dir: Path, relative: str, digest: str | None) -> bytes:
    path = snapshots_dir / relative
    if not path.is_file():
        raise CaptureProblem(f"a captured file is missing from the evidence store ({relative})")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != digest:
        raise CaptureProblem(f"a captured file does not match the hash its evidence entry recorded ({relative})")
    return data


def pick_capture(pages: list[CapturedPage], label: str, marker: str | None = None) -> tuple[CapturedPage | None, str]:
    """The one capture labelled `label` (with `marker` in its URL or HTML when several share the label;
    without a marker, the last one); or None and why there is no single such capture."""
    candidates = [p for p in pages if p.label == label]
    if marker is not None:
        candidates = [p for p in candidates if marker in p.url or marker.encode() in p.html]
    if not candidates or (marker is not None and len(candidates) != 1):
        where = f" holding '{marker}'" if marker else ""
        return None, f"captured {len(candidates)} '{label}' page(s){where}, the case keeps exactly one"
    return candidates[-1], ""


def private_settings(settings: Settings, folder: Path) -> Settings:
    """`settings` with the lookup's database and evidence in `folder` (the vault, browser and portal
    settings unchanged): what a recording reads stays out of the product's records and evidence."""
    return settings.model_copy(update={
        "data_dir": folder, "database_url": f"sqlite:///{folder / 'lookups.db'}",
        # The recording reads its captures back from this folder, whatever store the product uses.
        "snapshots_dir": folder / "snapshots", "evidence_store": "directory", "vault_path": settings.resolved_vault_path,
    })
