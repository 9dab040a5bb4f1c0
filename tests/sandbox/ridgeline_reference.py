"""A strict, header-driven reader of Ridgeline's benefits page, for the sandbox's own tests only.

It proves the portal renders ground truth exactly (parse(render(truth)) == truth) and that v2's
changes of meaning cannot be read silently. Any word it does not know raises `Unreadable`. It is not
the product's adapter and shares no code with it.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

from lxml import html as lxml_html

from aggregator.models import (
    AuthIndicator,
    BenefitKind,
    BenefitLine,
    Coverage,
    CoverageLevel,
    CoverageStatus,
    EligibilityRecord,
    InsuranceType,
    Member,
    NetworkIndicator,
    Payer,
    Plan,
    QuantityQualifier,
    Relationship,
    ServiceType,
    TimePeriod,
)


class Unreadable(ValueError):
    pass


def key(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\xa0", " ")).strip().casefold().rstrip(":").strip()


def _text(element) -> str:  # type: ignore[no-untyped-def]
    return re.sub(r"\s+", " ", element.text_content().replace("\xa0", " ")).strip()


def _lookup(table: dict[str, object], text: str, what: str):  # type: ignore[no-untyped-def]
    try:
        return table[key(text)]
    except KeyError:
        raise Unreadable(f"unknown {what}: {text!r}") from None


SERVICES = {key(k): v for k, v in {
    "Office Visit - Primary Care": ServiceType.OFFICE_VISIT, "Urgent Care Center": ServiceType.URGENT_CARE,
    "Emergency Room": ServiceType.EMERGENCY_SERVICES, "MRI / CT Scan": ServiceType.MRI_CAT_SCAN,
    "Laboratory Services": ServiceType.DIAGNOSTIC_LAB, "Physical Therapy": ServiceType.PHYSICAL_THERAPY,
    "Mental Health - Outpatient": ServiceType.MENTAL_HEALTH, "Chiropractic Care": ServiceType.CHIROPRACTIC,
}.items()}
ROWS = {key(k): v for k, v in {
    "Copay": (BenefitKind.COPAY, None), "Coinsurance": (BenefitKind.COINSURANCE, None),
    "Visit Limit (Calendar Year)": (BenefitKind.LIMITATION, TimePeriod.CALENDAR_YEAR),
    "Visits Remaining": (BenefitKind.LIMITATION, TimePeriod.REMAINING),
}.items()}
NETWORKS = {"in-network": NetworkIndicator.IN_NETWORK, "out-of-network": NetworkIndicator.OUT_OF_NETWORK}
INFO_COLUMNS = {"notes", "category"}
PLAN_BENEFITS = {"deductible": BenefitKind.DEDUCTIBLE, "out-of-pocket maximum": BenefitKind.OUT_OF_POCKET}
LEVELS = {"individual": CoverageLevel.INDIVIDUAL, "family": CoverageLevel.FAMILY}
PERIODS = {"calendar year": TimePeriod.CALENDAR_YEAR, "remaining": TimePeriod.REMAINING}
PLAN_TYPES = {"ppo": InsuranceType.PPO, "hmo": InsuranceType.HMO, "pos": InsuranceType.POS,
              "epo": InsuranceType.EPO, "commercial": InsuranceType.COMMERCIAL}
RELATIONSHIPS = {"self": Relationship.SELF, "spouse": Relationship.SPOUSE, "child": Relationship.CHILD}
STATUS = {"active": CoverageStatus.ACTIVE, "inactive": CoverageStatus.INACTIVE}
AUTH = {"required": AuthIndicator.REQUIRED, "not required": AuthIndicator.NOT_REQUIRED}


def _date(text: str) -> date:
    try:
        return datetime.strptime(text, "%m/%d/%Y").date()
    except ValueError:
        raise Unreadable(f"not a date: {text!r}") from None


def _value(kind: BenefitKind, text: str) -> dict[str, object]:
    if kind is BenefitKind.COINSURANCE:
        match = re.fullmatch(r"(\d{1,3}(?:\.\d+)?)%", text)
        if not match:
            raise Unreadable(f"not a percentage: {text!r}")
        share = (Decimal(match.group(1)) / 100).normalize()
        return {"percent": share if share != 0 else Decimal(0)}
    if kind is BenefitKind.LIMITATION:
        match = re.fullmatch(r"(\d+) visits", text)
        if not match:
            raise Unreadable(f"not a visit count: {text!r}")
        return {"quantity": Decimal(match.group(1)), "quantity_qualifier": QuantityQualifier.VISITS}
    match = re.fullmatch(r"\$(\d{1,3}(?:,\d{3})*\.\d{2})", text)
    if not match:
        raise Unreadable(f"not money: {text!r}")
    return {"amount": Decimal(match.group(1).replace(",", ""))}


def _header_table(table) -> tuple[list[str], list[list]]:  # type: ignore[no-untyped-def]
    rows = table.xpath("./tr | ./thead/tr | ./tbody/tr")
    headers = [key(_text(c)) for c in rows[0].xpath("./th")]
    body = []
    for row in rows[1:]:
        cells = row.xpath("./td | ./th")
        if all(not _text(c) for c in cells):
            continue  # spacer rows
        if len(cells) != len(headers):
            raise Unreadable("row and header cell counts differ")
        body.append(cells)
    return headers, body


def _tables_with(root, required: set[str]) -> list:  # type: ignore[no-untyped-def]
    found = []
    for table in root.iter("table"):
        first = table.xpath("./tr[1] | ./thead/tr[1]")
        if first and required <= {key(_text(c)) for c in first[0].xpath("./th")}:
            found.append(table)
    return found


def _networks(headers: list[str], known: set[str]) -> dict[int, NetworkIndicator]:
    columns = {}
    for index, header in enumerate(headers):
        if header in NETWORKS:
            columns[index] = NETWORKS[header]
        elif header not in known | INFO_COLUMNS:
            raise Unreadable(f"unknown column header: {header!r}")
    if sorted(columns.values()) != sorted(NETWORKS.values()):
        raise Unreadable("the network columns are not both present")
    return columns


def parse_benefits_page(page: str, carrier: str = "ridgeline") -> EligibilityRecord:
    root = lxml_html.document_fromstring(page)
    pairs: dict[str, str] = {}
    for cell in root.iter("td"):
        label = _text(cell)
        following = cell.getnext()
        if label.endswith(":") and following is not None and following.tag == "td":
            pairs[key(label)] = _text(following)

    def field(label: str) -> str:
        if label not in pairs:
            raise Unreadable(f"missing field {label!r}")
        return pairs[label]

    last, _, first = field("member name").partition(", ")
    termination = field("termination date")
    status = _lookup(STATUS, field("coverage status"), "coverage status")
    benefits: list[BenefitLine] = []
    prior_auth: tuple[ServiceType, ...] = ()
    if status is CoverageStatus.ACTIVE:
        benefits = _plan_lines(root) + _service_lines(root)
        prior_auth = _prior_auth_list(root)
    return EligibilityRecord(
        carrier=carrier, service_date=_date(field("date of service")),
        member=Member(member_id=field("member id"), subscriber_id=field("subscriber id"), first_name=first,
                      last_name=last, date_of_birth=_date(field("date of birth")),
                      relationship=_lookup(RELATIONSHIPS, field("relationship to subscriber"), "relationship")),
        payer=Payer(name=field("payer"), payer_id=field("payer id")),
        plan=Plan(name=field("plan name"), insurance_type=_lookup(PLAN_TYPES, field("plan type"), "plan type"),
                  group_number=field("group number"), group_name=field("group name")),
        coverage=Coverage(status=status, effective_date=_date(field("effective date")),
                          termination_date=None if termination == "12/31/9999" else _date(termination)),
        benefits=tuple(benefits), prior_auth_service_types=prior_auth,
    )


def _plan_lines(root) -> list[BenefitLine]:  # type: ignore[no-untyped-def]
    tables = _tables_with(root, {"benefit", "level", "period"})
    if len(tables) != 1:
        raise Unreadable(f"expected one deductible table, found {len(tables)}")
    headers, rows = _header_table(tables[0])
    networks = _networks(headers, {"benefit", "level", "period"})
    lines = []
    for cells in rows:
        kind = _lookup(PLAN_BENEFITS, _text(cells[headers.index("benefit")]), "plan benefit")
        level = _lookup(LEVELS, _text(cells[headers.index("level")]), "level")
        period = _lookup(PERIODS, _text(cells[headers.index("period")]), "period")
        for index, network in networks.items():
            text = _text(cells[index])
            if text != "N/A":
                lines.append(BenefitLine(service_type=ServiceType.HEALTH_BENEFIT_PLAN_COVERAGE, kind=kind,
                                         network=network, coverage_level=level, time_period=period,
                                         **_value(kind, text)))
    return lines


def _service_lines(root) -> list[BenefitLine]:  # type: ignore[no-untyped-def]
    outer = _tables_with(root, {"service type", "benefit details", "prior authorization"})
    if len(outer) != 1:
        raise Unreadable(f"expected one service table, found {len(outer)}")
    headers, rows = _header_table(outer[0])
    lines: list[BenefitLine] = []
    for cells in rows:
        service = _lookup(SERVICES, _text(cells[headers.index("service type")]), "service")
        auth = _lookup(AUTH, _text(cells[headers.index("prior authorization")]), "prior auth value")
        inner = cells[headers.index("benefit details")].xpath(".//table")
        if len(inner) != 1:
            raise Unreadable("a service row must hold exactly one detail table")
        inner_headers, inner_rows = _header_table(inner[0])
        networks = _networks(inner_headers, {"benefit"})
        not_covered: set[NetworkIndicator] = set()
        for row in inner_rows:
            kind, period = _lookup(ROWS, _text(row[inner_headers.index("benefit")]), "benefit row")
            for index, network in networks.items():
                text = _text(row[index])
                if text == "Not Covered":
                    not_covered.add(network)
                elif text != "N/A":
                    lines.append(BenefitLine(service_type=service, kind=kind, network=network, time_period=period,
                                             prior_auth=auth, **_value(kind, text)))
        lines += [BenefitLine(service_type=service, kind=BenefitKind.NON_COVERED, network=n, prior_auth=auth)
                  for n in sorted(not_covered)]
    return lines


def _prior_auth_list(root) -> tuple[ServiceType, ...]:  # type: ignore[no-untyped-def]
    texts = [t for t in (_text(e) for e in root.iter("p", "div", "span")) if key(t).startswith("prior authorization required for")]
    if not texts:
        raise Unreadable("no prior authorization paragraph")
    listed = texts[-1].split(":", 1)[1].strip().rstrip(".")
    if key(listed) == "none":
        return ()
    return tuple(_lookup(SERVICES, name, "service") for name in listed.split(", "))
