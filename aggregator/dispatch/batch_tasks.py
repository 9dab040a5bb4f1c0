"""The batch's procrastinate task `batch:check_item`: one appointment, on the portal account its lock names
(the nightly run and the retry pass that enqueue them: aggregator/dispatch/schedule_tasks.py).

`check_item` is `BatchRun._attempt` and the politeness around it, with the state shared through the database
instead of one process's memory:
- the item is re-read first: a finished item is never checked again (a job run twice after a crash, or a
  day enqueued twice, finds it terminal and stops);
- its portal account is the one its procrastinate `lock` names (aggregator/dispatch/locks.py), so no other
  job of that account runs anywhere meanwhile, and the worker's runner reuses the account's session (warm
  in this process, or the one another worker saved in the vault);
- a maintenance window, an open circuit breaker (aggregator/store/breakers.py, shared by all workers) or a
  retryable answer raise `RetryLater`: procrastinate runs the job again after the delay (`ItemRetry`),
  with today's backoff and attempt limit (`BatchOptions`, the item's `attempts` column);
- an account that needs a person (frozen by the runner) passes the item to another usable account of its
  carrier (the retry changes the job's lock); with none left, the item needs a human, as inline;
- when the job ends, whatever the outcome, its account claims the carrier's next unassigned item and defers
  it under the same lock (`claims.pass_on`): work-conserving, an account that is done early takes more; an
  account that left the run claims nothing, and its carrier's other accounts are topped up instead.
"""

from __future__ import annotations

import json
import zlib
from datetime import datetime, timedelta

import procrastinate

from aggregator.dispatch import claims
from aggregator.dispatch.locks import account_lock, account_of_lock
from aggregator.dispatch.retry import ItemRetry, RetryLater
from aggregator.dispatch.worker import current_runtime
from aggregator.errors import AggregatorError, ConfigurationError
from aggregator.flows.changes import Change
from aggregator.logging import get_logger
from aggregator.overnight.batch import (
    ACTIONS,
    DAILY_LIMIT,
    PORTAL_DOWN,
    BatchOptions,
    ItemState,
    JobOutcome,
    accounts_for_run,
    finish_item,
    job_for,
    person_action,
    run_job,
)
from aggregator.planning import SearchBudget
from aggregator.runner import Runner
from aggregator.scrapers.registry import adapter_for
from aggregator.scrapers.routing import portal_of
from aggregator.store import batches as store
from aggregator.store import breakers
from aggregator.store.repository import Repository
from aggregator.store.tables import BatchItemRow, BatchRunRow

log = get_logger(__name__)


def make_blueprint() -> procrastinate.Blueprint:
    """A new Blueprint with the batch's task (procrastinate binds a registered task to one App, so every
    `queue_app` gets its own; see aggregator/dispatch/app.py)."""
    blueprint = procrastinate.Blueprint()
    blueprint.task(name="check_item", pass_context=True, retry=ItemRetry())(check_item)
    return blueprint


async def check_item(context: procrastinate.JobContext, item_id: str, run_id: str) -> None:
    """Check one batch item on the portal account this job's lock names (see the module doc); then, whatever
    the outcome, the account claims its carrier's next unassigned item (aggregator/dispatch/claims.py)."""
    runtime = current_runtime()
    account = account_of_lock(context.job.lock)
    if account is None:
        raise ConfigurationError(f"job {context.job.id} of item {item_id} has no portal account lock")
    check = ItemCheck(runtime.runner, runtime.batch_options, item_id, run_id, *account)
    try:
        await check.run()
    finally:
        await _pass_on(context, check, runtime.settings.queue_jobs_per_account)


