"""A carrier is asked only what its manifest declares; anything else is "not available at this carrier".

A test-only eligibility-only carrier ("eligonly": Ridgeline's manifest without authorizations or claims) is put
in the registry for each test. Its batch items must verify eligibility, never ask the portal for
authorizations, and end the visit's prior-auth part as "not available" with the manifest's call-the-payer
item, which the worklist shows; the runner refuses the question before storing or logging in anything;
the CLI exits 7 before a browser starts. The answers are compared with the sandbox's ground truth.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime, time

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from aggregator.errors import NotAvailableAtCarrier, Outcome
from aggregator.flows.authorization import answer_without_authorizations
from aggregator.flows.capabilities import call_the_payer, visit_answers_without_authorizations
from aggregator.models import AuthIndicator, AuthorizationQuery, EligibilityQuery, Provenance, ServiceType
from aggregator.overnight import worklist as worklists
from aggregator.overnight.batch import BatchOptions, BatchRun, ItemState, rerun_item
from aggregator.runner import LookupResult, Runner
from aggregator.scrapers import registry
from aggregator.scrapers.framework import Capability, CarrierAdapter
from aggregator.scrapers.framework.manifest import Manifest
from aggregator.settings import Settings
from aggregator.store import Repository
from aggregator.store import batches as store
from aggregator.store.tables import AppointmentRow, LookupRow
from sandbox.dataset import generate_dataset
from sandbox.ground_truth import eligibility as truth_eligibility
from vault import MasterKey, Vault

DAY = date(2026, 12, 1)
QUIET = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)
FAST = BatchOptions(max_attempts=2, retry_base_seconds=0.01, retry_max_seconds=0.05, deadline_seconds=30)
DATASET = generate_dataset()
TRUTH_CARRIER = "ridgeline"  # eligonly's members are Ridgeline's sandbox members (eligonly has no sandbox portal here)


def manifest_without(*missing: Capability, slug: str = "eligonly", name: str = "Eligonly Health") -> Manifest:
    """Ridgeline's manifest without `missing` (and their search modes and caps), validated as any manifest is."""
    base = registry.adapter_for("ridgeline").manifest
    data = base.model_dump() | {
        "slug": slug, "display_name": name,
        "capabilities": base.capabilities - set(missing),
        "search_modes": {m for m in base.search_modes if m.capability not in missing},
        "caps": [c for c in base.caps if c.capability not in missing],
        "gaps": [g for g in base.gaps if g.need.capability not in missing],
    }
    return Manifest.model_validate(data)


class EligonlyAdapter(CarrierAdapter):
    """Eligibility only. Any portal step would be a test failure: the runner is scripted below."""

    manifest = manifest_without(Capability.AUTHORIZATION, Capability.CLAIM_STATUS)

    async def login(self) -> None:
        raise AssertionError("no login in these tests")


class NoEligibilityAdapter(CarrierAdapter):
    manifest = manifest_without(Capability.ELIGIBILITY, slug="claimsonly", name="Claims Only Co")

    async def login(self) -> None:
        raise AssertionError("no login in these tests")


@pytest.fixture(autouse=True)
def registered_test_carriers(monkeypatch):  # type: ignore[no-untyped-def]
    real = registry._adapters()
    monkeypatch.setattr(registry, "_adapters", lambda: {**real, "eligonly": EligonlyAdapter,
                                                         "claimsonly": NoEligibilityAdapter})


