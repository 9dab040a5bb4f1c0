"""Crossway sign-in through Crossway ID: two origins, state and nonce, TOTP, consent, code exchange,
silent re-authorization, lockout, forced password change."""

from __future__ import annotations

from sandbox.crossway import vocabulary as v
from sandbox.crossway.hub_state import CLIENT_ID
from sandbox.crossway.idp_state import PASSWORD_RULES
from tests.sandbox.crossway.client import HUB, IDP, csrf, query_of, text


async def test_full_sign_in_crosses_both_origins_with_state_nonce_totp_and_consent(browser, world, frontdesk):
    start = await browser.http.get(f"{HUB}/signin", follow_redirects=False)
    assert start.status_code == 302 and start.headers["location"].startswith(f"{IDP}/authorize?")
    asked = query_of(start.headers["location"])
    assert asked["client_id"] == CLIENT_ID and asked["response_type"] == "code"
    assert asked["redirect_uri"] == f"{HUB}/oidc/callback" and asked["state"] and asked["nonce"]
    assert v.HUB_COOKIE in start.headers["set-cookie"]

    login = await browser.http.get(start.headers["location"])
    assert str(login.url).startswith(f"{IDP}/login") and "<title>Crossway ID - Sign in</title>" in login.text
    mfa = await browser.password(login, frontdesk.username, frontdesk.password)
    assert mfa.url.path == "/mfa" and "authenticator app" in mfa.text
    consent = await browser.mfa(mfa, browser.code(frontdesk))
    assert consent.url.path == "/consent" and "Crossway Provider Hub" in text(consent, "#consent-client")

    back = await browser.http.post(f"{IDP}/consent", data={"decision": "allow", "_csrf": csrf(consent)},
                                   follow_redirects=False)
    returned = query_of(back.headers["location"])
    assert back.headers["location"].startswith(f"{HUB}/oidc/callback?") and returned["state"] == asked["state"]
    orgs = await browser.http.get(back.headers["location"])
    assert str(orgs.url) == f"{HUB}/organizations" and "Select Organization" in orgs.text
    assert frontdesk.display_name in text(orgs, "#user-name")
    assert frontdesk.password not in orgs.text and frontdesk.totp_secret not in orgs.text

    idp = world.idp.stats()
    assert idp["totals"]["codes_issued"] == 1 and idp["totals"]["codes_redeemed"] == 1
    assert idp["totals"]["consents_given"] == 1 and idp["accounts"][frontdesk.username]["successful_logins"] == 1
    hub = world.hub.stats()
    assert hub["users"][frontdesk.username]["sign_ins"] == 1
    assert hub["sessions"] == [{"username": frontdesk.username, "stage": "auth", "tax_id": None, "npi": None}]


async def test_consent_is_asked_once_per_user(browser, world, frontdesk, billing):
    assert (await browser.sign_in(frontdesk)).url.path == "/organizations"
    await browser.http.get(f"{HUB}/signout")
    await browser.http.get(f"{IDP}/logout")
    login = await browser.to_idp_login()
    mfa = await browser.password(login, frontdesk.username, frontdesk.password)
    back = await browser.mfa(mfa, browser.code(frontdesk, steps=1))
    assert str(back.url) == f"{HUB}/organizations", "no consent page the second time"
    await browser.http.get(f"{IDP}/logout")
    await browser.http.get(f"{HUB}/signout")
    login = await browser.to_idp_login()
    other = await browser.mfa(await browser.password(login, billing.username, billing.password), browser.code(billing))
    assert other.url.path == "/consent", "consent is per user"
    assert world.idp.stats()["totals"]["consents_given"] == 1


