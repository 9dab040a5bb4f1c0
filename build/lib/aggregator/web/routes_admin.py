"""Admin pages: portal accounts (status, and new credentials that unfreeze them) and web users.

No page ever shows a portal user name, password, TOTP seed or security answer: the account list shows
label, carrier and status, and the credential form's fields are always empty (blank = keep).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from aggregator.store import web as store
from aggregator.web import views
from aggregator.web.auth import ADMINS, Principal, context_of, form, hash_password, page

router = APIRouter(include_in_schema=False)
# Portals set their own rules; this only stops a slip of the finger (a one-character password would lock
# the account at the next sign-in, as the portal rejects it).
MIN_PORTAL_PASSWORD_LENGTH = 8


def _accounts(request: Request) -> tuple[list, str | None]:
    from vault import VaultError
    from vault.errors import MasterKeyError

    try:
        return context_of(request).vault().accounts(), None
    except (VaultError, MasterKeyError) as error:
        return [], str(error)


@router.get("/admin/accounts")
async def accounts_page(request: Request, principal: Annotated[Principal, Depends(page(ADMINS))]) -> Response:
    accounts, problem = _accounts(request)
    return views.render(request, "admin_accounts.html", accounts=accounts, problem=problem,
                        notice=request.query_params.get("notice"))


@router.post("/admin/accounts/{account_id}")
async def update_account(request: Request, account_id: str, principal: Annotated[Principal, Depends(form(ADMINS))],
                         password: Annotated[str, Form()] = "", totp_secret: Annotated[str, Form()] = "",
                         unfreeze: Annotated[str, Form()] = "") -> Response:
    from vault import AccountNotFound, InvalidAccount

    vault = context_of(request).vault()
    try:
        account = vault.get(account_id)
    except AccountNotFound:
        raise HTTPException(404, "no such portal account") from None
    submitted = await request.form()
    # One field per security question, in the vault's order: "answer_0", "answer_1", ...
    answers = {}
    for index, question in enumerate(sorted(account.security_answers)):
        value = submitted.get(f"answer_{index}")
        if isinstance(value, str) and value:
            answers[question] = value
    if answers:
        answers = {**{q: a.get_secret_value() for q, a in account.security_answers.items()}, **answers}
    problem = _credential_problem(password, totp_secret, answers)
    if problem:
        accounts, vault_problem = _accounts(request)
        return views.render(request, "admin_accounts.html", status_code=422, accounts=accounts, problem=vault_problem,
                            notice=f"{account.display_name}: {problem}; nothing was changed")
    try:
        vault.update_account(account_id, password=password or None, totp_secret=totp_secret or None,
                             security_answers=answers or None, unfreeze=bool(unfreeze))
    except InvalidAccount as error:  # its message never contains the value
        accounts, problem = _accounts(request)
        return views.render(request, "admin_accounts.html", status_code=422, accounts=accounts, problem=problem,
                            notice=f"{account.display_name}: {error}")
    changed = [name for name, given in (("password", password), ("TOTP seed", totp_secret),
                                        ("security answers", answers)) if given]
    notice = f"{account.display_name}: " + (f"updated {', '.join(changed)}" if changed else "no credential changed")
    if account.is_frozen and (changed or unfreeze):
        notice += "; unfrozen"
    return RedirectResponse(f"/admin/accounts?notice={notice}", status_code=303)


def _credential_problem(password: str, totp_secret: str, answers: dict[str, str]) -> str | None:
    """What is wrong with new credentials, as a sentence that names the field and never the value."""
    if password and len(password) < MIN_PORTAL_PASSWORD_LENGTH:
        return f"a portal password needs at least {MIN_PORTAL_PASSWORD_LENGTH} characters"
    for name, value in (("portal password", password), ("TOTP seed", totp_secret), *(("security answer", a) for a in answers.values())):
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            return f"the {name} contains a control character"
    return None


@router.get("/admin/users")
async def users_page(request: Request, principal: Annotated[Principal, Depends(page(ADMINS))]) -> Response:
    return _users(request)


def _users(request: Request, status_code: int = 200, notice: str | None = None) -> Response:
    repository = context_of(request).repository
    users = store.users(repository)
    names = {u.id: u.username for u in users}
    return views.render(request, "admin_users.html", status_code=status_code, users=users,
                        tokens=store.tokens(repository), names=names, notice=notice or request.query_params.get("notice"),
                        expiry=store.token_expiry, now=context_of(request).now())


@router.post("/admin/users")
async def add_user(request: Request, principal: Annotated[Principal, Depends(form(ADMINS))],
                   username: Annotated[str, Form(max_length=80)], display_name: Annotated[str, Form(max_length=120)],
                   role: Annotated[str, Form()], password: Annotated[str, Form(max_length=200)]) -> Response:
    try:
        store.check_name("user name", username)
        store.check_name("display name", display_name)
        password_hash = await run_in_threadpool(hash_password, password)  # scrypt: off the event loop
        store.add_user(context_of(request).repository, username=username.strip(), display_name=display_name.strip(),
                       role=role, password_hash=password_hash)
    except ValueError as error:
        return _users(request, 422, str(error))
    return RedirectResponse(f"/admin/users?notice=added {username.strip()}", status_code=303)


@router.post("/admin/users/{user_id}/disable")
async def disable_user(request: Request, user_id: str, principal: Annotated[Principal, Depends(form(ADMINS))]) -> Response:
    repository = context_of(request).repository
    user = store.user_by_id(repository, user_id)
    if user is None:
        raise HTTPException(404, "no such user")
    if user.role == "admin" and not user.disabled and store.count_admins(repository) <= 1:
        return _users(request, 409, "the last active admin cannot be disabled")
    store.update_user(repository, user_id, disabled=True)
    return RedirectResponse(f"/admin/users?notice=disabled {user.username}", status_code=303)


@router.post("/admin/users/{user_id}/enable")
async def enable_user(request: Request, user_id: str, principal: Annotated[Principal, Depends(form(ADMINS))]) -> Response:
    repository = context_of(request).repository
    user = store.user_by_id(repository, user_id)
    if user is None:
        raise HTTPException(404, "no such user")
    store.update_user(repository, user_id, disabled=False)
    return RedirectResponse(f"/admin/users?notice=enabled {user.username}", status_code=303)


@router.post("/admin/tokens/{token_id}/revoke")
async def revoke_token(request: Request, token_id: str, principal: Annotated[Principal, Depends(form(ADMINS))]) -> Response:
    try:
        store.revoke_token(context_of(request).repository, token_id)
    except LookupError:
        raise HTTPException(404, "no such token") from None
    return RedirectResponse("/admin/users?notice=token revoked", status_code=303)
