"""An on-demand lookup job (the lookup form, POST /api/lookups): what it asks, its progress, how it runs.

Shared by the web app, which starts jobs and shows their progress, and by whichever process runs them: the
web app itself with inline dispatch (aggregator/web/lookups.py), or a procrastinate worker with queue
dispatch (aggregator/dispatch/lookup_tasks.py). So it lives below the web layer, and imports no queue.

With queue dispatch the job's state is a row of `web_lookup_jobs` (`save_job`, `load_job`): the worker
writes each step there and the web process reads it when the page polls. The row holds what the job asks
(member id, date of birth), as the `lookups` rows do; the queue's own job carries the job id only.

A check the carrier's manifest does not declare is never run: it ends at once as "not_available" with the
call-the-payer item (`LookupJob.not_available`), and a job left with nothing to ask never opens the runner.

A job run in the web process (inline dispatch) has a person at the screen: `LookupJob.person`, whom the runner
asks for a one-time code or a push approval when the portal's sign-in wants one; the status then carries
`prompt` and the page shows the code form. A queued job has nobody (a worker runs it, and the code could not
reach it): its sign-in stops at once "sign in needed", and the person uses "Sign in now" on the worklist.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, field_validator

from aggregator.errors import AggregatorError, Outcome
from aggregator.flows import capabilities
from aggregator.human_steps import WaitingPerson
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
from aggregator.scrapers.routing import portal_of
from aggregator.store.tables import WebLookupJobRow

log = get_logger(__name__)

if TYPE_CHECKING:
    from aggregator.runner import Runner
    from aggregator.store import Repository

Check = Literal["eligibility", "authorizations", "claims"]
CHECKS: tuple[Check, ...] = ("eligibility", "authorizations", "claims")
CAPABILITY_OF: dict[str, Capability] = {"eligibility": Capability.ELIGIBILITY,
                                        "authorizations": Capability.AUTHORIZATION, "claims": Capability.CLAIM_STATUS}
CLAIMS_LOOKBACK = timedelta(days=365)  # claims searched: the year up to the date of service


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
    # Who answers the portal's sign-in questions (inline dispatch only; never stored: codes stay in memory).
    person: WaitingPerson | None = field(default=None, repr=False, compare=False)

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
                                                                - self.started_at).total_seconds(), 1),
                **person_status(self.person)}

    def leave_out_undeclared(self, manifest: Manifest) -> None:
        """End every requested check the carrier does not declare as "not available at this carrier"."""
        self.declared = tuple(declared_checks(manifest))
        for check in dict.fromkeys(self.request.checks):
            if not capabilities.declares(manifest, CAPABILITY_OF[check]):
                gap = capabilities.not_available(manifest, CAPABILITY_OF[check], self.request.service_type,
                                                   self.request.carrier)
                self.not_available[check] = {"reason": gap.reason, "call_the_payer": gap.call_the_payer}
                self.outcomes[check] = Outcome.NOT_AVAILABLE.value

    def end(self, error: BaseException | None = None) -> None:
        """Done, or failed with a reason staff may read (a bug's message is not shown, its type is)."""
        if error is None:
            self.state, self.step = "done", "done"
        elif isinstance(error, AggregatorError):
            self.state, self.error, self.step = "failed", error.reason, "failed"
        else:
            self.state, self.error, self.step = "failed", f"internal error ({type(error).__name__})", "failed"
        self.finished_at = datetime.now(UTC)
        if self.person is not None:  # nothing is asked of the person any more
            self.person.give_up()
            self.person.prompt = None


def person_status(person: WaitingPerson | None) -> dict[str, Any]:
    """What the person at the screen is asked now (`prompt`: None, or the step, the portal, the portal's words
    about where the code went, and the seconds left to answer) and the last outcome shown to them. Never a code."""
    prompt = person.prompt if person is not None else None
    shown = None if prompt is None else {"step": prompt.step.value, "portal": prompt.portal, "message": prompt.message,
                                         "seconds_left": max(0, round(prompt.seconds_left()))}
    return {"prompt": shown, "person_message": person.message if person is not None else None}


async def run_to_its_end(job: LookupJob, work: Awaitable[None]) -> None:
    """Await the job's `work`, then end the job: done, failed with an `AggregatorError`'s reason, or failed
    visibly on a bug (logged), never left running with a page polling it forever."""
    try:
        await work
        job.end()
    except AggregatorError as error:
        job.end(error)
    except Exception as error:  # noqa: BLE001 - see the docstring
        job.end(error)
        log.exception("web_lookup_crashed", job_id=job.id)


JobListener = Callable[[LookupJob], None]


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
        return adapter_for(portal_of(carrier)).manifest
    except AggregatorError:
        return None


def declared_checks(manifest: Manifest) -> list[str]:
    """The checks the lookup form offers for this carrier."""
    return [c for c in CHECKS if capabilities.declares(manifest, CAPABILITY_OF[c])]


async def run_checks(runner: Runner, job: LookupJob, *, account_label: str | None = None,
                     on_step: JobListener | None = None) -> None:
    """Ask the portal each planned check in turn, then answer the prior-auth question when asked.

    `account_label` pins the portal account (a queue worker holds that account's lock around the whole job);
    `on_step` is told after each change of step, so another process can show the progress."""
    request = job.request
    results = {}
    planned = job.planned
    # A pinned account is one of the payer's first portal (the queue locked it there): ask on that portal.
    portal = portal_of(request.carrier) if account_label is not None else None

    def moved() -> None:
        if on_step is not None:
            on_step(job)

    for n, check in enumerate(planned, start=1):
        job.step = f"checking {check} ({n} of {len(planned)})"
        moved()
        if check == "eligibility":
            coverage_query = EligibilityQuery(member_id=request.member_id, date_of_birth=request.date_of_birth,
                                              service_date=request.service_date, last_name=request.last_name)
            result = await runner.eligibility(request.carrier, coverage_query, source="web",
                                              account_label=account_label, portal=portal, person=job.person)
        elif check == "authorizations":
            auth_query = AuthorizationQuery(member_id=request.member_id, date_of_birth=request.date_of_birth)
            result = await runner.authorizations(request.carrier, auth_query, source="web",
                                                 account_label=account_label, portal=portal, person=job.person)
        else:
            claim_query = ClaimQuery(member_id=request.member_id, date_of_birth=request.date_of_birth,
                                     service_from=request.service_date - CLAIMS_LOOKBACK, service_to=request.service_date)
            result = await runner.claims(request.carrier, claim_query, source="web", account_label=account_label,
                                         portal=portal, person=job.person)
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


# --- the job's row (queue dispatch) ------------------------------------------------------------------------

def job_payload(job: LookupJob) -> str:
    """The job as JSON for its row: everything `job_from_payload` needs to give the same status and page."""
    return json.dumps({"request": job.request.model_dump(mode="json"), "step": job.step,
                       "lookup_ids": job.lookup_ids, "outcomes": job.outcomes, "auth_answer": job.auth_answer,
                       "error": job.error, "not_available": job.not_available, "declared": list(job.declared)})


def job_from_payload(*, id: str, user_id: str, state: str, started_at: datetime, finished_at: datetime | None,
                     payload: str) -> LookupJob:
    data = json.loads(payload)
    return LookupJob(id=id, user_id=user_id, request=LookupRequest.model_validate(data["request"]), state=state,
                     step=data["step"], started_at=_aware(started_at),
                     finished_at=_aware(finished_at) if finished_at else None,
                     lookup_ids=data["lookup_ids"], outcomes=data["outcomes"], auth_answer=data["auth_answer"],
                     error=data["error"], not_available=data["not_available"], declared=tuple(data["declared"]))


def _aware(moment: datetime) -> datetime:
    # The column keeps no time zone: every job time is UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def save_job(repository: Repository, job: LookupJob) -> None:
    """Write the job's row (insert or update): the web process reads it, whichever process runs the job."""
    with repository.session() as session:
        row = session.get(WebLookupJobRow, job.id) or WebLookupJobRow(id=job.id, user_id=job.user_id,
                                                                       started_at=job.started_at, state=job.state,
                                                                       payload="")
        row.state, row.finished_at, row.payload = job.state, job.finished_at, job_payload(job)
        session.add(row)
        session.commit()


def load_job(repository: Repository, job_id: str) -> LookupJob | None:
    with repository.session() as session:
        row = session.get(WebLookupJobRow, job_id)
        if row is None:
            return None
        return job_from_payload(id=row.id, user_id=row.user_id, state=row.state, started_at=row.started_at,
                                finished_at=row.finished_at, payload=row.payload)
