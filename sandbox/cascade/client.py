"""An in-process, logged-in client of the Cascade sandbox (Starlette's test client, no browser), for
the sandbox's own tests. Recorded pages are never made with it: they come from Chromium
(sandbox.recorder.record_declared)."""

from __future__ import annotations

import html as html_lib
import re
from typing import Any

from fastapi.testclient import TestClient

from aggregator.models import AuthorizationQuery, ClaimQuery, EligibilityQuery
from sandbox.cascade import create_app
from sandbox.dataset import Dataset
from sandbox.portal_state import PortalState

CARRIER = "cascade"
US = "%m/%d/%Y"


class Portal:
    """A logged-in in-process client of the Cascade sandbox."""

    def __init__(self, dataset: Dataset) -> None:
        self.state = PortalState(dataset, CARRIER)
        self.client = TestClient(create_app(dataset, self.state))
        account = dataset.carrier(CARRIER).accounts[1]
        page = self.client.get("/Main.aspx").text
        page = self.post("/Login.aspx", page, txtUserName=account.username, txtPassword=account.password).text
        question = html_lib.unescape(_first_group(r'id="lblQuestion">([^<]*)<', page))
        response = self.post("/SecurityQuestion.aspx", page, txtAnswer=dict(account.security_answers)[question])
        while not str(response.url).endswith("/Home.aspx"):
            button = "btnAcknowledge" if "Announcement" in str(response.url) else "btnRemindLater"
            response = self.post(str(response.url).split("testserver", 1)[1], response.text, **{button: "1"})

    def post(self, path: str, page: str, **fields: str) -> Any:
        viewstate = _first_group(r'name="__VIEWSTATE" id="__VIEWSTATE" value="([^"]*)"', page)
        return self.client.post(path, data={"__VIEWSTATE": viewstate, **fields})

    def eligibility(self, q: EligibilityQuery) -> str:
        return self.post("/Eligibility.aspx", self.client.get("/Eligibility.aspx").text, txtMemberId=q.required_member_id,
                         txtDob=q.date_of_birth.strftime(US), txtLastName=q.last_name or "",
                         txtInquiryDate=q.service_date.strftime(US)).text

    def auth_list(self, q: AuthorizationQuery) -> str:
        return self.post("/Authorizations.aspx", self.client.get("/Authorizations.aspx").text,
                         txtMemberId=q.member_id, txtDob=q.date_of_birth.strftime(US)).text

    def auth_detail(self, q: AuthorizationQuery, number: str) -> str:
        return self.post("/Authorizations.aspx", self.auth_list(q), __EVENTTARGET="gvAuths",
                         __EVENTARGUMENT=f"Select${number}").text

    def report(self, q: ClaimQuery) -> str:
        if q.claim_number:
            fields = {"txtClaimNo": q.claim_number}
        else:
            assert q.date_of_birth and q.service_from and q.service_to  # ClaimQuery: a member search has all three
            fields = {"txtMemberId": q.member_id or "", "txtDob": q.date_of_birth.strftime(US),
                      "txtFrom": q.service_from.strftime(US), "txtThru": q.service_to.strftime(US)}
        return self.post("/Claims.aspx", self.client.get("/Claims.aspx").text, **fields).text

    def eob(self, q: ClaimQuery, number: str) -> tuple[str, bytes]:
        page = self.post("/Claims.aspx", self.report(q), __EVENTTARGET="rptClaims", __EVENTARGUMENT=f"EOB${number}").text
        link = html_lib.unescape(_first_group(r'id="lnkDownload" href="([^"]*)"', page))
        return page, self.client.get(link).content


def _first_group(pattern: str, page: str) -> str:
    found = re.search(pattern, page)
    if found is None:
        raise AssertionError(f"the page lacks {pattern!r}")
    return found.group(1)
