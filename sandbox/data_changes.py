"""Run-time data changes: the carrier's records change while a test watches (change detection).

A change is a small JSON object (`POST /_sandbox/data` on a portal, or `PortalState.apply_data_change`):

    {"action": "pay_claim", "claim_number": "26318004512", "date": "2026-11-27"}
    {"action": "deny_claim", "claim_number": "...", "reason": "197", "group": "CO", "date": "..."}
    {"action": "term_coverage", "member_id": "RM123456789", "termination_date": "2026-11-30"}
    {"action": "meet_deductible", "member_id": "RM123456789", "network": "in"}
    {"action": "approve_authorization", "auth_number": "RA26123456", "date": "..."}
    {"action": "cancel_authorization", "auth_number": "RA26123456", "date": "..."}

`normalize_change` validates one and fills its defaults (`date` = the portal's today); `apply_change`
is a pure function from (dataset, carrier, normalized change) to a new `Dataset` with only that
carrier changed, so a test that only has the HTTP side can rebuild the portal's current data with
`replay(generate_dataset(seed, as_of), carrier, GET /_sandbox/data ["changes"])`. Everything a change
invents (check numbers) comes from a seeded stream named after the change, so replays agree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from aggregator.models import NetworkIndicator, normalize_member_id
from aggregator.models.codes import AdjustmentGroup, AdjustmentReason, AuthStatus, ClaimStatusCategory
from sandbox.activity import (
    AuthorizationData,
    AuthorizedServiceData,
    ClaimData,
    cost_share,
    deny_line,
    price_line,
)
from sandbox.dataset import CarrierData, Dataset, MemberData, rng_for
from sandbox.plans import money

# action -> {field: required?}; "action" itself is implied.
ACTIONS: dict[str, dict[str, bool]] = {
    "pay_claim": {"claim_number": True, "date": False},
    "deny_claim": {"claim_number": True, "reason": False, "group": False, "date": False},
    "term_coverage": {"member_id": True, "termination_date": True},
    "meet_deductible": {"member_id": True, "network": False},
    "approve_authorization": {"auth_number": True, "date": False},
    "cancel_authorization": {"auth_number": True, "date": False},
}
NETWORKS = {"in": NetworkIndicator.IN_NETWORK, "out": NetworkIndicator.OUT_OF_NETWORK}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class DataChangeError(ValueError):
    """A refused change: `status` is the HTTP status the control endpoint answers with (400 bad shape,
    404 unknown claim/member/authorization, 409 the record is not in a state the action applies to,
    422 a bad value)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _iso(value: object, name: str) -> date:
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise DataChangeError(422, f"'{name}' must be a date as YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise DataChangeError(422, f"'{name}' is not a valid date: {value}") from None


def normalize_change(change: object, today: date) -> dict[str, Any]:
    """Validate the shape of a change and fill its defaults. Raises DataChangeError."""
    if not isinstance(change, Mapping):
        raise DataChangeError(400, "body must be a JSON object")
    action = change.get("action")
    if action not in ACTIONS:
        raise DataChangeError(422, f"unknown action {action!r} (known: {', '.join(ACTIONS)})")
    spec = ACTIONS[action]
    unknown = sorted(set(change) - set(spec) - {"action"})
    if unknown:
        raise DataChangeError(422, f"unknown field(s) for {action}: {', '.join(unknown)}")
    missing = [name for name, required in spec.items() if required and not change.get(name)]
    if missing:
        raise DataChangeError(422, f"{action} needs: {', '.join(missing)}")
    out: dict[str, Any] = {"action": action}
    for name in spec:
        value = change.get(name)
        if name in ("claim_number", "auth_number"):
            if not isinstance(value, str):
                raise DataChangeError(422, f"'{name}' must be a string")
            out[name] = value.strip().upper()
        elif name == "member_id":
            try:
                out[name] = normalize_member_id(str(value))
            except ValueError:
                raise DataChangeError(422, f"not a member id: {value!r}") from None
        elif name in ("date", "termination_date"):
            out[name] = (_iso(value, name) if value is not None else today).isoformat()
        elif name == "reason":
            reason = "197" if value is None else str(value)
            if reason not in {r.value for r in AdjustmentReason}:
                raise DataChangeError(422, f"unknown CARC {reason!r}")
            out[name] = reason
        elif name == "group":
            group = "CO" if value is None else str(value).upper()
            if group not in {g.value for g in AdjustmentGroup}:
                raise DataChangeError(422, f"unknown adjustment group {group!r} (CO, OA, PI, PR)")
            out[name] = group
        elif name == "network":
            network = "in" if value is None else str(value).lower()
            if network not in NETWORKS:
                raise DataChangeError(422, "'network' must be 'in' or 'out'")
            out[name] = network
    return out


def apply_change(dataset: Dataset, carrier: str, change: Mapping[str, Any]) -> Dataset:
    """A new dataset with one normalized change applied to `carrier`. Raises DataChangeError."""
    data = dataset.carrier(carrier)
    action = change["action"]
    if action in ("pay_claim", "deny_claim"):
        updated = _claim_change(dataset, data, carrier, change)
    elif action in ("approve_authorization", "cancel_authorization"):
        updated = _auth_change(data, change)
    else:
        updated = _member_change(data, change)
    return replace(dataset, carriers={**dataset.carriers, carrier: updated})


def replay(dataset: Dataset, carrier: str, changes: Iterable[Mapping[str, Any]]) -> Dataset:
    """Apply recorded (normalized) changes in order: the data a portal shows after them."""
    for change in changes:
        dataset = apply_change(dataset, carrier, change)
    return dataset


# --- claims ----------------------------------------------------------------------------------------

def _claim_change(dataset: Dataset, data: CarrierData, carrier: str, change: Mapping[str, Any]) -> CarrierData:
    number = change["claim_number"]
    claim = data.claims.get(number)
    if claim is None:
        raise DataChangeError(404, f"no claim {number}")
    if not claim.is_open:
        raise DataChangeError(409, f"claim {number} is {claim.status_category.value}, not open (received, "
                                   "accepted, pending or information requested)")
    day = date.fromisoformat(change["date"])
    if day < claim.received_date:
        raise DataChangeError(422, f"claim {number} was received on {claim.received_date}, after {day}")
    if change["action"] == "pay_claim":
        updated = _pay(dataset, data, carrier, claim, day)
    else:
        group, reason = AdjustmentGroup(change["group"]), AdjustmentReason(change["reason"])
        updated = replace(claim, status_category=ClaimStatusCategory.FINALIZED_DENIAL, status_code="585",
                          adjudicated_date=day, paid_date=None, check_number=None,
                          lines=tuple(deny_line(line, group, reason) for line in claim.lines))
    return replace(data, claims={**data.claims, number: updated})


def _pay(dataset: Dataset, data: CarrierData, carrier: str, claim: ClaimData, day: date) -> ClaimData:
    member = data.member(claim.member_id)
    assert member is not None
    copay, coinsurance = cost_share(data.plan_for(member), claim.service_type)
    lines = tuple(price_line(line, copay if index == 0 else money(0), coinsurance, money(0))
                  for index, line in enumerate(claim.lines))
    rng = rng_for(dataset.seed, carrier, "data-change", "pay_claim", claim.claim_number, day.isoformat())
    return replace(claim, status_category=ClaimStatusCategory.FINALIZED_PAYMENT, status_code="65",
                   adjudicated_date=day, paid_date=day, check_number=data.profile.activity.check_number(rng),
                   lines=lines)


# --- authorizations ----------------------------------------------------------------------------------

def _auth_change(data: CarrierData, change: Mapping[str, Any]) -> CarrierData:
    number = change["auth_number"]
    auth = data.authorizations.get(number)
    if auth is None:
        raise DataChangeError(404, f"no authorization {number}")
    day = date.fromisoformat(change["date"])
    if change["action"] == "approve_authorization":
        if auth.status not in (AuthStatus.PENDED, AuthStatus.CONTACT_PAYER):
            raise DataChangeError(409, f"authorization {number} is {auth.status.value}, not pended (A4) or CT")
        member = data.member(auth.member_id)
        assert member is not None
        expiration = day + timedelta(days=auth.duration_days - 1)
        if member.termination_date is not None:
            expiration = min(expiration, member.termination_date)
        if expiration < day:
            raise DataChangeError(409, f"the member's coverage ends before {day}")
        updated: AuthorizationData = replace(
            auth, status=AuthStatus.CERTIFIED, effective_date=day, expiration_date=expiration, decision_reason=None,
            last_updated=day, services=tuple(AuthorizedServiceData(s.procedure_code, s.unit, s.requested,
                                                                   s.requested, 0) for s in auth.services))
    else:
        if auth.status in (AuthStatus.CANCELLED, AuthStatus.NOT_CERTIFIED, AuthStatus.CONTACT_PAYER):
            raise DataChangeError(409, f"authorization {number} is {auth.status.value}: nothing to cancel")
        updated = replace(auth, status=AuthStatus.CANCELLED, decision_reason=None, last_updated=day)
    return replace(data, authorizations={**data.authorizations, number: updated})


# --- members -----------------------------------------------------------------------------------------

def _member_change(data: CarrierData, change: Mapping[str, Any]) -> CarrierData:
    member = data.member(change["member_id"])
    if member is None:
        raise DataChangeError(404, f"no member {change['member_id']}")
    members = dict(data.members)
    if change["action"] == "term_coverage":
        end = date.fromisoformat(change["termination_date"])
        if end < member.effective_date:
            raise DataChangeError(422, f"coverage of {member.member_id} starts on {member.effective_date}, "
                                       f"after {end}")
        # A subscriber's termination ends the whole household's coverage; a dependent's only their own.
        affected = data.household(member) if member.is_subscriber else (member,)
        for person in affected:
            members[person.member_id] = replace(person, termination_date=end)
    else:
        members[member.member_id] = _met(data, member, NETWORKS[change["network"]])
    return replace(data, members=members)


def _met(data: CarrierData, member: MemberData, network: NetworkIndicator) -> MemberData:
    plan = data.plan_for(member)
    if network not in plan.deductible:
        raise DataChangeError(422, f"plan {plan.code} has no out-of-network deductible")
    limit = plan.deductible[network].individual
    accumulators = member.accumulators
    deductible = {**accumulators.deductible_met, network: limit}
    out_of_pocket = {**accumulators.out_of_pocket_met,
                     network: max(accumulators.out_of_pocket_met[network], limit)}
    return replace(member, accumulators=replace(accumulators, deductible_met=deductible,
                                                out_of_pocket_met=out_of_pocket))


__all__ = ["ACTIONS", "DataChangeError", "apply_change", "normalize_change", "replay"]
