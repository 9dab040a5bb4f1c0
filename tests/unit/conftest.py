"""Fixtures the batch, canary and capability tests share: a private data directory and its store."""

from pathlib import Path

import pytest

from aggregator.settings import Settings
from aggregator.store import Repository


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def repository(settings: Settings) -> Repository:
    settings.resolved_data_dir.mkdir(parents=True)
    return Repository.open(settings.resolved_database_url)
