"""Recording from a real portal: one lookup -> scrubbed recorded cases, reviewed by a person before writing.

`record_lookup` runs the carrier's adapter through the real runner, with the account's credentials and
saved session from the vault exactly as a lookup does, but with its database and evidence in a private
folder (0700, `<data_dir>/recordings/<time>-<slug>-<flow>/`): the raw pages, screenshots and the parsed
answer stay there, for the person to delete. The product's own records are not touched.

`scrub_recording` keeps the pages the answer came from (those its provenance names; for a lookup that
ended in "needs attention", the last page), replaces the member's values with synthetic ones
(aggregator/recording/scrub.py) -- known from the query, from what the adapter parsed and from the
account's portal username, plus phone/address/NPI patterns -- and parses every scrubbed page again. A page
is refused (nothing written) when its scrubbed parse is not its original parse under the same replacements
(the scrub changed more than values), when an original value is still found in it, or when it is a
document (PDFs are not scrubbed). The expected answers are the parser's output on the scrubbed pages:
they are shown to a person, and `write_cases` writes them only after that person confirms (the CLI asks;
`--yes` is for tests).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aggregator.errors import Outcome
from aggregator.recording.capture import CapturedPage, captured_pages, lookup, private_settings
from aggregator.recording.cases import (
    PAGE_SUFFIX,
    QUERY_MODELS,
    canonical,
    case_path,
    differing_fields,
    expected_content,
    offline_parse,
    write_case,
)
from aggregator.recording.scrub import Scrubber
from aggregator.settings import Settings, private_data_dir

# Outcomes whose pages make a case: an answer, a definite "no such member", a page the parser refused.
RECORDABLE = (Outcome.FOUND, Outcome.NOT_FOUND, Outcome.NEEDS_ATTENTION)
KINDS = {"eligibility": "eligibility", "authorizations": "authorization", "claims": "claim_status"}


@dataclass
class Recording:
    """A finished live lookup and everything it captured (raw: the member's real data)."""

    folder: Path  # private
    slug: str
    flow: str
    query: Any
    result: Any  # aggregator.runner.LookupResult
    pages: list[CapturedPage]
    username: str | None = None  # the portal account's user name, shown on pages ("Logged in as ...")


@dataclass
class LiveCase:
    """One scrubbed page and its expected answer, ready to be reviewed and written."""

    name: str
    flow: str
    label: str
    content: bytes
    expected: dict[str, Any]


@dataclass
class ScrubbedRecording:
    slug: str
    cases: list[LiveCase] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # value-free; any problem: nothing may be written
    skipped: list[str] = field(default_factory=list)  # captures not kept (documents), value-free
    replaced: dict[str, int] = field(default_factory=dict)  # how many values of each kind were replaced
    scrubber: Scrubber | None = None  # holds the originals: for checks, never for display


def recording_folder(settings: Settings, slug: str, flow: str) -> Path:
    """A new private folder for one recording's raw pages, under the data directory."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    root = private_data_dir(settings.resolved_data_dir / "recordings", what="the recordings folder")
    return private_data_dir(root / f"{stamp}-{slug}-{flow}", what="the recording folder")


async def record_lookup(settings: Settings, *, portal: str, flow: str, query: Any, account_label: str | None = None,
                        base_urls: dict[str, str] | None = None, folder: Path | None = None,
                        pool: Any = None) -> Recording:
    """Run one lookup against the portal and keep everything it captured in a private folder (`pool`: a
    running BrowserPool to use, else one is started for this lookup)."""
    from aggregator.browser import BrowserPool
    from aggregator.runner import Runner
    from aggregator.scrapers.registry import adapter_for
    from aggregator.store import Repository
    from vault.configured import open_vault

    slug = adapter_for(portal).manifest.slug
    folder = folder or recording_folder(settings, slug, flow)
    vault = open_vault(settings)
    private = private_settings(settings, folder)
    repository = Repository.open(private.resolved_database_url)

    async def run(browsers: Any) -> Any:
        runner = Runner(settings=private, repository=repository, vault=vault, pool=browsers, base_urls=base_urls)
        try:
            return await lookup(runner, slug, flow, query, source="record", account_label=account_label)
        finally:
            await runner.close()

    try:
        if pool is None:
            async with BrowserPool(private) as own:
                result = await run(own)
        else:
            result = await run(pool)
        pages = captured_pages(result, private.resolved_snapshots_dir)
    finally:
        repository.engine.dispose()
    username = None
    if result.account_label is not None:
        account = next((a for a in vault.accounts(slug) if a.label == result.account_label), None)
        username = account.username.get_secret_value() if account is not None else None
    recording = Recording(folder, slug, flow, query, result, pages, username)
    _keep_raw(recording)
    return recording


def _keep_raw(recording: Recording) -> None:
    """Readable copies of what was captured, in capture order, and the parsed answer (private folder)."""
    raw = recording.folder / "raw"
    raw.mkdir(mode=0o700, exist_ok=True)
    for page in recording.pages:
        stem = f"{page.index:02d}-{_safe(page.label)}"
        (raw / f"{stem}.html").write_bytes(page.html)
        if page.document is not None:
            (raw / f"{stem}.document").write_bytes(page.document)
    answer = recording.result.answer
    (raw / "answer.json").write_text(json.dumps({
        "outcome": recording.result.outcome.value, "reason": recording.result.reason,
        "answer": answer.model_dump(mode="json") if answer is not None else None}, indent=2, sort_keys=True))


def kept_pages(recording: Recording) -> list[CapturedPage]:
    """The pages a case keeps: those the answer came from; for a refusal, the page it stopped on."""
    if recording.result.outcome not in RECORDABLE:
        return []
    if recording.result.answer is not None:
        return [p for p in recording.pages if p.in_answer]
    return recording.pages[-1:]


def scrub_recording(recording: Recording, *, name: str, salt: bytes | None = None) -> ScrubbedRecording:
    """The scrubbed cases of a recording, each re-parsed and checked (see the module docstring)."""
    from aggregator.scrapers.registry import adapter_for

    adapter = adapter_for(recording.slug)
    out = ScrubbedRecording(recording.slug)
    result = recording.result
    if result.outcome not in RECORDABLE:
        out.problems.append(f"the lookup ended {result.outcome.value} ({result.reason_code}): there is no answer "
                            "page to record")
        return out
    pages = kept_pages(recording)
    if not pages:
        out.problems.append("the answer names none of the captured pages")
        return out
    raw_parses = {p.index: offline_parse(adapter, recording.flow, p.html, recording.query) for p in pages}
    scrubber = _scrubber_for(recording, pages, raw_parses, salt)
    out.scrubber, out.replaced = scrubber, scrubber.counts()
    query_json = scrubber.scrub_json(recording.query.model_dump(mode="json"))
    query = QUERY_MODELS[recording.flow].model_validate(query_json)
    answering = [p for p in pages if result.answer is None or "record" in raw_parses[p.index]]
    for page in pages:
        where = f"page {page.index} ({page.label})"
        if page.document is not None:
            out.skipped.append(f"{where}: its document is not kept (documents are not scrubbed); the page is")
        if page not in answering:
            # A page on the way to the answer that is no answer itself (a member list to pick from).
            out.skipped.append(f"{where}: not kept, the parser reads no answer from it on its own "
                               f"({raw_parses[page.index]['error']['type']})")
            continue
        content = scrubber.scrub_bytes(page.html)
        left = scrubber.remaining(content.decode("utf-8", errors="replace"))
        if left:
            out.problems.append(f"{where}: original values are still in the scrubbed page ({', '.join(left)})")
            continue
        parsed = offline_parse(adapter, recording.flow, content, query)
        problem = _reads_the_same(raw_parses[page.index], parsed, scrubber)
        if problem:
            out.problems.append(f"{where}: {problem}")
            continue
        case_name = name if len(answering) == 1 else f"{name}_{answering.index(page) + 1:02d}"
        out.cases.append(LiveCase(case_name, recording.flow, page.label, content, expected_content(query_json, parsed)))
    if not out.cases and not out.problems:
        out.problems.append("no page of the answer reads as an answer on its own: nothing to record")
    return out


def _scrubber_for(recording: Recording, pages: list[CapturedPage], raw_parses: dict[int, dict[str, Any]],
                  salt: bytes | None) -> Scrubber:
    """What to replace: the query's and the answer's values, every kept page's parsed values, the portal
    user name, and what the patterns find on the kept pages. Nothing from any dataset."""
    texts = [p.html.decode("utf-8", errors="replace") for p in pages]
    scrubber = Scrubber(salt=salt, corpus=texts)
    scrubber.add_values(recording.query.model_dump(mode="json"))
    if recording.result.answer is not None:
        scrubber.add_values(recording.result.answer.model_dump(mode="json"))
    for parsed in raw_parses.values():
        scrubber.add_values(parsed.get("record"))
    if recording.username:
        scrubber.add("phrase", recording.username)
    for text in texts:
        scrubber.discover(text)
        scrubber.discover_labelled(text)
    return scrubber


def _reads_the_same(raw: dict[str, Any], scrubbed: dict[str, Any], scrubber: Scrubber) -> str | None:
    """None when the scrubbed page parses to the raw page's parse under the same replacements."""
    if "error" in raw or "error" in scrubbed:
        kinds = [p.get("error", {}).get("type", "a record") for p in (raw, scrubbed)]
        # An error's reason is PHI-free by contract (aggregator.errors): it says what the scrub broke.
        why = f" ({scrubbed['error']['reason']})" if "error" in scrubbed else ""
        return None if kinds[0] == kinds[1] else f"the page read {kinds[0]}, scrubbed it reads {kinds[1]}{why}"
    wanted = canonical(scrubber.scrub_json(raw["record"]))
    if canonical(scrubbed["record"]) == wanted:
        return None
    fields = ", ".join(differing_fields(canonical(scrubbed["record"]), wanted)[:12])
    return f"the scrubbed page reads differently, not only in the replaced values (fields differ: {fields})"


def review_document(scrubbed: ScrubbedRecording, root: Path) -> dict[str, Any]:
    """What the person reviews (scrubbed: no original value): each case's file and expected answer."""
    return {"carrier": scrubbed.slug, "replaced": scrubbed.replaced, "skipped": scrubbed.skipped,
            "cases": [{"file": str(case_path(root, scrubbed.slug, c.flow, c.name, PAGE_SUFFIX)), "page": c.label,
                       "expected": c.expected} for c in scrubbed.cases]}


def existing_cases(scrubbed: ScrubbedRecording, root: Path) -> list[Path]:
    return [p for c in scrubbed.cases if (p := case_path(root, scrubbed.slug, c.flow, c.name)).exists()]


def write_cases(scrubbed: ScrubbedRecording, root: Path, *, confirmed: bool) -> list[Path]:
    """Write the reviewed cases. `confirmed` is the person's answer: the expected files are the parser's
    output, so they are written only after someone has looked at them."""
    if not confirmed:
        raise ValueError("recorded cases are written only after a person has reviewed the expected answers")
    if scrubbed.problems:
        raise ValueError("a recording with problems is not written")
    return [write_case(root, scrubbed.slug, c.flow, c.name, c.content, c.expected) for c in scrubbed.cases]


def _safe(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", label)[:60] or "page"
