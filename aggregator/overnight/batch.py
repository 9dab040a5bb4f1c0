"""The overnight pre-visit run: every appointment of a date checked, each ending in one terminal state.

Shape (ARCHITECTURE.md "Execution"): a *job* (`CheckJob`) is a small serializable description: batch
item, carrier, portal account, the eligibility query, and the visit's procedures or service type.
`run_job` runs one job with the one `Runner` and returns a `JobOutcome`; nothing else. Dispatch is
separate: `BatchRun` is the in-process dispatcher (one worker per portal account, each logging in
once and checking its carrier's members in turn); a scale-out dispatcher (procrastinate workers on
PostgreSQL) would enqueue the same jobs and apply the same outcomes.

Politeness lives in dispatch: per-carrier concurrency from the manifest, maintenance windows
(items deferred to the window's end, never failed for it), retryable errors retried with exponential
backoff and jitter up to a limit, a per-carrier circuit breaker, and an account whose login needs a
person taken out of the run at once (its queue moves to the carrier's other accounts).
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from pydantic import BaseModel, ConfigDict

from aggregator.errors import AggregatorError, ConfigurationError, NotAvailableAtCarrier, Outcome
from aggregator.flows import capabilities
from aggregator.flows.authorization import AuthorizationAnswer, answer_authorization
from aggregator.flows.changes import Change
from aggregator.human_steps import SIGN_IN, needed
from aggregator.logging import get_logger
from aggregator.metrics import process_metrics
from aggregator.models import (
    AuthorizationList,
    AuthorizationQuery,
    EligibilityQuery,
    EligibilityRecord,
    ServiceType,
)
from aggregator.overnight.canary import gate_batch
from aggregator.planning import SearchBudget, routes_for, routing_of
from aggregator.scrapers.framework import Capability, Manifest
from aggregator.scrapers.registry import adapter_for
from aggregator.scrapers.routing import Route, default_routes
from aggregator.store import batches as store
from aggregator.store.repository import Repository
from aggregator.store.tables import AppointmentRow, BatchItemRow
from aggregator.webhooks import events as webhook_events

if TYPE_CHECKING:
    from aggregator.runner import LookupResult, Runner
    from aggregator.settings import Settings
    from vault import PortalAccount, Vault

log = get_logger(__name__)


class ItemState(str, Enum):
    PENDING = "pending"
    RUNNING = "running"
    DEFERRED = "deferred"  # waiting for a maintenance window to close or a backoff to pass
    VERIFIED = "verified"
    VERIFIED_WITH_CHANGES = "verified_with_changes"
    NOT_FOUND = "not_found"
    NEEDS_HUMAN = "needs_human"
    FAILED = "failed"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_STATES

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


TERMINAL_STATES = frozenset({ItemState.VERIFIED, ItemState.VERIFIED_WITH_CHANGES, ItemState.NOT_FOUND,
                             ItemState.NEEDS_HUMAN, ItemState.FAILED})

# Errors that belong to the portal account, not to the member, make the account leave the run: the
# taxonomy says which (aggregator/human_steps.py, `PersonNeeded.account_problem`).
# Errors that say the portal is down: they feed the circuit breaker.
PORTAL_DOWN = frozenset({"portal_unavailable", "portal_maintenance"})
# The account has no searches left today (aggregator/store/budgets.py): it leaves the run, nobody is at fault.
DAILY_LIMIT = "daily_limit"

# What staff do about an item that is not the portal account's problem (those: `person_action`).
ACTIONS = {
    "not_found": "Confirm member ID, date of birth and name against the insurance card, then re-run.",
    "needs_attention": "The portal showed something the adapter does not understand: verify on the portal or by "
                       "phone; the evidence shows what was on screen (the adapter may need an update).",
    "configuration_error": "Fix the appointment's carrier or the product configuration, then re-run.",
}


def person_action(code: str | None, portal: str) -> str:
    """What to do about a reason code that needs a person, from the one taxonomy (CLI, API, web, worklist)."""
    person = needed(code)
    return person.action(portal) if person is not None else ACTIONS["needs_attention"]


def is_account_problem(code: str | None) -> bool:
    person = needed(code)
    return person is not None and person.account_problem


class CheckJob(BaseModel):
    """Everything a worker needs to check one appointment; JSON-serializable for a queue."""

    model_config = ConfigDict(frozen=True)

    item_id: str
    carrier: str  # the payer the appointment names
    portal: str | None = None  # the portal the batch planned it on (None: the runner's routing decides)
    account_label: str | None = None
    eligibility: EligibilityQuery
    procedure_codes: tuple[str, ...] = ()
    service_type: ServiceType | None = None
    # A previous attempt already answered eligibility: reuse it (its "what changed" stays right).
    eligibility_lookup_id: str | None = None

    @property
    def wants_authorization(self) -> bool:
        return bool(self.procedure_codes) or self.service_type is not None


def job_for(item: BatchItemRow, appointment: AppointmentRow, account_label: str | None,
            portal: str | None = None) -> CheckJob:
    query = EligibilityQuery(member_id=appointment.member_id, date_of_birth=appointment.patient_dob,
                             service_date=appointment.service_date, last_name=appointment.patient_last_name)
    codes = tuple(c for c in (appointment.procedure_codes or "").split(";") if c)
    service = ServiceType(appointment.service_type) if appointment.service_type else None
    return CheckJob(item_id=item.id, carrier=appointment.carrier, portal=portal, account_label=account_label,
                    eligibility=query, procedure_codes=codes, service_type=service,
                    eligibility_lookup_id=item.eligibility_lookup_id)


@dataclass
class JobOutcome:
    """What one run of a job found. `state` None means "not yet": retry later."""

    state: ItemState | None
    reason: str | None = None
    reason_code: str | None = None
    action: str | None = None
    account_problem: bool = False
    eligibility_lookup_id: str | None = None
    authorization_lookup_id: str | None = None
    auth_answers: list[AuthorizationAnswer] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    retry_after_seconds: float | None = None  # "not yet" because the portal asked to wait this long


async def run_job(runner: Runner, job: CheckJob,
                  on_eligibility: Callable[[str, list[Change]], None] | None = None) -> JobOutcome:
    """Eligibility on the date of service, then (when the visit names procedures or a service type)
    every authorization on file and the three answers per procedure. `on_eligibility` lets the
    dispatcher persist the eligibility answer before the authorization step, so a retry or a
    crash never asks it twice; it is called only when that step follows (without one, the item's
    outcome, which carries the same lookup, is written next with no await in between).

    Only what the carrier's manifest declares is asked: a carrier whose portal shows no authorizations
    answers the visit from eligibility alone ("not available at this carrier" and the call-the-payer
    item, see `_without_authorizations`); one without eligibility ends the item before any login."""
    try:
        route = routes_for(runner.settings, Capability.ELIGIBILITY, job.carrier, job.eligibility, job.portal)[0]
    except NotAvailableAtCarrier as gap:
        return JobOutcome(ItemState.NEEDS_HUMAN, gap.reason, gap.code, gap.call_the_payer)
    manifest, portal = route.adapter.manifest, route.portal
    if job.eligibility_lookup_id:
        eligibility, changes = _stored_eligibility(runner, job.eligibility_lookup_id)
        lookup_id = job.eligibility_lookup_id
    else:
        result = await runner.eligibility(job.carrier, job.eligibility, source="batch",
                                          account_label=job.account_label, portal=portal)
        lookup_id = result.lookup_id
        if result.outcome is not Outcome.FOUND:
            return _unanswered(result)
        assert isinstance(result.answer, EligibilityRecord)
        eligibility, changes = result.answer, list(result.changes)
        if on_eligibility is not None and job.wants_authorization and capabilities.declares(
                manifest, Capability.AUTHORIZATION):
            on_eligibility(lookup_id, changes)
    outcome = JobOutcome(state=None, eligibility_lookup_id=lookup_id, changes=changes)
    if not job.wants_authorization:
        return _verified(outcome)
    if not capabilities.declares(manifest, Capability.AUTHORIZATION):
        return _without_authorizations(outcome, job, eligibility, manifest)
    auth_query = AuthorizationQuery(member_id=job.eligibility.member_id, date_of_birth=job.eligibility.date_of_birth)
    auths = await runner.authorizations(job.carrier, auth_query, source="batch", account_label=job.account_label,
                                        portal=portal)
    outcome.authorization_lookup_id = auths.lookup_id
    if auths.outcome is not Outcome.FOUND:
        unanswered = _unanswered(auths)
        unanswered.eligibility_lookup_id, unanswered.authorization_lookup_id = lookup_id, auths.lookup_id
        unanswered.changes = changes
        if unanswered.state is ItemState.NOT_FOUND:  # eligibility found the member, authorizations did not
            unanswered.state, unanswered.action = ItemState.NEEDS_HUMAN, ACTIONS["needs_attention"]
            unanswered.reason = f"the authorization search did not find the member ({auths.reason})"
        return unanswered
    assert isinstance(auths.answer, AuthorizationList)
    outcome.changes = changes + list(auths.changes)
    for code in job.procedure_codes or (None,):
        outcome.auth_answers.append(answer_authorization(
            eligibility, auths.answer, service_date=job.eligibility.service_date,
            service_type=job.service_type, procedure_code=code))
    return _verified(outcome)


def _without_authorizations(outcome: JobOutcome, job: CheckJob, eligibility: EligibilityRecord,
                            manifest: Manifest) -> JobOutcome:
    """The visit's authorization part at a carrier whose portal shows none: the portal is not asked
    (`authorization_lookup_id` stays empty); the answers come from the eligibility record, and every one
    it cannot settle says "not available" with the call-the-payer item, which is also the item's action."""
    outcome.auth_answers = capabilities.visit_answers_without_authorizations(
        eligibility, manifest, service_date=job.eligibility.service_date, service_type=job.service_type,
        procedure_codes=job.procedure_codes, payer=job.carrier)
    if any(answer.status == "not_available" for answer in outcome.auth_answers):
        gap = capabilities.not_available(manifest, Capability.AUTHORIZATION, job.service_type, job.carrier)
        outcome.reason, outcome.reason_code, outcome.action = gap.reason, gap.code, gap.call_the_payer
    return _verified(outcome)


