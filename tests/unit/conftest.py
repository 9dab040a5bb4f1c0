"""Fixtures the batch, canary and capability tests share: a private data directory and its store, and the
product's JSON log captured at DEBUG."""

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from aggregator.logging import configure_logging, forget_secrets
from aggregator.settings import Settings
from aggregator.store import Repository


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def repository(settings: Settings) -> Repository:
    settings.resolved_data_dir.mkdir(parents=True)
    return Repository.open(settings.resolved_database_url)


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """Everything the product logs during the test, as JSON lines, at DEBUG. No value is registered as a
    secret first: what a test finds missing from the log was kept out by the product's own rules."""
    forget_secrets()
    stream = io.StringIO()
    configure_logging("json", "DEBUG", stream=stream)
    yield stream
    forget_secrets()
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_aggregator_handler", False)]:
        root.removeHandler(handler)
