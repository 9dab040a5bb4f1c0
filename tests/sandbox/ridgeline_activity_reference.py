"""A strict, header-driven reader of Ridgeline's authorization and claim pages, for the sandbox's tests only.

It proves the portal renders ground truth exactly (parse(render(truth)) == truth), in v1 and v2. Any
word it does not know raises `Unreadable`. It keeps its own word lists (it does not import the
portal's vocabulary), so a changed word on the portal shows up here. Not the product's adapter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from lxml import html as lxml_html

from aggregator.models import ServiceType
from aggregator.models.authorization import Authorization, AuthorizedService
from aggregator.models.claims import Adjustment, ClaimLine, ClaimStatus
from aggregator.models.codes import (
    AdjustmentGroup,
    AdjustmentReason,
    AuthDecisionReason,
    AuthStatus,
    ClaimStatusCategory,
    RequestCategory,
    UnitQualifier,
)
from tests.sandbox.ridgeline_reference import Unreadable, key

NO_VALUE = "n/a"

AUTH_STATUS = {key(k): v for k, v in {
    "Approved": AuthStatus.CERTIFIED, "Partially Approved": AuthStatus.PARTIAL, "Denied": AuthStatus.NOT_CERTIFIED,
    "Pending Review": AuthStatus.PENDED, "Modified": AuthStatus.MODIFIED, "Cancelled": AuthStatus.CANCELLED,
    "Contact Health Plan": AuthStatus.CONTACT_PAYER,
}.items()}
REQUEST_TYPES = {key(k): v for k, v in {
    "Inpatient Admission": RequestCategory.ADMISSION_REVIEW, "Outpatient Services": RequestCategory.HEALTH_SERVICES_REVIEW,
    "Specialist Referral": RequestCategory.SPECIALTY_CARE_REVIEW,
}.items()}
AUTH_SERVICES = {key(k): v for k, v in {
    "MRI / CT Scan": ServiceType.MRI_CAT_SCAN, "Physical Therapy": ServiceType.PHYSICAL_THERAPY,
    "Chiropractic Care": ServiceType.CHIROPRACTIC, "Mental Health - Outpatient": ServiceType.MENTAL_HEALTH,
    "Inpatient Hospital Stay": ServiceType.HOSPITAL_INPATIENT, "Specialist Consultation": ServiceType.CONSULTATION,
}.items()}
DECISION_REASONS = {key(k): v for k, v in {
    "Not medically necessary": AuthDecisionReason.NOT_MEDICALLY_NECESSARY,
    "Authorization not required for this service": AuthDecisionReason.CERTIFICATION_NOT_REQUIRED,
    "Exceeds plan maximum": AuthDecisionReason.EXCEEDS_PLAN_MAXIMUMS,
    "Service not covered under member's plan": AuthDecisionReason.NON_COVERED_SERVICE,
    "Requested clinical information not received": AuthDecisionReason.INFORMATION_NOT_RECEIVED,
    "Referred for medical review": AuthDecisionReason.REQUIRES_MEDICAL_REVIEW,
}.items()}
UNITS = {"visits": UnitQualifier.VISITS, "units": UnitQualifier.UNITS, "days": UnitQualifier.DAYS}
CLAIM_STATUS = {key(k): v for k, v in {
    "Received": ClaimStatusCategory.RECEIVED, "Accepted": ClaimStatusCategory.ACCEPTED,
    "Returned - Unable to Process": ClaimStatusCategory.RETURNED_UNPROCESSABLE,
    "Pending": ClaimStatusCategory.PENDING, "In Process": ClaimStatusCategory.PENDING_IN_PROCESS,
    "Pending - Under Review": ClaimStatusCategory.PENDING_PAYER_REVIEW,
    "Pending - Additional Information Requested": ClaimStatusCategory.PENDING_PROVIDER_INFO,
    "Pending - Awaiting Member Information": ClaimStatusCategory.PENDING_PATIENT_INFO,
    "Paid": ClaimStatusCategory.FINALIZED_PAYMENT, "Denied": ClaimStatusCategory.FINALIZED_DENIAL,
    "Adjusted": ClaimStatusCategory.FINALIZED_REVISED, "Processed - No Payment": ClaimStatusCategory.FINALIZED_NO_PAYMENT,
    "Information Requested": ClaimStatusCategory.REQUEST_GENERAL,
    "Documentation Requested": ClaimStatusCategory.REQUEST_DOCUMENTATION,
}.items()}
_ADJUSTMENT = re.compile(r"^(CO|PR|OA|PI)-([0-9A-Z]{1,3}) (\$\d{1,3}(?:,\d{3})*\.\d{2})$")


def _text(element) -> str:  # type: ignore[no-untyped-def]
    return re.sub(r"\s+", " ", element.text_content().replace("\xa0", " ")).strip()


def _lookup(table: dict, text: str, what: str):  # type: ignore[no-untyped-def,type-arg]
    try:
        return table[key(text)]
    except KeyError:
        raise Unreadable(f"unknown {what}: {text!r}") from None


def _date(text: str) -> date:
    try:
        return datetime.strptime(text, "%m/%d/%Y").date()
    except ValueError:
        raise Unreadable(f"not a date: {text!r}") from None


def _optional_date(text: str) -> date | None:
    return None if key(text) == NO_VALUE else _date(text)


def _money(text: str) -> Decimal:
    match = re.fullmatch(r"\$(\d{1,3}(?:,\d{3})*\.\d{2})", text)
    if not match:
        raise Unreadable(f"not money: {text!r}")
    return Decimal(match.group(1).replace(",", ""))


def _optional_money(text: str) -> Decimal | None:
    return None if key(text) == NO_VALUE else _money(text)


def _quantity(text: str) -> Decimal:
    if not re.fullmatch(r"\d+(\.\d+)?", text):
        raise Unreadable(f"not a quantity: {text!r}")
    return Decimal(text)


def _range(text: str) -> tuple[date, date]:
    start, sep, end = text.partition(" - ")
    if not sep:
        raise Unreadable(f"not a date range: {text!r}")
    return _date(start), _date(end)


def _pairs(root) -> dict[str, str]:  # type: ignore[no-untyped-def]
    pairs: dict[str, str] = {}
    for cell in root.iter("td"):
        label = _text(cell)
        following = cell.getnext()
        if label.endswith(":") and following is not None and following.tag == "td":
            pairs[key(label)] = _text(following)
    return pairs


def _field(pairs: dict[str, str], label: str) -> str:
    if label not in pairs:
        raise Unreadable(f"missing field {label!r}")
    return pairs[label]


def _table(root, required: set[str]) -> tuple[list[str], list[list]]:  # type: ignore[no-untyped-def]
    found = []
    for table in root.iter("table"):
        first = table.xpath("./tr[1] | ./thead/tr[1]")
        if first and required <= {key(_text(c)) for c in first[0].xpath("./th")}:
            found.append(table)
    if len(found) != 1:
        raise Unreadable(f"expected one table with {sorted(required)}, found {len(found)}")
    rows = found[0].xpath("./tr | ./thead/tr | ./tbody/tr")
    headers = [key(_text(c)) for c in rows[0].xpath("./th")]
    body = []
    for row in rows[1:]:
        cells = row.xpath("./td")
        if len(cells) != len(headers):
            raise Unreadable("row and header cell counts differ")
        body.append(cells)
    return headers, body


def _check_headers(headers: list[str], known: set[str]) -> None:
    unknown = [h for h in headers if h not in known]
    if unknown:
        raise Unreadable(f"unknown column header(s): {unknown}")


# --- authorizations ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class AuthRow:
    number: str
    service: ServiceType
    status: AuthStatus
    effective: date | None
    expires: date | None
    href: str


def parse_auth_list(page: str) -> list[AuthRow]:
    """The rows of an authorization list page ([] for the 'no authorizations' notice)."""
    root = lxml_html.document_fromstring(page)
    if key("No authorizations on file for this member.") in key(_text(root)):
        return []
    headers, rows = _table(root, {"auth #", "service", "status", "effective", "expires"})
    _check_headers(headers, {"auth #", "service", "status", "effective", "expires"})
    out = []
    for cells in rows:
        col = {h: cells[i] for i, h in enumerate(headers)}
        links = col["auth #"].xpath(".//a/@href")
        if len(links) != 1:
            raise Unreadable("an authorization row must link to its detail page")
        out.append(AuthRow(_text(col["auth #"]), _lookup(AUTH_SERVICES, _text(col["service"]), "service"),
                           _lookup(AUTH_STATUS, _text(col["status"]), "status"),
                           _optional_date(_text(col["effective"])), _optional_date(_text(col["expires"])), links[0]))
    return out


def parse_auth_detail(page: str, carrier: str = "ridgeline") -> Authorization:
    root = lxml_html.document_fromstring(page)
    pairs = _pairs(root)
    headers, rows = _table(root, {"code", "approved", "used", "remaining", "unit"})
    _check_headers(headers, {"code", "description", "approved", "used", "remaining", "unit", "notes"})
    services = []
    for cells in rows:
        col = {h: _text(cells[i]) for i, h in enumerate(headers)}
        services.append(AuthorizedService(
            procedure_code=col["code"], unit=_lookup(UNITS, col["unit"], "unit"), approved=_quantity(col["approved"]),
            used=_quantity(col["used"]), remaining=_quantity(col["remaining"])))
    reason = _field(pairs, "decision reason")
    npi = _field(pairs, "provider npi")
    return Authorization(
        carrier=carrier, member_id=_field(pairs, "member id"), auth_number=_field(pairs, "authorization number"),
        status=_lookup(AUTH_STATUS, _field(pairs, "status"), "status"),
        request_category=_lookup(REQUEST_TYPES, _field(pairs, "request type"), "request type"),
        service_type=_lookup(AUTH_SERVICES, _field(pairs, "service type"), "service"), services=tuple(services),
        effective_date=_optional_date(_field(pairs, "effective date")),
        expiration_date=_optional_date(_field(pairs, "expiration date")),
        servicing_provider_name=_field(pairs, "servicing provider"),
        servicing_provider_npi=None if key(npi) == NO_VALUE else npi,
        decision_reason=None if key(reason) == NO_VALUE else _lookup(DECISION_REASONS, reason, "decision reason"),
        last_updated=_date(_field(pairs, "last updated")),
    )


# --- claims ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ClaimRow:
    number: str
    account: str
    service_from: date
    service_to: date
    billed: Decimal
    paid: Decimal
    status: ClaimStatusCategory
    href: str


@dataclass(frozen=True)
class ResultsPage:
    rows: list[ClaimRow]
    page: int
    pages: int
    next_href: str | None
    prev_href: str | None


def parse_claim_results(page: str) -> ResultsPage:
    root = lxml_html.document_fromstring(page)
    if key("No claims found for the criteria entered.") in key(_text(root)):
        return ResultsPage([], 1, 1, None, None)
    known = {"claim #", "patient acct #", "service dates", "billed", "paid", "status"}
    headers, rows = _table(root, known)
    _check_headers(headers, known)
    out = []
    for cells in rows:
        col = {h: cells[i] for i, h in enumerate(headers)}
        links = col["claim #"].xpath(".//a/@href")
        if len(links) != 1:
            raise Unreadable("a claim row must link to its detail page")
        start, end = _range(_text(col["service dates"]))
        out.append(ClaimRow(_text(col["claim #"]), _text(col["patient acct #"]), start, end,
                            _money(_text(col["billed"])), _money(_text(col["paid"])),
                            _lookup(CLAIM_STATUS, _text(col["status"]), "claim status"), links[0]))
    match = re.search(r"Page (\d+) of (\d+)", _text(root))
    if not match:
        raise Unreadable("no 'Page N of M'")
    links = {key(_text(a)): a.get("href") for a in root.iter("a")}
    return ResultsPage(out, int(match.group(1)), int(match.group(2)), links.get(key("Next >")),
                       links.get(key("< Prev")))


def _adjustments(text: str) -> tuple[Adjustment, ...]:
    if not text:
        return ()
    out = []
    for part in text.split("; "):
        match = _ADJUSTMENT.match(part.strip())
        if not match:
            raise Unreadable(f"not an adjustment: {part!r}")
        try:
            reason = AdjustmentReason(match.group(2))
        except ValueError:
            raise Unreadable(f"unknown CARC: {match.group(2)!r}") from None
        out.append(Adjustment(group=AdjustmentGroup(match.group(1)), reason=reason, amount=_money(match.group(3))))
    return tuple(out)


def parse_claim_detail(page: str, carrier: str = "ridgeline") -> ClaimStatus:
    root = lxml_html.document_fromstring(page)
    pairs = _pairs(root)
    known = {"line", "procedure", "date", "units", "billed", "allowed", "paid", "adjustments", "remarks"}
    headers, rows = _table(root, known - {"remarks"})
    _check_headers(headers, known)
    lines = []
    for cells in rows:
        col = {h: _text(cells[i]) for i, h in enumerate(headers)}
        lines.append(ClaimLine(
            line_number=int(col["line"]), procedure_code=col["procedure"], service_date=_date(col["date"]),
            units=_quantity(col["units"]), billed=_money(col["billed"]), allowed=_money(col["allowed"]),
            paid=_money(col["paid"]), adjustments=_adjustments(col["adjustments"])))
    start, end = _range(_field(pairs, "service dates"))
    check = _field(pairs, "check/eft number")
    return ClaimStatus(
        carrier=carrier, payer_claim_number=_field(pairs, "claim number"),
        provider_account_number=_field(pairs, "patient account number"), member_id=_field(pairs, "member id"),
        service_from=start, service_to=end, billed=_money(_field(pairs, "total billed")),
        allowed=_optional_money(_field(pairs, "total allowed")), paid=_money(_field(pairs, "total paid")),
        patient_responsibility=_optional_money(_field(pairs, "patient responsibility")),
        status_category=_lookup(CLAIM_STATUS, _field(pairs, "claim status"), "claim status"),
        status_code=_field(pairs, "status code"), received_date=_date(_field(pairs, "received date")),
        adjudicated_date=_optional_date(_field(pairs, "processed date")),
        paid_date=_optional_date(_field(pairs, "paid date")), check_number=None if key(check) == NO_VALUE else check,
        lines=tuple(lines),
    )
