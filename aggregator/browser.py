"""The only module that imports Playwright.

One Chromium per process (`BrowserPool`), one browser context per portal account, and a
`PortalSession` that adapters drive through intent-level calls (go to, fill, click, read HTML). The
session classifies HTTP failures into the error taxonomy and captures evidence through a sink the
runner injects, so no adapter can forget to capture and none knows where evidence is stored.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import urljoin

from playwright.async_api import Browser, BrowserContext, Frame, Page, Response, StorageState, async_playwright
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout
from pydantic import SecretStr

from aggregator.errors import ConfigurationError, PortalUnavailable, RateLimited, UnexpectedPage
from aggregator.logging import get_logger
from aggregator.page_world import DOCUMENT_HTML_JS, FULL_PAGE_SIZE_JS, PageWorld, WorldUnavailable
from aggregator.settings import Settings

A = TypeVar("A")
B = TypeVar("B")

log = get_logger(__name__)

CHROMIUM_FLAGS = [
    "--disable-background-networking",  # the machine has no internet; background calls only fail
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-gpu",
    "--disable-quic",
    "--disable-dev-shm-usage",
]
# How often a wait for a page state checks its predicate. Playwright's default, every animation frame,
# makes Chromium draw a frame 60 times a second for as long as the portal takes to answer; checking on a
# timer draws none, costs a third of the CPU of a wait (checking every 16 ms costs about what every 50 ms
# does), and adds at most 20 ms to it. See benchmarks/README.md, "Where the CPU goes".
WAIT_POLLING_MS = 20
MAX_SCREENSHOT_HEIGHT = 16_000  # pixels: Chromium's own limit for one capture is near 16k

# `PortalSession.fill_form` in one round trip: every field is found and judged before any is touched (exactly
# one element, a text-like field, enabled, writable, displayed, its maxlength not cutting the value); then each
# is focused, set through its own value setter (what a framework listening to the field sees) and given
# the `input` and `change` events typing would bring. Returns null when every field holds its value, else why
# not (the selector, never a value): the caller then fills field by field.
FILL_FORM_JS = """(fields) => {
  const TEXT_TYPES = new Set(["", "text", "search", "tel", "url", "email", "password", "number", "date",
                              "month", "week", "time", "datetime-local"]);
  const found = [];
  for (const [selector, value] of fields) {
    const matches = document.querySelectorAll(selector);
    if (matches.length !== 1) return `${matches.length} elements match ${selector}`;
    const field = matches[0];
    const textLike = field instanceof HTMLTextAreaElement
      || (field instanceof HTMLInputElement && TEXT_TYPES.has(field.getAttribute("type")?.toLowerCase() ?? ""));
    if (!textLike) return `${selector} is not a text field`;
    if (field.matches(":disabled") || field.readOnly) return `${selector} is not editable`;
    if (!field.getClientRects().length || getComputedStyle(field).visibility !== "visible") {
      return `${selector} is not displayed`;
    }
    if (field.maxLength >= 0 && value.length > field.maxLength) return `${selector} is shorter than its value`;
    found.push([selector, field, value]);
  }
  for (const [selector, field, value] of found) {
    field.focus();
    Object.getOwnPropertyDescriptor(Object.getPrototypeOf(field), "value").set.call(field, value);
    field.dispatchEvent(new InputEvent("input", {bubbles: true, composed: true, inputType: "insertText", data: value}));
    field.dispatchEvent(new Event("change", {bubbles: true}));
    if (field.value !== value) return `${selector} did not take its value`;
  }
  return null;
}"""

# `PortalSession`'s clicks, by the page itself when the element can be clicked now: exactly one element, enabled,
# displayed, its centre inside the viewport (scrolled there first, as Playwright does) and not covered by
# another element (what a person could click);
# Playwright's own click checks the same and more (the element holding still for two animation frames, then
# a mouse moved, pressed and released), about 40 ms a click. Returns null once clicked, else why not (the
# selector only) before anything was done: the caller then lets Playwright click, which waits until it can.
CLICK_JS = """(selector) => {
  let matches;
  try { matches = document.querySelectorAll(selector); } catch { return `${selector} is not a CSS selector`; }
  if (matches.length !== 1) return `${matches.length} elements match ${selector}`;
  const element = matches[0];
  if (element.matches(":disabled")) return `${selector} is disabled`;
  const centre = () => {
    const box = element.getBoundingClientRect();
    return [box.left + box.width / 2, box.top + box.height / 2];
  };
  const inView = ([x, y]) => x >= 0 && y >= 0 && x < window.innerWidth && y < window.innerHeight;
  const box = element.getBoundingClientRect();
  if (!box.width || !box.height || getComputedStyle(element).visibility !== "visible") {
    return `${selector} is not displayed`;
  }
  if (!inView(centre())) element.scrollIntoView({block: "center", inline: "center", behavior: "instant"});
  const [x, y] = centre();
  if (!inView([x, y])) return `${selector} is outside the view`;
  const hit = document.elementFromPoint(x, y);
  if (!hit || !(hit === element || element.contains(hit))) return `${selector} is covered`;
  element.click();
  return null;
}"""

# Each selector clicked in turn as CLICK_JS clicks one, in one round trip to the page; at the first it cannot click
# now, it stops and says which and why ([index, reason]; null when every one was clicked).
CLICK_EACH_JS = "(selectors) => { const click = " + CLICK_JS + """;
  for (let i = 0; i < selectors.length; i++) {
    const reason = click(selectors[i]);
    if (reason !== null) return [i, reason];
  }
  return null;
}"""

# CLICK_JS when something matches the selector; false (nothing done) when nothing does.
CLICK_IF_THERE_JS = "(selector) => { const click = " + CLICK_JS + """;
  return document.querySelector(selector) === null ? false : click(selector);
}"""

# Headless only: Chromium's old headless shell (Debian package `chromium-headless-shell`), a build without
# the desktop browser around the renderer; a lookup costs it less CPU than new-headless Chromium (see
# benchmarks/README.md, "Where the CPU goes").
SYSTEM_HEADLESS_SHELL_CANDIDATES = ("/usr/lib/chromium/chromium-headless-shell", "/usr/bin/chromium-headless-shell")
SYSTEM_CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


@dataclass(frozen=True)
class CapturedPage:
    """What the session hands the evidence sink: the page exactly as the adapter saw it."""

    url: str
    html: str
    screenshot_png: bytes
    carrier: str
    account_label: str
    flow: str
    label: str
    # A document the page offered for download (e.g. an EOB PDF), kept with the page as one entry.
    document: bytes | None = None
    document_media_type: str | None = None
    # Boxes (x, y, width, height in screenshot pixels) of what staff must not see, found by the session's
    # mask rules (aggregator/evidence_mask.py); None when the session had no rules.
    mask_boxes: tuple[tuple[int, int, int, int], ...] | None = None


EvidenceSink = Callable[[CapturedPage], Awaitable[str]]  # returns the evidence id
# Told how long each portal request took until its answer: (carrier, kind, seconds), kind "navigation",
# "api" or "download". The runner points it at the metrics (aggregator/metrics/runtime.py), which this
# module, below them, does not import.
PortalTimer = Callable[[str, str, float], None]


@dataclass(frozen=True)
class Capture:
    """The evidence id and the exact HTML it holds: parsers read this HTML, never a second fetch."""

    evidence_id: str
    html: str
    url: str


@dataclass(frozen=True)
class Downloaded:
    """A file the portal sent as a download: its bytes and the name the portal suggested."""

    data: bytes
    filename: str


@dataclass(frozen=True)
class ApiResponse:
    """A JSON response the page's own script loaded (single-page apps): kept with the evidence."""

    url: str
    status: int
    body: Any  # the decoded JSON, or None when the body was not JSON (e.g. a proxy's HTML error page)


