"""Cascade's Change Password page (menu link `lnkChangePassword`): its rules, one message per broken rule,
success, the old password refused and the new one accepted at the next login, the expiry notice gone."""

from __future__ import annotations

import html as html_lib
import re

import pytest
from lxml import html as lxml_html

from sandbox.cascade import vocabulary as v
from sandbox.cascade.client import Portal
from sandbox.dataset import generate_dataset


@pytest.fixture(scope="module")
def dataset():  # type: ignore[no-untyped-def]
    return generate_dataset()


def login(portal: Portal, username: str, password: str, answers: dict[str, str]) -> tuple[str, list[str]]:
    """Log in from scratch; the last page and the paths of the pages passed on the way."""
    portal.client.cookies.clear()
    page = portal.client.get("/Main.aspx").text
    response = portal.post("/Login.aspx", page, txtUserName=username, txtPassword=password)
    if "Security Verification" not in response.text:
        return response.text, [response.url.path]
    asked = re.search(r'id="lblQuestion">([^<]*)<', response.text)
    assert asked is not None
    question = html_lib.unescape(asked.group(1))
    response = portal.post("/SecurityQuestion.aspx", response.text, txtAnswer=answers[question])
    passed = []
    while response.url.path != "/Home.aspx":
        passed.append(response.url.path)
        button = "btnAcknowledge" if "Announcement" in response.url.path else "btnRemindLater"
        response = portal.post(response.url.path, response.text, **{button: "1"})
    return response.text, passed


def errors(page: str) -> list[str]:
    found = lxml_html.fromstring(page).cssselect("span#lblPasswordError")
    return [line.strip() for line in found[0].itertext() if line.strip()] if found else []


def change(portal: Portal, current: str, new: str, confirm: str | None = None) -> str:
    form = portal.client.get("/ChangePassword.aspx").text
    return portal.post("/ChangePassword.aspx", form, txtCurrentPassword=current, txtNewPassword=new,
                       txtConfirmPassword=new if confirm is None else confirm, btnChangePassword="Change Password").text


def test_the_menu_links_to_the_form_with_its_rules(dataset) -> None:  # type: ignore[no-untyped-def]
    portal = Portal(dataset)
    home = lxml_html.fromstring(portal.client.get("/Home.aspx").text)
    link = home.cssselect("a#lnkChangePassword")[0]
    assert link.get("href") == "/ChangePassword.aspx" and link.text_content() == "Change Password"
    form = lxml_html.fromstring(portal.client.get(link.get("href")).text)
    assert [li.text_content() for li in form.cssselect("ul#ulPasswordRules li")] == list(v.PASSWORD_RULES)
    for name in ("txtCurrentPassword", "txtNewPassword", "txtConfirmPassword"):
        assert form.cssselect(f"input#{name}")[0].get("type") == "password"
    assert form.cssselect("input#btnChangePassword") and form.cssselect("input#__VIEWSTATE")
    assert not form.cssselect("#lblPasswordError") and not form.cssselect("#lblPasswordChanged")


def test_each_broken_rule_is_named_and_nothing_changes(dataset) -> None:  # type: ignore[no-untyped-def]
    portal = Portal(dataset)
    account = dataset.carrier("cascade").accounts[1]
    assert errors(change(portal, "wrong", "Abcdefg1", "Abcdefg2")) == [v.MSG_PASSWORD_WRONG_CURRENT,
                                                                        v.MSG_PASSWORD_MISMATCH]
    assert errors(change(portal, account.password, "Ab1")) == [v.MSG_PASSWORD_LENGTH]
    assert errors(change(portal, account.password, "A" * 21 + "1")) == [v.MSG_PASSWORD_LENGTH]
    assert errors(change(portal, account.password, "abcdefghij")) == [v.MSG_PASSWORD_LETTER_DIGIT]
    assert errors(change(portal, account.password, "abcd1234&")) == [v.MSG_PASSWORD_CHARACTERS]
    assert errors(change(portal, account.password, "abcd 1234")) == [v.MSG_PASSWORD_CHARACTERS]
    if 8 <= len(account.username) <= 20 and re.search(r"\d", account.username):
        assert v.MSG_PASSWORD_USERNAME in errors(change(portal, account.password, account.username.upper()))
    assert v.MSG_PASSWORD_REUSED in errors(change(portal, account.password, account.password))
    assert portal.state.current_password(account.username) == account.password


def test_username_rule(dataset) -> None:  # type: ignore[no-untyped-def]
    from sandbox.cascade.passwords import password_problems
    assert password_problems("drsmith42", "x", "x", "DRSMITH42", "DRSMITH42", []) == [v.MSG_PASSWORD_USERNAME]
    assert password_problems("drsmith42", "x", "x", "drsmith43", "drsmith43", []) == []


def test_a_change_takes_effect_at_the_next_login_and_ends_the_notice(dataset) -> None:  # type: ignore[no-untyped-def]
    portal = Portal(dataset)
    account = dataset.carrier("cascade").accounts[0]  # frontdesk: the expiry notice shows at login
    answers = dict(account.security_answers)
    home, passed = login(portal, account.username, account.password, answers)
    assert "/PasswordNotice.aspx" in passed and "Provider Home" in home

    new = "Brisk_Lantern42"
    done = change(portal, account.password, new)
    page = lxml_html.fromstring(done)
    assert page.cssselect("span#lblPasswordChanged")[0].text_content() == v.MSG_PASSWORD_CHANGED
    assert not errors(done) and new not in done and account.password not in done

    refused, _ = login(portal, account.username, account.password, answers)
    assert v.MSG_INVALID_LOGIN in refused
    home, passed = login(portal, account.username, new, answers)
    assert "Provider Home" in home and "/PasswordNotice.aspx" not in passed

    # The last 5 passwords (the current one included) are refused; a sixth-oldest is fine again.
    history = [account.password, new]
    for n in range(4):
        nxt = f"Rotate{n}_pass9"
        assert not errors(change(portal, history[-1], nxt))
        history.append(nxt)
    assert errors(change(portal, history[-1], history[-5])) == [v.MSG_PASSWORD_REUSED]
    assert not errors(change(portal, history[-1], history[0])), "6 passwords ago: allowed"

    portal.state.reset()
    assert portal.state.current_password(account.username) == account.password
