"""`aggregator worker`: run the queue's jobs (the batch's checks, on-demand lookups) on this machine.

Dispatch "queue" only (docs/scale-out.md): every worker process opens one Chromium and runs up to
`--concurrency` jobs at once, each on a different portal account (a procrastinate lock per account keeps
one job, so one portal session, per account across every machine). Stop it with Ctrl-C or SIGTERM: jobs
in flight finish first; a worker killed outright has its jobs run again by another worker after
AGGREGATOR_WORKER_STALLED_SECONDS.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from aggregator.cli.common import DataDirOption, app, console, fail, load_settings
from aggregator.errors import AggregatorError


@app.command("worker")
def worker(
    concurrency: Annotated[int | None, typer.Option(
        "--concurrency", min=1, max=64,
        help="jobs run at once by this process (default AGGREGATOR_WORKER_CONCURRENCY, 4)")] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Run queued jobs until stopped (needs PostgreSQL: AGGREGATOR_DATABASE_URL)."""
    from aggregator.dispatch.worker import run_worker, worker_name

    settings = load_settings(data_dir)
    console.print(f"worker {worker_name()}: {concurrency or settings.worker_concurrency} job(s) at a time")
    try:
        asyncio.run(run_worker(settings, concurrency=concurrency))
    except AggregatorError as error:
        raise fail(error.reason, 2) from None
    except KeyboardInterrupt:
        console.print("stopped")
