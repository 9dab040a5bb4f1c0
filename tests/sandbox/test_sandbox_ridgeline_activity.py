"""Ridgeline's authorization and claim status pages render exactly ground truth (v1 and v2)."""

from datetime import timedelta

import pytest

from aggregator.models.claims import ClaimQuery
from aggregator.models.codes import AuthStatus, ClaimStatusCategory
from sandbox.activity import CLAIM_CATEGORIES
from sandbox.ground_truth import (
    authorizations,
    authorizations_by_status,
    claim,
    claims,
    claims_by_category,
    member_claims_query,
    members_with_many_claims,
    members_without_authorizations,
)
from sandbox.ridgeline import vocabulary as v
from tests.sandbox.activity_client import read_authorizations, read_claims, search_authorizations, search_claims
from tests.sandbox.ridgeline_activity_reference import (
    parse_auth_detail,
    parse_claim_detail,
    parse_claim_results,
)


@pytest.fixture
async def logged_in(portal, account):
    await portal.login(account)
    return portal


def _member(dataset, member_id):
    return dataset.carrier("ridgeline").members[member_id]


async def test_nav_and_home_link_the_new_pages(logged_in):
    home = (await logged_in.http.get("/home")).text
    assert '<a class="navlink" href="/authorizations">Authorizations</a>' in home
    assert '<a class="navlink" href="/claims">Claim Status</a>' in home
    assert '<a href="/claims">Check Claim Status</a>' in home and "coming soon" not in home
    for path, title in (("/authorizations", v.AUTH_SEARCH_TITLE), ("/claims", v.CLAIM_SEARCH_TITLE)):
        page = await logged_in.http.get(path)
        assert page.status_code == 200 and f"<title>Ridgeline Mutual - {title}</title>" in page.text


async def test_authorizations_of_every_status_render_ground_truth(logged_in, dataset):
    checked = set()
    for group in authorizations_by_status(dataset, "ridgeline").values():
        member = _member(dataset, group[0].member_id)
        shown = await read_authorizations(logged_in, member.member_id, member.date_of_birth)
        assert shown == authorizations(dataset, "ridgeline", member.member_id, member.date_of_birth)
        checked |= {a.status for a in shown.authorizations}
    assert len(checked) == 7
    detail = (await logged_in.http.get(f"/authorizations/{group[0].auth_number}")).text
    assert f"<title>Ridgeline Mutual - {v.AUTH_DETAIL_TITLE}</title>" in detail


async def test_authorization_words_on_the_page(logged_in, dataset):
    grouped = authorizations_by_status(dataset, "ridgeline")
    for status, group in grouped.items():
        page = (await logged_in.http.get(f"/authorizations/{group[0].auth_number}")).text
        assert v.AUTH_STATUS[status] in page
    denied = grouped[AuthStatus.NOT_CERTIFIED][0]
    page = (await logged_in.http.get(f"/authorizations/{denied.auth_number}")).text
    assert v.DECISION_REASONS[denied.decision_reason] in page and "N/A" in page  # no dates when denied


async def test_authorization_searches_without_a_list(logged_in, dataset):
    nobody = members_without_authorizations(dataset, "ridgeline")[0]
    page = await search_authorizations(logged_in, nobody.member_id, nobody.date_of_birth)
    assert v.MSG_NO_AUTHS in page.text and "<title>Ridgeline Mutual - Authorizations</title>" in page.text
    assert (await read_authorizations(logged_in, nobody.member_id, nobody.date_of_birth)).authorizations == ()
    wrong = await search_authorizations(logged_in, nobody.member_id, nobody.date_of_birth + timedelta(days=2))
    assert v.MSG_DOB_MISMATCH in wrong.text and f"<title>Ridgeline Mutual - {v.AUTH_SEARCH_TITLE}</title>" in wrong.text
    unknown = dataset.carrier("ridgeline").not_found_ids[0]
    assert v.MSG_NOT_FOUND in (await search_authorizations(logged_in, unknown, nobody.date_of_birth)).text
    assert v.MSG_MEMBER_ID_REQUIRED in (await search_authorizations(logged_in, "", nobody.date_of_birth)).text
    assert v.MSG_DOB_FORMAT in (await search_authorizations(logged_in, nobody.member_id, "1999-01-01")).text
    missing = await logged_in.http.get("/authorizations/RA00000000")
    assert missing.status_code == 404 and v.MSG_AUTH_NOT_FOUND in missing.text


