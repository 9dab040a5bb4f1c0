from datetime import date
from decimal import Decimal

import pytest

from aggregator.flows.answers import validate_authorizations, validate_claims
from aggregator.flows.eligibility import InconsistentAnswer
from aggregator.models import (
    AuthorizationList,
    AuthorizationQuery,
    ClaimList,
    ClaimQuery,
    ClaimStatus,
    MemberNotFound,
    RejectReason,
)
from aggregator.models.codes import ClaimStatusCategory


def claim(number: str, member: str = "RM1", start: date = date(2026, 3, 1)) -> ClaimStatus:
    return ClaimStatus(carrier="ridgeline", payer_claim_number=number, provider_account_number="1-1", member_id=member,
                       service_from=start, service_to=start, billed=Decimal("100.00"), paid=Decimal("0.00"),
                       status_category=ClaimStatusCategory.PENDING_IN_PROCESS, status_code="20", received_date=start)


BY_MEMBER = ClaimQuery(member_id="RM1", date_of_birth=date(1990, 1, 1), service_from=date(2026, 1, 1), service_to=date(2026, 6, 30))


def test_claims_for_the_member_and_dates_pass():
    answer = ClaimList(carrier="ridgeline", query=BY_MEMBER, claims=(claim("1"), claim("2")))
    assert validate_claims(BY_MEMBER, answer) is answer


@pytest.mark.parametrize("bad", [claim("9", member="RM2"), claim("9", start=date(2025, 12, 1))])
def test_a_claim_of_another_member_or_outside_the_dates_needs_attention(bad):
    with pytest.raises(InconsistentAnswer):
        validate_claims(BY_MEMBER, ClaimList(carrier="ridgeline", query=BY_MEMBER, claims=(claim("1"), bad)))


def test_claim_number_search_must_return_that_claim():
    query = ClaimQuery(claim_number="123")
    assert validate_claims(query, ClaimList(carrier="ridgeline", query=query, claims=(claim("123"),)))
    assert validate_claims(query, ClaimList(carrier="ridgeline", query=query))  # unknown number: empty answer
    with pytest.raises(InconsistentAnswer):
        validate_claims(query, ClaimList(carrier="ridgeline", query=query, claims=(claim("124"),)))
    with pytest.raises(InconsistentAnswer):
        validate_claims(query, MemberNotFound(carrier="ridgeline", query=query, reject_reason=RejectReason.NOT_FOUND))


def test_answer_for_another_query_needs_attention():
    query = AuthorizationQuery(member_id="RM1", date_of_birth=date(1990, 1, 1))
    other = AuthorizationQuery(member_id="RM2", date_of_birth=date(1990, 1, 1))
    with pytest.raises(InconsistentAnswer):
        validate_authorizations(query, AuthorizationList(carrier="ridgeline", query=other))
    assert validate_authorizations(query, AuthorizationList(carrier="ridgeline", query=query))
