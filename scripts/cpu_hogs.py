"""Run a command while other processes keep every CPU core busy (the "under load" test mode).

    python scripts/cpu_hogs.py --procs 2 -- python -m pytest -m e2e

Starts `--procs` busy-looping processes, runs the command beside them, stops the hogs when it ends and
exits with the command's exit code. A hog also stops by itself when the process that started it is
gone (a killed parent never leaves a core spinning) or after `--max-seconds`, whichever comes first.
The hogs run at normal priority: the point is that the code under test must not assume a fast machine.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time


def hog(parent: int, deadline: float) -> None:
    """Spin until the parent is gone or the deadline passed (checked every few milliseconds of work)."""
    while time.monotonic() < deadline and os.getppid() == parent:
        for _ in range(20_000):
            pass


def start_hogs(count: int, max_seconds: float) -> list[subprocess.Popen[bytes]]:
    return [subprocess.Popen([sys.executable, __file__, "--hog", "--parent", str(os.getpid()),
                              "--max-seconds", str(max_seconds)]) for _ in range(count)]


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--procs", type=int, default=2, help="busy processes to start (default 2)")
    parser.add_argument("--max-seconds", type=float, default=4 * 3600.0, help="a hog stops by itself after this")
    parser.add_argument("--hog", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--parent", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- the command to run beside the hogs")
    args = parser.parse_args(argv)
    if args.hog:
        hog(args.parent, time.monotonic() + args.max_seconds)
        return 0
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --")
    hogs = start_hogs(args.procs, args.max_seconds)
    print(f"cpu_hogs: {len(hogs)} busy processes started beside: {' '.join(command)}", flush=True)
    child = subprocess.Popen(command)
    # A Ctrl-C or a kill of this script reaches the command; the hogs are stopped either way.
    signal.signal(signal.SIGTERM, lambda *_: child.terminate())
    try:
        code = child.wait()
    except KeyboardInterrupt:
        child.terminate()
        code = child.wait()
    finally:
        alive = sum(h.poll() is None for h in hogs)
        stop(hogs)
    print(f"cpu_hogs: command exited {code}; {alive} of {len(hogs)} hogs were still busy at its end", flush=True)
    if code == 0 and alive < len(hogs):
        # A pass proves nothing about load if the hogs stopped first (raise --max-seconds).
        print("cpu_hogs: a hog stopped before the command ended: the run was not under load throughout", flush=True)
        return 3
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
