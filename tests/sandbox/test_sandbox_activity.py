"""Authorizations and claims in the dataset, and their ground truth."""

import hashlib
import json
import re
from collections import Counter
from dataclasses import fields
from datetime import timedelta
from decimal import Decimal

from aggregator.models import RejectReason, ServiceType
from aggregator.models.authorization import AuthorizationList, AuthorizationQuery
from aggregator.models.claims import ClaimList, ClaimQuery
from aggregator.models.codes import AdjustmentGroup, AuthStatus, ClaimStatusCategory, RequestCategory
from sandbox.activity import CLAIM_CATEGORIES, FINALIZED_CATEGORIES, MANY_CLAIMS, STATUS_CODES
from sandbox.dataset import CarrierData, _canonical, generate_dataset
from sandbox.ground_truth import (
    authorization,
    authorizations,
    authorizations_by_status,
    claim,
    claims,
    claims_by_category,
    member_claims_query,
    members_with_authorizations,
    members_with_many_claims,
    members_without_authorizations,
)
from sandbox.identifiers import npi_valid

PR = AdjustmentGroup.PATIENT_RESPONSIBILITY

# Digest of every carrier's member, plan, group and account data for the default seed, taken before
# authorizations and claims existed: adding them shifted nothing.
ELIGIBILITY_DIGESTS = {
    "ridgeline": "10d01831b755754d73e2c830ccf400e10ff20dfb05bda785b908facbacea33c7",
    "bluepeak": "8c19252a89636c9ed891df635159e883f7153fca12784f33851993214a9342b7",
    "cascade": "6beb4a1066c995d4b46c81777d9b3561bc174e2fbee61eaab20fd0c4c93f36f4",
}


def test_existing_data_did_not_shift(dataset):
    for slug, digest in ELIGIBILITY_DIGESTS.items():  # the carriers that existed then; newer ones have none
        data = dataset.carrier(slug)
        old = {f.name: _canonical(getattr(data, f.name)) for f in fields(CarrierData)
               if f.name not in ("authorizations", "claims")}
        text = json.dumps(old, sort_keys=True, separators=(",", ":"))
        assert hashlib.sha256(text.encode()).hexdigest() == digest, slug


def test_activity_is_deterministic_and_per_carrier(dataset):
    again = generate_dataset(carriers=("cascade",))
    assert again.carrier("cascade").authorizations == dataset.carrier("cascade").authorizations
    assert again.carrier("cascade").claims == dataset.carrier("cascade").claims
    other = generate_dataset(seed=7, carriers=("ridgeline",))
    assert other.carrier("ridgeline").claims != dataset.carrier("ridgeline").claims


def test_authorizations_cover_every_status_and_shape(dataset):
    as_of = dataset.as_of
    for slug, data in dataset.carriers.items():
        auths = list(data.authorizations.values())
        holders = Counter(a.member_id for a in auths)
        assert len(holders) >= 60, slug
        assert max(holders.values()) >= 3, "some members have several"
        assert {a.status for a in auths} == set(AuthStatus), slug
        categories = Counter(a.request_category for a in auths)
        assert categories.most_common(1)[0][0] is RequestCategory.HEALTH_SERVICES_REVIEW
        assert set(categories) == set(RequestCategory)
        dated = [a for a in auths if a.effective_date]
        assert any(a.expiration_date < as_of for a in dated), "expired"
        assert any(as_of <= a.expiration_date <= as_of + timedelta(days=14) for a in dated), "expiring soon"
        assert any(a.effective_date > as_of for a in dated), "future"
        assert any(a.effective_date <= as_of < a.expiration_date and any(s.approved and not s.remaining
                                                                          for s in a.services) for a in dated)
        assert {s.unit.value for a in auths for s in a.services} == {"VS", "FL", "DY"}
        for a in auths:
            member = data.members[a.member_id]
            assert 1 <= len(a.services) <= 3 and npi_valid(a.provider_npi)
            assert a.last_updated <= as_of
            assert a.service_type in (*data.plan_for(member).prior_auth, ServiceType.HOSPITAL_INPATIENT,
                                      ServiceType.CONSULTATION)
            if a.status in (AuthStatus.NOT_CERTIFIED, AuthStatus.PENDED, AuthStatus.CONTACT_PAYER):
                assert a.effective_date is None and all(s.approved == 0 for s in a.services)
            else:
                assert member.effective_date <= a.effective_date <= a.expiration_date
                assert member.termination_date is None or a.expiration_date <= member.termination_date
            if a.status is AuthStatus.NOT_CERTIFIED:
                assert a.decision_reason is not None
    ridgeline = dataset.carrier("ridgeline").authorizations
    assert all(re.fullmatch(r"RA\d{8}", n) for n in ridgeline)


