"""The procrastinate `App` of the product: one PostgreSQL database holds the product's tables and the queue.

`queue_app(settings)` builds it (tasks from `aggregator.dispatch.batch_tasks`, `aggregator.dispatch.schedule_tasks`
and `aggregator.dispatch.lookup_tasks`); `ensure_queue_schema(settings)` creates
procrastinate's tables, types and functions when they are missing. Both refuse SQLite with a clear error:
the queue is a PostgreSQL feature (docs/scale-out.md).
"""

from __future__ import annotations

import importlib

import procrastinate
import psycopg
from procrastinate.schema import SchemaManager
from sqlalchemy.engine import make_url

from aggregator.errors import ConfigurationError
from aggregator.logging import get_logger
from aggregator.settings import Settings

log = get_logger(__name__)

TASK_MODULES = ("aggregator.dispatch.batch_tasks", "aggregator.dispatch.schedule_tasks",
                "aggregator.dispatch.lookup_tasks")
# pg_advisory_xact_lock key: workers starting together apply the schema once (any constant; "proc" in ASCII).
SCHEMA_LOCK_KEY = 0x70726F63


def queue_conninfo(settings: Settings) -> str:
    """The libpq connection string of the product's PostgreSQL database (its SQLAlchemy URL without the
    driver name). Raises ConfigurationError for SQLite, which has no queue."""
    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() != "postgresql":
        raise ConfigurationError(
            "dispatch 'queue' needs PostgreSQL: set AGGREGATOR_DATABASE_URL to a postgresql:// URL "
            f"(the database is {url.get_backend_name()}), or use the default AGGREGATOR_DISPATCH=inline")
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def queue_app(settings: Settings) -> procrastinate.App:
    """A procrastinate App on the product's PostgreSQL database with every task of the product registered
    (namespaced "batch:", "schedule:" and "lookup:"; each module's `make_blueprint()` builds them anew).
    Open it (`async with app.open_async():`) before deferring jobs or running a worker; call
    `ensure_queue_schema` first on a database that may be new."""
    # A connection per job slot at most, plus the worker's own (fetching, heartbeats, periodic defers).
    connector = procrastinate.PsycopgConnector(conninfo=queue_conninfo(settings), min_size=1,
                                               max_size=settings.worker_concurrency + 2)
    app = procrastinate.App(connector=connector)
    for name in TASK_MODULES:
        module = importlib.import_module(name)
        # A task registered in an App is bound to it (its job manager, its namespaced name): each App gets
        # blueprints made for it by the module's `make_blueprint()`, never a shared module-level one.
        app.add_tasks_from(module.make_blueprint(), namespace=name.rsplit(".", 1)[1].removesuffix("_tasks"))
    return app


def ensure_queue_schema(settings: Settings) -> bool:
    """Create procrastinate's schema in the product's database when it is missing; True when it was
    created. Idempotent and safe when several workers start at once (an advisory lock serializes them)."""
    with psycopg.connect(queue_conninfo(settings)) as connection, connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_KEY,))
        present = connection.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL").fetchone()
        if present and present[0]:
            return False
        connection.execute(SchemaManager.get_schema())
    log.info("queue_schema_created")
    return True
