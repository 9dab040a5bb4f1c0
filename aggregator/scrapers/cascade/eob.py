"""Cascade's explanation-of-benefits PDF -> the claim's record (pure: bytes in, ClaimStatus out).

The document states the claim once in `Label: value` lines (status word and code, dates, totals) and
again line by line (a SERVICE LINES report, an ADJUSTMENTS report with reductions as negative amounts in
parentheses). Both must agree (`check_claim_amounts`), the status code must be one the portal prints with
the status word (`maps.STATUS_CODES`), and the dates must follow the claim's life (service, receipt,
processing, payment); the adapter then checks the document against the claim's row in the claims report.
The document always ends with the provider-services line: without it the PDF was cut short.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime

from aggregator.errors import ParseError
from aggregator.models import Adjustment, ClaimLine, ClaimStatus
from aggregator.scrapers.cascade import maps
from aggregator.scrapers.cascade.pages import money, written_date
from aggregator.scrapers.framework import (
    CenturyWindow,
    build,
    header_key,
    member_id_of,
    parse_money,
    parse_quantity,
    read_report,
)
from aggregator.scrapers.framework.checks import check_claim_amounts
from aggregator.scrapers.framework.maps import ADJUSTMENT_GROUPS, ADJUSTMENT_REASONS
from aggregator.scrapers.framework.pdf import pdf_lines

LINE_HEADERS = ("LN", "PROCEDURE", "SVC DATE", "UNITS", "BILLED", "ALLOWED", "PAID")
ADJUSTMENT_HEADERS = ("LN", "GROUP", "CARC", "AMOUNT")
_STATEMENT = re.compile(r"^STATEMENT DATE: ([A-Z][a-z]+ \d{1,2}, \d{4})$")
_LABEL = re.compile(r"^(?P<label>[A-Za-z/ ]{2,30}): (?P<value>\S.*)$")
_STATUS_CODE = re.compile(r"^\d{1,5}$")


def parse_eob(data: bytes, carrier: str) -> ClaimStatus:
    lines = pdf_lines(data, what="explanation of benefits")
    stripped = [line.strip() for line in lines]
    statement = [m.group(1) for line in stripped if (m := _STATEMENT.match(line))]
    if len(statement) != 1:
        raise ParseError("the EOB does not state its statement date once")
    try:
        window = CenturyWindow(datetime.strptime(statement[0], "%B %d, %Y").date(), maps.YEARS_AHEAD)
    except ValueError:
        raise ParseError("the EOB's statement date is not a calendar date") from None
    closing = [line for line in stripped if line]
    if not closing or not header_key(closing[-1]).startswith(header_key(maps.EOB_CLOSING)):
        raise ParseError("the EOB is cut short: its closing line is missing")

    def day(text: str, field: str) -> date:
        return written_date(text, field=field, window=window)

    header = _labels(stripped[:stripped.index("SERVICE LINES")] if "SERVICE LINES" in stripped else [])

    def text(label: str) -> str:
        value = header.get(header_key(label))
        if value is None:
            raise ParseError(f"the EOB lacks '{label}'")
        return value

    def optional(label: str) -> str | None:
        value = text(label)
        return None if value == maps.NONE else value

    first, _, last = text("Service Dates").partition(" - ")
    status_code = text("Status Code")
    if not _STATUS_CODE.match(status_code):
        raise ParseError("status code is not a claim status code")
    status = maps.CLAIM_STATUS(text("Claim Status"))
    if status_code not in maps.STATUS_CODES[status]:
        raise ParseError("the EOB's status code disagrees with its status word")
    allowed, responsibility = optional("Total Allowed"), optional("Patient Responsibility")
    processed, paid_date = optional("Processed"), optional("Paid Date")
    claim = build(
        ClaimStatus, "explanation of benefits",
        carrier=carrier,
        payer_claim_number=_alnum(text("Claim Number"), "claim number"),
        provider_account_number=text("Patient Account"),
        member_id=member_id_of(text("Member ID"), field="member id"),
        service_from=day(first, "service from"),
        service_to=day(last, "service to"),
        billed=money(text("Total Billed"), field="total billed"),
        allowed=None if allowed is None else money(allowed, field="total allowed"),
        paid=money(text("Total Paid"), field="total paid"),
        patient_responsibility=None if responsibility is None else money(responsibility, field="patient responsibility"),
        status_category=status,
        status_code=status_code,
        received_date=day(text("Received"), "received"),
        adjudicated_date=None if processed is None else day(processed, "processed"),
        paid_date=None if paid_date is None else day(paid_date, "paid date"),
        check_number=optional("Check/EFT"),
        lines=_lines(lines, day),
    )
    check_claim_amounts(claim)
    _check_dates(claim)
    return claim


def _check_dates(claim: ClaimStatus) -> None:
    """A claim is served, then received, then processed, then paid: dates out of that order contradict."""
    steps = [claim.service_from, claim.service_to, claim.received_date, claim.adjudicated_date, claim.paid_date]
    known = [day for day in steps if day is not None]
    if known != sorted(known):
        raise ParseError("the EOB's dates are out of order (service, received, processed, paid)")
    if claim.paid_date is not None and claim.adjudicated_date is None:
        raise ParseError("the EOB has a paid date but no processed date")
    # The claim's service dates are stated again by its lines: they span from the first line's to the last's.
    days = [line.service_date for line in claim.lines]
    if (claim.service_from, claim.service_to) != (min(days), max(days)):
        raise ParseError("the EOB's service dates are not the span of its lines' dates")


def _labels(lines: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in lines:
        match = _LABEL.match(line)
        if match and not line.startswith("STATEMENT DATE"):
            key = header_key(match.group("label"))
            if key in values:
                raise ParseError(f"the EOB states '{match.group('label')}' twice")
            values[key] = match.group("value").strip()
    return values


def _lines(lines: list[str], day: Callable[[str, str], date]) -> tuple[ClaimLine, ...]:
    table = read_report(lines, name="EOB service lines", required=LINE_HEADERS)
    adjustments = _adjustments(lines)
    parsed = []
    for row in table.rows:
        number = row["LN"]
        if not number.isdigit():
            raise ParseError("a service line number is not a number")
        field = f"line {number}"
        parsed.append(build(
            ClaimLine, f"EOB {field}",
            line_number=int(number),
            procedure_code=_alnum(row["PROCEDURE"], f"{field} procedure"),
            service_date=day(row["SVC DATE"], f"{field} date"),
            units=parse_quantity(row["UNITS"], field=f"{field} units"),
            billed=money(row["BILLED"], field=f"{field} billed"),
            allowed=money(row["ALLOWED"], field=f"{field} allowed"),
            paid=money(row["PAID"], field=f"{field} paid"),
            adjustments=tuple(adjustments.pop(int(number), [])),
        ))
    if adjustments:
        raise ParseError("the EOB lists adjustments for a line it does not have")
    return tuple(parsed)


def _adjustments(lines: list[str]) -> dict[int, list[Adjustment]]:
    stripped = [line.strip() for line in lines]
    if maps.NO_ADJUSTMENTS in stripped:
        if any(header_key(line).startswith("ln group") for line in stripped):
            raise ParseError("the EOB says there are no adjustments and lists some")
        return {}
    table = read_report(lines, name="EOB adjustments", required=ADJUSTMENT_HEADERS)
    found: dict[int, list[Adjustment]] = {}
    for row in table.rows:
        if not row["LN"].isdigit():
            raise ParseError("an adjustment's line number is not a number")
        amount = parse_money(row["AMOUNT"], field="adjustment amount")
        if amount >= 0:
            # Reductions are printed negative, in parentheses; anything else is not what we know.
            raise ParseError("an adjustment is not printed as a reduction")
        found.setdefault(int(row["LN"]), []).append(build(
            Adjustment, "EOB adjustment",
            group=ADJUSTMENT_GROUPS(row["GROUP"]), reason=ADJUSTMENT_REASONS(row["CARC"]), amount=-amount))
    return found


def _alnum(text: str, field: str) -> str:
    if not text or not text.isalnum():
        raise ParseError(f"{field} is not a code")
    return text
