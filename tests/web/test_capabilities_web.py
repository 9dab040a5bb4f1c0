"""The web lookup form and API ask a carrier only what its manifest declares.

With a test-only eligibility-only carrier ("eligonly") in the registry: the form offers it only eligibility,
and a request for authorizations or claims (form or API) answers "not available at this carrier" with
the call-the-payer item, without a runner (so without a browser or a login) and without a 500.
"""

from __future__ import annotations

import asyncio
import html
import re

import pytest
from fastapi.testclient import TestClient

from aggregator.flows.capabilities import call_the_payer
from aggregator.models import ServiceType
from aggregator.overnight.batch import BatchOptions, BatchRun
from aggregator.scrapers import registry
from aggregator.scrapers.framework import Capability
from aggregator.web import create_app
from aggregator.web.lookups import LookupJob, LookupRequest
from tests.unit.test_capabilities import (
    DAY,
    EligonlyAdapter,
    NoEligibilityAdapter,
    PortalRunner,
    active_members,
    add_visits,
)
from tests.web.conftest import PASSWORDS, Seed, login, page_token
from tests.web.server import serving
from vault import MasterKey, Vault


@pytest.fixture(autouse=True)
def eligonly(monkeypatch):  # type: ignore[no-untyped-def]
    real = registry._adapters()
    monkeypatch.setattr(registry, "_adapters", lambda: {**real, "eligonly": EligonlyAdapter,
                                                         "claimsonly": NoEligibilityAdapter})


def wait_for_jobs(client: TestClient) -> None:
    """Until every started lookup job has finished (waited for in the app's own event loop)."""
    client.portal.call(client.app.state.web.jobs.wait_all)  # type: ignore[union-attr]


def finished(client: TestClient, job_id: str) -> dict:
    """The job's status (as the page polls it) once it has finished."""
    wait_for_jobs(client)
    return client.get(f"/lookups/jobs/{job_id}/status").json()


def form(**fields: object) -> dict:
    return {"carrier": "eligonly", "member_id": "RM1", "date_of_birth": "1990-01-01",
            "service_date": DAY.isoformat(), **fields}


def checkbox(html: str, check: str) -> str:
    found = re.search(rf'<label class="inline" data-check="{check}">.*?</label>', html, re.S)
    assert found, f"no {check} checkbox"
    return found.group(0)


def test_the_form_offers_an_eligibility_only_carrier_only_eligibility(client: TestClient) -> None:
    login(client, "staff")
    page = client.get("/lookups/new?carrier=eligonly").text
    assert re.search(r'<option value="eligonly" data-checks="eligibility" selected>', page)
    assert "disabled" not in checkbox(page, "eligibility")
    for check in ("authorizations", "claims"):
        box = checkbox(page, check)
        assert "disabled" in box and "checked" not in box and "not available at this carrier" in box
        assert " hidden" not in box
    assert '<script src="/static/lookup_form.js"></script>' in page
    # The other carriers declare everything: each option says so for the page's script.
    assert 'data-checks="eligibility authorizations claims"' in page
    ridgeline = client.get("/lookups/new?carrier=ridgeline").text
    assert "disabled" not in checkbox(ridgeline, "authorizations")


def test_asking_the_form_for_authorizations_answers_not_available_without_a_runner(client: TestClient) -> None:
    login(client, "staff")
    response = client.post("/lookups", data={**form(checks=["authorizations", "claims"]),
                                              "csrf_token": page_token(client)}, follow_redirects=False)
    assert response.status_code == 303, response.text
    job_id = response.headers["location"].rsplit("/", 1)[-1]
    status = finished(client, job_id)
    # The test app's runner provider raises: a job that asked for a runner would have failed.
    assert status["state"] == "done" and status["error"] is None
    assert status["outcomes"] == {"authorizations": "not_available", "claims": "not_available"}
    assert status["lookup_ids"] == {} and status["done"] == status["total"] == 2
    call = call_the_payer(EligonlyAdapter.manifest, Capability.AUTHORIZATION)
    assert status["not_available"]["authorizations"]["call_the_payer"] == call
    page = client.get(f"/lookups/jobs/{job_id}")
    assert page.status_code == 200
    assert "not available at this carrier" in page.text and "Call Eligonly Health provider services" in page.text


def test_the_api_answers_not_available_for_an_undeclared_check(client: TestClient, seed: Seed) -> None:
    headers = {"Authorization": f"Bearer {seed.api_tokens['staff']}"}
    started = client.post("/api/lookups", json=form(checks=["authorizations"]), headers=headers)
    assert started.status_code == 202, started.text
    job_id = started.json()["id"]
    wait_for_jobs(client)
    job = client.get(f"/api/lookups/jobs/{job_id}", headers=headers).json()
    assert job["state"] == "done" and job["outcomes"] == {"authorizations": "not_available"}
    gap = job["not_available"]["authorizations"]
    assert "not available at this carrier" in gap["reason"]
    assert gap["call_the_payer"] == call_the_payer(EligonlyAdapter.manifest, Capability.AUTHORIZATION)


