"""Is this process ready to serve: the checks behind `/readyz` that need no vault (the web app adds the
vault's, aggregator/web/routes_health.py).

Each check answers "ok" or a short reason that names what is wrong and what to do, never a path, a
database URL or an exception's text (the endpoint is unauthenticated: a load balancer calls it).
"""

from __future__ import annotations

import stat
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from aggregator.store.database import alembic_config
from aggregator.store.repository import Repository

OK = "ok"
NOT_CONFIGURED = "not configured"  # an optional part (the vault) this installation does not use


@dataclass(frozen=True)
class Check:
    name: str
    result: str  # OK, NOT_CONFIGURED, or why not

    @property
    def passed(self) -> bool:
        return self.result in (OK, NOT_CONFIGURED)


class Readiness:
    def __init__(self, repository: Repository, data_dir: Path) -> None:
        self.repository = repository
        self.data_dir = data_dir

    @cached_property
    def schema_head(self) -> str | None:
        """The latest migration this code ships (read once: the scripts do not change while it runs)."""
        return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()

    def database(self) -> list[Check]:
        """Reachable, and at the latest migration (an older schema means an upgrade did not run; a newer
        one, that a newer release migrated it and this one must not write to it)."""
        try:
            with self.repository.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
                current = MigrationContext.configure(connection).get_current_revision()
        except SQLAlchemyError:
            return [Check("database", "the database cannot be reached"), Check("migrations", "not checked")]
        if current is None:
            migrated = "the database has no schema: start the product once (it migrates at start-up)"
        elif current != self.schema_head:
            migrated = "the database schema is not the one this release expects: restart to migrate, or upgrade"
        else:
            migrated = OK
        return [Check("database", OK), Check("migrations", migrated)]

    def data_dir_private(self) -> Check:
        try:
            info = self.data_dir.stat()
        except OSError:
            return Check("data_dir", "the data directory is missing")
        if not stat.S_ISDIR(info.st_mode):
            return Check("data_dir", "the data directory is not a directory")
        if info.st_mode & 0o077:
            return Check("data_dir", "the data directory is open to other users: chmod 700 it")
        return Check("data_dir", OK)

    def checks(self) -> list[Check]:
        return [*self.database(), self.data_dir_private()]
