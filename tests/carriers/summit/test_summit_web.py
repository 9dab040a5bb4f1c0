"""Summit Health Plan in the web lookup form: the portal answers eligibility only, so the form offers only that, and
a request for authorizations or claims (form or API) answers "not available at this carrier" with the
call-the-payer item, without asking the portal (the test app has no portal runner at all).

When the adapter learns another capability, its manifest declares it and these tests change with it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from aggregator.settings import Settings
from aggregator.web import create_app
from tests.web.conftest import login, no_runner, page_token, seed_data

CARRIER = "summit"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    seed = seed_data(Settings(data_dir=tmp_path / "data"))
    with TestClient(create_app(seed.settings, runner_provider=no_runner), base_url="http://127.0.0.1") as client:
        yield login(client, "staff")


def checkbox(html: str, check: str) -> str:
    found = re.search(rf'<label class="inline" data-check="{check}">.*?</label>', html, re.S)
    assert found, f"no {check} checkbox"
    return found.group(0)


def test_the_form_offers_only_eligibility(client: TestClient) -> None:
    page = client.get(f"/lookups/new?carrier={CARRIER}").text
    assert re.search(rf'<option value="{CARRIER}" data-checks="eligibility" selected>', page)
    assert "disabled" not in checkbox(page, "eligibility")
    for check in ("authorizations", "claims"):
        box = checkbox(page, check)
        assert "disabled" in box and "not available at this carrier" in box


def test_asking_for_authorizations_answers_not_available_at_this_carrier(client: TestClient) -> None:
    fields = {"carrier": CARRIER, "member_id": "SU123456789", "date_of_birth": "1980-01-01",
              "service_date": "2026-12-01", "checks": ["authorizations"], "csrf_token": page_token(client)}
    response = client.post("/lookups", data=fields, follow_redirects=False)
    assert response.status_code == 303, response.text
    job_id = response.headers["location"].rsplit("/", 1)[-1]
    client.portal.call(client.app.state.web.jobs.wait_all)  # the app's jobs run in its own event loop
    status = client.get(f"/lookups/jobs/{job_id}/status").json()
    # The app's runner provider raises: a job that asked the portal would have failed.
    assert status["state"] == "done" and status["outcomes"] == {"authorizations": "not_available"}
    assert status["not_available"]["authorizations"]["call_the_payer"]
    assert "not available at this carrier" in client.get(f"/lookups/jobs/{job_id}").text
