"""`aggregator record`: record a real portal's pages for one lookup as scrubbed recorded-page cases.

The lookup runs as `aggregator lookup` would (vault credentials, saved session), with its database and
evidence in a private folder under the data directory. The pages the answer came from are scrubbed (the
member's names, ids, date of birth, addresses, phone numbers, claim and authorization numbers replaced with
synthetic values), parsed again, and the expected answers are shown -- here and in a JSON file -- and
written under `--out` only after you confirm. The raw pages stay in the private folder until you delete it.
See docs/recorded-pages.md.
"""

from __future__ import annotations

import asyncio
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from aggregator.cli.common import (
    AccountOption,
    DataDirOption,
    app,
    build_query,
    console,
    fail,
    load_settings,
    parse_iso_date,
)
from aggregator.errors import AggregatorError
from aggregator.models import AuthorizationQuery, ClaimQuery, EligibilityQuery

CLAIM_LOOKBACK_DAYS = 365  # --from default for a claims recording by member


@app.command("record")
def record_command(
    portal: Annotated[str, typer.Option("--portal", help="the carrier portal (slug or display name)")],
    member_id: Annotated[str | None, typer.Option("--member-id", help="member id as printed on the card")] = None,
    dob: Annotated[str | None, typer.Option(help="date of birth, YYYY-MM-DD")] = None,
    account: AccountOption = None,
    kind: Annotated[str, typer.Option("--kind", help="eligibility, authorizations or claims")] = "eligibility",
    service_date: Annotated[str | None, typer.Option("--service-date", help="eligibility: date of service, "
                                                     "YYYY-MM-DD (default today)")] = None,
    last_name: Annotated[str | None, typer.Option("--last-name", help="eligibility: optional, narrows the search")] = None,
    claim_number: Annotated[str | None, typer.Option("--claim-number", help="claims: one claim instead of the "
                                                     "member's claims in a date range")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="claims: first date of service (default a year ago)")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="claims: last date of service (default today)")] = None,
    name: Annotated[str | None, typer.Option("--name", help="case name (default live_<date>); several pages "
                                             "become <name>_01, <name>_02, ...")] = None,
    out: Annotated[Path, typer.Option("--out", help="recorded-pages root; cases go to <out>/<slug>/<flow>/")]
        = Path("tests/recorded_pages"),
    yes: Annotated[bool, typer.Option("--yes", help="write without asking (tests); the review is still shown")] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Record one lookup's pages from a real portal as scrubbed test cases, after you review them."""
    from aggregator.recording.live import (
        KINDS,
        existing_cases,
        record_lookup,
        review_document,
        scrub_recording,
        write_cases,
    )
    from aggregator.scrapers.registry import adapter_for

    settings = load_settings(data_dir)
    if kind not in KINDS:
        raise fail(f"--kind must be one of {', '.join(KINDS)}, got '{kind}'", 2)
    flow = KINDS[kind]
    case_name = name or f"live_{date.today():%Y%m%d}"
    if not case_name.replace("_", "").isalnum() or not case_name.isascii():
        raise fail("--name may hold only letters, digits and underscores", 2)
    query = _query(flow, member_id, dob, service_date, last_name, claim_number, date_from, date_to)
    try:
        slug = adapter_for(portal).manifest.slug
        recording = asyncio.run(record_lookup(settings, portal=slug, flow=flow, query=query, account_label=account))
    except AggregatorError as error:
        raise fail(error.reason, 1) from None
    folder = recording.folder
    scrubbed = scrub_recording(recording, name=case_name)
    leave = f"The raw pages (the member's real data) are in {folder}: delete that folder when you are done."
    if scrubbed.problems:
        for problem in scrubbed.problems:
            console.print(f"[red]refused:[/red] {problem}", highlight=False)
        console.print(f"Nothing written. {leave}", highlight=False)
        raise typer.Exit(1)
    review = review_document(scrubbed, out)
    review_file = folder / "review.json"
    review_file.write_text(json.dumps(review, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    _show(review, recording.result.outcome.value)
    console.print(f"The same review, as JSON: {review_file}", highlight=False)
    overwritten = existing_cases(scrubbed, out)
    if overwritten:
        console.print(f"[yellow]{len(overwritten)} case(s) of that name exist and will be replaced.[/yellow]")
    confirmed = yes or typer.confirm("Are these the right answers for these pages? Write the cases", default=False)
    if not confirmed:
        console.print(f"Nothing written. {leave}", highlight=False)
        raise typer.Exit(1)
    for path in write_cases(scrubbed, out, confirmed=True):
        console.print(f"wrote {path} (+ .expected.json)", highlight=False)
    console.print(f"Review the files, then commit them. {leave}", highlight=False)


def _query(flow: str, member_id: str | None, dob: str | None, service_date: str | None, last_name: str | None,
           claim_number: str | None, date_from: str | None, date_to: str | None) -> Any:
    if flow == "claim_status" and claim_number:
        return build_query(ClaimQuery, claim_number=claim_number.strip())
    if not member_id or not dob:
        raise fail("--member-id and --dob are required (claims: or --claim-number)", 2)
    birth = parse_iso_date(dob, "--dob")
    if flow == "eligibility":
        return build_query(EligibilityQuery, member_id=member_id, date_of_birth=birth, last_name=last_name or None,
                           service_date=parse_iso_date(service_date, "--service-date") if service_date else date.today())
    if flow == "authorization":
        return build_query(AuthorizationQuery, member_id=member_id, date_of_birth=birth)
    to = parse_iso_date(date_to, "--to") if date_to else date.today()
    start = parse_iso_date(date_from, "--from") if date_from else to - timedelta(days=CLAIM_LOOKBACK_DAYS)
    return build_query(ClaimQuery, member_id=member_id, date_of_birth=birth, service_from=start, service_to=to)


def _show(review: dict[str, Any], outcome: str) -> None:
    table = Table(title=f"{review['carrier']}: {len(review['cases'])} case(s) from a lookup that ended {outcome}")
    for column in ("file", "page", "expected"):
        table.add_column(column)
    for case in review["cases"]:
        expected = case["expected"]
        said = (f"error {expected['error']['type']} ({expected['error']['outcome']})" if "error" in expected
                else f"record: {expected['record'].get('kind', 'page')}")
        table.add_row(case["file"], case["page"], said)
    console.print(table)
    replaced = ", ".join(f"{count} {kind}" for kind, count in sorted(review["replaced"].items()))
    console.print(f"Replaced with synthetic values: {replaced or 'nothing'}", highlight=False)
    for note in review["skipped"]:
        console.print(f"[yellow]not kept:[/yellow] {note}", highlight=False)
    for case in review["cases"]:
        console.rule(case["file"])
        console.print_json(json.dumps(case["expected"]))
