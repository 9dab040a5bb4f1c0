"""The FHIR export of what the product extracted from the real sandbox portals (Chromium): a small day batch
and a few claim-status lookups, exported, parsed back with the model library and compared with the sandbox's
ground truth (never with the stored records): copays, coinsurance, deductibles left, coverage dates,
authorization numbers and each visit's prior-auth answer, claim amounts; the evidence files' hashes."""

from __future__ import annotations

import base64
import hashlib
import json
from zoneinfo import ZoneInfo

from aggregator.evidence import SnapshotFiles
from aggregator.exports.formats import export_day
from aggregator.flows import capabilities
from aggregator.flows.authorization import answer_authorization
from aggregator.models import AuthorizationList, ClaimQuery, EligibilityQuery, EligibilityRecord, ServiceType
from aggregator.models.codes import ClaimStatusCategory
from aggregator.overnight.batch import BatchRun
from aggregator.scrapers.framework import Capability
from aggregator.scrapers.registry import adapter_for
from aggregator.store import batches
from sandbox import ground_truth
from tests.e2e.test_batch_e2e import DAY, OPTIONS, carriers, check_against_ground_truth, import_day
from tests.exports import fhir_truth


async def test_a_day_and_claim_lookups_export_as_fhir_equal_to_the_ground_truth(make_runner, sandbox, portals,
                                                                                settings, tmp_path):
    data = sandbox.dataset
    async with make_runner() as runner:
        rows = import_day(runner, sandbox, tmp_path, 8)
        await BatchRun(runner, DAY, options=OPTIONS).run()
        check_against_ground_truth(runner.repository, sandbox, rows)
        with_claims = [c for c in carriers(sandbox) if capabilities.declares(adapter_for(c).manifest, Capability.CLAIM_STATUS)]
        claim_lookups = []
        for carrier in with_claims[:2]:
            claim = ground_truth.claims_by_category(data, carrier)[ClaimStatusCategory.FINALIZED_PAYMENT][0]
            result = await runner.claims(carrier, ClaimQuery(claim_number=claim.claim_number))
            assert result.answer is not None, result.reason
            claim_lookups.append((carrier, claim.claim_number, result.lookup_id))
        repository = runner.repository
    files = SnapshotFiles(settings.resolved_snapshots_dir)

    # The day's batch answers.
    bundle = fhir_truth.round_trip(export_day(repository, DAY, "fhir", timezone=settings.timezone, files=files).content)
    visits = fhir_truth.visit_answers(bundle)
    checked = visits_with_auth = 0
    for item in batches.items_on(repository, DAY):
        appointment = batches.get_appointment(repository, item.appointment_id)
        assert appointment is not None
        if not item.eligibility_lookup_id:
            continue
        query = EligibilityQuery(member_id=appointment.member_id, date_of_birth=appointment.patient_dob,
                                 service_date=DAY, last_name=appointment.patient_last_name)
        truth = ground_truth.eligibility(data, appointment.carrier, query)
        response = fhir_truth.eligibility_response(bundle, item.eligibility_lookup_id)
        if not isinstance(truth, EligibilityRecord):
            assert response["outcome"] == "error"
            continue
        checked += fhir_truth.check_eligibility(bundle, response, truth)
        if not item.authorization_lookup_id:
            continue
        auths = ground_truth.authorizations(data, appointment.carrier, appointment.member_id, appointment.patient_dob)
        assert isinstance(auths, AuthorizationList)
        fhir_truth.check_authorizations(bundle, list(auths.authorizations))
        codes = [c for c in (appointment.procedure_codes or "").split(";") if c] or [None]
        service = ServiceType(appointment.service_type) if appointment.service_type else None
        expected = [answer_authorization(truth, auths, service_date=DAY, service_type=service, procedure_code=code)
                    for code in codes]
        got = visits[appointment.id]
        assert [g.get("satisfied-pa-id") for g in got] == [
            e.covering_auth_number if e.status == "covered" else None for e in expected]
        visits_with_auth += 1
    assert checked > 50 and visits_with_auth >= 1

    # Every evidence file: the SHA-256 of the chain, FHIR's SHA-1 and the size of the bytes on disk.
    for document in fhir_truth.resources(bundle, "DocumentReference"):
        evidence_id = fhir_truth.identifier(document, f"{fhir_truth.BASE}/evidence-id")
        row = repository.evidence(str(evidence_id))
        assert row is not None
        kind = document["content"][0]["attachment"]["url"].rsplit("/", 1)[1]
        relative = {"screenshot": row.screenshot_path, "html": row.html_path, "document": row.document_path}[kind]
        content = files.path(str(relative)).read_bytes()
        assert document["masterIdentifier"]["value"] == hashlib.sha256(content).hexdigest()
        assert document["content"][0]["attachment"]["hash"] == base64.b64encode(hashlib.sha1(content).digest()).decode()
        assert fhir_truth.identifier(document, f"{fhir_truth.BASE}/evidence-chain-position") == str(row.seq)

    # The claim lookups, exported with the day they were asked on (practice time zone).
    asked = repository.get_lookup(claim_lookups[0][2])
    assert asked is not None
    asked_on = asked.requested_at.replace(tzinfo=asked.requested_at.tzinfo or ZoneInfo("UTC")).astimezone(
        ZoneInfo(settings.timezone)).date()
    claims_bundle = fhir_truth.round_trip(export_day(repository, asked_on, "fhir", timezone=settings.timezone,
                                                     files=files).content)
    for carrier, number, _ in claim_lookups:
        truth_claim = ground_truth.claim(data, carrier, number)
        assert truth_claim is not None and truth_claim.paid > 0
        fhir_truth.check_claims(claims_bundle, [truth_claim])
    # And the 271-shaped JSON of the same day has one response per eligibility answer.
    x12 = json.loads(export_day(repository, DAY, "x12-json", timezone=settings.timezone).content)
    assert len(x12["responses"]) == sum(1 for i in batches.items_on(repository, DAY) if i.eligibility_lookup_id)
