"""The product's new portal passwords keep each portal's rules, every time (many draws), and the rules
are read the way the portals state them."""

from __future__ import annotations

import string

import pytest
from pydantic import SecretStr

from aggregator.scrapers.cascade.manifest import MANIFEST as CASCADE
from aggregator.scrapers.crossway.manifest import MANIFEST as CROSSWAY
from aggregator.scrapers.framework.passwords import PasswordPolicy, new_password
from aggregator.scrapers.registry import all_adapters

DRAWS = 500
# Every portal whose password the product changes (its manifest states the rules).
POLICIES = {a.manifest.slug: a.manifest.password_policy for a in all_adapters() if a.manifest.password_policy}
USERS = ["frontdesk@example.test", "billing", "ab", "Q", "cascade-user-01"]


@pytest.mark.parametrize("portal", sorted(POLICIES))
@pytest.mark.parametrize("username", USERS)
def test_new_passwords_always_keep_the_portal_policy(portal: str, username: str) -> None:
    policy = POLICIES[portal]
    made = set()
    for _ in range(DRAWS):
        password = new_password(policy, username)
        assert isinstance(password, SecretStr)
        text = password.get_secret_value()
        assert policy.problems(text, username) == []
        assert policy.min_length <= len(text) <= policy.max_length
        assert set(text) <= set(policy.alphabet)
        for name in {username, username.split("@")[0]}:
            assert name.casefold() not in text.casefold()
        made.add(text)
    assert len(made) == DRAWS  # random, never repeated


def test_the_generated_password_is_never_shown() -> None:
    password = new_password(CROSSWAY.password_policy or PasswordPolicy(min_length=8), "frontdesk")
    assert password.get_secret_value() not in repr(password) and password.get_secret_value() not in str(password)


def test_crossway_rules_like_crossway_id_states_them() -> None:
    policy = CROSSWAY.password_policy
    assert policy is not None
    assert policy.problems("Aa1!aaaaaaaa", "frontdesk@example.test") == []
    assert policy.problems("Aa1!aaaaaaa", "x") == ["shorter than 12 characters"]
    assert policy.problems("aa1!aaaaaaaa", "x") == ["no upper-case letter"]
    assert policy.problems("AA1!AAAAAAAA", "x") == ["no lower-case letter"]
    assert policy.problems("Aab!aaaaaaaa", "x") == ["no digit"]
    assert policy.problems("Aa1aaaaaaaaa", "x") == ["no symbol (one of !#$%*+-=?@^_)"]
    assert policy.problems("Aa1!FrontDesk99", "frontdesk@example.test") == ["contains the user name"]


def test_cascade_rules_like_its_change_password_page_states_them() -> None:
    policy = CASCADE.password_policy
    assert policy is not None
    assert policy.problems("abc12345", "provider1") == []
    assert policy.problems("abc1234", "provider1") == ["shorter than 8 characters"]
    assert policy.problems("abc1234567890123456789", "x") == ["longer than 20 characters"]
    assert policy.problems("12345678", "x") == ["no letter"]
    assert policy.problems("abcdefgh", "x") == ["no digit"]
    assert policy.problems("abc1234&", "x") == ["a character the portal does not allow (symbols allowed: !@#$%^*_-)"]
    assert policy.problems("xxProvider1", "provider1") == ["contains the user name"]


def test_problems_never_repeat_the_password() -> None:
    policy = PasswordPolicy(min_length=30, require_symbol=True, symbols="!")
    secret = "Sec ret&Value"
    assert all(secret not in problem for problem in policy.problems(secret, "someone"))


def test_a_short_maximum_still_gets_every_required_kind() -> None:
    policy = PasswordPolicy(min_length=4, max_length=4, symbols="#", require_upper=True, require_lower=True,
                            require_digit=True, require_symbol=True)
    for _ in range(DRAWS):
        text = new_password(policy, "user").get_secret_value()
        assert len(text) == 4 and policy.problems(text, "user") == []
        for kind in (string.ascii_uppercase, string.ascii_lowercase, string.digits, "#"):
            assert any(ch in kind for ch in text)


@pytest.mark.parametrize("fields", [
    {"min_length": 0},
    {"min_length": 10, "max_length": 8},
    {"min_length": 8, "require_symbol": True},
    {"min_length": 8, "symbols": "a!"},
    {"min_length": 1, "max_length": 2, "require_upper": True, "require_lower": True, "require_digit": True},
])
def test_an_impossible_policy_is_refused_when_declared(fields: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        PasswordPolicy(**fields)  # type: ignore[arg-type]
