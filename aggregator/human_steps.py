"""Why a person is needed, one list for the CLI, the API, the web app and the worklist, and how a person
who is at the screen answers a portal's question during a sign-in.

Every lookup that ends "needs a human" stores one of these codes as its `reason_code`; `needed(code)`
says what to do and where to do it. The codes are stable (stored in the database, sent in webhooks):
add new ones, never rename.

A sign-in that meets a one-time code sent by text or e-mail, or a push approval, asks the `Person` at the
screen when there is one (an on-demand lookup from the web app or the API, `aggregator signin` in a
terminal) and waits within the code's lifetime; with nobody there (the overnight run) it stops at once
with `SIGN_IN` reasons and the account waits for an attended sign-in (aggregator/runner.py).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Protocol


class HumanStep(str, Enum):
    CODE_BY_TEXT = "code_by_text"
    CODE_BY_EMAIL = "code_by_email"
    PUSH_APPROVAL = "push_approval"
    CODE_REFUSED = "code_refused"  # the code typed was wrong or too late: never retried blindly
    CAPTCHA = "captcha"
    SECURITY_QUESTION = "security_question"  # one the vault has no answer for
    NEW_TERMS = "new_terms"
    PASSWORD_EXPIRED = "password_expired"
    PASSWORD_EXPIRING = "password_expiring"
    ACCOUNT_LOCKED = "account_locked"
    MFA_ENROLMENT = "mfa_enrolment"
    CREDENTIALS_REJECTED = "credentials_rejected"
    ACCOUNT_FROZEN = "account_frozen"
    CREDENTIALS_MISSING = "credentials_missing"
    CONSENT = "consent"
    ACCOUNT_SCOPE = "account_scope"
    PASSWORD_CHANGE_FAILED = "password_change_failed"


# The steps an attended sign-in clears: the account's unattended work waits for one (runner.py).
SIGN_IN = frozenset({HumanStep.CODE_BY_TEXT, HumanStep.CODE_BY_EMAIL, HumanStep.PUSH_APPROVAL,
                     HumanStep.CODE_REFUSED})


class Where(str, Enum):
    """Where a person does it: the web app's attended sign-in, the account's admin page, or the portal."""

    SIGN_IN = "sign_in"
    ACCOUNT = "account"
    PORTAL = "portal"
    VAULT = "vault"


@dataclass(frozen=True)
class PersonNeeded:
    step: HumanStep
    title: str
    what_to_do: str  # may name {portal}; no member data, no secrets
    where: Where
    account_problem: bool = True  # the account (not this member) is blocked: its other work waits too

    def action(self, portal: str) -> str:
        return self.what_to_do.format(portal=portal)

    def link(self, portal_slug: str, label: str | None) -> str:
        """The web app's page for it (the portal's own site is linked from the account page)."""
        if self.where is Where.SIGN_IN and label:
            return f"/signin/{portal_slug}/{label}"
        if self.where is Where.ACCOUNT and label:
            return f"/admin/accounts/{portal_slug}/{label}"
        return "/admin/accounts"


_NEEDED = {n.step: n for n in (
    PersonNeeded(HumanStep.CODE_BY_TEXT, "Code by text message",
                 "Sign in to {portal} now: the portal sends a code by text message to the account's phone; type it "
                 "into the sign-in page. The blocked checks then run again.", Where.SIGN_IN),
    PersonNeeded(HumanStep.CODE_BY_EMAIL, "Code by e-mail",
                 "Sign in to {portal} now: the portal sends a code by e-mail to the account's mailbox; type it "
                 "into the sign-in page. The blocked checks then run again.", Where.SIGN_IN),
    PersonNeeded(HumanStep.PUSH_APPROVAL, "Push approval",
                 "Sign in to {portal} now and approve the sign-in request on the account's phone. The blocked "
                 "checks then run again.", Where.SIGN_IN),
    PersonNeeded(HumanStep.CODE_REFUSED, "Code not accepted",
                 "{portal} did not accept the code (wrong, or entered after it expired); nothing was retried. "
                 "Sign in again to get a new code.", Where.SIGN_IN),
    PersonNeeded(HumanStep.CAPTCHA, "CAPTCHA",
                 "{portal} shows a CAPTCHA or another check only a person can pass: sign in to the portal by hand "
                 "once, then re-run.", Where.PORTAL),
    PersonNeeded(HumanStep.SECURITY_QUESTION, "Security question",
                 "{portal} asks a security question the vault has no answer for: add the question and its answer to "
                 "the account (aggregator vault update), then re-run.", Where.VAULT),
    PersonNeeded(HumanStep.NEW_TERMS, "New terms to accept",
                 "{portal} asks to accept new terms of use: a person who may accept them for the practice signs in "
                 "and reads them, then re-run.", Where.PORTAL),
    PersonNeeded(HumanStep.PASSWORD_EXPIRED, "Password expired",
                 "The {portal} password has expired: change it from the account page (the product chooses and "
                 "stores a new one) or on the portal and update the vault.", Where.ACCOUNT),
    PersonNeeded(HumanStep.PASSWORD_EXPIRING, "Password expiring",
                 "The {portal} password expires soon: change it from the account page before it does.",
                 Where.ACCOUNT, account_problem=False),
    PersonNeeded(HumanStep.ACCOUNT_LOCKED, "Account locked",
                 "{portal} has locked the account: ask the portal's administrator to unlock it, then update the "
                 "vault (which unfreezes it).", Where.ACCOUNT),
    PersonNeeded(HumanStep.MFA_ENROLMENT, "Second-factor enrolment",
                 "{portal} asks to set up a second factor: enrol it on the portal by hand (store the TOTP seed in "
                 "the vault), then re-run.", Where.PORTAL),
    PersonNeeded(HumanStep.CREDENTIALS_REJECTED, "Password rejected",
                 "{portal} refused the account's password: an admin updates it in the vault (aggregator vault "
                 "update), which unfreezes it; then re-run.", Where.VAULT),
    PersonNeeded(HumanStep.ACCOUNT_FROZEN, "Account frozen",
                 "The {portal} account is frozen after an earlier refusal: an admin updates its credentials in the "
                 "vault (aggregator vault update), which unfreezes it; then re-run.", Where.VAULT),
    PersonNeeded(HumanStep.CREDENTIALS_MISSING, "No portal account",
                 "Add a portal account for {portal} to the vault (aggregator vault add), then re-run.", Where.VAULT),
    PersonNeeded(HumanStep.CONSENT, "Access to allow",
                 "{portal} asks a person to allow access once: sign in to the portal by hand and allow it, then "
                 "re-run.", Where.PORTAL),
    PersonNeeded(HumanStep.ACCOUNT_SCOPE, "Organization or provider",
                 "Set the account's Tax ID and NPI (the organization and provider it acts for) in the vault, then "
                 "re-run.", Where.VAULT),
    PersonNeeded(HumanStep.PASSWORD_CHANGE_FAILED, "Password change refused",
                 "{portal} refused the new password; the old one is kept. See the evidence, then try again from "
                 "the account page.", Where.ACCOUNT),
)}

# The codes errors used before this taxonomy, and the kinds adapters give `ActionRequired`.
_ALIASES = {"action_required": HumanStep.NEW_TERMS, "mfa_needs_human": HumanStep.CAPTCHA,
            "accept_terms": HumanStep.NEW_TERMS, "password_change": HumanStep.PASSWORD_EXPIRED,
            "mfa_setup": HumanStep.MFA_ENROLMENT, "locked": HumanStep.ACCOUNT_LOCKED}


def step_of(code: str | None) -> HumanStep | None:
    if not code:
        return None
    try:
        return HumanStep(code)
    except ValueError:
        return _ALIASES.get(code)


def needed(code: str | None) -> PersonNeeded | None:
    """What a person does about a stored reason code (None: the code is not a person's step)."""
    step = step_of(code)
    return _NEEDED[step] if step is not None else None


# --- a person at the screen ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Prompt:
    """What the portal asks of the person now. `message` is the portal's own words about where the code went
    (a masked phone number or address), never the code."""

    step: HumanStep
    portal: str  # the portal's display name
    message: str
    expires_at: datetime

    def seconds_left(self, now: datetime | None = None) -> float:
        return (self.expires_at - (now or datetime.now(UTC))).total_seconds()


class Person(Protocol):
    """Someone who can answer the portal during this sign-in."""

    async def code(self, prompt: Prompt) -> str | None:
        """The code the person typed, or None when they gave up or it was not typed before `expires_at`."""

    async def approve(self, prompt: Prompt) -> None:
        """Tell the person to approve on their phone; returns at once (the adapter watches the portal)."""

    def done(self, error: str | None = None) -> None:
        """The portal has its answer (error: why the sign-in stopped, for the person's screen)."""


class WaitingPerson:
    """A `Person` whose answers come from another task: the web app's job page or the API posts the code
    (`answer`), the page shows `prompt` while one is open. In memory only: a code never touches storage."""

    def __init__(self) -> None:
        self.prompt: Prompt | None = None
        self.message: str | None = None  # the last outcome shown to the person (e.g. "code not accepted")
        self._answer: asyncio.Future[str | None] | None = None

    @property
    def waiting_for_code(self) -> bool:
        return self._answer is not None and not self._answer.done()

    async def code(self, prompt: Prompt) -> str | None:
        self.prompt, self.message = prompt, None
        self._answer = asyncio.get_running_loop().create_future()
        try:
            return await asyncio.wait_for(asyncio.shield(self._answer), timeout=max(0.0, prompt.seconds_left()))
        except TimeoutError:
            return None
        finally:
            self._answer.cancel()
            self.prompt = None

    async def approve(self, prompt: Prompt) -> None:
        self.prompt, self.message = prompt, None

    def answer(self, code: str) -> bool:
        """The person typed `code`: False when no code is being waited for (too late, or never asked)."""
        if self._answer is None or self._answer.done():
            return False
        self._answer.set_result(code)
        return True

    def give_up(self) -> None:
        if self._answer is not None and not self._answer.done():
            self._answer.set_result(None)

    def done(self, error: str | None = None) -> None:
        self.prompt, self.message = None, error
