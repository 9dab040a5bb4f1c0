"""Scale-out (`make bench-scale`): the overnight batch on 1, 2 and 4 `aggregator worker` processes, with the
portals, not the CPU, binding.

The sandbox runs in a process of its own, adds 1,500 ms to every request, and serves each of its 4 carriers
with 3 portal accounts: 12 accounts. How many accounts a sandbox carrier has is its profile's `account_roles`
(sandbox/carriers.py); this benchmark's dataset gives each profile a third role, so every member and the
first two accounts of each carrier are exactly the standard dataset's.

The day (`--day`): *balanced* by default: each carrier's share of the appointments in inverse proportion to
what one of its checks costs its portal, measured first by runs without added latency (`calibrate`: the even
day, then the balanced day booked from it, until the shares settle; `balanced_day`), so that every carrier's
accounts carry about the same portal time and the 12-account limit is one a schedule could reach; *even*:
the standard generator's day, the carriers taking turns, on which the slowest carrier's accounts decide the
end (the `carrier bound`, reported for every run).

Each run: a fresh PostgreSQL database and data directory, the sandbox reset, N workers of `--concurrency`
jobs each started and registered with the queue (Chromium up), then the day enqueued (dispatch `queue`: a few
jobs per account under its lock, the rest claimed by the accounts as they finish, aggregator/dispatch/claims.py)
and the clock runs until every item is terminal.
Per run: checks per minute; the portal-bound limit, from the sandbox's own request log: every request of the
run (logins and the pages before them included) x the added latency, over the 12 accounts working in
parallel (an account's requests are sequential, so no run beats it); the ratio of the two; the busiest
account's own bound; items per account (fewest, most); logins; CPU of the workers and their Chromium, and how
busy the whole machine's cores were (other processes included); items differing from the ground truth; and
where each account's time went when the portal was not answering it (`account_idle`: before its first
request, between its requests, after its last).
Then the growth per added worker: throughput(N) / (N x throughput(1)).

    .venv/bin/python benchmarks/scale_out.py                  # what `make bench-scale` runs (about 12 minutes)
    .venv/bin/python benchmarks/scale_out.py --day even       # the carriers taking turns, no calibration
    .venv/bin/python benchmarks/scale_out.py --workers 1 --appointments 8 --latency-ms 100     # a quick try
    .venv/bin/python benchmarks/scale_out.py --workers 4 --keep-logs /tmp/scale    # and keep the logs to read
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.overnight_batch import attribute_requests, request_owners  # noqa: E402
from benchmarks.sandbox_process import control, sandbox_process  # noqa: E402
from benchmarks.sequential_lookups import machine, process_tree_cpu_seconds  # noqa: E402

DAY = date(2026, 12, 1)
ROLES = ("frontdesk", "billing", "intake")  # 3 accounts per carrier; the first two are the standard dataset's
SERVER = os.environ.get("AGGREGATOR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
RUN_DEADLINE_SECONDS = 900.0
CALIBRATION_PASSES = 3  # runs without added latency that book the balanced day (see balanced_day)


def bench_dataset():  # type: ignore[no-untyped-def]
    """The standard sandbox dataset with a third portal account per carrier (see the module doc)."""
    from sandbox.dataset import generate_carrier_data, generate_dataset

    standard = generate_dataset()
    carriers = {slug: generate_carrier_data(standard.seed, standard.as_of, replace(data.profile, account_roles=ROLES),
                                            standard.provider) for slug, data in standard.carriers.items()}
    for slug, data in carriers.items():  # nothing else moved: same members, same first accounts
        assert data.members == standard.carriers[slug].members, slug
        assert data.accounts[:2] == standard.carriers[slug].accounts, slug
    return replace(standard, carriers=carriers)


def allow_every_account(urls: dict[str, str]) -> None:
    """Let the batch give work to every benchmark account. The sandbox carriers' manifests allow 2 accounts at
    once (`Limits.max_concurrent_accounts`, the politeness limit a carrier sets; the sandbox enforces none);
    the batch reads it when it gives out accounts, which with dispatch `queue` happens in the process that
    enqueues (this one): the workers take the account from each job's lock. Raised here, in this process only."""
    from aggregator.scrapers.registry import adapter_for

    for slug in urls:
        adapter = adapter_for(slug)
        limits = adapter.manifest.limits.model_copy(update={"max_concurrent_accounts": len(ROLES)})
        adapter.manifest = adapter.manifest.model_copy(update={"limits": limits})


