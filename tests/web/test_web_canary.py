"""Admin > Canary: an admin sets a portal account's canary member (the page never shows it back), a failed
canary puts a banner on every staff and admin page (not the auditors'), and a changed answer can be
accepted as the new baseline."""

from __future__ import annotations

from datetime import UTC, date, datetime

from aggregator.store import canary as canary_store
from aggregator.store.repository import new_id
from aggregator.store.tables import CanaryResultRow
from tests.web.conftest import Seed, csrf_of, login
from vault import MasterKey, Vault

MEMBER_ID, DOB, LAST = "RMX88112233", "1961-04-17", "Okonkwo-Vale"


def _set(client, seed: Seed, **fields: str):  # type: ignore[no-untyped-def]
    page = client.get("/admin/canary")
    return client.post("/admin/canary", data={"csrf_token": csrf_of(page.text), "account_id": seed.account_id,
                                              **fields})


def _result(seed: Seed, status: str, reason_code: str | None) -> CanaryResultRow:
    member = canary_store.members(seed.repository)[0]
    now = datetime.now(UTC)
    return canary_store.add_result(seed.repository, CanaryResultRow(
        id=new_id(), canary_member_id=member.id, carrier=member.carrier, account_label=member.account_label,
        trigger="nightly", started_at=now, finished_at=now, status=status, reason_code=reason_code,
        reason="the benefits page has headers the adapter does not know" if reason_code else None,
        lookup_id=seed.lookup_id))


def _fail(seed: Seed, reason_code: str = "unexpected_page") -> CanaryResultRow:
    return _result(seed, "failed", reason_code)


def test_admin_sets_a_canary_member_that_is_never_shown_back(client, seed: Seed):
    login(client, "admin")
    response = _set(client, seed, member_id=MEMBER_ID, date_of_birth=DOB, last_name=LAST)
    assert response.status_code == 200 and "canary member set" in response.text
    for value in (MEMBER_ID, DOB, LAST):
        assert value not in response.text
    assert "•••2233" in response.text
    (member,) = canary_store.members(seed.repository)
    account = Vault.open(seed.settings.resolved_vault_path, MasterKey.resolve(seed.settings)).get(seed.account_id)
    assert (member.carrier, member.account_label, member.member_id, member.date_of_birth, member.last_name) == (
        account.carrier, account.label, MEMBER_ID, date.fromisoformat(DOB), LAST)
    assert member.configured_by == "admin"


def test_bad_canary_input_is_refused_without_echoing_it(client, seed: Seed):
    login(client, "admin")
    refused = _set(client, seed, member_id="RM\x01123", date_of_birth=DOB)
    assert refused.status_code == 422 and "member id contains a control character" in refused.text
    future = _set(client, seed, member_id=MEMBER_ID, date_of_birth="2999-01-01")
    assert future.status_code == 422 and "past date" in future.text and MEMBER_ID not in future.text
    assert canary_store.members(seed.repository) == []


def test_a_failed_canary_shows_a_banner_to_staff_and_admins_until_it_passes(client, seed: Seed):
    login(client, "admin")
    _set(client, seed, member_id=MEMBER_ID, date_of_birth=DOB)
    _fail(seed)
    for page in ("/admin/canary", "/admin/users", "/worklist"):
        text = client.get(page).text
        assert "Canary failed" in text and "headers the adapter does not know" in text, page
    login(client, "victim")  # staff
    assert "Canary failed" in client.get("/worklist").text
    login(client, "auditor")
    assert "Canary failed" not in client.get("/audit/evidence").text
    _result(seed, "passed", None)
    login(client, "admin")
    assert "Canary failed" not in client.get("/worklist").text


def test_a_changed_answer_is_accepted_as_the_new_baseline(client, seed: Seed):
    login(client, "admin")
    _set(client, seed, member_id=MEMBER_ID, date_of_birth=DOB)
    drift = _fail(seed)
    page = client.get("/admin/canary")
    refused = client.post(f"/admin/canary/results/{drift.id}/accept", data={"csrf_token": csrf_of(page.text)})
    assert refused.status_code == 409  # a page the adapter cannot read is not an answer to accept
    changed = _fail(seed, "canary_answer_changed")
    page = client.get("/admin/canary")
    assert f"/admin/canary/results/{changed.id}/accept" in page.text
    accepted = client.post(f"/admin/canary/results/{changed.id}/accept", data={"csrf_token": csrf_of(page.text)})
    assert accepted.status_code == 200 and "accepted as the new baseline" in accepted.text
    assert "Canary failed" not in accepted.text
    member = canary_store.members(seed.repository)[0]
    baseline = canary_store.baseline(seed.repository, member)
    assert baseline is not None and baseline.id == changed.id


def test_held_items_stay_in_the_banner_until_the_next_batch_run(client, seed: Seed):
    from aggregator.store import batches

    login(client, "admin")
    _set(client, seed, member_id=MEMBER_ID, date_of_birth=DOB)
    _fail(seed)
    batches.update_item(seed.repository, seed.item_id, state="pending", reason_code=canary_store.HELD_CODE,
                        reason="held: canary failed at X: drift")
    text = client.get("/worklist").text
    assert "Canary failed" in text and "1 batch item(s) held" in text
    _result(seed, "passed", None)  # fixed and checked again (`aggregator canary`): the items wait for the next run
    text = client.get("/worklist").text
    assert "Canary failed" not in text and "Batch items held by a failed canary" in text
    assert "run at the next batch run" in text
