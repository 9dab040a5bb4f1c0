"""Ask a carrier only what its manifest declares; otherwise say "not available at this carrier".

Every caller (the batch, the web lookup form and API, the CLI through the runner) decides here, before
any portal session exists, whether a capability can be asked of a carrier. When it cannot, the answer is
a `NotAvailableAtCarrier` carrying the call-the-payer checklist item for that gap, so staff learn what to
do instead of seeing a failure, and no portal is ever logged in to for a question it cannot answer.
"""

from __future__ import annotations

from datetime import date

from aggregator.errors import NotAvailableAtCarrier
from aggregator.flows.authorization import AuthorizationAnswer, answer_without_authorizations
from aggregator.models import EligibilityRecord, ServiceType
from aggregator.scrapers.framework import Capability
from aggregator.scrapers.framework.manifest import Manifest

# What each capability answers, in the words staff read ("... does not answer <words>").
QUESTIONS = {
    Capability.ELIGIBILITY: "eligibility and benefits questions",
    Capability.AUTHORIZATION: "prior-authorization questions",
    Capability.CLAIM_STATUS: "claim status questions",
}

# Used when the manifest declares no gap of its own for a capability it lacks.
_DEFAULT_CALLS = {
    Capability.ELIGIBILITY: "ask whether the member's coverage is active on the date of service, and the visit's "
                            "copay, coinsurance and deductible left",
    Capability.AUTHORIZATION: "ask whether the visit's procedures need prior authorization and whether one is "
                              "approved for the date of service (note the authorization number)",
    Capability.CLAIM_STATUS: "ask for the claim's status, the amounts paid and the patient's share",
}


def declares(manifest: Manifest, capability: Capability) -> bool:
    return capability in manifest.capabilities


def call_the_payer(manifest: Manifest, capability: Capability) -> str:
    """The checklist item staff follow when `manifest`'s portal cannot answer `capability`."""
    return (f"Call {manifest.display_name} ({QUESTIONS[capability]} are not available on its portal): "
            f"{_DEFAULT_CALLS[capability]}.")


def not_available(manifest: Manifest, capability: Capability) -> NotAvailableAtCarrier:
    """The typed answer for a question the carrier's portal cannot answer (raise it or keep it)."""
    return NotAvailableAtCarrier(
        f"{manifest.display_name}'s portal does not answer {QUESTIONS[capability]} (not available at this carrier)",
        capability=capability.value, call_the_payer=call_the_payer(manifest, capability))


def require(manifest: Manifest, capability: Capability) -> None:
    """Raise `NotAvailableAtCarrier` unless the manifest declares `capability`."""
    if not declares(manifest, capability):
        raise not_available(manifest, capability)


def visit_answers_without_authorizations(
    eligibility: EligibilityRecord, manifest: Manifest, *, service_date: date,
    service_type: ServiceType | None, procedure_codes: tuple[str, ...],
) -> list[AuthorizationAnswer]:
    """One answer per procedure (or one for the visit) at a carrier that shows no authorizations, as the
    batch stores them: see `answer_without_authorizations`."""
    item = call_the_payer(manifest, Capability.AUTHORIZATION)
    return [answer_without_authorizations(eligibility, item, service_date=service_date, service_type=service_type,
                                          procedure_code=code) for code in procedure_codes or (None,)]
