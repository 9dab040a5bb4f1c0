"""What changed since the last check: eligibility, claims and authorizations, compared on natural keys.

Pure and carrier-agnostic. Each function takes the previous answer on the same subject (None on the
first check, which reports nothing) and the current one, and returns `Change`s sorted by kind, then
subject. Provenance, fetch times and `last_updated` stamps are never compared; only what the carrier says
about the coverage, claim or authorization. Messages are one plain sentence for staff: claim and
authorization numbers, service names, amounts and dates, never a member's name or date of birth.
The rules are in docs/flows.md.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Literal

from aggregator.flows.eligibility import InconsistentAnswer
from aggregator.models import (
    Adjustment,
    Authorization,
    AuthorizationList,
    AuthorizedService,
    BenefitKind,
    BenefitLine,
    ClaimList,
    ClaimQuery,
    ClaimStatus,
    CoverageStatus,
    EligibilityRecord,
    NetworkIndicator,
    ServiceType,
    TimePeriod,
)
from aggregator.models.base import Record
from aggregator.models.codes import AdjustmentReason, AuthIndicator, ClaimStatusCategory

ChangeKind = Literal[
    "coverage_termed", "coverage_reinstated", "coverage_dates_changed", "plan_changed", "group_changed",
    "deductible_met", "out_of_pocket_reached", "benefit_changed", "prior_auth_list_changed",
    "claim_new", "claim_removed", "claim_status_changed", "claim_paid_amount_changed", "claim_denied",
    "claim_adjustments_changed",
    "authorization_new", "authorization_status_changed", "authorization_units_changed", "authorization_dates_changed",
    "authorization_removed",
]


class Change(Record):
    """One difference staff should know about."""

    kind: ChangeKind
    subject: str  # "coverage", a claim number, an auth number, "deductible IND in-network", ...
    before: str | None  # None: absent before
    after: str | None  # None: absent now
    message: str  # one plain sentence for staff, no member name or date of birth


def _sorted(changes: Iterable[Change]) -> tuple[Change, ...]:
    return tuple(sorted(changes, key=lambda c: (c.kind, c.subject, c.before or "", c.after or "", c.message)))


# --- eligibility --------------------------------------------------------------------------------------

def eligibility_changes(previous: EligibilityRecord | None, current: EligibilityRecord) -> tuple[Change, ...]:
    """Coverage status and dates, plan, group, benefit lines (by sort key) and the carrier's prior-auth list.

    While either answer shows inactive coverage, benefit lines and the prior-auth list are not compared:
    an inactive answer carries no benefits, and the coverage change already says what happened.
    """
    if previous is None:
        return ()
    if previous.carrier != current.carrier or previous.member.member_id != current.member.member_id:
        raise InconsistentAnswer("the two eligibility answers compared are about different members")
    changes = _coverage_changes(previous, current) + _plan_changes(previous, current)
    both_active = previous.coverage.status is CoverageStatus.ACTIVE and current.coverage.status is CoverageStatus.ACTIVE
    if both_active:
        changes += _benefit_changes(previous.benefits, current.benefits)
        changes += _prior_auth_changes(previous, current)
    return _sorted(changes)


def _coverage_changes(previous: EligibilityRecord, current: EligibilityRecord) -> list[Change]:
    before, after = previous.coverage, current.coverage
    changes: list[Change] = []
    if before.status is not after.status:
        if after.status is CoverageStatus.INACTIVE:
            changes.append(Change(kind="coverage_termed", subject="coverage", before=before.status.label,
                                  after=after.status.label,
                                  message=f"Coverage is not active on the date of service ({current.service_date}); "
                                          "it was at the last check."))
        else:
            changes.append(Change(kind="coverage_reinstated", subject="coverage", before=before.status.label,
                                  after=after.status.label,
                                  message=f"Coverage is active on the date of service ({current.service_date}); "
                                          "it was not at the last check."))
    old_end, new_end = before.termination_date, after.termination_date
    if old_end != new_end:
        if new_end is not None and (old_end is None or new_end < old_end):
            was = f"was {old_end}" if old_end else "it had no end date"
            changes.append(Change(kind="coverage_termed", subject="coverage termination date", before=_text(old_end),
                                  after=str(new_end), message=f"Coverage now ends on {new_end} ({was})."))
        else:
            now = f"now ends on {new_end}" if new_end else "no longer has an end date"
            changes.append(Change(kind="coverage_dates_changed", subject="coverage termination date",
                                  before=_text(old_end), after=_text(new_end),
                                  message=f"Coverage {now} (was {old_end})."))
    if before.effective_date != after.effective_date:
        changes.append(Change(kind="coverage_dates_changed", subject="coverage effective date",
                              before=str(before.effective_date), after=str(after.effective_date),
                              message=f"Coverage now starts on {after.effective_date} (was {before.effective_date})."))
    return changes


def _plan_changes(previous: EligibilityRecord, current: EligibilityRecord) -> list[Change]:
    changes: list[Change] = []
    old, new = previous.plan, current.plan
    old_plan = f"{old.name} ({old.insurance_type.label})"
    new_plan = f"{new.name} ({new.insurance_type.label})"
    if old_plan != new_plan:
        changes.append(Change(kind="plan_changed", subject="plan", before=old_plan, after=new_plan,
                              message=f"The plan changed from {old_plan} to {new_plan}."))
    old_payer = f"{previous.payer.name} ({previous.payer.payer_id})"
    new_payer = f"{current.payer.name} ({current.payer.payer_id})"
    if old_payer != new_payer:
        changes.append(Change(kind="plan_changed", subject="payer", before=old_payer, after=new_payer,
                              message=f"The payer changed from {old_payer} to {new_payer}."))
    old_group = f"{old.group_number} {old.group_name}"
    new_group = f"{new.group_number} {new.group_name}"
    if old_group != new_group:
        changes.append(Change(kind="group_changed", subject="group", before=old_group, after=new_group,
                              message=f"The group changed from {old_group} to {new_group}."))
    return changes


_KIND_WORDS = {
    BenefitKind.COINSURANCE: "coinsurance",
    BenefitKind.COPAY: "copay",
    BenefitKind.DEDUCTIBLE: "deductible",
    BenefitKind.LIMITATION: "limit",
    BenefitKind.OUT_OF_POCKET: "out-of-pocket",
    BenefitKind.NON_COVERED: "not covered",
}
_NETWORK_WORDS = {
    NetworkIndicator.IN_NETWORK: "in-network",
    NetworkIndicator.OUT_OF_NETWORK: "out-of-network",
    NetworkIndicator.NOT_APPLICABLE: "any network",
    NetworkIndicator.UNKNOWN: "network unknown",
}


def _line_subject(line: BenefitLine, *, with_period: bool = True) -> str:
    parts = [] if line.service_type is ServiceType.HEALTH_BENEFIT_PLAN_COVERAGE else [line.service_type.label]
    parts.append(_KIND_WORDS[line.kind])
    if line.coverage_level:
        parts.append(line.coverage_level.value)
    parts.append(_NETWORK_WORDS[line.network])
    if with_period and line.time_period:
        parts.append(line.time_period.label.lower())
    return " ".join(parts)


def _line_value(line: BenefitLine) -> str:
    if line.kind is BenefitKind.NON_COVERED:
        return "not covered"
    if line.percent is not None:
        return f"{_number(line.percent * 100)}%"
    if line.amount is not None:
        return _money(line.amount)
    if line.quantity is not None:
        unit = line.quantity_qualifier.label.lower() if line.quantity_qualifier else ""
        return f"{_number(line.quantity)} {unit}".strip()
    return "listed"


def _benefit_changes(previous: tuple[BenefitLine, ...], current: tuple[BenefitLine, ...]) -> list[Change]:
    old = {line.sort_key(): line for line in previous}
    new = {line.sort_key(): line for line in current}
    changes: list[Change] = []
    for key in sorted(old.keys() | new.keys()):
        before, after = old.get(key), new.get(key)
        line = after or before
        assert line is not None
        before_value = _line_value(before) if before else None
        after_value = _line_value(after) if after else None
        if before_value == after_value:
            continue  # only the EB11 indicator differs, reported once per service below
        remaining = line.time_period is TimePeriod.REMAINING
        if (remaining and before and after and before.amount and before.amount > 0 and after.amount == 0
                and line.kind in (BenefitKind.DEDUCTIBLE, BenefitKind.OUT_OF_POCKET)):
            subject = _line_subject(line, with_period=False)
            words = " ".join(w for w in (line.coverage_level.label.lower() if line.coverage_level else "",
                                         _NETWORK_WORDS[line.network]) if w)
            if line.kind is BenefitKind.DEDUCTIBLE:
                changes.append(Change(kind="deductible_met", subject=subject, before=before_value, after=after_value,
                                      message=f"The {words} deductible is met (was {before_value} remaining)."))
            else:
                changes.append(Change(kind="out_of_pocket_reached", subject=subject, before=before_value,
                                      after=after_value, message=f"The {words} out-of-pocket maximum is reached "
                                                                 f"(was {before_value} remaining)."))
            continue
        subject = _line_subject(line)
        if before is None:
            message = f"New benefit: {subject} {after_value}."
        elif after is None:
            message = f"The benefit {subject} ({before_value}) is no longer listed."
        else:
            message = f"The benefit {subject} changed from {before_value} to {after_value}."
        changes.append(Change(kind="benefit_changed", subject=subject, before=before_value, after=after_value,
                              message=message))
    changes += _line_prior_auth_changes(previous, current)
    return changes


def _line_prior_auth_changes(previous: tuple[BenefitLine, ...], current: tuple[BenefitLine, ...]) -> list[Change]:
    """The EB11 indicator, once per service type and network (every line of a service repeats it)."""
    old, new = _prior_auth_by_service(previous), _prior_auth_by_service(current)
    changes: list[Change] = []
    for key in sorted(old.keys() & new.keys(), key=lambda k: (k[0].value, k[1].value)):
        if old[key] != new[key]:
            service, network = key
            subject = f"{service.label} prior authorization {_NETWORK_WORDS[network]}"
            changes.append(Change(kind="benefit_changed", subject=subject, before=old[key], after=new[key],
                                  message=f"Prior authorization for {service.label} ({_NETWORK_WORDS[network]}) "
                                          f"changed from '{old[key]}' to '{new[key]}'."))
    return changes


def _prior_auth_by_service(lines: tuple[BenefitLine, ...]) -> dict[tuple[ServiceType, NetworkIndicator], str]:
    seen: dict[tuple[ServiceType, NetworkIndicator], set[AuthIndicator]] = {}
    for line in lines:
        seen.setdefault((line.service_type, line.network), set()).add(line.prior_auth)
    words = {AuthIndicator.REQUIRED: "required", AuthIndicator.NOT_REQUIRED: "not required",
             AuthIndicator.UNKNOWN: "unknown"}
    return {key: " / ".join(sorted(words[v] for v in values)) for key, values in seen.items()}


def _prior_auth_changes(previous: EligibilityRecord, current: EligibilityRecord) -> list[Change]:
    old, new = set(previous.prior_auth_service_types), set(current.prior_auth_service_types)
    changes = []
    for service in sorted(old ^ new, key=lambda s: s.value):
        added = service in new
        changes.append(Change(
            kind="prior_auth_list_changed", subject=f"prior authorization list: {service.label}",
            before="not listed" if added else "listed", after="listed" if added else "not listed",
            message=(f"The carrier now lists {service.label} as needing prior authorization." if added
                     else f"The carrier no longer lists {service.label} as needing prior authorization.")))
    return changes


# --- claims -------------------------------------------------------------------------------------------

# CARCs that say a claim or line is not paid for a reason other than cost sharing or the fee schedule.
_NOT_DENIALS = frozenset({
    AdjustmentReason.DEDUCTIBLE, AdjustmentReason.COINSURANCE, AdjustmentReason.COPAY,
    AdjustmentReason.EXCEEDS_FEE_SCHEDULE, AdjustmentReason.PRIOR_PAYER_IMPACT, AdjustmentReason.SEQUESTRATION,
})

_AdjustmentKey = tuple[int, str, str, Decimal]  # line number, group, reason, amount


def claim_changes(previous: ClaimList | None, current: ClaimList) -> tuple[Change, ...]:
    """New, removed and changed claims by payer claim number.

    A claim missing from one answer counts as new (or removed) only if the other search would have listed
    it: when the two searches cover different date ranges, claims outside the overlap are not compared.
    """
    if previous is None:
        return ()
    if previous.carrier != current.carrier:
        raise InconsistentAnswer("the two claim answers compared come from different carriers")
    old = {c.payer_claim_number: c for c in previous.claims}
    new = {c.payer_claim_number: c for c in current.claims}
    changes: list[Change] = []
    for number in sorted(old.keys() | new.keys()):
        before, after = old.get(number), new.get(number)
        if before is None:
            assert after is not None
            if _in_scope(previous.query, after):
                changes.append(Change(
                    kind="claim_new", subject=number, before=None, after=_claim_status(after),
                    message=f"New claim {number} for services {_span(after.service_from, after.service_to)}: "
                            f"{after.status_category.label}, billed {_money(after.billed)}."))
        elif after is None:
            if _in_scope(current.query, before):
                changes.append(Change(
                    kind="claim_removed", subject=number, before=_claim_status(before), after=None,
                    message=f"Claim {number} is no longer listed by the carrier."))
        else:
            changes += _claim_diff(number, before, after)
    return _sorted(changes)


def _in_scope(query: ClaimQuery, claim: ClaimStatus) -> bool:
    if query.claim_number:
        return claim.payer_claim_number == query.claim_number
    assert query.service_from is not None and query.service_to is not None
    return (claim.member_id == query.member_id and claim.service_to >= query.service_from
            and claim.service_from <= query.service_to)


def _claim_diff(number: str, before: ClaimStatus, after: ClaimStatus) -> list[Change]:
    changes: list[Change] = []
    old_adjustments, new_adjustments = _adjustments(before), _adjustments(after)
    added = new_adjustments - old_adjustments
    removed = old_adjustments - new_adjustments
    new_denials = sorted(k for k in added.elements() if AdjustmentReason(k[2]) not in _NOT_DENIALS)
    moved_to_denial = (before.status_category is not ClaimStatusCategory.FINALIZED_DENIAL
                       and after.status_category is ClaimStatusCategory.FINALIZED_DENIAL)
    status_moved = (before.status_category, before.status_code) != (after.status_category, after.status_code)

    if moved_to_denial or new_denials:
        why = "; ".join(f"line {line} {group}-{reason} {AdjustmentReason(reason).label}"
                        for line, group, reason, _ in new_denials)
        message = f"Claim {number} was denied" if moved_to_denial else f"Claim {number} has new denied services"
        changes.append(Change(kind="claim_denied", subject=number, before=_claim_status(before),
                              after=_claim_status(after), message=f"{message}{f' ({why})' if why else ''}."))
    if status_moved and not moved_to_denial:
        changes.append(Change(
            kind="claim_status_changed", subject=number, before=_claim_status(before), after=_claim_status(after),
            message=f"Claim {number} moved from {before.status_category.label} to {after.status_category.label}."))
    if before.paid != after.paid:
        paid = f"Claim {number} paid amount changed from {_money(before.paid)} to {_money(after.paid)}"
        if after.check_number or after.paid_date:
            detail = " ".join(p for p in (f"check/EFT {after.check_number}" if after.check_number else "",
                                          f"on {after.paid_date}" if after.paid_date else "") if p)
            paid += f" ({detail})"
        changes.append(Change(kind="claim_paid_amount_changed", subject=number, before=_money(before.paid),
                              after=_money(after.paid), message=f"{paid}."))
    explained = not removed and sum(added.values()) == len(new_denials)  # only new denials: said above
    if (added or removed) and not explained:
        changes.append(Change(kind="claim_adjustments_changed", subject=number,
                              before=_adjustment_text(old_adjustments), after=_adjustment_text(new_adjustments),
                              message=f"Claim {number} adjustments changed from {_adjustment_text(old_adjustments)} "
                                      f"to {_adjustment_text(new_adjustments)}."))
    return changes


def _adjustments(claim: ClaimStatus) -> Counter[_AdjustmentKey]:
    def key(line_number: int, a: Adjustment) -> _AdjustmentKey:
        return (line_number, a.group.value, a.reason.value, a.amount)

    return Counter(key(line.line_number, a) for line in claim.lines for a in line.adjustments)


def _adjustment_text(adjustments: Counter[_AdjustmentKey]) -> str:
    if not adjustments:
        return "none"
    return "; ".join(f"line {line} {group}-{reason} {_money(amount)}"
                     for line, group, reason, amount in sorted(adjustments.elements()))


def _claim_status(claim: ClaimStatus) -> str:
    return f"{claim.status_category.value} {claim.status_category.label} (status {claim.status_code})"


# --- authorizations -----------------------------------------------------------------------------------

def authorization_changes(previous: AuthorizationList | None, current: AuthorizationList) -> tuple[Change, ...]:
    """New, removed and changed authorizations by auth number: decision, units per procedure, dates."""
    if previous is None:
        return ()
    if previous.carrier != current.carrier or previous.query.member_id != current.query.member_id:
        raise InconsistentAnswer("the two authorization answers compared are about different members")
    old = {a.auth_number: a for a in previous.authorizations}
    new = {a.auth_number: a for a in current.authorizations}
    changes: list[Change] = []
    for number in sorted(old.keys() | new.keys()):
        before, after = old.get(number), new.get(number)
        if before is None:
            assert after is not None
            changes.append(Change(
                kind="authorization_new", subject=number, before=None, after=_auth_status(after),
                message=f"New authorization {number} for {after.service_type.label}: {_auth_status(after)}, "
                        f"{_auth_dates(after)}."))
        elif after is None:
            changes.append(Change(kind="authorization_removed", subject=number, before=_auth_status(before),
                                  after=None, message=f"Authorization {number} is no longer listed by the carrier."))
        else:
            changes += _auth_diff(number, before, after)
    return _sorted(changes)


def _auth_diff(number: str, before: Authorization, after: Authorization) -> list[Change]:
    changes: list[Change] = []
    if _auth_status(before) != _auth_status(after):
        changes.append(Change(
            kind="authorization_status_changed", subject=number, before=_auth_status(before),
            after=_auth_status(after),
            message=f"Authorization {number} changed from {_auth_status(before)} to {_auth_status(after)}."))
    if _auth_dates(before) != _auth_dates(after):
        changes.append(Change(
            kind="authorization_dates_changed", subject=number, before=_auth_dates(before), after=_auth_dates(after),
            message=f"Authorization {number} dates changed from {_auth_dates(before)} to {_auth_dates(after)}."))
    old = _services(before.services)
    new = _services(after.services)
    for code in sorted(old.keys() | new.keys()):
        old_units, new_units = old.get(code), new.get(code)
        if old_units == new_units:
            continue
        subject = f"{number} {code}"
        if old_units is None:
            message = f"Authorization {number} now includes {code}: {new_units}."
        elif new_units is None:
            message = f"Authorization {number} no longer includes {code} (was {old_units})."
        else:
            message = f"Authorization {number} units for {code} changed from {old_units} to {new_units}."
        changes.append(Change(kind="authorization_units_changed", subject=subject, before=old_units, after=new_units,
                              message=message))
    return changes


def _services(services: tuple[AuthorizedService, ...]) -> dict[str, str]:
    units: dict[str, list[str]] = {}
    for s in services:
        unit = s.unit.label.lower()
        units.setdefault(s.procedure_code, []).append(
            f"{_number(s.approved)} {unit} approved, {_number(s.used)} used, {_number(s.remaining)} left")
    return {code: "; ".join(sorted(texts)) for code, texts in units.items()}


def _auth_status(auth: Authorization) -> str:
    reason = f", {auth.decision_reason.label}" if auth.decision_reason else ""
    return f"{auth.status.label} ({auth.status.value}{reason})"


def _auth_dates(auth: Authorization) -> str:
    if auth.effective_date is None and auth.expiration_date is None:
        return "no dates"
    return _span(auth.effective_date, auth.expiration_date)


# --- formatting ---------------------------------------------------------------------------------------

def _money(value: Decimal) -> str:
    return f"${value:,.2f}"


def _number(value: Decimal) -> str:
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def _span(start: date | None, end: date | None) -> str:
    if start == end and start is not None:
        return str(start)
    return f"{start or 'open'} to {end or 'open'}"


def _text(value: date | None) -> str | None:
    return None if value is None else str(value)
