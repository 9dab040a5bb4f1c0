"""Does this visit need a prior authorization, is one approved that covers it, and what is missing?

Pure and carrier-agnostic: it reads an eligibility record (the benefits' EB11 indicator per service
type and network, and the carrier's own list of services that need review) and the member's
authorization list (278 decisions), and answers for one visit. No I/O; the rules are in docs/flows.md.

Three questions, answered in order:

1. Required? From the benefit lines of the visit's service type at the visit's network tier (EB11
   Y/N/U; tier W lines apply to every network) and the carrier's list. When the two disagree the answer
   is Y (safer) and the reason says so. Coverage not in force on the date of service answers U.
2. Covered? An authorization that `Authorization.covers` the visit: approved (A1/A2/A6), in force on
   the date of service, listing the procedure with units left (or, with no procedure, of the service
   type with units left).
3. Missing? One plain, PHI-free sentence per thing staff must do, e.g. "authorization RA123 expired
   on 2026-11-20, before the visit: request an extension or a new authorization".
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from aggregator.flows.eligibility import InconsistentAnswer
from aggregator.models import (
    AuthIndicator,
    AuthorizationList,
    BenefitKind,
    CoverageStatus,
    EligibilityRecord,
    NetworkIndicator,
    ServiceType,
)
from aggregator.models.authorization import Authorization
from aggregator.models.base import Record
from aggregator.models.codes import AuthStatus

AnswerStatus = Literal[
    "not_required", "covered", "missing", "expired", "not_yet_effective", "exhausted", "pending", "denied", "unknown",
    "not_available",  # the carrier's portal shows no authorizations: `missing` ends with the call-the-payer item
]

# When several authorizations concern the visit, the most useful one decides the status: the one
# closest to letting the visit go ahead. "unknown" here is an approved authorization without dates.
_RANK: dict[str, int] = {
    "covered": 0, "pending": 1, "unknown": 2, "not_yet_effective": 3, "expired": 4, "exhausted": 5, "denied": 6,
    "missing": 7,
}

_APPROVED = (AuthStatus.CERTIFIED, AuthStatus.PARTIAL, AuthStatus.MODIFIED)

_NETWORK_WORDS = {
    NetworkIndicator.IN_NETWORK: "in network",
    NetworkIndicator.OUT_OF_NETWORK: "out of network",
    NetworkIndicator.NOT_APPLICABLE: "any network",
    NetworkIndicator.UNKNOWN: "network unknown",
}


class AuthorizationAnswer(Record):
    """The answer for one visit: is prior auth required, is it covered, and what staff must still do."""

    service_date: date
    service_type: ServiceType | None = Field(
        description="as asked; when only a procedure was given, the service type of the authorizations listing it "
                    "(if there is exactly one)")
    procedure_code: str | None
    network: NetworkIndicator = NetworkIndicator.IN_NETWORK
    required: AuthIndicator = Field(description="Y required / N not required / U unknown")
    required_because: str
    status: AnswerStatus
    covering_auth_number: str | None = None
    missing: tuple[str, ...] = Field(default=(), description="what staff must do, plain words, PHI-free")
    expiring_within_days: int | None = Field(
        default=None, description="days from the visit to the covering authorization's expiration, when that is "
                                  "within the warning window (0 = it expires on the day of the visit)")


def answer_authorization(
    eligibility: EligibilityRecord,
    authorizations: AuthorizationList,
    *,
    service_date: date,
    service_type: ServiceType | None = None,
    procedure_code: str | None = None,
    network: NetworkIndicator = NetworkIndicator.IN_NETWORK,
    expiring_soon_days: int = 14,
) -> AuthorizationAnswer:
    """Answer the three prior-auth questions for one visit. Raises InconsistentAnswer when the two
    records are not about this member, carrier and date of service."""
    _check_same_question(eligibility, authorizations, service_date)
    procedure = procedure_code.strip().upper() if procedure_code else None
    auths = authorizations.authorizations

    def answer(**fields: object) -> AuthorizationAnswer:
        base: dict[str, object] = {"service_date": service_date, "service_type": service_type,
                                   "procedure_code": procedure, "network": network}
        return AuthorizationAnswer.model_validate(base | fields)

    if service_type is None and procedure is None:
        return answer(required=AuthIndicator.UNKNOWN, required_because="no service type or procedure was given",
                      status="unknown", missing=("say which service type or procedure the visit is for",))

    inactive = _inactive_reason(eligibility, service_date)
    if inactive:
        return answer(required=AuthIndicator.UNKNOWN, required_because=inactive, status="unknown",
                      missing=(f"coverage is not active on {service_date}: verify the member's insurance "
                               "before asking about authorization",))

    # Which service types the question is about.
    derived = service_type is None
    if service_type is not None:
        services: tuple[ServiceType, ...] = (service_type,)
    else:
        services = tuple(sorted({a.service_type for a in auths if _lists(a, procedure)}, key=lambda s: s.value))
        if len(services) == 1:
            service_type = services[0]
    what = _describe(services, procedure)

    # 1. Required?
    if services:
        required, because = _required(eligibility, services, network)
        if derived:
            names = ", ".join(s.label for s in services)
            because = f"procedure {procedure} is on authorizations for {names}; {because}"
    else:
        required = AuthIndicator.UNKNOWN
        because = (f"no service type was given and procedure {procedure} is on no authorization on file, "
                   "so the benefits cannot be matched")
    notes = _not_covered_notes(eligibility, services, network)

    # 2. Covered? (With a procedure, the procedure decides; without one, the service type does.)
    covering = sorted((a for a in auths if a.covers(procedure, service_type, service_date)),
                      key=lambda a: (-(a.expiration_date or date.min).toordinal(), a.auth_number))
    if covering:
        best = covering[0]  # several cover: the one in force the longest after the visit
        assert best.expiration_date is not None  # covers() requires both dates
        days = (best.expiration_date - service_date).days
        return answer(service_type=service_type, required=required, required_because=because, status="covered",
                      covering_auth_number=best.auth_number, missing=tuple(notes),
                      expiring_within_days=days if days <= expiring_soon_days else None)

    if required is AuthIndicator.NOT_REQUIRED:
        return answer(service_type=service_type, required=required, required_because=because, status="not_required",
                      missing=tuple(notes))

    # 3. What is missing: every authorization that concerns the visit, most useful first.
    findings = sorted((_finding(a, procedure, service_date) for a in auths if _concerns(a, procedure, services)),
                      key=lambda f: (_RANK[f[0]], f[1]))
    missing = list(notes)
    if required is AuthIndicator.UNKNOWN and services:
        missing.append(f"the carrier does not say whether {what} needs prior authorization ({_NETWORK_WORDS[network]}): "
                       "ask the carrier")
    elif required is AuthIndicator.UNKNOWN:
        missing.append(f"give the service type for procedure {procedure} to check whether it needs prior authorization")
    missing += [message for _, _, message in findings]
    status: AnswerStatus = findings[0][0] if findings else "missing"
    if status == "missing":
        if required is AuthIndicator.REQUIRED:
            usable = "no usable authorization" if findings else "no authorization on file"
            missing.append(f"{usable} for {what}: request one before the visit")
        else:
            if not findings:
                missing.append(f"no authorization on file for {what}")
            status = "unknown"
    return answer(service_type=service_type, required=required, required_because=because, status=status,
                  missing=tuple(missing))


def answer_without_authorizations(
    eligibility: EligibilityRecord,
    call_the_payer: str,
    *,
    service_date: date,
    service_type: ServiceType | None = None,
    procedure_code: str | None = None,
    network: NetworkIndicator = NetworkIndicator.IN_NETWORK,
) -> AuthorizationAnswer:
    """The answer for a visit at a carrier whose portal shows no authorizations (its manifest lacks the
    authorization capability). Question 1 is still answered from the eligibility record; when that says
    "not required" the visit needs nothing, otherwise the status is "not_available" and `missing` ends with
    `call_the_payer` (the checklist item from the carrier's declared gaps): never a guess at question 2."""
    if eligibility.service_date != service_date:
        raise InconsistentAnswer("the eligibility answer is for a different date of service than the visit")
    procedure = procedure_code.strip().upper() if procedure_code else None
    base: dict[str, object] = {"service_date": service_date, "service_type": service_type,
                               "procedure_code": procedure, "network": network}
    if service_type is None and procedure is None:
        return AuthorizationAnswer.model_validate(base | {
            "required": AuthIndicator.UNKNOWN, "required_because": "no service type or procedure was given",
            "status": "unknown", "missing": ("say which service type or procedure the visit is for",)})
    inactive = _inactive_reason(eligibility, service_date)
    if inactive:
        return AuthorizationAnswer.model_validate(base | {
            "required": AuthIndicator.UNKNOWN, "required_because": inactive, "status": "unknown",
            "missing": (f"coverage is not active on {service_date}: verify the member's insurance "
                        "before asking about authorization",)})
    services: tuple[ServiceType, ...] = (service_type,) if service_type is not None else ()
    if services:
        required, because = _required(eligibility, services, network)
    else:  # the service type of a procedure comes from the authorizations on file, which this portal lacks
        required = AuthIndicator.UNKNOWN
        because = f"no service type was given for procedure {procedure}, and the portal shows no authorizations"
    notes = _not_covered_notes(eligibility, services, network)
    if required is AuthIndicator.NOT_REQUIRED:
        return AuthorizationAnswer.model_validate(base | {
            "required": required, "required_because": because, "status": "not_required", "missing": tuple(notes)})
    return AuthorizationAnswer.model_validate(base | {
        "required": required, "required_because": because, "status": "not_available",
        "missing": (*notes, call_the_payer)})


# --- consistency --------------------------------------------------------------------------------------

def _check_same_question(eligibility: EligibilityRecord, authorizations: AuthorizationList, service_date: date) -> None:
    if eligibility.service_date != service_date:
        raise InconsistentAnswer("the eligibility answer is for a different date of service than the visit")
    if eligibility.carrier != authorizations.carrier:
        raise InconsistentAnswer("the eligibility and authorization answers come from different carriers")
    if eligibility.member.member_id != authorizations.query.member_id:
        raise InconsistentAnswer("the eligibility and authorization answers are for different members")
    if any(a.member_id != eligibility.member.member_id for a in authorizations.authorizations):
        raise InconsistentAnswer("an authorization listed belongs to a different member")


def _inactive_reason(eligibility: EligibilityRecord, on: date) -> str | None:
    coverage = eligibility.coverage
    if coverage.status is not CoverageStatus.ACTIVE:
        return "coverage inactive on the date of service"
    if on < coverage.effective_date or (coverage.termination_date is not None and on > coverage.termination_date):
        return "coverage dates do not include the date of service"
    return None


# --- 1. required? -------------------------------------------------------------------------------------

def _required(eligibility: EligibilityRecord, services: tuple[ServiceType, ...],
              network: NetworkIndicator) -> tuple[AuthIndicator, str]:
    answers = [_required_one(eligibility, service, network) for service in services]
    values = {value for value, _ in answers}
    if AuthIndicator.REQUIRED in values:
        value = AuthIndicator.REQUIRED
    elif AuthIndicator.UNKNOWN in values:
        value = AuthIndicator.UNKNOWN
    else:
        value = AuthIndicator.NOT_REQUIRED
    return value, "; ".join(reason for _, reason in answers)


def _required_one(eligibility: EligibilityRecord, service: ServiceType,
                  network: NetworkIndicator) -> tuple[AuthIndicator, str]:
    name, tier = service.label, _NETWORK_WORDS[network]
    lines = [line for line in eligibility.benefits if line.service_type is service
             and line.network in (network, NetworkIndicator.NOT_APPLICABLE)]
    said = {line.prior_auth for line in lines} - {AuthIndicator.UNKNOWN}
    listed = service in eligibility.prior_auth_service_types
    if said == {AuthIndicator.REQUIRED, AuthIndicator.NOT_REQUIRED}:
        return AuthIndicator.REQUIRED, f"benefit lines for {name} ({tier}) disagree on prior authorization: treated as required"
    if said == {AuthIndicator.REQUIRED}:
        if listed:
            return AuthIndicator.REQUIRED, (f"benefits for {name} ({tier}) say prior authorization is required, "
                                            f"and the carrier lists {name}")
        return AuthIndicator.REQUIRED, (f"benefits for {name} ({tier}) say prior authorization is required, but the "
                                        f"carrier's prior-authorization list does not name {name}: treated as required")
    if said == {AuthIndicator.NOT_REQUIRED}:
        if listed:
            return AuthIndicator.REQUIRED, (f"the carrier lists {name} as needing prior authorization, but the "
                                            f"benefits for {name} ({tier}) say it is not required: treated as required")
        return AuthIndicator.NOT_REQUIRED, f"benefits for {name} ({tier}) say prior authorization is not required"
    if listed:
        return AuthIndicator.REQUIRED, f"carrier lists {name}"
    if lines:
        return AuthIndicator.UNKNOWN, (f"benefits for {name} ({tier}) say the carrier cannot tell whether prior "
                                       f"authorization is required, and the carrier does not list {name}")
    return AuthIndicator.UNKNOWN, (f"the benefits do not mention {name} ({tier}) and the carrier does not list it")


def _not_covered_notes(eligibility: EligibilityRecord, services: tuple[ServiceType, ...],
                       network: NetworkIndicator) -> list[str]:
    return [f"the benefits say {line.service_type.label} is not covered ({_NETWORK_WORDS[network]})"
            for line in eligibility.benefits
            if line.kind is BenefitKind.NON_COVERED and line.service_type in services
            and line.network in (network, NetworkIndicator.NOT_APPLICABLE)]


# --- 2 and 3. covered? what is missing? ---------------------------------------------------------------

def _lists(auth: Authorization, procedure: str | None) -> bool:
    return procedure is not None and any(s.procedure_code == procedure for s in auth.services)


def _concerns(auth: Authorization, procedure: str | None, services: tuple[ServiceType, ...]) -> bool:
    """The authorization is about this visit: it lists the procedure, or (no procedure asked, or it is of
    the visit's service type but lacks the procedure) it is for the visit's service type."""
    return _lists(auth, procedure) or auth.service_type in services


def _finding(auth: Authorization, procedure: str | None, on: date) -> tuple[AnswerStatus, str, str]:
    """(status, auth number, message) for an authorization that concerns the visit but does not cover it."""
    number = auth.auth_number
    reason = f" ({auth.decision_reason.label})" if auth.decision_reason else ""
    if procedure is not None and not _lists(auth, procedure):
        return "missing", number, (f"authorization {number} for {auth.service_type.label} does not include "
                                   f"procedure {procedure}")
    if auth.status is AuthStatus.PENDED:
        return "pending", number, (f"authorization {number} is pended{reason}: wait for the carrier's decision "
                                   "before the visit")
    if auth.status is AuthStatus.CONTACT_PAYER:
        return "pending", number, f"authorization {number} says to contact the carrier{reason}: call them before the visit"
    if auth.status is AuthStatus.NOT_CERTIFIED:
        return "denied", number, (f"authorization {number} was denied{reason}: appeal or request a new "
                                  "authorization")
    if auth.status is AuthStatus.CANCELLED:
        return "missing", number, f"authorization {number} was cancelled"
    if auth.status not in _APPROVED:  # a decision code this flow does not know: never guess
        return "unknown", number, (f"authorization {number} has status {auth.status.label}: confirm with the "
                                   "carrier")
    if auth.effective_date is None or auth.expiration_date is None:
        return "unknown", number, (f"authorization {number} is approved but shows no effective or expiration date: "
                                   "confirm the dates with the carrier")
    if on < auth.effective_date:
        return "not_yet_effective", number, (f"authorization {number} starts on {auth.effective_date}, after the "
                                             "visit: ask the carrier to change its dates or move the visit")
    if on > auth.expiration_date:
        return "expired", number, (f"authorization {number} expired on {auth.expiration_date}, before the visit: "
                                   "request an extension or a new authorization")
    entries = [s for s in auth.services if procedure is None or s.procedure_code == procedure]
    subject = f" for {procedure}" if procedure else ""
    if entries and all(s.approved == 0 for s in entries):
        return "denied", number, (f"authorization {number} approved no units{subject} ({auth.status.label}): "
                                  "appeal or request a new authorization")
    if not entries:
        return "exhausted", number, f"authorization {number} lists no approved services: confirm with the carrier"
    return "exhausted", number, (f"authorization {number} has no units left{subject}: request more units or a new "
                                 "authorization")


def _describe(services: tuple[ServiceType, ...], procedure: str | None) -> str:
    names = ", ".join(s.label for s in services)
    if procedure and names:
        return f"procedure {procedure} ({names})"
    if procedure:
        return f"procedure {procedure}"
    return names
