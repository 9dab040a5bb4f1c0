"""What must hold of every record any carrier returns, whatever page it was read from.

A page that contradicts itself (totals that do not add up, a "paid" claim with no payment, a denied
authorization with approved units, two values for one benefit) makes no answer: the first rule broken is
a `ParseError` naming the record kind and the rule, never a value. `check_record` walks an answer and
every record inside it (lists, page models, their rows), so adapters need not call anything; the
framework runs it on every parse and on every answer an adapter's `check_*` returns.

The rules are domain rules (X12 277/278/271 semantics), checked against the sandbox's ground truth for
every member of every carrier by tests/unit/test_invariants.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any, NoReturn

from pydantic import BaseModel

from aggregator.errors import ParseError
from aggregator.models import (
    AuthIndicator,
    Authorization,
    BenefitKind,
    ClaimStatus,
    CoverageLevel,
    CoverageStatus,
    EligibilityRecord,
    Provenance,
    TimePeriod,
)
from aggregator.models.authorization import AuthorizationQuery
from aggregator.models.claims import ClaimQuery
from aggregator.models.codes import AuthDecisionReason, AuthStatus, ClaimStatusCategory
from aggregator.models.eligibility import EligibilityQuery
from aggregator.scrapers.framework.checks import check_claim_amounts
from aggregator.scrapers.framework.listings import AuthListRow, ClaimListRow

ZERO = Decimal("0")

# Fields that hold money or counts anywhere in a record: never negative. A portal's "($3,000.00)" is a
# reversal or a misread, and either way not an answer we can give.
_NON_NEGATIVE = frozenset({"billed", "allowed", "paid", "patient_responsibility", "amount", "units", "quantity",
                           "approved", "used", "remaining", "total", "page", "pages"})
# Fields that are a share, as a decimal 0-1 (EB08 convention in models/eligibility.py).
_SHARES = frozenset({"percent"})
# (earlier, later) date fields: wherever a record has both, the first is not after the second.
_DATE_ORDER = (("service_from", "service_to"), ("effective_date", "expiration_date"),
               ("effective_date", "termination_date"))
# The search that asked is not what the page says: its fields are not checked.
_NOT_CHECKED = (Provenance, EligibilityQuery, AuthorizationQuery, ClaimQuery)


def _fail(kind: str, rule: str) -> NoReturn:
    raise ParseError(f"{kind}: {rule}")


# --- claims -------------------------------------------------------------------------------------------

# STC01-2 status codes (code source 508) whose meaning fixes the categories they may appear with
# (STANDARDS.md 2.3, matched as category prefixes). Codes not listed here constrain nothing.
_DECIDED_NOT_PAID = ("F0", "F2", "F4")
_REFUSED = ("A3", "A6", "A7", "A8", *_DECIDED_NOT_PAID)
_CODE_CATEGORIES: dict[str, tuple[str, ...]] = {
    "1": ("F",),  # see remittance advice: finalized
    "3": ("F0", "F1", "F3"),  # adjudicated, awaiting the payment cycle: decided, and paying
    "65": ("F0", "F1", "F3"),  # paid
    "104": ("F",), "107": ("F",),  # processed according to plan / contract provisions
    "585": _DECIDED_NOT_PAID,  # denied or non-covered charge
    "88": _REFUSED, "97": _REFUSED, "109": _REFUSED, "116": _REFUSED,  # not eligible, not ours: refused
    "19": ("A",),  # receipt acknowledged
    "20": ("A2", "P"),  # accepted for processing: more than a receipt, not yet decided
    "21": ("A3", "A6", "A7", "A8", "P", "R"),  # missing or invalid information
    "41": ("P",), "45": ("P",),  # special handling, awaiting benefit determination
}
_STATUS_CODE = re.compile(r"^\d{1,5}$")
_NO_PAYMENT = (ClaimStatusCategory.FINALIZED_DENIAL, ClaimStatusCategory.FINALIZED_NO_PAYMENT)


def _finalized(category: ClaimStatusCategory) -> bool:
    return category.value.startswith("F")


def _status_and_payment(kind: str, category: ClaimStatusCategory, paid: Decimal) -> None:
    """What a status category says about money: F1 paid something, F2/F4 paid nothing, an open claim
    paid nothing yet."""
    if category is ClaimStatusCategory.FINALIZED_PAYMENT and paid <= ZERO:
        _fail(kind, "a claim finalized as paid shows no payment")
    if category in _NO_PAYMENT and paid != ZERO:
        _fail(kind, "a denied or unpaid finalized claim shows a payment")
    if not _finalized(category) and paid != ZERO:
        _fail(kind, "a claim not yet finalized shows a payment")


def check_claim(claim: ClaimStatus) -> None:
    """Amounts agree with lines and adjustments; status category, status code, payment and dates agree."""
    kind = "claim"
    try:
        check_claim_amounts(claim)
    except ParseError as error:
        _fail(kind, error.reason)
    code = claim.status_code.strip()
    if not _STATUS_CODE.match(code):
        _fail(kind, "the status code is not a claim status code")
    categories = _CODE_CATEGORIES.get(code.lstrip("0") or "0")
    if categories is not None and not claim.status_category.value.startswith(categories):
        _fail(kind, "the status code contradicts the status category")
    _status_and_payment(kind, claim.status_category, claim.paid)
    for line in claim.lines:
        if line.allowed > line.billed:
            _fail(kind, f"line {line.line_number} allows more than it bills")
        if line.paid > line.allowed:
            _fail(kind, f"line {line.line_number} pays more than it allows")
    if claim.received_date < claim.service_to:
        _fail(kind, "received before its last date of service")
    if claim.adjudicated_date is not None and claim.adjudicated_date < claim.received_date:
        _fail(kind, "processed before it was received")
    if claim.paid_date is not None:
        if claim.adjudicated_date is None or claim.paid_date < claim.adjudicated_date:
            _fail(kind, "paid before it was processed")


def check_claim_row(row: ClaimListRow) -> None:
    """A claim list's row: what its status says about its payment, and a payment within the charge."""
    if row.paid > row.billed:
        _fail("claim list row", "pays more than it bills")
    _status_and_payment("claim list row", row.status_category, row.paid)


