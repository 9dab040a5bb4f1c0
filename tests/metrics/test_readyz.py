"""/readyz: 200 when the database answers at the latest migration, the data directory is private and the
vault opens with its key; otherwise 503 naming the failing check, with no path, URL or secret in it.
/healthz never looks at any of these."""

from __future__ import annotations

import base64
import os

from sqlalchemy import create_engine, text

from tests.metrics.conftest import client_of
from tests.web.conftest import Seed


def ready(app, seed: Seed) -> tuple[int, dict]:  # type: ignore[type-arg]
    with client_of(app) as client:
        response = client.get("/readyz")
    for secret_or_place in (*seed.secrets, str(seed.settings.resolved_data_dir), "sqlite"):
        assert secret_or_place not in response.text
    return response.status_code, response.json()


def test_ready_when_everything_is_in_order(make_app, seed: Seed):
    assert ready(make_app(), seed) == (200, {"status": "ready", "checks": {
        "database": "ok", "migrations": "ok", "data_dir": "ok", "vault": "ok"}})


def test_a_data_directory_open_to_others_is_not_ready(make_app, seed: Seed):
    app = make_app()
    seed.settings.resolved_data_dir.chmod(0o755)
    code, body = ready(app, seed)
    assert code == 503 and body["status"] == "not ready"
    assert body["reason"] == body["checks"]["data_dir"] == "the data directory is open to other users: chmod 700 it"


def test_an_unreachable_database_is_not_ready_but_the_process_is_alive(make_app, seed: Seed, tmp_path):
    app = make_app()
    app.state.web.repository.engine = create_engine(f"sqlite:///{tmp_path / 'no-such-folder' / 'x.db'}")
    code, body = ready(app, seed)
    assert code == 503 and body["reason"] == "the database cannot be reached"
    with client_of(app) as client:
        assert client.get("/healthz").status_code == 200


def test_a_schema_that_is_not_the_latest_is_not_ready(make_app, seed: Seed):
    app = make_app()
    with seed.repository.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    code, body = ready(app, seed)
    assert code == 503 and body["checks"]["database"] == "ok"
    assert body["reason"] == body["checks"]["migrations"] and "schema" in body["reason"]


def test_a_vault_that_does_not_open_is_not_ready(make_app, seed: Seed):
    key_file = seed.settings.resolved_data_dir / "vault.key"
    key = key_file.read_bytes()
    key_file.unlink()
    code, body = ready(make_app(), seed)
    assert code == 503 and body["reason"].startswith("no vault master key")

    key_file.write_bytes(base64.b64encode(os.urandom(32)) + b"\n")  # someone else's key
    code, body = ready(make_app(), seed)
    assert code == 503 and body["reason"] == "the master key does not open the vault"

    key_file.write_bytes(key)
    vault_file = seed.settings.resolved_vault_path
    vault_file.write_bytes(vault_file.read_bytes().replace(b'"records"', b'"recordz"', 1))  # tampered
    code, body = ready(make_app(), seed)
    assert code == 503 and body["reason"] == "the vault file cannot be read or fails its integrity check"


def test_no_vault_is_fine_unless_the_settings_name_one(make_app, seed: Seed):
    seed.settings.resolved_vault_path.unlink()
    assert ready(make_app(), seed)[1]["checks"]["vault"] == "not configured"
    code, body = ready(make_app(vault_path=seed.settings.resolved_vault_path), seed)
    assert code == 503 and body["reason"] == "the vault file named by vault_path is missing"
