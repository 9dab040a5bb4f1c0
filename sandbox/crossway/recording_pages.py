"""Record the Crossway hub's pages declared in `sandbox/crossway/recording.py` into tests/recorded_pages/crossway/.

    .venv/bin/python -m sandbox.crossway.recording_pages [--out tests/recorded_pages]

Both apps run in process (httpx over ASGI, one client with a cookie jar per origin, redirects followed
across them, a settable clock: nothing sleeps), signed in as the `billing` account acting for the sandbox
practice. Each kept page is the HTML the hub served; its expected file is the hub's ground truth
(`recording.page_truth`), or for a page no record may come out of, the refusal the case declares (with
the adapter's error type and reason). Nothing is written unless every page parses offline to its ground
truth or its declared refusal; the hand-made pages are then derived from their base pages.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pyotp

from aggregator.errors import AggregatorError
from aggregator.scrapers.registry import adapter_for
from sandbox.crossway import recording
from sandbox.crossway.world import build_crossway
from sandbox.dataset import generate_dataset

HUB, IDP = "http://hub.test", "http://id.test"
_CSRF = re.compile(r'name="_csrf" value="([^"]+)"')
ROOT = Path(__file__).resolve().parents[2] / "tests" / "recorded_pages"


class _Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_005.0

    def __call__(self) -> float:
        return self.now


def _csrf(page: httpx.Response) -> str:
    match = _CSRF.search(page.text)
    if match is None:
        raise RuntimeError(f"no CSRF token on {page.url.path}")
    return match.group(1)


def offline(flow: str, html: str, query: Any) -> dict[str, Any]:
    try:
        answer = adapter_for("crossway").parse_answer(flow, html, query)
    except AggregatorError as error:
        return {"error": {"type": type(error).__name__, "outcome": error.outcome.value, "reason": error.reason}}
    return {"record": answer.model_dump(mode="json")}


async def record(out: Path) -> list[Path]:
    dataset = generate_dataset(seed=recording.RECORDED_WITH["seed"], as_of=recording.RECORDED_WITH["as_of"])
    clock = _Clock()
    world = build_crossway(dataset, clock)
    world.connect(HUB, IDP)
    http = httpx.AsyncClient(mounts={HUB: httpx.ASGITransport(app=world.hub_app),
                                     IDP: httpx.ASGITransport(app=world.idp_app)}, follow_redirects=True)
    account = next(a for a in world.directory.accounts if a.role == "billing")
    organization = world.directory.organizations[0]
    screens: dict[str, str] = {}
    pages: dict[str, str] = {}

    async def sign_in() -> None:
        landing = await http.get(f"{HUB}/")
        screens["screen_landing"] = landing.text
        login = await http.get(f"{HUB}/signin")
        screens["screen_idp_login"] = login.text
        mfa = await http.post(f"{IDP}/login", data={"username": account.username, "password": account.password,
                                                      "_csrf": _csrf(login)})
        screens["screen_idp_mfa"] = mfa.text
        page = await http.post(f"{IDP}/mfa", data={"code": pyotp.TOTP(account.totp_secret).at(int(clock.now)),
                                                     "_csrf": _csrf(mfa)})
        if page.url.path == "/consent":
            screens["screen_idp_consent"] = page.text
            page = await http.post(f"{IDP}/consent", data={"decision": "allow", "_csrf": _csrf(page)})
        screens["screen_organizations"] = page.text
        page = await http.post(f"{HUB}/organizations", data={"taxId": organization.tax_id, "_csrf": _csrf(page)})
        screens["screen_providers"] = page.text
        page = await http.post(f"{HUB}/providers", data={"npi": organization.providers[0].npi, "_csrf": _csrf(page)})
        screens["screen_payers"] = page.text

    async def search(payer: str, transaction: str, fields: dict[str, str], *, pace: bool = True) -> httpx.Response:
        if pace:
            clock.now += world.settings.current.min_search_interval_seconds
        form = await http.get(f"{HUB}/payers/{payer}/search", params={"transaction": transaction})
        screens.setdefault("screen_search_form", form.text)
        return await http.post(f"{HUB}/payers/{payer}/search",
                               data={"transaction": transaction, "_csrf": _csrf(form), **fields})

    async def idp_screens() -> None:
        """The texted-code and push pages (another browser signs in while billing's factor is switched),
        then Crossway ID's account page and its password form (the signed-in browser)."""
        other = httpx.AsyncClient(mounts={HUB: httpx.ASGITransport(app=world.hub_app),
                                          IDP: httpx.ASGITransport(app=world.idp_app)}, follow_redirects=True)
        try:
            for kind, screen in (("sms", "screen_idp_mfa_sms"), ("push", "screen_idp_push")):
                world.idp.set_second_factor(account.username, kind)
                login = await other.get(f"{HUB}/signin")
                screens[screen] = (await other.post(f"{IDP}/login", data={
                    "username": account.username, "password": account.password, "_csrf": _csrf(login)})).text
        finally:
            world.idp.set_second_factor(account.username, "totp")
            await other.aclose()
        screens["screen_idp_account"] = (await http.get(f"{IDP}/account")).text
        screens["screen_idp_password_form"] = (await http.get(f"{IDP}/account/password")).text

    try:
        await sign_in()
        await idp_screens()
        # A callback whose state is not the one the hub sent (another browser's, or tampered with).
        screens["screen_signin_error"] = (await http.get(f"{HUB}/oidc/callback",
                                                         params={"code": "x", "state": "tampered"})).text
        for case in recording.hub_cases(dataset):
            if case.page.startswith("screen:"):
                continue
            world.hub.update_faults({"layout_version": "v1", "maintenance": False, **case.faults})
            q = case.query
            if case.faults.get("maintenance"):  # every hub page is the maintenance page then
                page = await http.get(f"{HUB}/payers/{case.payer}/search", params={"transaction": "eligibility"})
                pages[f"{case.flow}/{case.name}"] = page.text
                continue
            if case.flow == "eligibility":
                fields = {"dob": q.date_of_birth.strftime("%m/%d/%Y"), "dos": q.service_date.strftime("%m/%d/%Y")}
                if q.by_name:
                    fields |= {"searchBy": "name", "firstName": q.first_name, "lastName": q.last_name}
                else:
                    fields |= {"searchBy": "member", "memberId": q.member_id}
                if case.setup == "daily_limit":
                    world.hub.set_searches_today(account.username, world.settings.current.daily_search_cap)
                if case.setup == "too_fast":
                    await search(case.payer, "eligibility", fields)
                page = await search(case.payer, "eligibility", fields, pace=case.setup != "too_fast")
                if case.setup == "daily_limit":
                    world.hub.set_searches_today(account.username, 0)
                pages[f"{case.flow}/{case.name}"] = page.text
                continue
            fields = {"searchBy": "member", "memberId": q.member_id, "dob": q.date_of_birth.strftime("%m/%d/%Y"),
                      "fromDate": q.service_from.strftime("%m/%d/%Y"), "toDate": q.service_to.strftime("%m/%d/%Y")}
            page = await search(case.payer, "claims", fields)
            if case.page.startswith("claim:"):
                number = case.page.removeprefix("claim:")
                page = await http.get(f"{HUB}/payers/{case.payer}/claims/{number}")
            pages[f"{case.flow}/{case.name}"] = page.text
        world.hub.update_faults({"layout_version": "v1", "maintenance": False})
    finally:
        await http.aclose()

    problems: list[str] = []
    writes: list[tuple[str, str, dict[str, Any]]] = []
    for case in recording.hub_cases(dataset):
        stem = f"{case.flow}/{case.name}"
        html = screens[case.name] if case.page.startswith("screen:") else pages[stem]
        query = case.query.model_dump(mode="json")
        got = offline(case.flow, html, case.query)
        declared = next(c for c in recording.cases(dataset) if c.stem == stem)
        if case.page.startswith("screen:"):
            if "error" not in got or got["error"]["outcome"] != "needs_attention":
                problems.append(f"{stem}: a screen must be refused as no answer, got {got}")
            writes.append((stem, html, {"query": query, **got}))
            continue
        if case.refusal is not None:
            error = got.get("error")
            if error is None or error["outcome"] != case.refusal.offline.value or (
                    case.refusal.type not in (None, error["type"])):
                problems.append(f"{stem}: must be refused ({case.refusal.why}), got {got}")
            writes.append((stem, html, {"query": query, **got}))
            continue
        truth = recording.page_truth(dataset, case.payer, declared).model_dump(mode="json")
        if got != {"record": truth}:
            problems.append(f"{stem}: offline parse differs from ground truth: {str(got)[:300]}")
        writes.append((stem, html, {"query": query, "record": truth}))
    by_stem = {stem: (html, expected) for stem, html, expected in writes}
    for made in recording.HAND_MADE:
        base = by_stem.get(f"{made.flow}/{made.base}")
        if base is None:
            problems.append(f"{made.stem}: no base page '{made.base}'")
            continue
        edited = made.edit(base[0])
        if edited is None:
            problems.append(f"{made.stem}: the edit does not apply")
            continue
        query_model = type(next(c for c in recording.hub_cases(dataset) if c.name == made.base).query)
        got = offline(made.flow, edited, query_model.model_validate(base[1]["query"]))
        if "error" not in got or got["error"]["outcome"] != "needs_attention":
            problems.append(f"{made.stem}: must be refused with needs_attention, got {got}")
        writes.append((made.stem, edited, {"query": base[1]["query"], **got}))
    if problems:
        raise SystemExit("nothing written:\n" + "\n".join(f"  - {p}" for p in problems))
    written = []
    for stem, html, expected in writes:
        path = out / "crossway" / f"{stem}.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(html, encoding="utf-8")
        path.with_name(path.name.replace(".html", ".expected.json")).write_text(
            json.dumps(expected, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT)
    args = parser.parse_args()
    written = asyncio.run(record(args.out))
    print(f"{len(written)} Crossway pages written under {args.out / 'crossway'}")


if __name__ == "__main__":
    main()
