"""On-demand lookups from the web: a job per request, run in the app's event loop on one shared runner.

The runner (and its Chromium) is opened on the first lookup, not at start-up, and closed with the app.
A job runs its checks one after another and records which check it is on, so the page can show progress
by polling `/lookups/jobs/<id>/status`; the answers themselves are stored by the runner like any lookup.
Jobs live in memory: after a restart the lookups are still in the database, only the job pages are gone.

A check the carrier's manifest does not declare is never run: it ends at once as "not_available" with the
call-the-payer item (`LookupJob.not_available`), and a job left with nothing to ask never opens the runner.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, field_validator

from aggregator.errors import AggregatorError, Outcome
from aggregator.flows import capabilities
from aggregator.logging import get_logger
from aggregator.models import (
    AuthorizationList,
    AuthorizationQuery,
    ClaimQuery,
    EligibilityQuery,
    EligibilityRecord,
    ServiceType,
    normalize_member_id,
)
from aggregator.scrapers.framework import Capability, Manifest

if TYPE_CHECKING:
    from aggregator.runner import Runner
    from aggregator.store import Repository

log = get_logger(__name__)

Check = Literal["eligibility", "authorizations", "claims"]
CHECKS: tuple[Check, ...] = ("eligibility", "authorizations", "claims")
CAPABILITY_OF: dict[str, Capability] = {"eligibility": Capability.ELIGIBILITY,
                                        "authorizations": Capability.AUTHORIZATION, "claims": Capability.CLAIM_STATUS}
CLAIMS_LOOKBACK = timedelta(days=365)  # claims searched: the year up to the date of service
KEEP_JOBS = 200


def _eligibility_only() -> list[Check]:
    return ["eligibility"]


class LookupRequest(BaseModel):
    """What staff ask for at the desk (the form and POST /api/lookups)."""

    carrier: str = Field(min_length=1, max_length=40)
    member_id: str = Field(min_length=1, max_length=80)
    date_of_birth: date
    service_date: date
    checks: list[Check] = Field(default_factory=_eligibility_only, min_length=1)
    last_name: str | None = Field(default=None, max_length=80)
    service_type: ServiceType | None = Field(default=None, description="X12 service type code for the auth answer")
    procedure: str | None = Field(default=None, max_length=10, description="CPT/HCPCS code for the auth answer")

    _member = field_validator("member_id")(lambda cls, v: normalize_member_id(v))

    @field_validator("last_name", "procedure", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("service_type", mode="before")
    @classmethod
    def _blank_type(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value


@dataclass
class LookupJob:
    id: str
    user_id: str
    request: LookupRequest
    state: str = "queued"  # queued, running, done, failed
    step: str = "waiting for the browser"
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None
    lookup_ids: dict[str, str] = field(default_factory=dict)  # check -> lookup id
    outcomes: dict[str, str] = field(default_factory=dict)
    auth_answer: dict[str, Any] | None = None
    error: str | None = None
    # check -> {"reason", "call_the_payer"}: asked for, but the carrier's portal cannot answer it (never run)
    not_available: dict[str, dict[str, str]] = field(default_factory=dict)
    declared: tuple[str, ...] = CHECKS  # the checks the carrier's manifest declares

    @property
    def planned(self) -> list[str]:
        """The checks that ask the portal, in order (a not-available one is not among them)."""
        checks = [c for c in dict.fromkeys(self.request.checks) if c not in self.not_available]
        if "authorizations" in checks and "eligibility" not in checks and "eligibility" in self.declared:
            checks.insert(0, "eligibility")  # the auth answer needs the coverage of the visit
        return [c for c in CHECKS if c in checks]

    def status(self) -> dict[str, Any]:
        return {"id": self.id, "state": self.state, "step": self.step, "done": len(self.outcomes),
                "total": len(self.planned) + len(self.not_available), "outcomes": self.outcomes,
                "lookup_ids": self.lookup_ids, "not_available": self.not_available,
                "error": self.error, "elapsed_seconds": round(((self.finished_at or datetime.now(UTC))
                                                                - self.started_at).total_seconds(), 1)}

    def leave_out_undeclared(self, manifest: Manifest) -> None:
        """End every requested check the carrier does not declare as "not available at this carrier"."""
        self.declared = tuple(declared_checks(manifest))
        for check in dict.fromkeys(self.request.checks):
            if not capabilities.declares(manifest, CAPABILITY_OF[check]):
                gap = capabilities.not_available(manifest, CAPABILITY_OF[check], self.request.service_type)
                self.not_available[check] = {"reason": gap.reason, "call_the_payer": gap.call_the_payer}
                self.outcomes[check] = Outcome.NOT_AVAILABLE.value


RunnerProvider = Callable[[], Awaitable["Runner"]]


class RunnerHolder:
    """The runner for on-demand lookups and re-runs. Either the app's own, opened on first use (one
    Chromium) and closed with the app, or one the caller provides and owns (`aggregator serve` shares
    its runner between the scheduler and the web app, so each portal account keeps one session)."""

    def __init__(self, settings_runner: Callable[[], AbstractAsyncContextManager[Runner]] | None = None,
                 provider: RunnerProvider | None = None) -> None:
        self._open = settings_runner
        self._provider = provider
        self._stack = AsyncExitStack()
        self._runner: Runner | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> Runner:
        if self._provider is not None:
            return await self._provider()
        async with self._lock:
            if self._runner is None:
                assert self._open is not None
                self._runner = await self._stack.enter_async_context(self._open())
            return self._runner

    async def close(self) -> None:
        self._runner = None
        await self._stack.aclose()


JobListener = Callable[["LookupJob"], None]


class LookupJobs:
    def __init__(self, runners: RunnerHolder, on_finished: JobListener | None = None) -> None:
        self.runners = runners
        # Told when a job ends, done or failed (the app writes the webhook event `lookup.completed`).
        self.on_finished = on_finished
        self._jobs: OrderedDict[str, LookupJob] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()

    def get(self, job_id: str) -> LookupJob | None:
        return self._jobs.get(job_id)

    def start(self, request: LookupRequest, user_id: str) -> LookupJob:
        job = LookupJob(id=uuid.uuid4().hex, user_id=user_id, request=request)
        manifest = manifest_of(request.carrier)
        if manifest is not None:  # an unknown carrier fails in the job, as the runner names it
            job.leave_out_undeclared(manifest)
        self._jobs[job.id] = job
        while len(self._jobs) > KEEP_JOBS:
            self._jobs.popitem(last=False)
        task = asyncio.get_running_loop().create_task(self._run(job))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job

    async def wait_all(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _run(self, job: LookupJob) -> None:
        try:
            if not job.planned:  # everything asked is not available at this carrier: no browser, no login
                job.state, job.step = "done", "done"
                return
            runner = await self.runners.get()
            job.state = "running"
            await run_checks(runner, job)
            job.state = "done"
            job.step = "done"
        except AggregatorError as error:
            job.state, job.error, job.step = "failed", error.reason, "failed"
        except Exception as error:  # a bug must end the job visibly, not leave the page polling forever
            job.state, job.error, job.step = "failed", f"internal error ({type(error).__name__})", "failed"
            log.exception("web_lookup_crashed", job_id=job.id)
        finally:
            job.finished_at = datetime.now(UTC)
            if self.on_finished is not None:
                self.on_finished(job)


def webhook_announcer(repository: Repository) -> JobListener:
    """A listener that writes `lookup.completed` for each job that ends (aggregator/webhooks/events.py):
    ids, outcomes and API paths only; the member the job asked about never goes into the event."""
    from aggregator.webhooks import events

    def announce(job: LookupJob) -> None:
        events.lookup_completed(repository, job_id=job.id, state=job.state, carrier=job.request.carrier,
                                outcomes=job.outcomes, lookup_ids=job.lookup_ids, started_at=job.started_at,
                                finished_at=job.finished_at)

    return announce


def manifest_of(carrier: str) -> Manifest | None:
    """The carrier's manifest, or None for a carrier no adapter knows."""
    from aggregator.scrapers.registry import adapter_for

    try:
        return adapter_for(carrier).manifest
    except AggregatorError:
        return None