# --- authorizations -----------------------------------------------------------------------------------

_APPROVED = (AuthStatus.CERTIFIED, AuthStatus.PARTIAL, AuthStatus.MODIFIED)
_NOTHING_APPROVED = (AuthStatus.NOT_CERTIFIED, AuthStatus.PENDED, AuthStatus.CONTACT_PAYER)
_DENIAL_REASONS = frozenset(AuthDecisionReason) - {AuthDecisionReason.CERTIFICATION_NOT_REQUIRED}


def _auth_status_and_dates(kind: str, status: AuthStatus, effective: date | None, expiration: date | None) -> None:
    if status in _APPROVED and (effective is None or expiration is None):
        _fail(kind, "an approved authorization has no effective or expiration date")


def check_authorization(auth: Authorization) -> None:
    """Per procedure approved = used + remaining; the status agrees with units, dates and reason."""
    kind = "authorization"
    _auth_status_and_dates(kind, auth.status, auth.effective_date, auth.expiration_date)
    codes = [(s.procedure_code, s.unit) for s in auth.services]
    if len(set(codes)) != len(codes):
        _fail(kind, "a procedure is listed twice")
    for service in auth.services:
        if service.used + service.remaining != service.approved:
            _fail(kind, "a procedure's used and remaining units do not add up to its approved units")
        if auth.status in _NOTHING_APPROVED and service.approved != ZERO:
            _fail(kind, "a denied, pended or contact-payer authorization shows approved units")
        if auth.status is AuthStatus.CERTIFIED and service.approved <= ZERO:
            _fail(kind, "an authorization certified in total has a procedure with no approved units")
    if auth.status in _APPROVED and auth.services and not any(s.approved > ZERO for s in auth.services):
        _fail(kind, "an approved authorization approves no units")
    if auth.status is AuthStatus.CERTIFIED and auth.decision_reason in _DENIAL_REASONS:
        _fail(kind, "an authorization certified in total carries a denial reason")
    if auth.status is AuthStatus.NOT_CERTIFIED and auth.decision_reason is None:
        _fail(kind, "a denied authorization has no decision reason")


def check_auth_row(row: AuthListRow) -> None:
    _auth_status_and_dates("authorization list row", row.status, row.effective_date, row.expiration_date)


# --- eligibility --------------------------------------------------------------------------------------

# For one benefit (service, kind, network, level): the total of the period and what remains or was met
# of it. What remains, or was met so far, never exceeds the total.
_PART_OF = {TimePeriod.REMAINING: (TimePeriod.CALENDAR_YEAR, TimePeriod.SERVICE_YEAR),
            TimePeriod.YEAR_TO_DATE: (TimePeriod.CALENDAR_YEAR, TimePeriod.SERVICE_YEAR),
            TimePeriod.LIFETIME_REMAINING: (TimePeriod.LIFETIME,)}
_ACCUMULATED = (BenefitKind.DEDUCTIBLE, BenefitKind.OUT_OF_POCKET)


