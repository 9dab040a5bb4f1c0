"""`aggregator vault change-password` as an admin runs it (a process of its own, the sandbox portal): exit 0
and the vault holds the portal's new password, which the command never prints; a portal the product cannot
change passwords on is exit 3 with the reason; an unknown portal or account is a usage error (exit 2)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

from vault import MasterKey, Vault

LABEL = "frontdesk"


def _env(settings: Any, sandbox: Any) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGGREGATOR_")}
    env.update(AGGREGATOR_DATA_DIR=str(settings.resolved_data_dir), AGGREGATOR_CARRIER_URLS=json.dumps(sandbox.urls),
               AGGREGATOR_RESPECT_MAINTENANCE_WINDOWS="false")
    return env


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aggregator", "vault", "change-password", *args], env=env,
                          capture_output=True, text=True, timeout=180)


def test_the_command_changes_the_password_and_never_prints_it(sandbox, portals, settings, vault):
    state = portals["cascade"]
    username = next(a.username for a in state.data.accounts if a.label == LABEL)
    old = state.current_password(username)
    vault.close()

    done = _run(_env(settings, sandbox), "--portal", "cascade", "--account", LABEL)

    assert done.returncode == 0, done.stderr[-2000:]
    assert "changed the password of cascade/frontdesk" in done.stdout
    new = state.current_password(username)
    assert new != old
    assert new not in done.stdout + done.stderr and old not in done.stdout + done.stderr
    reread = Vault.open(settings.resolved_vault_path, MasterKey.resolve(settings))
    try:
        account = reread.find("cascade", LABEL)
        assert account is not None and account.password.get_secret_value() == new
        assert account.password_change_stage is None
    finally:
        reread.close()
    assert state.stats()["accounts"][username]["failed_logins"] == 0


def test_what_cannot_be_changed_is_said_with_its_exit_code(sandbox, portals, settings, vault):
    vault.close()
    env = _env(settings, sandbox)
    no_policy = _run(env, "--portal", "ridgeline", "--account", LABEL)
    assert no_policy.returncode == 3 and "cannot change passwords on Ridgeline" in no_policy.stderr
    unknown_account = _run(env, "--portal", "cascade", "--account", "nobody")
    assert unknown_account.returncode == 2 and "no account cascade/nobody" in unknown_account.stderr
    unknown_portal = _run(env, "--portal", "no-such-portal", "--account", LABEL)
    assert unknown_portal.returncode == 2 and "unknown carrier 'no-such-portal'" in unknown_portal.stderr
    for result in (no_policy, unknown_account, unknown_portal):
        assert "Traceback" not in result.stderr
    assert all(s["login_attempts"] == 0 for s in portals["ridgeline"].stats()["accounts"].values())


def test_a_code_by_text_is_asked_at_the_terminal(sandbox, portals, settings, vault):
    """Crossway ID texts a code at the fresh sign-in: the command asks for it (a hidden prompt, here on
    standard input: no terminal in its own session) and goes on; neither the code nor a password is printed."""
    hub = sandbox.hubs["crossway"]
    username = next(a.username for a in hub.directory.accounts if a.role == LABEL)
    old = hub.idp.passwords[username]
    hub.idp.set_second_factor(username, "sms")
    vault.close()
    process = subprocess.Popen([sys.executable, "-m", "aggregator", "vault", "change-password", "--portal", "crossway",
                                "--account", LABEL], env=_env(settings, sandbox), stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while not hub.idp.outbox_for(username):  # the state: Crossway ID sent the code
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "no code was sent"
            time.sleep(0.05)
        code = hub.idp.outbox_for(username)[-1]["code"]
        out, err = process.communicate(f"{code}\n", timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err[-2000:]
    new = hub.idp.passwords[username]
    assert new != old
    assert all(secret not in out + err for secret in (code, new, old))
    assert "asks for a code" in err
    reread = Vault.open(settings.resolved_vault_path, MasterKey.resolve(settings))
    try:
        account = reread.find("crossway", LABEL)
        assert account is not None and account.password.get_secret_value() == new
    finally:
        reread.close()
    assert len(hub.idp.outbox_for(username)) == 1  # one sign-in, one code
