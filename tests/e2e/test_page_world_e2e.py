"""Questions the session asks the page in a world of its own (aggregator/page_world.py) give what Playwright's
own calls give: the same HTML to the byte, the same screenshot pixels; and where the protocol cannot answer,
Playwright does (real Chromium, no portal needed)."""

from __future__ import annotations

import asyncio
import io
import math
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Frame

from aggregator.browser import PortalSession
from aggregator.page_world import WorldUnavailable

RECORDED = Path(__file__).resolve().parents[1] / "recorded_pages"
# One recorded page of each carrier and flow: real portals' markup (framesets, tables, scripts, old doctypes).
SAMPLES = sorted(next(iter(sorted(folder.glob("*.html")))) for folder in RECORDED.glob("*/*") if any(folder.glob("*.html")))

DOCUMENTS = {
    "html5": "<!DOCTYPE html><html><head><title>t</title></head><body><p>Tom &amp; Jerry &lt;3</p></body></html>",
    "legacy doctype": ('<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN" '
                       '"http://www.w3.org/TR/html4/loose.dtd"><html><body><table><tr><td>1</td></tr></table></body></html>'),
    "no doctype": "<html><body><font size=2>Eligible</font></body></html>",
    "comment before the root": "<!-- generated --><!DOCTYPE html><html><body>x</body></html>",
    "the page forging the serializers": (
        "<!DOCTYPE html><html><body><p>real</p><script>"
        "XMLSerializer.prototype.serializeToString = () => 'forged';"
        "Object.defineProperty(Element.prototype, 'outerHTML', {get() { return 'forged'; }});"
        "</script></body></html>"),
}


@pytest.fixture
def session(blank_session: PortalSession) -> PortalSession:
    return blank_session


def pixels(png: bytes) -> tuple[tuple[int, int], bytes]:
    image = Image.open(io.BytesIO(png)).convert("RGBA")
    return image.size, image.tobytes()


async def test_the_html_read_in_our_world_is_playwrights_content_to_the_byte(  # type: ignore[no-untyped-def]
        session: PortalSession, monkeypatch) -> None:
    documents = [*DOCUMENTS.values(), *(path.read_text(encoding="utf-8") for path in SAMPLES)]
    assert len(SAMPLES) >= 10
    expected = []
    for document in documents:
        await session._page.set_content(document)
        expected.append(await session._page.content())

    async def playwright_read() -> str:
        raise AssertionError("read by Playwright, not in our world")

    monkeypatch.setattr(session._page, "content", playwright_read)
    for document, wanted in zip(documents, expected, strict=True):
        await session._page.set_content(document)
        assert await session.html() == wanted
    assert expected[4].startswith("<!DOCTYPE html><html><head></head><body><p>real</p><script>")  # not "forged"


async def frameset(session: PortalSession, frames: str) -> Frame:
    """The tab shows a frameset of these frames; its frame named "main" is the session's content frame."""
    session.content_frame = "main"
    await session._page.set_content(f'<frameset rows="50%,*">{frames}</frameset>')
    await session._page.wait_for_load_state("load")
    frame = session._page.frame(name="main")
    assert frame is not None
    return frame


async def test_a_content_frame_is_read_in_its_own_document(session: PortalSession) -> None:
    frame = await frameset(session, '<frame name="banner" src="data:text/html,banner">'
                                    '<frame name="main" src="data:text/html,<p>member</p>#top">')
    assert await session._in_world(frame, "() => document.body.innerHTML") == "<p>member</p>"
    assert await session.html() == await frame.content()


async def test_two_frames_of_one_name_and_address_are_read_by_playwright(session: PortalSession) -> None:
    frame = await frameset(session, '<frame name="main" src="data:text/html,one">' * 2)
    with pytest.raises(WorldUnavailable, match="2 frames match"):
        await session._in_world(frame, "() => 1")
    assert await session.html() == await frame.content()


@pytest.mark.parametrize("body", [
    "<p>fits the viewport</p>",
    "<div style='height:2600px;background:linear-gradient(red,blue)'>tall</div><p>bottom</p>",
    "<div style='width:3000px;height:1200px;background:linear-gradient(90deg,green,white)'>wide and tall</div>",
])
async def test_the_full_page_screenshot_has_playwrights_pixels(session: PortalSession, body: str) -> None:
    await session._page.set_content(f"<!DOCTYPE html><html><body>{body}</body></html>")
    ours = await session._full_page_png()
    theirs = await session._page.screenshot(full_page=True, type="png")
    assert pixels(ours) == pixels(theirs)
    assert session._page.viewport_size == {"width": 1280, "height": 900}