async def test_refusing_consent_returns_an_error_to_the_hub(browser, world, frontdesk):
    login = await browser.to_idp_login()
    consent = await browser.mfa(await browser.password(login, frontdesk.username, frontdesk.password),
                                browser.code(frontdesk))
    page = await browser.consent(consent, "deny")
    assert page.url.path == "/oidc/callback" and v.MSG_ACCESS_DENIED in page.text
    assert world.idp.stats()["totals"]["consents_refused"] == 1 and world.hub.stats()["sessions"] == []


async def _callback_url(browser, account, steps=0):
    """Sign in at Crossway ID and stop before the browser returns to the hub: the callback URL."""
    login = await browser.to_idp_login()
    page = await browser.mfa(await browser.password(login, account.username, account.password),
                             browser.code(account, steps))
    if page.url.path == "/consent":
        page = await browser.http.post(f"{IDP}/consent", data={"decision": "allow", "_csrf": csrf(page)},
                                       follow_redirects=False)
    else:
        raise AssertionError("expected the consent page")
    return page.headers["location"]


async def test_a_mismatched_or_missing_state_is_refused(browser, world, frontdesk):
    callback = await _callback_url(browser, frontdesk)
    code = query_of(callback)["code"]
    for bad in (f"{HUB}/oidc/callback?code={code}&state=forged", f"{HUB}/oidc/callback?code={code}"):
        refused = await browser.http.get(bad)
        assert refused.status_code == 400 and text(refused, "#signin-error") == v.MSG_NOT_VERIFIED
        assert "Select Organization" not in refused.text
    assert world.hub.stats()["totals"]["state_mismatches"] == 2
    assert world.idp.stats()["totals"]["codes_redeemed"] == 0, "a refused state never spends the code"


async def test_a_callback_in_another_browser_is_refused(browser, world, frontdesk):
    callback = await _callback_url(browser, frontdesk)
    browser.http.cookies.clear()  # another browser: no hub session holding that state
    refused = await browser.http.get(callback)
    assert refused.status_code == 400 and v.MSG_NOT_VERIFIED in refused.text


async def test_a_code_is_single_use(browser, world, frontdesk):
    callback = await _callback_url(browser, frontdesk)
    assert (await browser.http.get(callback)).url.path == "/organizations"
    await browser.http.get(f"{HUB}/signout")
    again = await browser.http.get(f"{HUB}/signin", follow_redirects=False)  # a new hub sign-in, a new state
    replay = f"{HUB}/oidc/callback?code={query_of(callback)['code']}&state={query_of(again.headers['location'])['state']}"
    refused = await browser.http.get(replay)
    assert refused.status_code == 400 and v.MSG_NOT_VERIFIED in refused.text
    assert world.hub.stats()["totals"]["code_exchange_failures"] == 1
    assert world.idp.stats()["totals"]["codes_refused"] == 1


async def test_codes_are_bound_to_client_and_redirect_uri_and_expire(browser, world, clock, frontdesk):
    first = query_of(await _callback_url(browser, frontdesk))["code"]
    assert world.idp.redeem_code(first, "another-client", f"{HUB}/oidc/callback") == "invalid_grant"
    assert world.idp.redeem_code(first, CLIENT_ID, "http://evil.test/oidc/callback") == "invalid_grant"
    claims = world.idp.redeem_code(first, CLIENT_ID, f"{HUB}/oidc/callback")
    assert not isinstance(claims, str) and claims.sub == frontdesk.username and claims.aud == CLIENT_ID
    await browser.http.get(f"{IDP}/logout")
    browser.http.cookies.clear()
    second = query_of(await _callback_url_after_consent(browser, frontdesk))["code"]
    clock.advance(world.settings.current.code_lifetime_seconds + 1)
    assert world.idp.redeem_code(second, CLIENT_ID, f"{HUB}/oidc/callback") == "invalid_grant"


async def _callback_url_after_consent(browser, account):
    login = await browser.to_idp_login()
    page = await browser.password(login, account.username, account.password)
    done = await browser.http.post(f"{IDP}/mfa", data={"code": browser.code(account, 1), "_csrf": csrf(page)},
                                   follow_redirects=False)
    return done.headers["location"]


