"""What evidence capture costs Chromium: CPU seconds per lookup and per capture, by Chromium process type.

Against the sandbox portals (started in their own process, so their CPU is not counted), with the real
runner, adapters and evidence store:

- `lookups`: per carrier, one warm-up lookup (the login), then N eligibility lookups profiled: Chromium CPU
  per lookup and per evidence capture, by process type (benchmarks/chromium_profile.py), and the size of
  the screenshots stored;
- `floor` (`--floor`): the same lookups again in the same logged-in tab, as bare browser work only: every
  document the product's lookups loaded in the tab, loaded again the same way (a GET by address, a form's
  POST by a form built in the page and submitted), and one full-page screenshot of each lookup's last page
  (`Page.captureScreenshot`, as the product takes it). No HTML read, no page classified, no mask, no
  record. Chromium's CPU per lookup there is what any browser-based lookup of these pages costs; the
  product's is compared with it (carriers with one capture per lookup and no frames only);
- `captures`: after the lookups, N screenshots of each carrier's last result page (the live, logged-in
  tab), by each screenshot method in `--methods`: the screenshot alone, without page loads.

Launch choices are options (`--executable`, `--flag`, `--drop-flag`), so each can be measured against the
current code one at a time; `--screenshot` swaps the session's screenshot method for the lookups (portals
without frames), `--wait-polling raf` puts back Playwright's default polling of page-state waits, and
`--latency-ms` makes the sandbox answer like a real portal. Results are printed and written to
benchmarks/results/capture_cost.json (or `--out`). CPU seconds are per lookup of the profiled span (the
login is outside it); on a busy machine they inflate by about 10 %, so compare runs made side by side.

    .venv/bin/python benchmarks/capture_cost.py --lookups 15 --captures 10
    .venv/bin/python benchmarks/capture_cost.py --executable /usr/bin/chromium --wait-polling raf  # before issue 17
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import struct
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.chromium_profile import ChromiumProfile  # noqa: E402
from benchmarks.sandbox_process import control, sandbox_process  # noqa: E402
from benchmarks.sequential_lookups import machine, write_report  # noqa: E402

Shot = Callable[[Any], Awaitable[bytes]]  # a screenshot method: page -> image bytes


async def shot_playwright(page: Any) -> bytes:
    return bytes(await page.screenshot(full_page=True, type="png"))


async def _cdp_shot(page: Any, **params: Any) -> bytes:
    client = await page.context.new_cdp_session(page)
    try:
        metrics = await client.send("Page.getLayoutMetrics")
        size = metrics["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
        result = await client.send("Page.captureScreenshot", {"clip": clip, "captureBeyondViewport": True, **params})
        return base64.b64decode(result["data"])
    finally:
        await client.detach()


async def shot_cdp_png(page: Any) -> bytes:
    return await _cdp_shot(page, format="png")


async def shot_cdp_png_fast(page: Any) -> bytes:
    return await _cdp_shot(page, format="png", optimizeForSpeed=True)


async def shot_cdp_png_fast_kept_session(page: Any) -> bytes:
    """As cdp-png-fast, with one CDP session per page kept open instead of one per screenshot."""
    return await _kept_session_shot(page, optimizeForSpeed=True)


async def shot_cdp_png_kept_session(page: Any) -> bytes:
    """As cdp-png (the same pixels and bytes' encoding), with one CDP session per page kept open."""
    return await _kept_session_shot(page)


async def _kept_session_shot(page: Any, **params: Any) -> bytes:
    client = getattr(page, "_bench_cdp", None)
    if client is None:
        client = await page.context.new_cdp_session(page)
        page._bench_cdp = client
    metrics = await client.send("Page.getLayoutMetrics")
    size = metrics["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
    result = await client.send("Page.captureScreenshot", {"clip": clip, "captureBeyondViewport": True,
                                                          "format": "png", **params})
    return base64.b64decode(result["data"])


async def shot_cdp_webp(page: Any) -> bytes:
    return await _cdp_shot(page, format="webp", quality=100)


async def shot_webp_pillow(page: Any) -> bytes:
    """Lossless WebP encoded by us (Pillow) from Chromium's fast PNG: the CPU moves to our process."""
    import io

    from PIL import Image

    png = await shot_cdp_png_fast(page)
    out = io.BytesIO()
    with Image.open(io.BytesIO(png)) as image:
        image.save(out, format="WEBP", lossless=True, quality=0, method=0)
    return out.getvalue()


METHODS: dict[str, Shot] = {
    "playwright": shot_playwright,
    "cdp-png": shot_cdp_png,
    "cdp-png-fast": shot_cdp_png_fast,
    "cdp-png-fast-session": shot_cdp_png_fast_kept_session,
    "cdp-png-session": shot_cdp_png_kept_session,
    "cdp-webp100": shot_cdp_webp,
    "pillow-webp-lossless": shot_webp_pillow,
}


def image_size(data: bytes) -> tuple[int, int]:
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return struct.unpack(">II", data[16:24])
    from io import BytesIO

    from PIL import Image

    with Image.open(BytesIO(data)) as image:
        return image.size


def patch_browser(args: argparse.Namespace) -> None:
    """Apply the launch and screenshot choices under test to aggregator.browser (this process only)."""
    from aggregator import browser

    for flag in args.drop_flag:
        browser.CHROMIUM_FLAGS[:] = [f for f in browser.CHROMIUM_FLAGS if f != flag]
    browser.CHROMIUM_FLAGS.extend(args.flag)
    if args.wait_polling:
        browser.WAIT_POLLING_MS = "raf" if args.wait_polling == "raf" else float(args.wait_polling)  # type: ignore[assignment]
    if args.screenshot:
        shot = METHODS[args.screenshot]

        async def screenshot(self: Any, target: Any) -> bytes:
            if target is not self._page:
                raise SystemExit("--screenshot applies to portals without frames only")
            return await shot(self._page)

        browser.PortalSession._screenshot = screenshot  # type: ignore[method-assign]


def per(value: float, count: int) -> float:
    return round(value / count, 4) if count else 0.0


def profile_report(profile: ChromiumProfile, lookups: int, captures: int) -> dict[str, Any]:
    by_type = profile.by_type()
    chromium = profile.chromium_seconds()
    return {
        "chromium_cpu_seconds_per_lookup": per(chromium, lookups),
        "chromium_cpu_seconds_per_capture": per(chromium, captures),
        "driver_cpu_seconds_per_lookup": per(by_type.get("playwright-driver", 0.0), lookups),
        "cpu_seconds_per_lookup_by_type": {k: per(v, lookups) for k, v in by_type.items()},
        "processes_seen_by_type": profile.processes(),
        "processes_started_by_type": profile.started(),
    }


async def measure(args: argparse.Namespace, urls: dict[str, str], data_dir: Path, sandbox_pid: int) -> dict[str, Any]:
    from rich.console import Console

    from aggregator.logging import configure_logging
    from aggregator.runner import Runner
    from aggregator.settings import Settings
    from sandbox.dataset import generate_dataset
    from sandbox.demo import vault_accounts
    from sandbox.ground_truth import sample_members

    configure_logging("console", "WARNING")
    settings = Settings(data_dir=data_dir, browser_executable=args.executable or None)
    dataset = generate_dataset()
    vault_accounts(settings, dataset, Console(quiet=True), carriers=tuple(urls))
    results: dict[str, Any] = {}
    async with Runner.open(settings, base_urls=urls, respect_maintenance_windows=False) as runner:
        await runner.pool.start()
        browser = runner.pool._browser
        assert browser is not None
        results["browser_version"] = browser.version
        results["executable"] = args.executable or "(find_chromium)"
        results["launch_command"] = _browser_command()
        for slug in urls:
            label = runner.vault.accounts(slug)[0].label
            samples = sample_members(dataset, slug, args.lookups + 1)
            warm = await runner.eligibility(slug, samples[0].query, account_label=label, source="bench")
            assert warm.outcome.value in ("found", "not_found"), warm.reason
            seq_before = _last_seq(runner)
            page = _session(runner, slug, label)._page
            documents: list[list[tuple[str, str, str | None]]] = []

            def note(request: Any, page: Any = page, documents: list[list[Any]] = documents) -> None:
                if request.is_navigation_request() and request.frame == page.main_frame:
                    documents[-1].append((request.method, request.url, request.post_data))

            page.on("request", note)
            started, python_started = time.perf_counter(), time.process_time()
            with ChromiumProfile(exclude_pid=sandbox_pid) as profile:
                for sample in samples[1:]:
                    documents.append([])
                    result = await runner.eligibility(slug, sample.query, account_label=label, source="bench")
                    assert result.outcome.value in ("found", "not_found"), result.reason
            wall = time.perf_counter() - started
            python = time.process_time() - python_started - profile.sampler_seconds
            page.remove_listener("request", note)
            rows = [r for r in runner.repository.evidence_chain() if r.seq > seq_before]
            sizes = [runner.recorder.files.path(r.screenshot_path).stat().st_size for r in rows]
            entry = {"lookups": args.lookups, "captures": len(rows),
                     "wall_seconds_per_lookup": round(wall / args.lookups, 4),
                     "python_cpu_seconds_per_lookup": per(python, args.lookups),
                     **profile_report(profile, args.lookups, len(rows)),
                     "screenshot_bytes_mean": int(sum(sizes) / len(sizes)) if sizes else 0}
            if args.floor:
                entry["floor"] = await _floor(page, documents, len(rows), sandbox_pid)
            if args.captures:
                entry["captures_by_method"] = await _captures(runner, slug, label, args, sandbox_pid)
            results[slug] = entry
    return results


# A form's POST made again: the same fields to the same address, submitted by the page (as a person's
# click on the portal's button submits it).
_POST_AGAIN_JS = """([action, body]) => {
  const form = document.createElement('form');
  form.method = 'post';
  form.action = action;
  for (const [name, value] of new URLSearchParams(body)) {
    const field = document.createElement('input');
    field.type = 'hidden'; field.name = name; field.value = value;
    form.appendChild(field);
  }
  document.body.appendChild(form);
  HTMLFormElement.prototype.submit.call(form);
}"""


def _session(runner: Any, slug: str, label: str) -> Any:
    """The runner's portal session of this account (its tab stays logged in between lookups)."""
    account = next(a for a in runner.vault.accounts(slug) if a.label == label)
    return runner._slots[account.account_id].session


async def _floor(page: Any, documents: list[list[tuple[str, str, str | None]]], captures: int,
                 sandbox_pid: int) -> dict[str, Any]:
    """The lookups' documents loaded again, and each lookup's last page screenshot once (see the docstring)."""
    if captures != len(documents) or len(page.frames) > 1:
        return {"skipped": "not one capture per lookup, or a page with frames"}
    loads, python_started = 0, time.process_time()
    with ChromiumProfile(exclude_pid=sandbox_pid) as profile:
        for lookup in documents:
            for method, url, body in lookup:
                if method == "GET":
                    response = await page.goto(url, wait_until="load")
                else:
                    async with page.expect_navigation(wait_until="load") as navigation:
                        await page.evaluate(_POST_AGAIN_JS, [url, body or ""])
                    response = await navigation.value
                assert response is not None and response.status == 200, (method, response and response.status)
                loads += 1
            await shot_cdp_png_kept_session(page)
    python = time.process_time() - python_started - profile.sampler_seconds
    return {"documents_per_lookup": per(loads, len(documents)),
            "python_cpu_seconds_per_lookup": per(python, len(documents)),
            **profile_report(profile, len(documents), len(documents))}


async def _captures(runner: Any, slug: str, label: str, args: argparse.Namespace, sandbox_pid: int) -> dict[str, Any]:
    """N screenshots of the session's current page (the last result page) per method."""
    session = _session(runner, slug, label)
    page = session._page
    out: dict[str, Any] = {}
    reference = await shot_playwright(page)
    html = await page.content()
    # What the other steps of a lookup cost, for scale: reading the HTML, one round trip, loading a page (the
    # portal's start page after sign-in: every carrier has one, and it is a page of the portal's usual weight).
    start = session.base_url
    for name, op in (("content()", page.content), ("evaluate('1')", lambda: page.evaluate("1")),
                     ("goto(start page)", lambda: page.goto(start, wait_until="load"))):
        await op()
        with ChromiumProfile(exclude_pid=sandbox_pid) as profile:
            for _ in range(args.captures):
                await op()
        out[name] = {"chromium_cpu_seconds_per_call": per(profile.chromium_seconds(), args.captures),
                     "by_type": {k: per(v, args.captures) for k, v in profile.by_type().items()}}
    await page.set_content(html)  # the result page again, as it was captured (resources from the portal)
    await page.wait_for_load_state("load")
    for name in args.methods:
        shot = METHODS[name]
        await shot(page)  # warm (first use of a CDP session, an encoder)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        with ChromiumProfile(exclude_pid=sandbox_pid) as profile:
            for _ in range(args.captures):
                data = await shot(page)
        ours, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        out[name] = {"chromium_cpu_seconds_per_capture": per(profile.chromium_seconds(), args.captures),
                     "driver_cpu_seconds_per_capture": per(profile.by_type().get("playwright-driver", 0.0),
                                                           args.captures),
                     "python_cpu_seconds_per_capture": per(ours, args.captures),
                     "wall_seconds_per_capture": per(wall, args.captures),
                     "by_type": {k: per(v, args.captures) for k, v in profile.by_type().items()},
                     "bytes": len(data), "size": image_size(data),
                     "same_pixels_as_playwright_png": _same_pixels(reference, data)}
    return out


def _same_pixels(a: bytes, b: bytes) -> bool:
    from io import BytesIO

    from PIL import Image, ImageChops

    with Image.open(BytesIO(a)) as one, Image.open(BytesIO(b)) as two:
        if one.size != two.size:
            return False
        return ImageChops.difference(one.convert("RGB"), two.convert("RGB")).getbbox() is None


def _last_seq(runner: Any) -> int:
    seq = 0
    for row in runner.repository.evidence_chain():
        seq = row.seq
    return seq


def _browser_command() -> list[str]:
    import psutil

    for child in psutil.Process().children(recursive=True):
        try:
            cmd = child.cmdline()
        except psutil.Error:
            continue
        if cmd and "--type=" not in " ".join(cmd) and any("remote-debugging" in a for a in cmd):
            return cmd
    return []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lookups", type=int, default=20, help="profiled lookups per carrier (after a warm-up)")
    parser.add_argument("--captures", type=int, default=10, help="screenshots per method of a result page (0: none)")
    parser.add_argument("--methods", nargs="*", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--carriers", nargs="*", default=None, help="default: every demo carrier")
    parser.add_argument("--executable", default="", help="Chromium binary (default: the product's choice)")
    parser.add_argument("--flag", action="append", default=[], help="extra Chromium flag (repeatable)")
    parser.add_argument("--drop-flag", action="append", default=[], help="drop one of the product's flags")
    parser.add_argument("--screenshot", choices=list(METHODS), default="", help="screenshot method for lookups")
    parser.add_argument("--wait-polling", default="", help="'raf' or milliseconds: how page-state waits poll")
    parser.add_argument("--latency-ms", type=int, default=0,
                        help="latency the sandbox adds to every request (plus up to 100 ms jitter when > 0)")
    parser.add_argument("--floor", action="store_true", help="also the bare browser work of the same lookups")
    parser.add_argument("--label", default="", help="name of this run in the output")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "capture_cost.json"))
    args = parser.parse_args()
    patch_browser(args)
    from sandbox.demo import demo_carriers

    with sandbox_process(args.carriers or list(demo_carriers())) as sandbox:
        if args.latency_ms:
            for url in sandbox.urls.values():
                control(url, "faults", {"latency_ms": args.latency_ms, "jitter_ms": 100})
        with tempfile.TemporaryDirectory(prefix="bench-capture-") as data_dir:
            results = asyncio.run(measure(args, sandbox.urls, Path(data_dir), sandbox.pid))
    report = {"benchmark": "capture_cost", "label": args.label, "machine": machine(),
              "load_average": os.getloadavg(), "flags_added": args.flag, "flags_dropped": args.drop_flag,
              "screenshot": args.screenshot or "product",
              "wait_polling": args.wait_polling or "product",
              "latency_ms": args.latency_ms, "results": results}
    write_report(report, Path(args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