class ApiCall:
    """Filled in when the `expect_json` block ends: the response the page received."""

    response: ApiResponse | None = None

    @property
    def value(self) -> ApiResponse:
        assert self.response is not None, "read the response after the `async with` block"
        return self.response


def find_chromium(settings: Settings, playwright_default: str | None) -> str | None:
    """Setting first (taken as it is), then Playwright's own download, then a system Chromium: the headless
    shell when running headless, else the browser; a launcher script resolved to the binary it starts.
    None: use Playwright's."""
    if settings.browser_executable:
        path = Path(settings.browser_executable)
        if not path.exists():
            raise ConfigurationError(f"AGGREGATOR_BROWSER_EXECUTABLE points at {path}, which does not exist")
        return str(path)
    if playwright_default and Path(playwright_default).exists():
        return None
    candidates: tuple[str, ...] = SYSTEM_CHROMIUM_CANDIDATES
    if settings.browser_headless:
        candidates = SYSTEM_HEADLESS_SHELL_CANDIDATES + candidates
    for candidate in candidates:
        if Path(candidate).exists():
            return str(real_binary(Path(candidate)))
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return str(real_binary(Path(found)))
    raise ConfigurationError(
        "no Chromium found: run `make setup` (installs Debian's chromium-headless-shell and chromium when run "
        "as root), or `playwright install chromium`, or set AGGREGATOR_BROWSER_EXECUTABLE"
    )


