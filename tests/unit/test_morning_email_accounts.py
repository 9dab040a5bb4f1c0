"""The morning e-mail tells the practice about its portal accounts: a password that expires within
PASSWORD_WARNING_DAYS (with the account's page, where the product changes it), not one that expires later;
other notices always."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from aggregator.overnight.morning_email import PASSWORD_WARNING_DAYS, body, build_summary
from aggregator.settings import Settings
from aggregator.store import Repository
from aggregator.store.budgets import AccountRef, clear_notices, record_notice

DAY = dt.date(2026, 11, 25)


def _repository(tmp_path: Path) -> tuple[Settings, Repository]:
    settings = Settings(data_dir=tmp_path / "data", email_web_base_url="https://aggregator.practice.example")
    settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    return settings, Repository.open(settings.resolved_database_url)


def test_expiring_passwords_within_the_window_reach_the_email(tmp_path: Path) -> None:
    settings, repository = _repository(tmp_path)
    soon = AccountRef("acct-soon", "crossway", "frontdesk")
    later = AccountRef("acct-later", "cascade", "billing")
    blocked = AccountRef("acct-code", "crossway", "night desk")
    record_notice(repository, soon, "password_expiring", "Your Crossway ID password expires in 5 days.",
                  DAY + dt.timedelta(days=5))
    record_notice(repository, later, "password_expiring", "Your password expires in 40 days.",
                  DAY + dt.timedelta(days=PASSWORD_WARNING_DAYS + 1))
    record_notice(repository, blocked, "code_by_text", "Crossway asks for a code sent by text message.", None)

    summary = build_summary(repository, DAY, settings)
    text = body(summary)

    assert len(summary.account_warnings) == 2
    assert "frontdesk" in text and "in 5 days" in text
    assert "https://aggregator.practice.example/admin/accounts/crossway/frontdesk" in text
    assert "billing" not in text  # expires after the window: not yet
    assert "https://aggregator.practice.example/admin/accounts/crossway/night%20desk" in text

    clear_notices(repository, soon.account_id, ["password_expiring"])  # the password was changed
    assert "frontdesk" not in body(build_summary(repository, DAY, settings))


def test_no_notice_no_accounts_section(tmp_path: Path) -> None:
    settings, repository = _repository(tmp_path)
    summary = build_summary(repository, DAY, settings)
    assert summary.account_warnings == [] and "Portal accounts" not in body(summary)
