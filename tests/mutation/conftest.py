"""Print the mutation suite's table at the end of a pytest run that ran it.

Under pytest-xdist the suite runs in one worker (its tests share an xdist group, tests/conftest.py): the
worker hands the table to the controller (`workeroutput`), whose terminal summary prints it
(tests/conftest.py); a serial run prints it here."""

from __future__ import annotations

import sys

import pytest

from tests.mutation import report


def _summary() -> str | None:
    module = sys.modules.get("tests.mutation.test_mutation_suite")
    results = module._RUN.get("results") if module is not None else None
    if results is None:
        return None
    return f"{report.text_table(results)}\nfindings: {module._RUN.get('findings_path')}"  # type: ignore[union-attr]


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)  # set on an xdist worker only
    summary = _summary()
    if workeroutput is not None and summary is not None:
        workeroutput["mutation_summary"] = summary


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    summary = _summary()
    if summary is None:
        return
    terminalreporter.section("mutation suite (per carrier x family)")
    terminalreporter.write_line(summary)
