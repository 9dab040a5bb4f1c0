"""Each screenshot kept as evidence shows the page's full height: real lookups on every carrier's sandbox
portal, real Chromium, and every stored screenshot's height compared with the page's full height measured
on the live page at the moment of its capture.

The full height is what staff must be able to scroll through: the document's scroll height, or, on a
frameset portal, each frame's place in the tab plus its own document's scroll height (a frame scrolls
inside its box, so the screenshot must grow for it); in screenshot pixels (x the device scale factor).
The measurement reads the DOM itself, independently of how the session sizes its screenshot.
"""

from __future__ import annotations

import struct
from typing import Any

import pytest

from aggregator.browser import MAX_SCREENSHOT_HEIGHT, Capture, PortalSession
from aggregator.evidence import SnapshotFiles
from aggregator.models import AuthorizationQuery
from aggregator.scrapers.framework import Capability, CarrierAdapter
from sandbox import ground_truth
from sandbox.ground_truth import sample_members
from tests.carrier_params import every_payer

KINDS = ("active_subscriber", "not_found")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

DOCUMENT_HEIGHT_JS = """() => Math.max(document.documentElement.scrollHeight,
                                       document.body ? document.body.scrollHeight : 0)"""


async def full_height(session: PortalSession) -> int:
    """The height, in screenshot pixels, that shows the whole tab and every frame's whole document."""
    page = session._page
    heights = [float(await page.evaluate(DOCUMENT_HEIGHT_JS))]
    # A frame's document is shown by growing the viewport, which stops at MAX_SCREENSHOT_HEIGHT; the tab's
    # own document is captured whole whatever its height.
    for frame in page.frames:
        if frame is page.main_frame:
            continue
        box = await (await frame.frame_element()).bounding_box()
        if box is None:
            continue  # not displayed
        heights.append(min(box["y"] + await frame.evaluate(DOCUMENT_HEIGHT_JS), MAX_SCREENSHOT_HEIGHT))
    ratio = float(await page.evaluate("() => window.devicePixelRatio || 1"))
    return round(max(heights) * ratio)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE, "evidence screenshots are PNG"
    width, height = struct.unpack(">II", data[16:24])  # IHDR
    return width, height


@pytest.mark.parametrize(("adapter", "payer"), every_payer())  # a hub: each payer's pages (layouts) of its own
async def test_every_stored_screenshot_shows_the_full_height_of_its_page(
        adapter: type[CarrierAdapter], payer: str, make_runner, sandbox, portals, settings, monkeypatch) -> None:
    slug = adapter.manifest.slug
    state = sandbox.hubs[slug].hub if slug in sandbox.hubs else portals[slug]  # the data the portal shows now
    measured: dict[str, int] = {}
    capture = PortalSession.capture

    async def measuring_capture(self: PortalSession, label: str, **options: Any) -> Capture:
        height = await full_height(self)  # the page as it stands when the session captures it
        result = await capture(self, label, **options)
        measured[result.evidence_id] = height
        return result

    monkeypatch.setattr(PortalSession, "capture", measuring_capture)
    capabilities = adapter.manifest.capabilities
    async with make_runner() as runner:
        if Capability.ELIGIBILITY in capabilities:
            for sample in sample_members(state, payer, len(KINDS), kinds=KINDS):
                await runner.eligibility(payer, sample.query, portal=slug)
        if Capability.AUTHORIZATION in capabilities:
            holder = ground_truth.members_with_authorizations(state, payer)[0]
            await runner.authorizations(payer, AuthorizationQuery(member_id=holder.member_id,
                                                                  date_of_birth=holder.date_of_birth), portal=slug)
        if Capability.CLAIM_STATUS in capabilities:
            member = ground_truth.members_with_many_claims(state, payer, minimum=1)[-1]  # fewest claims
            await runner.claims(payer, ground_truth.member_claims_query(state, payer, member.member_id), portal=slug)
        rows = list(runner.repository.evidence_chain())

    files = SnapshotFiles(settings.resolved_snapshots_dir)
    assert rows, f"{slug}: the lookups stored no evidence"
    for row in rows:
        assert row.id in measured, f"{slug}: evidence {row.label} was stored without PortalSession.capture"
        _, height = png_size(files.path(row.screenshot_path).read_bytes())
        assert height == measured[row.id], (slug, row.label, height, measured[row.id])
