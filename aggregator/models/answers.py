"""What one lookup asks and what it answers: the unions the runner, the flows, the store and the web app pass
around (one of the three queries in; a record, or "member not found", out)."""

from __future__ import annotations

from aggregator.models.authorization import AuthorizationList, AuthorizationQuery
from aggregator.models.claims import ClaimList, ClaimQuery
from aggregator.models.eligibility import EligibilityQuery, EligibilityRecord, MemberNotFound

Query = EligibilityQuery | AuthorizationQuery | ClaimQuery
Answer = EligibilityRecord | MemberNotFound | AuthorizationList | ClaimList


def subject_of(query: Query) -> str:
    """The natural key answers to this query are compared on across checks."""
    if isinstance(query, ClaimQuery) and query.claim_number:
        return f"claim:{query.claim_number}"
    return str(query.member_id)
