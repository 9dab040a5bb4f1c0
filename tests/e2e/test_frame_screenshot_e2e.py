"""A frameset's content frame scrolls inside its own box: its evidence screenshot must still show the
frame's whole document, not only what fits in the viewport (real Chromium, no portal needed)."""

from __future__ import annotations

import struct

from aggregator.browser import PortalSession

TALL = "data:text/html,<div style='height:2500px'>top</div><p>bottom</p>"
SHORT = "data:text/html,<p>short</p>"


async def screenshot_size(browser_pool, frame_src: str) -> tuple[tuple[int, int], dict]:  # type: ignore[no-untyped-def]
    sizes = []

    async def sink(page) -> str:  # type: ignore[no-untyped-def]
        sizes.append(struct.unpack(">II", page.screenshot_png[16:24]))  # PNG IHDR width, height
        return "evidence-1"

    session = await PortalSession.open(browser_pool, base_url="http://127.0.0.1:9", carrier="test",
                                       account_label="test", evidence_sink=sink)
    try:
        session.content_frame = "main"
        await session._page.set_content(
            f'<frameset rows="60,*"><frame name="banner" src="data:text/html,banner"><frame name="main" src="{frame_src}">'
            "</frameset>")
        await session._page.wait_for_load_state("load")
        await session.capture("frame")
        return sizes[0], session._page.viewport_size
    finally:
        await session.close()


async def test_a_tall_frame_is_captured_whole_and_the_viewport_put_back(browser_pool) -> None:  # type: ignore[no-untyped-def]
    (width, height), viewport = await screenshot_size(browser_pool, TALL)
    assert width == 1280 and height >= 2500 + 60
    assert viewport == {"width": 1280, "height": 900}


async def test_a_frame_that_fits_is_captured_at_the_viewport(browser_pool) -> None:  # type: ignore[no-untyped-def]
    (width, height), _ = await screenshot_size(browser_pool, SHORT)
    assert (width, height) == (1280, 900)