def serve_sandbox(port_base: int) -> int:
    """`--serve-sandbox PORT`: the benchmark's sandbox in this process until SIGTERM."""
    from sandbox.server import ports_from, start_sandbox

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with start_sandbox(ports=ports_from(port_base), dataset=bench_dataset()):
        stop.wait()
    return 0


def serve_sandbox_command(port: int) -> list[str]:
    """This script serving the benchmark's own dataset (3 accounts per carrier), not `aggregator sandbox up`."""
    return [sys.executable, __file__, "--serve-sandbox", str(port)]


@contextmanager
def throwaway_database() -> Iterator[str]:
    """A new database on the local PostgreSQL (SERVER), dropped afterwards."""
    from sqlalchemy import create_engine, text

    name = f"aggregator_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield SERVER.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def day_rows(dataset, urls: dict[str, str], count: int,  # type: ignore[no-untyped-def]
             costs: dict[str, float] | None = None) -> list[dict[str, Any]]:
    """The day's `count` appointments. Without `costs`, the *even* day: the standard generator's, the carriers
    taking turns, so each carrier gets the same number of visits whatever each costs its portal. With `costs`
    (a carrier's portal requests per check, from `calibrate`), the *balanced* day: each carrier's share in
    inverse proportion to its cost, so every carrier's accounts carry about the same portal time (the same
    generator per carrier, merged)."""
    from sandbox.appointments import appointment_list, merged_day

    if costs is None:
        return appointment_list(dataset, DAY, count, carriers=tuple(urls))
    weights = {slug: 1 / costs[slug] for slug in urls}
    exact = {slug: count * w / sum(weights.values()) for slug, w in weights.items()}
    shares = {slug: max(1, int(x)) for slug, x in exact.items()}
    left = max(0, count - sum(shares.values()))  # none when the floor of one visit per carrier took them
    for slug in sorted(exact, key=lambda s: exact[s] - int(exact[s]), reverse=True)[:left]:
        shares[slug] += 1  # largest remainders first
    return merged_day(*(appointment_list(dataset, DAY, n, carriers=(slug,)) for slug, n in shares.items()))


def prepare(data_dir: Path, database_url: str, urls: dict[str, str], dataset,  # type: ignore[no-untyped-def]
            rows: list[dict[str, Any]]):
    """Settings for dispatch `queue`, a vault with the 12 accounts, the day's appointments imported."""
    from aggregator.overnight.appointments import import_appointments
    from aggregator.settings import Settings, private_data_dir
    from aggregator.store import Repository
    from sandbox.accounts import vault_inputs
    from sandbox.appointments import write_csv
    from vault import MasterKey, Vault

    settings = Settings(data_dir=data_dir, database_url=database_url, dispatch="queue", carrier_urls=urls,
                        respect_maintenance_windows=False)
    private_data_dir(data_dir)  # 0700, as `aggregator worker` requires
    key = MasterKey.generate()
    key.write_key_file(data_dir / "vault.key")
    Vault.create(settings.resolved_vault_path, key).upsert_accounts(vault_inputs(dataset, tuple(urls)))
    report = import_appointments(Repository.open(database_url), write_csv(rows, data_dir / "day.csv"))
    assert not report.problems and report.added == len(rows), report.problems[:3]
    return settings


