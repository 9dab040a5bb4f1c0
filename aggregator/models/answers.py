"""What one lookup asks and what it answers: the unions the runner, the flows, the store and the web app pass
around (one of the three queries in; a record, or "member not found", out)."""

from __future__ import annotations

import hashlib

from aggregator.models.authorization import AuthorizationList, AuthorizationQuery
from aggregator.models.claims import ClaimList, ClaimQuery
from aggregator.models.eligibility import EligibilityQuery, EligibilityRecord, MemberNotFound

Query = EligibilityQuery | AuthorizationQuery | ClaimQuery
Answer = EligibilityRecord | MemberNotFound | AuthorizationList | ClaimList


def subject_of(query: Query, answer: Answer | None = None) -> str:
    """The natural key answers to this query are compared on across checks."""
    if isinstance(query, ClaimQuery) and query.claim_number:
        return f"claim:{query.claim_number}"
    if isinstance(query, EligibilityQuery) and query.by_name:
        if isinstance(answer, EligibilityRecord):
            return answer.member.member_id  # the member the name search found
        # Not found by name: the same names and birth date are the same subject (kept out of the column).
        key = "|".join(((query.first_name or "").casefold(), (query.last_name or "").casefold(),
                        query.date_of_birth.isoformat()))
        return "name:" + hashlib.sha256(key.encode()).hexdigest()[:16]
    return str(query.member_id)
