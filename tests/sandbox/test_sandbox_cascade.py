"""Cascade sandbox portal in-process: frameset, login steps, notices, viewstate, faults, EOB download."""

from __future__ import annotations

import pytest

from sandbox.cascade.app import IDLE_TIMEOUT_SECONDS
from sandbox.cascade.client import Portal
from sandbox.dataset import generate_dataset
from sandbox.faults import FaultSettings


@pytest.fixture(scope="module")
def dataset():  # type: ignore[no-untyped-def]
    return generate_dataset()


def _login_page(portal: Portal) -> str:
    return portal.client.get("/Main.aspx").text


def test_short_idle_timeout_is_cascades_own_default_and_survives_reset(dataset) -> None:  # type: ignore[no-untyped-def]
    portal = Portal(dataset)
    assert portal.state.faults.idle_timeout_seconds == IDLE_TIMEOUT_SECONDS == 300
    portal.state.update_faults({"idle_timeout_seconds": 2})
    portal.state.reset()
    assert portal.state.faults.idle_timeout_seconds == 300
    assert FaultSettings().idle_timeout_seconds == 900  # other portals keep the common default


def test_login_passes_question_announcement_and_notice_then_frameset(dataset) -> None:  # type: ignore[no-untyped-def]
    portal = Portal(dataset)  # logs in the billing account: question, announcement (first login)
    account = dataset.carrier("cascade").accounts[1]
    stats = portal.state.stats()["accounts"][account.username]
    assert (stats["login_attempts"], stats["mfa_attempts"], stats["successful_logins"]) == (1, 1, 1)
    frameset = portal.client.get("/Default.aspx").text
    assert '<frame name="main" src="/Main.aspx">' in frameset
    assert "Provider Home" in portal.client.get("/Main.aspx").text


def test_wrong_answer_expired_password_and_bad_viewstate(dataset) -> None:  # type: ignore[no-untyped-def]
    portal = Portal(dataset)
    account = dataset.carrier("cascade").accounts[0]
    portal.client.cookies.clear()
    page = _login_page(portal)
    response = portal.post("/Login.aspx", page, txtUserName=account.username, txtPassword=account.password)
    assert "Security Verification" in response.text
    wrong = portal.post("/SecurityQuestion.aspx", response.text, txtAnswer="not it")
    assert "does not match our records" in wrong.text
    assert portal.state.stats()["accounts"][account.username]["mfa_failures"] == 1
    tampered = portal.client.post("/SecurityQuestion.aspx", data={"__VIEWSTATE": "eyJ9.bad", "txtAnswer": "x"})
    assert tampered.status_code == 500 and "viewstate MAC failed" in tampered.text
    portal.state.set_password_days(account.username, 0)
    portal.client.cookies.clear()
    expired = portal.post("/Login.aspx", _login_page(portal), txtUserName=account.username, txtPassword=account.password)
    assert "Your password has expired" in expired.text and "Security Verification" not in expired.text


def test_maintenance_page_and_eob_download_need_a_session(dataset) -> None:  # type: ignore[no-untyped-def]
    portal = Portal(dataset)
    portal.state.update_faults({"maintenance": True, "maintenance_until": "03:00"})
    page = portal.client.get("/Default.aspx")
    assert page.status_code == 200 and "System Maintenance" in page.text and "03:00 PT" in page.text
    portal.state.update_faults({"maintenance": False})
    claim = next(iter(dataset.carrier("cascade").claims))
    denied = portal.client.get(f"/EobDocument.ashx?claim={claim}&t=forged")
    assert denied.status_code == 404
    from aggregator.models import ClaimQuery
    _, pdf = portal.eob(ClaimQuery(claim_number=claim), claim)
    assert pdf.startswith(b"%PDF-")
    portal.client.cookies.clear()
    assert portal.client.get(f"/EobDocument.ashx?claim={claim}&t=x").url.path == "/Login.aspx"
