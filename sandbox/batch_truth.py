"""What the overnight batch should have stored for one sandbox appointment, and where it differs.

Used by the demo, the e2e batch tests and the benchmark: for each appointment, the eligibility record
the portal shows (or why the member was not found), the authorization list and the three answers when
the visit names procedures or a service type, all from the ground truth, never from the product.

Capability-aware: what is expected follows the carrier's manifest (`capabilities`). A carrier that does not
declare authorizations must end the authorization part "not available at this carrier" (no portal lookup,
the answers from eligibility alone, the call-the-payer item as the action); one that does declare them must
never say so. A carrier without eligibility must end as needs_human, not available, before any lookup.

Payers and portals: an appointment names a payer; its portal (the item's `portal` or its eligibility lookup's
when the batch stores one, else the payer's own adapter, else the one registered portal serving the payer,
e.g. the Crossway hub for Harborview) gives the manifest. The ground truth of a payer only a sandbox hub serves comes from the hub's
data (`sandbox.carriers.payer_source`), derived from the same dataset.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from aggregator.errors import ConfigurationError
from aggregator.flows import capabilities
from aggregator.flows.authorization import AuthorizationAnswer, answer_authorization
from aggregator.models import AuthorizationList, EligibilityQuery, EligibilityRecord, MemberNotFound, ServiceType
from aggregator.scrapers.framework import Capability
from aggregator.scrapers.framework.manifest import Manifest
from aggregator.scrapers.registry import adapter_for, all_adapters
from sandbox.carriers import payer_source
from sandbox.dataset import Dataset
from sandbox.ground_truth import DatasetSource
from sandbox.ground_truth import authorizations as truth_authorizations
from sandbox.ground_truth import eligibility as truth_eligibility

VERIFIED = ("verified", "verified_with_changes")
NOT_AVAILABLE = "not_available_at_carrier"  # NotAvailableAtCarrier's code: the item's reason_code


def item_problems(repository: Any, dataset: DatasetSource, item: Any, appointment: Any) -> list[str]:
    """Every way the stored item differs from the ground truth (empty: it is right).

    `item` is a BatchItemRow, `appointment` its AppointmentRow; `repository` the product's Repository.
    """
    day: date = appointment.service_date
    manifest = portal_manifest(appointment.carrier, _answered_by(repository, item))
    dataset = truth_source(dataset, appointment.carrier)
    if not capabilities.declares(manifest, Capability.ELIGIBILITY):
        return _not_available_problems(item, manifest, Capability.ELIGIBILITY, state="needs_human",
                                       lookups=(item.eligibility_lookup_id, item.authorization_lookup_id),
                                       payer=appointment.carrier)
    query = EligibilityQuery(member_id=appointment.member_id, date_of_birth=appointment.patient_dob,
                             service_date=day, last_name=appointment.patient_last_name)
    truth = truth_eligibility(dataset, appointment.carrier, query)
    if not item.eligibility_lookup_id:
        return [f"no eligibility answer ({item.state}: {item.reason})"]
    stored = repository.records_for_lookup(item.eligibility_lookup_id)
    if len(stored) != 1 or stored[0].without_provenance() != truth:
        return ["the stored eligibility answer differs from what the portal shows"]
    if isinstance(truth, MemberNotFound):
        return [] if item.state == "not_found" else [f"member not found, but the item is {item.state}"]
    if item.state not in VERIFIED:
        return [f"the member was found, but the item is {item.state}: {item.reason}"]
    codes = tuple(c for c in (appointment.procedure_codes or "").split(";") if c)
    service = ServiceType(appointment.service_type) if appointment.service_type else None
    if not codes and service is None:
        return [] if item.authorization_lookup_id is None else ["authorizations were asked for a plain visit"]
    answers = [AuthorizationAnswer.model_validate(a) for a in json.loads(item.auth_answer or "[]")]
    if not capabilities.declares(manifest, Capability.AUTHORIZATION):
        return _without_authorizations_problems(item, manifest, truth, answers, day, service, codes,
                                                appointment.carrier)
    if item.reason_code == NOT_AVAILABLE:
        return [f"'not available at this carrier' for authorizations, but {manifest.display_name}'s manifest "
                "declares them"]
    auths = truth_authorizations(dataset, appointment.carrier, appointment.member_id, appointment.patient_dob)
    assert isinstance(auths, AuthorizationList)
    stored_auths = repository.records_for_lookup(item.authorization_lookup_id) if item.authorization_lookup_id else []
    if len(stored_auths) != 1 or stored_auths[0].without_provenance() != auths:
        return ["the stored authorization list differs from what the portal shows"]
    expected = [answer_authorization(truth, auths, service_date=day, service_type=service, procedure_code=code)
                for code in codes or (None,)]
    return [] if answers == expected else ["the authorization answers differ from the ground truth's"]


def _answered_by(repository: Any, item: Any) -> str | None:
    """The portal the item's answers came from, when it was not the payer's own: the item's `portal`, else its
    eligibility lookup's (LookupRow.portal, set once routing picked a hub)."""
    portal = getattr(item, "portal", None)
    get_lookup = getattr(repository, "get_lookup", None)
    if portal is None and item.eligibility_lookup_id and get_lookup is not None:
        lookup = get_lookup(item.eligibility_lookup_id)
        portal = getattr(lookup, "portal", None)
    return portal


