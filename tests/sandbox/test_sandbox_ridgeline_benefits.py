"""Ridgeline member search and benefits page: it renders exactly ground truth, in v1 and v2."""

from datetime import timedelta

import pytest

from aggregator.models import EligibilityQuery, EligibilityRecord
from sandbox.ground_truth import eligibility, sample_members
from sandbox.ridgeline import vocabulary as v
from sandbox.ridgeline.benefits_view import meaning_change_for
from tests.sandbox.ridgeline_reference import Unreadable, parse_benefits_page


def _one_active_per_plan(dataset):
    data = dataset.carrier("ridgeline")
    chosen = {}
    for member in data.members.values():
        if member.coverage_kind(dataset.as_of) == "active":
            chosen.setdefault((data.plan_for(member).code, member.family_coverage), member)
    return list(chosen.values())


@pytest.fixture
async def logged_in(portal, account):
    await portal.login(account)
    return portal


async def test_search_page_defaults_the_date_of_service_to_the_portal_today(logged_in, dataset):
    page = await logged_in.http.get("/eligibility")
    assert f'name="dos" id="dos" size="12" maxlength="10" value="{dataset.as_of:%m/%d/%Y}"' in page.text


async def test_every_kind_of_lookup_renders_ground_truth(logged_in, dataset):
    samples = sample_members(dataset, "ridgeline", 18)
    for sample in samples:
        page = await logged_in.search(sample.query.member_id, sample.query.date_of_birth,
                                      sample.query.last_name or "", sample.query.service_date)
        assert page.status_code == 200
        if isinstance(sample.expected, EligibilityRecord):
            assert "<title>Ridgeline Mutual - Eligibility &amp; Benefits</title>" in page.text
            assert parse_benefits_page(page.text) == sample.expected, sample.kind
        else:
            message = {"not_found": v.MSG_NOT_FOUND, "wrong_dob": v.MSG_DOB_MISMATCH}[sample.kind]
            assert "<title>Ridgeline Mutual - Member Search</title>" in page.text and message in page.text


async def test_every_plan_and_coverage_tier_renders_ground_truth(logged_in, dataset):
    for member in _one_active_per_plan(dataset):
        page = await logged_in.search(member.member_id, member.date_of_birth, dos=dataset.as_of)
        query = EligibilityQuery(member_id=member.member_id, date_of_birth=member.date_of_birth,
                                 service_date=dataset.as_of)
        assert parse_benefits_page(page.text) == eligibility(dataset, "ridgeline", query)


async def test_search_messages(logged_in, dataset):
    member = next(m for m in dataset.carrier("ridgeline").members.values() if m.coverage_kind(dataset.as_of) == "active")
    name = await logged_in.search(member.member_id, member.date_of_birth, last_name="Zzyzx")
    assert v.MSG_NAME_MISMATCH in name.text
    assert v.MSG_NOT_FOUND in (await logged_in.search("RM-000!", member.date_of_birth)).text
    assert v.MSG_MEMBER_ID_REQUIRED in (await logged_in.search("", member.date_of_birth)).text
    assert v.MSG_DOB_REQUIRED in (await logged_in.search(member.member_id, "")).text
    assert v.MSG_DOB_FORMAT in (await logged_in.search(member.member_id, "1980-01-02")).text
    assert v.MSG_DOS_FORMAT in (await logged_in.search(member.member_id, member.date_of_birth, dos="13/45/2026")).text
    spaced = await logged_in.search(" " + member.member_id.lower()[:5] + "-" + member.member_id[5:], member.date_of_birth)
    assert parse_benefits_page(spaced.text).member.member_id == member.member_id, "ids are normalized"


async def test_inactive_page_and_open_ended_dates(logged_in, dataset):
    future = next(m for m in dataset.carrier("ridgeline").members.values()
                  if m.coverage_kind(dataset.as_of) == "future")
    page = await logged_in.search(future.member_id, future.date_of_birth)
    assert v.INACTIVE_NOTICE in page.text and v.OPEN_ENDED_DATE in page.text
    assert "serviceBenefits" not in page.text and v.PRIOR_AUTH_PREFIX not in page.text
    on_start = await logged_in.search(future.member_id, future.date_of_birth, dos=future.effective_date)
    assert parse_benefits_page(on_start.text).coverage.status.value == "1"
    before = await logged_in.search(future.member_id, future.date_of_birth, dos=future.effective_date - timedelta(days=1))
    assert v.INACTIVE_NOTICE in before.text


