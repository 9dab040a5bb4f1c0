"""The in-process batch dispatcher against a scripted runner (no browser, real database and vault).

The scripted runner answers each lookup from a per-member script, stores lookups and records the way
the real runner does, and counts calls, so these tests pin the dispatch rules: grouping by account,
terminal states, retries with backoff, the circuit breaker, maintenance windows, accounts that need a
person, crash recovery and the retry pass. The real runner and portals are covered by the e2e batch tests.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from time import monotonic

import pytest

from aggregator.errors import Outcome
from aggregator.models import EligibilityQuery, Provenance
from aggregator.overnight.batch import (
    BatchAlreadyRunning,
    BatchOptions,
    BatchRun,
    CircuitBreaker,
    ItemState,
    rerun_item,
)
from aggregator.overnight.worklist import state_counts, worklist
from aggregator.runner import LookupResult
from aggregator.settings import Settings
from aggregator.store import Repository
from aggregator.store import batches as store
from aggregator.store.tables import AppointmentRow
from sandbox.dataset import generate_dataset
from sandbox.ground_truth import authorizations as truth_authorizations
from sandbox.ground_truth import eligibility as truth_eligibility
from sandbox.ground_truth import members_with_authorizations
from vault import MasterKey, Vault

DAY = date(2026, 12, 1)
QUIET = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)
FAST = BatchOptions(max_attempts=3, retry_base_seconds=0.01, retry_max_seconds=0.05, deadline_seconds=30,
                    breaker_threshold=3, breaker_cooldown_seconds=0.3)
DATASET = generate_dataset()


@dataclass
class Scripted:
    """Per member id: a list of outcomes, one per attempt (the last repeats)."""

    outcomes: dict[str, list[str]] = field(default_factory=dict)
    default: str = "found"
    account_outcomes: dict[str, str] = field(default_factory=dict)  # account label -> outcome on every call

    def next(self, member_id: str, attempt: int, account: str | None) -> str:
        if account in self.account_outcomes:
            return self.account_outcomes[account]
        script = self.outcomes.get(member_id, [self.default])
        return script[min(attempt, len(script) - 1)]


ERRORS = {
    "retry_later": (Outcome.RETRY_LATER, "portal_unavailable", "the portal answered 503"),
    "maintenance": (Outcome.RETRY_LATER, "portal_maintenance", "the portal shows its maintenance page"),
    "rejected": (Outcome.NEEDS_HUMAN, "credentials_rejected", "the portal rejected the login"),
    "attention": (Outcome.NEEDS_ATTENTION, "unexpected_page", "landed on a page the adapter does not know"),
    "failed": (Outcome.FAILED, "internal_error", "internal error (KeyError)"),
    "daily_limit": (Outcome.RETRY_LATER, "daily_limit", "deferred: daily limit (each account may search 2 times a day)"),
}


class ScriptedRunner:
    def __init__(self, settings: Settings, repository: Repository, vault: Vault, script: Scripted,
                 clock: Callable[[], datetime] = lambda: QUIET, respect_maintenance_windows: bool = False) -> None:
        self.settings, self.repository, self.vault, self.script = settings, repository, vault, script
        self.clock, self.respect_maintenance_windows = clock, respect_maintenance_windows
        self.calls: list[tuple[str, str, str | None, datetime]] = []
        self.attempts: Counter[tuple[str, str]] = Counter()
        self.delays: dict[str, float] = {}  # account label -> seconds each of its lookups takes

    def logins_performed(self, account_id: str) -> int:
        return 0

    def held_for(self, portal: str, label: str) -> float:
        return 0.0  # no portal here asks an account to wait

    async def eligibility(self, carrier, query, *, source, account_label=None, portal=None):  # type: ignore[no-untyped-def]
        return await self._answer("eligibility", carrier, query, account_label,
                                  lambda: truth_eligibility(DATASET, carrier, query))

    async def authorizations(self, carrier, query, *, source, account_label=None, portal=None):  # type: ignore[no-untyped-def]
        return await self._answer("authorization", carrier, query, account_label,
                                  lambda: truth_authorizations(DATASET, carrier, query.member_id, query.date_of_birth))

    async def _answer(self, flow, carrier, query, account_label, truth):  # type: ignore[no-untyped-def]
        await asyncio.sleep(self.delays.get(account_label or "", 0))
        key = (flow, query.member_id)
        attempt = self.attempts[key]
        self.attempts[key] += 1
        self.calls.append((flow, query.member_id, account_label, datetime.now(UTC)))
        lookup = self.repository.create_lookup(flow=flow, carrier=carrier, query=query, source="batch")
        kind = self.script.next(query.member_id, attempt, account_label)
        if kind == "found":
            answer = truth()
            answer = answer.model_copy(update={"provenance": Provenance(
                carrier=carrier, portal_account=account_label or "any", fetched_at=datetime.now(UTC),
                evidence_ids=[])})
            self.repository.save_record(lookup.id, answer, subject=query.member_id)
            outcome = Outcome.NOT_FOUND if answer.kind == "not_found" else Outcome.FOUND
            reason = answer.reject_reason.label if answer.kind == "not_found" else None
            self.repository.finish_lookup(lookup.id, outcome, reason, None)
            return LookupResult(lookup.id, carrier, outcome, reason=reason, answer=answer, account_label=account_label)
        outcome, code, reason = ERRORS[kind]
        self.repository.finish_lookup(lookup.id, outcome, reason, code)
        return LookupResult(lookup.id, carrier, outcome, reason=reason, reason_code=code, account_label=account_label)


@pytest.fixture
def vault(settings: Settings) -> Vault:
    vault = Vault.create(settings.resolved_vault_path, MasterKey.generate())
    for label in ("frontdesk", "billing"):
        vault.add_account(carrier="ridgeline", label=label, username=f"user-{label}", password="pw",
                          totp_secret="JBSWY3DPEHPK3PXP")
    return vault


def add_appointments(repository: Repository, members, *, procedures: dict[str, str] | None = None) -> list[str]:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    ids = []
    with repository.session() as session:
        for n, member in enumerate(members):
            appointment_id = f"A{n:04d}"
            session.add(AppointmentRow(
                id=appointment_id, starts_at=datetime.combine(DAY, time(8 + n % 9, 0), tzinfo=UTC), service_date=DAY,
                patient_last_name=member.last_name, patient_first_name=member.first_name,
                patient_dob=member.date_of_birth, carrier="ridgeline", member_id=member.member_id,
                procedure_codes=(procedures or {}).get(member.member_id), source="test.csv",
                fingerprint=str(n), imported_at=now, updated_at=now))
            ids.append(appointment_id)
        session.commit()
    return ids


def active_members(n: int):  # type: ignore[no-untyped-def]
    members = [m for m in DATASET.carriers["ridgeline"].members.values()
               if m.covered_on(DAY)]
    return members[:n]


def states(repository: Repository) -> Counter[str]:
    return Counter(item.state for item in store.items_on(repository, DAY))


async def test_every_appointment_reaches_a_terminal_state_spread_over_both_accounts(settings, repository, vault):
    members = active_members(12)
    add_appointments(repository, members)
    runner = ScriptedRunner(settings, repository, vault, Scripted())
    summary = await BatchRun(runner, DAY, options=FAST).run()  # type: ignore[arg-type]
    assert summary.counts == Counter({"verified": 12})
    assert Counter(account for *_, account, _ in runner.calls).keys() == {"frontdesk", "billing"}
    assert len(runner.calls) == 12  # each appointment checked once
    # Stored eligibility equals the ground truth for every item.
    for item in store.items_on(repository, DAY):
        record = repository.records_for_lookup(item.eligibility_lookup_id)[0]
        member = next(m for m in members if m.member_id == record.member.member_id)
        query = EligibilityQuery(member_id=member.member_id, date_of_birth=member.date_of_birth, service_date=DAY,
                                 last_name=member.last_name)
        assert record.without_provenance() == truth_eligibility(DATASET, "ridgeline", query)


async def test_a_second_run_checks_nothing_again(settings, repository, vault):
    add_appointments(repository, active_members(4))
    first = ScriptedRunner(settings, repository, vault, Scripted())
    await BatchRun(first, DAY, options=FAST).run()  # type: ignore[arg-type]
    again = ScriptedRunner(settings, repository, vault, Scripted())
    summary = await BatchRun(again, DAY, options=FAST).run()  # type: ignore[arg-type]
    assert again.calls == [] and summary.counts == Counter({"verified": 4})


async def test_an_account_whose_login_is_rejected_leaves_the_run_and_the_other_account_does_the_work(
        settings, repository, vault):
    add_appointments(repository, active_members(8))
    runner = ScriptedRunner(settings, repository, vault, Scripted(account_outcomes={"billing": "rejected"}))
    summary = await BatchRun(runner, DAY, options=FAST).run()  # type: ignore[arg-type]
    assert summary.counts == Counter({"verified": 8})
    assert sum(1 for *_, account, _ in runner.calls if account == "billing") == 1  # one try, then a person


async def test_an_item_put_back_by_a_leaving_account_is_still_checked_when_the_others_are_idle(
        settings, repository, vault):
    # billing's one (slow) login fails after frontdesk has emptied the queue: frontdesk must still be
    # there to take the item billing puts back, not have gone home.
    add_appointments(repository, active_members(3))
    runner = ScriptedRunner(settings, repository, vault, Scripted(account_outcomes={"billing": "rejected"}))
    runner.delays = {"billing": 0.5}
    summary = await BatchRun(runner, DAY, options=FAST).run()  # type: ignore[arg-type]
    assert summary.counts == Counter({"verified": 3})


async def test_when_no_account_can_log_in_every_item_needs_a_human_with_what_to_do(settings, repository, vault):
    add_appointments(repository, active_members(5))
    runner = ScriptedRunner(settings, repository, vault,
                            Scripted(account_outcomes={"billing": "rejected", "frontdesk": "rejected"}))
    summary = await BatchRun(runner, DAY, options=FAST).run()  # type: ignore[arg-type]
    assert summary.counts == Counter({"needs_human": 5})
    assert len(runner.calls) == 2
    item = store.items_on(repository, DAY)[0]
    assert "rejected" in (item.reason or "") and "vault" in (item.action or "")


async def test_retryable_errors_are_retried_with_backoff_then_succeed_or_fail_retryably(settings, repository, vault):
    members = active_members(3)
    flaky, dead, fine = (m.member_id for m in members)
    add_appointments(repository, members)
    script = Scripted(outcomes={flaky: ["retry_later", "retry_later", "found"], dead: ["retry_later"]})
    runner = ScriptedRunner(settings, repository, vault, script)
    options = BatchOptions(max_attempts=3, retry_base_seconds=0.05, retry_max_seconds=1, deadline_seconds=30,
                           breaker_threshold=99)
    summary = await BatchRun(runner, DAY, options=options).run()  # type: ignore[arg-type]
    assert summary.counts == Counter({"verified": 2, "failed": 1})
    by_member = {m: [c[3] for c in runner.calls if c[1] == m] for m in (flaky, dead, fine)}
    assert len(by_member[flaky]) == 3 and len(by_member[dead]) == 3 and len(by_member[fine]) == 1
    gaps = [(b - a).total_seconds() for a, b in zip(by_member[dead], by_member[dead][1:], strict=False)]
    assert gaps[0] >= 0.04 and gaps[1] >= 0.08  # exponential: 0.05 then 0.1 (jitter +/-20%)
    failed = next(i for i in store.items_on(repository, DAY) if i.state == "failed")
    assert failed.retryable and "after 3 tries" in (failed.reason or "")

    # The retry pass picks up only what failed retryably.
    runner.script = Scripted()
    summary = await BatchRun(runner, DAY, options=options, retry_failed=True).run()  # type: ignore[arg-type]
    assert summary.counts == Counter({"verified": 3})
    assert len([c for c in runner.calls if c[1] == dead]) == 4 and len([c for c in runner.calls if c[1] == fine]) == 1


async def test_the_circuit_breaker_stops_asking_a_portal_that_is_down(settings, repository, vault):
    add_appointments(repository, active_members(10))
    runner = ScriptedRunner(settings, repository, vault, Scripted(default="retry_later"))
    options = BatchOptions(max_attempts=50, retry_base_seconds=0.01, retry_max_seconds=0.01, deadline_seconds=1.0,
                           breaker_threshold=3, breaker_cooldown_seconds=0.4, breaker_max_cooldown_seconds=0.4)
    summary = await BatchRun(runner, DAY, options=options).run()  # type: ignore[arg-type]
    # Without the breaker: ~50 tries per item in 1 s. With it: 3 tries, then a probe every 0.4 s.
    assert len(runner.calls) <= 3 + 2 * 3
    assert summary.counts == Counter({"failed": 10})
    assert all(i.retryable for i in store.items_on(repository, DAY))


def test_circuit_breaker_half_open_lets_one_probe_through() -> None:
    now = [0.0]
    breaker = CircuitBreaker(threshold=2, cooldown=10, max_cooldown=40, monotonic=lambda: now[0])
    breaker.failure()
    assert breaker.wait_seconds() == 0
    breaker.failure()
    assert breaker.wait_seconds() == 10
    now[0] = 10.0
    assert breaker.wait_seconds() == 0  # the probe
    assert breaker.wait_seconds() > 0  # nobody else while it is out
    breaker.failure()  # probe failed: open again, twice as long
    assert breaker.wait_seconds() == 20
    now[0] = 30.0
    assert breaker.wait_seconds() == 0
    breaker.success()
    assert breaker.wait_seconds() == 0 and breaker.wait_seconds() == 0


async def test_a_maintenance_window_defers_items_and_never_fails_them(settings, repository, vault):
    add_appointments(repository, active_members(3))
    # Sunday 01:00 in New York: inside Ridgeline's Sunday 00:00-06:00 window, which outlasts a 1 s run.
    sunday = datetime(2026, 11, 29, 6, 0, tzinfo=UTC)
    runner = ScriptedRunner(settings, repository, vault, Scripted(), clock=lambda: sunday,
                            respect_maintenance_windows=True)
    options = BatchOptions(deadline_seconds=1.0)
    summary = await BatchRun(runner, DAY, options=options).run()  # type: ignore[arg-type]
    assert runner.calls == []
    assert summary.counts == Counter({"deferred": 3})
    assert summary.deferred_until == datetime(2026, 11, 29, 11, 0, tzinfo=UTC)  # 06:00 EST
    assert {i.not_before for i in store.items_on(repository, DAY)} == {summary.deferred_until}

    # A window that ends within the run: the run waits for it, then checks everything.
    started = datetime.now(UTC)
    runner.clock = lambda: datetime(2026, 11, 29, 10, 59, 59, 500000, tzinfo=UTC) + (datetime.now(UTC) - started)
    summary = await BatchRun(runner, DAY, options=BatchOptions(deadline_seconds=10)).run()  # type: ignore[arg-type]
    assert summary.counts == Counter({"verified": 3})
    assert min(c[3] for c in runner.calls) - started >= timedelta(seconds=0.4)


async def test_a_killed_run_resumes_unfinished_items_and_never_repeats_finished_ones(settings, repository, vault):
    members = active_members(6)
    add_appointments(repository, members)
    store.ensure_items(repository, DAY)
    items = store.items_on(repository, DAY)
    # What a SIGKILL leaves: two finished, one running (in flight), the rest pending.
    store.update_item(repository, items[0].id, state="verified")
    store.update_item(repository, items[1].id, state="not_found")
    store.update_item(repository, items[2].id, state="running", attempts=1)
    runner = ScriptedRunner(settings, repository, vault, Scripted())
    summary = await BatchRun(runner, DAY, options=FAST).run()  # type: ignore[arg-type]
    assert len(runner.calls) == 4
    assert summary.counts["verified"] == 5 and summary.counts["not_found"] == 1


async def test_only_one_run_per_date_at_a_time(settings, repository, vault):
    add_appointments(repository, active_members(2))
    gate = asyncio.Event()

    class Slow(ScriptedRunner):
        async def eligibility(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            await gate.wait()
            return await super().eligibility(*args, **kwargs)

    first = asyncio.create_task(BatchRun(Slow(settings, repository, vault, Scripted()), DAY, options=FAST).run())  # type: ignore[arg-type]
    await asyncio.sleep(0.1)
    with pytest.raises(BatchAlreadyRunning):
        await BatchRun(ScriptedRunner(settings, repository, vault, Scripted()), DAY, options=FAST).run()  # type: ignore[arg-type]
    gate.set()
    assert (await first).counts == Counter({"verified": 2})


async def test_procedures_get_the_three_auth_answers_and_the_worklist_shows_cost_share(settings, repository, vault):
    with_auths = [m for m in members_with_authorizations(DATASET, "ridgeline")
                  if m.covered_on(DAY)][:3]
    plain = [m for m in active_members(10) if m not in with_auths][:2]
    procedures = {}
    for member in with_auths:
        auth = truth_authorizations(DATASET, "ridgeline", member.member_id, member.date_of_birth).authorizations[0]
        procedures[member.member_id] = f"{auth.services[0].procedure_code};99213"
    add_appointments(repository, [*with_auths, *plain], procedures=procedures)
    runner = ScriptedRunner(settings, repository, vault, Scripted())
    await BatchRun(runner, DAY, options=FAST).run()  # type: ignore[arg-type]
    rows = {row.member_id: row for row in worklist(repository, DAY)}
    assert state_counts(list(rows.values())) == {"verified": 5}
    assert all(r.starts_at.tzinfo is None and 8 <= r.starts_at.hour <= 16 for r in rows.values())  # wall time
    for member in with_auths:
        item = next(i for i in store.items_on(repository, DAY) if rows[member.member_id].item_id == i.id)
        answers = json.loads(item.auth_answer)
        assert [a["procedure_code"] for a in answers] == procedures[member.member_id].split(";")
        assert rows[member.member_id].auth is not None
    for member in plain:
        assert rows[member.member_id].auth is None and rows[member.member_id].authorization_lookup_id is None
    # Cost share read from the stored record: office-visit copay and the individual deductible left.
    row = rows[plain[0].member_id]
    record = repository.records_for_lookup(row.eligibility_lookup_id)[0]
    copays = [b.amount for b in record.benefits if b.service_type.value == "98" and b.kind.value == "B"
              and b.network.value == "Y"]
    assert row.coverage == "active" and row.copay == (copays[0] if copays else None)
    assert row.deductible_remaining is not None


async def test_rerun_one_item_checks_it_again_now(settings, repository, vault):
    members = active_members(2)
    add_appointments(repository, members)
    runner = ScriptedRunner(settings, repository, vault, Scripted(outcomes={members[0].member_id: ["attention"]}))
    await BatchRun(runner, DAY, options=FAST).run()  # type: ignore[arg-type]
    item = next(i for i in store.items_on(repository, DAY) if i.state == "needs_human")
    assert "evidence" in (item.action or "")
    runner.script = Scripted()
    again = await rerun_item(runner, item.id)  # type: ignore[arg-type]
    assert again.state == ItemState.VERIFIED.value and again.attempts == 2


async def test_worklist_command_prints_table_csv_and_json(settings, repository, vault):
    from typer.testing import CliRunner

    from aggregator.cli import app

    members = active_members(3)
    add_appointments(repository, members)
    await BatchRun(ScriptedRunner(settings, repository, vault, Scripted()), DAY, options=FAST).run()  # type: ignore[arg-type]
    cli = CliRunner()
    data_dir = str(settings.resolved_data_dir)
    as_csv = cli.invoke(app, ["worklist", "--date", DAY.isoformat(), "--csv", "--data-dir", data_dir])
    assert as_csv.exit_code == 0, as_csv.output
    lines = as_csv.output.strip().splitlines()
    assert lines[0].startswith("appointment_id,starts_at") and len(lines) == 4
    as_json = cli.invoke(app, ["worklist", "--date", DAY.isoformat(), "--json", "--data-dir", data_dir])
    assert [row["state"] for row in json.loads(as_json.output)] == ["verified"] * 3
    table = cli.invoke(app, ["worklist", "--date", DAY.isoformat(), "--data-dir", data_dir])
    assert table.exit_code == 0 and "verified 3" in table.output
    both = cli.invoke(app, ["worklist", "--date", DAY.isoformat(), "--csv", "--json", "--data-dir", data_dir])
    assert both.exit_code == 2
    bad = cli.invoke(app, ["worklist", "--date", "12/01/2026", "--data-dir", data_dir])
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output
    shown = cli.invoke(app, ["schedule", "show", "--data-dir", data_dir])
    assert shown.exit_code == 0 and "nightly-run" in shown.output and "at 02:00" in shown.output


@pytest.mark.parametrize(("scheduled_runs", "said"), [("true", "the queue workers start these runs"),
                                                      ("false", "only `aggregator run` starts one")])
def test_schedule_show_says_who_starts_the_runs_on_the_queue(tmp_path, monkeypatch, scheduled_runs, said):  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from aggregator.cli import app

    monkeypatch.setenv("AGGREGATOR_DISPATCH", "queue")
    monkeypatch.setenv("AGGREGATOR_QUEUE_SCHEDULED_RUNS", scheduled_runs)
    shown = CliRunner().invoke(app, ["schedule", "show", "--data-dir", str(tmp_path / "data")])
    assert shown.exit_code == 0, shown.output
    assert "nightly-run" in shown.output and said in " ".join(shown.output.split())
    monkeypatch.setenv("AGGREGATOR_DISPATCH", "inline")
    inline = CliRunner().invoke(app, ["schedule", "show", "--data-dir", str(tmp_path / "data")])
    assert inline.exit_code == 0 and "queue" not in inline.output


def test_a_job_is_a_small_serializable_description(repository) -> None:
    from aggregator.overnight.batch import CheckJob, job_for

    member = active_members(1)[0]
    add_appointments(repository, [member], procedures={member.member_id: "70551;99213"})
    store.ensure_items(repository, DAY)
    item = store.items_on(repository, DAY)[0]
    job = job_for(item, store.get_appointment(repository, item.appointment_id), "frontdesk")
    wire = job.model_dump_json()
    assert CheckJob.model_validate_json(wire) == job  # what a queue (procrastinate) would carry
    assert len(wire) < 600 and job.procedure_codes == ("70551", "99213") and job.wants_authorization


async def test_items_with_an_authorization_step_go_out_before_the_short_ones(settings, repository, vault):
    # Longest first: the run ends on short items, so the carrier's accounts finish close together.
    members = active_members(8)
    long_ones = [members[5], members[6]]  # listed late: taken first all the same
    add_appointments(repository, members, procedures={m.member_id: "99213" for m in long_ones})
    runner = ScriptedRunner(settings, repository, vault, Scripted())
    await BatchRun(runner, DAY, options=FAST).run()  # type: ignore[arg-type]
    asked = [member for flow, member, _, _ in runner.calls if flow == "eligibility"]
    assert len(asked) == 8 and set(asked[:2]) == {m.member_id for m in long_ones}, asked


def test_an_item_the_portal_asked_to_wait_is_not_tried_again_before_then():
    from aggregator.overnight.batch import BatchOptions, JobOutcome

    options = BatchOptions(retry_base_seconds=0.5, retry_max_seconds=4)
    asked = JobOutcome(None, "rate limited", "rate_limited", retry_after_seconds=60)
    assert all(options.retry_delay(attempt, asked) == 60 for attempt in range(1, 5))
    unasked = JobOutcome(None, "portal down", "portal_unavailable")
    assert all(options.retry_delay(attempt, unasked) <= 4 * 1.2 for attempt in range(1, 5))
    # The backoff wins when it is the longer wait.
    assert BatchOptions(retry_base_seconds=120).retry_delay(1, asked) >= 120 * 0.8


async def test_an_account_the_portal_asked_to_wait_takes_no_item_until_then(settings, repository, vault):
    """The runner holds an account after a 429 with Retry-After (`Runner.held_for`); the batch gives that
    account's worker nothing until the hold ends, and the carrier's other account goes on."""

    class Held(ScriptedRunner):
        def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
            super().__init__(*args, **kwargs)
            self.ends = monotonic() + 1.0
            self.ends_at = datetime.now(UTC) + timedelta(seconds=1.0)

        def held_for(self, portal: str, label: str) -> float:
            return max(0.0, self.ends - monotonic()) if label == "frontdesk" else 0.0

    add_appointments(repository, active_members(6))
    runner = Held(settings, repository, vault, Scripted())
    runner.delays["billing"] = 0.4  # alone, billing would need longer than the hold: frontdesk is wanted
    summary = await BatchRun(runner, DAY, options=FAST).run()  # type: ignore[arg-type]
    assert summary.counts.get(ItemState.VERIFIED.value) == 6
    by_frontdesk = [at for _, _, label, at in runner.calls if label == "frontdesk"]
    assert by_frontdesk, "the account works again once the hold ends"
    assert all(at >= runner.ends_at - timedelta(milliseconds=50) for at in by_frontdesk), "asked while held"
    assert any(label == "billing" for _, _, label, _ in runner.calls)
