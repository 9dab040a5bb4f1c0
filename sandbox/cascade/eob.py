"""The explanation-of-benefits PDF Cascade sends for every claim (fpdf2, text in a fixed-width font).

Layout (one or more letter pages, Courier):
    CASCADE CARE BENEFIT ADMINISTRATORS / EXPLANATION OF BENEFITS / STATEMENT DATE: <Month D, YYYY>
    `Label: value` header lines (claim, patient account, member, status word and code, dates, totals)
    SERVICE LINES: a dash-ruled fixed-width table (LN, PROCEDURE, SVC DATE, UNITS, BILLED, ALLOWED, PAID)
    ADJUSTMENTS: a dash-ruled table (LN, GROUP, CARC, AMOUNT in parentheses, DESCRIPTION), or
    "NO ADJUSTMENTS ON THIS CLAIM".
Open claims get the same document with `--` for what is not decided yet.
"""

from __future__ import annotations

from datetime import date

from fpdf import FPDF

from aggregator.models import ClaimStatus
from sandbox.cascade import vocabulary as v
from sandbox.dataset import MemberData

NO_ADJUSTMENTS = "NO ADJUSTMENTS ON THIS CLAIM"
LINE_COLUMNS = (("LN", 3, True), ("PROCEDURE", 9, False), ("SVC DATE", 8, False), ("UNITS", 5, True),
                ("BILLED", 11, True), ("ALLOWED", 11, True), ("PAID", 11, True))
ADJ_COLUMNS = (("LN", 3, True), ("GROUP", 5, False), ("CARC", 4, False), ("AMOUNT", 12, True),
               ("DESCRIPTION", 44, False))


def _row(values: list[str], columns: tuple[tuple[str, int, bool], ...]) -> str:
    return " ".join(text.rjust(width) if right else text.ljust(width)
                    for text, (_, width, right) in zip(values, columns, strict=True)).rstrip()


def _table(columns: tuple[tuple[str, int, bool], ...]) -> list[str]:
    return [_row([c[0] for c in columns], columns), " ".join("-" * c[1] for c in columns)]


def eob_text(claim: ClaimStatus, member: MemberData, today: date) -> list[str]:
    def opt_date(day: date | None) -> str:
        return v.fmt_date(day) if day else v.NONE

    lines = [
        "CASCADE CARE BENEFIT ADMINISTRATORS",
        "EXPLANATION OF BENEFITS - THIS IS NOT A BILL",
        f"STATEMENT DATE: {today.strftime('%B %-d, %Y')}",
        "",
        f"Claim Number: {claim.payer_claim_number}",
        f"Patient Account: {claim.provider_account_number}",
        f"Member ID: {claim.member_id}",
        f"Patient: {v.fmt_name(member.first_name, member.last_name)}",
        f"Service Dates: {v.fmt_date(claim.service_from)} - {v.fmt_date(claim.service_to)}",
        f"Claim Status: {v.CLAIM_STATUS[claim.status_category]}",
        f"Status Code: {claim.status_code}",
        f"Received: {v.fmt_date(claim.received_date)}",
        f"Processed: {opt_date(claim.adjudicated_date)}",
        f"Paid Date: {opt_date(claim.paid_date)}",
        f"Check/EFT: {claim.check_number or v.NONE}",
        f"Total Billed: {v.fmt_amount(claim.billed)}",
        f"Total Allowed: {v.fmt_amount(claim.allowed) if claim.allowed is not None else v.NONE}",
        f"Total Paid: {v.fmt_amount(claim.paid)}",
        "Patient Responsibility: " + (v.fmt_amount(claim.patient_responsibility)
                                      if claim.patient_responsibility is not None else v.NONE),
        "",
        "SERVICE LINES",
        *_table(LINE_COLUMNS),
    ]
    for line in claim.lines:
        lines.append(_row([str(line.line_number), line.procedure_code, v.fmt_date(line.service_date),
                           f"{line.units.normalize():f}", v.fmt_amount(line.billed), v.fmt_amount(line.allowed),
                           v.fmt_amount(line.paid)], LINE_COLUMNS))
    lines += ["", "ADJUSTMENTS"]
    adjustments = [(line.line_number, a) for line in claim.lines for a in line.adjustments]
    if not adjustments:
        lines.append(NO_ADJUSTMENTS)
    else:
        lines += _table(ADJ_COLUMNS)
        for number, a in adjustments:
            # Reductions print as negative amounts, in parentheses, as on the carrier's paper EOBs.
            lines.append(_row([str(number), a.group.value, a.reason.value, v.fmt_amount(-a.amount),
                               a.reason.label[:44]], ADJ_COLUMNS))
    lines += ["", "Questions? Call Cascade Care Provider Services at 1-800-555-0199."]
    return lines


def eob_pdf(claim: ClaimStatus, member: MemberData, today: date) -> bytes:
    pdf = FPDF(format="letter")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Courier", size=8)
    for text in eob_text(claim, member, today):
        pdf.cell(0, 3.6, text, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
