"""The overnight batch at scale: 300 appointments over every sandbox carrier, 2 accounts per carrier,
with the sandbox adding 250 ms (+/- 50 ms) to every request.

Reports wall time, checks per minute, p50/p95 seconds per check, logins, CPU seconds per check
(aggregator and Chromium apart), peak memory (aggregator + Chromium), and two comparisons:

- the portal-bound limit, from the sandbox's own request log: per portal account, the sum of the
  latency the sandbox added to its requests (an account's requests are sequential, so no run can be
  faster than its busiest account); the ratio limit / wall time says how close the run comes to it;
- a naive baseline: a fresh browser context and a login for every check (same accounts, same
  parallelism), on a sample; the ratio of checks per minute.

A "check" is one appointment: eligibility on the date of service, plus the authorization list and the
three answers when the visit names procedures or a service type. The sandbox runs in its own process.

    .venv/bin/python benchmarks/overnight_batch.py --appointments 300 --naive-per-account 4
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import date
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.sequential_lookups import descendant_cpu_seconds, free_port, machine  # noqa: E402

DAY = date(2026, 12, 1)
LATENCY = {"latency_ms": 200, "jitter_ms": 100}  # 200 + uniform 0..100 = 250 +/- 50 ms


class PeakMemory:
    """Samples the proportional set size (PSS: shared pages split between the processes sharing them,
    so Chromium's many processes are not counted several times) of this process plus every descendant
    except the sandbox, every 0.5 s."""

    def __init__(self, exclude_pid: int) -> None:
        self.exclude, self.peak, self._stop = exclude_pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = me.memory_full_info().pss
            for child in me.children(recursive=True):
                try:
                    if child.pid != self.exclude and self.exclude not in [p.pid for p in child.parents()]:
                        total += child.memory_full_info().pss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            self._stop.wait(0.5)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def control(url: str, path: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{url}/_sandbox/{path}", data=data, method="POST" if data is not None or
                                     path == "reset" else "GET", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"{}")


def portal_bound_limit(urls: dict[str, str]) -> tuple[float, dict[str, float]]:
    per_account: dict[str, float] = {}
    for slug, url in urls.items():
        for entry in control(url, "stats")["requests"]:
            if entry["username"]:
                key = f"{slug}/{entry['username']}"
                per_account[key] = per_account.get(key, 0.0) + entry["latency_ms"] / 1000
    return max(per_account.values()), per_account


def prepare(data_dir: Path, urls: dict[str, str], count: int):  # type: ignore[no-untyped-def]
    from rich.console import Console

    from aggregator.overnight.appointments import import_appointments
    from aggregator.settings import Settings
    from aggregator.store import Repository
    from sandbox.appointments import appointment_list, write_csv
    from sandbox.dataset import generate_dataset
    from sandbox.demo import vault_accounts

    settings = Settings(data_dir=data_dir, respect_maintenance_windows=False)
    settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    dataset = generate_dataset()
    vault_accounts(settings, dataset, Console(quiet=True), carriers=tuple(urls))
    rows = appointment_list(dataset, DAY, count, carriers=tuple(urls))
    report = import_appointments(Repository.open(settings.resolved_database_url), write_csv(rows, data_dir / "day.csv"))
    assert not report.problems, report.problems[:3]
    return settings


async def batch(settings, urls: dict[str, str], sandbox_pid: int) -> dict[str, object]:  # type: ignore[no-untyped-def]
    from aggregator.overnight.batch import BatchOptions, BatchRun
    from aggregator.runner import Runner
    from aggregator.store import batches

    async with Runner.open(settings, base_urls=urls) as runner:
        chromium_cpu0 = descendant_cpu_seconds(os.getpid(), exclude=sandbox_pid)
        cpu0, started = time.process_time(), time.perf_counter()
        with PeakMemory(sandbox_pid) as memory:
            summary = await BatchRun(runner, DAY, trigger="bench", options=BatchOptions(retry_base_seconds=1)).run()
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu0
        chromium_cpu = descendant_cpu_seconds(os.getpid(), exclude=sandbox_pid) - chromium_cpu0
        items = batches.items_on(runner.repository, DAY)
        from sandbox.batch_truth import item_problems
        from sandbox.dataset import generate_dataset

        dataset = generate_dataset()
        wrong = sum(1 for i in items if item_problems(runner.repository, dataset, i,
                                                      batches.get_appointment(runner.repository, i.appointment_id)))
    per_check = sorted((batches.aware(i.finished_at) - batches.aware(i.started_at)).total_seconds()
                       for i in items if i.started_at and i.finished_at)
    checks = len(items)
    return {
        "checks": checks, "states": dict(summary.counts), "differing_from_ground_truth": wrong,
        "logins": summary.logins,
        "wall_seconds": round(wall, 2), "checks_per_minute": round(checks / wall * 60, 1),
        "p50_seconds_per_check": round(statistics.median(per_check), 3),
        "p95_seconds_per_check": round(per_check[int(0.95 * (len(per_check) - 1))], 3),
        "aggregator_cpu_seconds_per_check": round(cpu / checks, 4),
        "chromium_cpu_seconds_per_check": round(chromium_cpu / checks, 4),
        "peak_memory_mib": round(memory.peak / 2**20, 1),
    }


async def naive(settings, urls: dict[str, str], per_account: int) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """A fresh context and a login for every check, each account working its share in parallel."""
    from aggregator.overnight.batch import job_for, run_job
    from aggregator.runner import Runner
    from aggregator.store import batches

    async with Runner.open(settings, base_urls=urls) as runner:
        batches.ensure_items(runner.repository, DAY)
        appointments = {a.id: a for a in batches.appointments_on(runner.repository, DAY)}
        items = batches.items_on(runner.repository, DAY)
        work = []
        for slug in urls:
            accounts = runner.vault.accounts(slug)
            mine = [i for i in items if i.carrier == slug][: per_account * len(accounts)]
            for n, account in enumerate(accounts):
                work.append((account, mine[n::len(accounts)]))

        async def one_account(account, share) -> None:  # type: ignore[no-untyped-def]
            for item in share:
                await runner.forget_session(account.account_id)  # fresh context, fresh login
                outcome = await run_job(runner, job_for(item, appointments[item.appointment_id], account.label))
                assert outcome.state is not None, outcome.reason

        started = time.perf_counter()
        await asyncio.gather(*(one_account(account, share) for account, share in work))
        wall = time.perf_counter() - started
        checks = sum(len(share) for _, share in work)
        logins = sum(runner.logins_performed(a.account_id) for a, _ in work)
    return {"checks": checks, "logins": logins, "wall_seconds": round(wall, 2),
            "checks_per_minute": round(checks / wall * 60, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appointments", type=int, default=300)
    parser.add_argument("--naive-per-account", type=int, default=4, help="naive-baseline checks per account")
    args = parser.parse_args()
    from aggregator.logging import configure_logging
    from sandbox.demo import demo_carriers
    from sandbox.server import ports_from

    configure_logging("console", "WARNING")
    port = free_port()
    slugs = list(demo_carriers())
    urls = {s: f"http://127.0.0.1:{p}" for s, p in ports_from(port, slugs).items()}
    sandbox = subprocess.Popen([sys.executable, "-m", "aggregator", "sandbox", "up", "--port-base", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    try:
        for url in urls.values():
            for _ in range(300):
                try:
                    control(url, "health")
                    break
                except OSError:
                    time.sleep(0.1)
        for url in urls.values():
            control(url, "reset")
            control(url, "faults", LATENCY)
        with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
            settings = prepare(Path(tmp) / "batch", urls, args.appointments)
            print(f"batch: {args.appointments} appointments over {', '.join(slugs)} ...", flush=True)
            results = asyncio.run(batch(settings, urls, sandbox.pid))
            limit, per_account = portal_bound_limit(urls)
            results["portal_bound_limit_seconds"] = round(limit, 2)
            results["limit_over_wall"] = round(limit / results["wall_seconds"], 3)  # type: ignore[operator]
            results["latency_seconds_per_account"] = {k: round(v, 1) for k, v in sorted(per_account.items())}
            for url in urls.values():
                control(url, "reset")
                control(url, "faults", LATENCY)
            print("naive baseline ...", flush=True)
            naive_settings = prepare(Path(tmp) / "naive", urls, args.appointments)
            baseline = asyncio.run(naive(naive_settings, urls, args.naive_per_account))
            results["naive"] = baseline
            results["speedup_over_naive"] = round(
                results["checks_per_minute"] / baseline["checks_per_minute"], 1)  # type: ignore[operator]
    finally:
        sandbox.terminate()
        sandbox.wait(10)
    report = {"benchmark": "overnight_batch", "machine": machine(), "latency": "250 +/- 50 ms per request",
              "results": results}
    out = ROOT / "benchmarks" / "results" / "overnight_batch.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
