"""The admin's "Change password" (the accounts page and the account's own page, the link the taxonomy gives
for an expiring or expired password): the product changes the Cascade password on the real sandbox portal,
the page says so without ever showing a password, and the vault holds what the portal now accepts. A portal
the product cannot change passwords on offers no button, and a post says why (nothing is tried)."""

from __future__ import annotations

import re

import httpx

from aggregator.runner import Runner
from aggregator.settings import Settings
from aggregator.store import Repository
from aggregator.store import web as web_store
from aggregator.web import create_app
from aggregator.web.auth import hash_password
from sandbox.accounts import vault_inputs
from tests.e2e.fixtures import QUIET_TIME
from tests.web.conftest import csrf_of
from tests.web.server import serving
from vault import MasterKey, Vault

ADMIN_PASSWORD = "admin-password-0001"


async def _signed_in(client: httpx.AsyncClient) -> str:
    page = await client.get("/login")
    answer = await client.post("/login", data={"username": "ada", "password": ADMIN_PASSWORD,
                                               "csrf_token": csrf_of(page.text), "next": "/"})
    assert answer.status_code == 303, answer.text
    return csrf_of((await client.get("/admin/accounts")).text)


async def test_an_admin_changes_a_portal_password_from_the_account_page(tmp_path, sandbox, browser_pool, portals):
    state = portals["cascade"]
    username = next(a.username for a in state.data.accounts if a.label == "frontdesk")
    old = state.current_password(username)
    settings = Settings(data_dir=tmp_path / "data")
    settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    repository = Repository.open(settings.resolved_database_url)
    web_store.add_user(repository, username="ada", display_name="Ada", role="admin",
                       password_hash=hash_password(ADMIN_PASSWORD))
    key = MasterKey.generate()
    key.write_key_file(settings.resolved_data_dir / "vault.key")
    Vault.create(settings.resolved_vault_path, key).upsert_accounts(vault_inputs(sandbox.dataset, list(sandbox.urls)))
    runner = Runner(settings=settings, repository=Repository.open(settings.resolved_database_url),
                    vault=Vault.open(settings.resolved_vault_path, MasterKey.resolve(settings)), pool=browser_pool,
                    base_urls=sandbox.urls, clock=lambda: QUIET_TIME)

    async def provider() -> Runner:
        return runner

    try:
        async with serving(create_app(settings, runner_provider=provider)) as base, \
                httpx.AsyncClient(base_url=base, timeout=120) as client:
            csrf = await _signed_in(client)
            listing = (await client.get("/admin/accounts")).text
            assert 'action="/admin/accounts/cascade/frontdesk/password"' in listing
            assert 'action="/admin/accounts/ridgeline/frontdesk/password"' not in listing  # no policy: no button
            account_page = await client.get("/admin/accounts/cascade/frontdesk")
            assert account_page.status_code == 200 and 'id="change-password"' in account_page.text

            changed = await client.post("/admin/accounts/cascade/frontdesk/password", data={"csrf_token": csrf})

            assert changed.status_code == 200, changed.text
            assert re.search(r'id="password-change-outcome" data-ok="1"', changed.text)
            new = state.current_password(username)
            assert new != old and new not in changed.text and old not in changed.text
            refused = await client.post("/admin/accounts/ridgeline/frontdesk/password", data={"csrf_token": csrf})
            assert refused.status_code == 409 and "cannot change passwords on this portal" in refused.text
            missing = await client.get("/admin/accounts/cascade/nobody")
            assert missing.status_code == 404
    finally:
        await runner.close()
    reread = Vault.open(settings.resolved_vault_path, MasterKey.resolve(settings))
    try:
        account = reread.find("cascade", "frontdesk")
        assert account is not None and account.password.get_secret_value() == new
        assert account.password_change_stage is None
    finally:
        reread.close()
    assert all(s["login_attempts"] == 0 for s in portals["ridgeline"].stats()["accounts"].values())
