"""Recording from a "live" portal: the sandbox, treated as unknown.

The product's live recorder (aggregator.recording.live, what `aggregator record` runs) looks a member up in
a sandbox portal with a real Chromium, scrubs the pages and writes recorded cases. It is told nothing of
the sandbox: it scrubs from the query, the parsed answer and its own patterns. The sandbox's ground truth
is used here only to CHECK: no value of the member (names, ids, date of birth, claim and authorization
numbers) is left anywhere in the written files, in any encoding we know of; and every written page parses
to the ground truth of that page with the same replacements applied.
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest

from aggregator.models import AuthorizationQuery, ClaimQuery
from aggregator.recording.cases import QUERY_MODELS, canonical, offline_parse, read_expected
from aggregator.recording.live import record_lookup, scrub_recording, write_cases
from aggregator.scrapers.registry import adapter_for
from sandbox import ground_truth
from sandbox.carriers import payer_source
from tests.carrier_params import payer_id, portal_payers

SALT = b"tests/recording: a fixed key, so a failure is reproducible"
# (portal, payer): a carrier's own site once, a hub once per payer it serves (its manifest's served_payers()).
PORTAL_PAYERS = [(a.manifest.slug, payer) for a, payer in portal_payers()]


def _eligible(slug: str) -> bool:
    from aggregator.scrapers.framework import Capability

    return Capability.ELIGIBILITY in adapter_for(slug).manifest.capabilities


def _param(slug: str, payer: str, *rest: str) -> Any:
    """One (portal, payer, ...) param; at a hub, skipped while the live recorder cannot name the payer (it
    asks the portal itself, and a hub is no payer): a reason read from the recorder and the manifest."""
    import inspect

    marks = []
    if adapter_for(slug).manifest.is_hub and "payer" not in inspect.signature(record_lookup).parameters:
        marks.append(pytest.mark.skip(reason=f"{slug} serves several payers and record_lookup takes no payer yet"))
    return pytest.param(slug, payer, *rest, id="/".join((payer_id(adapter_for(slug), payer), *rest)), marks=marks)


async def _record(settings: Any, vault: Any, browser_pool: Any, sandbox: Any, slug: str, flow: str, query: Any,
                  out: Path, payer: str | None = None) -> Any:
    for state in sandbox.states.values():
        state.reset()
    sandbox.reset_hubs()
    quiet = settings.model_copy(update={"respect_maintenance_windows": False})
    at_payer = {"payer": payer} if payer is not None and payer != slug else {}  # a hub: which of its payers
    recording = await record_lookup(quiet, portal=slug, flow=flow, query=query, base_urls=sandbox.urls,
                                    pool=browser_pool, **at_payer)
    scrubbed = scrub_recording(recording, name="live_case", salt=SALT)
    assert scrubbed.problems == [], scrubbed.problems
    written = write_cases(scrubbed, out, confirmed=True)
    assert written
    assert (recording.folder.stat().st_mode & 0o077) == 0, "the raw folder is the owner's alone"
    return recording, scrubbed, written


# --- what must not remain -----------------------------------------------------------------------------

def _date_spellings(day: date) -> list[str]:
    """Written independently of the scrubber: the ways a page may print a date."""
    m, d, y = day.month, day.day, day.year
    month = day.strftime("%B")
    return [day.isoformat(), f"{m:02d}/{d:02d}/{y}", f"{m}/{d}/{y}", f"{m:02d}-{d:02d}-{y}", f"{m:02d}/{d:02d}/{y % 100:02d}",
            f"{y}{m:02d}{d:02d}", f"{m:02d}{d:02d}{y}", f"{month[:3]} {d}, {y}", f"{month[:3]} {d:02d}, {y}",
            f"{month} {d}, {y}", f"{d} {month[:3]} {y}", f"{y}/{m:02d}/{d:02d}"]


def _spellings(value: str) -> set[str]:
    return {value, html.escape(value), html.escape(value).replace("&#x27;", "&#39;"), quote(value, safe=""),
            quote_plus(value), json.dumps(value)[1:-1]}


def _texts(path: Path) -> list[str]:
    """A file's text, and the text of every base64 blob in it (a view state can carry the query)."""
    text = path.read_bytes().decode("utf-8", errors="replace")
    found = [text]
    for blob in re.findall(r"[A-Za-z0-9+/]{16,}={0,2}", text):
        try:
            found.append(base64.b64decode(blob, validate=True).decode("utf-8", errors="replace"))
        except (binascii.Error, ValueError):
            continue
    return found


def _leaks(files: list[Path], values: dict[str, str], dates: dict[str, date]) -> list[str]:
    leaks = []
    for path in files:
        for text in _texts(path):
            folded = text.casefold()
            for what, value in values.items():
                for spelling in _spellings(value):
                    found = re.search(rf"(?<![a-z0-9]){re.escape(spelling.casefold())}(?![a-z0-9])", folded)
                    if found:  # sandbox data: the context may be shown
                        leaks.append(f"{path.name}: {what} in ...{text[max(0, found.start() - 60):found.end() + 20]}...")
            for what, day in dates.items():
                for spelling in {s for form in _date_spellings(day) for s in _spellings(form)}:
                    if re.search(rf"(?<![0-9]){re.escape(spelling.casefold())}(?![0-9])", folded):
                        leaks.append(f"{path.name}: {what} as {spelling!r} (format)")
    return sorted(set(leaks))


