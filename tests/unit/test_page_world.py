"""`PageWorld` against a protocol that answers oddly: every such answer is WorldUnavailable (so the session asks
Playwright), never another exception (no browser needed)."""

from __future__ import annotations

from typing import Any

import pytest

from aggregator.page_world import PageWorld, WorldUnavailable

TREE = {"frameTree": {"frame": {"id": "main"}, "childFrames": [
    {"frame": {"id": "f1", "name": "content", "url": "http://portal/a", "urlFragment": "#top"}}]}}


def world(answers: dict[str, Any]) -> PageWorld:
    async def send(method: str, params: dict[str, Any]) -> Any:
        return answers[method]

    return PageWorld(send, timeout_seconds=5)


@pytest.mark.parametrize("answers", [
    {"Page.getFrameTree": {}},
    {"Page.getFrameTree": TREE, "Page.createIsolatedWorld": {}},
    {"Page.getFrameTree": TREE, "Page.createIsolatedWorld": None},
    {"Page.getFrameTree": TREE, "Page.createIsolatedWorld": {"executionContextId": 1},
     "Runtime.evaluate": {"exceptionDetails": {"text": "Uncaught"}}},
    {"Page.getFrameTree": TREE, "Page.createIsolatedWorld": {"executionContextId": 1},
     "Runtime.evaluate": {"result": {"type": "number", "unserializableValue": "NaN"}}},
])
async def test_an_odd_answer_is_world_unavailable(answers: dict[str, Any]) -> None:
    with pytest.raises(WorldUnavailable):
        await world(answers).call(None, "() => 1")


async def test_a_frame_is_found_by_name_and_address_with_its_fragment() -> None:
    answers = {"Page.getFrameTree": TREE, "Page.createIsolatedWorld": {"executionContextId": 1},
               "Runtime.evaluate": {"result": {"type": "number", "value": 2}}}
    assert await world(answers).call(("content", "http://portal/a#top"), "(n) => n + 1", 1) == 2
    with pytest.raises(WorldUnavailable, match="0 frames match"):
        await world(answers).call(("content", "http://portal/a"), "() => 1")


async def test_a_screenshot_without_an_image_is_world_unavailable() -> None:
    with pytest.raises(WorldUnavailable, match="no image"):
        await world({"Page.captureScreenshot": {"data": "not base64!"}}).screenshot_png(10, 10, beyond_viewport=False)
