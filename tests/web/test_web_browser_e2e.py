"""In a real Chromium against the running app and the sandbox portals: a staff member signs in, sees the
worklist, runs an on-demand lookup and sees the answer and its screenshot; an auditor finds that
screenshot, verifies it, and finds their own view in the access log."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from aggregator.evidence import sha256_hex
from aggregator.runner import Runner
from aggregator.settings import Settings
from aggregator.store import Repository
from aggregator.store import web as store
from aggregator.store.tables import AppointmentRow
from aggregator.web import create_app
from aggregator.web.auth import hash_password
from aggregator.web.routes_staff import practice_today
from sandbox.accounts import vault_inputs
from sandbox.ground_truth import sample_members
from tests.e2e.fixtures import QUIET_TIME
from tests.web.server import serving
from vault import MasterKey, Vault

pytestmark = pytest.mark.e2e
PASSWORD = "front-desk-password-1"


def prepare(settings: Settings, sandbox) -> Repository:  # type: ignore[no-untyped-def]
    settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    repository = Repository.open(settings.resolved_database_url)
    for name in ("dana", "audrey"):
        store.add_user(repository, username=name, display_name=name.title(),
                       role="staff" if name == "dana" else "auditor", password_hash=hash_password(PASSWORD))
    key = MasterKey.generate()
    key.write_key_file(settings.resolved_data_dir / "vault.key")
    Vault.create(settings.resolved_vault_path, key).upsert_accounts(vault_inputs(sandbox.dataset, list(sandbox.states)))
    return repository


async def sign_in(page, base: str, username: str) -> None:  # type: ignore[no-untyped-def]
    await page.goto(base + "/")
    assert "/login" in page.url
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_load_state()


async def test_staff_lookup_then_auditor_verifies_and_sees_own_view(tmp_path, sandbox, browser_pool, portals):
    settings = Settings(data_dir=tmp_path / "data")
    repository = prepare(settings, sandbox)
    sample = sample_members(sandbox.dataset, "ridgeline", 1, kinds=("active_subscriber",))[0]
    today = datetime.now(UTC)
    with repository.session() as s:  # one appointment on today's worklist, not checked yet
        s.add(AppointmentRow(id="walk-in-1", starts_at=today.replace(hour=15, minute=30), service_date=practice_today_of(settings),
                             patient_last_name="Sample", patient_first_name="Pat", patient_dob=sample.query.date_of_birth,
                             carrier="ridgeline", member_id=sample.query.member_id, source="test.csv",
                             fingerprint="0" * 64, imported_at=today, updated_at=today))
        s.commit()
    runners: list[Runner] = []

    async def provider() -> Runner:
        if not runners:
            runners.append(Runner(settings=settings, repository=Repository.open(settings.resolved_database_url),
                                  vault=Vault.open(settings.resolved_vault_path, MasterKey.resolve(settings)),
                                  pool=browser_pool, base_urls=sandbox.urls, clock=lambda: QUIET_TIME))
        return runners[0]

    app = create_app(settings, runner_provider=provider)
    context = await browser_pool.new_context()
    try:
        async with serving(app) as base:
            page = await context.new_page()
            # --- staff: worklist, then an on-demand lookup ---
            await sign_in(page, base, "dana")
            assert page.url.startswith(base + "/worklist")
            assert "Sample, Pat" in await page.inner_text("table.worklist")
            await page.click("text=Lookup")
            await page.select_option("select[name=carrier]", "ridgeline")
            await page.fill("input[name=member_id]", sample.query.member_id)
            await page.fill("input[name=date_of_birth]", sample.query.date_of_birth.isoformat())
            await page.fill("input[name=service_date]", sample.query.service_date.isoformat())
            await page.click("form.lookup-form button[type=submit]")
            await page.wait_for_selector("#progress, #result-state")  # progress while it runs
            await page.wait_for_selector("#result-state", timeout=60_000)
            assert "done" in await page.inner_text("#result-state")
            expected = sample.expected
            body = await page.inner_text("main")
            assert expected.plan.name in body and "ACTIVE" in body and expected.member.member_id in body
            lookup_id = re.search(r"/lookups/([0-9a-f]{32})", await page.content()).group(1)  # type: ignore[union-attr]
            stored = repository.records_for_lookup(lookup_id)
            assert [r.without_provenance() for r in stored] == [expected]  # the page shows what was stored: the truth
            image = page.locator(".thumbs img").first
            await image.wait_for()
            # Wait for the image to finish loading (staff's copy is masked on request, so it takes a moment).
            await image.evaluate("img => img.complete || new Promise(done => { img.onload = img.onerror = done; })")
            assert await image.evaluate("img => img.complete && img.naturalWidth > 100")
            evidence_id = re.search(r"/evidence/([0-9a-f]{32})/screenshot", await image.get_attribute("src") or "").group(1)  # type: ignore[union-attr]
            await staff_sees_masked_evidence(page, base, settings, repository, evidence_id)
            await page.click("text=Sign out")
            assert "/login" in page.url

            # --- auditor: find the screenshot, verify it, see the view in the access log ---
            await sign_in(page, base, "audrey")
            assert page.url.startswith(base + "/audit/evidence")
            await page.fill("input[name=member_id]", sample.query.member_id)
            await page.click("form.filters button[type=submit]")
            await page.click(f"a[href='/audit/evidence/{evidence_id}']")
            row = repository.evidence(evidence_id)
            shown_sha = await page.inner_text("dl.meta")
            file_sha = sha256_hex((settings.resolved_snapshots_dir / row.screenshot_path).read_bytes())
            assert row.screenshot_sha256 == file_sha and file_sha in shown_sha and row.url in shown_sha
            await page.click("#verify")
            assert "Verified" in await page.inner_text("#verify-result")
            await page.click("text=Access log")
            log_text = await page.inner_text("table.access-log")
            mine = [line for line in log_text.splitlines() if "audrey" in line and evidence_id in line]
            assert any("\tview\t" in line for line in mine) and any("verify" in line for line in mine), log_text
            assert any("dana" in line and lookup_id in line for line in log_text.splitlines())
    finally:
        await context.close()
        for runner in runners:
            await runner.close()


async def staff_sees_masked_evidence(page, base: str, settings: Settings, repository: Repository,  # type: ignore[no-untyped-def]
                                     evidence_id: str) -> None:
    """The portal's header says "Logged in as <portal user>": the boxes found at capture black it out in
    staff's PNG, and staff's HTML has the name replaced; the stored originals still hold it."""
    from io import BytesIO

    from PIL import Image

    from aggregator.evidence_mask import boxes_from_json

    usernames = [a.username.get_secret_value() for a in
                 Vault.open(settings.resolved_vault_path, MasterKey.resolve(settings)).accounts("ridgeline")]
    row = repository.evidence(evidence_id)
    original_html = (settings.resolved_snapshots_dir / row.html_path).read_text()
    assert any(name in original_html for name in usernames) and "Logged in as" in original_html
    boxes = boxes_from_json(row.mask_boxes)
    assert boxes, "no box recorded for the portal user's name"
    html = await page.request.get(f"{base}/evidence/{evidence_id}/html")
    text = await html.text()
    assert html.ok and "•••" in text
    assert not any(name in text for name in usernames) and "Logged in as" not in text
    png = await page.request.get(f"{base}/evidence/{evidence_id}/screenshot")
    masked = Image.open(BytesIO(await png.body())).convert("RGB")
    original = Image.open(settings.resolved_snapshots_dir / row.screenshot_path).convert("RGB")
    assert masked.size == original.size
    x, y, w, h = boxes[0]
    inside = [(x + dx, y + dy) for dx in range(0, w, 3) for dy in range(0, h, 3)]
    assert all(masked.getpixel(p) == (0, 0, 0) for p in inside)
    assert any(original.getpixel(p) != (0, 0, 0) for p in inside)  # the name was there, in the original
    # The header's white name on grey: some of its pixels are light in the original.
    assert max(sum(original.getpixel(p)) for p in inside) > 600


def practice_today_of(settings: Settings):  # type: ignore[no-untyped-def]
    class _Request:  # practice_today reads the settings through the request's app
        class app:  # noqa: N801
            class state:  # noqa: N801
                web = type("Ctx", (), {"settings": settings})

    return practice_today(_Request)  # type: ignore[arg-type]
