"""What the overnight batch should have stored for one sandbox appointment, and where it differs.

Used by the demo, the e2e batch tests and the benchmark: for each appointment, the eligibility record
the portal shows (or why the member was not found), the authorization list and the three answers when
the visit names procedures or a service type, all from the ground truth, never from the product.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from aggregator.flows.authorization import AuthorizationAnswer, answer_authorization
from aggregator.models import AuthorizationList, EligibilityQuery, MemberNotFound, ServiceType
from sandbox.ground_truth import DatasetSource
from sandbox.ground_truth import authorizations as truth_authorizations
from sandbox.ground_truth import eligibility as truth_eligibility

VERIFIED = ("verified", "verified_with_changes")


def item_problems(repository: Any, dataset: DatasetSource, item: Any, appointment: Any) -> list[str]:
    """Every way the stored item differs from the ground truth (empty: it is right).

    `item` is a BatchItemRow, `appointment` its AppointmentRow; `repository` the product's Repository.
    """
    day: date = appointment.service_date
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
    auths = truth_authorizations(dataset, appointment.carrier, appointment.member_id, appointment.patient_dob)
    assert isinstance(auths, AuthorizationList)
    stored_auths = repository.records_for_lookup(item.authorization_lookup_id) if item.authorization_lookup_id else []
    if len(stored_auths) != 1 or stored_auths[0].without_provenance() != auths:
        return ["the stored authorization list differs from what the portal shows"]
    expected = [answer_authorization(truth, auths, service_date=day, service_type=service, procedure_code=code)
                for code in codes or (None,)]
    answers = [AuthorizationAnswer.model_validate(a) for a in json.loads(item.auth_answer or "[]")]
    return [] if answers == expected else ["the authorization answers differ from the ground truth's"]
