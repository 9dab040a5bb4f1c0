"""The recorded cases the suite mutates, and how one page is parsed into an outcome (as the recorded-page
test does it: `adapter_for(carrier).parse_answer(flow, html, query)`, an `AggregatorError` becoming
{type, outcome})."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from structlog.testing import capture_logs

from aggregator.errors import AggregatorError
from aggregator.scrapers.registry import adapter_for
from tests.test_recorded_pages import QUERY_MODELS, ROOT


@dataclass(frozen=True)
class Outcome:
    record: dict[str, Any] | None = None
    error_type: str | None = None
    error_outcome: str | None = None
    crash: str | None = None  # the exception type that escaped the parser (anything but AggregatorError)
    caught: str | None = None  # an exception the framework's checked path turned into needs attention

    @property
    def is_error(self) -> bool:
        return self.error_type is not None


@dataclass(frozen=True)
class Case:
    carrier: str
    flow: str
    name: str
    html: str
    query: Any
    expected: dict[str, Any]

    @property
    def key(self) -> str:
        return f"{self.carrier}/{self.flow}/{self.name}"

    @property
    def expected_record(self) -> dict[str, Any] | None:
        return self.expected.get("record")

    @property
    def expected_error(self) -> dict[str, Any] | None:
        return self.expected.get("error")

    @cached_property
    def has_data_appendix(self) -> bool:
        """BluePeak keeps the JSON the page loaded next to the screen: screen and data must agree."""
        return "data-aggregator-api" in self.html

    def parse(self, html: str) -> Outcome:
        # The framework logs a parser bug it turned into needs attention; capture it (it is a finding,
        # and the suite's output stays free of log lines).
        with capture_logs() as logs:
            try:
                answer = adapter_for(self.carrier).parse_answer(self.flow, html, self.query)
            except AggregatorError as error:
                caught = next((str(e.get("error_type")) for e in logs if e.get("event") == "parser_crashed"), None)
                return Outcome(error_type=type(error).__name__, error_outcome=error.outcome.value, caught=caught)
            except Exception as error:  # noqa: BLE001 - a crash is what this suite counts
                return Outcome(crash=type(error).__name__)
        return Outcome(record=answer.model_dump(mode="json"))


def load_cases(root: Path = ROOT) -> list[Case]:
    cases = []
    for html_path in sorted(root.glob("*/*/*.html")):
        expected = json.loads(html_path.with_suffix(".expected.json").read_text(encoding="utf-8"))
        flow = html_path.parent.name
        query = QUERY_MODELS[flow].model_validate(expected["query"])
        cases.append(Case(carrier=html_path.parent.parent.name, flow=flow, name=html_path.stem,
                          html=html_path.read_text(encoding="utf-8"), query=query, expected=expected))
    return cases