def declared_checks(manifest: Manifest) -> list[str]:
    """The checks the lookup form offers for this carrier."""
    return [c for c in CHECKS if capabilities.declares(manifest, CAPABILITY_OF[c])]


async def run_checks(runner: Runner, job: LookupJob) -> None:
    request = job.request
    results = {}
    planned = job.planned
    for n, check in enumerate(planned, start=1):
        job.step = f"checking {check} ({n} of {len(planned)})"
        if check == "eligibility":
            coverage_query = EligibilityQuery(member_id=request.member_id, date_of_birth=request.date_of_birth,
                                              service_date=request.service_date, last_name=request.last_name)
            result = await runner.eligibility(request.carrier, coverage_query, source="web")
        elif check == "authorizations":
            auth_query = AuthorizationQuery(member_id=request.member_id, date_of_birth=request.date_of_birth)
            result = await runner.authorizations(request.carrier, auth_query, source="web")
        else:
            claim_query = ClaimQuery(member_id=request.member_id, date_of_birth=request.date_of_birth,
                                     service_from=request.service_date - CLAIMS_LOOKBACK, service_to=request.service_date)
            result = await runner.claims(request.carrier, claim_query, source="web")
        results[check] = result
        job.lookup_ids[check] = result.lookup_id
        job.outcomes[check] = result.outcome.value
    coverage, auths = results.get("eligibility"), results.get("authorizations")
    # FOUND: the answer is the record itself (not "member not found"); isinstance says so to the type checker.
    if not coverage or coverage.outcome is not Outcome.FOUND or not isinstance(coverage.answer, EligibilityRecord):
        return
    from aggregator.flows.authorization import answer_authorization, answer_without_authorizations

    gap = job.not_available.get("authorizations")
    try:
        if auths and auths.outcome is Outcome.FOUND and isinstance(auths.answer, AuthorizationList):
            answer = answer_authorization(coverage.answer, auths.answer, service_date=request.service_date,
                                          service_type=request.service_type, procedure_code=request.procedure)
        elif gap and (request.service_type or request.procedure):
            # As the batch does: the portal shows no authorizations, so the eligibility record answers what it
            # can and the rest is the call-the-payer item.
            answer = answer_without_authorizations(coverage.answer, gap["call_the_payer"],
                                                   service_date=request.service_date,
                                                   service_type=request.service_type, procedure_code=request.procedure)
        else:
            return
        job.auth_answer = answer.model_dump(mode="json")
    except AggregatorError as error:
        job.auth_answer = {"error": error.reason}
