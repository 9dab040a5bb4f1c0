"""Where the browser's CPU goes: CPU seconds of this process's descendants, by Chromium process type.

Chromium names each helper's role on its command line (`--type=renderer`, `--type=gpu-process`,
`--type=utility --utility-sub-type=network.mojom.NetworkService`, `--type=zygote`); the browser process
has no `--type`. Playwright's driver (Node) is a descendant too and is reported apart. Helpers come and go
(a renderer per site, closed with its context), and a process's CPU is gone from /proc once it has exited,
so a thread samples every descendant's counters a few times a second and keeps the last value seen per pid:
what an exited process spent after its last sample is lost (at most one interval's worth).

    with ChromiumProfile(exclude_pid=sandbox.pid) as profile:
        ... lookups ...
    print(profile.by_type())  # {"renderer": 12.3, "browser": 4.5, ...} CPU seconds
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable

import psutil

SAMPLE_SECONDS = 0.2


def process_type(cmdline: Iterable[str]) -> str:
    """`browser`, `renderer`, `gpu-process`, `utility:<sub-type>`, `zygote`, ..., or `playwright-driver`
    for Playwright's Node process, `other` for anything else."""
    args = list(cmdline)
    if not args:
        return "other"
    program = os.path.basename(args[0])
    if program in ("node", "node.exe") or any("playwright" in a and a.endswith("cli.js") for a in args[:3]):
        return "playwright-driver"
    kind = next((a.split("=", 1)[1] for a in args if a.startswith("--type=")), None)
    if kind is None:
        return "browser" if "chrom" in program or "headless_shell" in program else "other"
    if kind == "utility":
        sub = next((a.split("=", 1)[1] for a in args if a.startswith("--utility-sub-type=")), "")
        return f"utility:{sub.rsplit('.', 1)[-1]}" if sub else "utility"
    return kind


def descendants(root: psutil.Process, exclude_pid: int | None) -> list[psutil.Process]:
    """Every live descendant of `root` except the `exclude_pid` subtree (the sandbox)."""
    found, stack = [], list(root.children())
    while stack:
        process = stack.pop()
        if process.pid == exclude_pid:
            continue
        found.append(process)
        try:
            stack.extend(process.children())
        except psutil.Error:
            continue
    return found


class ChromiumProfile:
    """CPU seconds spent by the descendants of this process (minus `exclude_pid`'s subtree) between
    `__enter__` and `__exit__`, by process type, sampled in a thread."""

    def __init__(self, exclude_pid: int | None = None, root_pid: int | None = None) -> None:
        self._root = psutil.Process(root_pid or os.getpid())
        self._exclude = exclude_pid
        self._start: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._kind: dict[int, str] = {}
        self._created: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._lock = threading.Lock()
        self.sampler_seconds = 0.0  # the sampling thread's own CPU (this process's): subtract it from ours

    def _sample(self) -> dict[int, float]:
        seen: dict[int, float] = {}
        for process in descendants(self._root, self._exclude):
            try:
                with process.oneshot():
                    times = process.cpu_times()
                    key = process.pid
                    created = process.create_time()
                    if self._created.get(key) not in (None, created):  # pid reused: a new process
                        self._start.pop(key, None)
                        self._last.pop(key, None)
                    if key not in self._kind or self._created.get(key) != created:
                        self._kind[key] = process_type(process.cmdline())
                        self._created[key] = created
                    seen[key] = times.user + times.system
            except psutil.Error:
                continue
        with self._lock:
            self._last.update(seen)
        return seen

    def _run(self) -> None:
        started = time.thread_time()
        while not self._stop.wait(SAMPLE_SECONDS):
            self._sample()
        self.sampler_seconds = time.thread_time() - started

    def __enter__(self) -> ChromiumProfile:
        self._start = dict(self._sample())
        self._last = dict(self._start)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def by_type(self) -> dict[str, float]:
        """CPU seconds per process type over the profiled span, largest first."""
        totals: dict[str, float] = {}
        with self._lock:
            for pid, last in self._last.items():
                spent = last - self._start.get(pid, 0.0)
                kind = self._kind.get(pid, "other")
                totals[kind] = totals.get(kind, 0.0) + spent
        return dict(sorted(totals.items(), key=lambda item: -item[1]))

    def processes(self) -> dict[str, int]:
        """How many processes of each type were seen."""
        counts: dict[str, int] = {}
        for kind in self._kind.values():
            counts[kind] = counts.get(kind, 0) + 1
        return counts

    def started(self) -> dict[str, int]:
        """How many processes of each type started while profiling (a new renderer per navigation shows here)."""
        counts: dict[str, int] = {}
        for pid, kind in self._kind.items():
            if pid not in self._start:
                counts[kind] = counts.get(kind, 0) + 1
        return counts

    def chromium_seconds(self) -> float:
        """Chromium alone: every type but Playwright's driver and unrelated processes."""
        return sum(v for k, v in self.by_type().items() if k not in ("playwright-driver", "other"))