def start_workers(settings, urls: dict[str, str], count: int, concurrency: int,  # type: ignore[no-untyped-def]
                  logs: Path, log_level: str = "WARNING") -> list[subprocess.Popen]:
    env = {**os.environ, "AGGREGATOR_DATA_DIR": str(settings.resolved_data_dir),
           "AGGREGATOR_DATABASE_URL": settings.database_url, "AGGREGATOR_DISPATCH": "queue",
           "AGGREGATOR_CARRIER_URLS": json.dumps(urls), "AGGREGATOR_RESPECT_MAINTENANCE_WINDOWS": "false",
           "AGGREGATOR_BATCH_RETRY_BASE_SECONDS": "1", "AGGREGATOR_WORKER_POLL_SECONDS": "1",
           "AGGREGATOR_LOG_FORMAT": "json", "AGGREGATOR_LOG_LEVEL": log_level,
           # The benchmark enqueues DAY itself; inside a scheduled window on DAY the workers would start its run too.
           "AGGREGATOR_QUEUE_SCHEDULED_RUNS": "false"}
    processes = []
    for n in range(count):
        with (logs / f"worker{n}.log").open("wb") as out:
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "aggregator", "worker", "--concurrency", str(concurrency)],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT))
    return processes


def registered_workers(settings) -> int:  # type: ignore[no-untyped-def]
    import psycopg

    from aggregator.dispatch.app import queue_conninfo

    with psycopg.connect(queue_conninfo(settings)) as connection:
        row = connection.execute("SELECT count(*) FROM procrastinate_workers").fetchone()
    return int(row[0]) if row else 0


