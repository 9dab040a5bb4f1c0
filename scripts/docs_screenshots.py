"""Screenshots of the web app's main pages for docs/web.md (`make docs-screenshots`).

Starts the sandbox portals, makes a throwaway data directory with the sandbox's portal accounts in a
vault, three users (admin, staff, auditor), a day of sandbox appointments checked by the batch, then
serves the app on loopback and captures each page at 1280x800 into docs/screenshots/. Run it again
whenever a page changes, so the pictures stay true.
"""

from __future__ import annotations

import asyncio
import re
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aggregator.settings import Settings  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
PASSWORD = "docs-screenshots-password"
QUIET_TIME = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)  # outside every maintenance window
USERS = {"morgan": ("Morgan Admin", "admin"), "dana": ("Dana Desk", "staff"), "audrey": ("Audrey Auditor", "auditor")}


def prepare(settings: Settings, sandbox) -> None:  # type: ignore[no-untyped-def]
    from aggregator.overnight.appointments import import_appointments
    from aggregator.store import Repository
    from aggregator.store import web as store
    from aggregator.web.auth import hash_password
    from sandbox.accounts import vault_inputs
    from sandbox.appointments import appointment_list, write_csv
    from vault import MasterKey, Vault

    settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    repository = Repository.open(settings.resolved_database_url)
    for username, (name, role) in USERS.items():
        store.add_user(repository, username=username, display_name=name, role=role, password_hash=hash_password(PASSWORD))
    key = MasterKey.generate()
    key.write_key_file(settings.resolved_data_dir / "vault.key")
    vault = Vault.create(settings.resolved_vault_path, key)
    vault.upsert_accounts(vault_inputs(sandbox.dataset, list(sandbox.states)))
    rows = appointment_list(sandbox.dataset, sandbox.dataset.as_of, 12, carriers=tuple(sandbox.states))
    import_appointments(repository, write_csv(rows, settings.resolved_data_dir / "appointments.csv"))


async def capture(settings: Settings, sandbox) -> list[Path]:  # type: ignore[no-untyped-def]
    from aggregator.overnight.batch import BatchRun
    from aggregator.runner import Runner
    from aggregator.web import create_app
    from sandbox.ground_truth import sample_members
    from tests.web.server import serving

    day = sandbox.dataset.as_of
    shots: list[Path] = []
    async with Runner.open(settings, base_urls=sandbox.urls, clock=lambda: QUIET_TIME,
                           respect_maintenance_windows=False) as runner:
        await BatchRun(runner, day, trigger="cli").run()

        async def provider() -> Runner:
            return runner

        app = create_app(settings, runner_provider=provider)
        context = await runner.pool.new_context()
        page = await context.new_page()
        await page.set_viewport_size({"width": 1280, "height": 800})

        async def shot(name: str) -> None:
            path = OUT / f"{name}.png"
            await page.screenshot(path=str(path))
            shots.append(path)
            print(f"  {path.relative_to(ROOT)}")

        async def sign_in(username: str) -> None:
            await page.goto(base + "/login")
            await page.fill("input[name=username]", username)
            await page.fill("input[name=password]", PASSWORD)
            await page.click("form[action='/login'] button")
            await page.wait_for_load_state()

        async def sign_out() -> None:
            await page.click("text=Sign out")

        try:
            async with serving(app) as base:
                await page.goto(base + "/")
                await shot("login")
                await sign_in("dana")
                await page.goto(f"{base}/worklist?date={day.isoformat()}")
                await shot("worklist")
                first = await page.get_attribute("table.worklist a[href^='/appointments/']", "href")
                await page.goto(base + (first or "/worklist"))
                await shot("appointment")
                sample = sample_members(sandbox.dataset, "ridgeline", 1, kinds=("active_subscriber",))[0]
                await page.goto(base + "/lookups/new")
                await page.select_option("select[name=carrier]", "ridgeline")
                await page.fill("input[name=member_id]", sample.query.member_id)
                await page.fill("input[name=date_of_birth]", sample.query.date_of_birth.isoformat())
                await page.fill("input[name=service_date]", sample.query.service_date.isoformat())
                await page.check("input[value=authorizations]")
                await page.fill("input[name=service_type]", "62")
                await shot("lookup-form")
                await page.click("form.lookup-form button[type=submit]")
                await page.wait_for_selector("#result-state", timeout=60_000)
                await shot("lookup-result")
                evidence = re.search(r"/evidence/([0-9a-f]{32})/screenshot", await page.content())
                await sign_out()
                await sign_in("audrey")
                await shot("evidence-browser")
                if evidence:
                    await page.goto(f"{base}/audit/evidence/{evidence.group(1)}")
                    await page.click("#verify")
                    await page.wait_for_selector("#verify-result")
                    await shot("evidence-viewer")
                await page.goto(base + "/audit/access-log")
                await shot("access-log")
                await sign_out()
                await sign_in("morgan")
                await page.goto(base + "/admin/accounts")
                await shot("admin-accounts")
                await page.goto(base + "/admin/users")
                await shot("admin-users")
        finally:
            await context.close()
    return shots


def main() -> int:
    from sandbox.server import start_sandbox

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="docs-shots-") as tmp, start_sandbox() as sandbox:
        settings = Settings(data_dir=Path(tmp) / "data")
        prepare(settings, sandbox)
        print("capturing pages:")
        shots = asyncio.run(capture(settings, sandbox))
    print(f"{len(shots)} screenshots in {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
