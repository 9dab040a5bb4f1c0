"""Admin pages: portal accounts (status, and new credentials that unfreeze them), web users, the
canary (a known member per portal account, checked before the batch; docs/canary.md), and routing (which
portals answer for each payer, with which accounts: the file aggregator/scrapers/routing.py reads).

No page ever shows a portal user name, password, TOTP seed or security answer: the account list shows
label, carrier and status, and the credential form's fields are always empty (blank = keep).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from aggregator.errors import ConfigurationError
from aggregator.logging import get_logger
from aggregator.scrapers.routing import MAX_ROUTING_BYTES, ROUTING_FILE, PayerRoute, RoutingFile, parse_routing
from aggregator.store import web as store
from aggregator.web import views
from aggregator.web.auth import ADMINS, Principal, context_of, form, hash_password, page

if TYPE_CHECKING:
    from aggregator.password_change import PasswordChangeOutcome
    from vault import PortalAccount

router = APIRouter(include_in_schema=False)
log = get_logger(__name__)
# Portals set their own rules; this only stops a slip of the finger (a one-character password would lock
# the account at the next sign-in, as the portal rejects it).
MIN_PORTAL_PASSWORD_LENGTH = 8


def _accounts(request: Request) -> tuple[list[PortalAccount], str | None]:
    from vault import VaultError
    from vault.errors import MasterKeyError

    try:
        return context_of(request).vault().accounts(), None
    except (VaultError, MasterKeyError) as error:
        return [], str(error)


@router.get("/admin/accounts")
async def accounts_page(request: Request, principal: Annotated[Principal, Depends(page(ADMINS))]) -> Response:
    return _accounts_page(request)


def _accounts_page(request: Request, status_code: int = 200, notice: str | None = None) -> Response:
    """The accounts with what their portals told them (a password expiring: the message and the date)."""
    from aggregator.store import budgets

    accounts, problem = _accounts(request)
    notices: dict[str, list[object]] = {}
    for row in budgets.notices(context_of(request).repository):
        notices.setdefault(row.account_id, []).append(row)
    return views.render(request, "admin_accounts.html", status_code=status_code, accounts=accounts, problem=problem,
                        notices=notices, notice=notice or request.query_params.get("notice"),
                        changeable=_changeable_portals())


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
        return _accounts_page(request, 422, f"{account.display_name}: {problem}; nothing was changed")
    try:
        vault.update_account(account_id, password=password or None, totp_secret=totp_secret or None,
                             security_answers=answers or None, unfreeze=bool(unfreeze))
    except InvalidAccount as error:  # its message never contains the value
        return _accounts_page(request, 422, f"{account.display_name}: {error}")
    changed = [name for name, given in (("password", password), ("TOTP seed", totp_secret),
                                        ("security answers", answers)) if given]
    notice = f"{account.display_name}: " + (f"updated {', '.join(changed)}" if changed else "no credential changed")
    if account.is_frozen and (changed or unfreeze):
        notice += "; unfrozen"
    return RedirectResponse(f"/admin/accounts?notice={notice}", status_code=303)


def _changeable_portals() -> frozenset[str]:
    """The portals whose passwords the product can change (their manifests state the rules)."""
    from aggregator.scrapers.registry import all_adapters

    return frozenset(a.manifest.slug for a in all_adapters() if a.manifest.password_policy is not None)


@router.get("/admin/accounts/{portal}/{label}")
async def account_page(request: Request, portal: str, label: str,
                       principal: Annotated[Principal, Depends(page(ADMINS))]) -> Response:
    """One account: its status, what its portal told it, and the button that changes its password (the link
    of aggregator/human_steps.py for what a person does about an account)."""
    return _account_page(request, _portal_account(request, portal, label))


def _portal_account(request: Request, portal: str, label: str) -> PortalAccount:
    account = context_of(request).vault().find(portal, label)
    if account is None:
        raise HTTPException(404, "no such portal account")
    return account


def _account_page(request: Request, account: PortalAccount, status_code: int = 200,
                  outcome: PasswordChangeOutcome | None = None) -> Response:
    from aggregator.human_steps import needed
    from aggregator.store import budgets

    notices = [row for row in budgets.notices(context_of(request).repository) if row.account_id == account.account_id]
    return views.render(request, "admin_account.html", status_code=status_code, account=account, notices=notices,
                        what_to_do={n.kind: found.action(account.carrier) for n in notices
                                    if (found := needed(n.kind)) is not None},
                        can_change=account.carrier in _changeable_portals(), outcome=outcome)


@router.post("/admin/accounts/{portal}/{label}/password")
async def change_account_password(request: Request, portal: str, label: str,
                                  principal: Annotated[Principal, Depends(form(ADMINS))]) -> Response:
    """The product chooses a new password, changes it on the portal and stores it (aggregator/password_change.py).
    Nobody is asked for a code here: a portal that wants one says "sign in needed" (the attended sign-in
    remembers the device, and the next change goes through)."""
    from aggregator.errors import AggregatorError
    from aggregator.human_steps import HumanStep
    from aggregator.password_change import PasswordChangeOutcome, change_password

    account = _portal_account(request, portal, label)
    if account.carrier not in _changeable_portals():
        outcome = PasswordChangeOutcome(False, "the product cannot change passwords on this portal",
                                        HumanStep.PASSWORD_CHANGE_FAILED.value)
    else:  # a frozen account is refused there unless an expired password froze it (this change is the fix)
        try:
            runner = await context_of(request).runners.get()
            outcome = await change_password(runner, account.carrier, account.label)
        except AggregatorError as error:
            outcome = PasswordChangeOutcome(False, error.reason, error.code)
    log.info("admin_password_change", carrier=account.carrier, account=account.label, ok=outcome.ok,
             reason_code=outcome.reason_code, by=principal.user.username)
    refreshed = context_of(request).vault().find(account.carrier, account.label) or account
    return _account_page(request, refreshed, 200 if outcome.ok else 409, outcome)


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


# --- canary (aggregator/overnight/canary.py): canary members per portal account, results, the banner ---

@router.get("/admin/canary")
async def canary_page(request: Request, principal: Annotated[Principal, Depends(page(ADMINS))]) -> Response:
    return _canary(request)


def _canary(request: Request, status_code: int = 200, notice: str | None = None) -> Response:
    """Portal accounts with their canary member (id masked, date of birth never shown), each one's latest
    result, and the recent results. Nothing here is PHI: typing a member in is the only way it gets in."""
    from aggregator.overnight.canary import display_name
    from aggregator.store import canary as canary_store

    repository = context_of(request).repository
    accounts, problem = _accounts(request)
    members = {(m.carrier, m.account_label): m for m in canary_store.members(repository)}
    latest = canary_store.latest_results(repository)
    rows = [{"account": a, "portal": display_name(a.carrier), "member": members.get((a.carrier, a.label)),
             "latest": latest.get((a.carrier, a.label))} for a in accounts]
    known = {(a.carrier, a.label) for a in accounts}
    orphans = [m for key, m in members.items() if key not in known]  # the vault account went away
    return views.render(request, "admin_canary.html", status_code=status_code, rows=rows, orphans=orphans,
                        results=canary_store.recent_results(repository, limit=30), problem=problem,
                        held=canary_store.held_counts(repository), mask=canary_store.masked_member_id,
                        differences=canary_store.differences_of, portal_name=display_name,
                        notice=notice or request.query_params.get("notice"))


@router.post("/admin/canary")
async def set_canary_member(request: Request, principal: Annotated[Principal, Depends(form(ADMINS))],
                            account_id: Annotated[str, Form(max_length=64)],
                            member_id: Annotated[str, Form(max_length=200)],
                            date_of_birth: Annotated[str, Form(max_length=20)],
                            last_name: Annotated[str, Form(max_length=200)] = "") -> Response:
    from datetime import date

    from aggregator.overnight.canary import member_problem
    from aggregator.store import canary as canary_store
    from vault import AccountNotFound

    try:
        account = context_of(request).vault().get(account_id)
    except AccountNotFound:
        raise HTTPException(404, "no such portal account") from None
    problem = member_problem(member_id, last_name or None)
    try:
        dob = date.fromisoformat(date_of_birth.strip())
    except ValueError:
        problem = problem or "the date of birth must look like YYYY-MM-DD"
    else:
        if not problem and not date(1900, 1, 1) <= dob <= context_of(request).now().date():
            problem = "the date of birth must be a past date"
    if problem:
        return _canary(request, 422, f"{account.display_name}: {problem}; nothing was changed")
    canary_store.set_member(context_of(request).repository, carrier=account.carrier, account_label=account.label,
                            member_id=member_id.strip(), date_of_birth=dob, last_name=last_name.strip() or None,
                            configured_by=principal.user.username)
    return RedirectResponse(f"/admin/canary?notice={account.display_name}: canary member set "
                            "(its first passing answer is the baseline)", status_code=303)


@router.post("/admin/canary/{canary_member_id}/remove")
async def remove_canary_member(request: Request, canary_member_id: str,
                               principal: Annotated[Principal, Depends(form(ADMINS))]) -> Response:
    from aggregator.store import canary as canary_store

    removed = canary_store.remove_member(context_of(request).repository, canary_member_id)
    if removed is None:
        raise HTTPException(404, "no such canary member")
    return RedirectResponse(f"/admin/canary?notice={removed.carrier}/{removed.account_label}: canary removed",
                            status_code=303)


@router.post("/admin/canary/results/{result_id}/accept")
async def accept_canary_answer(request: Request, result_id: str,
                               principal: Annotated[Principal, Depends(form(ADMINS))]) -> Response:
    """The changed answer is right (e.g. the plan renewed): later canaries compare with it."""
    from aggregator.store import canary as canary_store

    try:
        row = canary_store.accept_result(context_of(request).repository, result_id, principal.user.username)
    except KeyError:
        raise HTTPException(404, "no such canary result") from None
    except ValueError as error:
        return _canary(request, 409, str(error))
    return RedirectResponse(f"/admin/canary?notice={row.carrier}/{row.account_label}: answer accepted as the new "
                            "baseline; run the canary again (`aggregator canary`) to release held items",
                            status_code=303)


def canary_alerts(request: Request) -> list[dict[str, object]]:
    """The failed canaries staff and admins must see at once (the banner in base.html): the latest result of
    every account whose canary failed, with how many batch items its portal holds. Empty for auditors."""
    from aggregator.overnight.canary import display_name
    from aggregator.store import canary as canary_store

    principal = getattr(request.state, "principal", None)
    if principal is None or principal.role not in ("staff", "admin"):
        return []
    repository = context_of(request).repository
    held = canary_store.held_counts(repository)
    alerts: list[dict[str, object]] = [
        {"portal": display_name(carrier), "account": label, "reason": row.reason, "when": row.started_at,
         "held": held.get(carrier, 0)}
        for (carrier, label), row in sorted(canary_store.latest_results(repository).items())
        if row.status == "failed" and row.accepted_at is None]
    failing = {alert["portal"] for alert in alerts}
    # Held items whose portal's canary no longer fails (fixed, or the member replaced) wait for the next run.
    alerts += [{"portal": display_name(carrier), "account": None, "when": None, "held": count,
                "reason": "the canary no longer fails; the held items run at the next batch run"}
               for carrier, count in sorted(held.items()) if display_name(carrier) not in failing]
    return alerts


# --- routing (aggregator/scrapers/routing.py): each payer's portals in order, the accounts each may use ---

# Two admins saving at once would each write the file they read, losing the other's payer: one at a time.
_ROUTING_WRITE = threading.Lock()
# How many accounts an allowed-accounts list may name (a form is not a place for thousands).
MAX_ROUTING_ACCOUNTS = 100


def _routing_file(data_dir: Path) -> RoutingFile:
    """The file's routes as written, checked for shape only (an entry the portals no longer accept is still
    shown, so it can be reset); no file: no routes (every payer on its defaults)."""
    path = data_dir / ROUTING_FILE
    if not path.is_file():
        return RoutingFile()
    try:
        raw = path.read_bytes()
        if len(raw) > MAX_ROUTING_BYTES:
            raise ConfigurationError(f"{ROUTING_FILE}: larger than {MAX_ROUTING_BYTES} bytes")
        return parse_routing(raw.decode("utf-8"), ROUTING_FILE)
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigurationError(f"{ROUTING_FILE}: cannot be read ({type(error).__name__})") from None


def _short(reason: str, data_dir: Path) -> str:
    # The routing module names the file by its full path; the page says which file without the server's layout.
    return reason.replace(str(data_dir / ROUTING_FILE), ROUTING_FILE)


@router.get("/admin/routing")
async def routing_page(request: Request, principal: Annotated[Principal, Depends(page(ADMINS))]) -> Response:
    return _routing(request)


def _routing(request: Request, status_code: int = 200, notice: str | None = None,
             failed_payer: str | None = None) -> Response:
    """Every payer some portal serves: its portals in order of preference (the file's, or the defaults, marked
    so), the portal accounts allowed on each, and where a portal caps searches a day, each account's count."""
    from aggregator.planning import SearchBudget
    from aggregator.scrapers.registry import adapter_for
    from aggregator.scrapers.routing import Routing, default_routes, known_payers
    from aggregator.store import budgets

    ctx = context_of(request)
    data_dir = ctx.settings.resolved_data_dir
    problem = None
    try:
        configured = _routing_file(data_dir)
    except ConfigurationError as error:
        configured, problem = RoutingFile(), f"{_short(error.reason, data_dir)}; the defaults are shown, and " \
                                             "lookups refuse to run until the file is fixed or removed"
    if problem is None:
        try:
            Routing(configured, ROUTING_FILE)
        except ConfigurationError as error:
            problem = f"{error.reason}; lookups refuse to run until it is fixed (reset the payer named)"
    accounts, vault_problem = _accounts(request)
    by_portal: dict[str, list[PortalAccount]] = {}
    for account in accounts:
        by_portal.setdefault(account.carrier, []).append(account)
    budget = SearchBudget(ctx.settings, ctx.repository, ctx.now)
    counts: dict[str, dict[str, int]] = {}  # portal -> account id -> searches today (capped portals only)
    payers = known_payers()
    rows = []
    for slug, entry in payers.items():
        route = configured.payers.get(slug)
        serving = [r.portal for r in default_routes(slug)]
        in_force = list(route.portals) if route else serving
        portals: list[dict[str, Any]] = []
        for portal in [*in_force, *(p for p in serving if p not in in_force)]:
            try:
                manifest = adapter_for(portal).manifest
            except ConfigurationError:  # a portal the file names that no adapter has: the problem banner says so
                portals.append({"slug": portal, "name": portal, "place": None, "accounts": [], "every": True,
                                "cap": None, "unknown": True})
                continue
            cap = budget.cap(manifest)
            portal_accounts = by_portal.get(portal, [])
            if cap is not None and portal not in counts:
                counts[portal] = budgets.searches_made(ctx.repository, [a.account_id for a in portal_accounts],
                                                       budget.day(manifest))
            allowed = route.accounts.get(portal) if route else None
            portals.append({
                "slug": portal, "name": manifest.display_name, "is_hub": manifest.is_hub, "cap": cap,
                "place": in_force.index(portal) + 1 if portal in in_force else None, "unknown": False,
                "every": allowed is None, "day": budget.day(manifest) if cap is not None else None,
                "missing": sorted(set(allowed or ()) - {a.label for a in portal_accounts}),
                "accounts": [{"account": a, "allowed": allowed is None or a.label in allowed,
                              "used": counts[portal].get(a.account_id, 0) if cap is not None else None,
                              "left": max(0, cap - counts[portal].get(a.account_id, 0)) if cap is not None else None}
                             for a in portal_accounts]})
        rows.append({"slug": slug, "name": entry.display_name, "configured": route is not None,
                     "portals": portals, "failed": slug == failed_payer})
    # Payers the file names that no portal serves any more: shown only to be reset.
    orphans = sorted(set(configured.payers) - set(payers))
    return views.render(request, "admin_routing.html", status_code=status_code, rows=rows, orphans=orphans,
                        problem=problem, vault_problem=vault_problem, file_name=ROUTING_FILE,
                        notice=notice or request.query_params.get("notice"))