def wait_until(condition, what: str, processes: list[subprocess.Popen], seconds: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        if any(p.poll() is not None for p in processes):
            raise RuntimeError(f"a worker exited while waiting for {what}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {seconds:.0f} s waiting for {what}")
        time.sleep(0.2)


def account_idle(entries: list[dict], window: tuple[float, float]) -> dict[str, dict[str, float]]:
    """Where each account's time went outside the portal's answers, from the request log (each entry's `time`
    is when the answer left, so it started `latency_ms` before): `before` the account's first request since
    the run began, `between` its requests (our side: the browser, parsing, evidence, the queue's hand-overs),
    `after` its last one until every item was terminal (the tail: its carrier had no more work for it)."""
    started, ended = window
    times: dict[str, list[tuple[float, float]]] = {}
    for entry, owner in zip(entries, request_owners(entries), strict=True):
        if owner:
            end = float(entry["time"])
            times.setdefault(owner, []).append((end - entry["latency_ms"] / 1000, end))
    idle = {}
    for owner, spans in times.items():
        spans.sort()
        between = sum(max(0.0, start - previous_end) for (start, _), (_, previous_end) in zip(spans[1:], spans, strict=False))
        idle[owner] = {"before": round(max(0.0, spans[0][0] - started), 1), "between": round(between, 1),
                       "after": round(max(0.0, ended - spans[-1][1]), 1)}
    return idle


def portal_numbers(urls: dict[str, str], accounts: int, accounts_of: dict[str, int],
                   window: tuple[float, float], keep: Path | None = None) -> dict[str, Any]:
    """What the portals saw: requests, the latency they added, logins, and the portal-bound limits: every
    account busy all the time (`limit_seconds`), and the tighter one the carriers impose, since a carrier's
    items can only go to its own accounts (`carrier_bound_seconds`: the slowest carrier's added latency over
    its accounts)."""
    requests, latency, logins, ended = 0, 0.0, 0, 0
    per_carrier: dict[str, int] = {}
    per_account: dict[str, float] = {}
    idle: dict[str, dict[str, float]] = {}
    carrier_bound = 0.0
    for slug, url in urls.items():
        stats = control(url, "stats")
        entries = stats["requests"]
        if keep is not None:  # every request with the account it belongs to, for a closer look
            (keep / f"{slug}-requests.json").write_text(json.dumps(
                [{**e, "owner": o} for e, o in zip(entries, request_owners(entries), strict=True)]))
        requests += len(entries)
        per_carrier[slug] = len(entries)
        carrier_latency = sum(e["latency_ms"] for e in entries) / 1000
        latency += carrier_latency
        carrier_bound = max(carrier_bound, carrier_latency / max(1, accounts_of[slug]))
        logins += sum(a["successful_logins"] for a in stats["accounts"].values())
        ended += sum(a["sessions_ended_by_new_login"] for a in stats["accounts"].values())
        attributed, _, _ = attribute_requests(entries)
        per_account.update({f"{slug}/{name}": seconds for name, seconds in attributed.items()})
        idle.update({f"{slug}/{name}": parts for name, parts in account_idle(entries, window).items()})
    return {"requests": requests, "requests_per_carrier": per_carrier, "added_latency_seconds": round(latency, 1), "logins": logins,
            "sessions_ended_by_a_second_login": ended,
            "limit_seconds": round(latency / accounts, 2),  # every account busy all the time
            "carrier_bound_seconds": round(carrier_bound, 2),
            "busiest_account_seconds": round(max(per_account.values(), default=0.0), 2),
            "account_idle_seconds_mean": {part: round(sum(i[part] for i in idle.values()) / max(1, len(idle)), 1)
                                          for part in ("before", "between", "after")},
            "account_idle_seconds": idle}


def calibrate(rows: list[dict[str, Any]], urls: dict[str, str], dataset, workers: int,  # type: ignore[no-untyped-def]
              concurrency: int, day: str) -> dict[str, float]:
    """Each carrier's portal requests per check (its accounts' logins included), from one run of `rows`
    without added latency: what `day_rows` balances the day by. Measured, not assumed: a carrier's cost
    is its flows' (pages, frames, API calls per lookup) and changes with them."""
    print(f"calibrating: {day} ({len(rows)} appointments) on {workers} worker(s), no added latency ...", flush=True)
    run = one_run(workers, concurrency, rows, urls, dataset, 0)
    assert run["differing_from_ground_truth"] == 0, run["differing_from_ground_truth"]
    print(f"requests per check: {run['requests_per_check_per_carrier']}", flush=True)
    return run["requests_per_check_per_carrier"]


def balanced_day(rows: list[dict[str, Any]], urls: dict[str, str], dataset, count: int,  # type: ignore[no-untyped-def]
                 workers: int, concurrency: int) -> tuple[list[dict[str, Any]], list[dict[str, float]]]:
    """The balanced day, from the even day `rows`, and the costs each calibration pass measured. A check's
    cost depends on the day it is measured on: its logins are shared by as many checks as the carrier has
    visits, and a carrier's visits on a day of its own are other members (other authorization walks) than
    on the even day. So after the even day, each pass measures the day the last one booked, until the
    carriers' shares stop changing (at most CALIBRATION_PASSES runs)."""
    from sandbox.appointments import payer_of

    passes = [calibrate(rows, urls, dataset, workers, concurrency, "the even day")]
    booked = day_rows(dataset, urls, count, passes[-1])
    while len(passes) < CALIBRATION_PASSES:
        passes.append(calibrate(booked, urls, dataset, workers, concurrency, "the balanced day"))
        again = day_rows(dataset, urls, count, passes[-1])
        settled = Counter(payer_of(row) for row in again) == Counter(payer_of(row) for row in booked)
        booked = again
        if settled:
            break
    return booked, passes


def cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of every core since boot, from /proc/stat: how busy the machine was, whoever used it."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def one_run(workers: int, concurrency: int, rows: list[dict[str, Any]], urls: dict[str, str],  # type: ignore[no-untyped-def]
            dataset, latency_ms: int, keep: Path | None = None) -> dict[str, Any]:
    """One run (see the module doc); `keep`: a directory that receives the workers' logs (at INFO) and every
    portal's request log."""
    from aggregator.dispatch.app import ensure_queue_schema
    from aggregator.dispatch.run import enqueue_run
    from aggregator.overnight.batch import ItemState
    from aggregator.store import Repository, batches
    from sandbox.batch_truth import item_problems

    for url in urls.values():
        control(url, "reset")
        control(url, "faults", {"latency_ms": latency_ms})
    accounts = sum(len(dataset.carrier(slug).accounts) for slug in urls)
    load = round(os.getloadavg()[0], 2)  # the machine is shared: how busy it was when the run began
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp, throwaway_database() as database_url:
        settings = prepare(Path(tmp) / "data", database_url, urls, dataset, rows)
        repository = Repository.open(database_url)
        ensure_queue_schema(settings)
        processes = start_workers(settings, urls, workers, concurrency, Path(tmp), "INFO" if keep else "WARNING")
        try:
            wait_until(lambda: registered_workers(settings) == workers, f"{workers} workers", processes, 180)
            cpu0 = sum(process_tree_cpu_seconds(p.pid) for p in processes)
            ticks0 = cpu_ticks()
            started, started_epoch = time.perf_counter(), time.time()
            asyncio.run(enqueue_run(settings, DAY, trigger="bench"))
            wait_until(lambda: all(ItemState(i.state).terminal for i in batches.items_on(repository, DAY)),
                       "every item to finish", processes, RUN_DEADLINE_SECONDS)
            wall = time.perf_counter() - started
            cpu = sum(process_tree_cpu_seconds(p.pid) for p in processes) - cpu0
            ticks1 = cpu_ticks()
        except RuntimeError:
            for n in range(workers):
                print(f"--- worker{n}.log (tail)\n" + (Path(tmp) / f"worker{n}.log").read_text()[-3000:], flush=True)
            raise
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
        if keep is not None:
            for n in range(workers):
                (keep / f"worker{n}.log").write_bytes(
                    (Path(tmp) / f"worker{n}.log").read_bytes())
        items = batches.items_on(repository, DAY)
        wrong = sum(1 for i in items if item_problems(repository, dataset, i, batches.get_appointment(repository,
                                                                                                      i.appointment_id)))
        repository.engine.dispose()
    portals = portal_numbers(urls, accounts, {slug: len(dataset.carrier(slug).accounts) for slug in urls},
                             (started_epoch, started_epoch + wall), keep)
    checks = len(items)
    per_account = Counter(f"{i.carrier}/{i.account_label}" for i in items)
    per_carrier = Counter(i.carrier for i in items)
    per_minute = checks / wall * 60
    # Without added latency (the calibration) the portals bind nothing: no limit, no ratios.
    limit_per_minute = checks / portals["limit_seconds"] * 60 if portals["limit_seconds"] else float("inf")
    return {"workers": workers, "concurrency_per_worker": concurrency, "checks": checks,
            "states": dict(Counter(i.state for i in items)), "differing_from_ground_truth": wrong,
            "wall_seconds": round(wall, 1), "checks_per_minute": round(per_minute, 1),
            "portal_bound_checks_per_minute": round(limit_per_minute, 1),
            "ratio_to_portal_bound": round(per_minute / limit_per_minute, 3),
            "ratio_to_carrier_bound": round(portals["carrier_bound_seconds"] / wall, 3),  # 0 without latency
            "ratio_to_busiest_account": round(portals["busiest_account_seconds"] / wall, 3),
            "requests_per_check": round(portals["requests"] / checks, 2),
            "checks_per_carrier": dict(per_carrier),
            "requests_per_check_per_carrier": {slug: round(portals["requests_per_carrier"][slug] / n, 2)
                                               for slug, n in per_carrier.items()},
            "items_per_account_min_max": [min(per_account.values()), max(per_account.values())],
            "worker_cpu_seconds_per_check": round(cpu / checks, 3),
            "worker_cpu_cores_busy": round(cpu / wall, 2),  # the workers and their Chromium, in cores
            "machine_cores_busy": round((ticks1[0] - ticks0[0]) / max(1, ticks1[1] - ticks0[1]) * (os.cpu_count() or 1), 2),
            "load_average_at_start": load, "load_average_at_end": round(os.getloadavg()[0], 2), **portals}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="1,2,4", help="worker process counts, one run each")
    parser.add_argument("--concurrency", type=int, default=3, help="jobs (so accounts) per worker at once")
    # 12 visits per account: with 4 (48 in all) each account's last item, not the steady state, decided a third
    # of the run (benchmarks/README.md, "Twelve visits per account").
    parser.add_argument("--appointments", type=int, default=144)
    parser.add_argument("--day", choices=("balanced", "even"), default="balanced",
                        help="balanced: each carrier's share of the day in inverse proportion to its portal cost, "
                             "measured first (see calibrate); even: the carriers take turns")
    parser.add_argument("--latency-ms", type=int, default=1500, help="what the sandbox adds to every request")
    parser.add_argument("--keep-logs", type=Path, metavar="DIR",
                        help="keep each run's worker logs (INFO) and the portals' request logs under DIR/<N>-workers/")
    parser.add_argument("--serve-sandbox", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_sandbox:
        return serve_sandbox(args.serve_sandbox)
    from aggregator.logging import configure_logging

    configure_logging("console", "WARNING")
    dataset = bench_dataset()
    runs = []
    from sandbox.appointments import payer_of
    from sandbox.carriers import carrier_slugs

    with sandbox_process(carrier_slugs(), command=serve_sandbox_command, attempts=5) as sandbox:
        urls = sandbox.urls
        allow_every_account(urls)
        accounts = sum(len(dataset.carrier(slug).accounts) for slug in urls)
        worker_counts = [int(n) for n in args.workers.split(",")]
        rows = day_rows(dataset, urls, args.appointments)
        passes: list[dict[str, float]] = []
        if args.day == "balanced":
            rows, passes = balanced_day(rows, urls, dataset, args.appointments, max(worker_counts), args.concurrency)
        shares = dict(Counter(payer_of(row) for row in rows))
        print(f"the {args.day} day: {shares}", flush=True)
        for workers in worker_counts:
            print(f"{workers} worker(s) x {args.concurrency} jobs, {len(rows)} appointments, {accounts} "
                  f"accounts, +{args.latency_ms} ms per request ...", flush=True)
            keep = None
            if args.keep_logs:
                keep = args.keep_logs / f"{workers}-workers"
                keep.mkdir(parents=True, exist_ok=True)
            runs.append(one_run(workers, args.concurrency, rows, urls, dataset, args.latency_ms, keep))
            print(json.dumps(runs[-1]), flush=True)
    base = next((r for r in runs if r["workers"] == 1), None)
    for run in runs:
        if base is not None:
            run["growth_per_worker"] = round(run["checks_per_minute"] / (run["workers"] * base["checks_per_minute"]), 3)
    report = {"benchmark": "scale_out", "machine": machine(), "accounts": accounts,
              "latency": f"+{args.latency_ms} ms per request", "appointments": len(rows),
              "day": {"kind": args.day, "checks_per_carrier": shares, "calibrated_requests_per_check": passes},
              "runs": runs}
    out = ROOT / "benchmarks" / "results" / "scale_out.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(table(runs))
    return 0


def table(runs: list[dict[str, Any]]) -> str:
    lines = ["| workers | checks | wall s | checks/min | portal-bound checks/min | ratio | ratio to carrier bound | "
             "growth per worker | logins | account idle s: before / between / after |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        lines.append(f"| {r['workers']} | {r['checks']} | {r['wall_seconds']} | {r['checks_per_minute']} | "
                     f"{r['portal_bound_checks_per_minute']} | {r['ratio_to_portal_bound']} | {r['ratio_to_carrier_bound']} | "
                     f"{r.get('growth_per_worker', '')} | {r['logins']} | "
                     f"{' / '.join(str(v) for v in r['account_idle_seconds_mean'].values())} |")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
