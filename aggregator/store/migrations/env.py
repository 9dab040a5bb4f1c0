"""Alembic environment: runs against the connection the product hands it (see database.migrate)."""

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import aggregator.store.tables  # noqa: F401  (registers the tables on SQLModel.metadata)
from aggregator.store.database import include_object

target_metadata = SQLModel.metadata


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        from sqlalchemy import create_engine

        url = context.config.get_main_option("sqlalchemy.url")
        if url is None:
            raise RuntimeError("Alembic was started without a connection or a sqlalchemy.url")
        engine = create_engine(url)
        with engine.connect() as connection:
            _run(connection)
    else:
        _run(connection)


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                      include_object=include_object)
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