async def test_claims_list_paginates_ten_per_page(logged_in, dataset):
    member = members_with_many_claims(dataset, "ridgeline")[0]
    query = member_claims_query(dataset, "ridgeline", member.member_id)
    shown, pages = await read_claims(logged_in, query)
    truth = claims(dataset, "ridgeline", query)
    assert shown == truth and len(truth.claims) >= 25
    assert [len(p.rows) for p in pages][:2] == [10, 10] and len(pages) >= 3
    assert all(len(p.rows) == 10 for p in pages[:-1]) and 1 <= len(pages[-1].rows) <= 10
    assert [p.page for p in pages] == list(range(1, len(pages) + 1))
    assert all(p.pages == len(pages) for p in pages)
    assert pages[0].prev_href is None and pages[-1].next_href is None
    assert all(p.next_href and p.prev_href for p in pages[1:-1])
    dates = [row.service_from for p in pages for row in p.rows]
    assert dates == sorted(dates, reverse=True), "newest first"
    last = await logged_in.http.get(pages[-1].prev_href)
    assert parse_claim_results(last.text).page == len(pages) - 1
    first = (await logged_in.http.get(pages[1].prev_href)).text
    assert "Page 1 of" in first and "Next &gt;" in first and "&lt; Prev" not in first


async def test_claims_search_by_date_range_and_number(logged_in, dataset):
    member = members_with_many_claims(dataset, "ridgeline")[1]
    every = claims(dataset, "ridgeline", member_claims_query(dataset, "ridgeline", member.member_id)).claims
    middle = sorted(c.service_from for c in every)[len(every) // 2]
    query = member_claims_query(dataset, "ridgeline", member.member_id, middle - timedelta(days=60), middle)
    shown, _ = await read_claims(logged_in, query)
    assert shown == claims(dataset, "ridgeline", query) and 0 < len(shown.claims) < len(every)
    one = every[0]
    by_number, pages = await read_claims(logged_in, ClaimQuery(claim_number=one.payer_claim_number))
    assert by_number.claims == (one,) and pages[0].page == pages[0].pages == 1
    spaced = await search_claims(logged_in, claim_number=f" {one.payer_claim_number[:5]} {one.payer_claim_number[5:]} ")
    assert parse_claim_results(spaced.text).rows[0].number == one.payer_claim_number
    none = await search_claims(logged_in, claim_number="99999999999")
    assert v.MSG_NO_CLAIMS in none.text and "<title>Ridgeline Mutual - Claim Status Results</title>" in none.text
    empty = await search_claims(logged_in, member_id=member.member_id, dob=member.date_of_birth,
                                service_from=dataset.as_of + timedelta(days=1), service_to=dataset.as_of + timedelta(days=9))
    assert v.MSG_NO_CLAIMS in empty.text


async def test_claim_search_messages(logged_in, dataset):
    member = members_with_many_claims(dataset, "ridgeline")[0]
    dob, today = member.date_of_birth, dataset.as_of

    async def message(**form):
        page = await search_claims(logged_in, **form)
        assert f"<title>Ridgeline Mutual - {v.CLAIM_SEARCH_TITLE}</title>" in page.text
        return page.text

    assert v.MSG_CLAIM_CRITERIA in await message()
    assert v.MSG_CLAIM_BOTH in await message(claim_number="123", member_id=member.member_id)
    assert v.MSG_DOB_REQUIRED in await message(member_id=member.member_id, service_from=today, service_to=today)
    assert v.MSG_FROM_REQUIRED in await message(member_id=member.member_id, dob=dob, service_to=today)
    assert v.MSG_TO_FORMAT in await message(member_id=member.member_id, dob=dob, service_from=today, service_to="2026-11-01")
    assert v.MSG_RANGE_ORDER in await message(member_id=member.member_id, dob=dob, service_from=today,
                                              service_to=today - timedelta(days=1))
    assert v.MSG_DOB_MISMATCH in await message(member_id=member.member_id, dob=dob + timedelta(days=1),
                                               service_from=today, service_to=today)
    unknown = dataset.carrier("ridgeline").not_found_ids[0]
    assert v.MSG_NOT_FOUND in await message(member_id=unknown, dob=dob, service_from=today, service_to=today)
    form = (await logged_in.http.get("/claims")).text
    assert f'value="{today:%m/%d/%Y}"' in form and f'value="{today - timedelta(days=365):%m/%d/%Y}"' in form
    stale = await logged_in.http.get("/claims/results?sid=nope&page=2")
    assert v.MSG_SEARCH_EXPIRED in stale.text
    missing = await logged_in.http.get("/claims/99999999999")
    assert missing.status_code == 404 and v.MSG_CLAIM_NOT_FOUND in missing.text


async def test_every_claim_category_renders_ground_truth(logged_in, dataset):
    grouped = claims_by_category(dataset, "ridgeline")
    assert set(grouped) == set(CLAIM_CATEGORIES)
    for category, group in grouped.items():
        for sample in group[:2]:
            page = (await logged_in.http.get(f"/claims/{sample.claim_number}")).text
            assert f"<title>Ridgeline Mutual - {v.CLAIM_DETAIL_TITLE}</title>" in page
            assert v.CLAIM_STATUS[category] in page
            assert parse_claim_detail(page) == claim(dataset, "ridgeline", sample.claim_number), category


async def test_adjustments_and_amounts_markup(logged_in, dataset):
    paid = next(c for c in claims_by_category(dataset, "ridgeline")[ClaimStatusCategory.FINALIZED_PAYMENT]
                if len(c.lines) >= 2 and c.lines[0].adjustments)
    page = (await logged_in.http.get(f"/claims/{paid.claim_number}")).text
    first = paid.lines[0]
    text = "; ".join(f"{a.group.value}-{a.reason.value} {v.fmt_money(a.amount)}" for a in first.adjustments)
    assert text in page and "CO-45 $" in page and "Adjustment Codes" in page
    assert f"Status Code:</font></td>\n    <td width=\"28%\"><font size=\"2\">&nbsp;{paid.status_code}" in page


async def test_v2_detail_pages_are_cosmetic(logged_in, dataset, state):
    state.update_faults({"layout_version": "v2"})
    for group in list(claims_by_category(dataset, "ridgeline").values())[:6]:
        page = (await logged_in.http.get(f"/claims/{group[0].claim_number}")).text
        assert 'id="rm-claim-v2"' in page and 'id="claimLines"' not in page and "CLAIM NUMBER:" in page
        assert "<th><span>LINE</span></th><th><span>date</span></th>" in page
        assert parse_claim_detail(page) == claim(dataset, "ridgeline", group[0].claim_number)
    for group in authorizations_by_status(dataset, "ridgeline").values():
        page = (await logged_in.http.get(f"/authorizations/{group[0].auth_number}")).text
        assert 'id="rm-auth-v2"' in page and "AUTHORIZATION NUMBER:" in page and "<th><span>Notes</span></th>" in page
        assert parse_auth_detail(page) == next(a for a in authorizations(
            dataset, "ridgeline", group[0].member_id, _member(dataset, group[0].member_id).date_of_birth).authorizations
            if a.auth_number == group[0].auth_number)
    member = members_with_many_claims(dataset, "ridgeline")[0]
    shown, _ = await read_claims(logged_in, member_claims_query(dataset, "ridgeline", member.member_id))
    assert shown == claims(dataset, "ridgeline", member_claims_query(dataset, "ridgeline", member.member_id))


async def test_sessions_and_faults_apply_to_the_new_pages(logged_in, dataset, state, clock):
    member = members_with_many_claims(dataset, "ridgeline")[0]
    results = await search_claims(logged_in, member_id=member.member_id, dob=member.date_of_birth,
                                  service_from=dataset.as_of - timedelta(days=700), service_to=dataset.as_of)
    next_page = parse_claim_results(results.text).next_href
    state.update_faults({"maintenance": True})
    for path in ("/claims", "/authorizations", next_page):
        page = await logged_in.http.get(path)
        assert "<title>Ridgeline Mutual - Scheduled Maintenance</title>" in page.text
    state.update_faults({"maintenance": False})
    assert parse_claim_results((await logged_in.http.get(next_page)).text).page == 2
    clock.advance(state.faults.idle_timeout_seconds + 1)
    expired = await logged_in.http.get(next_page)
    assert expired.url.path == "/login" and expired.url.params.get("expired") == "1"
    anonymous = await logged_in.http.get("/authorizations/RA00000000")
    assert anonymous.url.path == "/login"
