"""Print the mutation suite's table at the end of a pytest run that ran it."""

from __future__ import annotations

import sys

import pytest

from tests.mutation import report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    module = sys.modules.get("tests.mutation.test_mutation_suite")
    results = module._RUN.get("results") if module is not None else None
    if results is None:
        return
    terminalreporter.section("mutation suite (per carrier x family)")
    terminalreporter.write_line(report.text_table(results))
    terminalreporter.write_line(f"findings: {module._RUN.get('findings_path')}")