def real_binary(path: Path) -> Path:
    """The executable a distribution's launcher script starts, when it is one; else `path` itself.

    Debian's /usr/bin/chromium is a shell script that sources /etc/chromium.d/ and so adds flags of its
    own (--enable-gpu-rasterization, extension loading, ...) before it execs /usr/lib/chromium/chromium;
    Playwright sets every flag it needs itself, and those extras only cost CPU. A script named
    /usr/bin/<name> is resolved to /usr/lib/<name>/<name> or /usr/lib/chromium/<name>, the first that is
    an executable binary; anything else is launched as it is."""
    resolved = path.resolve()
    if not _is_script(resolved):
        return path
    lib = resolved.parent.parent / "lib"
    for candidate in (lib / resolved.name / resolved.name, lib / "chromium" / resolved.name):
        if candidate.is_file() and os.access(candidate, os.X_OK) and not _is_script(candidate):
            return candidate
    return path


def _is_script(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(2) == b"#!"
    except OSError:
        return False


class BrowserPool:
    """One Chromium for the process; hands out one context per portal account."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._playwright: Any = None
        self._browser: Browser | None = None
        self._start_lock = asyncio.Lock()

    @property
    def page_timeout_seconds(self) -> float:
        return self._settings.page_timeout_seconds

    async def __aenter__(self) -> BrowserPool:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        async with self._start_lock:
            if self._browser is not None:
                return
            self._playwright = await async_playwright().start()
            executable = find_chromium(self._settings, self._playwright.chromium.executable_path)
            args = list(CHROMIUM_FLAGS)
            if hasattr(os, "geteuid") and os.geteuid() == 0:
                args.append("--no-sandbox")  # Chromium refuses to run its sandbox as root
            try:
                self._browser = await self._playwright.chromium.launch(
                    executable_path=executable, headless=self._settings.browser_headless, args=args
                )
            except PlaywrightError as exc:
                await self._playwright.stop()
                self._playwright = None
                raise ConfigurationError(f"Chromium failed to start: {str(exc).splitlines()[0]}") from None

    async def close(self) -> None:
        if self._browser is not None:
            await self._browser.close()
            self._browser = None
        if self._playwright is not None:
            await self._playwright.stop()
            self._playwright = None

    async def new_context(self, storage_state: dict[str, Any] | None = None) -> BrowserContext:
        await self.start()
        assert self._browser is not None
        context = await self._browser.new_context(
            # The vault keeps, as JSON, what PortalSession.storage_state returned: Playwright's own shape.
            storage_state=cast(StorageState, storage_state),
            viewport={"width": 1280, "height": 900},
            locale="en-US",
            timezone_id="America/New_York",
        )
        context.set_default_timeout(self._settings.page_timeout_seconds * 1000)
        context.set_default_navigation_timeout(self._settings.navigation_timeout_seconds * 1000)
        return context


class PortalSession:
    """A logged-in (or not yet) tab on one carrier portal for one account.

    Adapters call intent-level methods; every navigation's HTTP status is classified here so that a
    500 or a 429 becomes the right error without each adapter checking it.
    """

    def __init__(
        self,
        context: BrowserContext,
        page: Page,
        *,
        base_url: str,
        carrier: str,
        account_label: str,
        evidence_sink: EvidenceSink,
        min_request_interval: float = 0.0,
        page_timeout_seconds: float = 20.0,
    ) -> None:
        self._min_request_interval = min_request_interval
        self._page_timeout = page_timeout_seconds
        self._last_request_at = 0.0
        self._context = context
        self._page = page
        self.base_url = base_url.rstrip("/") + "/"
        self.carrier = carrier
        self.account_label = account_label
        self.evidence_sink = evidence_sink  # the runner points it at the current lookup
        self.flow = "session"
        self.last_status: int | None = None
        # The wait the last 429 of the page's own API calls asked for (`expect_json`): the app draws its own
        # "slow down" screen for it, and the runner gives this wait to the RateLimited the adapter raises.
        self.api_retry_after: float | None = None
        self.logged_in = False  # set by the runner: True after a login or when a saved session is loaded
        self._content_frame: str | None = None
        # The HTTP status of the last document each frame loaded: a frameset answers 200 while the frame
        # inside it shows a server error, and that must be classified like any other 5xx.
        self._frame_status: dict[Frame, int] = {}
        self._noting_documents = False
        # What to black out in the evidence staff see (aggregator.evidence_mask.MaskRules); the runner sets it.
        self.mask_rules: Any = None
        self.timer: PortalTimer | None = None  # the runner sets it; requests that get no answer are not timed
        self._world: PageWorld | None = None  # opened when first asked (_page_world)
        self._world_refused = False
        self._world_opening = asyncio.Lock()  # a capture asks two questions at once: one session for both

    @property
    def content_frame(self) -> str | None:
        """Frameset portals: the name of the frame that holds the content. While that frame exists,
        navigation, forms, reading and the captured HTML act on it; the screenshot stays the whole tab."""
        return self._content_frame

    @content_frame.setter
    def content_frame(self, name: str | None) -> None:
        self._content_frame = name
        if name is not None and not self._noting_documents:
            # Only frameset portals need frames' statuses; a listener makes Playwright send every response
            # of every page to Python, so the other portals go without.
            self._page.on("response", self._note_document)
            self._noting_documents = True

    def _note_document(self, response: Response) -> None:
        request = response.request
        # Keyed by the frame itself: a new frame's name is not known yet when its first document arrives.
        if request.resource_type == "document" and request.frame.parent_frame is not None:
            self._frame_status[request.frame] = response.status

    @classmethod
    async def open(
        cls,
        pool: BrowserPool,
        *,
        base_url: str,
        carrier: str,
        account_label: str,
        evidence_sink: EvidenceSink,
        storage_state: dict[str, Any] | None = None,
        min_request_interval: float = 0.0,
    ) -> PortalSession:
        context = await pool.new_context(storage_state)
        page = await context.new_page()
        return cls(context, page, base_url=base_url, carrier=carrier, account_label=account_label,
                   evidence_sink=evidence_sink, min_request_interval=min_request_interval,
                   page_timeout_seconds=pool.page_timeout_seconds)

    async def _pace(self) -> None:
        """Keep at least the manifest's interval between our requests to one portal account."""
        loop = asyncio.get_running_loop()
        wait = self._last_request_at + self._min_request_interval - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        self._last_request_at = loop.time()

    @staticmethod
    def _clock() -> float:
        return asyncio.get_running_loop().time()

    def _timed(self, kind: str, started: float) -> None:
        """Report a request's time to its answer to the timer, when there is one."""
        if self.timer is not None:
            self.timer(self.carrier, kind, self._clock() - started)

    def _target(self) -> Page | Frame:
        """The content frame when the adapter named one and the current page has it, else the tab."""
        if self.content_frame is not None:
            frame = self._page.frame(name=self.content_frame)
            if frame is not None:
                return frame
        return self._page

    @property
    def url(self) -> str:
        return self._target().url

    @property
    def in_content_frame(self) -> bool:
        """True when the current page is a frameset holding the named content frame."""
        return self.content_frame is not None and self._page.frame(name=self.content_frame) is not None

    def absolute(self, path: str) -> str:
        return urljoin(self.base_url, path.lstrip("/")) if not path.startswith("http") else path

    async def goto(self, path: str, *, whole_page: bool = False) -> None:
        """Open a path in the content frame (when there is one) or, with `whole_page`, in the tab."""
        await self._pace()
        target = self._page if whole_page else self._target()
        self._frame_status.clear()
        started = self._clock()
        try:
            response = await target.goto(self.absolute(path), wait_until="load")
        except PlaywrightTimeout:
            raise PortalUnavailable(f"{self.carrier} portal did not answer in time") from None
        except PlaywrightError as exc:
            raise PortalUnavailable(f"{self.carrier} portal unreachable ({_first_line(exc)})") from None
        self._timed("navigation", started)
        self._check(response)

    async def fill(self, selector: str, value: str | SecretStr) -> None:
        # Secrets are unwrapped here, at the form field, and nowhere else.
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        await self._target().fill(selector, text)

    async def fill_form(self, fields: Mapping[str, str | SecretStr]) -> None:
        """Fill several fields, `{selector: value}` in order: in one round trip to the page when every field is
        there and can be typed into (FILL_FORM_JS), else field by field with `fill`, which waits for each as
        Playwright does and fails the same way. A `fill` is several protocol round trips (Playwright checks
        the field, focuses it, types): a search form of four fields costs about a tenth of the browser's CPU
        filled at once (benchmarks/README.md, "Where the CPU goes")."""
        values = [[selector, value.get_secret_value() if isinstance(value, SecretStr) else value]
                  for selector, value in fields.items()]
        try:
            not_filled = await self._target().evaluate(FILL_FORM_JS, values)
        except PlaywrightError:  # e.g. a selector of Playwright's own, not CSS; its message is not logged
            not_filled = "the form could not be searched"
        if not_filled is None:
            return
        log.debug("form_filled_field_by_field", carrier=self.carrier, flow=self.flow, reason=not_filled)
        for selector, value in fields.items():
            await self.fill(selector, value)

    async def click_and_wait(self, selector: str) -> None:
        """Click something that submits or navigates, and wait for the next page to load."""
        await self._pace()
        target = self._target()
        self._frame_status.clear()
        started = self._clock()
        try:
            async with target.expect_navigation(wait_until="load") as navigation:
                await self._click(target, selector)
            response = await navigation.value
        except PlaywrightTimeout:
            raise PortalUnavailable(f"{self.carrier} portal did not answer in time") from None
        except PlaywrightError as exc:
            raise PortalUnavailable(f"{self.carrier} portal failed during navigation ({_first_line(exc)})") from None
        self._timed("navigation", started)
        self._check(response)

    # --- single-page apps: the page's own network calls, clicks that do not navigate, spinners -------

    @asynccontextmanager
    async def expect_json(self, url: str | re.Pattern[str]) -> AsyncIterator[ApiCall]:
        """`async with session.expect_json("/api/x") as call: await session.click(...)`, then `call.value`:
        the response the page's script received for the first fetch/XHR whose URL contains `url` (or
        matches the pattern). Its status is not judged here: the app draws a screen for it, which the
        adapter classifies like any page."""
        def wanted(response: Response) -> bool:
            if response.request.resource_type not in ("fetch", "xhr"):
                return False
            return bool(url.search(response.url)) if isinstance(url, re.Pattern) else url in response.url

        call = ApiCall()
        await self._pace()
        started = self._clock()
        try:
            async with self._page.expect_response(wanted) as info:
                yield call
            response = await info.value
            self._timed("api", started)
            try:
                body = await response.json()
            except (PlaywrightError, ValueError):
                body = None
        except PlaywrightTimeout:
            log.warning("api_response_timed_out", carrier=self.carrier, flow=self.flow)
            raise PortalUnavailable(f"{self.carrier} portal did not answer in time") from None
        log.debug("api_response", carrier=self.carrier, url=response.url, status=response.status, flow=self.flow)
        wait = retry_after_seconds(response.headers.get("retry-after")) if response.status == 429 else None
        if wait is not None:
            self.api_retry_after = wait
        call.response = ApiResponse(url=response.url, status=response.status, body=body)

    async def click(self, selector: str) -> None:
        """Click something that does not navigate (a button of a single-page app, an accordion)."""
        try:
            await self._click(self._page, selector)
        except PlaywrightTimeout:
            raise UnexpectedPage(f"{self.carrier}: the page has no clickable '{selector}'") from None

    async def click_if_there(self, selector: str) -> bool:
        """`click` when the page has something matching `selector` (False, nothing done, when it has not): the
        question and the click in one round trip to the page when it can click now."""
        not_clicked = await self._page.evaluate(CLICK_IF_THERE_JS, selector)
        if not_clicked is False:
            return False
        if not_clicked is not None:
            await self.click(selector)  # there but not clickable now: as `click` does (Playwright waits)
        return True

    async def click_each(self, selectors: Sequence[str]) -> None:
        """Click each of `selectors` in turn, none of which navigates (a single-page app's section toggles): all in
        one round trip while the page can click them now, and from the first it cannot on, one by one as `click`
        does (Playwright waits for each). Whatever they start (a section drawn) is for a `wait_until` after."""
        if not selectors:
            return
        stopped = await self._page.evaluate(CLICK_EACH_JS, list(selectors))
        if stopped is None:
            return
        index, reason = stopped
        log.debug("clicked_by_playwright", carrier=self.carrier, flow=self.flow, reason=reason)
        for selector in selectors[index:]:
            await self.click(selector)

    async def _click(self, target: Page | Frame, selector: str) -> None:
        """Clicked by the page when it can be now (CLICK_JS), else by Playwright, which waits until it can. An
        error once the page has clicked is not followed by a second click: it leaves as Playwright's would."""
        not_clicked = await target.evaluate(CLICK_JS, selector)
        if not_clicked is not None:
            log.debug("clicked_by_playwright", carrier=self.carrier, flow=self.flow, reason=not_clicked)
            await target.click(selector)

    async def check(self, selector: str) -> None:
        """Tick a checkbox (ticking a ticked one leaves it ticked, unlike a click)."""
        try:
            await self._target().check(selector)
        except PlaywrightTimeout:
            raise UnexpectedPage(f"{self.carrier}: the page has no checkbox '{selector}'") from None

    async def wait_until_gone(self, selector: str, *, timeout_seconds: float | None = None) -> None:
        """Wait until nothing matches `selector` (spinners, busy overlays): the page has settled."""
        try:
            await self._page.wait_for_function("s => !document.querySelector(s)", arg=selector,
                                               polling=WAIT_POLLING_MS,
                                               timeout=timeout_seconds * 1000 if timeout_seconds else None)
        except PlaywrightTimeout:
            raise PortalUnavailable(f"{self.carrier} portal kept loading") from None

    async def wait_until(self, predicate: str, arg: Any = None, *, what: str,
                         timeout_seconds: float | None = None) -> None:
        """Wait until the JavaScript function `predicate(arg)` holds in the page: the state the next step
        needs (a section open and drawn, as many rows as the page states), never a length of time. A
        machine under load only makes this take longer; the page timeout bounds it. `what` names the
        state in the error (no values)."""
        try:
            await self._page.wait_for_function(predicate, arg=arg, polling=WAIT_POLLING_MS,
                                               timeout=timeout_seconds * 1000 if timeout_seconds else None)
        except PlaywrightTimeout:
            # Logged: a retry hides it from the answer, and a state that never comes is a bug to find.
            log.warning("page_state_timed_out", carrier=self.carrier, flow=self.flow, state=what)
            raise PortalUnavailable(f"{self.carrier} portal never showed {what}") from None

    async def html(self) -> str:
        return await self._content(self._target())

    # --- questions to the page asked in a world of our own (aggregator/page_world.py says why) ---------

    async def _page_world(self) -> PageWorld:
        """The tab's DevTools protocol session, opened when first needed."""
        async with self._world_opening:
            if self._world is None:
                if self._world_refused:
                    raise WorldUnavailable("no protocol session")
                try:
                    cdp = await self._context.new_cdp_session(self._page)
                except PlaywrightError:
                    self._world_refused = True  # not Chromium: Playwright answers every question
                    raise WorldUnavailable("no protocol session") from None

                async def send(method: str, params: dict[str, Any]) -> dict[str, Any]:
                    try:
                        return cast(dict[str, Any], await cdp.send(method, params))
                    except PlaywrightError:
                        raise WorldUnavailable(f"{method} failed") from None

                self._world = PageWorld(send, timeout_seconds=self._page_timeout)
            return self._world

    async def _in_world(self, target: Page | Frame, function_js: str, *args: Any) -> Any:
        """`target.evaluate(function_js, arg)` asked in our world; WorldUnavailable when it cannot be."""
        frame = target.main_frame if isinstance(target, Page) else target
        where = None if frame is self._page.main_frame else (frame.name, frame.url)
        try:
            return await (await self._page_world()).call(where, function_js, *args)
        except WorldUnavailable as exc:
            log.debug("page_world_unavailable", carrier=self.carrier, flow=self.flow, reason=str(exc))
            raise

    async def _evaluate(self, target: Page | Frame, function_js: str, arg: Any = None) -> Any:
        """`target.evaluate(function_js, arg)`: in our world when it can be, else by Playwright."""
        try:
            return await self._in_world(target, function_js, arg)
        except WorldUnavailable:
            return await target.evaluate(function_js, arg)

    async def _content(self, target: Page | Frame) -> str:
        """The document's HTML, the same string as Playwright's `content()`."""
        try:
            html = await self._in_world(target, DOCUMENT_HTML_JS)
        except WorldUnavailable:
            html = None
        return html if isinstance(html, str) else await target.content()

    async def _full_page_png(self) -> bytes:
        """Playwright's full-page PNG of the tab, taken the way it takes it but measured in our world."""
        viewport = self._page.viewport_size
        try:
            size = await self._in_world(self._page, FULL_PAGE_SIZE_JS)
            if viewport is not None and _is_page_size(size):
                width, height = size
                fits = width <= viewport["width"] and height <= viewport["height"]
                return await (await self._page_world()).screenshot_png(width, height, beyond_viewport=not fits)
        except WorldUnavailable:
            pass
        return await self._page.screenshot(full_page=True, type="png")

    async def capture(self, label: str, *, document: bytes | None = None,
                      document_media_type: str | None = None, appendix: str = "",
                      html: str | None = None) -> Capture:
        """Screenshot of the whole tab + HTML of the content (the frame's when there is one) into
        evidence, with the document the page offered when given. `appendix` (e.g. the JSON a
        single-page app loaded, see scrapers.framework.spa) is stored in the HTML, before `</body>`.
        `html`: the content's HTML as the caller just read it to classify the page, nothing done to the page
        since (`CarrierAdapter.expect_captured`); it is not read a second time."""
        target = self._target()
        # The HTML and where the masks go are both read from the page as it stands, so they are asked at
        # once: one wait on the page instead of two. The screenshot comes after both: Playwright's, when it
        # takes it, styles the page for its moment (the caret hidden), which the stored HTML must not show.
        content, mask_boxes = await _all_of(self._content(target) if html is None else _given(html),
                                            self._mask_boxes() if self.mask_rules is not None else _given(None))
        if appendix:
            at = content.rfind("</body>")
            content = content[:at] + appendix + content[at:] if at >= 0 else content + appendix
        png = await self._screenshot(target)
        evidence_id = await self.evidence_sink(
            CapturedPage(url=target.url, html=content, screenshot_png=png, carrier=self.carrier,
                         account_label=self.account_label, flow=self.flow, label=label,
                         document=document, document_media_type=document_media_type, mask_boxes=mask_boxes)
        )
        return Capture(evidence_id=evidence_id, html=content, url=target.url)

    async def _mask_boxes(self) -> tuple[tuple[int, int, int, int], ...] | None:
        """Where the full-page screenshot shows what the mask rules name, in every frame of the tab (a
        frameset's header frame may name the user while the content frame is what is parsed). A frame
        that cannot be searched is masked whole: missing a name is worse than hiding a frame. None when the
        page itself cannot be searched."""
        from aggregator.evidence_mask import FIND_BOXES_JS, MAX_CLIMB, clean_boxes

        args = [list(self.mask_rules.selectors), list(self.mask_rules.texts), MAX_CLIMB]
        frames = self._page.frames
        sx, sy, ratio = 0, 0, 1
        if len(frames) > 1:  # where the tab is scrolled places its frames' boxes; the main frame's need nothing
            try:
                sx, sy, ratio = await self._evaluate(
                    self._page, "() => [window.scrollX, window.scrollY, window.devicePixelRatio || 1]")
            except PlaywrightError:
                pass
        boxes: list[tuple[int, int, int, int]] = []
        for frame in frames:
            offset, whole = (0.0, 0.0), None
            try:
                if frame is not self._page.main_frame:
                    place = await (await frame.frame_element()).bounding_box()
                    if place is None:
                        continue  # not displayed, so not in the screenshot
                    offset = ((place["x"] + sx) * ratio, (place["y"] + sy) * ratio)
                    whole = [[0, 0, place["width"] * ratio, place["height"] * ratio]]
                boxes += clean_boxes(await self._evaluate(frame, FIND_BOXES_JS, args), offset)
            except PlaywrightError:
                if whole is None:
                    return None  # the page itself could not be searched: staff get no screenshot of it
                boxes += clean_boxes(whole, offset)
        return tuple(boxes)

    async def _screenshot(self, target: Page | Frame) -> bytes:
        """A full-page PNG. A frame scrolls inside its own box, which a full-page screenshot of the tab
        cuts at the viewport; so the viewport grows for the moment of the screenshot until the frame's
        whole document is visible (the frameset stretches its rows), and is then put back."""
        if target is self._page or self._page.viewport_size is None:
            return await self._full_page_png()
        viewport = self._page.viewport_size
        try:
            hidden = await self._evaluate(target, "() => document.documentElement.scrollHeight - window.innerHeight")
        except PlaywrightError:
            hidden = 0
        if hidden <= 0:
            return await self._full_page_png()
        await self._page.set_viewport_size({"width": viewport["width"],
                                            "height": min(viewport["height"] + int(hidden), MAX_SCREENSHOT_HEIGHT)})
        try:
            return await self._full_page_png()
        finally:
            await self._page.set_viewport_size(viewport)

    async def download(self, selector: str) -> Downloaded:
        """Click a link that makes the portal send a file; return the file's bytes (the page stays)."""
        await self._pace()
        started = self._clock()
        try:
            async with self._page.expect_download() as info:
                await self._target().click(selector)
            download = await info.value
            failure = await download.failure()
            if failure is not None:
                raise PortalUnavailable(f"{self.carrier} portal download failed ({failure.splitlines()[0][:200]})")
            path = await download.path()
            self._timed("download", started)
            data = await asyncio.to_thread(Path(path).read_bytes)
            filename = download.suggested_filename
            await download.delete()
        except PlaywrightTimeout:
            raise PortalUnavailable(f"{self.carrier} portal did not send the download in time") from None
        except PlaywrightError as exc:
            raise PortalUnavailable(f"{self.carrier} portal download failed ({_first_line(exc)})") from None
        return Downloaded(data=data, filename=filename)

    async def storage_state(self) -> dict[str, object]:
        return dict(await self._context.storage_state())

    async def cookies_named(self, names: tuple[str, ...]) -> list[dict[str, Any]]:
        """The browser's cookies with these names (a portal's "remembered device"), in Playwright's shape."""
        return [dict(c) for c in await self._context.cookies() if c.get("name") in names]

    async def cookie_values(self) -> list[str]:
        return [c["value"] for c in await self._context.cookies() if c.get("value")]

    async def close(self) -> None:
        try:
            await self._context.close()
        except PlaywrightError:
            pass  # the browser may already be gone at shutdown; nothing left to release

    def _check(self, response: Response | None) -> None:
        self.last_status = response.status if response is not None else None
        # URLs can carry member data in query strings; the redaction processor masks what it knows.
        log.debug("page_landed", carrier=self.carrier, url=self._page.url, status=self.last_status, flow=self.flow)
        statuses = [response.status] if response is not None else []
        frame = self._page.frame(name=self.content_frame) if self.content_frame is not None else None
        if frame is not None and frame in self._frame_status:
            statuses.append(self._frame_status[frame])
        for status in statuses:
            if status == 429:
                wait = retry_after_seconds(response.headers.get("retry-after") if response is not None else None)
                raise RateLimited(f"{self.carrier} portal is rate limiting (HTTP 429)").asked_to_wait(wait)
            if status >= 500:
                raise PortalUnavailable(f"{self.carrier} portal error (HTTP {status})")


# The longest wait a portal's Retry-After is taken at: a longer one (or a date days away) is a portal
# mistake, and a day is when the batch and the daily budgets start again anyway.
MAX_RETRY_AFTER_SECONDS = 24 * 3600.0


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """A `Retry-After` header in seconds from now: delay-seconds or an HTTP date (RFC 9110 10.2.3); at most a
    day, never negative. None when absent or unreadable (the caller's own backoff applies)."""
    text = (value or "").strip()
    if not text:
        return None
    if text.isdigit() and len(text) <= 12:
        seconds = float(text)
    else:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:  # an HTTP date is always GMT; a zone-less one is read as such
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__


async def _all_of(first: Awaitable[A], second: Awaitable[B]) -> tuple[A, B]:
    """Both run at once and each awaited to its end (neither left running when the other fails); the
    first failure, in the order given, is raised as it came."""
    a, b = await asyncio.gather(first, second, return_exceptions=True)
    if isinstance(a, BaseException):
        raise a
    if isinstance(b, BaseException):
        raise b
    return a, b


def _is_page_size(size: Any) -> bool:
    """Two finite, positive numbers (what FULL_PAGE_SIZE_JS returns for a page with a body)."""
    return (isinstance(size, list) and len(size) == 2
            and all(isinstance(n, int | float) and not isinstance(n, bool) and 0 < n < float("inf") for n in size))


async def _given(value: A) -> A:
    """`value`, as an awaitable: a step `_all_of` need not ask the page for."""
    return value
