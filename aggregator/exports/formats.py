"""One day's export in one format: what `aggregator export` writes and `GET /api/exports` answers.

- `fhir`: a FHIR R4 `Bundle` (type collection) of the day's answers and their evidence (fhir_bundle.py);
- `x12-json`: `{"date": D, "responses": [...]}`, one 271-shaped JSON per eligibility answer of the day, a
  rejection (AAA) for a member not found (x12_271.py);
- `csv`: the day's worklist CSV, exactly as `aggregator worklist --csv` writes it (overnight/worklist.py).

Which answers belong to a day: aggregator/exports/day.py. A day with nothing to export raises NothingToExport.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from aggregator.evidence_files import EvidenceFiles
from aggregator.exports import day as day_answers
from aggregator.exports.fhir_bundle import day_bundle
from aggregator.exports.x12_271 import eligibility_271, not_found_271
from aggregator.models import EligibilityQuery, EligibilityRecord, MemberNotFound
from aggregator.overnight import worklist
from aggregator.store.repository import Repository

FORMATS = ("fhir", "x12-json", "csv")
MEDIA_TYPES = {"fhir": "application/fhir+json", "x12-json": "application/json", "csv": "text/csv; charset=utf-8"}
SUFFIXES = {"fhir": "fhir.json", "x12-json": "271.json", "csv": "csv"}


class UnknownFormat(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown export format '{name}': choose one of {', '.join(FORMATS)}")


class NothingToExport(LookupError):
    """The day has nothing in this format (the message says why; it names no patient)."""


@dataclass(frozen=True)
class Export:
    day: date
    format: str
    content: str
    count: int  # answers (fhir, x12-json) or worklist rows (csv)

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.format]

    @property
    def filename(self) -> str:
        return f"answers-{self.day.isoformat()}.{SUFFIXES[self.format]}"


def export_day(repository: Repository, day: date, format_name: str, *, timezone: str,
               files: EvidenceFiles | None = None, base_url: str = "", now: datetime | None = None) -> Export:
    """The day's answers in `format_name`. Raises UnknownFormat or NothingToExport."""
    if format_name not in FORMATS:
        raise UnknownFormat(format_name)
    if format_name == "csv":
        rows = worklist.worklist(repository, day)
        if not rows:
            raise NothingToExport(f"nothing to export for {day}: no appointments on that date")
        return Export(day, format_name, worklist.as_csv(rows), len(rows))
    answers = day_answers.gather(repository, day, timezone)
    if answers.empty:
        raise NothingToExport(f"nothing to export for {day}: no stored answers for that date's appointments "
                              "and no lookups asked that day")
    if format_name == "fhir":
        bundle = day_bundle(answers, files=files, base_url=base_url, now=now)
        return Export(day, format_name, bundle.model_dump_json(indent=2) + "\n", len(answers.answers()))
    responses = x12_responses(answers)
    if not responses:
        raise NothingToExport(f"nothing to export for {day} as x12-json: none of that day's answers is an "
                              "eligibility answer")
    body = {"date": day.isoformat(), "responses": responses}
    return Export(day, format_name, json.dumps(body, indent=2) + "\n", len(responses))


def x12_responses(answers: day_answers.DayAnswers) -> list[dict[str, Any]]:
    responses = []
    for stored in answers.answers():
        answer = stored.answer
        if isinstance(answer, EligibilityRecord):
            responses.append(eligibility_271(answer))
        elif isinstance(answer, MemberNotFound) and isinstance(answer.query, EligibilityQuery):
            responses.append(not_found_271(answer))
    return responses