async def test_markup_carries_the_carrier_vocabulary(logged_in, dataset):
    hmo = next(m for m in _one_active_per_plan(dataset) if dataset.carrier("ridgeline").plan_for(m).code == "RSH250")
    page = (await logged_in.search(hmo.member_id, hmo.date_of_birth)).text
    for name in v.SERVICE_NAMES.values():
        assert f"<b>{name}</b>" in page
    assert "Not Covered" in page and "N/A" in page and "&nbsp;$" in page
    assert "Prior authorization required for: MRI / CT Scan, Physical Therapy, Mental Health - Outpatient, Chiropractic Care." in page
    epo = next(m for m in _one_active_per_plan(dataset) if dataset.carrier("ridgeline").plan_for(m).code == "RAE750")
    assert "Prior authorization required for: None." in (await logged_in.search(epo.member_id, epo.date_of_birth)).text


async def test_v2_cosmetic_changes_keep_the_meaning(logged_in, dataset, state):
    state.update_faults({"layout_version": "v2"})
    data = dataset.carrier("ridgeline")
    checked = 0
    for member in _one_active_per_plan(dataset):
        if meaning_change_for(data, member.member_id, "v2"):
            continue
        page = (await logged_in.search(member.member_id, member.date_of_birth)).text
        assert 'id="rm-elig-v2"' in page and 'id="serviceBenefits"' not in page
        assert "out-of-network</span></th><th><span>IN-NETWORK" in page, "columns moved, words kept"
        assert "<th><span>Notes</span></th>" in page and "VISITS  REMAINING" in page
        query = EligibilityQuery(member_id=member.member_id, date_of_birth=member.date_of_birth, service_date=dataset.as_of)
        assert parse_benefits_page(page) == eligibility(dataset, "ridgeline", query)
        checked += 1
    assert checked >= 6
    termed = next(m for m in data.members.values() if m.coverage_kind(dataset.as_of) == "termed")
    page = (await logged_in.search(termed.member_id, termed.date_of_birth)).text
    assert "COVERAGE STATUS:" in page and v.INACTIVE_NOTICE in page
    query = EligibilityQuery(member_id=termed.member_id, date_of_birth=termed.date_of_birth, service_date=dataset.as_of)
    assert parse_benefits_page(page) == eligibility(dataset, "ridgeline", query)


@pytest.mark.parametrize("plan_code,change,evidence,error", [
    ("RCP1000", "tier_swap", "<th><span>Tier 2 (Participating)</span></th><th><span>Tier 1 (Preferred)</span></th>",
     "unknown column header"),
    ("RSP1500", "plan_share", "Plan pays ", "not a percentage"),
])
async def test_v2_changes_of_meaning_cannot_be_read_silently(logged_in, dataset, state, plan_code, change, evidence, error):
    data = dataset.carrier("ridgeline")
    member = next(m for m in _one_active_per_plan(dataset) if data.plan_for(m).code == plan_code)
    assert meaning_change_for(data, member.member_id, "v1") is None
    v1 = (await logged_in.search(member.member_id, member.date_of_birth)).text
    assert evidence not in v1
    state.update_faults({"layout_version": "v2"})
    assert meaning_change_for(data, member.member_id, "v2") == change
    page = (await logged_in.search(member.member_id, member.date_of_birth)).text
    assert evidence in page
    with pytest.raises(Unreadable, match=error):
        parse_benefits_page(page)


async def test_plan_share_shows_the_complement_of_the_patient_share(logged_in, dataset, state):
    data = dataset.carrier("ridgeline")
    member = next(m for m in _one_active_per_plan(dataset) if data.plan_for(m).code == "RSP1500")
    state.update_faults({"layout_version": "v2"})
    page = (await logged_in.search(member.member_id, member.date_of_birth)).text
    assert "Plan pays 80%" in page and "Plan pays 60%" in page  # patient shares 20% in, 40% out


async def test_escaped_names_read_back_exactly(logged_in, dataset):
    data = dataset.carrier("ridgeline")
    first_group = next(iter(data.groups.values()))
    assert "&" in first_group.name
    member = next(m for m in data.members.values()
                  if m.group_number == first_group.number and m.coverage_kind(dataset.as_of) == "active")
    page = (await logged_in.search(member.member_id, member.date_of_birth)).text
    assert "&amp;" in page
    assert parse_benefits_page(page).plan.group_name == first_group.name


async def test_unknown_pages_get_the_portal_s_own_html(portal):
    page = await portal.http.get("/referrals")  # no such page
    assert page.status_code == 404 and "<title>Ridgeline Mutual - Page Not Found</title>" in page.text