def test_claims_cover_every_category_and_balance(dataset):
    as_of = dataset.as_of
    for slug, data in dataset.carriers.items():
        grouped = claims_by_category(dataset, slug)
        assert set(grouped) == set(CLAIM_CATEGORIES), slug
        per_member = Counter(c.member_id for c in data.claims.values())
        assert sum(1 for n in per_member.values() if n >= MANY_CLAIMS) >= 1
        assert sum(1 for n in per_member.values() if n <= 6) > 0.9 * len(per_member)
        reasons = Counter((a.group.value, a.reason.value) for c in data.claims.values() for line in c.lines
                          for a in line.adjustments)
        for needed in (("CO", "45"), ("PR", "1"), ("PR", "2"), ("PR", "3"), ("CO", "197"), ("CO", "50"),
                       ("CO", "29")):
            assert reasons[needed], needed
        assert {g for g, _ in reasons} == {"CO", "PR", "OA", "PI"}
        for record in (claim(dataset, slug, n) for n in data.claims):
            assert record is not None
            assert 1 <= len(record.lines) <= 5
            assert record.status_code in STATUS_CODES[record.status_category]
            assert record.billed == sum(line.billed for line in record.lines)
            assert record.paid == sum(line.paid for line in record.lines)
            assert record.received_date <= as_of and record.service_to < record.received_date
            member = data.members[record.member_id]
            assert member.covered_on(record.service_from) and member.covered_on(record.service_to)
            if record.status_category in FINALIZED_CATEGORIES:
                for line in record.lines:  # the 835 balance: charge = payment + adjustments
                    assert line.billed == line.paid + sum((a.amount for a in line.adjustments), Decimal(0))
                    assert line.allowed == line.billed - sum((a.amount for a in line.adjustments if a.group is not PR),
                                                             Decimal(0)) or line.allowed == 0
                assert record.allowed == sum(line.allowed for line in record.lines)
                assert record.patient_responsibility == sum(a.amount for line in record.lines
                                                            for a in line.adjustments if a.group is PR)
                assert record.received_date <= record.adjudicated_date <= as_of
            else:
                assert record.allowed is None and record.patient_responsibility is None
                assert record.adjudicated_date is None and record.paid == 0
                assert all(line.allowed == 0 and not line.adjustments for line in record.lines)
            if record.paid > 0:
                assert record.check_number and record.adjudicated_date <= record.paid_date <= as_of
            else:
                assert record.check_number is None and record.paid_date is None
            if record.status_category is ClaimStatusCategory.FINALIZED_DENIAL:
                assert record.paid == 0 and record.allowed == 0
            if record.status_category is ClaimStatusCategory.FINALIZED_PAYMENT:
                assert record.paid > 0
        partial = [c for c in grouped[ClaimStatusCategory.FINALIZED_PAYMENT]
                   if any(line.paid == 0 for line in c.lines) and any(line.paid for line in c.lines)]
        assert partial, "some paid claims have a refused line"
    assert all(re.fullmatch(r"\d{11}", n) for n in dataset.carrier("ridgeline").claims)


def test_authorization_ground_truth(dataset):
    holder = members_with_authorizations(dataset, "ridgeline", minimum=2)[0]
    answer = authorizations(dataset, "ridgeline", holder.member_id, holder.date_of_birth)
    assert isinstance(answer, AuthorizationList) and answer.provenance is None
    assert answer.query == AuthorizationQuery(member_id=holder.member_id, date_of_birth=holder.date_of_birth)
    assert len(answer.authorizations) >= 2
    assert all(a.member_id == holder.member_id for a in answer.authorizations)
    first = answer.authorizations[0]
    assert authorization(dataset, "ridgeline", first.auth_number) == first
    assert authorization(dataset, "ridgeline", "RA00000000") is None
    nobody = members_without_authorizations(dataset, "ridgeline")[0]
    assert authorizations(dataset, "ridgeline", nobody.member_id, nobody.date_of_birth).authorizations == ()
    assert authorizations(dataset, "ridgeline", holder.member_id,
                          holder.date_of_birth + timedelta(days=1)) is RejectReason.DOB_MISMATCH
    unknown = dataset.carrier("ridgeline").not_found_ids[0]
    assert authorizations(dataset, "ridgeline", unknown, holder.date_of_birth) is RejectReason.NOT_FOUND
    for status, group in authorizations_by_status(dataset, "ridgeline").items():
        assert all(a.status is status for a in group)


def test_claim_ground_truth(dataset):
    member = members_with_many_claims(dataset, "ridgeline")[0]
    everything = claims(dataset, "ridgeline", member_claims_query(dataset, "ridgeline", member.member_id))
    assert isinstance(everything, ClaimList) and len(everything.claims) >= MANY_CLAIMS
    assert len(everything.claims) == len(dataset.carrier("ridgeline").claims_for(member.member_id))
    # Overlap: a claim counts when any of its service dates falls in the range.
    spanning = next(c for c in everything.claims if c.service_from < c.service_to)
    narrow = member_claims_query(dataset, "ridgeline", member.member_id, spanning.service_to, spanning.service_to)
    assert spanning in claims(dataset, "ridgeline", narrow).claims
    before = member_claims_query(dataset, "ridgeline", member.member_id, spanning.service_from - timedelta(days=3),
                                 spanning.service_from)
    assert spanning in claims(dataset, "ridgeline", before).claims
    assert all(c.service_from <= narrow.service_to and c.service_to >= narrow.service_from
               for c in claims(dataset, "ridgeline", narrow).claims)
    by_number = claims(dataset, "ridgeline", ClaimQuery(claim_number=spanning.payer_claim_number))
    assert by_number.claims == (spanning,)
    assert claims(dataset, "ridgeline", ClaimQuery(claim_number="99999999999")).claims == ()
    wrong = ClaimQuery(member_id=member.member_id, date_of_birth=member.date_of_birth - timedelta(days=1),
                       service_from=dataset.as_of - timedelta(days=30), service_to=dataset.as_of)
    assert claims(dataset, "ridgeline", wrong) is RejectReason.DOB_MISMATCH