class PortalRunner:
    """Answers eligibility from the ground truth (stored as the real runner stores it); counts every call,
    and any authorization or claim question is recorded as a call that must not happen."""

    def __init__(self, settings: Settings, repository: Repository, vault: Vault) -> None:
        self.settings, self.repository, self.vault = settings, repository, vault
        self.clock, self.respect_maintenance_windows = (lambda: QUIET), False
        self.calls: list[tuple[str, str]] = []
        self.after_sign_in: list[object] = []  # the web app installs its re-run hook here

    def logins_performed(self, account_id: str) -> int:
        return 0

    def held_for(self, portal: str, label: str) -> float:
        return 0.0  # no portal here asks an account to wait

    async def eligibility(self, carrier, query, *, source, account_label=None, portal=None, person=None):  # type: ignore[no-untyped-def]
        self.calls.append(("eligibility", carrier))
        lookup = self.repository.create_lookup(flow="eligibility", carrier=carrier, query=query, source=source)
        answer = truth_eligibility(DATASET, TRUTH_CARRIER, query).model_copy(update={"provenance": Provenance(
            carrier=carrier, portal_account=account_label or "any", fetched_at=datetime.now(UTC), evidence_ids=[])})
        self.repository.save_record(lookup.id, answer, subject=query.member_id)
        outcome = Outcome.NOT_FOUND if answer.kind == "not_found" else Outcome.FOUND
        self.repository.finish_lookup(lookup.id, outcome, None, None)
        return LookupResult(lookup.id, carrier, outcome, answer=answer, account_label=account_label)

    async def authorizations(self, carrier, query, *, source, account_label=None, portal=None, person=None):  # type: ignore[no-untyped-def]
        self.calls.append(("authorization", carrier))
        raise AssertionError(f"{carrier} was asked for authorizations")

    async def claims(self, carrier, query, *, source, account_label=None, portal=None, person=None):  # type: ignore[no-untyped-def]
        self.calls.append(("claims", carrier))
        raise AssertionError(f"{carrier} was asked for claims")


@pytest.fixture
def vault(settings: Settings) -> Vault:
    vault = Vault.create(settings.resolved_vault_path, MasterKey.generate())
    for carrier in ("eligonly", "claimsonly"):
        vault.add_account(carrier=carrier, label="frontdesk", username="user", password="pw",
                          totp_secret="JBSWY3DPEHPK3PXP")
    return vault


def active_members(n: int):  # type: ignore[no-untyped-def]
    return [m for m in DATASET.carriers[TRUTH_CARRIER].members.values() if m.covered_on(DAY)][:n]


def add_visits(repository: Repository, carrier: str, visits: list[tuple[str | None, str | None]]) -> list:  # type: ignore[type-arg]
    """One appointment per (service type, procedures) at `carrier`, each for another active member."""
    now = datetime.now(UTC)
    members = active_members(len(visits))
    with repository.session() as session:
        for n, (member, (service, procedures)) in enumerate(zip(members, visits, strict=True)):
            session.add(AppointmentRow(
                id=f"{carrier}-{n}", starts_at=datetime.combine(DAY, time(8 + n, 0), tzinfo=UTC), service_date=DAY,
                patient_last_name=member.last_name, patient_first_name=member.first_name,
                patient_dob=member.date_of_birth, carrier=carrier, member_id=member.member_id,
                service_type=service, procedure_codes=procedures, source="test.csv", fingerprint=f"{carrier}{n}",
                imported_at=now, updated_at=now))
        session.commit()
    return members


def truth_for(member) -> object:  # type: ignore[no-untyped-def]
    return truth_eligibility(DATASET, TRUTH_CARRIER, EligibilityQuery(
        member_id=member.member_id, date_of_birth=member.date_of_birth, service_date=DAY, last_name=member.last_name))


# --- the batch ---------------------------------------------------------------------------------------------

async def test_the_batch_never_asks_an_eligibility_only_carrier_for_authorizations(settings, repository, vault):
    visits = [("62", "70551"), ("98", None), (None, "97110"), (None, None)]  # MRI (auth Y), office (N), procedure only, plain
    members = add_visits(repository, "eligonly", visits)
    runner = PortalRunner(settings, repository, vault)
    summary = await BatchRun(runner, DAY, options=FAST).run()  # type: ignore[arg-type]

    assert runner.calls == [("eligibility", "eligonly")] * 4  # the eligibility part runs; authorizations never asked
    assert summary.counts == Counter({"verified": 4})
    manifest = EligonlyAdapter.manifest
    items = {item.appointment_id: item for item in store.items_on(repository, DAY)}
    for n, (member, (service, procedures)) in enumerate(zip(members, visits, strict=True)):
        item = items[f"eligonly-{n}"]
        assert item.authorization_lookup_id is None
        truth = truth_for(member)
        assert repository.records_for_lookup(item.eligibility_lookup_id)[0].without_provenance() == truth
        if service is None and procedures is None:
            assert item.auth_answer is None and item.reason_code is None
            continue
        expected = visit_answers_without_authorizations(
            truth, manifest, service_date=DAY, service_type=ServiceType(service) if service else None,
            procedure_codes=tuple(c for c in (procedures or "").split(";") if c))
        assert [a for a in json.loads(item.auth_answer)] == [e.model_dump(mode="json") for e in expected]

    mri, office, procedure_only = (json.loads(items[f"eligonly-{n}"].auth_answer)[0] for n in range(3))
    # MRI: the benefits say prior auth is required, and only the payer can say whether one is approved.
    assert mri["status"] == "not_available" and mri["required"] == AuthIndicator.REQUIRED.value
    assert mri["missing"][-1] == call_the_payer(manifest, Capability.AUTHORIZATION, ServiceType.MRI_CAT_SCAN)
    assert items["eligonly-0"].reason_code == "not_available_at_carrier"
    assert "not available at this carrier" in items["eligonly-0"].reason
    assert items["eligonly-0"].action == mri["missing"][-1]
    # Office visit: the eligibility record alone says "not required": nothing to call about.
    assert office["status"] == "not_required" and items["eligonly-1"].action is None
    # A procedure without a service type cannot be matched to the benefits without the authorizations.
    assert procedure_only["status"] == "not_available" and procedure_only["required"] == AuthIndicator.UNKNOWN.value