def _member_values(dataset: Any, slug: str, member_id: str) -> tuple[dict[str, str], dict[str, date]]:
    data = dataset.carrier(slug)
    member = data.member(member_id)
    values = {"member id": member.member_id, "subscriber id": member.subscriber_id,
              "first name": member.first_name, "last name": member.last_name}
    dates = {"date of birth": member.date_of_birth}
    subscriber = data.member(member.subscriber_id)
    if subscriber is not None and subscriber.member_id != member.member_id:
        values.update({"subscriber's first name": subscriber.first_name, "subscriber's last name": subscriber.last_name})
    for auth in data.authorizations_for(member_id):
        values[f"authorization {auth.auth_number[-4:]}"] = auth.auth_number
    for claim in data.claims_for(member_id):
        values[f"claim {claim.claim_number[-4:]}"] = claim.claim_number
    return values, dates


def _written_files(written: list[Path]) -> list[Path]:
    return [f for page in written for f in (page, page.with_name(page.stem + ".expected.json"))]


# --- the scrubbed parse is the scrubbed ground truth ---------------------------------------------------

def _page_truths(dataset: Any, slug: str, flow: str, query: Any) -> list[Any]:
    """The ground truth of every page this lookup can show (sandbox.ground_truth.recorded_page)."""
    answer = ground_truth.recorded_page(dataset, slug, flow, query, "answer")
    pages = ["answer", "auth-list", "claim-report", *(f"claim-results:{i}" for i in range(1, 30))]
    for record in getattr(answer, "authorizations", ()):
        pages.append(f"auth:{record.auth_number}")
    for record in getattr(answer, "claims", ()):
        pages += [f"claim:{record.payer_claim_number}", f"eob-offer:{record.payer_claim_number}"]
    truths = []
    for page in pages:
        try:
            truths.append(ground_truth.recorded_page(dataset, slug, flow, query, page).model_dump(mode="json"))
        except ValueError:
            continue
    return truths


def _check_parses_to_scrubbed_truth(written: list[Path], scrubber: Any, slug: str, flow: str, truths: list[Any]) -> None:
    # In a fixed list order: a parser may list records by a number the scrubber replaced.
    scrubbed_truths = [canonical(scrubber.scrub_json(t)) for t in truths]
    for page in written:
        expected = read_expected(page)
        query = QUERY_MODELS[flow].model_validate(expected["query"])
        parsed = offline_parse(adapter_for(slug), flow, page.read_bytes(), query)
        assert "record" in parsed, (page.name, parsed)
        assert parsed["record"] == expected["record"], page.name
        assert canonical(parsed["record"]) in scrubbed_truths, f"{page.name}: not the scrubbed ground truth of any page"


# --- the tests -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("slug", "payer"), [_param(s, p) for s, p in PORTAL_PAYERS if _eligible(s)])
@pytest.mark.parametrize("kind", ["dependent", "active_subscriber"])
async def test_live_eligibility_recording_is_scrubbed_and_reads_as_scrubbed_ground_truth(
        slug: str, payer: str, kind: str, settings: Any, vault: Any, browser_pool: Any, sandbox: Any,
        tmp_path: Path) -> None:
    dataset = payer_source(sandbox.dataset, payer)  # the payer's data (a hub-only payer's: the hub's)
    sample = ground_truth.sample_members(dataset, payer, 1, kinds=(kind,))[0]
    query = sample.query.model_copy(update={"last_name": sample.member.last_name})  # the name is in the query too
    recording, scrubbed, written = await _record(settings, vault, browser_pool, sandbox, slug, "eligibility",
                                                 query, tmp_path / "out", payer)
    values, dates = _member_values(dataset, payer, query.member_id)
    assert _leaks(_written_files(written), values, dates) == []
    truth = ground_truth.recorded_page(dataset, payer, "eligibility", query, "answer").model_dump(mode="json")
    _check_parses_to_scrubbed_truth(written, scrubbed.scrubber, slug, "eligibility", [truth])
    # The raw pages are kept for the person, unscrubbed: the check above is not vacuous.
    assert _leaks(sorted((recording.folder / "raw").glob("*.html")), values, dates)


def _activity_member(dataset: Any, slug: str, flow: str) -> Any:
    if flow == "authorization":
        return ground_truth.members_with_authorizations(dataset, slug, minimum=2)[0]
    return ground_truth.members_with_many_claims(dataset, slug)[0]


def _activity_query(dataset: Any, member: Any, flow: str) -> Any:
    if flow == "authorization":
        return AuthorizationQuery(member_id=member.member_id, date_of_birth=member.date_of_birth)
    return ClaimQuery(member_id=member.member_id, date_of_birth=member.date_of_birth,
                      service_from=dataset.as_of - timedelta(days=365), service_to=dataset.as_of)


ACTIVITY = [(slug, payer, flow) for slug, payer in PORTAL_PAYERS
            for flow, capability in (("authorization", "authorization"), ("claim_status", "claim_status"))
            if capability in {c.value for c in adapter_for(slug).manifest.capabilities}]


@pytest.mark.parametrize(("slug", "payer", "flow"), [_param(*a) for a in ACTIVITY])
async def test_live_activity_recording_is_scrubbed_and_reads_as_scrubbed_ground_truth(
        slug: str, payer: str, flow: str, settings: Any, vault: Any, browser_pool: Any, sandbox: Any,
        tmp_path: Path) -> None:
    dataset = payer_source(sandbox.dataset, payer)
    member = _activity_member(dataset, payer, flow)
    query = _activity_query(dataset, member, flow)
    _, scrubbed, written = await _record(settings, vault, browser_pool, sandbox, slug, flow, query, tmp_path / "out",
                                         payer)
    # Every page the answer came from that reads as an answer on its own (a list and its detail pages, or a
    # single-page app's one screen).
    assert written
    values, dates = _member_values(dataset, payer, member.member_id)
    assert _leaks(_written_files(written), values, dates) == []
    _check_parses_to_scrubbed_truth(written, scrubbed.scrubber, slug, flow, _page_truths(dataset, payer, flow, query))
