"""Dispatch "what changed since the last check" to the flow that knows the record kind."""

from __future__ import annotations

from aggregator.flows.changes import Change, authorization_changes, claim_changes, eligibility_changes
from aggregator.models import AuthorizationList, ClaimList, EligibilityRecord
from aggregator.store.repository import Answer


def changes_between(previous: Answer | None, current: Answer) -> tuple[Change, ...]:
    """Changes from the previous answer of the same kind on the same subject; none on a first check."""
    if previous is None or type(previous) is not type(current):
        return ()
    if isinstance(current, EligibilityRecord):
        return eligibility_changes(previous, current)  # type: ignore[arg-type]
    if isinstance(current, ClaimList):
        return claim_changes(previous, current)  # type: ignore[arg-type]
    if isinstance(current, AuthorizationList):
        return authorization_changes(previous, current)  # type: ignore[arg-type]
    return ()  # not-found results carry nothing to compare