async def _pass_on(context: procrastinate.JobContext, check: ItemCheck, budget: int) -> None:
    """The account takes its next item before this job ends, so it never waits for a sweep. A failure here
    must not change the job's own outcome: the stalled-job sweep gives the items out instead."""
    item = store.get_item(check.repository, check.item_id)
    if item is None or context.job.id is None:
        return
    try:
        await claims.pass_on(context.app, check.repository, check.runner.vault, item.batch_date, check.carrier,
                             check.label, budget=budget, job_id=context.job.id)
    except Exception:  # noqa: BLE001 - see the docstring: the sweep (worker.resume_stranded) recovers
        log.exception("claim_next_failed", carrier=check.carrier, account=check.label)


class ItemCheck:
    """One run of one item's job."""

    def __init__(self, runner: Runner, options: BatchOptions, item_id: str, run_id: str, carrier: str,
                 label: str) -> None:
        self.runner, self.options = runner, options
        self.repository: Repository = runner.repository
        self.item_id, self.run_id, self.carrier, self.label = item_id, run_id, carrier, label
        self.portal = portal_of(carrier)  # the item's payer is asked on this portal, whose account the job locks
        self.rule = breakers.BreakerRule(options.breaker_threshold, options.breaker_cooldown_seconds,
                                         options.breaker_max_cooldown_seconds)

    async def run(self) -> None:
        item = store.get_item(self.repository, self.item_id)
        if item is None:
            log.warning("queued_item_missing", item=self.item_id)
            return
        if ItemState(item.state).terminal:
            log.info("item_already_finished", item=self.item_id, state=item.state)
            return
        if self._past_deadline():
            self._finish(JobOutcome(ItemState.FAILED, "still waiting for the portal when the run's time ran out",
                                    "deadline"), retryable=True)
            return
        account = self.runner.vault.find(self.portal, self.label)
        if account is None or account.is_frozen:
            self._hand_over(f"portal account {self.carrier}/{self.label} is frozen or gone", None)
            return
        self._wait_for_portal(item)
        outcome = await self._attempt(item)
        if outcome.reason_code == DAILY_LIMIT:
            # The account's searches of the portal's day are spent (every worker counts them in one table):
            # the item waits for the portal's next day on its account, not counted as an attempt.
            until = SearchBudget(self.runner.settings, self.repository, self.runner.clock).next_day(
                adapter_for(self.portal).manifest)
            store.update_item(self.repository, self.item_id, attempts_delta=-1)
            self._defer(until, outcome.reason, DAILY_LIMIT)
            raise RetryLater((until - self.runner.clock()).total_seconds(), "daily limit")
        if outcome.state is ItemState.NEEDS_HUMAN and not outcome.account_problem:
            # A login that landed somewhere unknown freezes the account but reads as "needs attention".
            current = self.runner.vault.find(self.portal, self.label)
            outcome.account_problem = current is not None and current.is_frozen
        if outcome.account_problem:
            store.update_item(self.repository, self.item_id, state=ItemState.PENDING.value, account_label=None,
                              attempts_delta=-1)
            log.warning("account_left_batch", carrier=self.carrier, account=self.label, error=outcome.reason_code)
            self._hand_over(f"no {self.carrier} portal account can log in: {outcome.reason}", outcome)
            return
        if outcome.state is None:
            if outcome.reason_code in PORTAL_DOWN:
                opened = breakers.record_failure(self.repository, self.carrier, self.rule)
                if opened:
                    log.warning("circuit_open", carrier=self.carrier, seconds=round(opened, 1))
            self._retry_later(outcome)
            return
        breakers.record_success(self.repository, self.carrier)
        self._finish(outcome)

    def _past_deadline(self) -> bool:
        with self.repository.session() as session:
            run = session.get(BatchRunRow, self.run_id)
        started = store.aware(run.started_at) if run is not None else None
        return started is not None and store.utcnow() > started + timedelta(seconds=self.options.deadline_seconds)

    def _wait_for_portal(self, item: BatchItemRow) -> None:
        """A maintenance window or an open circuit: the item waits (deferred, no attempt counted)."""
        manifest = adapter_for(self.portal).manifest
        if self.runner.respect_maintenance_windows:
            window = manifest.in_maintenance(self.runner.clock())
            if window is not None:
                ends = window.ends_after(self.runner.clock())
                self._defer(ends, f"{manifest.display_name} maintenance window until {ends:%H:%M %Z}",
                            "portal_maintenance")
                raise RetryLater((ends - self.runner.clock()).total_seconds(), "maintenance window")
        wait = breakers.wait_seconds(self.repository, self.carrier, self.rule)
        if wait > 0:
            if item.state != ItemState.DEFERRED.value:
                self._defer(self.runner.clock() + timedelta(seconds=wait),
                            f"{manifest.display_name} is not answering: waiting before asking again",
                            "circuit_open")
            raise RetryLater(wait, "circuit open")

    async def _attempt(self, item: BatchItemRow) -> JobOutcome:
        item = store.update_item(self.repository, self.item_id, state=ItemState.RUNNING.value, run_id=self.run_id,
                                 account_label=self.label, started_at=store.utcnow(), not_before=None,
                                 attempts_delta=1)
        appointment = store.get_appointment(self.repository, item.appointment_id)
        if appointment is None:
            return JobOutcome(ItemState.NEEDS_HUMAN, "the appointment of this item is gone", "configuration_error",
                              ACTIONS["configuration_error"])
        job = job_for(item, appointment, self.label, self.portal)

        def keep_eligibility(lookup_id: str, changes: list[Change]) -> None:
            store.update_item(self.repository, self.item_id, eligibility_lookup_id=lookup_id,
                              changes=json.dumps([c.model_dump(mode="json") for c in changes]))

        try:
            return await run_job(self.runner, job, on_eligibility=keep_eligibility)
        except AggregatorError as error:  # e.g. a stored eligibility answer that cannot be read back
            return JobOutcome(ItemState.FAILED, error.reason, error.code)

    def _retry_later(self, outcome: JobOutcome) -> None:
        """Finish the item as failed (retryable, for the retry pass) after the last attempt; else raise
        RetryLater with the backoff."""
        item = store.get_item(self.repository, self.item_id)
        assert item is not None
        if item.attempts >= self.options.max_attempts:
            self._finish(JobOutcome(ItemState.FAILED, f"{outcome.reason} (after {item.attempts} tries)",
                                    outcome.reason_code), retryable=True)
            return
        delay = self.options.retry_delay(item.attempts, outcome)
        self._defer(self.runner.clock() + timedelta(seconds=delay), outcome.reason, outcome.reason_code)
        log.info("item_deferred", item=self.item_id, attempt=item.attempts, delay=round(delay, 2),
                 error=outcome.reason_code)
        raise RetryLater(delay, outcome.reason_code or "retryable")

    def _hand_over(self, why: str, outcome: JobOutcome | None) -> None:
        """This account needs a person: the job moves to another usable account of the carrier (raises
        RetryLater with that account's lock), or, with none left, the item is finished: needs a human."""
        accounts, unusable = accounts_for_run(self.runner.vault, self.carrier)
        others = [a for a in accounts if a.label != self.label]
        if others:
            other = others[zlib.crc32(self.item_id.encode()) % len(others)]
            raise RetryLater(0, f"account {self.label} left the run", account_lock(other.carrier, other.label))
        if outcome is not None:
            final = JobOutcome(ItemState.NEEDS_HUMAN, why, outcome.reason_code, outcome.action)
        else:
            final = unusable or JobOutcome(ItemState.NEEDS_HUMAN, why, "account_frozen",
                                           person_action("account_frozen", adapter_for(self.portal).manifest.display_name))
        self._finish(final)

    def _defer(self, until: datetime, reason: str | None, code: str | None) -> None:
        store.update_item(self.repository, self.item_id, state=ItemState.DEFERRED.value, not_before=until,
                          reason=reason, reason_code=code)

    def _finish(self, outcome: JobOutcome, *, retryable: bool = False) -> None:
        finish_item(self.repository, self.item_id, outcome, retryable=retryable)
