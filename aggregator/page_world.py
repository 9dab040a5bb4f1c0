"""Our scripts in a world of their own in each frame, and the page's screenshot, over the DevTools protocol.

Why: Playwright reads a page's HTML (`content()`) and measures it for a full-page screenshot through its
injected script, about 600 kB of JavaScript that Chromium compiles once in every new document. On the
sandbox portals that compile cost about 40 CPU-ms a page, a fifth of a lookup's browser CPU, for two
short questions (benchmarks/README.md, "Where the CPU goes": "A world of our own").

So `PortalSession` asks them here instead: an isolated world of our own in the frame (the page's scripts
cannot see or change it, as they cannot Playwright's), in which Chromium compiles only the few lines asked,
and `Page.captureScreenshot`, the call Playwright's screenshot ends in, with the same clip. The HTML is the
same string Playwright's `content()` builds (doctype, then the root element's markup), the PNG the same
pixels. Anything the protocol cannot do here (no such frame, a document gone mid-question, a script that
throws, no answer in time) raises `WorldUnavailable`, and the session asks Playwright as before, so a
failure is reported the way it always was.

This module speaks the protocol through a `send` function and knows nothing of Playwright.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

Send = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]
# A frame as the caller knows it: None for the tab's main frame, else its (name, url).
FrameRef = tuple[str, str] | None

WORLD_NAME = "aggregator"
# The global our world holds its mark in (`PageWorld`), and what a kept context without the mark throws.
_MARK = "__aggregatorWorldMark"
_UNMARKED = "aggregator: not our world"
# Frames whose context is kept at most; past it the kept ones are forgotten (and made again when asked).
_CONTEXTS_KEPT = 32

# Playwright's `content()` to the byte: the doctype as XMLSerializer writes it, then the root's outerHTML.
DOCUMENT_HTML_JS = """() => {
  const doctype = document.doctype ? new XMLSerializer().serializeToString(document.doctype) : "";
  return document.documentElement ? doctype + document.documentElement.outerHTML : doctype;
}"""

# The size Playwright gives a full-page screenshot, once the page's fonts are in (as its screenshot waits).
# null while the document has no body yet: the caller then lets Playwright wait for one.
FULL_PAGE_SIZE_JS = """async () => {
  await document.fonts.ready;
  const body = document.body, root = document.documentElement;
  if (!body || !root) return null;
  return [
    Math.max(body.scrollWidth, root.scrollWidth, body.offsetWidth, root.offsetWidth, body.clientWidth, root.clientWidth),
    Math.max(body.scrollHeight, root.scrollHeight, body.offsetHeight, root.offsetHeight, body.clientHeight, root.clientHeight),
  ];
}"""


class WorldUnavailable(Exception):
    """The protocol could not answer this question here; ask Playwright instead."""


class _NoAnswerInTime(WorldUnavailable):
    pass


class _StaleContext(WorldUnavailable):
    """A kept context is gone with its document, or is not our world: make ours again."""


class PageWorld:
    """One tab's protocol session: scripts evaluated in our isolated world, full-page screenshots."""

    def __init__(self, send: Send, *, timeout_seconds: float) -> None:
        self._send_raw = send
        self._timeout = timeout_seconds
        # Kept between questions, so that a question on a document already asked is one round trip, not three
        # (the frame tree, the world, the script): the main frame's id, which is the tab's for its whole life,
        # and per frame our world's context as last made. A context outlives nothing: a new document destroys
        # it, and a question to a destroyed one fails. Only its number could come back, naming another world
        # in another renderer process, so each of our worlds holds a mark no page can know or read (`_MARK`),
        # and a context without it is made again.
        self._main_frame_id: str | None = None
        self._contexts: dict[str, Any] = {}
        self._mark = secrets.token_hex(16)

    async def _send(self, method: str, params: dict[str, Any], *keys: str) -> dict[str, Any]:
        """The protocol's answer, which must hold `keys`."""
        try:
            answer = await asyncio.wait_for(self._send_raw(method, params), self._timeout)
        except TimeoutError:
            raise _NoAnswerInTime(f"{method}: no answer in time") from None
        if not isinstance(answer, dict) or any(key not in answer for key in keys):
            raise WorldUnavailable(f"{method}: an answer without {', '.join(keys)}")
        return answer

    async def call(self, frame: FrameRef, function_js: str, *args: Any) -> Any:
        """What the script, written as a function, returns for these arguments (JSON-like, a promise
        awaited), run in our world in that frame's current document."""
        call_js = f"({function_js})({', '.join(json.dumps(arg) for arg in args)})"
        frame_id = await self._frame_id(frame)
        context = self._contexts.get(frame_id)
        if context is not None:
            try:
                return await self._evaluate(context, f"(() => {{ if (globalThis.{_MARK} !== {json.dumps(self._mark)}) "
                                                     f"throw {json.dumps(_UNMARKED)}; return {call_js}; }})()")
            except _StaleContext:
                pass  # its document is gone: our world in the current one, made and marked below
        try:
            # Chromium keeps one world per name and frame, and makes its context for the frame's current
            # document when first asked: after a navigation this is a new, empty world again.
            world = await self._send("Page.createIsolatedWorld", {"frameId": frame_id, "worldName": WORLD_NAME},
                                     "executionContextId")
        except WorldUnavailable:
            if frame is None:
                self._main_frame_id = None  # asked again next time, should the tab ever have a new one
            raise
        context = world["executionContextId"]
        if len(self._contexts) >= _CONTEXTS_KEPT:
            self._contexts.clear()  # frames of documents long gone (a frameset loaded again)
        self._contexts[frame_id] = context
        return await self._evaluate(context, f"(() => {{ globalThis.{_MARK} = {json.dumps(self._mark)}; "
                                             f"return {call_js}; }})()", fresh=True)

    async def _evaluate(self, context: Any, expression: str, *, fresh: bool = False) -> Any:
        """The expression's value in that context. `_StaleContext` when a kept context is gone or is not ours."""
        try:
            answer = await self._send("Runtime.evaluate", {
                "expression": expression, "contextId": context, "returnByValue": True, "awaitPromise": True,
            })
        except _NoAnswerInTime:
            raise
        except WorldUnavailable:
            if fresh:
                raise
            raise _StaleContext("Runtime.evaluate: the context is gone") from None
        if "exceptionDetails" in answer:
            if not fresh and _thrown_value(answer["exceptionDetails"]) == _UNMARKED:
                raise _StaleContext("Runtime.evaluate: not our world")
            # Not the details: they may quote the page.
            raise WorldUnavailable("Runtime.evaluate: the script threw")
        result = answer.get("result", {})
        if "unserializableValue" in result:  # NaN, Infinity, -0, a BigInt: Playwright's evaluate returns them
            raise WorldUnavailable("Runtime.evaluate: a value JSON cannot carry")
        return result.get("value")

    async def _frame_id(self, frame: FrameRef) -> str:
        if frame is None and self._main_frame_id is not None:
            return self._main_frame_id
        tree = (await self._send("Page.getFrameTree", {}, "frameTree"))["frameTree"]
        if frame is None:
            self._main_frame_id = str(tree.get("frame", {}).get("id", ""))
            return self._main_frame_id
        name, url = frame
        # The protocol gives a URL's fragment apart; Playwright's frame.url includes it. Asked every time: which
        # frame a name and address mean changes with the page.
        frames = [node.get("frame", {}) for node in _frames_below(tree)]
        found = [frame["id"] for frame in frames if "id" in frame and frame.get("name", "") == name
                 and frame.get("url", "") + frame.get("urlFragment", "") == url]
        if len(found) != 1:
            raise WorldUnavailable(f"{len(found)} frames match")
        return str(found[0])

    async def screenshot_png(self, width: float, height: float, *, beyond_viewport: bool) -> bytes:
        """The page from its top-left corner, `width` x `height` CSS pixels at scale 1, as PNG: the call and
        clip Playwright's full-page screenshot makes."""
        answer = await self._send("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": beyond_viewport,
            "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
        })
        try:
            return base64.b64decode(answer["data"], validate=True)
        except (KeyError, binascii.Error):
            raise WorldUnavailable("Page.captureScreenshot: no image") from None


def _thrown_value(details: Any) -> Any:
    """What a script threw, from `Runtime.evaluate`'s exception details, when it threw a plain value."""
    exception = details.get("exception") if isinstance(details, dict) else None
    return exception.get("value") if isinstance(exception, dict) else None


def _frames_below(node: dict[str, Any]) -> list[dict[str, Any]]:
    """Every frame under this node of `Page.getFrameTree`, at any depth."""
    below = []
    for child in node.get("childFrames", ()):
        below.append(child)
        below.extend(_frames_below(child))
    return below
