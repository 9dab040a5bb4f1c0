"""On-demand lookups (the lookup form, POST /api/lookups) through the procrastinate queue, dispatch `queue`.

The web process (`LookupQueue`) picks the portal account and defers the job with that account's `lock`
(aggregator/dispatch/locks.py): the same lock every batch job on the account holds, so a desk lookup waits
until the worker using the account finishes its job, instead of opening a second session (the portals allow
one per account; a second login ends the first). It is deferred with a higher priority than the batch's
jobs, so it runs next on that account: a person is waiting at the desk. The account is the one with the
fewest jobs running and waiting now (an idle account first), among the carrier's accounts that are not frozen.

A worker (`on_demand_lookup`) runs the job on its process's runner, pinned to that account, and writes the
job's row after each step (aggregator/dispatch/lookup_jobs.py): the page and the API read progress there.
The queue's job carries the job id and the account label only, never what the job asks about.
"""

from __future__ import annotations

import procrastinate
import psycopg

from aggregator.dispatch.app import ensure_queue_schema, queue_app, queue_conninfo
from aggregator.dispatch.locks import account_lock
from aggregator.dispatch.lookup_jobs import LookupJob, load_job, run_checks, run_to_its_end, save_job, webhook_announcer
from aggregator.dispatch.worker import current_runner
from aggregator.errors import AggregatorError, CredentialsMissing
from aggregator.logging import get_logger
from aggregator.runner import frozen_error
from aggregator.scrapers.registry import adapter_for
from aggregator.scrapers.routing import portal_of
from aggregator.settings import Settings
from aggregator.store import Repository
from vault import PortalAccount, Vault
from vault.configured import open_vault

log = get_logger(__name__)

TASK = "on_demand_lookup"
TASK_NAME = f"lookup:{TASK}"  # queue_app registers this module's tasks under the namespace "lookup"
# Higher runs first among an account's waiting jobs (the batch's jobs keep procrastinate's default, 0).
DESK_PRIORITY = 10
QUEUED_STEP = "waiting for the portal account"


class QueueUnreachable(AggregatorError):
    """The job could not be put in the queue (the database refused or is down)."""


def make_blueprint() -> procrastinate.Blueprint:
    """A new Blueprint with the on-demand lookup task (procrastinate binds a registered task to one App, so
    every `queue_app` gets its own; see aggregator/dispatch/app.py)."""
    blueprint = procrastinate.Blueprint()
    blueprint.task(name=TASK)(on_demand_lookup)
    return blueprint


async def on_demand_lookup(job_id: str, account_label: str) -> None:
    """Run one stored job on this worker's runner with the account its lock names."""
    runner = current_runner()
    repository = runner.repository
    job = load_job(repository, job_id)
    if job is None:
        log.warning("lookup_job_missing", job_id=job_id)
        return
    if job.finished_at is not None:  # run again after a stalled worker had finished it: keep its answer
        log.info("lookup_job_already_finished", job_id=job_id)
        return
    job.state, job.step = "running", "starting"
    save_job(repository, job)
    await run_to_its_end(job, run_checks(runner, job, account_label=account_label,
                                         on_step=lambda moved: save_job(repository, moved)))
    save_job(repository, job)
    webhook_announcer(repository)(job)


class LookupQueue:
    """The web process's side: store the job, choose its account, defer it under the account's lock."""

    def __init__(self, settings: Settings, repository: Repository) -> None:
        self.settings = settings
        self.repository = repository
        self._vault: Vault | None = None
        self._app: procrastinate.App | None = None  # one per process: building it registers the tasks
        self._schema_ready = False

    def enqueue(self, job: LookupJob) -> None:
        account = self.choose_account(job.request.carrier)
        job.step = QUEUED_STEP
        save_job(self.repository, job)  # the row first: the worker that takes the job reads it
        try:
            if not self._schema_ready:
                ensure_queue_schema(self.settings)
                self._schema_ready = True
            if self._app is None:
                self._app = queue_app(self.settings)
            app = self._app
            with app.open():  # a connection pool for this defer only: desk lookups are a few a minute
                app.configure_task(TASK_NAME, lock=account_lock(account.carrier, account.label),
                                   priority=DESK_PRIORITY).defer(job_id=job.id, account_label=account.label)
        except (psycopg.Error, procrastinate.exceptions.ProcrastinateException) as error:
            log.error("lookup_not_queued", job_id=job.id, error=type(error).__name__)
            raise QueueUnreachable("the lookup could not be queued (the database did not answer); "
                                   "try again in a minute") from None
        log.info("lookup_queued", job_id=job.id, carrier=account.carrier, account=account.label)

    def save(self, job: LookupJob) -> None:
        save_job(self.repository, job)

    def load(self, job_id: str) -> LookupJob | None:
        return load_job(self.repository, job_id)

    def choose_account(self, carrier: str) -> PortalAccount:
        """The carrier's usable account with the fewest jobs running, then waiting, under its lock; the same
        errors as the runner gives when the carrier is unknown or has no usable account."""
        slug = adapter_for(portal_of(carrier)).manifest.slug  # unknown carrier: ConfigurationError, as the runner says
        accounts = self.vault().accounts(slug)
        if not accounts:
            raise CredentialsMissing(f"no portal account for {slug} in the vault: add one with `aggregator vault add`")
        active = [a for a in accounts if not a.is_frozen]
        if not active:
            raise frozen_error(accounts[0])
        load = self.jobs_per_lock([account_lock(a.carrier, a.label) for a in active])
        return min(active, key=lambda a: load.get(account_lock(a.carrier, a.label), (0, 0)))

    def jobs_per_lock(self, locks: list[str]) -> dict[str, tuple[int, int]]:
        """lock -> (jobs running, jobs waiting) now; a lock with neither is left out."""
        try:
            with psycopg.connect(queue_conninfo(self.settings)) as connection:
                if not self._schema_ready:
                    ensure_queue_schema(self.settings)
                    self._schema_ready = True
                rows = connection.execute(
                    "SELECT lock, count(*) FILTER (WHERE status = 'doing'), count(*) FILTER (WHERE status = 'todo') "
                    "FROM procrastinate_jobs WHERE status IN ('todo', 'doing') AND lock = ANY(%s) GROUP BY lock",
                    (locks,)).fetchall()
        except psycopg.Error as error:
            log.error("lookup_queue_unreadable", error=type(error).__name__)
            raise QueueUnreachable("the lookup could not be queued (the database did not answer); "
                                   "try again in a minute") from None
        return {lock: (doing, todo) for lock, doing, todo in rows}

    def vault(self) -> Vault:
        if self._vault is None:
            self._vault = open_vault(self.settings)
        return self._vault