def check_eligibility(record: EligibilityRecord) -> None:
    """One value per benefit key; coverage status agrees with its dates; inactive coverage shows no
    benefits; what remains of a benefit never exceeds it, an individual's never exceeds the family's;
    the prior-authorization list agrees with the benefit lines."""
    kind = "eligibility"
    coverage, day = record.coverage, record.service_date
    in_force = coverage.effective_date <= day and (coverage.termination_date is None
                                                    or day <= coverage.termination_date)
    if (coverage.status is CoverageStatus.ACTIVE) != in_force:
        _fail(kind, "the coverage status contradicts its dates on the date of service")
    if coverage.status is not CoverageStatus.ACTIVE and (record.benefits or record.prior_auth_service_types):
        _fail(kind, "inactive coverage shows benefits")
    values: dict[tuple[str, ...], Decimal | None] = {}
    for line in record.benefits:
        key = line.sort_key()
        if key in values:
            _fail(kind, "two benefit rows share one benefit key")
        values[key] = line.amount if line.amount is not None else line.quantity
    for (service, benefit, network, level, period), value in values.items():
        parts_of = _PART_OF.get(TimePeriod(period), ()) if period else ()
        totals = [values.get((service, benefit, network, level, p.value)) for p in parts_of]
        if value is not None and any(t is not None and value > t for t in totals):
            _fail(kind, "a benefit's remaining or met amount exceeds its total")
        if benefit in {k.value for k in _ACCUMULATED} and level == CoverageLevel.INDIVIDUAL.value:
            family = values.get((service, benefit, network, CoverageLevel.FAMILY.value, period))
            if value is not None and family is not None and value > family:
                _fail(kind, "an individual amount exceeds the family amount")
    listed = set(record.prior_auth_service_types)
    for line in record.benefits:
        if line.prior_auth is AuthIndicator.REQUIRED and line.service_type not in listed:
            _fail(kind, "a service marked as needing prior authorization is missing from the list")
        if line.prior_auth is AuthIndicator.NOT_REQUIRED and line.service_type in listed:
            _fail(kind, "a service listed as needing prior authorization is marked as not needing it")


# --- any record ---------------------------------------------------------------------------------------

def _check_fields(model: BaseModel) -> None:
    """Domains by field name, for every record and page model alike: money and counts are not negative,
    shares are within 0-1, paired dates are in order, a page number is within the pages."""
    kind = type(model).__name__
    fields = type(model).model_fields
    for name in fields:
        value = getattr(model, name)
        if name in _NON_NEGATIVE and isinstance(value, (int, Decimal)) and not isinstance(value, bool) and value < 0:
            _fail(kind, f"{name.replace('_', ' ')} is negative")
        if name in _SHARES and isinstance(value, Decimal) and not ZERO <= value <= 1:
            _fail(kind, f"{name} is outside 0-100%")
    for earlier, later in _DATE_ORDER:
        first, second = getattr(model, earlier, None), getattr(model, later, None)
        if isinstance(first, date) and isinstance(second, date) and second < first:
            _fail(kind, f"{later.replace('_', ' ')} is before {earlier.replace('_', ' ')}")
    page, pages = getattr(model, "page", None), getattr(model, "pages", None)
    if isinstance(page, int) and isinstance(pages, int):
        if not 1 <= page <= pages:
            _fail(kind, "the page number is outside the page count")
        has_next = getattr(model, "has_next", None)
        if isinstance(has_next, bool) and has_next != (page < pages):
            _fail(kind, "the pager's next link disagrees with the page count")
    total, rows = getattr(model, "total", None), getattr(model, "rows", None)
    if isinstance(total, int) and isinstance(rows, tuple) and len(rows) > total:
        _fail(kind, "more rows than the stated total")


_BY_TYPE: tuple[tuple[type[Any], Callable[[Any], None]], ...] = (
    (ClaimStatus, check_claim), (ClaimListRow, check_claim_row), (Authorization, check_authorization),
    (AuthListRow, check_auth_row), (EligibilityRecord, check_eligibility),
)


def _records(value: Any) -> Iterator[BaseModel]:
    """`value` and every model inside it, depth first (queries and provenance excluded)."""
    if isinstance(value, _NOT_CHECKED):
        return
    if isinstance(value, BaseModel):
        yield value
        for name in type(value).model_fields:
            yield from _records(getattr(value, name))
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from _records(item)


def check_record(answer: Any) -> None:
    """Every invariant on `answer` and on every record it holds; the first violation is a ParseError."""
    models = list(_records(answer))
    for model in models:  # domains first: a negative amount is named as such, not as a sum that fails
        _check_fields(model)
    for model in models:
        for kind, check in _BY_TYPE:
            if isinstance(model, kind):
                check(model)
    carrier = getattr(answer, "carrier", None)
    if isinstance(carrier, str):
        for item in (*getattr(answer, "claims", ()), *getattr(answer, "authorizations", ())):
            if getattr(item, "carrier", carrier) != carrier:
                _fail(type(answer).__name__, "a record of another carrier is in the answer")


def evidence_of(answer: Any) -> list[str]:
    """The evidence ids of `answer`'s provenance and of every record inside it, in order, once each."""
    found: dict[str, None] = {}

    def visit(value: Any) -> None:
        if isinstance(value, Provenance):
            found.update(dict.fromkeys(value.evidence_ids))
        elif isinstance(value, BaseModel) and not isinstance(value, _NOT_CHECKED):
            # The answer's own provenance first, then its records'.
            for name in sorted(type(value).model_fields, key=lambda name: name != "provenance"):
                visit(getattr(value, name))
        elif isinstance(value, (tuple, list)):
            for item in value:
                visit(item)

    visit(answer)
    return list(found)


def check_answer(answer: Any) -> None:
    """`check_record` on a whole answer an adapter assembled; a violation carries the answer's evidence."""
    try:
        check_record(answer)
    except ParseError as error:
        raise error.with_evidence(*evidence_of(answer)) from None