async def test_without_a_protocol_session_playwright_answers_every_question(  # type: ignore[no-untyped-def]
        session: PortalSession, monkeypatch) -> None:
    async def refused(page: Any) -> Any:
        raise PlaywrightError("not Chromium")

    monkeypatch.setattr(session._context, "new_cdp_session", refused)
    await session._page.set_content(DOCUMENTS["html5"])
    assert await session.html() == await session._page.content()
    assert pixels(await session._full_page_png()) == pixels(await session._page.screenshot(full_page=True, type="png"))
    assert await session._evaluate(session._page, "(n) => n + 1", 41) == 42
    assert session._world_refused


async def test_a_script_that_throws_in_our_world_is_asked_of_playwright(session: PortalSession) -> None:
    await session._page.set_content(DOCUMENTS["html5"])
    with pytest.raises(WorldUnavailable, match="threw"):
        await session._in_world(session._page, "() => { throw new Error('no'); }")
    with pytest.raises(PlaywrightError, match="no"):  # Playwright's failure, as before this world
        await session._evaluate(session._page, "() => { throw new Error('no'); }")
    assert await session._evaluate(session._page, "(rows) => rows.length", [[1], [2]]) == 2
    with pytest.raises(WorldUnavailable, match="JSON cannot carry"):  # NaN: Playwright's evaluate returns it
        await session._in_world(session._page, "() => 0 / 0")
    assert math.isnan(await session._evaluate(session._page, "() => 0 / 0"))


async def test_questions_asked_at_once_share_one_protocol_session(  # type: ignore[no-untyped-def]
        session: PortalSession, monkeypatch) -> None:
    opened = []
    open_session = session._context.new_cdp_session

    async def counted(page: Any) -> Any:
        opened.append(page)
        return await open_session(page)

    monkeypatch.setattr(session._context, "new_cdp_session", counted)
    await session._page.set_content(DOCUMENTS["html5"])
    html, title = await asyncio.gather(session.html(), session._in_world(session._page, "() => document.title"))
    assert html.startswith("<!DOCTYPE html>") and title == "t"
    assert len(opened) == 1


async def recorded_sends(session: PortalSession, monkeypatch) -> list[str]:  # type: ignore[no-untyped-def]
    """The protocol methods the session's world sends from now on, in order."""
    world = await session._page_world()
    sent: list[str] = []
    send = world._send_raw

    async def recorded(method: str, params: dict[str, Any]) -> dict[str, Any]:
        sent.append(method)
        return await send(method, params)

    monkeypatch.setattr(world, "_send_raw", recorded)
    return sent


async def test_a_document_already_asked_is_asked_in_one_round_trip_and_a_new_one_in_its_own_world(  # type: ignore[no-untyped-def]
        session: PortalSession, monkeypatch) -> None:
    sent = await recorded_sends(session, monkeypatch)
    await session._page.goto("data:text/html,<title>one</title>")
    assert await session._in_world(session._page, "() => document.title") == "one"
    assert sent == ["Page.getFrameTree", "Page.createIsolatedWorld", "Runtime.evaluate"]
    sent.clear()
    assert await session._in_world(session._page, "(n) => document.title + n", 1) == "one1"
    assert sent == ["Runtime.evaluate"]
    sent.clear()
    # A new document: the kept context went with the old one; our world is made in the new one.
    await session._page.goto("data:text/html,<title>two</title>")
    assert await session._in_world(session._page, "() => document.title") == "two"
    assert sent == ["Runtime.evaluate", "Page.createIsolatedWorld", "Runtime.evaluate"]
    sent.clear()
    assert await session.html() == await session._page.content()
    assert sent == ["Runtime.evaluate"]


async def test_a_kept_context_that_names_another_world_is_never_asked_for_an_answer(  # type: ignore[no-untyped-def]
        session: PortalSession, monkeypatch) -> None:
    """A context's number names another world once its own is gone (another renderer process counts from
    the same numbers): the session must not read the page through a world the page's scripts may have changed."""
    await session._page.set_content(DOCUMENTS["html5"])
    assert await session.html() == await session._page.content()
    world = await session._page_world()
    frame_id = world._main_frame_id
    assert frame_id is not None and frame_id in world._contexts
    impostor = await world._send_raw("Page.createIsolatedWorld", {"frameId": frame_id, "worldName": "impostor"})
    await world._send_raw("Runtime.evaluate", {"contextId": impostor["executionContextId"], "expression": (
        "globalThis.__aggregatorWorldMark = 'guessed';"
        "XMLSerializer.prototype.serializeToString = () => 'forged';"
        "Object.defineProperty(Element.prototype, 'outerHTML', {get() { return 'forged'; }});")})
    world._contexts[frame_id] = impostor["executionContextId"]
    sent = await recorded_sends(session, monkeypatch)
    assert await session.html() == await session._page.content()
    assert sent == ["Runtime.evaluate", "Page.createIsolatedWorld", "Runtime.evaluate"]
    assert world._contexts[frame_id] != impostor["executionContextId"]
