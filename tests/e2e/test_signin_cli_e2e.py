"""`aggregator signin` as a person at a terminal runs it (a separate process, its own data directory), against
the sandbox's Crossway with Crossway ID texting the code: the code fed on standard input signs the account in
(exit 0); a wrong one is tried once and the command says what to do (exit 3). The code is never printed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox.accounts import vault_inputs
from vault import MasterKey, Vault

AGGREGATOR = [sys.executable, "-m", "aggregator"]
DEADLINE_SECONDS = 90


@pytest.fixture
def signin_env(tmp_path: Path, sandbox: Any, portals: Any) -> dict[str, str]:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    key = MasterKey.generate()
    key.write_key_file(data / "vault.key")
    Vault.create(data / "vault.json", key).upsert_accounts(vault_inputs(sandbox.dataset, list(sandbox.urls)))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGGREGATOR_")}
    env.update(AGGREGATOR_DATA_DIR=str(data), AGGREGATOR_CARRIER_URLS=json.dumps(sandbox.urls),
               AGGREGATOR_RESPECT_MAINTENANCE_WINDOWS="false")
    return env


@pytest.fixture
def texted(sandbox: Any, portals: Any) -> Iterator[tuple[httpx.Client, str]]:
    """Crossway ID's controls, and the `frontdesk` user, whose second factor is now a code by text message."""
    hub = sandbox.hubs["crossway"]
    username = next(a.username for a in hub.directory.accounts if a.role == "frontdesk")
    with httpx.Client(base_url=hub.idp_url) as idp:
        assert idp.post("/_sandbox/second-factor", json={"username": username, "kind": "sms"}).status_code == 200
        yield idp, username


def sign_in_typing(env: dict[str, str], idp: httpx.Client, username: str, typed: Any) -> tuple[int, str, str, str]:
    """Run the command; once Crossway ID has texted the code, type `typed(code)` on its standard input.
    (exit code, stdout, stderr, the code that was texted)."""
    process = subprocess.Popen([*AGGREGATOR, "signin", "--portal", "crossway", "--account", "frontdesk"], env=env,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + DEADLINE_SECONDS
        while not (messages := idp.get("/_sandbox/outbox", params={"username": username}).json()["messages"]):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "Crossway ID sent no code"
            time.sleep(0.05)
        code = str(messages[-1]["code"])
        out, err = process.communicate(f"{typed(code)}\n", timeout=DEADLINE_SECONDS)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return process.returncode, out, err, code


def test_signin_with_the_texted_code_on_stdin(signin_env, texted, sandbox):
    idp, username = texted
    status, out, err, code = sign_in_typing(signin_env, idp, username, lambda code: code)
    assert status == 0, (out, err)
    assert "text message" in out  # where the code went, in the portal's words
    assert "Signed in. 0 blocked checks were run again." in out
    assert code not in out and code not in err
    stats = sandbox.hubs["crossway"].idp.stats()
    assert stats["accounts"][username]["successful_logins"] == 1 and stats["totals"]["codes_wrong"] == 0


def test_signin_with_a_wrong_code_exits_3_and_says_what_to_do(signin_env, texted, sandbox):
    idp, username = texted
    status, out, err, code = sign_in_typing(signin_env, idp, username, lambda code: f"{(int(code) + 1) % 1_000_000:06d}")
    assert status == 3, (out, err)
    assert "Not signed in" in err and "Sign in again to get a new code" in err
    assert code not in out and code not in err
    stats = sandbox.hubs["crossway"].idp.stats()
    assert stats["totals"]["codes_wrong"] == 1 and not stats["accounts"][username]["locked"]
