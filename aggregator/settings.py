"""Product settings (pydantic-settings, environment prefix ``AGGREGATOR_``).

All state lives under one data directory: the database, the vault file and the evidence store. Tests
and the demo pass their own directory and nothing is written outside it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AGGREGATOR_", extra="ignore")

    data_dir: Path = Field(default_factory=Path.cwd, description="root of all product state")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default SQLite in data_dir")
    snapshots_dir: Path | None = Field(default=None, description="evidence store; default data_dir/snapshots")
    vault_path: Path | None = Field(default=None, description="vault file; default data_dir/vault.json")

    carrier_urls: dict[str, str] = Field(
        default_factory=dict, description='portal base URL per carrier slug, JSON: {"ridgeline": "https://..."}'
    )

    browser_executable: Path | None = Field(default=None, description="Chromium to drive; default auto")
    browser_headless: bool = True
    page_timeout_seconds: float = Field(default=20.0, gt=0)
    navigation_timeout_seconds: float = Field(default=30.0, gt=0)

    log_format: str = Field(default="console", pattern="^(console|json)$")
    log_level: str = Field(default="INFO")

    @property
    def resolved_data_dir(self) -> Path:
        return self.data_dir.expanduser().resolve()

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.resolved_data_dir / 'aggregator.db'}"

    @property
    def resolved_snapshots_dir(self) -> Path:
        return (self.snapshots_dir or self.resolved_data_dir / "snapshots").expanduser().resolve()

    @property
    def resolved_vault_path(self) -> Path:
        return (self.vault_path or self.resolved_data_dir / "vault.json").expanduser().resolve()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
