"""One error taxonomy for the whole product.

Every error says whether retrying can help (`retryable`) and whether a person must act first
(`needs_human`); the runner decides what to do from those two flags and the class, never from the
message. Messages are written for staff and never contain secrets or member data: the runner may show
and store them as they are. "Member not found" is not here: it is a result (`MemberNotFound`).
"""

from __future__ import annotations

from enum import Enum

from aggregator.human_steps import HumanStep, step_of


class Outcome(str, Enum):
    """Terminal state of one lookup, as staff see it."""

    FOUND = "found"
    NOT_FOUND = "not_found"
    NEEDS_ATTENTION = "needs_attention"  # adapter could not read the page safely: evidence attached
    NEEDS_HUMAN = "needs_human"  # a person must act on the account or portal first
    RETRY_LATER = "retry_later"  # the portal is unavailable now; nothing is wrong with the request
    FAILED = "failed"  # anything else, after the retries it deserved
    NOT_AVAILABLE = "not_available"  # the carrier's portal does not answer this question: call the payer


class AggregatorError(Exception):
    """Base class. `reason` is a short, PHI-free, secret-free sentence for staff."""

    retryable: bool = False
    needs_human: bool = False
    outcome: Outcome = Outcome.FAILED

    def __init__(self, reason: str, *, evidence_ids: list[str] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.evidence_ids: list[str] = list(evidence_ids or [])

    def with_evidence(self, *evidence_ids: str) -> AggregatorError:
        self.evidence_ids.extend(e for e in evidence_ids if e not in self.evidence_ids)
        return self

    @property
    def code(self) -> str:
        """Stable machine name, e.g. 'credentials_rejected'."""
        name = type(self).__name__
        return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_").removesuffix("_error")


# --- a person must act -------------------------------------------------------------------------------

class CredentialsRejected(AggregatorError):
    """The portal refused the username/password (or said the account is locked). Freeze; never retry."""

    needs_human = True
    outcome = Outcome.NEEDS_HUMAN


class ActionRequired(AggregatorError):
    """The portal wants something only a person can do: accept terms, change an expired password,
    set up MFA, contact the carrier. `kind` names which; a kind of the taxonomy (aggregator/human_steps.py)
    is the stored reason code, so staff see what to do and where."""

    needs_human = True
    outcome = Outcome.NEEDS_HUMAN

    def __init__(self, reason: str, *, kind: str, evidence_ids: list[str] | None = None) -> None:
        super().__init__(reason, evidence_ids=evidence_ids)
        self.kind = kind

    @property
    def code(self) -> str:
        step = step_of(self.kind)
        return step.value if step is not None else self.kind


class MfaNeedsHuman(AggregatorError):
    """A check only a person can pass at the screen of the portal (CAPTCHA, unknown security question)."""

    needs_human = True
    outcome = Outcome.NEEDS_HUMAN

    def __init__(self, reason: str, *, step: HumanStep = HumanStep.CAPTCHA,
                 evidence_ids: list[str] | None = None) -> None:
        super().__init__(reason, evidence_ids=evidence_ids)
        self.step = step

    @property
    def code(self) -> str:
        return self.step.value


class SignInNeeded(AggregatorError):
    """The sign-in needs a person now (a code sent by text or e-mail, a push approval) and nobody is at the
    screen, or the person did not answer in time. Not a refusal: the account is not frozen, its unattended
    work waits for an attended sign-in (`aggregator signin`, the web app's "Sign in now")."""

    needs_human = True
    outcome = Outcome.NEEDS_HUMAN

    def __init__(self, reason: str, *, step: HumanStep, evidence_ids: list[str] | None = None) -> None:
        super().__init__(reason, evidence_ids=evidence_ids)
        self.step = step

    @property
    def code(self) -> str:
        return self.step.value


class CodeRefused(SignInNeeded):
    """The portal did not accept the code a person typed (wrong, or too late). Never retried: a second wrong
    code brings the portal's lock nearer. The person starts a new sign-in for a new code."""

    def __init__(self, reason: str, *, evidence_ids: list[str] | None = None) -> None:
        super().__init__(reason, step=HumanStep.CODE_REFUSED, evidence_ids=evidence_ids)


class AccountFrozen(AggregatorError):
    """The vault has this account frozen after an earlier rejection: no login is attempted."""

    needs_human = True
    outcome = Outcome.NEEDS_HUMAN


class CredentialsMissing(AggregatorError):
    """No usable account in the vault for this carrier (none stored, or a required field is empty)."""

    needs_human = True
    outcome = Outcome.NEEDS_HUMAN


# --- try again later ---------------------------------------------------------------------------------

class PortalUnavailable(AggregatorError):
    """Maintenance page, HTTP 5xx, timeouts: the portal cannot answer now."""

    retryable = True
    outcome = Outcome.RETRY_LATER


class PortalMaintenance(PortalUnavailable):
    """The portal shows a scheduled-maintenance page."""


class DailyLimitReached(PortalUnavailable):
    """The portal says the account used up its searches for the portal's day (a hub's daily cap): no
    search of this account can run before the portal's next day. The runner plans within the manifest's
    cap so this is never met; when it is, the account's budget was counted wrong."""

    @property
    def code(self) -> str:
        return "daily_limit"


class RateLimited(AggregatorError):
    """HTTP 429 or a 'too many requests' page: back off and slow down. `retry_after_seconds` is how long the
    portal asked us to wait (its `Retry-After`), when it said: nothing is asked of that account before then."""

    retryable = True
    outcome = Outcome.RETRY_LATER

    def __init__(self, reason: str, *, evidence_ids: list[str] | None = None,
                 retry_after_seconds: float | None = None) -> None:
        super().__init__(reason, evidence_ids=evidence_ids)
        self.retry_after_seconds = retry_after_seconds

    def asked_to_wait(self, seconds: float | None) -> RateLimited:
        """The portal's `Retry-After` (a document's 429, or a single-page app's API call learnt apart from the
        screen the adapter read): kept, and said in the reason, unless the error already carries one."""
        if seconds is not None and self.retry_after_seconds is None:
            self.retry_after_seconds = seconds
            self.reason = f"{self.reason}; it asks us to wait {seconds:.0f} s"
            self.args = (self.reason,)
        return self


class SessionExpired(AggregatorError):
    """The saved or current session is no longer valid: log in again, once."""

    retryable = True
    outcome = Outcome.RETRY_LATER


# --- the adapter cannot read this safely (a bug or a portal change) ----------------------------------

class UnexpectedPage(AggregatorError):
    """The browser landed on a page no page class recognises."""

    outcome = Outcome.NEEDS_ATTENTION


class ParseError(AggregatorError):
    """A recognised page lacks a mandatory field or has one in an unreadable form."""

    outcome = Outcome.NEEDS_ATTENTION


class UnmappedValue(ParseError):
    """Carrier vocabulary that no map knows: never turned into a guess."""

    def __init__(self, reason: str, *, field: str = "", value: str = "", evidence_ids: list[str] | None = None) -> None:
        super().__init__(reason, evidence_ids=evidence_ids)
        self.field = field
        self.value = value


# --- the portal cannot answer this question ----------------------------------------------------------

class NotAvailableAtCarrier(AggregatorError):
    """The carrier's manifest does not declare this capability: its portal is never asked (no login), and
    staff get the call-the-payer checklist item instead. A fact about the carrier, not a failure: retrying
    cannot help and nothing needs fixing."""

    outcome = Outcome.NOT_AVAILABLE

    def __init__(self, reason: str, *, capability: str, call_the_payer: str) -> None:
        super().__init__(reason)
        self.capability = capability
        self.call_the_payer = call_the_payer


# --- our side ----------------------------------------------------------------------------------------

class ConfigurationError(AggregatorError):
    """Bad settings or input that the user must correct (unknown carrier, missing browser...)."""

    needs_human = True


class VaultError(AggregatorError):
    """The credential vault cannot be opened or written (wrong key, corrupted file, bad record)."""

    needs_human = True
