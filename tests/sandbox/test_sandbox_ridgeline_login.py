"""Ridgeline login: CSRF, password, lockout, TOTP (single use), CAPTCHA, idle timeout, logout."""

from sandbox.ridgeline import vocabulary as v


async def test_full_login_reaches_home(portal, account, state):
    home = await portal.login(account)
    assert home.status_code == 200 and home.url.path == "/home"
    assert "<title>Ridgeline Mutual - Provider Home</title>" in home.text
    assert account.username in home.text and account.password not in home.text
    counters = state.stats()["accounts"][account.username]
    assert counters["login_attempts"] == 1 and counters["successful_logins"] == 1 and counters["mfa_attempts"] == 1


async def test_login_form_has_a_hidden_csrf_token_and_rejects_missing_or_wrong_ones(portal, account, state):
    page = await portal.http.get("/login")
    assert 'type="hidden" name="csrfToken"' in page.text
    for data in ({"username": account.username, "password": account.password},
                 {"username": account.username, "password": account.password, "csrfToken": "forged"}):
        refused = await portal.http.post("/login", data=data)
        assert refused.status_code == 403 and v.MSG_CSRF in refused.text
    assert state.stats()["totals"]["csrf_rejections"] == 2
    assert state.stats()["accounts"][account.username]["login_attempts"] == 0
    valid = await portal.http.post("/login", data={"username": "x", "password": "y", "csrfToken": portal.csrf(page)})
    assert valid.status_code == 200 and v.MSG_INVALID_LOGIN in valid.text
    portal.http.cookies.clear()
    no_session = await portal.http.post("/login", data={"username": "x", "password": "y", "csrfToken": portal.csrf(page)})
    assert no_session.status_code == 403, "a token without its session is worthless"


async def test_wrong_password_then_lockout_after_three(portal, account, state):
    for attempt in (1, 2):
        page = await portal.password(account.username, "wrong")
        assert page.url.path == "/login" and v.MSG_INVALID_LOGIN in page.text
        assert state.stats()["accounts"][account.username]["consecutive_failures"] == attempt
    third = await portal.password(account.username, "wrong")
    assert v.MSG_LOCKED in third.text
    correct = await portal.password(account.username, account.password)
    assert correct.url.path == "/login" and v.MSG_LOCKED in correct.text
    counters = state.stats()["accounts"][account.username]
    assert counters == {**counters, "login_attempts": 4, "failed_logins": 3, "consecutive_failures": 3,
                        "locked": True, "locked_attempts": 1, "successful_logins": 0}
    other = state.dataset.carrier("ridgeline").accounts[1]
    assert (await portal.login(other)).url.path == "/home", "lockout is per username"


async def test_a_success_resets_the_consecutive_failures(portal, account, state):
    await portal.password(account.username, "wrong")
    await portal.password(account.username, "wrong")
    await portal.login(account)
    await portal.password(account.username, "wrong")
    counters = state.stats()["accounts"][account.username]
    assert counters["consecutive_failures"] == 1 and not counters["locked"]


async def test_unknown_user_gets_the_same_message(portal):
    page = await portal.password("nobody", "whatever")
    assert v.MSG_INVALID_LOGIN in page.text


async def test_totp_wrong_code_and_reused_code_are_rejected(portal, account, clock, state):
    page = await portal.password(account.username, account.password)
    wrong = await portal.mfa(page, "000000" if portal.code(account) != "000000" else "111111")
    assert wrong.url.path == "/mfa" and v.MSG_MFA_INVALID in wrong.text
    code = portal.code(account)
    assert (await portal.mfa(wrong, code)).url.path == "/home"
    await portal.http.get("/logout")
    page = await portal.password(account.username, account.password)
    reused = await portal.mfa(page, code)
    assert reused.url.path == "/mfa" and v.MSG_MFA_REUSED in reused.text
    clock.advance(30)
    assert (await portal.mfa(reused, portal.code(account))).url.path == "/home"
    counters = state.stats()["accounts"][account.username]
    assert (counters["mfa_attempts"], counters["mfa_failures"], counters["mfa_reused"]) == (4, 1, 1)


async def test_totp_accepts_one_step_of_drift(portal, account, clock):
    page = await portal.password(account.username, account.password)
    assert (await portal.mfa(page, portal.code(account, offset_steps=-1))).url.path == "/home"
    await portal.http.get("/logout")
    page = await portal.password(account.username, account.password)
    assert (await portal.mfa(page, portal.code(account, offset_steps=2))).url.path == "/mfa"


async def test_pages_behind_login_redirect_by_stage(portal, account):
    assert (await portal.http.get("/eligibility")).url.path == "/login"
    await portal.password(account.username, account.password)
    assert (await portal.http.get("/eligibility")).url.path == "/mfa", "half logged in is not logged in"


async def test_idle_timeout_redirects_with_expired_flag(portal, account, clock, state):
    await portal.login(account)
    clock.advance(14 * 60)
    assert (await portal.http.get("/eligibility")).url.path == "/eligibility", "activity keeps it alive"
    clock.advance(15 * 60 + 1)
    expired = await portal.http.get("/eligibility")
    assert expired.url.path == "/login" and expired.url.params["expired"] == "1"
    assert v.MSG_EXPIRED in expired.text
    state.update_faults({"idle_timeout_seconds": 5})
    await portal.login(account)
    clock.advance(6)
    assert (await portal.http.get("/home")).url.params.get("expired") == "1"


async def test_reset_forgets_sessions_like_a_restart(portal, account, state):
    await portal.login(account)
    state.reset()
    assert (await portal.http.get("/home")).url.params.get("expired") == "1"


async def test_captcha_interstitial(portal, account, state):
    state.update_faults({"captcha": True})
    page = await portal.login(account)
    assert page.url.path == "/captcha" and "I'm not a robot" in page.text
    assert (await portal.http.get("/eligibility")).url.path == "/captcha"
    unchecked = await portal.http.post("/captcha", data={"csrfToken": portal.csrf(page)})
    assert v.MSG_CAPTCHA in unchecked.text
    home = await portal.http.post("/captcha", data={"csrfToken": portal.csrf(page), "notRobot": "1"})
    assert home.url.path == "/home"
    counters = state.stats()["accounts"][account.username]
    assert counters["captcha_challenges"] == 1 and counters["successful_logins"] == 1


async def test_logout(portal, account):
    await portal.login(account)
    page = await portal.http.get("/logout")
    assert v.MSG_LOGGED_OUT in page.text
    assert (await portal.http.get("/home")).url.path == "/login"
