"""`PortalSession.capture`: the page's HTML and the boxes to mask are read at once, the screenshot after both;
HTML the caller just classified the page by is kept instead of read again (real Chromium, no portal needed)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from aggregator.browser import PortalSession, _all_of
from aggregator.evidence_mask import MaskRules
from aggregator.page_world import WorldUnavailable

PAGE = "<html><head><title>Result</title></head><body><p id=who>Member: Jane Roe</p><p>Plan: Gold</p></body></html>"


@pytest.fixture
async def session(blank_session: PortalSession) -> PortalSession:
    blank_session.mask_rules = MaskRules(selectors=("#who",), texts=())
    await blank_session._page.set_content(PAGE)
    return blank_session


async def test_a_capture_keeps_the_page_as_it_stands_with_its_masks_and_no_screenshot_styles(  # type: ignore[no-untyped-def]
        session: PortalSession) -> None:
    capture = await session.capture("result")
    [page] = session.stored  # type: ignore[attr-defined]
    assert capture.html == page.html == await session._page.content()
    assert "caret-color" not in page.html  # the style Playwright adds for the screenshot's moment is not kept
    assert page.screenshot_png.startswith(b"\x89PNG")
    [(x, y, width, height)] = page.mask_boxes  # over the member's line, where the screenshot shows it
    box = await session._page.locator("#who").bounding_box()
    assert box is not None and x <= box["x"] and y <= box["y"]
    assert x + width >= box["x"] + box["width"] and y + height >= box["y"] + box["height"]


async def test_html_the_page_was_classified_by_is_kept_not_read_again(session: PortalSession,  # type: ignore[no-untyped-def]
                                                                      monkeypatch) -> None:
    read = await session.html()

    async def read_again(*args: Any) -> str:
        raise AssertionError("the page was read a second time")

    monkeypatch.setattr(session, "_content", read_again)  # the read, in our world or by Playwright
    monkeypatch.setattr(session._page, "content", read_again)
    capture = await session.capture("result", html=read, appendix="<script>/* api */</script>")
    [page] = session.stored  # type: ignore[attr-defined]
    assert capture.html == page.html == read.replace("</body>", "<script>/* api */</script></body>")
    assert page.mask_boxes and page.screenshot_png.startswith(b"\x89PNG")


async def test_a_failed_read_fails_the_capture_and_stores_nothing(session: PortalSession,  # type: ignore[no-untyped-def]
                                                                  monkeypatch) -> None:
    async def broken() -> str:
        raise RuntimeError("the page went away")

    async def no_world(*args: Any) -> str:
        raise WorldUnavailable("Runtime.evaluate failed")

    monkeypatch.setattr(session, "_in_world", no_world)  # so the read falls back to Playwright's, which fails
    monkeypatch.setattr(session._page, "content", broken)
    with pytest.raises(RuntimeError, match="went away"):
        await session.capture("result")
    assert session.stored == []  # type: ignore[attr-defined]


async def test_both_steps_run_to_their_end_and_the_first_failure_is_raised() -> None:
    finished: list[str] = []
    other_started = asyncio.Event()

    async def fails(after: asyncio.Event | None = None) -> str:
        if after is not None:
            await after.wait()
        raise ValueError("first")

    async def slow(name: str) -> str:
        other_started.set()
        for _ in range(3):
            await asyncio.sleep(0)
        finished.append(name)
        return name

    assert await _all_of(slow("a"), slow("b")) == ("a", "b")
    with pytest.raises(ValueError, match="first"):
        await _all_of(fails(other_started), slow("c"))
    assert finished == ["a", "b", "c"]  # the step beside the failure was not left running: it ended first

    async def also_fails() -> str:
        raise KeyError("second")

    with pytest.raises(ValueError, match="first"):  # the failure of the first step given, whichever came first
        await _all_of(fails(other_started), also_fails())
