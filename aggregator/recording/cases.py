"""The recorded-page case format, read and written.

A case is `<root>/<slug>/<flow>/<name>.html` (or `.pdf` for a document a lookup downloaded) beside
`<name>.expected.json`: `{"query": ..., "record": ...}` (what the page says) or `{"query": ...,
"error": {"type", "outcome", "reason"}}` (a page no record may come out of). tests/test_recorded_pages.py
parses every page offline with the carrier's adapter and compares (docs/recorded-pages.md).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from aggregator.errors import AggregatorError
from aggregator.models import AuthorizationQuery, ClaimQuery, EligibilityQuery
from aggregator.scrapers.framework import CarrierAdapter

PAGE_FLOWS: tuple[str, ...] = ("eligibility", "authorization", "claim_status")
QUERY_MODELS: dict[str, type[EligibilityQuery | AuthorizationQuery | ClaimQuery]] = {
    "eligibility": EligibilityQuery, "authorization": AuthorizationQuery, "claim_status": ClaimQuery,
}
PAGE_SUFFIX, DOCUMENT_SUFFIX = ".html", ".pdf"
EXPECTED_SUFFIX = ".expected.json"


def expected_json(content: dict[str, Any]) -> bytes:
    """The one formatting of expected files (the test's update mode uses it too): no spurious diffs."""
    return (json.dumps(content, indent=2, sort_keys=True) + "\n").encode("utf-8")


def offline_parse(adapter: type[CarrierAdapter], flow: str, content: bytes, query: Any, *,
                  document: bool = False) -> dict[str, Any]:
    """Exactly what the recorded-page test computes for a case: `{"record": ...}` or `{"error": {type,
    outcome, reason, code}}` (the code is for comparing with a live lookup; expected files omit it)."""
    try:
        if document:
            answer = adapter.parse_document(flow, content)
        else:
            answer = adapter.parse_answer(flow, content.decode("utf-8"), query)
    except AggregatorError as error:
        return {"error": {"type": type(error).__name__, "outcome": error.outcome.value, "reason": error.reason,
                          "code": error.code}}
    return {"record": answer.model_dump(mode="json")}


def expected_content(query_json: Any, offline: dict[str, Any]) -> dict[str, Any]:
    """An expected file's content from an offline parse (an error keeps its type, outcome and reason)."""
    if "error" in offline:
        return {"query": query_json, "error": {k: offline["error"][k] for k in ("type", "outcome", "reason")}}
    return {"query": query_json, "record": offline["record"]}


def differing_fields(actual: Any, wanted: Any, path: str = "") -> list[str]:
    """Dotted paths of the leaves that differ (list items by index), value-free."""
    if isinstance(actual, dict) and isinstance(wanted, dict):
        keys = sorted(set(actual) | set(wanted))
        return [p for k in keys for p in differing_fields(actual.get(k), wanted.get(k), f"{path}.{k}" if path else k)]
    if isinstance(actual, list) and isinstance(wanted, list) and len(actual) == len(wanted):
        return [p for i, (a, w) in enumerate(zip(actual, wanted, strict=True))
                for p in differing_fields(a, w, f"{path}[{i}]")]
    return [] if actual == wanted else [path or "(whole)"]


def canonical(data: Any) -> Any:
    """`data` with every list in a fixed order: for comparing answers whose records a parser orders by a
    number the scrubber replaced (the same records, listed in another order)."""
    if isinstance(data, dict):
        return {key: canonical(value) for key, value in data.items()}
    if isinstance(data, list):
        return sorted((canonical(item) for item in data), key=lambda item: json.dumps(item, sort_keys=True))
    return data


def case_path(root: Path, slug: str, flow: str, name: str, suffix: str = PAGE_SUFFIX) -> Path:
    return Path(root) / slug / flow / f"{name}{suffix}"


def expected_path(page: Path) -> Path:
    return page.with_name(page.name.removesuffix(page.suffix) + EXPECTED_SUFFIX)


def write_case(root: Path, slug: str, flow: str, name: str, content: bytes, expected: dict[str, Any], *,
               suffix: str = PAGE_SUFFIX) -> Path:
    """Write a case's page (or document) and its expected file; returns the page's path."""
    path = case_path(root, slug, flow, name, suffix)
    write_atomic(path, content)
    write_atomic(expected_path(path), expected_json(expected))
    return path


def read_expected(page: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(expected_path(page).read_text(encoding="utf-8"))
    return loaded


def write_atomic(path: Path, data: bytes) -> None:
    """Write-then-rename, readable by all: a case is meant to be committed (synthetic or scrubbed data;
    the product's owner-only umask is for its data directory)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        tmp.chmod(0o644)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