@router.post("/admin/routing")
async def save_payer_routing(request: Request, principal: Annotated[Principal, Depends(form(ADMINS))],
                             payer: Annotated[str, Form(max_length=64)],
                             action: Annotated[str, Form(max_length=10)] = "save") -> Response:
    """Save one payer's portals (in order) and allowed accounts, or reset it to the defaults. Every check of
    `save_routing` runs first; on any problem the page says which field, and the file is left as it was."""
    from aggregator.scrapers.routing import payer_name, save_routing

    ctx = context_of(request)
    data_dir = ctx.settings.resolved_data_dir
    payer = payer.strip()
    if action not in ("save", "reset"):
        return _routing(request, 422, f"action: '{action[:10]}' is neither save nor reset; nothing was saved")
    submitted = await request.form()
    route: PayerRoute | None = None
    broken: list[str] = []
    if action == "save":
        accounts, vault_problem = _accounts(request)
        if vault_problem:
            return _routing(request, 422, f"the vault cannot be read ({vault_problem}); nothing was saved", payer)
        labels: dict[str, set[str]] = {}
        for account in accounts:
            labels.setdefault(account.carrier, set()).add(account.label)
        route, problem = _payer_route_of(payer, submitted, labels)
        if route is None:
            return _routing(request, 422, f"{problem}; nothing was saved", payer)
    try:
        with _ROUTING_WRITE:
            configured = _routing_file(data_dir)
            payers = dict(configured.payers)
            if action == "reset":
                if payer not in payers:  # already on the defaults: nothing to write
                    return RedirectResponse(f"/admin/routing?notice={payer_name(payer)}: already on the defaults",
                                            status_code=303)
                payers.pop(payer)
                # Entries broken on their own (a portal gone, a payer no longer served) would refuse every
                # save, the reset that repairs them included: a reset takes them back to the defaults too.
                broken = sorted(p for p, r in payers.items() if not _valid_alone(p, r))
                for other in broken:
                    payers.pop(other)
            else:
                assert route is not None
                payers[payer] = route
            save_routing(data_dir, RoutingFile(payers=payers))
    except ConfigurationError as error:
        return _routing(request, 422, f"{_short(error.reason, data_dir)}; nothing was saved", payer)
    log.info("routing_changed", payer=payer, action=action, by=principal.user.username)
    done = "reset to the defaults" if action == "reset" else "routing saved"
    if broken:
        done += f" (also reset, as no portal accepted them: {', '.join(broken)})"
    return RedirectResponse(f"/admin/routing?notice={payer_name(payer)}: {done}", status_code=303)