async def test_a_carrier_without_eligibility_ends_its_items_with_the_call_before_any_login(settings, repository, vault):
    add_visits(repository, "claimsonly", [("62", None)])
    runner = PortalRunner(settings, repository, vault)
    summary = await BatchRun(runner, DAY, options=FAST).run()  # type: ignore[arg-type]
    assert runner.calls == []
    assert summary.counts == Counter({"needs_human": 1})
    item = store.items_on(repository, DAY)[0]
    assert item.reason_code == "not_available_at_carrier" and item.eligibility_lookup_id is None
    assert item.action == call_the_payer(NoEligibilityAdapter.manifest, Capability.ELIGIBILITY)


async def test_a_rerun_of_an_item_at_an_eligibility_only_carrier_asks_eligibility_only(settings, repository, vault):
    add_visits(repository, "eligonly", [("62", None)])
    runner = PortalRunner(settings, repository, vault)
    await BatchRun(runner, DAY, options=FAST).run()  # type: ignore[arg-type]
    item = await rerun_item(runner, store.items_on(repository, DAY)[0].id)  # type: ignore[arg-type]
    assert item.state == ItemState.VERIFIED.value and item.reason_code == "not_available_at_carrier"
    assert runner.calls == [("eligibility", "eligonly")] * 2


# --- the worklist ------------------------------------------------------------------------------------------

async def test_the_worklist_says_not_available_and_what_to_do(settings, repository, vault):
    add_visits(repository, "eligonly", [("62", "70551;70553"), ("98", None), ("AL", None)])
    await BatchRun(PortalRunner(settings, repository, vault), DAY, options=FAST).run()  # type: ignore[arg-type]
    rows = {row.appointment_id: row for row in worklists.worklist(repository, DAY)}
    call = call_the_payer(EligonlyAdapter.manifest, Capability.AUTHORIZATION, ServiceType.MRI_CAT_SCAN)
    mri = rows["eligonly-0"]
    assert mri.state == "verified" and mri.coverage == "active"
    assert mri.auth == "not available at this carrier (70551)"
    assert mri.action == call and mri.reason_code == "not_available_at_carrier"
    assert mri.auth_missing == [call, call]  # one per procedure
    assert rows["eligonly-1"].auth == "not required (Professional (Physician) Visit - Office)"
    assert rows["eligonly-1"].action is None
    # The visit's phone checklist, from the manifest: MRI benefits are on the portal, authorizations are not.
    assert mri.call_the_payer == [call] and rows["eligonly-1"].call_the_payer == []
    vision = rows["eligonly-2"]  # a service type the benefits page does not list (a declared gap)
    assert vision.call_the_payer == [
        f"Call Eligonly Health provider services: ask the member's benefits for {ServiceType('AL').label}: copay, "
        "coinsurance, deductible, visit limit and visits remaining",
        f"Call Eligonly Health provider services: ask whether {ServiceType('AL').label} needs prior authorization",
        call_the_payer(EligonlyAdapter.manifest, Capability.AUTHORIZATION, ServiceType("AL"))]
    assert vision.auth == f"not available at this carrier ({ServiceType('AL').label})"
    csv = worklists.as_csv(list(rows.values()))
    assert "not available at this carrier (70551)" in csv and call in csv
    assert ",action,call_the_payer," in csv.splitlines()[0]  # newer columns (portal, not_before) come after
    assert json.loads(worklists.as_json([mri]))[0]["reason_code"] == "not_available_at_carrier"


