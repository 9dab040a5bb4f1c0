"""The one list of reasons a person is needed (aggregator/human_steps.py): every reason says what to do and where,
the old codes still read, docs/people.md lists them all, and the in-memory person of the web app hands a code to the
sign-in that waits for it, or None when time runs out."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aggregator.errors import ActionRequired, CodeRefused, MfaNeedsHuman, SignInNeeded
from aggregator.human_steps import SIGN_IN, HumanStep, Prompt, WaitingPerson, needed, step_of

DOC = Path(__file__).resolve().parents[2] / "docs" / "people.md"


@pytest.mark.parametrize("step", list(HumanStep))
def test_every_reason_says_what_to_do_and_where(step: HumanStep) -> None:
    person = needed(step.value)
    assert person is not None and person.step is step
    assert "{portal}" not in person.action("Crossway") and person.action("Crossway").strip()
    link = person.link("crossway", "frontdesk")
    assert link.startswith("/")
    if step in SIGN_IN:
        assert link == "/signin/crossway/frontdesk"


def test_docs_list_every_reason() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert [step.value for step in HumanStep if f"| `{step.value}` |" not in text] == []


def test_old_codes_and_adapter_kinds_read_as_reasons() -> None:
    assert step_of("action_required") is HumanStep.NEW_TERMS and step_of("mfa_needs_human") is HumanStep.CAPTCHA
    assert step_of("not_found") is None and needed(None) is None
    assert ActionRequired("x", kind="accept_terms").code == "new_terms"
    assert ActionRequired("x", kind="payer_enrollment").code == "payer_enrollment"  # not a person's step
    assert MfaNeedsHuman("x").code == "captcha"
    assert SignInNeeded("x", step=HumanStep.PUSH_APPROVAL).code == "push_approval"
    assert CodeRefused("x").code == "code_refused" and isinstance(CodeRefused("x"), SignInNeeded)


def _prompt(seconds: float) -> Prompt:
    return Prompt(HumanStep.CODE_BY_TEXT, "Crossway", "We sent a code", datetime.now(UTC) + timedelta(seconds=seconds))


async def test_a_waiting_person_hands_the_typed_code_to_the_sign_in() -> None:
    person = WaitingPerson()
    assert not person.answer("123456")  # nothing asked yet

    async def type_it() -> None:
        while not person.waiting_for_code:
            await asyncio.sleep(0)
        assert person.prompt is not None and person.prompt.step is HumanStep.CODE_BY_TEXT
        assert person.answer("123456")

    code, _ = await asyncio.gather(person.code(_prompt(30)), type_it())
    assert code == "123456" and person.prompt is None and not person.answer("654321")


async def test_a_waiting_person_gives_none_when_the_code_expires_or_they_give_up() -> None:
    person = WaitingPerson()
    assert await person.code(_prompt(0.01)) is None

    async def give_up() -> None:
        while not person.waiting_for_code:
            await asyncio.sleep(0)
        person.give_up()

    code, _ = await asyncio.gather(person.code(_prompt(30)), give_up())
    assert code is None
    person.done("the code was not accepted")
    assert person.message == "the code was not accepted"
