"""The Crossway hub after sign-in: organization and provider pickers, payer list, both search modes,
result pages carrying the ground truth, claims, the daily cap, the pace limit, faults and controls."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal

from aggregator.models import BenefitKind, CoverageStatus, MemberNotFound, NetworkIndicator, RejectReason
from aggregator.models.claims import ClaimList
from sandbox import ground_truth
from sandbox.crossway import truth
from sandbox.crossway import vocabulary as v
from sandbox.crossway.payers import PAYERS, crossway_dataset, hub_payer, prior_enrollments
from sandbox.identifiers import npi_valid
from tests.sandbox.crossway.client import HUB, csrf, definitions, doc, headers, mdy, rows, text

MESSAGES = {RejectReason.NOT_FOUND: v.MSG_NOT_FOUND, RejectReason.DOB_MISMATCH: v.MSG_DOB_MISMATCH}


def money(amount: Decimal) -> str:
    return f"${amount:,.2f}"


def value(line) -> str:
    if line.kind is BenefitKind.COINSURANCE:
        return f"{(line.percent * 100).normalize():f}%"
    if line.kind is BenefitKind.LIMITATION:
        return f"{line.quantity.normalize():f} visits"
    return money(line.amount) if line.amount is not None else "—"


def level(line) -> str:
    return {"IND": "Individual", "FAM": "Family"}[line.coverage_level.value] if line.coverage_level else "—"


def period(line) -> str:
    return {"23": "Calendar Year", "29": "Remaining"}[line.time_period.value] if line.time_period else "—"


async def test_organization_and_provider_pickers_scope_the_session(browser, world, frontdesk, billing):
    page = await browser.sign_in(frontdesk)
    options = doc(page).cssselect("#org-form input[name=taxId]")
    assert [o.get("value") for o in options] == list(frontdesk.organizations) and len(options) == 2
    assert (await browser.http.get(f"{HUB}/payers")).url.path == "/organizations", "no payers before an organization"
    second = world.directory.organization(frontdesk.organizations[1])
    page = await browser.http.post(f"{HUB}/organizations", data={"taxId": second.tax_id, "_csrf": csrf(page)})
    assert page.url.path == "/providers"
    npis = [o.get("value") for o in doc(page).cssselect("#provider-form input[name=npi]")]
    assert npis == [p.npi for p in second.providers] and len(npis) >= 2 and all(npi_valid(n) for n in npis)
    assert (await browser.http.get(f"{HUB}/payers")).url.path == "/providers", "no payers before a provider"
    page = await browser.http.post(f"{HUB}/providers", data={"npi": npis[1], "_csrf": csrf(page)})
    assert page.url.path == "/payers"
    assert text(page, "#acting-for") == (f"Organization: {second.name} (Tax ID {second.tax_id}) · Provider: "
                                         f"{second.providers[1].name} (NPI {npis[1]})")
    listed = [li.get("data-payer") for li in doc(page).cssselect("#payer-list li.payer")]
    assert listed == list(second.payers) and len(listed) < len(PAYERS), "the sister practice is not enrolled everywhere"
    missing = next(p.slug for p in PAYERS if p.slug not in second.payers)
    refused = await browser.http.get(f"{HUB}/payers/{missing}/search")
    assert refused.url.path == "/payers" and v.MSG_NOT_ENROLLED in refused.text
    assert world.hub.stats()["sessions"][0] == {"username": frontdesk.username, "stage": "auth",
                                                 "tax_id": second.tax_id, "npi": npis[1]}
    form = await browser.http.get(f"{HUB}/providers")
    bad = await browser.http.post(f"{HUB}/providers", data={"npi": "1234567893", "_csrf": csrf(form)})
    assert v.MSG_CHOOSE_PROVIDER in bad.text, "an NPI of another organization is refused"

    await browser.http.get(f"{HUB}/signout")
    await browser.http.get("http://id.test/logout")  # else Crossway ID signs frontdesk in again, silently
    page = await browser.sign_in(billing)
    assert [o.get("value") for o in doc(page).cssselect("#org-form input[name=taxId]")] == list(billing.organizations)
    assert len(billing.organizations) == 1


async def test_payer_list_of_the_first_organization(acting, world):
    page = await acting.http.get(f"{HUB}/payers")
    items = doc(page).cssselect("#payer-list li.payer")
    assert [li.get("data-payer") for li in items] == [p.slug for p in PAYERS] and len(items) >= 3
    assert [li.cssselect(".payer-name")[0].text for li in items] == [p.display_name for p in PAYERS]
    assert {li.get("data-payer-id") for li in items} == {p.carrier_profile.payer_id for p in PAYERS}


def _expected_summary(record):
    m, c, p = record.member, record.coverage, record.plan
    return {"Payer": record.payer.name, "Payer ID": record.payer.payer_id, "Member ID": m.member_id,
            "Patient Name": f"{m.last_name}, {m.first_name}", "Date of Birth": mdy(m.date_of_birth),
            "Subscriber ID": m.subscriber_id, "Plan": p.name, "Group Number": p.group_number,
            "Group Name": p.group_name,
            "Coverage Status": "Active Coverage" if c.status is CoverageStatus.ACTIVE else "Inactive",
            "Effective Date": mdy(c.effective_date),
            "Termination Date": mdy(c.termination_date) if c.termination_date else "—",
            "Date of Service": mdy(record.service_date), "Benefit Lines": str(len(record.benefits))}


def _check_benefits(page, record, layout):
    lines = record.benefits
    if layout == "standard":
        table = doc(page).cssselect("table#benefits")[0]
        assert headers(table) == ("Service", "Coverage", "Network", "Level", "Period", "Amount", "Prior Auth")
        expected = [(v.SERVICES[b.service_type], v.BENEFITS[b.kind], v.NETWORKS[b.network], level(b), period(b),
                     value(b), {"Y": "Yes", "N": "No", "U": "—"}[b.prior_auth.value]) for b in lines]
        assert Counter(rows(table)) == Counter(expected)
    elif layout == "sections":
        found = []
        for section in doc(page).cssselect("section.network"):
            network = " ".join(section.cssselect("h2")[0].text_content().split())
            found += [(network, *row) for row in rows(section.cssselect("table")[0])]
        expected = [(v.NETWORKS[b.network], v.SERVICES[b.service_type], v.BENEFITS[b.kind], level(b), period(b),
                     value(b), {"Y": "Yes", "N": "No", "U": "—"}[b.prior_auth.value]) for b in lines]
        assert Counter(found) == Counter(expected)
    else:
        accumulators = doc(page).cssselect("table#accumulators")[0]
        assert headers(accumulators) == ("Benefit", "Level", "Period", "In Network", "Out of Network")
        plan_level = [b for b in lines if b.service_type.value == "30"]
        for row in rows(accumulators):
            for network, cell in zip((NetworkIndicator.IN_NETWORK, NetworkIndicator.OUT_OF_NETWORK), row[3:],
                                     strict=True):
                match = [b for b in plan_level if (v.BENEFITS[b.kind], level(b), period(b), b.network)
                         == (row[0], row[1], row[2], network)]
                assert cell == (value(match[0]) if match else "—")
        assert sum(1 for row in rows(accumulators) for cell in row[3:] if cell != "—") == len(plan_level)
        services = {" ".join(d.cssselect("h3")[0].text_content().split()): d for d in doc(page).cssselect("div.service")}
        for b in lines:
            if b.service_type.value == "30":
                continue
            box = services[v.SERVICES[b.service_type]]
            required = "Required" if b.prior_auth.value == "Y" else "Not required"
            assert " ".join(box.cssselect("p.prior-auth")[0].text_content().split()) == f"Prior authorization: {required}"
            grid = {row[0]: row[1:] for row in rows(box.cssselect("table")[0])}
            column = 0 if b.network is NetworkIndicator.IN_NETWORK else 1
            if b.kind is BenefitKind.NON_COVERED:
                assert all(cells[column] == "Not Covered" for cells in grid.values())
                continue
            label = {BenefitKind.COPAY: "Co-Payment", BenefitKind.COINSURANCE: "Co-Insurance"}.get(b.kind) or (
                "Visit Limit (Calendar Year)" if b.time_period.value == "23" else "Visits Remaining")
            assert grid[label][column] == value(b)
    services = ", ".join(v.SERVICES[s] for s in record.prior_auth_service_types) or "None"
    assert text(page, "#prior-auth-list") == f"Prior authorization required for: {services}."


async def test_member_id_searches_show_the_ground_truth_for_every_payer(acting, world, dataset):
    hub = crossway_dataset(dataset)
    for payer in PAYERS:
        for sample in ground_truth.sample_members(hub, payer.slug, 6):
            page = await acting.search(payer.slug, memberId=sample.query.member_id, dob=mdy(sample.query.date_of_birth))
            expected = truth.eligibility(world.hub, payer.slug, sample.query.model_copy(update={"last_name": None}))
            if isinstance(expected, MemberNotFound):
                assert page.status_code == 200 and text(page, "#no-match") == MESSAGES[expected.reject_reason]
                continue
            assert text(page, "h1") == "Eligibility and Benefits"
            assert definitions(page, "#member-summary") == {**definitions(page, "#member-summary"),
                                                            **_expected_summary(expected)}
            if expected.coverage.status is CoverageStatus.ACTIVE:
                _check_benefits(page, expected, payer.layout)
            else:
                assert text(page, "#inactive-note") == v.MSG_INACTIVE and "<table" not in page.text
    assert world.hub.stats()["users"][acting.world.directory.accounts[0].username]["searches_today"] == 18


async def test_ridgeline_through_the_hub_is_the_ridgeline_portal_s_truth(dataset):
    payer = next(p for p in PAYERS if p.profile is None)
    for sample in ground_truth.sample_members(dataset, payer.slug, 12):
        assert truth.eligibility(dataset, payer.slug, sample.query) == ground_truth.eligibility(dataset, payer.slug,
                                                                                               sample.query)
    member = next(iter(dataset.carrier(payer.slug).members.values()))
    query = ground_truth.member_claims_query(dataset, payer.slug, member.member_id)
    assert truth.claims(dataset, payer.slug, query) == ground_truth.claims(dataset, payer.slug, query)


async def test_a_date_of_service_outside_coverage_shows_inactive(acting, world):
    data = world.hub.current_dataset().carrier("harborview")
    member = next(m for m in data.members.values() if m.coverage_kind(world.dataset.as_of) == "active")
    before = member.effective_date - timedelta(days=1)
    page = await acting.search("harborview", memberId=member.member_id, dob=mdy(member.date_of_birth), dos=mdy(before))
    assert definitions(page, "#member-summary")["Coverage Status"] == "Inactive"


async def test_name_search_where_allowed_lists_several_candidates(acting, world):
    payer = next(p for p in PAYERS if p.name_search)
    older, current = prior_enrollments(world.hub.current_dataset().carrier(payer.slug))[0]
    fields = {"searchBy": "name", "firstName": current.first_name.upper(), "lastName": f" {current.last_name} ",
              "dob": mdy(current.date_of_birth)}
    page = await acting.search(payer.slug, **fields)
    assert text(page, "h1") == "Select Patient" and text(page, "#candidate-count").startswith("2 patients match")
    table = doc(page).cssselect("table#candidates")[0]
    listed = [row[0] for row in rows(table)]
    assert sorted(listed) == sorted((older.member_id, current.member_id))
    assert listed == [m.member_id for m in truth.name_candidates(world.hub, payer.slug, current.first_name,
                                                                 current.last_name, current.date_of_birth)]
    link = next(a.get("href") for a in doc(page).cssselect("a.candidate") if a.text == current.member_id)
    chosen = await acting.http.get(f"{HUB}{link}")
    summary = definitions(chosen, "#member-summary")
    assert summary["Member ID"] == current.member_id and summary["Coverage Status"] == "Active Coverage"
    old = await acting.http.get(f"{HUB}{link.rsplit('/', 1)[0]}/{older.member_id}")
    assert definitions(old, "#member-summary")["Coverage Status"] == "Inactive"
    assert world.hub.stats()["users"][acting.world.directory.accounts[0].username]["searches_today"] == 1, \
        "choosing a candidate is part of the same search"


async def test_name_search_with_one_match_goes_straight_to_the_result_and_none_is_a_result_page(acting, world):
    payer = next(p for p in PAYERS if p.name_search)
    data = world.hub.current_dataset().carrier(payer.slug)
    twins = {m.member_id for pair in prior_enrollments(data) for m in pair}
    member = next(m for m in data.members.values() if m.member_id not in twins)
    page = await acting.search(payer.slug, searchBy="name", firstName=member.first_name, lastName=member.last_name,
                               dob=mdy(member.date_of_birth))
    assert definitions(page, "#member-summary")["Member ID"] == member.member_id
    wrong = await acting.search(payer.slug, searchBy="name", firstName=member.first_name, lastName=member.last_name,
                                dob=mdy(member.date_of_birth + timedelta(days=1)))
    assert text(wrong, "h1") == "No Patient Found" and text(wrong, "#no-match") == v.MSG_NOT_FOUND


async def test_name_search_only_where_the_payer_allows_it(acting, world, frontdesk):
    payer = next(p for p in PAYERS if not p.name_search)
    form = await acting.http.get(f"{HUB}/payers/{payer.slug}/search")
    assert not doc(form).cssselect("input[value=name]") and not doc(form).cssselect("#lastName")
    allowed = await acting.http.get(f"{HUB}/payers/{next(p for p in PAYERS if p.name_search).slug}/search")
    assert doc(allowed).cssselect("input[value=name]") and doc(allowed).cssselect("#lastName")
    member = next(iter(world.hub.current_dataset().carrier(payer.slug).members.values()))
    page = await acting.search(payer.slug, searchBy="name", firstName=member.first_name, lastName=member.last_name,
                               dob=mdy(member.date_of_birth))
    assert text(page, "h1") == "Patient Search" and v.MSG_NAME_SEARCH_UNSUPPORTED in page.text
    assert world.hub.stats()["users"][frontdesk.username]["searches_today"] == 0, "a refused form is no search"


async def test_claim_status_results_and_detail_carry_the_ground_truth(acting, world):
    payer = hub_payer("prairie")
    member = ground_truth.members_with_many_claims(world.hub, payer.slug, minimum=3)[0]
    query = ground_truth.member_claims_query(world.hub, payer.slug, member.member_id)
    page = await acting.search(payer.slug, "claims", memberId=member.member_id, dob=mdy(member.date_of_birth),
                               fromDate=mdy(query.service_from), toDate=mdy(query.service_to))
    expected = truth.claims(world.hub, payer.slug, query)
    assert isinstance(expected, ClaimList) and len(expected.claims) >= 3
    table = doc(page).cssselect("table#claims")[0]
    assert headers(table) == ("Claim Number", "Patient Account", "Service Dates", "Billed", "Paid", "Status")
    ordered = sorted(expected.claims, key=lambda c: (c.service_from, c.payer_claim_number), reverse=True)
    assert rows(table) == [(c.payer_claim_number, c.provider_account_number,
                            f"{mdy(c.service_from)} - {mdy(c.service_to)}", money(c.billed), money(c.paid),
                            c.status_category.label) for c in ordered]
    claim = ordered[0]
    detail = await acting.http.get(f"{HUB}/payers/{payer.slug}/claims/{claim.payer_claim_number}")
    info = definitions(detail, "#claim-info")
    assert info["Claim Number"] == claim.payer_claim_number and info["Billed"] == money(claim.billed)
    assert info["Status Code"] == claim.status_code and info["Received"] == mdy(claim.received_date)
    lines = rows(doc(detail).cssselect("table#claim-lines")[0])
    assert [(r[0], r[1], r[4]) for r in lines] == [(str(li.line_number), li.procedure_code, money(li.billed))
                                                   for li in claim.lines]
    for row, line in zip(lines, claim.lines, strict=True):
        assert row[7] == "; ".join(f"{a.group.value}-{a.reason.value} {money(a.amount)}" for a in line.adjustments)
    wrong = await acting.search(payer.slug, "claims", memberId=member.member_id,
                                dob=mdy(member.date_of_birth + timedelta(days=2)), fromDate=mdy(query.service_from),
                                toDate=mdy(query.service_to))
    assert text(wrong, "#no-match") == v.MSG_DOB_MISMATCH


async def test_the_daily_cap_shows_the_limit_page_and_a_new_day_starts_over(acting, world, frontdesk):
    member = next(iter(world.hub.current_dataset().carrier("prairie").members.values()))
    fields = {"memberId": member.member_id, "dob": mdy(member.date_of_birth)}
    world.hub.set_searches_today(frontdesk.username, world.settings.current.daily_search_cap - 1)
    last = await acting.search("prairie", **fields)
    assert text(last, "h1") == "Eligibility and Benefits"
    limit = await acting.search("prairie", **fields)
    assert limit.status_code == 200 and text(limit, "h1") == "Daily Limit Reached"
    assert text(limit, "#daily-limit") == v.MSG_DAILY_LIMIT.format(cap=300)
    user = world.hub.stats()["users"][frontdesk.username]
    assert user["searches_today"] == 300 and user["limit_pages"] == 1 and user["searches_left"] == 0
    world.calendar.advance_days(1)
    assert text(await acting.search("prairie", **fields), "h1") == "Eligibility and Benefits"
    assert world.hub.stats()["users"][frontdesk.username]["searches_today"] == 1


async def test_a_configurable_cap(acting, world, frontdesk):
    world.settings.update({"daily_search_cap": 2})
    member = next(iter(world.hub.current_dataset().carrier("prairie").members.values()))
    fields = {"memberId": member.member_id, "dob": mdy(member.date_of_birth)}
    titles = [text(await acting.search("prairie", **fields), "h1") for _ in range(3)]
    assert titles == ["Eligibility and Benefits", "Eligibility and Benefits", "Daily Limit Reached"]


async def test_searching_too_fast_gets_429_with_retry_after(acting, world, clock, frontdesk):
    world.settings.update({"min_search_interval_seconds": 5})
    member = next(iter(world.hub.current_dataset().carrier("prairie").members.values()))
    fields = {"memberId": member.member_id, "dob": mdy(member.date_of_birth)}
    assert (await acting.search("prairie", **fields)).status_code == 200
    clock.advance(2)
    fast = await acting.search("prairie", pace=False, **fields)
    assert fast.status_code == 429 and fast.headers["Retry-After"] == "3" and text(fast, "#too-fast") == v.MSG_TOO_FAST
    clock.advance(3)
    assert (await acting.search("prairie", pace=False, **fields)).status_code == 200
    user = world.hub.stats()["users"][frontdesk.username]
    assert user["searches_today"] == 2 and user["throttled"] == 1


async def test_faults_maintenance_errors_and_rate_limit(acting, world):
    world.hub.update_faults({"maintenance": True, "maintenance_until": "05:30"})
    page = await acting.http.get(f"{HUB}/payers")
    assert page.status_code == 200 and "05:30" in text(page, "#maintenance")
    world.idp.update_faults({"maintenance": True})
    assert "Scheduled maintenance" in (await acting.http.get("http://id.test/login")).text
    world.hub.update_faults({"maintenance": False, "error_rate": 1.0})
    statuses = {(await acting.http.get(f"{HUB}/payers")).status_code for _ in range(12)}
    assert statuses <= {500, 502, 503} and len(statuses) >= 2
    world.hub.update_faults({"error_rate": 0.0, "rate_limit": 2})
    codes = [(await acting.http.get(f"{HUB}/payers")).status_code for _ in range(3)]
    assert codes[:2] == [200, 200] and codes[2] == 429
    assert world.hub.stats()["totals"]["by_status"]["429"] == 1


async def test_layout_v2_of_the_pivot_layout(acting, world):
    world.hub.update_faults({"layout_version": "v2"})
    data = world.hub.current_dataset().carrier("prairie")
    active = [m for m in data.members.values() if m.coverage_kind(world.dataset.as_of) == "active"]
    cosmetic = next(m for m in active if data.plan_for(m).code == "PMS1000")
    page = await acting.search("prairie", memberId=cosmetic.member_id, dob=mdy(cosmetic.date_of_birth))
    accumulators = doc(page).cssselect("table#accumulators")[0]
    assert headers(accumulators) == ("BENEFIT", "LEVEL", "PERIOD", "OUT OF NETWORK", "IN NETWORK", "NOTES")
    assert "Plan pays" not in page.text
    changed = next(m for m in active if data.plan_for(m).code == "PMH1500")
    page = await acting.search("prairie", memberId=changed.member_id, dob=mdy(changed.date_of_birth))
    assert "Plan pays 80%" in page.text, "the change of meaning: the plan's share under the same label"
    standard = await acting.search("ridgeline", memberId=next(iter(world.hub.current_dataset().carrier(
        "ridgeline").members)), dob="01/01/1900")
    assert text(standard, "#no-match") == v.MSG_DOB_MISMATCH


async def test_control_endpoints(acting, world, frontdesk):
    hub, idp = acting.http, acting.http
    assert (await hub.get(f"{HUB}/_sandbox/health")).json() == {"app": "crossway", "ok": True}
    assert (await idp.get("http://id.test/_sandbox/health")).json() == {"app": "crossway-id", "ok": True}
    assert (await hub.post(f"{HUB}/_sandbox/faults", json={"idle_timeout_seconds": 60})).json()[
        "idle_timeout_seconds"] == 60
    assert (await hub.post(f"{HUB}/_sandbox/faults", json={"nonsense": 1})).status_code == 422
    assert (await hub.post(f"{HUB}/_sandbox/settings", json={"daily_search_cap": 150})).json()["daily_search_cap"] == 150
    assert (await idp.get("http://id.test/_sandbox/settings")).json()["daily_search_cap"] == 150, "shared settings"
    assert (await hub.post(f"{HUB}/_sandbox/clock", json={"today": "2026-12-01"})).json() == {"today": "2026-12-01"}
    assert (await hub.post(f"{HUB}/_sandbox/clock", json={"advance_days": 1})).json() == {"today": "2026-12-02"}
    assert (await hub.post(f"{HUB}/_sandbox/clock", json={"today": "tomorrow"})).status_code == 422
    left = await idp.post("http://id.test/_sandbox/password", json={"username": frontdesk.username, "age_days": 59})
    assert left.json() == {"days_left": 1}
    assert (await hub.post(f"{HUB}/_sandbox/searches", json={"username": frontdesk.username, "today": 149})).json() == {
        "searches_left": 1}
    stats = (await hub.get(f"{HUB}/_sandbox/stats")).json()
    assert stats["today"] == "2026-12-02" and stats["users"][frontdesk.username]["searches_today"] == 149
    assert stats["sessions"][0]["username"] == frontdesk.username and stats["totals"]["active_sessions"] == 1
    member = next(iter(world.hub.current_dataset().carrier("prairie").claims.values()))
    change = await hub.post(f"{HUB}/_sandbox/data", json={"payer": "prairie", "action": "meet_deductible",
                                                          "member_id": member.member_id})
    assert change.status_code == 200 and (await hub.get(f"{HUB}/_sandbox/data")).json()["changes"][0]["payer"] == "prairie"
    assert world.hub.current_dataset() is not world.hub._base
    assert (await hub.post(f"{HUB}/_sandbox/expire-sessions")).json() == {"expired": 1}
    assert (await hub.post(f"{HUB}/_sandbox/reset")).json()["reset"] is True
    stats = (await hub.get(f"{HUB}/_sandbox/stats")).json()
    assert stats["users"][frontdesk.username]["searches_today"] == 0 and stats["totals"]["requests"] == 0
    assert world.hub.current_dataset() is world.hub._base
    assert world.settings.current.daily_search_cap == 150, "/reset resets one app, not the shared settings"
    locked = await idp.post("http://id.test/_sandbox/password", json={"username": frontdesk.username, "age_days": 70})
    assert locked.json()["days_left"] < 0
    everything = await hub.post(f"{HUB}/_sandbox/reset-all")
    assert everything.json() == {"reset": True, "today": world.dataset.as_of.isoformat()}
    assert world.settings.current.daily_search_cap == 300 and world.idp.password_days_left(frontdesk.username) > 0
