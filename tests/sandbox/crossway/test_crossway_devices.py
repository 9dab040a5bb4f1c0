"""Crossway ID's remembered devices (a right code with "remember this device" skips the second factor for
that user for 30 calendar days) and the voluntary password change at /account/password."""

from __future__ import annotations

from datetime import timedelta

import httpx

from sandbox.crossway import vocabulary as v
from sandbox.crossway.idp_state import PASSWORD_RULES
from tests.sandbox.crossway.client import HUB, IDP, Browser, csrf, doc, text

CONTROL = f"{IDP}/_sandbox"


async def remembered_sign_in(browser: Browser, account) -> httpx.Response:
    """Password, then the TOTP code with the box ticked; the answer to the code (not followed)."""
    page = await browser.password(await browser.to_idp_login(), account.username, account.password)
    assert page.url.path == "/mfa"
    return await browser.http.post(f"{IDP}/mfa", data={"code": browser.code(account), "remember": "1",
                                                       "_csrf": csrf(page)}, follow_redirects=False)


async def sign_out_everywhere(browser: Browser) -> None:
    await browser.http.get(f"{HUB}/signout")
    await browser.http.get(f"{IDP}/logout")


async def after_password(browser: Browser, account, password: str | None = None) -> httpx.Response:
    return await browser.password(await browser.to_idp_login(), account.username, password or account.password)


async def test_a_remembered_device_skips_the_second_factor_for_that_user(browser, world, frontdesk):
    answer = await remembered_sign_in(browser, frontdesk)
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith(f"{v.DEVICE_COOKIE}="))
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower() and "Max-Age=2592000" in cookie
    assert "Path=/" in cookie
    token = browser.http.cookies.get(v.DEVICE_COOKIE)
    assert token and token not in str(world.idp.stats())
    devices = (await browser.http.get(f"{CONTROL}/devices", params={"username": frontdesk.username})).json()
    thirty_days_on = (world.calendar.today() + timedelta(days=30)).isoformat()
    assert devices == {"devices": [{"expires_on": thirty_days_on}]}

    page = await browser.http.get(f"{IDP}{answer.headers['location']}")
    if page.url.path == "/consent":
        page = await browser.consent(page)
    await sign_out_everywhere(browser)
    page = await after_password(browser, frontdesk)
    assert str(page.url) == f"{HUB}/organizations", "no second factor asked"
    totals = world.idp.stats()["totals"]
    assert totals["devices_remembered"] == 1 and totals["devices_recognised"] == 1


async def test_another_users_device_does_not_count(browser, world, frontdesk, billing):
    await remembered_sign_in(browser, frontdesk)
    await sign_out_everywhere(browser)
    page = await after_password(browser, billing)
    assert page.url.path == "/mfa"
    assert world.idp.stats()["totals"]["devices_recognised"] == 0


async def test_forgetting_devices_or_31_days_later_asks_again(browser, world, billing):
    await remembered_sign_in(browser, billing)
    await sign_out_everywhere(browser)
    forgot = await browser.http.post(f"{CONTROL}/devices/forget", json={"username": billing.username})
    assert forgot.json() == {"forgotten": 1}
    assert (await after_password(browser, billing)).url.path == "/mfa"

    await sign_out_everywhere(browser)
    browser.clock.advance(30)  # a fresh TOTP step for the next code
    await remembered_sign_in(browser, billing)
    await sign_out_everywhere(browser)
    await browser.http.post(f"{HUB}/_sandbox/clock", json={"advance_days": 29})
    page = await after_password(browser, billing)
    assert page.url.path in ("/consent", "/organizations"), "still remembered on day 29"
    await sign_out_everywhere(browser)
    await browser.http.post(f"{HUB}/_sandbox/clock", json={"advance_days": 2})
    assert (await after_password(browser, billing)).url.path == "/mfa", "forgotten after 30 days"


async def test_a_device_skips_a_texted_code_too_and_no_code_is_sent(browser, world, frontdesk):
    await remembered_sign_in(browser, frontdesk)
    await sign_out_everywhere(browser)
    await browser.http.post(f"{CONTROL}/second-factor", json={"username": frontdesk.username, "kind": "sms"})
    page = await after_password(browser, frontdesk)
    assert page.url.path != "/mfa"
    assert (await browser.http.get(f"{CONTROL}/outbox", params={"username": frontdesk.username})).json() == {
        "messages": []}


async def test_without_the_box_nothing_is_remembered(browser, world, billing):
    page = await browser.sign_in(billing)
    assert page.url.path == "/organizations"
    assert browser.http.cookies.get(v.DEVICE_COOKIE) is None
    assert world.idp.devices_of(billing.username) == []


async def test_voluntary_password_change_at_crossway_id(browser, world, billing):
    assert (await browser.sign_in(billing)).url.path == "/organizations"
    org = await browser.choose(world.directory.organizations[0])
    link = doc(org).cssselect("a#idp-account")[0]
    assert link.get("href") == f"{IDP}/account" and link.text_content() == "Manage your Crossway ID"
    account = await browser.http.get(link.get("href"))
    change = doc(account).cssselect("a#change-password-link")[0]
    form = await browser.http.get(f"{IDP}{change.get('href')}")
    assert text(form, "h1") == "Change your password" and v.MSG_PASSWORD_EXPIRED not in form.text
    rules = [" ".join(li.text_content().split()) for li in doc(form).cssselect("#password-rules li")]
    assert rules == list(PASSWORD_RULES)

    local = billing.username.split("@")[0]
    refused = await browser.http.post(f"{IDP}/account/password", data={
        "currentPassword": "wrong", "newPassword": f"Aa1!{local}xyz", "confirmPassword": "other",
        "_csrf": csrf(form)})
    errors = [" ".join(p.text_content().split()) for p in doc(refused).cssselect("p.error")]
    assert "The current password is not correct." in errors and "The new passwords do not match." in errors
    assert PASSWORD_RULES[2] in errors and world.idp.password_changes_of(billing.username) == 0
    short = await browser.http.post(f"{IDP}/account/password", data={
        "currentPassword": billing.password, "newPassword": "short", "confirmPassword": "short",
        "_csrf": csrf(refused)})
    assert PASSWORD_RULES[0] in short.text and PASSWORD_RULES[1] in short.text

    new = "Zq7#Harbor-Lamp-2031"
    done = await browser.http.post(f"{IDP}/account/password", data={
        "currentPassword": billing.password, "newPassword": new, "confirmPassword": new, "_csrf": csrf(short)})
    assert text(done, "h1") == "Password changed" and text(done, "#password-changed") == v.MSG_PASSWORD_CHANGED
    info = (await browser.http.get(f"{IDP}/_sandbox/password", params={"username": billing.username})).json()
    assert info == {"days_left": world.settings.current.password_max_age_days, "changes": 1}

    await browser.http.get(f"{HUB}/signout")
    await browser.http.get(f"{IDP}/logout")
    old = await after_password(browser, billing)
    assert v.MSG_INVALID_LOGIN in old.text
    assert (await browser.password(old, billing.username, new)).url.path == "/mfa"
