"""`aggregator reconcile` without a browser: the field-by-field comparison (aggregator/flows/reconcile.py) on
records from the sandbox's ground truth (a hub's copy made different with the sandbox's own data changes,
sandbox/data_changes.py), and the command's checks, output and exit codes with a stand-in runner.

The lookup command's routing checks (`--portal`, name search) are here too: they all run before a browser
starts, which each test proves by making `Runner.open` fail."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

import pytest
from typer.testing import CliRunner

from aggregator.cli import app
from aggregator.cli.common import EXIT_CODES, EXIT_DISAGREE
from aggregator.errors import Outcome
from aggregator.flows.reconcile import FieldDifference, differences, shown
from aggregator.models import ClaimList, EligibilityQuery, EligibilityRecord, MemberNotFound, RejectReason
from aggregator.models.provenance import Provenance
from aggregator.runner import LookupResult, Runner
from aggregator.scrapers.registry import all_adapters
from aggregator.settings import Settings
from sandbox import ground_truth
from sandbox.data_changes import apply_change, normalize_change
from sandbox.dataset import Dataset, generate_dataset

# The hub, a payer reached through its own site and through the hub, a payer reached only through the hub
# (by name too), and a payer the hub does not serve: read from the registry (no list of carriers here).
_HUB = next(adapter.manifest for adapter in all_adapters() if adapter.manifest.is_hub)
_OWN_SITES = [adapter.manifest.slug for adapter in all_adapters() if not adapter.manifest.is_hub]
HUB = _HUB.slug
PAYER = next(p.slug for p in _HUB.payers if p.slug in _OWN_SITES)
HUB_ONLY = next(p.slug for p in _HUB.payers if p.slug not in _OWN_SITES and p.name_search)
OTHER = next(slug for slug in _OWN_SITES if not _HUB.serves(slug))


@cache
def dataset() -> Dataset:
    return generate_dataset()


def changed(change: dict[str, Any]) -> Dataset:
    """The hub's copy of Ridgeline's data after one sandbox data change (its own site keeps the original)."""
    ds = dataset()
    return apply_change(ds, PAYER, normalize_change(change, ds.as_of))


def active_member(n: int = 0) -> tuple[EligibilityQuery, EligibilityRecord]:
    sample = ground_truth.sample_members(dataset(), PAYER, n + 1, kinds=("active_subscriber",))[n]
    assert isinstance(sample.expected, EligibilityRecord)
    return sample.query, sample.expected


def truth(ds: Dataset, query: EligibilityQuery) -> EligibilityRecord | MemberNotFound:
    return ground_truth.eligibility(ds, PAYER, query)


def read_on(record: Any, portal: str, minutes: int = 0) -> Any:
    """The record as a portal returns it: its own provenance (portal, account, time, evidence)."""
    return record.model_copy(update={"provenance": Provenance(
        carrier=PAYER, portal=portal, portal_account=f"{portal}-desk",
        fetched_at=datetime(2026, 11, 27, 15, minutes, tzinfo=UTC), evidence_ids=[f"ev-{portal}-{minutes}"])})


# --- the comparison -----------------------------------------------------------------------------------

def test_the_same_record_read_on_two_portals_has_no_differences() -> None:
    query, record = active_member()
    assert differences({PAYER: read_on(record, PAYER), HUB: read_on(record, HUB, 7)}) == ()


def test_a_later_termination_on_the_hub_is_exactly_that_field() -> None:
    query, own = active_member()
    ends = query.service_date + timedelta(days=30)  # still active on the date of service: only the date differs
    hub = truth(changed({"action": "term_coverage", "member_id": query.member_id,
                         "termination_date": ends.isoformat()}), query)
    assert isinstance(hub, EligibilityRecord) and hub.coverage.termination_date == ends
    found = differences({PAYER: read_on(own, PAYER), HUB: read_on(hub, HUB)})
    assert found == (FieldDifference("coverage.termination_date",
                                     {PAYER: own.coverage.termination_date, HUB: ends}),)
    assert found[0].as_json() == {"field": "coverage.termination_date",
                                  "values": {PAYER: None, HUB: ends.isoformat()}}


def test_a_coverage_termed_before_the_visit_names_status_and_date_and_not_the_benefits_it_no_longer_lists() -> None:
    query, own = active_member(1)
    ends = query.service_date - timedelta(days=1)
    hub = truth(changed({"action": "term_coverage", "member_id": query.member_id,
                         "termination_date": ends.isoformat()}), query)
    assert isinstance(hub, EligibilityRecord)
    fields = [d.field for d in differences({PAYER: own, HUB: hub})]
    assert "coverage.status" in fields and "coverage.termination_date" in fields
    # The benefit lines the active record lists and the termed one does not: one difference each, by key.
    own_only = [d for d in differences({PAYER: own, HUB: hub}) if d.field.startswith("benefits[")]
    assert len(own_only) == len(own.benefits) - len(hub.benefits) > 0
    assert all(d.values[HUB] is None and d.values[PAYER] is not None for d in own_only)


def test_a_deductible_met_on_the_hub_is_the_benefit_amounts_that_changed_by_line_key() -> None:
    query, own = active_member(2)
    hub = truth(changed({"action": "meet_deductible", "member_id": query.member_id, "network": "in"}), query)
    assert isinstance(hub, EligibilityRecord) and hub != own
    found = differences({PAYER: own, HUB: hub})
    assert found
    own_lines = {line.sort_key(): line for line in own.benefits}
    hub_lines = {line.sort_key(): line for line in hub.benefits}
    assert own_lines.keys() == hub_lines.keys()  # the same lines, some amounts differ
    changed_keys = {key for key in own_lines if own_lines[key] != hub_lines[key]}
    # A benefit line is named by its labels: service / benefit / network / level / period.
    wanted = {f"benefits[{_line_name(own_lines[key])}].amount": {PAYER: own_lines[key].amount,
                                                                  HUB: hub_lines[key].amount}
              for key in changed_keys}
    assert {d.field: d.values for d in found} == wanted


def _line_name(line: Any) -> str:
    parts = [line.service_type, line.kind, line.network, line.coverage_level, line.time_period]
    return " / ".join(part.label for part in parts if part is not None)


def test_found_on_one_portal_and_not_found_on_the_other_is_one_difference() -> None:
    query, own = active_member()
    missing = MemberNotFound(carrier=PAYER, query=query, reject_reason=RejectReason.NOT_FOUND)
    found = differences({PAYER: own, HUB: missing})
    assert [d.field for d in found] == ["answer"]
    assert found[0].values[PAYER].startswith("found")
    assert found[0].values[HUB] == f"member not found ({missing.reject_reason.label})"
    assert differences({PAYER: missing, HUB: read_on(missing, HUB)}) == ()


def test_a_benefit_line_only_one_portal_lists_is_one_difference_not_a_shifted_list() -> None:
    query, own = active_member()
    dropped = own.benefits[0]
    hub = own.model_copy(update={"benefits": own.benefits[1:]})
    found = differences({PAYER: own, HUB: hub})
    assert len(found) == 1 and found[0].field.startswith("benefits[") and dropped.service_type.label in found[0].field
    assert found[0].values[HUB] is None and found[0].values[PAYER]["kind"] is dropped.kind


def test_amounts_compare_as_numbers_and_three_portals_show_every_value() -> None:
    query, own = active_member()
    line = next(line for line in own.benefits if line.amount is not None)
    index, amount = own.benefits.index(line), line.amount
    assert amount is not None

    def with_amount(amount: Decimal) -> EligibilityRecord:
        lines = list(own.benefits)
        lines[index] = line.model_copy(update={"amount": amount})
        return own.model_copy(update={"benefits": tuple(lines)})

    same = with_amount(amount.quantize(Decimal("0.0001")))  # 1500.0000 is 1500.00
    assert differences({"a": own, "b": same}) == ()
    other = with_amount(amount + Decimal(1))
    found = differences({"a": own, "b": same, "c": other})
    assert len(found) == 1 and found[0].values == {"a": amount, "b": same.benefits[index].amount,
                                                   "c": amount + Decimal(1)}
    with pytest.raises(ValueError):
        differences({"a": own})


def test_a_claim_paid_on_one_portal_is_named_by_claim_number() -> None:
    claim = ground_truth.open_claims(dataset(), PAYER)[0]
    query = ground_truth.member_claims_query(dataset(), PAYER, claim.member_id)
    own = ground_truth.claims(dataset(), PAYER, query)
    hub = ground_truth.claims(changed({"action": "pay_claim", "claim_number": claim.claim_number}), PAYER, query)
    assert isinstance(own, ClaimList) and isinstance(hub, ClaimList)
    found = differences({PAYER: own, HUB: hub})
    assert found and all(d.field.startswith(f"claims[{claim.claim_number}].") for d in found)
    assert f"claims[{claim.claim_number}].status_category" in [d.field for d in found]
    assert differences({PAYER: own, HUB: own}) == ()


def test_values_are_shown_as_people_read_them() -> None:
    query, own = active_member()
    assert shown(None) == "—" and shown(Decimal("1500.00")) == "1500.00"
    assert shown(own.coverage.status) == f"{own.coverage.status.label} ({own.coverage.status.value})"
    assert shown(()) == "(none)" and shown(own.coverage.effective_date) == own.coverage.effective_date.isoformat()


# --- the commands, with no browser ----------------------------------------------------------------------

@pytest.fixture
def no_browser(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a browser was started")

    monkeypatch.setattr(Runner, "open", refuse)


def invoke(settings: Settings, *args: str) -> Any:
    return CliRunner().invoke(app, [*args, "--data-dir", str(settings.data_dir)])


@pytest.mark.usefixtures("no_browser")
def test_lookup_routing_mistakes_are_one_line_before_a_browser_starts(settings: Settings) -> None:
    query, _ = active_member()
    base = ["lookup", "eligibility", "--dob", query.date_of_birth.isoformat()]
    cases: list[tuple[list[str], int, str]] = [
        (["--carrier", HUB_ONLY, "--first-name", "Ann"], 2, "missing: --last-name"),
        (["--carrier", HUB_ONLY, "--last-name", "Lee"], 2, "missing: --first-name"),
        (["--carrier", HUB_ONLY], 2, "missing: --first-name and --last-name"),
        (["--carrier", PAYER, "--first-name", "Ann", "--last-name", "Lee"], 1, "cannot be searched by name"),
        (["--carrier", PAYER, "--member-id", str(query.member_id), "--portal", "nowhere"], 1, "unknown portal 'nowhere'"),
        (["--carrier", OTHER, "--member-id", "BP123456", "--portal", HUB], 1,
         "Crossway does not serve payer 'bluepeak'"),
        (["--carrier", HUB, "--member-id", str(query.member_id)], 1, "not a payer"),
        (["--carrier", "no-such-payer", "--member-id", str(query.member_id)], 1, "unknown carrier 'no-such-payer'"),
    ]
    for extra, code, message in cases:
        result = invoke(settings, *base, *extra)
        assert result.exit_code == code, (extra, result.output)
        assert message in result.output and "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) == 1, result.output
    auths = invoke(settings, "lookup", "authorizations", "--carrier", PAYER, "--member-id", str(query.member_id),
                   "--dob", query.date_of_birth.isoformat(), "--portal", HUB)
    assert auths.exit_code == EXIT_CODES[Outcome.NOT_AVAILABLE] and "not available" in auths.output


@pytest.mark.usefixtures("no_browser")
def test_reconcile_checks_before_a_browser_starts(settings: Settings) -> None:
    query, _ = active_member()
    who = ["--member-id", str(query.member_id), "--dob", query.date_of_birth.isoformat()]
    one_portal = invoke(settings, "reconcile", "--carrier", HUB_ONLY, *who)
    assert one_portal.exit_code == 2 and "reached through one portal only (Crossway)" in one_portal.output
    own_only = invoke(settings, "reconcile", "--carrier", OTHER, *who)
    assert own_only.exit_code == 2 and "nothing to reconcile" in own_only.output
    unknown = invoke(settings, "reconcile", "--carrier", "no-such-payer", *who)
    assert unknown.exit_code == 1 and "unknown carrier" in unknown.output
    mixed = invoke(settings, "reconcile", "--carrier", PAYER, *who, "--from", "2026-01-01")
    assert mixed.exit_code == 2 and "--claims" in mixed.output


class StandIn:
    """A runner that answers from prepared results per portal and records what it was asked."""

    def __init__(self, answers: dict[str, Callable[[], LookupResult]]) -> None:
        self.answers = answers
        self.asked: list[tuple[str, str, Any, str | None]] = []

    async def eligibility(self, payer: str, query: Any, *, portal: str | None = None, **_: Any) -> LookupResult:
        self.asked.append(("eligibility", payer, query, portal))
        return self.answers[portal or payer]()

    async def claims(self, payer: str, query: Any, *, portal: str | None = None, **_: Any) -> LookupResult:
        self.asked.append(("claims", payer, query, portal))
        return self.answers[portal or payer]()


def use(monkeypatch: pytest.MonkeyPatch, module: str, runner: StandIn) -> None:
    monkeypatch.setattr(f"aggregator.cli.{module}.run_lookups", lambda settings, calls: asyncio.run(calls(runner)))


def answered(portal: str, answer: Any, outcome: Outcome = Outcome.FOUND, reason: str | None = None) -> Callable[[], LookupResult]:
    return lambda: LookupResult(lookup_id=f"lk-{portal}", carrier=PAYER, outcome=outcome, reason=reason,
                                answer=answer, account_label="frontdesk", portal=portal)


@pytest.mark.usefixtures("no_browser")
def test_reconcile_asks_every_portal_of_the_payer_and_exits_by_agreement(settings: Settings,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    query, own = active_member()
    who = ["--carrier", "Ridgeline Mutual", "--member-id", str(query.member_id), "--dob",
           query.date_of_birth.isoformat(), "--service-date", query.service_date.isoformat()]
    same = StandIn({PAYER: answered(PAYER, read_on(own, PAYER)),
                    HUB: answered(HUB, read_on(own, HUB, 3))})
    use(monkeypatch, "reconcile", same)
    agree = invoke(settings, "reconcile", *who)
    assert agree.exit_code == 0, agree.output
    assert "No differences" in agree.output
    assert sorted(str(portal) for _, _, _, portal in same.asked) == [HUB, PAYER]
    assert {(kind, payer) for kind, payer, _, _ in same.asked} == {("eligibility", PAYER)}
    assert all(asked == EligibilityQuery(member_id=query.member_id, date_of_birth=query.date_of_birth,
                                         service_date=query.service_date) for _, _, asked, _ in same.asked)

    ends = query.service_date + timedelta(days=30)
    hub = truth(changed({"action": "term_coverage", "member_id": query.member_id,
                         "termination_date": ends.isoformat()}), query)
    apart = StandIn({PAYER: answered(PAYER, own), HUB: answered(HUB, hub)})
    use(monkeypatch, "reconcile", apart)
    table = invoke(settings, "reconcile", *who)
    assert table.exit_code == EXIT_DISAGREE == 8, table.output
    assert "coverage.termination_date" in table.output and ends.isoformat() in table.output
    assert "Crossway" in table.output and "(own site)" in table.output
    as_json = invoke(settings, "reconcile", *who, "--json")
    assert as_json.exit_code == EXIT_DISAGREE
    payload = json.loads(as_json.stdout)
    assert payload["agree"] is False and payload["complete"] is True and payload["payer"] == PAYER
    assert payload["differences"] == [{"field": "coverage.termination_date",
                                       "values": {PAYER: None, HUB: ends.isoformat()}}]
    assert [p["portal"] for p in payload["portals"]] == [PAYER, HUB]


@pytest.mark.usefixtures("no_browser")
def test_reconcile_names_the_portal_that_could_not_answer_and_exits_with_its_code(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    query, own = active_member()
    down = StandIn({PAYER: answered(PAYER, own),
                    HUB: answered(HUB, None, Outcome.RETRY_LATER, "Crossway is in maintenance")})
    use(monkeypatch, "reconcile", down)
    result = invoke(settings, "reconcile", "--carrier", PAYER, "--member-id", str(query.member_id),
                    "--dob", query.date_of_birth.isoformat(), "--json")
    assert result.exit_code == EXIT_CODES[Outcome.RETRY_LATER], result.output
    assert "error: Crossway could not answer: retry_later: Crossway is in maintenance" in result.output
    payload = json.loads(result.stdout)
    assert payload["complete"] is False and payload["agree"] is False and payload["differences"] == []


@pytest.mark.usefixtures("no_browser")
def test_reconcile_claims_compares_the_member_claims_on_both_portals(settings: Settings,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    claim = ground_truth.open_claims(dataset(), PAYER)[0]
    query = ground_truth.member_claims_query(dataset(), PAYER, claim.member_id)
    own = ground_truth.claims(dataset(), PAYER, query)
    assert query.member_id and query.date_of_birth and query.service_from and query.service_to
    both = StandIn({PAYER: answered(PAYER, own), HUB: answered(HUB, own)})
    use(monkeypatch, "reconcile", both)
    result = invoke(settings, "reconcile", "--claims", "--carrier", PAYER, "--member-id", query.member_id,
                    "--dob", query.date_of_birth.isoformat(), "--from", query.service_from.isoformat(),
                    "--to", query.service_to.isoformat())
    assert result.exit_code == 0, result.output
    assert [(kind, asked) for kind, _, asked, _ in both.asked] == [("claims", query)] * 2


@pytest.mark.usefixtures("no_browser")
def test_lookup_names_payer_and_portal_and_passes_the_forced_portal_and_a_name_search(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    query, own = active_member()
    runner = StandIn({HUB: answered(HUB, read_on(own, HUB)),
                      PAYER: answered(PAYER, read_on(own, PAYER))})
    use(monkeypatch, "lookup", runner)
    who = ["--member-id", str(query.member_id), "--dob", query.date_of_birth.isoformat(),
           "--service-date", query.service_date.isoformat()]
    hub = invoke(settings, "lookup", "eligibility", "--carrier", PAYER, *who, "--portal", "Crossway")
    assert hub.exit_code == 0, hub.output
    assert "Ridgeline Mutual via Crossway" in hub.output and runner.asked[-1][3] == HUB
    own_site = invoke(settings, "lookup", "eligibility", "--carrier", PAYER, *who, "--json")
    payload = json.loads(own_site.stdout)
    assert payload["payer"] == PAYER and payload["portal"] == PAYER and runner.asked[-1][3] is None
    plain = invoke(settings, "lookup", "eligibility", "--carrier", PAYER, *who, "--portal", PAYER)
    assert "Ridgeline Mutual\n" in plain.output and "via" not in plain.output

    harborview = StandIn({HUB_ONLY: answered(HUB, read_on(own, HUB))})
    use(monkeypatch, "lookup", harborview)
    by_name = invoke(settings, "lookup", "eligibility", "--carrier", "Harborview Health", "--first-name", " Ann ",
                     "--last-name", "Lee", "--dob", "1980-01-02", "--service-date", "2026-11-27")
    assert by_name.exit_code == 0, by_name.output
    _, payer, asked, portal = harborview.asked[-1]
    assert payer == HUB_ONLY and portal is None
    assert asked.by_name and asked.first_name == "Ann" and asked.last_name == "Lee" and asked.member_id is None
