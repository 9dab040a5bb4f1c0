"""A tiny form-filling client for the sandbox portal tests (httpx over ASGI, no browser, no sockets)."""

from __future__ import annotations

import re
from datetime import date

import httpx
import pyotp

from sandbox.accounts import ProviderAccount
from sandbox.portal_state import PortalState
from sandbox.ridgeline import create_app

_CSRF = re.compile(r'name="csrfToken" value="([^"]+)"')


class Clock:
    """Starts 5 s into a TOTP step so a test has 25 s of the same code unless it advances."""

    def __init__(self) -> None:
        self.now = 1_800_000_005.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class PortalClient:
    def __init__(self, state: PortalState, clock: Clock) -> None:
        self.state, self.clock = state, clock
        app = create_app(state.dataset, state)
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ridgeline.test",
                                      follow_redirects=True)

    @staticmethod
    def csrf(response: httpx.Response) -> str:
        match = _CSRF.search(response.text)
        assert match, f"no CSRF token on {response.url}"
        return match.group(1)

    def code(self, account: ProviderAccount, offset_steps: int = 0) -> str:
        assert account.totp_secret
        return pyotp.TOTP(account.totp_secret).at(int(self.clock.now) + 30 * offset_steps)

    async def password(self, username: str, password: str) -> httpx.Response:
        page = await self.http.get("/login")
        return await self.http.post("/login", data={"username": username, "password": password,
                                                    "csrfToken": self.csrf(page)})

    async def mfa(self, page: httpx.Response, code: str) -> httpx.Response:
        return await self.http.post("/mfa", data={"otp": code, "csrfToken": self.csrf(page)})

    async def login(self, account: ProviderAccount) -> httpx.Response:
        page = await self.password(account.username, account.password)
        assert page.url.path == "/mfa", page.text
        return await self.mfa(page, self.code(account))

    async def search(self, member_id: str, dob: date | str, last_name: str = "", dos: date | str = "") -> httpx.Response:
        page = await self.http.get("/eligibility")
        def fmt(d): return d.strftime("%m/%d/%Y") if isinstance(d, date) else d  # noqa: E704
        return await self.http.post("/eligibility", data={
            "memberId": member_id, "dob": fmt(dob), "lastName": last_name, "dos": fmt(dos),
            "csrfToken": self.csrf(page)})