def portal_manifest(payer: str, portal: str | None = None) -> Manifest:
    """The manifest of the portal that answers for `payer`: `portal` when known, else the payer's own adapter,
    else the one registered portal whose manifest serves the payer (a hub)."""
    if portal:
        return adapter_for(portal).manifest
    try:
        return adapter_for(payer).manifest
    except ConfigurationError:
        serving = [a.manifest for a in all_adapters() if a.manifest.serves(payer)]
        if len(serving) != 1:
            raise
        return serving[0]


def truth_source(dataset: DatasetSource, payer: str) -> DatasetSource:
    """Where `payer`'s ground truth comes from: the generated dataset, or for a payer only a hub serves the hub's
    data derived from it; a running portal's or hub's state is taken as given (its current data)."""
    return payer_source(dataset, payer) if isinstance(dataset, Dataset) else dataset


def expected_eligibility(dataset: DatasetSource, row: dict[str, Any]) -> EligibilityRecord | MemberNotFound:
    """The eligibility answer an appointment row (sandbox.appointments) must get, whatever its payer."""
    from sandbox.appointments import payer_of

    payer = payer_of(row)
    query = EligibilityQuery(member_id=row["member_id"], date_of_birth=row["patient_dob"],
                             service_date=row["appointment_start"].date(), last_name=row["patient_last_name"])
    return truth_eligibility(truth_source(dataset, payer), payer, query)


def _without_authorizations_problems(item: Any, manifest: Manifest, truth: EligibilityRecord,
                                     answers: list[AuthorizationAnswer], day: date, service: ServiceType | None,
                                     codes: tuple[str, ...], payer: str) -> list[str]:
    """A visit at a carrier whose manifest lacks authorizations: the portal is never asked, the answers come
    from the (true) eligibility record alone, and an answer it cannot settle says "not available" (and, on a
    hub, whom to call: the visit's payer)."""
    if item.authorization_lookup_id is not None:
        return [f"authorizations were looked up, but {manifest.display_name}'s manifest does not declare them"]
    expected = capabilities.visit_answers_without_authorizations(
        truth, manifest, service_date=day, service_type=service, procedure_codes=codes, payer=payer)
    if answers != expected:
        return ["the answers without authorizations differ from the ground truth's"]
    if any(a.status == "not_available" for a in expected):
        return _not_available_problems(item, manifest, Capability.AUTHORIZATION, state=item.state, lookups=(),
                                       service=service, payer=payer)
    return [] if item.reason_code != NOT_AVAILABLE else [
        "'not available at this carrier', but the eligibility record alone settles every answer"]


def _not_available_problems(item: Any, manifest: Manifest, capability: Capability, *, state: str,
                            lookups: tuple[str | None, ...], service: ServiceType | None = None,
                            payer: str | None = None) -> list[str]:
    """The item says exactly the carrier's 'not available' reason and call-the-payer item (for the visit's
    service type, when it names one), asked no portal."""
    gap = capabilities.not_available(manifest, capability, service, payer)
    found = []
    if item.state != state:
        found.append(f"{capability.value} is not available at {manifest.display_name}: expected {state}, "
                     f"not {item.state}")
    if (item.reason_code, item.reason, item.action) != (gap.code, gap.reason, gap.call_the_payer):
        found.append(f"the item does not say {capability.value} is not available at this carrier "
                     f"(reason code {item.reason_code})")
    if any(lookups):
        found.append(f"a portal lookup was made, but {manifest.display_name} does not declare {capability.value}")
    return found
