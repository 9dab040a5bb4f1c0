"""Carrier-agnostic consistency checks of a parsed record: what a page states twice must agree.

A disagreement is a `ParseError` (no record, needs attention), never a choice between the two values.
"""

from __future__ import annotations

from decimal import Decimal

from aggregator.errors import ParseError
from aggregator.models import ClaimStatus, Coverage, Member, Relationship, ServiceType
from aggregator.models.codes import AdjustmentGroup

ZERO = Decimal("0.00")


def check_claim_amounts(claim: ClaimStatus) -> None:
    """Totals are the sums of their lines; a decided line's billed is paid plus its adjustments; the
    patient's share is the sum of PR adjustments; open claims show no decision; money paid has a date
    and a check, no money paid has neither."""
    lines = claim.lines
    if not lines:
        raise ParseError("the claim has no service lines")
    if len({line.line_number for line in lines}) != len(lines):
        raise ParseError("a service line number appears twice")
    if claim.billed != sum((line.billed for line in lines), ZERO):
        raise ParseError("total billed is not the sum of the lines' billed amounts")
    if claim.paid != sum((line.paid for line in lines), ZERO):
        raise ParseError("total paid is not the sum of the lines' paid amounts")
    if claim.allowed is not None and claim.allowed != sum((line.allowed for line in lines), ZERO):
        raise ParseError("total allowed is not the sum of the lines' allowed amounts")
    if claim.allowed is None and any(line.allowed or line.paid for line in lines):
        raise ParseError("the claim has no allowed amount yet its lines show allowed or paid amounts")
    patient_share = sum((a.amount for line in lines for a in line.adjustments
                         if a.group is AdjustmentGroup.PATIENT_RESPONSIBILITY), ZERO)
    if (claim.patient_responsibility or ZERO) != patient_share:
        raise ParseError("patient responsibility is not the sum of the PR adjustments")
    decided = claim.status_category.value.startswith("F")
    for line in lines:
        if not claim.service_from <= line.service_date <= claim.service_to:
            raise ParseError(f"line {line.line_number} is dated outside the claim's service dates")
        if decided and line.billed != line.paid + sum((a.amount for a in line.adjustments), ZERO):
            raise ParseError(f"line {line.line_number}: billed is not paid plus adjustments")
        if not decided and line.adjustments:
            raise ParseError(f"line {line.line_number} of a claim not yet decided shows adjustments")
    if decided and claim.adjudicated_date is None:
        raise ParseError("a finalized claim without a processed date")
    if not decided and (claim.adjudicated_date is not None or claim.allowed is not None):
        raise ParseError("a claim not yet decided shows a processed date or an allowed amount")
    if claim.paid > ZERO and (claim.paid_date is None or claim.check_number is None):
        raise ParseError("money paid without a paid date or a check/EFT number")
    if claim.paid == ZERO and (claim.paid_date is not None or claim.check_number is not None):
        raise ParseError("a paid date or check number on a claim that paid nothing")


def benefits_shown(coverage: Coverage, *, inactive_notice: bool, shows_benefits: bool) -> bool:
    """Whether the eligibility page's benefits are to be read: a page saying coverage is not active shows
    none, active coverage shows them; any other combination is a page we do not understand."""
    active = coverage.status.value == "1"
    if inactive_notice:
        if active or shows_benefits:
            raise ParseError("the page says benefits are not shown but shows active coverage or benefits")
        return False
    if not active:
        raise ParseError("inactive coverage shown with benefits")
    return True


def check_prior_auth_list(listed: list[ServiceType], required: list[ServiceType]) -> None:
    """The page's list of services needing prior authorization names exactly the services marked so."""
    if set(listed) != set(required):
        raise ParseError("the prior-authorization list disagrees with the services marked as requiring it")


def check_own_member_ids(member: Member) -> None:
    """For a portal that gives each dependent an id of its own (not every payer does, so an adapter declares it by
    calling this): the member is the subscriber exactly when its id is the subscriber id."""
    if (member.relationship is Relationship.SELF) != (member.member_id == member.subscriber_id):
        raise ParseError("the member and subscriber ids disagree with the relationship to the subscriber")
