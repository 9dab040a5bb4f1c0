"""The vault in PostgreSQL (vault/database.py): the file's guarantees, shared by every worker.

Each test makes its own database on the server at AGGREGATOR_TEST_POSTGRES_URL (default: the local one,
which `.ci/run` starts) and drops it afterwards; skipped, saying why, only when no server answers.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pyotp
import pytest
from pydantic import SecretStr

from aggregator.settings import Settings
from aggregator.store import Repository
from tests.postgres import SERVER, throwaway_database
from vault import MasterKey, TotpCodes, Vault, VaultError, VaultMissing, WrongMasterKey
from vault.configured import create_vault, open_vault, vault_configured, vault_exists
from vault.database import DOCUMENT_TABLE, TOTP_TABLE, DatabaseVault, SharedTotpSteps
from vault.keys import pending_key_file

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "Corr3ct-Horse-Battery!"
SEED = "JBSWY3DPEHPK3PXPJBSWY3DP"
ANSWER = "Fluffy-the-hamster"
COOKIE = "sess-8f1c2e9d4b7a6e5f"
USERNAME = "drsmith-frontdesk"
STEP_START = 1_741_089_600.0  # 2025-03-04 12:00:00 UTC: the first second of a 30-second TOTP step


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with throwaway_database("vault_test") as url:
        yield url


@pytest.fixture
def key() -> MasterKey:
    return MasterKey.generate()


@pytest.fixture
def vault(postgres_url: str, key: MasterKey) -> Iterator[DatabaseVault]:
    made = DatabaseVault.create_url(postgres_url, key)
    yield made
    made.close()


def _other(postgres_url: str, key: MasterKey) -> DatabaseVault:
    """Another worker: its own Vault object and its own connection."""
    return DatabaseVault.open_url(postgres_url, key)


def _row_bytes(postgres_url: str) -> bytes:
    with psycopg.connect(_libpq(postgres_url)) as connection:
        rows = connection.execute(f"SELECT version, document, updated_at FROM {DOCUMENT_TABLE}").fetchall()
        steps = connection.execute(f"SELECT * FROM {TOTP_TABLE}").fetchall()
    assert len(rows) == 1
    return bytes(rows[0][1]) + repr((rows[0][0], rows[0][2], steps)).encode()


def _key_file(key: MasterKey, folder: Path, name: str = "vault.key") -> Path:
    path = folder / name
    key.write_key_file(path)
    return path


# --- the file's guarantees -------------------------------------------------------------------------------

def test_the_row_holds_only_ciphertext(vault: DatabaseVault, postgres_url: str) -> None:
    account = vault.add_account(carrier="ridgeline", label="frontdesk", username=USERNAME, password=PASSWORD,
                                totp_secret=SEED, security_answers={"First pet?": ANSWER})
    vault.save_session(account.account_id, {"cookies": [{"name": "sid", "value": COOKIE}], "origins": []},
                       datetime.now(UTC) + timedelta(hours=1))
    assert asyncio.run(vault.totp_memory().claim(account.account_id, 58_000_000))
    stored = _row_bytes(postgres_url)
    assert b'"ridgeline"' in stored and b'"wrapped_key"' in stored  # the clear metadata is there: we looked at the right bytes
    for secret in (USERNAME, PASSWORD, SEED, ANSWER, COOKIE, "First pet", "drsmith", "JBSWY3DP"):
        assert secret.encode() not in stored, secret
    assert _other(postgres_url, vault.key).get(account.account_id).password.get_secret_value() == PASSWORD


def test_wrong_key_and_missing_vault_are_refused_as_with_the_file(vault: DatabaseVault, postgres_url: str,
                                                                   tmp_path: Path) -> None:
    vault.add_account(carrier="ridgeline", label="main", username=USERNAME, password=PASSWORD)
    with pytest.raises(WrongMasterKey, match="wrong master key for vault database .*vault_document"):
        DatabaseVault.open_url(postgres_url, MasterKey.generate())
    Vault.create(tmp_path / "vault.json", vault.key)
    passphrase = MasterKey.from_passphrase("a passphrase", scrypt_n=2**4)
    with pytest.raises(WrongMasterKey) as on_file:
        Vault.open(tmp_path / "vault.json", passphrase)
    with pytest.raises(WrongMasterKey) as on_database:
        DatabaseVault.open_url(postgres_url, passphrase)
    assert str(on_database.value) == str(on_file.value)  # "protected by a key ..., but the key came from passphrase"
    with pytest.raises(VaultError, match="already exists.*refusing to overwrite"):
        DatabaseVault.create_url(postgres_url, vault.key)
    empty = postgres_url.rsplit("/", 1)[0] + "/postgres"
    with pytest.raises(VaultMissing, match="no vault in database .*/postgres .*aggregator vault init"):
        DatabaseVault.open_url(empty, vault.key)


def test_bad_urls_say_what_is_wrong_and_never_show_the_password(key: MasterKey) -> None:
    with pytest.raises(VaultError, match="PostgreSQL only, not in sqlite"):
        DatabaseVault.open_url("sqlite:///vault.db", key)
    with pytest.raises(VaultError, match="not a database URL"):
        DatabaseVault.open_url("not a url", key)
    with pytest.raises(VaultError, match=r"cannot use the vault database 127\.0\.0\.1:1/vault") as refused:
        DatabaseVault.open_url("postgresql://admin:hunter2secret@127.0.0.1:1/vault", key)
    assert "hunter2secret" not in str(refused.value) and "admin" not in str(refused.value)


def test_key_rotation_on_the_database(vault: DatabaseVault, postgres_url: str, tmp_path: Path) -> None:
    account = vault.add_account(carrier="ridgeline", label="main", username=USERNAME, password=PASSWORD,
                                totp_secret=SEED)
    old_key = vault.key
    new_key = MasterKey.generate()
    worker = _other(postgres_url, old_key)
    vault.rotate_key(new_key)
    with pytest.raises(WrongMasterKey):
        DatabaseVault.open_url(postgres_url, old_key)
    with pytest.raises(WrongMasterKey):  # a worker still on the old key notices at its next read
        worker.get(account.account_id)
    rotated = _other(postgres_url, new_key)
    assert rotated.get(account.account_id).totp_secret == SecretStr(SEED)
    assert rotated.get(account.account_id).password.get_secret_value() == PASSWORD

    # To a key file, then an interrupted one: the vault re-keyed, the key file not yet replaced.
    key_file = _key_file(new_key, tmp_path)
    on_file = DatabaseVault.open_url(postgres_url, MasterKey.from_key_file(key_file))
    third = on_file.rotate_to_key_file(key_file)
    assert not pending_key_file(key_file).exists()
    assert MasterKey.from_key_file(key_file).keyring(None).check == third.keyring(None).check
    fourth = MasterKey.generate()
    fourth.write_key_file(pending_key_file(key_file))
    on_file.rotate_key(fourth)  # ... and the process died before it moved the key file into place
    reopened = DatabaseVault.open_url(postgres_url, MasterKey.from_key_file(key_file))
    assert reopened.key.key_file == key_file and not pending_key_file(key_file).exists()
    assert reopened.get(account.account_id).username.get_secret_value() == USERNAME
    for opened in (worker, rotated, on_file, reopened):
        opened.close()


# --- shared by every worker ----------------------------------------------------------------------------

def test_saved_sessions_and_freezes_written_by_one_worker_are_read_by_another(vault: DatabaseVault,
                                                                               postgres_url: str) -> None:
    account = vault.add_account(carrier="ridgeline", label="main", username=USERNAME, password=PASSWORD)
    other = _other(postgres_url, vault.key)
    assert other.load_session(account.account_id) is None  # read once: a cache would now be stale
    state = {"cookies": [{"name": "sid", "value": COOKIE}], "origins": []}
    vault.save_session(account.account_id, state, datetime.now(UTC) + timedelta(hours=1))
    assert other.load_session(account.account_id) == state
    other.freeze(account.account_id, "portal says the password expired")
    assert vault.get(account.account_id).is_frozen and vault.load_session(account.account_id) is None
    other.close()


def test_two_workers_on_separate_connections_lose_no_update(vault: DatabaseVault, postgres_url: str) -> None:
    workers = [vault, _other(postgres_url, vault.key)]
    ids = {w: [workers[w].add_account(carrier="ridgeline", label=f"w{w}-{i}", username=f"user-{w}-{i}",
                                      password=PASSWORD).account_id for i in range(3)] for w in range(2)}
    expires = datetime.now(UTC) + timedelta(hours=1)

    def run(w: int) -> None:
        for round_ in range(8):
            for i, account_id in enumerate(ids[w]):
                workers[w].save_session(account_id, {"worker": w, "round": round_, "i": i}, expires)
                workers[w].update_account(account_id, password=f"pw-{w}-{i}-{round_}-long-enough")

    threads = [threading.Thread(target=run, args=(w,)) for w in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    fresh = _other(postgres_url, vault.key)
    for w in range(2):
        for i, account_id in enumerate(ids[w]):
            assert fresh.load_session(account_id) == {"worker": w, "round": 7, "i": i}
            assert fresh.get(account_id).password.get_secret_value() == f"pw-{w}-{i}-7-long-enough"
    workers[1].close()
    fresh.close()


_WRITER = """
import sys
from pathlib import Path
from vault import MasterKey
from vault.database import DatabaseVault
url, key_file, worker = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
vault = DatabaseVault.open_url(url, MasterKey.from_key_file(key_file))
for i in range(6):
    vault.add_account(carrier=f"carrier{worker}", label=f"acct{i}", username=f"user-{worker}-{i}",
                      password=f"pw-{worker}-{i}-secret")
