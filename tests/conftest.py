from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-expected", action="store_true", default=False,
                     help="rewrite recorded-page expected files from the current parser output, for review")