def test_the_cli_worklist_to_do_column_shows_the_call() -> None:
    from aggregator.cli.batch import _to_do

    row = worklists.WorklistRow(item_id="i", appointment_id="a", starts_at=datetime.now(UTC), patient_name="X, Y",
                                patient_dob=DAY, carrier="eligonly", member_id="M1", state="verified",
                                action="Call Eligonly Health provider services: ask ...")
    assert _to_do(row) == "Call Eligonly Health provider services: ask ..."
    calls = row.model_copy(update={"action": None, "call_the_payer": ["Call A", "Call B"]})
    assert _to_do(calls) == "Call A (+1 more calls: see --json)"
    both = row.model_copy(update={"call_the_payer": [row.action, "Call B"]})
    assert _to_do(both) == "Call Eligonly Health provider services: ask ...; Call B"


# --- the flow ----------------------------------------------------------------------------------------------

def test_the_answer_without_authorizations_never_guesses_whether_one_is_on_file() -> None:
    member = active_members(1)[0]
    truth = truth_for(member)
    call = "Call the payer"
    required = answer_without_authorizations(truth, call, service_date=DAY, service_type=ServiceType.PHYSICAL_THERAPY)
    assert (required.status, required.required, required.covering_auth_number) == ("not_available",
                                                                                    AuthIndicator.REQUIRED, None)
    assert required.missing[-1] == call
    assert answer_without_authorizations(truth, call, service_date=DAY,
                                         service_type=ServiceType.URGENT_CARE).status == "not_required"
    nothing = answer_without_authorizations(truth, call, service_date=DAY)
    assert nothing.status == "unknown" and call not in nothing.missing


# --- the runner and the CLI --------------------------------------------------------------------------------

async def test_the_runner_refuses_an_undeclared_question_before_storing_or_logging_in(settings, repository, vault):
    runner = Runner(settings=settings, repository=repository, vault=vault, pool=None)  # type: ignore[arg-type]
    query = AuthorizationQuery(member_id="M123456789", date_of_birth=date(1980, 1, 2))
    with pytest.raises(NotAvailableAtCarrier) as raised:
        await runner.authorizations("eligonly", query)
    error = raised.value
    assert error.outcome is Outcome.NOT_AVAILABLE and error.code == "not_available_at_carrier"
    assert error.capability == "authorization" and not error.retryable and not error.needs_human
    assert error.call_the_payer == call_the_payer(EligonlyAdapter.manifest, Capability.AUTHORIZATION)
    with repository.session() as session:
        assert session.exec(select(LookupRow)).first() is None  # nothing stored for a question never asked
    assert runner.logins_performed(vault.accounts("eligonly")[0].account_id) == 0 and runner._slots == {}


def test_cli_lookup_authorizations_at_an_eligibility_only_carrier_exits_7_without_a_browser(
        settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from aggregator.cli import app
    from aggregator.cli.common import EXIT_CODES

    def no_browser(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("a browser was started")

    monkeypatch.setattr(Runner, "open", no_browser)
    assert EXIT_CODES[Outcome.NOT_AVAILABLE] == 7
    cli = CliRunner()
    for extra in ([], ["--service-date", DAY.isoformat(), "--service-type", "62"]):
        result = cli.invoke(app, ["lookup", "authorizations", "--carrier", "eligonly", "--member-id", "M123456789",
                                  "--dob", "1980-01-02", "--data-dir", str(settings.data_dir), *extra])
        assert result.exit_code == 7, result.output
        assert "not available at this carrier" in result.output
        assert "Call Eligonly Health" in result.output
    claims = cli.invoke(app, ["lookup", "claims", "--carrier", "eligonly", "--claim-number", "C1",
                              "--data-dir", str(settings.data_dir)])
    assert claims.exit_code == 7 and "claim status" in claims.output
