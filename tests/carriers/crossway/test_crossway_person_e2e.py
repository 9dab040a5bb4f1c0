"""A person at the screen during a Crossway sign-in (issue 15), through the runner with real Chromium: a code
sent by e-mail or text is asked of the person and the lookup goes on; a wrong code is reported after one attempt
and never retried (the user is not locked); a code typed after it expired gets its own clear message; a push
request is approved or denied on the phone; an attended sign-in keeps the remembered device, and the next
sign-in from a new session asks for nothing."""

from __future__ import annotations

from aggregator.errors import Outcome
from aggregator.human_steps import HumanStep, Prompt
from sandbox import ground_truth

PAYER = "harborview"
LABEL = "billing"


class ScriptedPerson:
    """Gives the code from the sandbox outbox (or a wrong one), after `before_answer` (e.g. letting it expire)."""

    def __init__(self, hub, username: str, *, wrong: bool = False, before_answer=None, push: str | None = None):  # type: ignore[no-untyped-def]
        self.hub, self.username, self.wrong, self.before_answer, self.push = hub, username, wrong, before_answer, push
        self.prompts: list[Prompt] = []
        self.said: list[str | None] = []

    async def code(self, prompt: Prompt) -> str | None:
        self.prompts.append(prompt)
        if self.before_answer is not None:
            self.before_answer()
        code = str(self.hub.idp.outbox_for(self.username)[-1]["code"])
        return ("000000" if code != "000000" else "111111") if self.wrong else code

    async def approve(self, prompt: Prompt) -> None:
        self.prompts.append(prompt)
        assert self.push is not None
        self.hub.idp.decide_push(self.username, self.push)  # the person taps on the phone

    def done(self, error: str | None = None) -> None:
        self.said.append(error)


def username(hub) -> str:  # type: ignore[no-untyped-def]
    return next(a.username for a in hub.directory.accounts if a.role == LABEL)


def sample(hub):  # type: ignore[no-untyped-def]
    return ground_truth.sample_members(hub.hub, PAYER, 1, kinds=("active_subscriber",))[0]


async def test_a_code_by_email_is_asked_of_the_person_and_the_device_is_remembered(hub_runner, hub):
    user, member = username(hub), sample(hub)
    hub.idp.set_second_factor(user, "email")
    person = ScriptedPerson(hub, user)
    async with hub_runner() as runner:
        result = await runner.eligibility(PAYER, member.query, portal="crossway", account_label=LABEL, person=person)
        account = runner.vault.find("crossway", LABEL)
        assert account is not None and runner.vault.load_device(account.account_id)
        runner.vault.clear_session(account.account_id)
    assert result.outcome is Outcome.FOUND and result.answer.without_provenance() == member.expected
    assert [p.step for p in person.prompts] == [HumanStep.CODE_BY_EMAIL] and "e-mail" in person.prompts[0].message
    assert person.said[-1] is None
    # A new session (a new runner, no saved session): the remembered device means no code, nobody needed.
    async with hub_runner() as runner:
        again = await runner.eligibility(PAYER, member.query, portal="crossway", account_label=LABEL)
    assert again.outcome is Outcome.FOUND and len(hub.idp.outbox_for(user)) == 1
    assert hub.idp.stats()["totals"]["devices_recognised"] == 1


async def test_a_wrong_code_is_tried_once_reported_and_nothing_is_locked(hub_runner, hub):
    user, member = username(hub), sample(hub)
    hub.idp.set_second_factor(user, "sms")
    person = ScriptedPerson(hub, user, wrong=True)
    async with hub_runner() as runner:
        result = await runner.eligibility(PAYER, member.query, portal="crossway", account_label=LABEL, person=person)
        account = runner.vault.find("crossway", LABEL)
        assert account is not None and not account.is_frozen  # a wrong code is not a refused password
    assert result.outcome is Outcome.NEEDS_HUMAN and result.reason_code == "code_refused"
    assert "not correct" in (result.reason or "") and "nothing was retried" in (result.reason or "")
    assert result.evidence  # the page that refused it
    assert person.said[-1] == result.reason
    stats = hub.idp.stats()
    assert stats["totals"]["codes_wrong"] == 1 and not stats["accounts"][user]["locked"]
    assert hub.idp.mfa_attempts_left(user) == 2


async def test_a_code_typed_after_it_expired_says_so(hub_runner, hub):
    user, member = username(hub), sample(hub)
    hub.idp.set_second_factor(user, "sms")
    person = ScriptedPerson(hub, user, before_answer=lambda: hub.idp.expire_outstanding(user))
    async with hub_runner() as runner:
        result = await runner.eligibility(PAYER, member.query, portal="crossway", account_label=LABEL, person=person)
    assert result.outcome is Outcome.NEEDS_HUMAN and result.reason_code == "code_refused"
    assert "expired" in (result.reason or "")
    assert not hub.idp.stats()["accounts"][user]["locked"]


async def test_a_push_approved_on_the_phone_signs_in_and_a_denied_one_is_reported(hub_runner, hub):
    user, member = username(hub), sample(hub)
    hub.idp.set_second_factor(user, "push")
    async with hub_runner() as runner:
        denied = await runner.eligibility(PAYER, member.query, portal="crossway", account_label=LABEL,
                                          person=ScriptedPerson(hub, user, push="deny"))
        approved = await runner.eligibility(PAYER, member.query, portal="crossway", account_label=LABEL,
                                            person=ScriptedPerson(hub, user, push="approve"))
    assert denied.outcome is Outcome.NEEDS_HUMAN and denied.reason_code == "push_approval"
    assert "denied" in (denied.reason or "")
    assert approved.outcome is Outcome.FOUND and approved.answer.without_provenance() == member.expected


async def test_nobody_at_the_screen_ends_at_once_and_waits_for_a_sign_in(hub_runner, hub):
    user, member = username(hub), sample(hub)
    hub.idp.set_second_factor(user, "sms")
    async with hub_runner() as runner:
        first = await runner.eligibility(PAYER, member.query, portal="crossway", account_label=LABEL)
        second = await runner.eligibility(PAYER, member.query, portal="crossway", account_label=LABEL)
        account = runner.vault.find("crossway", LABEL)
        assert account is not None and not account.is_frozen
        assert runner.needs_sign_in(account.account_id) is HumanStep.CODE_BY_TEXT
        outcome = await runner.sign_in("crossway", LABEL, ScriptedPerson(hub, user))
        assert outcome.ok and runner.needs_sign_in(account.account_id) is None
    assert first.outcome is second.outcome is Outcome.NEEDS_HUMAN
    assert first.reason_code == second.reason_code == "code_by_text"
    assert first.evidence and not second.evidence  # the second never opened the portal
    assert len(hub.idp.outbox_for(user)) == 2  # one code for the unattended try, one for the person's sign-in
