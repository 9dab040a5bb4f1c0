"""Carrier-agnostic flows over normalized records: pure functions, no I/O.

- `eligibility`: checks that an eligibility answer answers the question asked (`validate_answer`).
- `answers`: the same checks for authorization and claim answers.
- `authorization`: does a visit need prior authorization, is one approved that covers it, what is missing
  (`answer_authorization`; `answer_without_authorizations` at a carrier whose portal shows none).
- `capabilities`: ask a carrier only what its manifest declares; otherwise "not available at this carrier"
  with the call-the-payer checklist item (`require`, `not_available`, `call_the_payer`).
- `changes`: what changed since the last check (`eligibility_changes`, `claim_changes`,
  `authorization_changes`); `compare.changes_between` picks the right one for a stored answer.

See docs/flows.md for the rules.
"""

from aggregator.flows.authorization import AuthorizationAnswer, answer_authorization, answer_without_authorizations
from aggregator.flows.changes import Change, authorization_changes, claim_changes, eligibility_changes
from aggregator.flows.eligibility import InconsistentAnswer, validate_answer

__all__ = [
    "AuthorizationAnswer", "Change", "InconsistentAnswer", "answer_authorization", "answer_without_authorizations",
    "authorization_changes",
    "claim_changes", "eligibility_changes", "validate_answer",
]
