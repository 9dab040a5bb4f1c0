"""The demo's ground-truth check of a batch item follows the carrier's manifest: "not available at this
carrier" is the right answer only when the manifest really lacks the capability, and a problem otherwise.

The manifests here are real ones with a capability taken away (validated again, so they stay consistent);
the items are what the batch stores (`sandbox.batch_truth` reads only these fields).
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

import sandbox.batch_truth as batch_truth
from aggregator.flows import capabilities
from aggregator.models import ServiceType
from aggregator.scrapers.framework import Capability
from aggregator.scrapers.framework.manifest import Manifest
from aggregator.scrapers.registry import adapter_for
from sandbox.ground_truth import sample_members

CARRIER = "ridgeline"


def _without(capability: Capability) -> Manifest:
    manifest = adapter_for(CARRIER).manifest
    data = manifest.model_dump()
    data["capabilities"] = manifest.capabilities - {capability}
    data["search_modes"] = {m for m in manifest.search_modes if m.capability is not capability}
    data["gaps"] = [g for g in manifest.gaps if g.need.capability is not capability]
    return Manifest.model_validate(data)


class _Repository:
    """records_for_lookup over a dict: lookup id -> the records the batch stored."""

    def __init__(self, records: dict[str, list[object]]) -> None:
        self.records = records

    def records_for_lookup(self, lookup_id: str) -> list[object]:
        return self.records.get(lookup_id, [])


@pytest.fixture
def visit(dataset):
    """An active member's MRI visit whose answer the eligibility record alone cannot settle."""
    manifest = _without(Capability.AUTHORIZATION)
    for sample in sample_members(dataset, CARRIER, 40, kinds=("active_subscriber",)):
        answers = capabilities.visit_answers_without_authorizations(
            sample.expected, manifest, service_date=sample.query.service_date,
            service_type=ServiceType.MRI_CAT_SCAN, procedure_codes=("70551",))
        if answers[0].status == "not_available":
            appointment = SimpleNamespace(carrier=CARRIER, member_id=sample.query.member_id,
                                          patient_dob=sample.query.date_of_birth,
                                          service_date=sample.query.service_date,
                                          patient_last_name=sample.member.last_name, procedure_codes="70551",
                                          service_type=ServiceType.MRI_CAT_SCAN.value)
            return SimpleNamespace(appointment=appointment, truth=sample.expected, answers=answers)
    raise AssertionError("no sampled member needs prior authorization for an MRI")


def _item(answers, *, gap=None, state="verified", auth_lookup=None, eligibility_lookup="e1"):  # type: ignore[no-untyped-def]
    return SimpleNamespace(
        state=state, eligibility_lookup_id=eligibility_lookup, authorization_lookup_id=auth_lookup,
        reason=gap.reason if gap else None, reason_code=gap.code if gap else None,
        action=gap.call_the_payer if gap else None,
        auth_answer=json.dumps([a.model_dump(mode="json") for a in answers]))


def _problems(monkeypatch, dataset, visit, manifest: Manifest, item) -> list[str]:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(batch_truth, "adapter_for", lambda slug: SimpleNamespace(manifest=manifest))
    repository = _Repository({"e1": [visit.truth]})
    return batch_truth.item_problems(repository, dataset, item, visit.appointment)


def test_not_available_is_right_when_the_manifest_lacks_authorizations(monkeypatch, dataset, visit):
    manifest = _without(Capability.AUTHORIZATION)
    gap = capabilities.not_available(manifest, Capability.AUTHORIZATION, ServiceType.MRI_CAT_SCAN)  # the visit's service
    assert _problems(monkeypatch, dataset, visit, manifest, _item(visit.answers, gap=gap)) == []


def test_without_authorizations_the_portal_must_not_be_asked_nor_the_gap_left_unsaid(monkeypatch, dataset, visit):
    manifest = _without(Capability.AUTHORIZATION)
    gap = capabilities.not_available(manifest, Capability.AUTHORIZATION)
    asked = _item(visit.answers, gap=gap, auth_lookup="a1")
    assert "authorizations were looked up" in _problems(monkeypatch, dataset, visit, manifest, asked)[0]
    unsaid = _item(visit.answers)
    assert "does not say authorization is not available" in _problems(monkeypatch, dataset, visit, manifest, unsaid)[0]
    guessed = _item([a.model_copy(update={"status": "not_required"}) for a in visit.answers], gap=gap)
    assert "differ from the ground truth" in _problems(monkeypatch, dataset, visit, manifest, guessed)[0]


