"""Concurrent writers (processes and threads) never corrupt the file or lose an update."""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path

from vault import MasterKey, Vault


def _writer(path: str, key_b64: str, worker: int, count: int) -> None:
    vault = Vault.open(Path(path), MasterKey.from_base64(key_b64))
    for i in range(count):
        vault.add_account(carrier=f"carrier{worker}", label=f"acct{i}", username=f"user-{worker}-{i}",
                          password=f"pw-{worker}-{i}-secret")


def test_eight_processes_times_ten_adds(tmp_path: Path) -> None:
    raw = MasterKey.generate()
    key_b64 = _key_b64(raw, tmp_path)
    path = tmp_path / "vault.json"
    Vault.create(path, MasterKey.from_base64(key_b64))
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_writer, args=(str(path), key_b64, w, 10)) for w in range(8)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=60)
        assert process.exitcode == 0

    accounts = Vault.open(path, MasterKey.from_base64(key_b64)).accounts()
    assert len(accounts) == 80
    assert {(a.carrier, a.label) for a in accounts} == {(f"carrier{w}", f"acct{i}") for w in range(8) for i in range(10)}
    assert all(a.password.get_secret_value() == f"pw-{a.carrier[7:]}-{a.label[4:]}-secret" for a in accounts)
    assert not list(tmp_path.glob(".vault.json.*.tmp"))  # no temp files left behind


def test_threads_sharing_or_not_sharing_a_vault_object(tmp_path: Path) -> None:
    key = MasterKey.generate()
    path = tmp_path / "vault.json"
    shared = Vault.create(path, key)

    def run(worker: int) -> None:
        vault = shared if worker % 2 else Vault.open(path, key)
        for i in range(10):
            vault.add_account(carrier="ridgeline", label=f"w{worker}-{i}", username="u", password="pw-secret")

    threads = [threading.Thread(target=run, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(Vault.open(path, key).accounts()) == 80
    assert len(shared.accounts()) == 80


def _key_b64(key: MasterKey, tmp_path: Path) -> str:
    """The base64 text of a generated key, through the same key-file format users get."""
    key_file = tmp_path / "k.key"
    key.write_key_file(key_file)
    return key_file.read_text().strip()
