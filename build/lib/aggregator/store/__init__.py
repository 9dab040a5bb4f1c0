"""Persistence: SQLModel tables, Alembic migrations, and the repository the runner writes through."""

from aggregator.store.repository import GENESIS_HASH, Repository, new_id, utcnow

__all__ = ["GENESIS_HASH", "Repository", "new_id", "utcnow"]
