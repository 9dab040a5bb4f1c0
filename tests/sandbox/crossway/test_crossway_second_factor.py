"""Crossway ID's second factors other than TOTP (texted and e-mailed codes, push approvals), the lockout
after wrong codes of any kind, and the controls tests drive them with (second-factor, outbox, push)."""

from __future__ import annotations

import httpx

from sandbox.crossway import vocabulary as v
from tests.sandbox.crossway.client import HUB, IDP, Browser, csrf, doc, text

CONTROL = f"{IDP}/_sandbox"


async def use_factor(browser: Browser, username: str, kind: str) -> None:
    answer = await browser.http.post(f"{CONTROL}/second-factor", json={"username": username, "kind": kind})
    assert answer.json() == {"username": username, "kind": kind}


async def outbox(browser: Browser, username: str) -> list[dict]:
    return (await browser.http.get(f"{CONTROL}/outbox", params={"username": username})).json()["messages"]


async def at_mfa(browser: Browser, account) -> httpx.Response:
    page = await browser.password(await browser.to_idp_login(), account.username, account.password)
    assert page.url.path == "/mfa", page.text
    return page


def wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


async def test_controls_refuse_bad_kinds_and_unknown_users(browser, frontdesk):
    bad = await browser.http.post(f"{CONTROL}/second-factor", json={"username": frontdesk.username, "kind": "fax"})
    assert bad.status_code == 422
    nobody = await browser.http.post(f"{CONTROL}/second-factor", json={"username": "nobody@x", "kind": "sms"})
    assert nobody.status_code == 404
    assert (await browser.http.get(f"{CONTROL}/outbox", params={"username": "nobody@x"})).status_code == 404
    none = await browser.http.post(f"{CONTROL}/push", json={"username": frontdesk.username, "decision": "approve"})
    assert none.status_code == 404, "no pending request to decide"


async def test_totp_stays_the_default_and_says_so(browser, world, frontdesk):
    page = await at_mfa(browser, frontdesk)
    channel = doc(page).cssselect("#mfa-channel")[0]
    assert channel.get("data-channel") == "totp" and text(page, "#mfa-channel") == v.MSG_CHANNEL_TOTP
    box = doc(page).cssselect("#mfa-form input#remember-device")[0]
    assert (box.get("type"), box.get("name"), box.get("value")) == ("checkbox", "remember", "1")
    assert await outbox(browser, frontdesk.username) == []
    assert world.idp.stats()["accounts"][frontdesk.username]["second_factor"] == "totp"


async def test_texted_code_is_accepted_once_and_a_newer_code_replaces_the_older(browser, world, frontdesk):
    await use_factor(browser, frontdesk.username, "sms")
    page = await at_mfa(browser, frontdesk)
    assert doc(page).cssselect("#mfa-channel")[0].get("data-channel") == "sms"
    assert "text message to (•••) •••-" in text(page, "#mfa-channel")
    [first] = await outbox(browser, frontdesk.username)
    assert first["channel"] == "sms" and len(first["code"]) == 6 and first["code"].isdigit()
    assert first["expires_at"] - first["sent_at"] == world.settings.current.mfa_code_seconds
    assert first["code"] not in page.text

    # A second sign-in sends a new code; the first no longer works.
    page = await at_mfa(browser, frontdesk)
    first_again, second = await outbox(browser, frontdesk.username)
    assert first_again["code"] == first["code"] and second["sent_at"] >= first["sent_at"]
    if first["code"] != second["code"]:
        refused = await browser.mfa(page, first["code"])
        assert refused.url.path == "/mfa" and v.MSG_CODE_WRONG in refused.text
        assert "2 attempts left" in text(refused, "#attempts-left")
    done = await browser.mfa(page, second["code"])
    assert done.url.path == "/consent", done.text

    # The same code in a later sign-in is not accepted again.
    await browser.http.get(f"{IDP}/logout")
    page = await at_mfa(browser, frontdesk)
    again = await browser.mfa(page, second["code"])
    assert again.url.path == "/mfa" and v.MSG_CODE_WRONG in again.text
    totals = world.idp.stats()["totals"]
    assert totals["codes_sent"] == 3 and totals["codes_wrong"] == (2 if first["code"] != second["code"] else 1)


async def test_emailed_code_names_the_masked_address_and_signs_in(browser, world, billing):
    await use_factor(browser, billing.username, "email")
    page = await at_mfa(browser, billing)
    assert doc(page).cssselect("#mfa-channel")[0].get("data-channel") == "email"
    assert text(page, "#mfa-channel") == v.MSG_CHANNEL_EMAIL.format(to="b•••@example.test")
    [sent] = await outbox(browser, billing.username)
    assert sent["channel"] == "email"
    page = await browser.mfa(page, sent["code"])
    if page.url.path == "/consent":
        page = await browser.consent(page)
    assert str(page.url) == f"{HUB}/organizations"