async def test_token_endpoint_redeems_a_code_once(browser, world, frontdesk):
    code = query_of(await _callback_url(browser, frontdesk))["code"]
    form = {"grant_type": "authorization_code", "code": code, "client_id": CLIENT_ID,
            "redirect_uri": f"{HUB}/oidc/callback"}
    first = await browser.http.post(f"{IDP}/token", data=form)
    assert first.status_code == 200 and first.json()["id_token_claims"]["sub"] == frontdesk.username
    second = await browser.http.post(f"{IDP}/token", data=form)
    assert second.status_code == 400 and second.json() == {"error": "invalid_grant"}


async def test_authorize_refuses_unknown_clients_redirects_and_missing_state(browser, world):
    base = {"client_id": CLIENT_ID, "redirect_uri": f"{HUB}/oidc/callback", "response_type": "code",
            "state": "s", "nonce": "n"}
    for change in ({"client_id": "nobody"}, {"redirect_uri": "http://evil.test/cb"}, {"state": ""}, {"nonce": ""},
                   {"response_type": "token"}):
        page = await browser.http.get(f"{IDP}/authorize", params={**base, **change}, follow_redirects=False)
        assert page.status_code == 400 and v.MSG_BAD_REQUEST in page.text, change
    assert world.idp.stats()["totals"]["refused_requests"] == 5


async def test_an_expired_hub_session_with_a_live_idp_session_reenters_without_a_password(acting, world, clock,
                                                                                          frontdesk):
    clock.advance(world.hub.faults.idle_timeout_seconds + 1)  # the hub session times out; Crossway ID's lives
    page = await acting.http.get(f"{HUB}/payers")
    assert str(page.url) == f"{HUB}/organizations", "back through /signin and /authorize without a password"
    idp = world.idp.stats()
    assert idp["accounts"][frontdesk.username]["login_attempts"] == 1 and idp["totals"]["silent_authorizations"] == 1
    assert world.hub.stats()["users"][frontdesk.username]["sign_ins"] == 2
    world.hub.expire_sessions()
    again = await acting.http.get(f"{HUB}/payers")
    assert again.url.path == "/organizations" and world.idp.stats()["totals"]["silent_authorizations"] == 2


async def test_an_expired_idp_session_asks_for_the_password_again(acting, world, clock):
    world.hub.expire_sessions()
    world.idp.expire_sessions()
    page = await acting.http.get(f"{HUB}/payers")
    assert str(page.url).startswith(f"{IDP}/login")


async def test_totp_codes_are_single_use(browser, world, frontdesk):
    assert (await browser.sign_in(frontdesk)).url.path == "/organizations"
    await browser.http.get(f"{IDP}/logout")
    await browser.http.get(f"{HUB}/signout")
    login = await browser.to_idp_login()
    mfa = await browser.password(login, frontdesk.username, frontdesk.password)
    reused = await browser.mfa(mfa, browser.code(frontdesk))
    assert reused.url.path == "/mfa" and v.MSG_CODE_REUSED in reused.text
    wrong = await browser.mfa(reused, "000000" if browser.code(frontdesk, 1) != "000000" else "111111")
    assert v.MSG_CODE_INVALID in wrong.text
    done = await browser.mfa(wrong, browser.code(frontdesk, steps=1))
    assert done.url.path == "/organizations"
    counters = world.idp.stats()["accounts"][frontdesk.username]
    assert counters["mfa_reused"] == 1 and counters["mfa_failures"] == 1


