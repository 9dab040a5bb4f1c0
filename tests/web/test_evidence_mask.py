"""Evidence masking (issue 12 item 8): the rules that find the signed-in portal user in stored HTML, the
boxes found on a live page at capture (main page and frames), and the masked PNG."""

from __future__ import annotations

from io import BytesIO

import pytest
from PIL import Image

from aggregator.browser import CapturedPage, PortalSession
from aggregator.evidence_mask import MASK_TEXT, MaskRules, clean_boxes, mask_html, mask_png
from aggregator.scrapers.framework.manifest import EvidenceMask
from aggregator.web.masking import rules_for

USER = "rm-frontdesk-4821"


def test_each_carrier_declares_its_masks_and_gets_the_defaults():
    assert "Logged in as" in rules_for("ridgeline").texts
    assert "header .user" in rules_for("bluepeak").selectors
    assert rules_for("no-such-carrier").texts == MaskRules().texts  # an unknown carrier still gets the defaults
    with pytest.raises(ValueError):
        EvidenceMask()
    with pytest.raises(ValueError):
        EvidenceMask(selector="b", text="Logged in as")


@pytest.mark.parametrize("html", [
    # Ridgeline's header: the phrase in <font>, the name in a <b> beside it.
    f'<table><tr><td align="right"><font size="1">Logged in as&nbsp;<b>{USER}</b></font></td></tr></table>',
    # The phrase and the name in one text node, inside a bar with other words.
    f"<div class=bar>Provider Portal | Signed in as {USER} | <a href=/logout>Log out</a></div>",
    # Upper case, extra spaces, a comment in between.
    f"<p>LOGGED   IN AS <!-- who --> <span><em>{USER}</em></span></p>",
    # The phrase alone in its own cell, the name in the next cell of the row.
    f"<table><tr><td><span>Logged on as:</span></td><td>{USER}</td></tr></table>",
])
def test_stored_html_is_masked_by_the_phrase(html: str):
    page = f"<html><body>{html}<h1>Eligibility</h1><p>Member RM123</p></body></html>"
    masked = mask_html(page, MaskRules())
    assert USER not in masked and MASK_TEXT in masked
    assert "Eligibility" in masked and "Member RM123" in masked  # the answer itself stays readable


def test_stored_html_is_masked_by_the_manifest_selector():
    page = (f'<html><body><header><span class="brand">BluePeak</span><span class="user">{USER}</span>'
            f'<input value="{USER}" class="user"></header><main><h1>Coverage</h1></main></body></html>')
    masked = mask_html(page, rules_for("bluepeak"))
    assert USER not in masked and "Coverage" in masked and "BluePeak" in masked


def test_pages_without_a_name_are_unchanged_in_content():
    page = "<html><body><h1>Claims</h1><table><tr><td>Paid</td><td>$10.00</td></tr></table></body></html>"
    masked = mask_html(page, rules_for("ridgeline"))
    assert MASK_TEXT not in masked and "$10.00" in masked and "Claims" in masked


def test_png_boxes_are_blacked_out_and_nothing_else():
    image = Image.new("RGB", (40, 30), (200, 210, 220))
    buffer = BytesIO()
    image.save(buffer, format="PNG")
    masked = Image.open(BytesIO(mask_png(buffer.getvalue(), [(5, 6, 10, 4)]))).convert("RGB")
    assert masked.getpixel((5, 6)) == masked.getpixel((14, 9)) == (0, 0, 0)
    assert masked.getpixel((4, 6)) == masked.getpixel((15, 9)) == masked.getpixel((5, 10)) == (200, 210, 220)


def test_clean_boxes_pads_shifts_and_drops_nonsense():
    assert clean_boxes([[10.4, 20.6, 5, 5], [0, 0, 0, 9], ["x", 1, 2, 3]], offset=(100, 0)) == [(107, 17, 12, 12)]


# --- at capture, in a real Chromium ---------------------------------------------------------------------------

HEADER_FRAME = f"<body style='margin:0'><div style='padding:20px 0 0 30px'>Signed in as <b>{USER}</b></div></body>"
PAGE = (f"<body style='margin:0'><header style='height:40px'><span class='brand'>BluePeak</span> "
        f"<span class='user' style='position:absolute; left:300px; top:10px'>{USER}</span></header>"
        "<iframe id='top' style='position:absolute; left:50px; top:100px; width:400px; height:80px; border:0' "
        f"srcdoc=\"{HEADER_FRAME}\"></iframe><div style='height:1500px'></div>"
        "<p id='far' style='position:absolute; top:1400px; left:10px'>Logged in as <b>someone</b></p></body>")


def _covers(boxes, box) -> bool:  # type: ignore[no-untyped-def]
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    return any(bx <= x and by <= y and bx + bw >= x + w and by + bh >= y + h for bx, by, bw, bh in boxes)


async def test_capture_records_the_boxes_in_the_page_and_in_frames(browser_pool):
    captured: list[CapturedPage] = []

    async def sink(page: CapturedPage) -> str:
        captured.append(page)
        return "e1"

    context = await browser_pool.new_context()
    try:
        page = await context.new_page()
        session = PortalSession(context, page, base_url="http://127.0.0.1:9", carrier="bluepeak",
                                account_label="desk", evidence_sink=sink)
        session.mask_rules = rules_for("bluepeak")
        await page.set_content(PAGE)
        frame = page.frame_locator("#top")
        await frame.locator("b").wait_for()
        await page.evaluate("window.scrollTo(0, 600)")  # boxes are in page coordinates, whatever the scroll
        await session.capture("test")
        boxes = captured[0].mask_boxes
        assert boxes is not None
        await page.evaluate("window.scrollTo(0, 0)")
        user_box = await page.locator("header .user").bounding_box()
        framed = await frame.locator("div").bounding_box()  # the element holding "Signed in as <b>name</b>"
        far = await page.locator("#far").bounding_box()
        assert _covers(boxes, user_box) and _covers(boxes, framed) and _covers(boxes, far), boxes
        brand = await page.locator(".brand").bounding_box()
        assert not _covers(boxes, brand)
        # The boxes land on the name in the screenshot itself: all black there once masked.
        shot = Image.open(BytesIO(mask_png(captured[0].screenshot_png, boxes))).convert("RGB")
        centre = (int(user_box["x"] + user_box["width"] / 2), int(user_box["y"] + user_box["height"] / 2))
        assert shot.getpixel(centre) == (0, 0, 0)
        # Without rules nothing is searched and nothing is recorded.
        session.mask_rules = None
        await session.capture("plain")
        assert captured[1].mask_boxes is None
    finally:
        await context.close()