async def test_three_wrong_codes_lock_the_user_for_any_kind(browser, world, frontdesk, billing):
    await use_factor(browser, frontdesk.username, "sms")
    page = await at_mfa(browser, frontdesk)
    [sent] = await outbox(browser, frontdesk.username)
    page = await browser.mfa(page, wrong(sent["code"]))
    page = await browser.mfa(page, wrong(sent["code"]))
    assert "1 attempt left" in text(page, "#attempts-left")
    locked = await browser.mfa(page, wrong(sent["code"]))
    assert "Sign in" in text(locked, "h1") and v.MSG_LOCKED in locked.text
    assert world.idp.stats()["accounts"][frontdesk.username]["locked"] is True
    # The session was dropped: the right code now gets no further; the password is refused too.
    stale = await browser.http.post(f"{IDP}/mfa", data={"code": sent["code"], "_csrf": csrf(page)})
    assert stale.url.path == "/login"
    again = await browser.password(await browser.to_idp_login(), frontdesk.username, frontdesk.password)
    assert v.MSG_LOCKED in again.text

    # TOTP counts too.
    page = await at_mfa(browser, billing)
    right = browser.code(billing)
    for _ in range(2):
        page = await browser.mfa(page, wrong(right))
        assert v.MSG_CODE_INVALID in page.text
    locked = await browser.mfa(page, wrong(right))
    assert v.MSG_LOCKED in locked.text and world.idp.stats()["accounts"][billing.username]["locked"] is True


async def test_a_right_code_resets_the_wrong_code_count(browser, world, billing):
    page = await at_mfa(browser, billing)
    right = browser.code(billing)
    page = await browser.mfa(page, wrong(right))
    page = await browser.mfa(page, wrong(right))
    page = await browser.mfa(page, right)
    assert page.url.path != "/mfa" and world.idp.mfa_attempts_left(billing.username) == 3


async def test_an_expired_code_says_so_and_does_not_count_toward_the_lock(browser, world, clock, frontdesk):
    await use_factor(browser, frontdesk.username, "sms")
    page = await at_mfa(browser, frontdesk)
    [sent] = await outbox(browser, frontdesk.username)
    expired = await browser.http.post(f"{CONTROL}/outbox/expire", json={"username": frontdesk.username})
    assert expired.json() == {"expired": 1}
    for _ in range(4):
        page = await browser.mfa(page, sent["code"])
        assert page.url.path == "/mfa" and v.MSG_CODE_EXPIRED in page.text
    assert world.idp.stats()["accounts"][frontdesk.username]["locked"] is False
    assert world.idp.stats()["totals"]["codes_expired"] == 4

    # On the clock: a new sign-in's code lives mfa_code_seconds.
    page = await at_mfa(browser, frontdesk)
    clock.advance(world.settings.current.mfa_code_seconds)
    newest = (await outbox(browser, frontdesk.username))[-1]
    page = await browser.mfa(page, newest["code"])
    assert v.MSG_CODE_EXPIRED in page.text


async def push_requests(browser: Browser, username: str) -> list[dict]:
    return (await browser.http.get(f"{CONTROL}/push", params={"username": username})).json()["requests"]


async def decide(browser: Browser, username: str, decision: str) -> httpx.Response:
    return await browser.http.post(f"{CONTROL}/push", json={"username": username, "decision": decision})


async def check_push(browser: Browser, page: httpx.Response, **extra: str) -> httpx.Response:
    return await browser.http.post(f"{IDP}/mfa/push", data={"_csrf": csrf(page), **extra})


async def test_push_waits_then_an_approval_signs_in(browser, world, frontdesk):
    await use_factor(browser, frontdesk.username, "push")
    page = await at_mfa(browser, frontdesk)
    assert text(page, "#mfa-channel") == v.MSG_CHANNEL_PUSH
    assert doc(page).cssselect("#push-form #push-check") and doc(page).cssselect("#push-form #remember-device")
    assert not doc(page).cssselect("#mfa-form")
    [request] = await push_requests(browser, frontdesk.username)
    assert request["status"] == "pending"
    waiting = await check_push(browser, page)
    assert doc(waiting).cssselect("#push-status")[0].get("data-status") == "waiting"
    assert (await decide(browser, frontdesk.username, "approve")).json()["status"] == "approved"
    done = await check_push(browser, waiting)
    assert done.url.path == "/consent", done.text
    assert [r["status"] for r in await push_requests(browser, frontdesk.username)] == ["approved"]
    assert world.idp.stats()["totals"]["push_requests"] == 1


async def test_push_denied_or_expired_goes_back_to_the_login_page(browser, world, frontdesk):
    await use_factor(browser, frontdesk.username, "push")
    page = await at_mfa(browser, frontdesk)
    await decide(browser, frontdesk.username, "deny")
    denied = await check_push(browser, page)
    assert "Sign in" in text(denied, "h1") and v.MSG_PUSH_DENIED in denied.text
    assert doc(denied).cssselect("#login-form")

    page = await browser.password(denied, frontdesk.username, frontdesk.password)  # signs in again from there
    assert page.url.path == "/mfa"
    await browser.http.post(f"{CONTROL}/outbox/expire", json={"username": frontdesk.username})
    expired = await check_push(browser, page)
    assert v.MSG_PUSH_EXPIRED in expired.text
    assert [r["status"] for r in await push_requests(browser, frontdesk.username)] == ["denied", "expired"]


async def test_push_expires_on_the_clock(browser, world, clock, frontdesk):
    await use_factor(browser, frontdesk.username, "push")
    page = await at_mfa(browser, frontdesk)
    clock.advance(world.settings.current.mfa_code_seconds)
    assert (await decide(browser, frontdesk.username, "approve")).status_code == 404
    assert v.MSG_PUSH_EXPIRED in (await check_push(browser, page)).text
