"""Checks that an authorization or claim answer answers the question that was asked.

As for eligibility (flows/eligibility.py): a page read correctly can still be about the wrong member or
the wrong claims; such an answer becomes "needs attention", never a stored record.
"""

from __future__ import annotations

from aggregator.flows.eligibility import InconsistentAnswer
from aggregator.models import AuthorizationList, AuthorizationQuery, ClaimList, ClaimQuery, MemberNotFound


def validate_authorizations(query: AuthorizationQuery, answer: AuthorizationList | MemberNotFound
                            ) -> AuthorizationList | MemberNotFound:
    if answer.query != query:
        raise InconsistentAnswer("the answer is for a different authorization search")
    if isinstance(answer, AuthorizationList):
        if any(a.member_id != query.member_id for a in answer.authorizations):
            raise InconsistentAnswer("an authorization listed belongs to a different member")
    return answer


def validate_claims(query: ClaimQuery, answer: ClaimList | MemberNotFound) -> ClaimList | MemberNotFound:
    if answer.query != query:
        raise InconsistentAnswer("the answer is for a different claim search")
    if isinstance(answer, MemberNotFound):
        if query.claim_number:
            raise InconsistentAnswer("a claim-number search cannot answer 'member not found'")
        return answer
    for claim in answer.claims:
        if query.claim_number:
            if claim.payer_claim_number != query.claim_number:
                raise InconsistentAnswer("the portal returned a different claim than the number searched")
            continue
        if claim.member_id != query.member_id:
            raise InconsistentAnswer("a claim listed belongs to a different member")
        assert query.service_from is not None and query.service_to is not None
        if claim.service_to < query.service_from or claim.service_from > query.service_to:
            raise InconsistentAnswer("a claim listed falls outside the dates of service searched")
    return answer
