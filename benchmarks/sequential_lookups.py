"""Sequential eligibility lookups against the sandbox: seconds and CPU seconds per lookup.

The sandbox runs in its own process so the CPU measured for the aggregator is the aggregator's only;
Chromium's CPU (the browser and its helpers, descendants of this process) and the sandbox's are
reported beside it. With `--latency-ms N` the sandbox adds N ms to every request, and each lookup's
*portal time* (the latency the sandbox added to that lookup's requests, from its own log) is reported
beside its wall time, so "warm lookup p95 <= the portal's own time + 0.5 s" can be read off.
Results are printed and written to benchmarks/results/sequential_lookups[_latencyN].json.

    .venv/bin/python benchmarks/sequential_lookups.py --lookups 40
    .venv/bin/python benchmarks/sequential_lookups.py --lookups 40 --latency-ms 250
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.sandbox_process import control, sandbox_process  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def descendant_cpu_seconds(pid: int, exclude: int | None = None) -> float:
    """utime + stime of every live descendant of `pid` (Linux /proc), without the `exclude` subtree."""
    children: dict[int, list[int]] = {}
    cpu: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
        cpu[int(entry.name)] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    total, stack = 0.0, list(children.get(pid, []))
    while stack:
        child = stack.pop()
        if child == exclude:
            continue
        total += cpu.get(child, 0.0)
        stack.extend(children.get(child, []))
    return total


def process_tree_cpu_seconds(pid: int) -> float:
    """utime + stime of `pid` itself and of every live descendant (the sandbox: its server and helpers)."""
    try:
        fields = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS + descendant_cpu_seconds(pid)


def machine() -> dict[str, object]:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    return {"cpu": model, "cores": os.cpu_count(), "python": platform.python_version(), "system": platform.platform()}


def write_report(report: dict[str, object], out: Path) -> None:
    """Write a benchmark's results to `out` (benchmarks/results/, not committed) and print them."""
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


def added_latency_seconds(base_url: str) -> float:
    """What the sandbox has added to requests so far, from its own request log."""
    with urllib.request.urlopen(f"{base_url}/_sandbox/stats", timeout=10) as response:
        return json.loads(response.read())["totals"]["added_latency_ms"] / 1000


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[int(share * (len(ordered) - 1))]


async def measure(lookups: int, base_url: str, data_dir: Path, sandbox_pid: int) -> dict[str, object]:
    sys.path.insert(0, str(ROOT))
    from rich.console import Console

    from aggregator.logging import configure_logging
    from aggregator.runner import Runner
    from aggregator.settings import Settings
    from sandbox.dataset import generate_dataset
    from sandbox.demo import vault_accounts
    from sandbox.ground_truth import sample_members

    configure_logging("console", "WARNING")
    settings = Settings(data_dir=data_dir)
    dataset = generate_dataset()
    vault_accounts(settings, dataset, Console(quiet=True))
    samples = sample_members(dataset, "ridgeline", lookups)
    walls, cpus, portal = [], [], []
    async with Runner.open(settings, base_urls={"ridgeline": base_url}, respect_maintenance_windows=False) as runner:
        browser_cpu_start = descendant_cpu_seconds(os.getpid(), exclude=sandbox_pid)
        sandbox_cpu_start = process_tree_cpu_seconds(sandbox_pid)
        started = time.perf_counter()
        for sample in samples:
            latency0 = added_latency_seconds(base_url)
            t0, c0 = time.perf_counter(), time.process_time()
            result = await runner.eligibility("ridgeline", sample.query, account_label="frontdesk", source="bench")
            walls.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
            portal.append(added_latency_seconds(base_url) - latency0)
            assert result.outcome.value in ("found", "not_found"), result.reason
        total_wall = time.perf_counter() - started
        browser_cpu = descendant_cpu_seconds(os.getpid(), exclude=sandbox_pid) - browser_cpu_start
        sandbox_cpu = process_tree_cpu_seconds(sandbox_pid) - sandbox_cpu_start
        logins = sum(runner.logins_performed(a.account_id) for a in runner.vault.accounts("ridgeline"))
    walls_sorted = sorted(walls)
    warm, warm_portal = walls[1:], portal[1:]  # after the first lookup's login
    overhead = [w - p for w, p in zip(warm, warm_portal, strict=True)]
    return {
        "lookups": lookups,
        "logins": logins,
        "wall_seconds_total": round(total_wall, 3),
        "median_seconds_per_lookup": round(statistics.median(walls), 4),
        "median_seconds_per_lookup_after_login": round(statistics.median(walls[1:]), 4),
        "p95_seconds_per_lookup": round(walls_sorted[int(0.95 * (len(walls) - 1))], 4),
        "first_lookup_seconds_incl_login": round(walls[0], 4),
        "aggregator_cpu_seconds_per_lookup": round(sum(cpus) / lookups, 4),
        "browser_cpu_seconds_per_lookup": round(browser_cpu / lookups, 4),
        "sandbox_cpu_seconds_per_lookup": round(sandbox_cpu / lookups, 4),
        "warm_lookup_p50_seconds": round(statistics.median(warm), 3),
        "warm_lookup_p95_seconds": round(percentile(warm, 0.95), 3),
        "portal_seconds_per_warm_lookup_p50": round(statistics.median(warm_portal), 3),
        "portal_seconds_per_warm_lookup_p95": round(percentile(warm_portal, 0.95), 3),
        "warm_lookup_minus_portal_seconds_p50": round(statistics.median(overhead), 3),
        "warm_lookup_minus_portal_seconds_p95": round(percentile(overhead, 0.95), 3),
        # the on-demand goal: warm p95 at most the portal's own time (its p95) + 0.5 s
        "warm_p95_within_portal_time_plus_half_second": percentile(warm, 0.95) <= percentile(warm_portal, 0.95) + 0.5,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lookups", type=int, default=40)
    parser.add_argument("--latency-ms", type=int, default=0, help="the sandbox adds this to every request")
    args = parser.parse_args()
    with sandbox_process(["ridgeline"]) as sandbox:
        base_url = sandbox.urls["ridgeline"]
        control(base_url, "faults", {"latency_ms": args.latency_ms, "jitter_ms": 0})
        with tempfile.TemporaryDirectory(prefix="bench-") as data_dir:
            results = asyncio.run(measure(args.lookups, base_url, Path(data_dir), sandbox.pid))
    report = {"benchmark": "sequential_lookups", "machine": machine(), "latency_ms_per_request": args.latency_ms,
              "results": results}
    name = f"sequential_lookups_latency{args.latency_ms}" if args.latency_ms else "sequential_lookups"
    write_report(report, ROOT / "benchmarks" / "results" / f"{name}.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
