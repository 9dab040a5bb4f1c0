"""The password change's bookkeeping around the portal, with a stand-in portal (the real portals are in
tests/carriers/*/test_*_change_password_e2e.py and tests/e2e/test_password_change_crash.py): an answer that
cannot be read leaves the change "submitted" and no session behind (the next sign-in settles it); a refusal
abandons it; a portal without rules is never signed in to."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from aggregator.errors import ActionRequired, UnexpectedPage
from aggregator.password_change import change_password
from aggregator.scrapers.registry import all_adapters
from aggregator.settings import Settings
from aggregator.store import Repository
from vault import MasterKey, Vault

CHANGEABLE = next(a.manifest.slug for a in all_adapters() if a.manifest.password_policy is not None)
UNCHANGEABLE = next(a.manifest.slug for a in all_adapters() if a.manifest.password_policy is None)


class StandInAdapter:
    def __init__(self, answer: Exception | None) -> None:
        self.answer = answer
        self.submitted: list[str] = []
        self.password_changed = False  # the sign-in met no forced change
        self.change: Any = None  # the PasswordChange the sign-in was given

    async def change_password(self, new_password: SecretStr) -> None:
        self.change.submitting()  # as a real adapter does right before the portal's button
        self.submitted.append(new_password.get_secret_value())
        if self.answer is not None:
            raise self.answer


class StandInRunner:
    def __init__(self, tmp_path: Path, answer: Exception | None) -> None:
        self.vault = Vault.create(tmp_path / "vault.json", MasterKey.generate())
        settings = Settings(data_dir=tmp_path / "data")
        settings.resolved_data_dir.mkdir(parents=True)
        self.repository = Repository.open(settings.resolved_database_url)
        self.adapter = StandInAdapter(answer)
        self.sign_ins: list[dict[str, Any]] = []
        self.forgotten: list[str] = []

    @asynccontextmanager
    async def signed_in(self, portal: str, label: str, **options: Any) -> AsyncIterator[StandInAdapter]:
        self.adapter.change = options.pop("password_change", None)
        assert self.adapter.change is not None and self.adapter.change.new_password.get_secret_value()
        self.sign_ins.append({"portal": portal, "label": label, **options})
        yield self.adapter

    async def forget_session(self, account_id: str) -> None:
        self.forgotten.append(account_id)


def _runner(tmp_path: Path, answer: Exception | None, portal: str = CHANGEABLE) -> tuple[StandInRunner, str]:
    runner = StandInRunner(tmp_path, answer)
    account = runner.vault.add_account(carrier=portal, label="main", username="someone", password="Current-pass-1")
    return runner, account.account_id


async def test_an_unreadable_answer_leaves_the_change_submitted_and_no_session(tmp_path: Path) -> None:
    runner, account_id = _runner(tmp_path, UnexpectedPage("the portal showed a page nobody knows"))
    outcome = await change_password(runner, CHANGEABLE, "main")  # type: ignore[arg-type]
    assert not outcome.ok and outcome.reason_code == "unexpected_page"
    assert outcome.reason is not None and "the next sign-in tries both" in outcome.reason
    account = runner.vault.get(account_id)
    assert account.password_change_stage == "submitted"
    assert account.pending_password is not None
    assert account.pending_password.get_secret_value() == runner.adapter.submitted[0]
    assert account.password.get_secret_value() == "Current-pass-1"
    assert runner.forgotten == [account_id]
    assert runner.sign_ins == [{"portal": CHANGEABLE, "label": "main", "person": None, "flow": "password_change",
                                "fresh": True}]


async def test_a_refusal_abandons_the_change(tmp_path: Path) -> None:
    runner, account_id = _runner(tmp_path, ActionRequired("the portal said no", kind="password_change_failed"))
    outcome = await change_password(runner, CHANGEABLE, "main")  # type: ignore[arg-type]
    assert (outcome.ok, outcome.reason, outcome.reason_code) == (False, "the portal said no", "password_change_failed")
    account = runner.vault.get(account_id)
    assert account.password_change_stage is None and account.password.get_secret_value() == "Current-pass-1"
    assert runner.forgotten == []


async def test_an_accepted_change_is_confirmed(tmp_path: Path) -> None:
    runner, account_id = _runner(tmp_path, None)
    outcome = await change_password(runner, CHANGEABLE, "main")  # type: ignore[arg-type]
    account = runner.vault.get(account_id)
    assert outcome.ok and outcome.changed_at == account.password_changed_at is not None
    assert account.password.get_secret_value() == runner.adapter.submitted[0] != "Current-pass-1"
    assert account.password_change_stage is None


@pytest.mark.parametrize(("portal", "label", "code"), [(UNCHANGEABLE, "main", "password_change_failed"),
                                                        (CHANGEABLE, "nobody", "credentials_missing"),
                                                        ("no-such-portal", "main", "unknown_portal")])
async def test_what_cannot_be_changed_signs_in_nowhere(tmp_path: Path, portal: str, label: str, code: str) -> None:
    runner, _ = _runner(tmp_path, None, UNCHANGEABLE if portal == UNCHANGEABLE else CHANGEABLE)
    outcome = await change_password(runner, portal, label)  # type: ignore[arg-type]
    assert not outcome.ok and outcome.reason_code == code
    assert runner.sign_ins == [] and runner.adapter.submitted == []
