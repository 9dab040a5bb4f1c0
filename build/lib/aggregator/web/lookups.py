"""On-demand lookups from the web: a job per request, run in the app's event loop on one shared runner.

The runner (and its Chromium) is opened on the first lookup, not at start-up, and closed with the app.
A job runs its checks one after another and records which check it is on, so the page can show progress
by polling `/lookups/jobs/<id>/status`; the answers themselves are stored by the runner like any lookup.
Jobs live in memory: after a restart the lookups are still in the database, only the job pages are gone.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field, field_validator

from aggregator.errors import AggregatorError, Outcome
from aggregator.logging import get_logger
from aggregator.models import AuthorizationQuery, ClaimQuery, EligibilityQuery, ServiceType, normalize_member_id

if TYPE_CHECKING:
    from aggregator.runner import Runner

log = get_logger(__name__)

Check = Literal["eligibility", "authorizations", "claims"]
CHECKS: tuple[Check, ...] = ("eligibility", "authorizations", "claims")
CLAIMS_LOOKBACK = timedelta(days=365)  # claims searched: the year up to the date of service
KEEP_JOBS = 200


class LookupRequest(BaseModel):
    """What staff ask for at the desk (the form and POST /api/lookups)."""

    carrier: str = Field(min_length=1, max_length=40)
    member_id: str = Field(min_length=1, max_length=80)
    date_of_birth: date
    service_date: date
    checks: list[Check] = Field(default_factory=lambda: ["eligibility"], min_length=1)
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
    auth_answer: dict | None = None
    error: str | None = None

    @property
    def planned(self) -> list[str]:
        checks = list(dict.fromkeys(self.request.checks))
        if "authorizations" in checks and "eligibility" not in checks:
            checks.insert(0, "eligibility")  # the auth answer needs the coverage of the visit
        return [c for c in CHECKS if c in checks]

    def status(self) -> dict:
        return {"id": self.id, "state": self.state, "step": self.step, "done": len(self.outcomes),
                "total": len(self.planned), "outcomes": self.outcomes, "lookup_ids": self.lookup_ids,
                "error": self.error, "elapsed_seconds": round(((self.finished_at or datetime.now(UTC))
                                                                - self.started_at).total_seconds(), 1)}


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


class LookupJobs:
    def __init__(self, runners: RunnerHolder) -> None:
        self.runners = runners
        self._jobs: OrderedDict[str, LookupJob] = OrderedDict()
        self._tasks: set[asyncio.Task] = set()

    def get(self, job_id: str) -> LookupJob | None:
        return self._jobs.get(job_id)

    def start(self, request: LookupRequest, user_id: str) -> LookupJob:
        job = LookupJob(id=uuid.uuid4().hex, user_id=user_id, request=request)
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


async def run_checks(runner: Runner, job: LookupJob) -> None:
    request = job.request
    results = {}
    for check in job.planned:
        job.step = f"checking {check} ({len(job.outcomes) + 1} of {len(job.planned)})"
        if check == "eligibility":
            query = EligibilityQuery(member_id=request.member_id, date_of_birth=request.date_of_birth,
                                     service_date=request.service_date, last_name=request.last_name)
            result = await runner.eligibility(request.carrier, query, source="web")
        elif check == "authorizations":
            query = AuthorizationQuery(member_id=request.member_id, date_of_birth=request.date_of_birth)
            result = await runner.authorizations(request.carrier, query, source="web")
        else:
            query = ClaimQuery(member_id=request.member_id, date_of_birth=request.date_of_birth,
                               service_from=request.service_date - CLAIMS_LOOKBACK, service_to=request.service_date)
            result = await runner.claims(request.carrier, query, source="web")
        results[check] = result
        job.lookup_ids[check] = result.lookup_id
        job.outcomes[check] = result.outcome.value
    coverage, auths = results.get("eligibility"), results.get("authorizations")
    if coverage and auths and coverage.outcome is Outcome.FOUND and auths.outcome is Outcome.FOUND:
        from aggregator.flows.authorization import answer_authorization

        try:
            answer = answer_authorization(coverage.answer, auths.answer, service_date=request.service_date,  # type: ignore[arg-type]
                                          service_type=request.service_type, procedure_code=request.procedure)
            job.auth_answer = answer.model_dump(mode="json")
        except AggregatorError as error:
            job.auth_answer = {"error": error.reason}