"""


def test_three_processes_add_accounts_at_once_and_none_is_lost(vault: DatabaseVault, postgres_url: str,
                                                               tmp_path: Path) -> None:
    key_file = _key_file(vault.key, tmp_path)
    processes = [subprocess.Popen([sys.executable, "-c", _WRITER, postgres_url, str(key_file), str(w)], cwd=REPO)
                 for w in range(3)]
    assert [process.wait(timeout=120) for process in processes] == [0, 0, 0]
    accounts = vault.accounts()
    assert {(a.carrier, a.label) for a in accounts} == {(f"carrier{w}", f"acct{i}") for w in range(3) for i in range(6)}
    assert all(a.password.get_secret_value() == f"pw-{a.carrier[7:]}-{a.label[4:]}-secret" for a in accounts)


# --- TOTP: two machines never submit one code ----------------------------------------------------------

class _FakeTime:
    """A clock that only moves when the code waiter sleeps (no test waits 30 s)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_two_workers_asking_in_one_step_get_different_codes(vault: DatabaseVault, postgres_url: str) -> None:
    account = vault.add_account(carrier="ridgeline", label="main", username=USERNAME, password=PASSWORD,
                                totp_secret=SEED)
    other = _other(postgres_url, vault.key)
    times = [_FakeTime(STEP_START + 3), _FakeTime(STEP_START + 3)]  # both in the same step, 27 s left
    codes = [TotpCodes(clock=t.clock, sleep=t.sleep, used_steps=v.totp_memory()) for t, v in zip(times, (vault, other), strict=True)]

    async def both() -> list[str]:
        return list(await asyncio.gather(*(c.next_code(account.account_id, SecretStr(SEED)) for c in codes)))

    got = asyncio.run(both())
    steps = sorted(int(t.now // 30) for t in times)
    first = int(STEP_START // 30)
    assert steps == [first, first + 1]  # one got this step, the other waited for the next one
    totp = pyotp.TOTP(SEED)
    assert sorted(got) == sorted(totp.at(step * 30) for step in steps) and got[0] != got[1]
    # Later, a third worker may not reuse either step even though its own memory is empty.
    late = _FakeTime(STEP_START + 31)
    third = TotpCodes(clock=late.clock, sleep=late.sleep, used_steps=other.totp_memory())
    assert asyncio.run(third.next_code(account.account_id, SecretStr(SEED))) == totp.at((first + 2) * 30)
    other.close()


_TOTP_ASKER = """
import asyncio, json, sys, time
from pathlib import Path
from pydantic import SecretStr
from vault import MasterKey, TotpCodes
from vault.database import DatabaseVault
url, key_file, account_id, seed, start, go = sys.argv[1:7]
vault = DatabaseVault.open_url(url, MasterKey.from_key_file(Path(key_file)))
now = [float(start)]
async def sleep(seconds):
    now[0] += seconds
codes = TotpCodes(clock=lambda: now[0], sleep=sleep, used_steps=vault.totp_memory())
deadline = time.monotonic() + 60
while not Path(go).exists() and time.monotonic() < deadline:  # all askers start together
    time.sleep(0.01)
code = asyncio.run(codes.next_code(account_id, SecretStr(seed)))
print(json.dumps({"step": int(now[0] // 30), "code": code}))
"""


def test_three_processes_in_one_step_never_get_the_same_code(vault: DatabaseVault, postgres_url: str,
                                                             tmp_path: Path) -> None:
    account = vault.add_account(carrier="ridgeline", label="main", username=USERNAME, password=PASSWORD,
                                totp_secret=SEED)
    key_file, go = _key_file(vault.key, tmp_path), tmp_path / "go"
    processes = [subprocess.Popen([sys.executable, "-c", _TOTP_ASKER, postgres_url, str(key_file), account.account_id,
                                   SEED, str(STEP_START + 1), str(go)], cwd=REPO, stdout=subprocess.PIPE, text=True)
                 for _ in range(3)]
    _wait_for_connections(postgres_url, 3)
    go.touch()
    answers = [json.loads(process.communicate(timeout=120)[0]) for process in processes]
    assert all(process.returncode == 0 for process in processes)
    first = int(STEP_START // 30)
    assert sorted(a["step"] for a in answers) == [first, first + 1, first + 2]
    assert all(a["code"] == pyotp.TOTP(SEED).at(a["step"] * 30) for a in answers)
    assert len({a["code"] for a in answers}) == 3


def _wait_for_connections(postgres_url: str, count: int) -> None:
    """Until `count` askers (beside this test's own connection) have opened the vault."""
    name = postgres_url.rsplit("/", 1)[1]
    deadline = time.monotonic() + 60
    with psycopg.connect(_libpq(SERVER), autocommit=True) as admin:
        while time.monotonic() < deadline:
            row = admin.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (name,)).fetchone()
            if row is not None and row[0] >= count + 1:
                return
            time.sleep(0.05)
    pytest.fail("the TOTP askers did not open the vault within 60 s")


# --- the setting that chooses the vault ----------------------------------------------------------------

def test_vault_url_moves_the_cli_the_runner_and_the_web_app_to_the_database(postgres_url: str, tmp_path: Path,
                                                                            key: MasterKey) -> None:
    settings = Settings(data_dir=tmp_path, vault_url=postgres_url)
    assert vault_configured(settings) and not vault_exists(settings)
    created = create_vault(settings, key)
    assert isinstance(created, DatabaseVault) and vault_exists(settings)
    assert not (tmp_path / "vault.json").exists()
    opened = open_vault(settings, key)
    assert isinstance(opened, DatabaseVault) and isinstance(opened.totp_memory(), SharedTotpSteps)

    from aggregator.runner import Runner
    same_database = Repository.open(postgres_url)  # the product's tables may share the vault's database
    runner = Runner(settings=settings, repository=same_database, vault=opened,
                    pool=None)  # type: ignore[arg-type]  # no browser needed to see which memory it uses
    assert opened.accounts() == []
    same_database.engine.dispose()
    assert isinstance(runner.totp.used_steps, SharedTotpSteps)
    file_settings = Settings(data_dir=tmp_path)
    assert not vault_configured(file_settings)
    assert isinstance(create_vault(file_settings, key), Vault) and (tmp_path / "vault.json").exists()
    assert not isinstance(open_vault(file_settings, key), DatabaseVault)
    created.close()
    opened.close()


def test_cli_init_and_add_use_the_database_vault(postgres_url: str, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from aggregator.cli.vault import vault_app
    from aggregator.settings import get_settings

    monkeypatch.setenv("AGGREGATOR_VAULT_URL", postgres_url)
    get_settings.cache_clear()  # the CLI reads the environment through the cached settings
    try:
        data = ["--data-dir", str(tmp_path / "data")]
        made = CliRunner().invoke(vault_app, ["init", *data])
        assert made.exit_code == 0 and "created vault database " in made.output, made.output
        added = CliRunner().invoke(vault_app, ["add", "--carrier", "ridgeline", "--label", "main", "--stdin", *data],
                                   input=json.dumps({"username": USERNAME, "password": PASSWORD}))
        assert added.exit_code == 0, added.output
        again = CliRunner().invoke(vault_app, ["init", *data])
        assert again.exit_code == 1 and "a vault already exists at database" in again.output
    finally:
        get_settings.cache_clear()
    assert not (tmp_path / "data" / "vault.json").exists()
    shared = DatabaseVault.open_url(postgres_url, MasterKey.from_key_file(tmp_path / "data" / "vault.key"))
    assert shared.find("ridgeline", "main") is not None
    shared.close()


def test_cli_init_from_file_moves_an_existing_vault_file_into_the_database(postgres_url: str, tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from aggregator.cli.vault import vault_app
    from aggregator.settings import get_settings

    data_dir = tmp_path / "data"
    data = ["--data-dir", str(data_dir)]
    get_settings.cache_clear()
    try:
        assert CliRunner().invoke(vault_app, ["init", *data]).exit_code == 0
        refused = CliRunner().invoke(vault_app, ["init", "--from-file", *data])
        assert refused.exit_code == 1 and "set AGGREGATOR_VAULT_URL first" in refused.output
        key = MasterKey.from_key_file(data_dir / "vault.key")
        on_file = Vault.open(data_dir / "vault.json", key)
        account = on_file.add_account(carrier="ridgeline", label="main", username=USERNAME, password=PASSWORD,
                                      totp_secret=SEED)
        on_file.save_session(account.account_id, {"cookies": [{"value": COOKIE}]}, datetime.now(UTC) + timedelta(hours=1))
        file_bytes = (data_dir / "vault.json").read_bytes()

        monkeypatch.setenv("AGGREGATOR_VAULT_URL", postgres_url)
        get_settings.cache_clear()
        moved = CliRunner().invoke(vault_app, ["init", "--from-file", *data])
        assert moved.exit_code == 0 and "copied vault" in moved.output, moved.output
        again = CliRunner().invoke(vault_app, ["init", "--from-file", *data])
        assert again.exit_code == 1 and "a vault already exists at database" in again.output
    finally:
        get_settings.cache_clear()
    assert (data_dir / "vault.json").read_bytes() == file_bytes  # the file is left as it was
    shared = DatabaseVault.open_url(postgres_url, key)
    assert shared.get(account.account_id).totp_secret == SecretStr(SEED)
    assert shared.load_session(account.account_id) == {"cookies": [{"value": COOKIE}]}
    assert _row_bytes(postgres_url).startswith(file_bytes)  # the very same document
    shared.close()
