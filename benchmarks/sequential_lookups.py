"""Sequential eligibility lookups against the sandbox: seconds and CPU seconds per lookup.

The sandbox runs in its own process so the CPU measured for the aggregator is the aggregator's only;
Chromium's CPU (the browser and its helpers, descendants of this process) is reported beside it.
Results are printed and written to benchmarks/results/sequential_lookups.json.

    .venv/bin/python benchmarks/sequential_lookups.py --lookups 40
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def machine() -> dict[str, object]:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    return {"cpu": model, "cores": os.cpu_count(), "python": platform.python_version(), "system": platform.platform()}


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
    walls, cpus = [], []
    async with Runner.open(settings, base_urls={"ridgeline": base_url}, respect_maintenance_windows=False) as runner:
        browser_cpu_start = descendant_cpu_seconds(os.getpid(), exclude=sandbox_pid)
        started = time.perf_counter()
        for sample in samples:
            t0, c0 = time.perf_counter(), time.process_time()
            result = await runner.eligibility("ridgeline", sample.query, account_label="frontdesk", source="bench")
            walls.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
            assert result.outcome.value in ("found", "not_found"), result.reason
        total_wall = time.perf_counter() - started
        browser_cpu = descendant_cpu_seconds(os.getpid(), exclude=sandbox_pid) - browser_cpu_start
        logins = sum(runner.logins_performed(a.account_id) for a in runner.vault.accounts("ridgeline"))
    walls_sorted = sorted(walls)
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
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lookups", type=int, default=40)
    args = parser.parse_args()
    port = free_port()
    sandbox = subprocess.Popen([sys.executable, "-m", "aggregator", "sandbox", "up", "--port-base", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{base_url}/_sandbox/health", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        with tempfile.TemporaryDirectory(prefix="bench-") as data_dir:
            results = asyncio.run(measure(args.lookups, base_url, Path(data_dir), sandbox.pid))
    finally:
        sandbox.terminate()
        sandbox.wait(10)
    report = {"benchmark": "sequential_lookups", "machine": machine(), "results": results}
    out = ROOT / "benchmarks" / "results" / "sequential_lookups.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