async def test_lockout_after_three_wrong_passwords(browser, world, frontdesk, billing):
    login = await browser.to_idp_login()
    for _ in range(2):
        login = await browser.password(login, frontdesk.username, "wrong-password")
        assert login.url.path == "/login" and v.MSG_INVALID_LOGIN in login.text
    third = await browser.password(login, frontdesk.username, "wrong-password")
    assert v.MSG_LOCKED in third.text
    right = await browser.password(third, frontdesk.username, frontdesk.password)
    assert right.url.path == "/login" and v.MSG_LOCKED in right.text
    counters = world.idp.stats()["accounts"][frontdesk.username]
    assert counters["locked"] and counters["failed_logins"] == 3 and counters["locked_attempts"] == 1
    other = await browser.password(right, billing.username, billing.password)
    assert other.url.path == "/mfa", "lockout is per username"


async def test_password_warning_banner_from_n_days_before(acting, world, frontdesk):
    page = await acting.http.get(f"{HUB}/payers")
    days = world.idp.password_days_left(frontdesk.username)
    assert 0 < days <= world.settings.current.password_warning_days
    assert text(page, "#password-warning").startswith(f"Your Crossway ID password expires in {days} days")
    world.settings.update({"password_warning_days": days - 1})
    assert "password-warning" not in (await acting.http.get(f"{HUB}/payers")).text


async def test_no_banner_for_a_fresh_password(browser, world, billing):
    await browser.sign_in(billing)
    page = await browser.choose(world.directory.organizations[0])
    assert page.url.path == "/payers" and "password-warning" not in page.text


async def test_an_expired_password_must_be_changed_at_sign_in(browser, world, frontdesk):
    world.idp.set_password_age(frontdesk.username, 60)
    login = await browser.to_idp_login()
    change = await browser.mfa(await browser.password(login, frontdesk.username, frontdesk.password),
                               browser.code(frontdesk))
    assert change.url.path == "/password" and v.MSG_PASSWORD_EXPIRED in change.text
    for rule in PASSWORD_RULES:
        assert rule in text(change, "#password-rules")
    weak = await browser.http.post(f"{IDP}/password", data={
        "currentPassword": frontdesk.password, "newPassword": "short", "confirmPassword": "short",
        "_csrf": csrf(change)})
    assert weak.url.path == "/password" and PASSWORD_RULES[0] in weak.text and PASSWORD_RULES[1] in weak.text
    same = await browser.http.post(f"{IDP}/password", data={
        "currentPassword": frontdesk.password, "newPassword": frontdesk.password,
        "confirmPassword": frontdesk.password, "_csrf": csrf(weak)})
    assert PASSWORD_RULES[3] in same.text
    new = "Harbor7-Lantern-42"
    done = await browser.http.post(f"{IDP}/password", data={
        "currentPassword": frontdesk.password, "newPassword": new, "confirmPassword": new, "_csrf": csrf(same)})
    assert done.url.path == "/consent"
    assert (await browser.consent(done)).url.path == "/organizations"
    assert world.idp.password_days_left(frontdesk.username) == 60
    assert world.idp.stats()["totals"]["password_changes"] == 1

    await browser.http.get(f"{IDP}/logout")
    await browser.http.get(f"{HUB}/signout")
    login = await browser.to_idp_login()
    old = await browser.password(login, frontdesk.username, frontdesk.password)
    assert v.MSG_INVALID_LOGIN in old.text
    assert (await browser.password(old, frontdesk.username, new)).url.path == "/mfa"


async def test_a_password_that_expires_during_a_live_idp_session_is_changed_before_re_entry(acting, world, frontdesk):
    world.calendar.advance_days(world.idp.password_days_left(frontdesk.username))  # the expiry day
    world.hub.expire_sessions()
    page = await acting.http.get(f"{HUB}/payers")
    assert str(page.url) == f"{IDP}/password" and v.MSG_PASSWORD_EXPIRED in page.text
    new = "Quarry9-Beacon-77"
    done = await acting.http.post(f"{IDP}/password", data={
        "currentPassword": frontdesk.password, "newPassword": new, "confirmPassword": new, "_csrf": csrf(page)})
    assert str(done.url) == f"{HUB}/organizations" and "password-warning" not in done.text