def _verified(outcome: JobOutcome) -> JobOutcome:
    outcome.state = ItemState.VERIFIED_WITH_CHANGES if outcome.changes else ItemState.VERIFIED
    return outcome


def _stored_eligibility(runner: Runner, lookup_id: str) -> tuple[EligibilityRecord, list[Change]]:
    records = runner.repository.records_for_lookup(lookup_id)
    lookup = runner.repository.get_lookup(lookup_id)
    if len(records) != 1 or not isinstance(records[0], EligibilityRecord) or lookup is None:
        raise ConfigurationError(f"eligibility lookup {lookup_id} of this item has no stored record")
    changes = [Change.model_validate(c) for c in json.loads(lookup.changes or "[]")]
    return records[0], changes


def _unanswered(result: LookupResult) -> JobOutcome:
    code = result.reason_code
    if result.outcome is Outcome.NOT_FOUND:
        return JobOutcome(ItemState.NOT_FOUND, result.reason, code, ACTIONS["not_found"],
                          eligibility_lookup_id=result.lookup_id)
    if result.outcome is Outcome.RETRY_LATER:
        return JobOutcome(None, result.reason, code, account_problem=code == DAILY_LIMIT,
                          retry_after_seconds=result.retry_after_seconds)
    if result.outcome is Outcome.NEEDS_HUMAN:
        portal = adapter_for(result.portal or result.carrier).manifest.display_name
        return JobOutcome(ItemState.NEEDS_HUMAN, result.reason, code, person_action(code, portal),
                          account_problem=is_account_problem(code))
    if result.outcome is Outcome.NEEDS_ATTENTION:
        return JobOutcome(ItemState.NEEDS_HUMAN, result.reason, code, ACTIONS["needs_attention"])
    return JobOutcome(ItemState.FAILED, result.reason, code)


