"""The canary against a scripted runner (no browser; real database, vault and batch dispatcher).

Pins: a failing canary holds its portal's items (pending, with the reason, not attempted) while the
other portals finish; held items run at the next batch run once the canary passes; a login failure of
one account does not hold a portal another account of which passes; an outage is inconclusive (nothing
held); a changed answer fails until an admin accepts it, accumulators aside; nothing of the canary
member reaches the log. The real portals (a v2 layout with a change of meaning) are in
tests/e2e/test_canary_e2e.py.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest

from aggregator.errors import Outcome
from aggregator.models import EligibilityRecord, Provenance, TimePeriod
from aggregator.overnight import canary
from aggregator.overnight.batch import BatchOptions, BatchRun
from aggregator.runner import LookupResult
from aggregator.settings import Settings
from aggregator.store import Repository
from aggregator.store import batches as batch_store
from aggregator.store import canary as canary_store
from aggregator.store.tables import AppointmentRow
from sandbox.dataset import generate_dataset
from sandbox.ground_truth import eligibility as truth_eligibility
from vault import MasterKey, Vault

DAY = date(2026, 12, 1)
QUIET = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)
FAST = BatchOptions(max_attempts=2, retry_base_seconds=0.01, retry_max_seconds=0.05, deadline_seconds=30)
DATASET = generate_dataset()
CARRIERS = ("ridgeline", "bluepeak")
FAILURES = {
    "attention": (Outcome.NEEDS_ATTENTION, "unexpected_page", "the benefits page has headers the adapter does not know"),
    "rejected": (Outcome.NEEDS_HUMAN, "credentials_rejected", "the portal rejected the login"),
    "unavailable": (Outcome.RETRY_LATER, "portal_unavailable", "the portal answered 503"),
}


def active(slug: str, n: int, skip: int = 0):  # type: ignore[no-untyped-def]
    return [m for m in DATASET.carriers[slug].members.values() if m.covered_on(DAY)][skip:skip + n]


class FakeRunner:
    """Answers from the ground truth; `canary[(carrier, account)]` scripts the canary lookups ("found",
    "changed_plan", "changed_accumulator" or a FAILURES key); batch lookups are always found."""

    def __init__(self, settings: Settings, repository: Repository, vault: Vault) -> None:
        self.settings, self.repository, self.vault = settings, repository, vault
        self.clock, self.respect_maintenance_windows = (lambda: QUIET), False
        self.canary: dict[tuple[str, str], str] = {}
        self.calls: list[tuple[str, str, str, str | None]] = []  # (source, carrier, member id, account)

    def logins_performed(self, account_id: str) -> int:
        return 0

    def held_for(self, portal: str, label: str) -> float:
        return 0.0  # no portal here asks an account to wait

    async def eligibility(self, carrier, query, *, source, account_label=None, portal=None):  # type: ignore[no-untyped-def]
        self.calls.append((source, carrier, query.member_id, account_label))
        lookup = self.repository.create_lookup(flow="eligibility", carrier=carrier, query=query, source=source)
        kind = self.canary.get((carrier, account_label or ""), "found") if source == "canary" else "found"
        if kind in FAILURES:
            outcome, code, reason = FAILURES[kind]
            self.repository.finish_lookup(lookup.id, outcome, reason, code)
            return LookupResult(lookup.id, carrier, outcome, reason=reason, reason_code=code, account_label=account_label)
        answer = truth_eligibility(DATASET, carrier, query)
        assert isinstance(answer, EligibilityRecord)
        answer = _changed(answer, kind).model_copy(update={"provenance": Provenance(
            carrier=carrier, portal_account=account_label or "any", fetched_at=datetime.now(UTC), evidence_ids=[])})
        self.repository.save_record(lookup.id, answer, subject=query.member_id)
        self.repository.finish_lookup(lookup.id, Outcome.FOUND, None, None)
        return LookupResult(lookup.id, carrier, Outcome.FOUND, answer=answer, account_label=account_label)

    async def authorizations(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("no appointment here names a procedure")

    def batch_calls(self, carrier: str) -> list[str]:
        return [member for source, slug, member, _ in self.calls if source == "batch" and slug == carrier]


def _changed(record: EligibilityRecord, kind: str) -> EligibilityRecord:
    if kind == "changed_plan":  # what a misread page could look like: the plan's copays doubled
        benefits = tuple(b.model_copy(update={"amount": b.amount * 2}) if b.amount and b.time_period is None else b
                         for b in record.benefits)
        return record.model_copy(update={"benefits": benefits})
    if kind == "changed_accumulator":  # a claim was paid: only "remaining" amounts moved
        benefits = tuple(b.model_copy(update={"amount": max(Decimal(0), b.amount - 10)})
                         if b.amount and b.time_period is TimePeriod.REMAINING else b for b in record.benefits)
        return record.model_copy(update={"benefits": benefits})
    return record


@pytest.fixture
def vault(settings: Settings) -> Vault:
    vault = Vault.create(settings.resolved_vault_path, MasterKey.generate())
    for slug in CARRIERS:
        for label in ("frontdesk", "billing"):
            vault.add_account(carrier=slug, label=label, username=f"{slug}-{label}", password="password-1",
                              totp_secret="JBSWY3DPEHPK3PXP")
    return vault


@pytest.fixture
def runner(settings: Settings, repository: Repository, vault: Vault) -> FakeRunner:
    return FakeRunner(settings, repository, vault)


def add_appointments(repository: Repository, per_carrier: int = 3) -> None:
    now = datetime.now(UTC)
    with repository.session() as session:
        for slug in CARRIERS:
            for n, member in enumerate(active(slug, per_carrier, skip=1)):  # the first one is the canary member
                session.add(AppointmentRow(
                    id=f"{slug}-{n}", starts_at=datetime.combine(DAY, time(8 + n, 0), tzinfo=UTC), service_date=DAY,
                    patient_last_name=member.last_name, patient_first_name=member.first_name,
                    patient_dob=member.date_of_birth, carrier=slug, member_id=member.member_id, source="test.csv",
                    fingerprint=f"{slug}{n}", imported_at=now, updated_at=now))
        session.commit()


def configure_canaries(repository: Repository, carriers=CARRIERS, labels=("frontdesk", "billing")) -> None:  # type: ignore[no-untyped-def]
    for slug in carriers:
        member = active(slug, 1)[0]
        for label in labels:
            canary_store.set_member(repository, carrier=slug, account_label=label, member_id=member.member_id,
                                    date_of_birth=member.date_of_birth, last_name=member.last_name)


def items_of(repository: Repository, carrier: str):  # type: ignore[no-untyped-def]
    return [i for i in batch_store.items_on(repository, DAY) if i.carrier == carrier]


async def test_a_failing_canary_holds_its_portal_and_the_other_portals_finish(runner, repository):
    add_appointments(repository)
    configure_canaries(repository)
    runner.canary[("ridgeline", "frontdesk")] = "attention"  # layout drift seen by one account is the portal's

    summary = await BatchRun(runner, DAY, options=FAST).run()  # type: ignore[arg-type]

    held = items_of(repository, "ridgeline")
    assert {i.state for i in held} == {"pending"} and len(held) == 3
    assert all(i.reason_code == canary.HELD_CODE and i.attempts == 0 and i.eligibility_lookup_id is None for i in held)
    assert held[0].reason is not None and held[0].reason.startswith(
        "held: canary failed at Ridgeline Mutual: the benefits page has headers")
    assert "aggregator canary --portal ridgeline" in (held[0].action or "")
    assert runner.batch_calls("ridgeline") == []  # not burned through: nothing asked of the portal
    assert {i.state for i in items_of(repository, "bluepeak")} == {"verified"}
    assert set(summary.held) == {"ridgeline"} and summary.as_json()["held"] == summary.held
    assert summary.counts == Counter({"pending": 3, "verified": 3})
    latest = canary_store.latest_results(repository)
    assert latest[("ridgeline", "frontdesk")].status == "failed" and latest[("bluepeak", "billing")].status == "passed"
    # One canary lookup per account with a canary member, with that account.
    canary_calls = Counter((slug, account) for source, slug, _, account in runner.calls if source == "canary")
    assert canary_calls == Counter({(s, a): 1 for s in CARRIERS for a in ("frontdesk", "billing")})


async def test_held_items_run_at_the_next_batch_run_once_the_canary_passes(runner, repository):
    add_appointments(repository)
    configure_canaries(repository)
    runner.canary[("ridgeline", "frontdesk")] = "attention"
    await BatchRun(runner, DAY, options=FAST, trigger="nightly").run()  # type: ignore[arg-type]
    assert {i.state for i in items_of(repository, "ridgeline")} == {"pending"}
    assert canary_store.held_counts(repository) == {"ridgeline": 3}

    runner.canary.clear()  # a person fixed it (adapter updated, portal back to what it was)
    summary = await BatchRun(runner, DAY, options=FAST, trigger="retry").run()  # type: ignore[arg-type]

    assert summary.held == {} and summary.counts == Counter({"verified": 6})
    assert all(i.reason_code is None for i in items_of(repository, "ridgeline"))
    assert len(runner.batch_calls("ridgeline")) == 3 and len(runner.batch_calls("bluepeak")) == 3  # none twice
    assert canary_store.held_counts(repository) == {}


async def test_one_account_failing_to_log_in_does_not_hold_a_portal_another_account_passes(runner, repository):
    add_appointments(repository)
    configure_canaries(repository)
    runner.canary[("ridgeline", "billing")] = "rejected"
    summary = await BatchRun(runner, DAY, options=FAST).run()  # type: ignore[arg-type]
    assert summary.held == {} and {i.state for i in items_of(repository, "ridgeline")} == {"verified"}


async def test_every_account_failing_to_log_in_holds_the_portal(runner, repository):
    add_appointments(repository)
    configure_canaries(repository)
    runner.canary.update({("bluepeak", "billing"): "rejected", ("bluepeak", "frontdesk"): "rejected"})
    summary = await BatchRun(runner, DAY, options=FAST).run()  # type: ignore[arg-type]
    assert set(summary.held) == {"bluepeak"} and "login: the portal rejected the login" in summary.held["bluepeak"]
    assert runner.batch_calls("bluepeak") == [] and {i.state for i in items_of(repository, "ridgeline")} == {"verified"}


async def test_an_outage_is_inconclusive_and_holds_nothing(runner, repository):
    add_appointments(repository)
    configure_canaries(repository, carriers=("ridgeline",), labels=("frontdesk",))
    runner.canary[("ridgeline", "frontdesk")] = "unavailable"
    summary = await BatchRun(runner, DAY, options=FAST).run()  # type: ignore[arg-type]
    assert summary.held == {} and summary.counts == Counter({"verified": 6})
    assert canary_store.latest_results(repository)[("ridgeline", "frontdesk")].status == "inconclusive"


async def test_without_canary_members_the_batch_asks_nothing_more(runner, repository):
    add_appointments(repository)
    summary = await BatchRun(runner, DAY, options=FAST).run()  # type: ignore[arg-type]
    assert summary.counts == Counter({"verified": 6}) and all(c[0] == "batch" for c in runner.calls)


async def test_a_changed_answer_fails_until_an_admin_accepts_it_and_accumulators_never_count(runner, repository):
    configure_canaries(repository, carriers=("ridgeline",), labels=("frontdesk",))
    key = ("ridgeline", "frontdesk")

    async def check() -> canary.PortalVerdict:
        return (await canary.run_canaries(runner, service_date=DAY, trigger="cli"))["ridgeline"]  # type: ignore[arg-type]

    assert (await check()).checks[0].status == "passed"  # the first answer is the baseline
    runner.canary[key] = "changed_accumulator"
    assert (await check()).checks[0].status == "passed"
    runner.canary[key] = "changed_plan"
    verdict = await check()
    assert verdict.held and verdict.reason_code == canary.ANSWER_CHANGED
    assert verdict.checks[0].differences and "copay" in " ".join(verdict.checks[0].differences)
    assert (await check()).held  # still different from the last good answer
    result = canary_store.latest_results(repository)[key]
    canary_store.accept_result(repository, result.id, "admin")  # the plan really changed
    assert not (await check()).held


async def test_replacing_the_canary_member_starts_a_new_baseline(runner, repository):
    configure_canaries(repository, carriers=("ridgeline",), labels=("frontdesk",))
    await canary.run_canaries(runner, service_date=DAY, trigger="cli")  # type: ignore[arg-type]
    other = active("ridgeline", 1, skip=5)[0]
    canary_store.set_member(repository, carrier="ridgeline", account_label="frontdesk", member_id=other.member_id,
                            date_of_birth=other.date_of_birth)
    verdict = (await canary.run_canaries(runner, service_date=DAY, trigger="cli"))["ridgeline"]  # type: ignore[arg-type]
    assert verdict.checks[0].status == "passed"  # not compared with the previous member's answer


async def test_a_frozen_or_missing_account_is_skipped_not_looked_up(runner, repository, vault):
    configure_canaries(repository, carriers=("ridgeline",))
    canary_store.set_member(repository, carrier="ridgeline", account_label="gone", member_id="RM000000001",
                            date_of_birth=date(1980, 1, 1))
    vault.freeze(vault.find("ridgeline", "billing").account_id, "the portal rejected the password")
    verdict = (await canary.run_canaries(runner, service_date=DAY, trigger="cli"))["ridgeline"]  # type: ignore[arg-type]
    assert {(c.account_label, c.status) for c in verdict.checks} == {
        ("billing", "skipped"), ("gone", "skipped"), ("frontdesk", "passed")}
    assert not verdict.held and [c[3] for c in runner.calls] == ["frontdesk"]


async def test_no_canary_member_data_in_the_log(runner, repository, json_log):
    add_appointments(repository)
    configure_canaries(repository)
    runner.canary.update({("ridgeline", "frontdesk"): "attention", ("bluepeak", "billing"): "rejected"})
    await BatchRun(runner, DAY, options=FAST).run()  # type: ignore[arg-type]
    runner.canary[("ridgeline", "frontdesk")] = "changed_plan"
    await canary.run_canaries(runner, service_date=DAY, trigger="cli")  # type: ignore[arg-type]

    out = json_log.getvalue()
    assert "canary_checked" in out and "canary_portal_held" in out
    for slug in CARRIERS:
        member = active(slug, 1)[0]
        dob = member.date_of_birth
        for value in (member.member_id, member.last_name, member.first_name, dob.isoformat(),
                      dob.strftime("%m/%d/%Y"), dob.strftime("%Y%m%d")):
            assert value not in out, (slug, value)


def test_cli_sets_lists_and_removes_a_canary_member_without_printing_it(tmp_path):
    from typer.testing import CliRunner

    from aggregator.cli import app

    data = tmp_path / "cli"
    data.mkdir(mode=0o700)
    key = MasterKey.generate()
    key.write_key_file(data / "vault.key")
    Vault.create(data / "vault.json", key).add_account(carrier="ridgeline", label="frontdesk", username="u",
                                                       password="password-1", totp_secret="JBSWY3DPEHPK3PXP")
    cli, where = CliRunner(), ["--data-dir", str(data)]
    nothing = cli.invoke(app, ["canary", *where])
    assert nothing.exit_code == 2 and "no canary member configured" in nothing.output
    member = active("ridgeline", 1)[0]
    dob = member.date_of_birth.isoformat()
    unknown = cli.invoke(app, ["canary", "set", "--portal", "ridgeline", "--account", "billing", "--member-id",
                               member.member_id, "--dob", dob, *where])
    assert unknown.exit_code == 2 and "no vault account 'ridgeline/billing'" in unknown.output
    added = cli.invoke(app, ["canary", "set", "--portal", "ridgeline", "--account", "frontdesk", "--member-id",
                             member.member_id, "--dob", dob, *where])
    listed = cli.invoke(app, ["canary", "members", *where])
    assert added.exit_code == 0 and listed.exit_code == 0 and "never run" in listed.output
    assert canary_store.masked_member_id(member.member_id) in listed.output
    for text in (added.output, listed.output):
        assert member.member_id not in text and dob not in text
    removed = cli.invoke(app, ["canary", "remove", "--portal", "ridgeline", "--account", "frontdesk", *where])
    assert removed.exit_code == 0
    assert canary_store.members(Repository.open(f"sqlite:///{data / 'aggregator.db'}")) == []
