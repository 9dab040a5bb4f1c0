"""A browser-like client for the Crossway tests: one httpx client over both apps (two origins, ASGI, no
sockets), cookies kept per origin, redirects followed across them; pages read with lxml."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import parse_qs, urlsplit

import httpx
import pyotp
from lxml import html as lxml_html

from sandbox.crossway.directory import HubAccount, Organization
from sandbox.crossway.world import Crossway
from tests.sandbox.portal_client import Clock

HUB = "http://hub.test"
IDP = "http://id.test"
_CSRF = re.compile(r'name="_csrf" value="([^"]+)"')


def csrf(page: httpx.Response) -> str:
    match = _CSRF.search(page.text)
    assert match, f"no CSRF token on {page.url}"
    return match.group(1)


def doc(page: httpx.Response) -> lxml_html.HtmlElement:
    return lxml_html.fromstring(page.text)


def text(page: httpx.Response, selector: str) -> str:
    found = doc(page).cssselect(selector)
    assert found, f"no {selector} on {page.url}"
    return " ".join(found[0].text_content().split())


def rows(element: lxml_html.HtmlElement) -> list[tuple[str, ...]]:
    """A table's body rows as tuples of whitespace-collapsed cell texts."""
    return [tuple(" ".join(td.text_content().split()) for td in tr.cssselect("td")) for tr in element.cssselect("tbody tr")]


def headers(element: lxml_html.HtmlElement) -> tuple[str, ...]:
    return tuple(" ".join(th.text_content().split()) for th in element.cssselect("thead th"))


def definitions(page: httpx.Response, selector: str) -> dict[str, str]:
    dl = doc(page).cssselect(selector)[0]
    return {" ".join(dt.text_content().split()): " ".join(dd.text_content().split())
            for dt, dd in zip(dl.cssselect("dt"), dl.cssselect("dd"), strict=True)}


def query_of(url: str | httpx.URL) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(str(url)).query).items()}


def mdy(day: date) -> str:
    return day.strftime("%m/%d/%Y")


class Browser:
    def __init__(self, world: Crossway, clock: Clock) -> None:
        self.world, self.clock = world, clock
        world.connect(HUB, IDP)
        self.http = httpx.AsyncClient(mounts={HUB: httpx.ASGITransport(app=world.hub_app),
                                              IDP: httpx.ASGITransport(app=world.idp_app)}, follow_redirects=True)

    def code(self, account: HubAccount, steps: int = 0) -> str:
        return pyotp.TOTP(account.totp_secret).at(int(self.clock.now) + 30 * steps)

    async def to_idp_login(self) -> httpx.Response:
        page = await self.http.get(f"{HUB}/signin")
        assert page.url.path == "/login" and str(page.url).startswith(IDP), page.url
        return page

    async def password(self, page: httpx.Response, username: str, password: str) -> httpx.Response:
        return await self.http.post(f"{IDP}/login", data={"username": username, "password": password,
                                                          "_csrf": csrf(page)})

    async def mfa(self, page: httpx.Response, code: str) -> httpx.Response:
        return await self.http.post(f"{IDP}/mfa", data={"code": code, "_csrf": csrf(page)})

    async def consent(self, page: httpx.Response, decision: str = "allow") -> httpx.Response:
        return await self.http.post(f"{IDP}/consent", data={"decision": decision, "_csrf": csrf(page)})

    async def sign_in(self, account: HubAccount, *, password: str | None = None, steps: int = 0) -> httpx.Response:
        """Hub -> Crossway ID (password, TOTP, consent when asked) -> back at the hub; the last page."""
        page = await self.password(await self.to_idp_login(), account.username, password or account.password)
        assert page.url.path == "/mfa", page.text
        page = await self.mfa(page, self.code(account, steps))
        if page.url.path == "/consent":
            page = await self.consent(page)
        return page

    async def choose(self, organization: Organization, npi: str | None = None) -> httpx.Response:
        page = await self.http.get(f"{HUB}/organizations")
        page = await self.http.post(f"{HUB}/organizations", data={"taxId": organization.tax_id, "_csrf": csrf(page)})
        assert page.url.path == "/providers", page.text
        return await self.http.post(f"{HUB}/providers", data={"npi": npi or organization.providers[0].npi,
                                                              "_csrf": csrf(page)})

    async def search(self, payer: str, transaction: str = "eligibility", *, pace: bool = True,
                     **fields: str) -> httpx.Response:
        """One search; `pace` moves the clock past the minimum interval first (no sleeping)."""
        if pace:
            self.clock.advance(self.world.settings.current.min_search_interval_seconds)
        page = await self.http.get(f"{HUB}/payers/{payer}/search", params={"transaction": transaction})
        return await self.http.post(f"{HUB}/payers/{payer}/search",
                                    data={"transaction": transaction, "_csrf": csrf(page), **fields})