def test_not_available_is_a_problem_when_the_manifest_declares_authorizations(monkeypatch, dataset, visit):
    manifest = adapter_for(CARRIER).manifest
    gap = capabilities.not_available(_without(Capability.AUTHORIZATION), Capability.AUTHORIZATION)
    found = _problems(monkeypatch, dataset, visit, manifest, _item(visit.answers, gap=gap, auth_lookup="a1"))
    assert found and "manifest declares them" in found[0]


def test_a_carrier_without_eligibility_ends_needs_human_before_any_lookup(monkeypatch, dataset, visit):
    manifest = _without(Capability.AUTHORIZATION)
    manifest = Manifest.model_validate({**manifest.model_dump(), "capabilities": {Capability.CLAIM_STATUS},
                                        "search_modes": {m for m in manifest.search_modes
                                                         if m.capability is Capability.CLAIM_STATUS},
                                        "gaps": []})
    gap = capabilities.not_available(manifest, Capability.ELIGIBILITY)
    right = _item([], gap=gap, state="needs_human", eligibility_lookup=None)
    assert _problems(monkeypatch, dataset, visit, manifest, right) == []
    looked_up = _item([], gap=gap, state="needs_human")
    assert "a portal lookup was made" in _problems(monkeypatch, dataset, visit, manifest, looked_up)[0]


# --- a payer only a hub serves: the hub's manifest, the hub's data ---------------------------------------

def test_a_hub_payers_item_is_checked_with_the_hubs_manifest_and_the_hubs_ground_truth(dataset):
    from sandbox.carriers import hub_payers, payer_source

    payer = hub_payers()[0]
    manifest = batch_truth.portal_manifest(payer)
    assert manifest.is_hub and manifest.serves(payer), "the one registered portal serving the payer: its hub"
    source = payer_source(dataset, payer)
    visit = None
    for sample in sample_members(source, payer, 40, kinds=("active_subscriber",)):
        answers = capabilities.visit_answers_without_authorizations(
            sample.expected, manifest, service_date=sample.query.service_date,
            service_type=ServiceType.MRI_CAT_SCAN, procedure_codes=("70551",), payer=payer)  # whom to call
        if answers[0].status == "not_available":
            appointment = SimpleNamespace(carrier=payer, member_id=sample.query.member_id,
                                          patient_dob=sample.query.date_of_birth,
                                          service_date=sample.query.service_date,
                                          patient_last_name=sample.member.last_name, procedure_codes="70551",
                                          service_type=ServiceType.MRI_CAT_SCAN.value)
            visit = SimpleNamespace(appointment=appointment, truth=sample.expected, answers=answers)
            break
    assert visit is not None, "no sampled member of the hub payer needs prior authorization for an MRI"
    assert Capability.AUTHORIZATION not in manifest.capabilities  # else this would not be "not available"
    gap = capabilities.not_available(manifest, Capability.AUTHORIZATION, ServiceType.MRI_CAT_SCAN, payer)
    item = _item(visit.answers, gap=gap)
    # On a hub the item names the payer to call, not the hub: the hub's own wording is a problem.
    hubs_own = capabilities.not_available(manifest, Capability.AUTHORIZATION, ServiceType.MRI_CAT_SCAN)
    if hubs_own.call_the_payer != gap.call_the_payer:
        unsaid = _item(visit.answers, gap=hubs_own)
        assert batch_truth.item_problems(_Repository({"e1": [visit.truth]}), dataset, unsaid, visit.appointment)
    # The generated dataset holds no hub payer: item_problems reads the hub's data derived from it.
    assert batch_truth.item_problems(_Repository({"e1": [visit.truth]}), dataset, item, visit.appointment) == []
    other = next(s.expected for s in sample_members(source, payer, 3, kinds=("active_subscriber",))
                 if s.expected != visit.truth)
    found = batch_truth.item_problems(_Repository({"e1": [other]}), dataset, item, visit.appointment)
    assert found == ["the stored eligibility answer differs from what the portal shows"]
    # An item that says which portal answered is checked with that portal's manifest.
    portal = SimpleNamespace(**vars(item), portal=manifest.slug)
    assert batch_truth.item_problems(_Repository({"e1": [visit.truth]}), dataset, portal, visit.appointment) == []
