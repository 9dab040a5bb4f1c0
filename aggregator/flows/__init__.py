"""Carrier-agnostic flows over normalized records: pure functions, no I/O.

- `eligibility`: checks that an eligibility answer answers the question asked (`validate_answer`).
- `answers`: the same checks for authorization and claim answers.
- `authorization`: does a visit need prior authorization, is one approved that covers it, what is missing
  (`answer_authorization`).
- `changes`: what changed since the last check (`eligibility_changes`, `claim_changes`,
  `authorization_changes`); `compare.changes_between` picks the right one for a stored answer.

See docs/flows.md for the rules.
"""

from aggregator.flows.authorization import AuthorizationAnswer, answer_authorization
from aggregator.flows.changes import Change, authorization_changes, claim_changes, eligibility_changes
from aggregator.flows.eligibility import InconsistentAnswer, validate_answer

__all__ = [
    "AuthorizationAnswer", "Change", "InconsistentAnswer", "answer_authorization", "authorization_changes",
    "claim_changes", "eligibility_changes", "validate_answer",
]
