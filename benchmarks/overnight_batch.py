"""The overnight batch at scale: 300 appointments over every sandbox carrier and the sandbox hub (a sixth of
them for the payers reached only through the hub), 2 accounts per portal, with the sandbox adding 250 ms
(+/- 50 ms) to every request (the hub's identity provider too).

Reports wall time, checks per minute, p50/p95 seconds per check, logins, CPU seconds per check
(our Python, Chromium and the sandbox apart), peak memory (aggregator + Chromium), and two comparisons:

- the portal-bound limit, from the sandbox's own request log: per portal account, the sum of the
  latency the sandbox added to its requests, those made before login included (an account's requests
  are sequential, so no run can be faster than its busiest account), plus, on a portal that wants a pause
  between two searches (the hub), that pause between each two of the account's searches; limit / wall
  says how close the run comes to it. Beside it, the same limit with the portal's own drawing time: a
  single-page app (BluePeak) waits before it draws what the API answered, and reports that wait with its
  next request (`drawn_ms` in the log; a wait after an account's last request is not reported, so this
  limit can only be too low, never too high);
- a naive baseline: a fresh browser context and a login for every check (same accounts, same
  parallelism), on a sample; the ratio of checks per minute, and the time its logins spent waiting
  for a fresh 30-second TOTP step reported apart.

A "check" is one appointment: eligibility on the date of service, plus the authorization list and the
three answers when the visit names procedures or a service type. The sandbox runs in its own process.

    .venv/bin/python benchmarks/overnight_batch.py --appointments 300 --naive-per-account 4
    .venv/bin/python benchmarks/overnight_batch.py --appointments 60 --skip-naive --profile /tmp/batch.prof
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.sandbox_process import control, sandbox_process  # noqa: E402
from benchmarks.sequential_lookups import (  # noqa: E402
    descendant_cpu_seconds,
    machine,
    process_tree_cpu_seconds,
    write_report,
)

DAY = date(2026, 12, 1)
HUB_SHARE = 6  # one appointment in six is for a payer reached only through the hub
LATENCY = {"latency_ms": 200, "jitter_ms": 100}  # 200 + uniform 0..100 = 250 +/- 50 ms


class PeakMemory:
    """Samples the proportional set size (PSS: shared pages split between the processes sharing them,
    so Chromium's many processes are not counted several times) of this process plus every descendant
    except the sandbox, every 2 s. It runs in a thread of this process, so the CPU it spends itself
    (`cpu_seconds`: the kernel walks every Chromium process's page tables for it) is taken out of our
    Python's; every 0.5 s it cost more CPU than our Python did."""

    def __init__(self, exclude_pid: int) -> None:
        self.exclude, self.peak, self._stop = exclude_pid, 0, threading.Event()
        self.cpu_seconds = 0.0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self._sample()
        finally:
            self.cpu_seconds = time.thread_time()

    def _sample(self) -> None:
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
            self._stop.wait(2.0)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def attribute_requests(entries: list[dict], field: str = "latency_ms") -> tuple[dict[str, float], float, int]:
    """Seconds of added latency (or of another per-request field in ms, e.g. `drawn_ms`) per portal account,
    and what could not be given to one (seconds, requests); which account each request belongs to is
    `request_owners`."""
    per_account: dict[str, float] = {}
    unattributed, unattributed_count = 0.0, 0
    for entry, username in zip(entries, request_owners(entries), strict=True):
        if username:
            per_account[username] = per_account.get(username, 0.0) + entry.get(field, 0) / 1000
        else:
            unattributed += entry.get(field, 0) / 1000
            unattributed_count += 1
    return per_account, unattributed, unattributed_count


def request_owners(entries: list[dict]) -> list[str | None]:
    """The portal account of each logged request, or None.

    A request names its account once the portal knows who is logged in; the ones before (the login
    page, its scripts and favicon, a single-page app's session probe) name none. When the sandbox logs
    with each request the session it carried (`session`, a digest), the session its response set
    (`new_session`) and its connection (`client`), requests joined by any of these (a login page's
    session is the one the login form posts with; a browser context's connections are its own) belong
    to the account named in that group, if exactly one is. Without those fields they stay unattributed."""
    parent: dict[str, str] = {}

    def find(node: str) -> str:
        while parent.setdefault(node, node) != node:
            parent[node] = node = parent[parent[node]]
        return node

    def nodes(entry: dict) -> list[str]:
        sessions = [f"session:{entry[kind]}" for kind in ("session", "new_session") if entry.get(kind)]
        return sessions + ([f"client:{entry['client']}"] if entry.get("client") else [])

    for entry in entries:
        linked = nodes(entry)
        for node in linked[1:]:
            parent[find(node)] = find(linked[0])
    names: dict[str, set[str]] = {}
    for entry in entries:
        if entry["username"]:
            for node in nodes(entry):
                names.setdefault(find(node), set()).add(entry["username"])
    owners: list[str | None] = []
    for entry in entries:
        username = entry["username"]
        if not username:
            found = set().union(*(names.get(find(node), set()) for node in nodes(entry)))
            username = next(iter(found)) if len(found) == 1 else None
        owners.append(username)
    return owners


def portal_bound_limit(urls: dict[str, str], idp_urls: dict[str, str] | None = None) -> dict[str, object]:
    from aggregator.scrapers.registry import adapter_for

    per_account: dict[str, float] = {}
    pauses: dict[str, float] = {}
    drawing: dict[str, float] = {}
    unattributed, unattributed_count, before_login = 0.0, 0, 0.0
    for slug, url in urls.items():
        stats = control(url, "stats")
        entries = list(stats["requests"])
        if idp_urls and slug in idp_urls:  # the hub's sign-in happens at its identity provider
            entries += control(idp_urls[slug], "stats")["requests"]
        named = sum(e["latency_ms"] for e in entries if e["username"]) / 1000
        accounts, lost, lost_count = attribute_requests(entries)
        drawn, _, _ = attribute_requests(entries, "drawn_ms")
        drawing.update({f"{slug}/{name}": seconds for name, seconds in drawn.items() if seconds})
        pause = adapter_for(slug).manifest.limits.min_seconds_between_searches
        for name, user in (stats.get("users") or {}).items():  # a hub counts each user's searches
            if pause and user.get("searches_total"):
                pauses[f"{slug}/{name}"] = pause * (user["searches_total"] - 1)
        per_account.update({f"{slug}/{name}": seconds for name, seconds in accounts.items()})
        unattributed, unattributed_count = unattributed + lost, unattributed_count + lost_count
        before_login += max(0.0, sum(accounts.values()) - named)
    limit = max(seconds + pauses.get(account, 0.0) for account, seconds in per_account.items())
    with_drawing = max(seconds + pauses.get(account, 0.0) + drawing.get(account, 0.0)
                       for account, seconds in per_account.items())
    return {"portal_bound_limit_seconds": round(limit, 2),
            "portal_bound_limit_with_drawing_seconds": round(with_drawing, 2),
            "latency_seconds_per_account": {k: round(v, 1) for k, v in sorted(per_account.items())},
            "search_pause_seconds_per_account": {k: round(v, 1) for k, v in sorted(pauses.items())},
            "drawing_seconds_per_account": {k: round(v, 1) for k, v in sorted(drawing.items())},
            "latency_seconds_before_login": round(before_login, 1),
            "latency_seconds_unattributed": round(unattributed, 1), "requests_unattributed": unattributed_count}


class TotpWaits:
    """Sums the time logins wait for a fresh 30-second TOTP step (the runner's TotpCodes sleeps for it),
    per portal account when the caller names the account (`account`)."""

    account: contextvars.ContextVar[str | None] = contextvars.ContextVar("totp_waits_account", default=None)

    def __init__(self) -> None:
        self.seconds: dict[str | None, float] = {}

    async def sleep(self, seconds: float) -> None:
        started = time.perf_counter()
        await asyncio.sleep(seconds)
        key = self.account.get()
        self.seconds[key] = self.seconds.get(key, 0.0) + time.perf_counter() - started

    def install(self, runner) -> None:  # type: ignore[no-untyped-def]
        from vault import TotpCodes

        runner.totp = TotpCodes(sleep=self.sleep)

    @property
    def total(self) -> float:
        return sum(self.seconds.values())


def profile_report(profile: cProfile.Profile, checks: int, top: int = 25) -> str:
    """The profile's top functions by cumulative and by own CPU time, in CPU-ms per check."""
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    rows = []
    for (path, line, name), (_, calls, own, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        short = path.replace(str(ROOT) + "/", "").replace(str(Path(sys.prefix)), "<venv>")
        rows.append((f"{short}:{line}({name})", calls, own, cumulative))
    lines = []
    for title, key in (("cumulative", 3), ("own", 2)):
        lines.append(f"top {top} by {title} CPU time, ms per check (calls per check)")
        for label, calls, own, cumulative in sorted(rows, key=lambda r: -r[key])[:top]:
            lines.append(f"  {cumulative / checks * 1000:8.2f} cum {own / checks * 1000:8.2f} own "
                         f"{calls / checks:8.1f}  {label}")
    return "\n".join(lines)


def prepare(data_dir: Path, urls: dict[str, str], count: int):  # type: ignore[no-untyped-def]
    from rich.console import Console

    from aggregator.overnight.appointments import import_appointments
    from aggregator.settings import Settings
    from aggregator.store import Repository
    from sandbox.appointments import appointment_list, hub_day, with_hub_visits, write_csv
    from sandbox.dataset import generate_dataset
    from sandbox.demo import demo_hub_payers, vault_accounts

    settings = Settings(data_dir=data_dir, respect_maintenance_windows=False)
    settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    dataset = generate_dataset()
    vault_accounts(settings, dataset, Console(quiet=True), carriers=tuple(urls))
    hub_payers = demo_hub_payers(tuple(urls))
    hub_count = count // HUB_SHARE if hub_payers else 0
    own_sites = tuple(slug for slug in urls if slug in dataset.carriers)
    rows = appointment_list(dataset, DAY, count - hub_count, carriers=own_sites)
    if hub_count:
        rows = with_hub_visits(rows, hub_day(dataset, DAY, hub_count, hub_payers))
    report = import_appointments(Repository.open(settings.resolved_database_url), write_csv(rows, data_dir / "day.csv"))
    assert not report.problems, report.problems[:3]
    return settings


async def batch(settings, urls: dict[str, str], sandbox_pid: int,  # type: ignore[no-untyped-def]
                profile_to: Path | None = None) -> dict[str, object]:
    from aggregator.overnight.batch import BatchOptions, BatchRun
    from aggregator.runner import Runner
    from aggregator.store import batches

    async with Runner.open(settings, base_urls=urls) as runner:
        waits = TotpWaits()
        waits.install(runner)
        chromium_cpu0 = descendant_cpu_seconds(os.getpid(), exclude=sandbox_pid)
        sandbox_cpu0 = process_tree_cpu_seconds(sandbox_pid)
        profile = cProfile.Profile(time.process_time) if profile_to else None
        cpu0, started = time.process_time(), time.perf_counter()
        with PeakMemory(sandbox_pid) as memory:
            if profile is not None:
                profile.enable()
            summary = await BatchRun(runner, DAY, trigger="bench", options=BatchOptions(retry_base_seconds=1)).run()
            if profile is not None:
                profile.disable()
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu0 - memory.cpu_seconds
        chromium_cpu = descendant_cpu_seconds(os.getpid(), exclude=sandbox_pid) - chromium_cpu0
        sandbox_cpu = process_tree_cpu_seconds(sandbox_pid) - sandbox_cpu0
        items = batches.items_on(runner.repository, DAY)
        from sandbox.batch_truth import item_problems
        from sandbox.dataset import generate_dataset

        dataset = generate_dataset()
        wrong = sum(1 for i in items if item_problems(runner.repository, dataset, i,
                                                      batches.get_appointment(runner.repository, i.appointment_id)))
    per_check = sorted((batches.aware(i.finished_at) - batches.aware(i.started_at)).total_seconds()
                       for i in items if i.started_at and i.finished_at)
    checks = len(items)
    if profile is not None and profile_to is not None:
        profile.dump_stats(profile_to)
        report = profile_report(profile, checks)
        profile_to.with_suffix(".txt").write_text(report + "\n")
        print(report, flush=True)
    return {
        "checks": checks, "states": dict(summary.counts), "differing_from_ground_truth": wrong,
        "logins": summary.logins, "totp_wait_seconds": round(waits.total, 1),
        "wall_seconds": round(wall, 2), "checks_per_minute": round(checks / wall * 60, 1),
        "p50_seconds_per_check": round(statistics.median(per_check), 3),
        "p95_seconds_per_check": round(per_check[int(0.95 * (len(per_check) - 1))], 3),
        "aggregator_cpu_seconds_per_check": round(cpu / checks, 4),
        "chromium_cpu_seconds_per_check": round(chromium_cpu / checks, 4),
        "sandbox_cpu_seconds_per_check": round(sandbox_cpu / checks, 4),
        "cpu_seconds_total": {"aggregator": round(cpu, 1), "chromium": round(chromium_cpu, 1),
                              "sandbox": round(sandbox_cpu, 1),
                              "memory_sampler (benchmark's own, not counted)": round(memory.cpu_seconds, 1)},
        "peak_memory_mib": round(memory.peak / 2**20, 1),
        "profiled": profile is not None,
    }


async def naive(settings, urls: dict[str, str], per_account: int) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """A fresh context and a login for every check, each account working its share in parallel."""
    from aggregator.overnight.batch import job_for, run_job
    from aggregator.runner import Runner
    from aggregator.scrapers.routing import portal_of
    from aggregator.store import batches

    async with Runner.open(settings, base_urls=urls) as runner:
        waits = TotpWaits()
        waits.install(runner)
        busy: dict[str, float] = {}
        batches.ensure_items(runner.repository, DAY)
        appointments = {a.id: a for a in batches.appointments_on(runner.repository, DAY)}
        items = batches.items_on(runner.repository, DAY)
        work = []
        for slug in urls:
            accounts = runner.vault.accounts(slug)
            mine = [i for i in items if portal_of(i.carrier) == slug][: per_account * len(accounts)]
            for n, account in enumerate(accounts):
                work.append((account, mine[n::len(accounts)]))

        async def one_account(account, share) -> None:  # type: ignore[no-untyped-def]
            TotpWaits.account.set(account.account_id)  # this task's TOTP waits are this account's
            started = time.perf_counter()
            for item in share:
                await runner.forget_session(account.account_id)  # fresh context, fresh login
                job = job_for(item, appointments[item.appointment_id], account.label, portal_of(item.carrier))
                outcome = await run_job(runner, job)
                assert outcome.state is not None, outcome.reason
            busy[account.account_id] = time.perf_counter() - started

        started = time.perf_counter()
        await asyncio.gather(*(one_account(account, share) for account, share in work))
        wall = time.perf_counter() - started
        checks = sum(len(share) for _, share in work)
        logins = sum(runner.logins_performed(a.account_id) for a, _ in work)
    # Without the TOTP waits: the busiest account's time less its own waits (accounts run in parallel).
    working = max(seconds - waits.seconds.get(account_id, 0.0) for account_id, seconds in busy.items())
    return {"checks": checks, "logins": logins, "wall_seconds": round(wall, 2),
            "checks_per_minute": round(checks / wall * 60, 1),
            "totp_wait_seconds_total": round(waits.total, 1),
            "totp_wait_seconds_per_login": round(waits.total / max(1, logins), 2),
            "checks_per_minute_without_totp_waits": round(checks / working * 60, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appointments", type=int, default=300)
    parser.add_argument("--naive-per-account", type=int, default=4, help="naive-baseline checks per account")
    parser.add_argument("--skip-naive", action="store_true", help="the batch only (profiling)")
    parser.add_argument("--profile", type=Path, metavar="PATH",
                        help="cProfile our Python in the batch (CPU time) to PATH, and its top functions to PATH.txt")
    args = parser.parse_args()
    from aggregator.logging import configure_logging
    from aggregator.scrapers.registry import adapter_for
    from sandbox.demo import demo_portals
    from sandbox.server import idp_port

    configure_logging("console", "WARNING")
    slugs = list(demo_portals())
    with sandbox_process(slugs) as sandbox:
        urls = sandbox.urls
        idp_urls = {slug: f"http://127.0.0.1:{idp_port(slug, int(url.rsplit(':', 1)[1]))}"
                    for slug, url in urls.items() if adapter_for(slug).manifest.is_hub}

        def reset_portals() -> None:
            for url in (*urls.values(), *idp_urls.values()):
                control(url, "reset")
                control(url, "faults", LATENCY)

        reset_portals()
        with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
            settings = prepare(Path(tmp) / "batch", urls, args.appointments)
            print(f"batch: {args.appointments} appointments over {', '.join(slugs)} ...", flush=True)
            results = asyncio.run(batch(settings, urls, sandbox.pid, args.profile))
            results.update(portal_bound_limit(urls, idp_urls))
            results["limit_over_wall"] = round(
                results["portal_bound_limit_seconds"] / results["wall_seconds"], 3)  # type: ignore[operator]
            results["limit_with_drawing_over_wall"] = round(
                results["portal_bound_limit_with_drawing_seconds"] / results["wall_seconds"], 3)  # type: ignore[operator]
            if not args.skip_naive:
                reset_portals()
                print("naive baseline ...", flush=True)
                naive_settings = prepare(Path(tmp) / "naive", urls, args.appointments)
                sandbox_cpu0 = process_tree_cpu_seconds(sandbox.pid)
                baseline = asyncio.run(naive(naive_settings, urls, args.naive_per_account))
                baseline["sandbox_cpu_seconds_per_check"] = round(
                    (process_tree_cpu_seconds(sandbox.pid) - sandbox_cpu0) / baseline["checks"], 4)  # type: ignore[operator]
                baseline.update(portal_bound_limit(urls, idp_urls))
                results["naive"] = baseline
                results["speedup_over_naive"] = round(
                    results["checks_per_minute"] / baseline["checks_per_minute"], 1)  # type: ignore[operator]
                results["speedup_over_naive_without_its_totp_waits"] = round(
                    results["checks_per_minute"] / baseline["checks_per_minute_without_totp_waits"], 1)  # type: ignore[operator]
    report = {"benchmark": "overnight_batch", "machine": machine(), "latency": "250 +/- 50 ms per request",
              "results": results}
    name = "overnight_batch_profiled" if args.profile else "overnight_batch"
    write_report(report, ROOT / "benchmarks" / "results" / f"{name}.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