def test_eligibility_still_runs_and_the_visit_gets_the_call(seed: Seed) -> None:
    runner = PortalRunner(seed.settings, seed.repository, None)  # type: ignore[arg-type]

    async def provider():  # type: ignore[no-untyped-def]
        return runner

    member = active_members(1)[0]
    with TestClient(create_app(seed.settings, runner_provider=provider), base_url="http://127.0.0.1") as client:
        login(client, "staff")
        fields = form(checks=["eligibility", "authorizations"], member_id=member.member_id,
                      date_of_birth=member.date_of_birth.isoformat(), last_name=member.last_name, service_type="62")
        response = client.post("/lookups", data={**fields, "csrf_token": page_token(client)}, follow_redirects=False)
        job_id = response.headers["location"].rsplit("/", 1)[-1]
        status = finished(client, job_id)
        assert runner.calls == [("eligibility", "eligonly")]
        assert status["outcomes"] == {"authorizations": "not_available", "eligibility": "found"}
        answer = client.get(f"/api/lookups/jobs/{job_id}",
                            headers={"Authorization": f"Bearer {seed.api_tokens['staff']}"}).json()["authorization_answer"]
        assert answer["status"] == "not_available" and answer["required"] == "Y"
        assert answer["missing"][-1] == call_the_payer(EligonlyAdapter.manifest, Capability.AUTHORIZATION,
                                                       ServiceType.MRI_CAT_SCAN)
        assert "not available at this carrier" in client.get(f"/lookups/jobs/{job_id}").text


async def _batch_for_eligonly(seed: Seed, tmp_path) -> None:  # type: ignore[no-untyped-def]
    vault = Vault.create(tmp_path / "eligonly-vault.json", MasterKey.generate())
    vault.add_account(carrier="eligonly", label="frontdesk", username="user", password="pw")
    add_visits(seed.repository, "eligonly", [("62", "70551")])
    await BatchRun(PortalRunner(seed.settings, seed.repository, vault), DAY,  # type: ignore[arg-type]
                   options=BatchOptions(deadline_seconds=30)).run()


def test_the_worklist_page_and_api_show_not_available_and_the_call(client: TestClient, seed: Seed, tmp_path) -> None:
    asyncio.run(_batch_for_eligonly(seed, tmp_path))
    call = call_the_payer(EligonlyAdapter.manifest, Capability.AUTHORIZATION, ServiceType.MRI_CAT_SCAN)
    login(client, "staff")
    page = html.unescape(client.get(f"/worklist?date={DAY.isoformat()}").text)
    assert "not available at this carrier (70551)" in page and call in page
    rows = client.get(f"/api/worklist?day={DAY.isoformat()}",
                      headers={"Authorization": f"Bearer {seed.api_tokens['staff']}"}).json()["rows"]
    row = next(r for r in rows if r["carrier"] == "eligonly")
    assert row["state"] == "verified" and row["reason_code"] == "not_available_at_carrier"
    assert row["action"] == call and row["call_the_payer"] == [call] and row["authorization_lookup_id"] is None


async def test_the_form_follows_the_chosen_carrier_in_a_browser(app, browser_pool) -> None:  # type: ignore[no-untyped-def]
    """The page's script (static/lookup_form.js): choosing eligonly disables authorizations and claims and says why;
    choosing a carrier that declares them offers them again."""
    context = await browser_pool.new_context()
    try:
        async with serving(app) as base:
            page = await context.new_page()
            await page.goto(base + "/login")
            await page.fill("input[name=username]", "staff")
            await page.fill("input[name=password]", PASSWORDS["staff"])
            await page.click("button[type=submit]")
            await page.wait_for_load_state()
            await page.goto(base + "/lookups/new")
            authorizations = page.locator("input[name=checks][value=authorizations]")
            note = page.locator("label[data-check=authorizations] .not-available")
            await page.select_option("select[name=carrier]", "eligonly")
            assert await authorizations.is_disabled() and await note.is_visible()
            assert await page.locator("input[name=checks][value=eligibility]").is_enabled()
            await page.select_option("select[name=carrier]", "ridgeline")
            assert await authorizations.is_enabled() and not await note.is_visible()
    finally:
        await context.close()


def test_a_lookup_job_plans_only_what_the_carrier_declares() -> None:
    def job(carrier: str, checks: list[str]) -> LookupJob:
        made = LookupJob(id="j", user_id="u", request=LookupRequest(**form(carrier=carrier, checks=checks)))
        made.leave_out_undeclared(registry.adapter_for(carrier).manifest)
        return made

    everything = job("eligonly", ["claims", "authorizations", "eligibility"])
    assert everything.planned == ["eligibility"]
    assert everything.outcomes == {"claims": "not_available", "authorizations": "not_available"}
    # The prior-auth answer's eligibility is added only where the carrier has eligibility to ask.
    no_eligibility = job("claimsonly", ["authorizations"])
    assert no_eligibility.planned == ["authorizations"] and no_eligibility.outcomes == {}
    assert job("ridgeline", ["authorizations"]).planned == ["eligibility", "authorizations"]
