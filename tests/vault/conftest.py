from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from vault import MasterKey, Vault

PASSWORD = "Corr3ct-Horse-Battery!"
SEED = "JBSWY3DPEHPK3PXP"


@pytest.fixture(autouse=True)
def _no_key_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Key sources come from the environment: a developer's own must never leak into a test."""
    for name in ("AGGREGATOR_VAULT_KEY", "AGGREGATOR_VAULT_PASSPHRASE", "AGGREGATOR_VAULT_KEY_FILE",
                 "AGGREGATOR_VAULT_PATH"):
        monkeypatch.delenv(name, raising=False)


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def key() -> MasterKey:
    return MasterKey.generate()


@pytest.fixture
def vault_path(tmp_path: Path) -> Path:
    return tmp_path / "vault.json"


@pytest.fixture
def vault(vault_path: Path, key: MasterKey, clock: FakeClock) -> Vault:
    return Vault.create(vault_path, key, clock=clock)


@pytest.fixture
def add(vault: Vault) -> Iterator[Callable[..., object]]:
    def _add(label: str = "main", carrier: str = "ridgeline", **fields: object):  # type: ignore[no-untyped-def]
        values: dict[str, object] = {"username": f"drsmith-{label}", "password": PASSWORD, **fields}
        return vault.add_account(carrier=carrier, label=label, **values)  # type: ignore[arg-type]

    yield _add
