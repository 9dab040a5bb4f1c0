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
from collections.abc import Awaitable, Callable
from typing import Any

Send = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]
# A frame as the caller knows it: None for the tab's main frame, else its (name, url).
FrameRef = tuple[str, str] | None

WORLD_NAME = "aggregator"

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


class PageWorld:
    """One tab's protocol session: scripts evaluated in our isolated world, full-page screenshots."""

    def __init__(self, send: Send, *, timeout_seconds: float) -> None:
        self._send_raw = send
        self._timeout = timeout_seconds

    async def _send(self, method: str, params: dict[str, Any], *keys: str) -> dict[str, Any]:
        """The protocol's answer, which must hold `keys`."""
        try:
            answer = await asyncio.wait_for(self._send_raw(method, params), self._timeout)
        except TimeoutError:
            raise WorldUnavailable(f"{method}: no answer in time") from None
        if not isinstance(answer, dict) or any(key not in answer for key in keys):
            raise WorldUnavailable(f"{method}: an answer without {', '.join(keys)}")
        return answer

    async def call(self, frame: FrameRef, function_js: str, *args: Any) -> Any:
        """What the script, written as a function, returns for these arguments (JSON-like, a promise
        awaited), run in our world in that frame's current document."""
        expression = f"({function_js})({', '.join(json.dumps(arg) for arg in args)})"
        frame_id = await self._frame_id(frame)
        # Chromium keeps one world per name and frame, and makes its context for the frame's current
        # document when first asked: after a navigation this is a new, empty world again.
        world = await self._send("Page.createIsolatedWorld", {"frameId": frame_id, "worldName": WORLD_NAME},
                                 "executionContextId")
        answer = await self._send("Runtime.evaluate", {
            "expression": expression, "contextId": world["executionContextId"],
            "returnByValue": True, "awaitPromise": True,
        })
        if "exceptionDetails" in answer:
            # Not the details: they may quote the page.
            raise WorldUnavailable("Runtime.evaluate: the script threw")
        result = answer.get("result", {})
        if "unserializableValue" in result:  # NaN, Infinity, -0, a BigInt: Playwright's evaluate returns them
            raise WorldUnavailable("Runtime.evaluate: a value JSON cannot carry")
        return result.get("value")

    async def _frame_id(self, frame: FrameRef) -> str:
        tree = (await self._send("Page.getFrameTree", {}, "frameTree"))["frameTree"]
        if frame is None:
            return str(tree.get("frame", {}).get("id", ""))
        name, url = frame
        # The protocol gives a URL's fragment apart; Playwright's frame.url includes it.
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


def _frames_below(node: dict[str, Any]) -> list[dict[str, Any]]:
    """Every frame under this node of `Page.getFrameTree`, at any depth."""
    below = []
    for child in node.get("childFrames", ()):
        below.append(child)
        below.extend(_frames_below(child))
    return below
