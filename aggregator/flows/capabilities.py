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
from aggregator.scrapers.framework.manifest import Manifest, Need
from aggregator.scrapers.framework.manifest import call_the_payer as checklist_item

# What each capability answers, in the words staff read ("... does not answer <words>").
QUESTIONS = {
    Capability.ELIGIBILITY: "eligibility and benefits questions",
    Capability.AUTHORIZATION: "prior-authorization questions",
    Capability.CLAIM_STATUS: "claim status questions",
}


def declares(manifest: Manifest, capability: Capability) -> bool:
    return capability in manifest.capabilities


def call_the_payer(manifest: Manifest, capability: Capability, service: ServiceType | None = None,
                   payer: str | None = None) -> str:
    """The checklist item staff follow when `manifest`'s portal cannot answer `capability` (for the visit's
    service, when known): the manifest's own call-the-payer item (scrapers/framework/manifest.py), naming
    the payer (`payer`) when the portal is a hub."""
    item = checklist_item(manifest, capability, service, payer)
    assert item is not None, "an undeclared capability always has a call-the-payer item"
    return item.text


def not_available(manifest: Manifest, capability: Capability,
                  service: ServiceType | None = None, payer: str | None = None) -> NotAvailableAtCarrier:
    """The typed answer for a question the carrier's portal cannot answer (raise it or keep it)."""
    return NotAvailableAtCarrier(
        f"{manifest.display_name}'s portal does not answer {QUESTIONS[capability]} (not available at this carrier)",
        capability=capability.value, call_the_payer=call_the_payer(manifest, capability, service, payer))


def require(manifest: Manifest, capability: Capability, payer: str | None = None) -> None:
    """Raise `NotAvailableAtCarrier` unless the manifest declares `capability`."""
    if not declares(manifest, capability):
        raise not_available(manifest, capability, payer=payer)


def visit_answers_without_authorizations(
    eligibility: EligibilityRecord, manifest: Manifest, *, service_date: date,
    service_type: ServiceType | None, procedure_codes: tuple[str, ...], payer: str | None = None,
) -> list[AuthorizationAnswer]:
    """One answer per procedure (or one for the visit) at a carrier that shows no authorizations, as the
    batch stores them: see `answer_without_authorizations`."""
    item = call_the_payer(manifest, Capability.AUTHORIZATION, service_type, payer)
    return [answer_without_authorizations(eligibility, item, service_date=service_date, service_type=service_type,
                                          procedure_code=code) for code in procedure_codes or (None,)]


def calls_for_visit(manifest: Manifest, *, service: ServiceType, prior_auth: bool,
                    authorizations: bool | None = None, payer: str | None = None) -> list[str]:
    """Every call-the-payer item a visit needs at this carrier, from its manifest: the cost share of the
    visit's service type, and (`prior_auth`: the visit asks about prior authorization) whether it needs one
    and the authorizations themselves, wherever the portal cannot give them (a missing capability or a
    declared gap). `authorizations` False: the visit's answers are settled without them (e.g. the benefits
    say "not required"); None: not known yet, as `prior_auth`."""
    needs = [Need.SERVICE_BENEFITS]
    if prior_auth:
        needs.append(Need.PRIOR_AUTH_REQUIREMENT)
    if prior_auth if authorizations is None else authorizations:
        needs.append(Need.AUTHORIZATIONS)
    items = (checklist_item(manifest, need, service, payer) for need in needs)
    # A carrier without eligibility answers both eligibility needs with the same item: say it once.
    return list(dict.fromkeys(item.text for item in items if item is not None))