# --- dispatch ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchOptions:
    max_attempts: int = 4
    retry_base_seconds: float = 30.0
    retry_max_seconds: float = 900.0
    deadline_seconds: float = 4 * 3600.0  # stop waiting for deferred items after this
    breaker_threshold: int = 3  # consecutive "portal down" answers that open a carrier's circuit
    breaker_cooldown_seconds: float = 60.0
    breaker_max_cooldown_seconds: float = 900.0

    @classmethod
    def from_settings(cls, settings: Settings) -> BatchOptions:
        return cls(max_attempts=settings.batch_max_attempts, retry_base_seconds=settings.batch_retry_base_seconds,
                   deadline_seconds=settings.batch_deadline_minutes * 60)

    def backoff(self, attempt: int) -> float:
        return min(self.retry_max_seconds, self.retry_base_seconds * 2 ** max(0, attempt - 1)) * random.uniform(0.8, 1.2)

    def retry_delay(self, attempt: int, outcome: JobOutcome) -> float:
        """When an item that is "not yet" is tried again: the backoff, or later if the portal asked us to wait
        longer (a rate limit's Retry-After), so the next try never comes before the portal said it may."""
        return max(self.backoff(attempt), outcome.retry_after_seconds or 0.0)


class CircuitBreaker:
    """Per carrier: after `threshold` consecutive "portal down" answers, nobody asks that portal for a
    cool-down; then one probe (half-open) decides. Each re-opening doubles the cool-down."""

    def __init__(self, threshold: int, cooldown: float, max_cooldown: float,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.threshold, self.cooldown, self.max_cooldown = threshold, cooldown, max_cooldown
        self.monotonic = monotonic
        self.failures = 0
        self.open_until = 0.0
        self.openings = 0
        self.probing = False

    def wait_seconds(self) -> float:
        """0 when a request may go out now (claiming the probe when half-open)."""
        if self.failures < self.threshold:
            return 0.0
        remaining = self.open_until - self.monotonic()
        if remaining > 0:
            return remaining
        if self.probing:
            return min(1.0, self.cooldown)
        self.probing = True
        return 0.0

    @property
    def state(self) -> str:
        """closed, open or half_open (one probe may go, or is out): what /metrics shows while the run goes."""
        if self.failures < self.threshold:
            return "closed"
        return "open" if self.open_until > self.monotonic() else "half_open"

    def success(self) -> None:
        self.failures, self.openings, self.probing = 0, 0, False

    def failure(self) -> None:
        self.failures += 1
        self.probing = False
        if self.failures >= self.threshold:
            self.openings += 1
            cooldown = min(self.max_cooldown, self.cooldown * 2 ** (self.openings - 1))
            self.open_until = self.monotonic() + cooldown
            log.warning("circuit_open", seconds=round(cooldown, 1))


class BatchAlreadyRunning(AggregatorError):
    """Another process runs the batch for this date."""

    needs_human = True


@dataclass
class BatchSummary:
    batch_date: date
    run_id: str
    counts: Counter[str]
    logins: int
    seconds: float
    deferred_until: datetime | None = None
    held: dict[str, str] = field(default_factory=dict)  # carrier -> why its items wait (overnight/canary.py)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def as_json(self) -> dict[str, object]:
        return {"batch_date": self.batch_date.isoformat(), "counts": dict(self.counts), "logins": self.logins,
                "seconds": round(self.seconds, 2),
                "deferred_until": self.deferred_until.isoformat() if self.deferred_until else None,
                "held": dict(self.held)}


ProgressCallback = Callable[[BatchItemRow], None]


class _CarrierQueue:
    """The items one carrier's accounts share: each account takes the next ready one."""

    def __init__(self, item_ids: list[str]) -> None:
        self.ready_at: dict[str, float] = dict.fromkeys(item_ids, 0.0)
        self.live: set[str] = set()  # the accounts still taking items
        self.in_flight = 0  # taken and not yet finished or put back

    def take(self, now: float, may_take: Callable[[str], bool] = lambda _: True) -> tuple[str | None, float | None]:
        """(item, None) when one is ready; (None, seconds to wait); (None, None) when all is done.
        `may_take`: the items this account may serve (routing may keep a payer to some accounts).

        Empty is not done while another account holds an item: it may come back (retry, or its
        account left the run), and someone must be there to take it."""
        mine = {item_id: at for item_id, at in self.ready_at.items() if may_take(item_id)}
        if not mine:
            return (None, None) if self.in_flight == 0 else (None, 0.1)
        item_id, at = min(mine.items(), key=lambda kv: kv[1])
        if at > now:
            return None, at - now
        del self.ready_at[item_id]
        self.in_flight += 1
        return item_id, None

    def done(self) -> None:
        self.in_flight -= 1

    def put(self, item_id: str, at: float) -> None:
        self.ready_at[item_id] = at

    def drain(self, orphaned: Callable[[str], bool] = lambda _: True) -> list[str]:
        """Take out the waiting items `orphaned` says no live account may serve any more (default: all)."""
        ids = [item_id for item_id in self.ready_at if orphaned(item_id)]
        for item_id in ids:
            del self.ready_at[item_id]
        return ids


class BatchRun:
    def __init__(self, runner: Runner, day: date, *, trigger: str = "cli", options: BatchOptions | None = None,
                 on_progress: ProgressCallback | None = None, retry_failed: bool = False,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.runner = runner
        self.repository = runner.repository
        self.day = day
        self.trigger = trigger
        self.options = options or BatchOptions.from_settings(runner.settings)
        self.on_progress = on_progress
        self.retry_failed = retry_failed
        self.sleep = sleep
        self.run_id = ""
        self.deferred_until: datetime | None = None
        self._deadline = 0.0
        self._breakers: dict[str, CircuitBreaker] = {}
        self._appointments: dict[str, AppointmentRow] = {}
        self.held: dict[str, str] = {}  # carrier -> why its items are held (its canary failed)
        self._routes: dict[str, Route] = {}  # item -> the portal (and accounts) the plan gave it
        self.budget = SearchBudget(runner.settings, runner.repository, runner.clock)

    # --- whole run ----------------------------------------------------------------------------------

    async def run(self) -> BatchSummary:
        started = time.monotonic()
        with _date_lock(self.runner.settings.resolved_data_dir, self.day):
            if self.retry_failed:
                # Also what waited for a person to sign in: after an attended sign-in it runs; if nobody
                # signed in, it ends "needs a human" again at once, without a login.
                store.requeue_retryable_failures(self.repository, self.day, also_codes=[s.value for s in SIGN_IN])
            added = store.ensure_items(self.repository, self.day)
            recovered = store.recover_abandoned(self.repository, self.day)
            run = store.start_run(self.repository, self.day, self.trigger)
            self.run_id = run.id
            todo = store.items_on(self.repository, self.day, store.UNFINISHED)
            # The canary (overnight/canary.py): a portal whose known lookup fails keeps its items pending, held.
            gate = await gate_batch(self.runner, self.day, todo, self.trigger)
            todo, self.held = gate.released, gate.held
            log.info("batch_started", batch_date=self.day.isoformat(), items=len(todo), added=added,
                     recovered=recovered, trigger=self.trigger)
            self._appointments = {a.id: a for a in store.appointments_on(self.repository, self.day)}
            self._deadline = time.monotonic() + self.options.deadline_seconds
            by_portal = self._plan(todo)
            await asyncio.gather(*(self._carrier(slug, items) for slug, items in sorted(by_portal.items())))
            summary = self._summary(started)
            store.finish_run(self.repository, run.id, summary.as_json())
        log.info("batch_finished", **summary.as_json())
        return summary

    def _summary(self, started: float) -> BatchSummary:
        items = store.items_on(self.repository, self.day)
        counts = Counter(item.state for item in items)
        logins = sum(self.runner.logins_performed(a.account_id) for a in self.runner.vault.accounts())
        return BatchSummary(self.day, self.run_id, counts, logins, time.monotonic() - started, self.deferred_until,
                            held=self.held)

    # --- planning: which portal each item goes to, within the portals' daily search budgets -----------

    def _plan(self, todo: list[BatchItemRow]) -> dict[str, list[BatchItemRow]]:
        """Each item to the first portal of its payer (routing order) whose accounts in this run have the
        searches it needs left today; an item no portal can take today ends `deferred: daily limit` with
        when it can run, before any portal is asked. Work is grouped by portal: its accounts share it."""
        by_portal: dict[str, list[BatchItemRow]] = {}
        left: dict[str, int | None] = {}  # portal -> searches its usable accounts have left today (None: no cap)
        usable: dict[str, list[PortalAccount]] = {}
        frozen: dict[str, bool] = {}
        routing = routing_of(self.runner.settings)
        for item in todo:
            try:
                routes = routing.routes(item.carrier)
            except ConfigurationError:
                by_portal.setdefault(item.carrier, []).append(item)  # accounts_for_run says what is wrong
                continue
            chosen, full = None, None
            for route in routes:
                manifest = route.adapter.manifest
                if route.portal not in usable:
                    workers, unusable = accounts_for_run(self.runner.vault, route.portal)
                    usable[route.portal] = workers if unusable is None else []
                    frozen[route.portal] = unusable is not None and unusable.reason_code == "account_frozen"
                    spare = self.budget.left(manifest, [a.account_id for a in workers]).values()
                    left[route.portal] = None if None in spare else sum(n or 0 for n in spare)
                if frozen[route.portal]:
                    break  # a person must act on this portal's accounts: the payer's work does not move away
                if not any(route.allows(a.label) for a in usable[route.portal]):
                    continue  # the practice has no account here (for this payer)
                need = self._searches_needed(item, manifest)
                budget = left[route.portal]
                if budget is not None and budget < need:
                    full = full or manifest
                    continue
                chosen = route
                if budget is not None:
                    left[route.portal] = budget - need
                break
            if chosen is not None:
                self._routes[item.id] = chosen
                by_portal.setdefault(chosen.portal, []).append(item)
            elif full is not None and not any(frozen.get(r.portal) for r in routes):
                self._defer_for_daily_limit(item.id, full)
            else:  # no account, or a frozen one: that portal's accounts_for_run gives the needs-human outcome
                stop = next((r for r in routes if frozen.get(r.portal)), routes[0])
                by_portal.setdefault(stop.portal, []).append(item)
        return by_portal

    def _searches_needed(self, item: BatchItemRow, manifest: Manifest) -> int:
        appointment = self._appointments.get(item.appointment_id)
        wants_authorization = appointment is not None and bool(appointment.procedure_codes or appointment.service_type)
        return ((0 if item.eligibility_lookup_id else 1)
                + (1 if wants_authorization and capabilities.declares(manifest, Capability.AUTHORIZATION) else 0))

    def _defer_for_daily_limit(self, item_id: str, manifest: Manifest) -> None:
        error = self.budget.spent(manifest)
        until = self.budget.next_day(manifest)
        store.update_item(self.repository, item_id, state=ItemState.DEFERRED.value, not_before=until,
                          reason=error.reason, reason_code=DAILY_LIMIT, account_label=None)
        self.deferred_until = max(filter(None, (self.deferred_until, until)))
        log.info("item_deferred", item=item_id, error=DAILY_LIMIT)

    def _may_serve(self, item_id: str, account_label: str) -> bool:
        route = self._routes.get(item_id)
        return route is None or route.allows(account_label)

    async def _carrier(self, slug: str, items: list[BatchItemRow]) -> None:
        workers, unusable = accounts_for_run(self.runner.vault, slug)
        if unusable is not None:
            for item in items:
                self._finish(item.id, unusable)
            return
        queue = _CarrierQueue([])
        now = time.monotonic()
        manifest = adapter_for(slug).manifest
        # Longest first: items with more searches to make (an authorization step) go out before the short
        # ones, so the run ends on short items and the carrier's accounts finish close together (a long item
        # taken last would keep one account busy while the others have nothing left). Stable: id order otherwise.
        for item in sorted(items, key=lambda i: -self._searches_needed(i, manifest)):
            wait = (item.not_before - self.runner.clock()).total_seconds() if item.not_before else 0.0
            queue.put(item.id, now + max(0.0, wait))
        queue.live = {account.label for account in workers}
        self._breakers[slug] = CircuitBreaker(self.options.breaker_threshold, self.options.breaker_cooldown_seconds,
                                              self.options.breaker_max_cooldown_seconds)
        with process_metrics().breaker_watched(slug, self._breakers[slug]):
            await asyncio.gather(*(self._worker(slug, account.label, queue) for account in workers))
        for item_id in queue.drain():  # past the deadline: retryable, for the retry pass
            self._finish(item_id, JobOutcome(ItemState.FAILED, "still waiting for the portal when the run's time ran out",
                                             "deadline"), retryable=True)

    # --- one portal account -------------------------------------------------------------------------

    async def _worker(self, slug: str, account_label: str, queue: _CarrierQueue) -> None:
        manifest = adapter_for(slug).manifest
        breaker = self._breakers[slug]
        while True:
            if time.monotonic() > self._deadline:
                return
            if self.runner.respect_maintenance_windows:
                window = manifest.in_maintenance(self.runner.clock())
                if window is not None:
                    if not await self._wait_for_window(slug, window.ends_after(self.runner.clock()), queue):
                        return
                    continue
            wait = breaker.wait_seconds()
            if wait > 0:
                await self._pause(wait)
                continue
            held = self.runner.held_for(slug, account_label)
            if held > 0:  # the portal asked this account to wait (a 429's Retry-After): the others go on
                await self._pause(held)
                continue
            item_id, next_due = queue.take(time.monotonic(), lambda item: self._may_serve(item, account_label))
            if item_id is None:
                if next_due is None:
                    return
                await self._pause(next_due)
                continue
            try:
                outcome = await self._attempt(item_id, account_label)
            finally:
                queue.done()  # what happens next (finish, put back) runs without an await in between
            if outcome.state is ItemState.NEEDS_HUMAN and not outcome.account_problem:
                # A login that landed somewhere unknown freezes the account (the runner) but reads as
                # "needs attention": the account is out either way, and the item is not at fault.
                account = self.runner.vault.find(slug, account_label)
                outcome.account_problem = account is not None and account.is_frozen
            if outcome.account_problem:
                # This account needs a person; its item goes back for the carrier's other accounts.
                store.update_item(self.repository, item_id, state=ItemState.PENDING.value, account_label=None,
                                  attempts_delta=-1)
                queue.put(item_id, time.monotonic())
                queue.live.discard(account_label)
                log.warning("account_left_batch", carrier=slug, account=account_label, error=outcome.reason_code)
                # Items no account still in the run may serve (none left, or routing keeps their payer to the
                # accounts that left) end now, not when the run does.
                orphans = queue.drain(lambda item: not any(self._may_serve(item, label) for label in queue.live))
                if outcome.reason_code == DAILY_LIMIT:
                    for left in orphans:  # every account's searches are spent: tomorrow, not a failure
                        self._defer_for_daily_limit(left, manifest)
                else:
                    reason = f"no {manifest.display_name} portal account can log in: {outcome.reason}"
                    for left in orphans:
                        self._finish(left, JobOutcome(ItemState.NEEDS_HUMAN, reason, outcome.reason_code,
                                                      outcome.action))
                return
            if outcome.state is None:
                if outcome.reason_code in PORTAL_DOWN:
                    breaker.failure()
                self._retry_later(item_id, outcome, queue)
                continue
            breaker.success()
            self._finish(item_id, outcome)

    async def _attempt(self, item_id: str, account_label: str) -> JobOutcome:
        item = store.update_item(self.repository, item_id, state=ItemState.RUNNING.value, run_id=self.run_id,
                                 account_label=account_label, started_at=store.utcnow(), not_before=None,
                                 attempts_delta=1)
        appointment = self._appointments[item.appointment_id]
        route = self._routes.get(item_id)
        job = job_for(item, appointment, account_label, route.portal if route else None)

        def keep_eligibility(lookup_id: str, changes: list[Change]) -> None:
            store.update_item(self.repository, item_id, eligibility_lookup_id=lookup_id,
                              changes=json.dumps([c.model_dump(mode="json") for c in changes]))

        try:
            return await run_job(self.runner, job, on_eligibility=keep_eligibility)
        except AggregatorError as error:  # e.g. a stored eligibility answer that cannot be read back
            return JobOutcome(ItemState.FAILED, error.reason, error.code)

    def _retry_later(self, item_id: str, outcome: JobOutcome, queue: _CarrierQueue) -> None:
        item = store.get_item(self.repository, item_id)
        assert item is not None
        if item.attempts >= self.options.max_attempts:
            self._finish(item_id, JobOutcome(ItemState.FAILED, f"{outcome.reason} (after {item.attempts} tries)",
                                             outcome.reason_code), retryable=True)
            return
        delay = self.options.retry_delay(item.attempts, outcome)
        store.update_item(self.repository, item_id, state=ItemState.DEFERRED.value, reason=outcome.reason,
                          reason_code=outcome.reason_code,
                          not_before=self.runner.clock() + timedelta(seconds=delay))
        queue.put(item_id, time.monotonic() + delay)
        log.info("item_deferred", item=item_id, attempt=item.attempts, delay=round(delay, 2), error=outcome.reason_code)

    async def _wait_for_window(self, slug: str, ends: datetime, queue: _CarrierQueue) -> bool:
        """In a maintenance window: items wait (deferred, not failed). False when it outlasts the run."""
        seconds = (ends - self.runner.clock()).total_seconds()
        for item_id in list(queue.ready_at):
            store.update_item(self.repository, item_id, state=ItemState.DEFERRED.value, not_before=ends,
                              reason=f"{adapter_for(slug).manifest.display_name} maintenance window until {ends:%H:%M %Z}",
                              reason_code="portal_maintenance")
        if time.monotonic() + seconds > self._deadline:
            self.deferred_until = max(filter(None, (self.deferred_until, ends)))
            queue.ready_at.clear()  # stay deferred: the scheduler resumes them when the window ends
            return False
        await self._pause(seconds)
        return True

    async def _pause(self, seconds: float) -> None:
        await self.sleep(max(0.01, min(seconds, self._deadline - time.monotonic() + 0.01)))

    def _finish(self, item_id: str, outcome: JobOutcome, *, retryable: bool = False) -> None:
        item = finish_item(self.repository, item_id, outcome, retryable=retryable)
        if self.on_progress is not None:
            self.on_progress(item)


def accounts_for_run(vault: Vault, slug: str) -> tuple[list[PortalAccount], JobOutcome | None]:
    """The carrier's portal accounts a run uses (not frozen; at most the manifest's concurrent accounts), or,
    when there is none, the outcome every item of the carrier gets (unknown carrier: a configuration error;
    every account frozen or none in the vault: needs a human, with what to do)."""
    try:
        # A payer with no portal of its own slug is reached through the first portal serving it (the queue
        # dispatch groups by payer; the in-process run plans portals with the routing file first).
        routes = default_routes(slug)
        manifest = adapter_for(routes[0].portal if routes else slug).manifest
    except ConfigurationError as error:
        return [], JobOutcome(ItemState.NEEDS_HUMAN, error.reason, error.code, ACTIONS["configuration_error"])
    slug = manifest.slug
    every = vault.accounts(slug)
    accounts = [a for a in every if not a.is_frozen]
    if not accounts:
        reason = (f"every {manifest.display_name} portal account is frozen ({every[0].frozen_reason})" if every
                  else f"no {manifest.display_name} portal account in the vault")
        code = "account_frozen" if every else "credentials_missing"
        return [], JobOutcome(ItemState.NEEDS_HUMAN, reason, code, person_action(code, manifest.display_name))
    return accounts[: manifest.limits.max_concurrent_accounts], None


def finish_item(repository: Repository, item_id: str, outcome: JobOutcome, *, retryable: bool = False) -> BatchItemRow:
    """Write an item's terminal state and what backs it, in one transaction."""
    assert outcome.state is not None and outcome.state.terminal
    fields: dict[str, Any] = dict(
        state=outcome.state.value, reason=outcome.reason, reason_code=outcome.reason_code, action=outcome.action,
        retryable=retryable, finished_at=store.utcnow(), not_before=None,
    )
    if outcome.eligibility_lookup_id:
        fields["eligibility_lookup_id"] = outcome.eligibility_lookup_id
        fields["changes"] = json.dumps([c.model_dump(mode="json") for c in outcome.changes])
    if outcome.authorization_lookup_id:
        fields["authorization_lookup_id"] = outcome.authorization_lookup_id
    if outcome.auth_answers:
        fields["auth_answer"] = json.dumps([a.model_dump(mode="json") for a in outcome.auth_answers])
    event = webhook_events.AppointmentChecked(repository)  # to the outbox with the item; sent in the background
    item = store.update_item(repository, item_id, also=event, **fields)
    event.committed()
    log.info("item_finished", item=item_id, state=item.state, error=outcome.reason_code)
    return item


async def rerun_item(runner: Runner, item_id: str) -> BatchItemRow:
    """Check one item again now (staff asked for it): one attempt, any account of its carrier."""
    item = store.get_item(runner.repository, item_id)
    if item is None:
        raise ConfigurationError(f"no batch item {item_id}")
    appointment = store.get_appointment(runner.repository, item.appointment_id)
    if appointment is None:
        raise ConfigurationError(f"batch item {item_id} has no appointment")
    store.update_item(runner.repository, item_id, eligibility_lookup_id=None, authorization_lookup_id=None,
                      auth_answer=None, changes=None)
    item = store.update_item(runner.repository, item_id, state=ItemState.RUNNING.value, attempts_delta=1,
                             started_at=store.utcnow(), account_label=None)
    outcome = await run_job(runner, job_for(item, appointment, None))
    if outcome.state is None:  # one attempt only: the portal is not answering now
        outcome = JobOutcome(ItemState.FAILED, outcome.reason, outcome.reason_code,
                             eligibility_lookup_id=outcome.eligibility_lookup_id, changes=outcome.changes)
        return finish_item(runner.repository, item_id, outcome, retryable=True)
    return finish_item(runner.repository, item_id, outcome)


async def rerun_blocked(runner: Runner, portal: str, label: str) -> int:
    """Check again the items that waited for a person to sign in to this portal (installed as a
    `Runner.after_sign_in` hook where people sign in). Today's and later items only: earlier days are done."""
    payers = {p.slug for p in adapter_for(portal).manifest.served_payers()}
    today = runner.clock().date()
    blocked = [item for item in store.items_needing_sign_in(runner.repository, [s.value for s in SIGN_IN], today)
               if item.carrier in payers]
    for item in blocked:
        await rerun_item(runner, item.id)
    log.info("blocked_items_rerun", carrier=portal, account=label, items=len(blocked))
    return len(blocked)


class _DateLock:
    def __init__(self, path: Path, day: date) -> None:
        self.path, self.day = path, day
        self.handle: TextIO | None = None

    def __enter__(self) -> _DateLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = handle = open(self.path, "a+")  # noqa: SIM115 - held for the whole run
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise BatchAlreadyRunning(f"another process is running the batch for {self.day}") from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self.handle is not None:
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()


def _date_lock(data_dir: Path, day: date) -> _DateLock:
    # One run per date on this machine; across machines the scale-out dispatcher's per-key lock does it.
    return _DateLock(data_dir / "locks" / f"batch-{day.isoformat()}.lock", day)