def _valid_alone(payer: str, route: PayerRoute) -> bool:
    from aggregator.scrapers.routing import Routing

    try:
        Routing(RoutingFile(payers={payer: route}))
    except ConfigurationError:
        return False
    return True


def _payer_route_of(payer: str, submitted: FormData, labels: dict[str, set[str]]) -> tuple[PayerRoute | None, str]:
    """The form's portals and accounts for `payer`: `place.<portal>` = its place (1 first; empty: not used),
    `every.<portal>` = any of its accounts (also ones added later), else the `accounts.<portal>` ticked.
    Problems are named by the file's field (payers.<payer>.portals, payers.<payer>.accounts.<portal>)."""
    where = f"payers.{payer}"
    places: dict[str, int] = {}
    for key, value in submitted.multi_items():
        if not key.startswith("place.") or not isinstance(value, str) or not value.strip():
            continue
        portal = key.removeprefix("place.")
        if not value.strip().isdigit() or not 1 <= int(value) <= 20:
            return None, f"{where}.portals: the place of '{portal[:40]}' must be a number from 1 (first choice)"
        places[portal] = int(value)
    if not places:
        return None, f"{where}.portals: choose at least one portal (or reset the payer to the defaults)"
    if len(set(places.values())) != len(places):
        return None, f"{where}.portals: two portals have the same place; give each its own"
    portals = tuple(sorted(places, key=places.__getitem__))
    accounts: dict[str, tuple[str, ...]] = {}
    for portal in portals:
        if submitted.get(f"every.{portal}"):
            continue
        chosen = sorted({str(v) for v in submitted.getlist(f"accounts.{portal}")})
        if not chosen:
            return None, f"{where}.accounts.{portal}: tick at least one account, or every account"
        if len(chosen) > MAX_ROUTING_ACCOUNTS:
            return None, f"{where}.accounts.{portal}: more than {MAX_ROUTING_ACCOUNTS} accounts"
        unknown = [label for label in chosen if label not in labels.get(portal, set())]
        if unknown:
            return None, f"{where}.accounts.{portal}: the vault has no {portal} account '{unknown[0][:60]}'"
        accounts[portal] = tuple(chosen)
    try:
        return PayerRoute(portals=portals, accounts=accounts), ""
    except ValidationError as error:
        first = error.errors(include_input=False)[0]
        return None, f"{where}.{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
