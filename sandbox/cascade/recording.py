"""Record Cascade pages for tests/recorded_pages/cascade/ (HTML of the content frame, EOB PDFs), with
expected output built from ground truth, never from the adapter's parser.

    python -m sandbox.cascade.recording [tests/recorded_pages/cascade]

The portal is driven in-process (Starlette's test client, no browser): the HTML saved is exactly what
the `main` frame receives.
"""

from __future__ import annotations

import html as html_lib
import json
import re
import sys
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from aggregator.models import AuthorizationQuery, ClaimQuery, EligibilityQuery, MemberNotFound, RejectReason
from aggregator.scrapers.cascade.pages_activity import ClaimReport, EobOffer
from aggregator.scrapers.framework.listings import AuthListing, AuthListRow, ClaimListRow
from sandbox import ground_truth
from sandbox.cascade import create_app
from sandbox.cascade.views import meaning_change_for
from sandbox.dataset import Dataset, generate_dataset
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
        question = html_lib.unescape(re.search(r'id="lblQuestion">([^<]*)<', page).group(1))  # type: ignore[union-attr]
        response = self.post("/SecurityQuestion.aspx", page, txtAnswer=dict(account.security_answers)[question])
        while not str(response.url).endswith("/Home.aspx"):
            button = "btnAcknowledge" if "Announcement" in str(response.url) else "btnRemindLater"
            response = self.post(str(response.url).split("testserver", 1)[1], response.text, **{button: "1"})

    def post(self, path: str, page: str, **fields: str) -> Any:
        viewstate = re.search(r'name="__VIEWSTATE" id="__VIEWSTATE" value="([^"]*)"', page).group(1)  # type: ignore[union-attr]
        return self.client.post(path, data={"__VIEWSTATE": viewstate, **fields})

    def eligibility(self, q: EligibilityQuery) -> str:
        return self.post("/Eligibility.aspx", self.client.get("/Eligibility.aspx").text, txtMemberId=q.member_id,
                         txtDob=q.date_of_birth.strftime(US), txtLastName=q.last_name or "",
                         txtInquiryDate=q.service_date.strftime(US)).text

    def auth_list(self, q: AuthorizationQuery) -> str:
        return self.post("/Authorizations.aspx", self.client.get("/Authorizations.aspx").text,
                         txtMemberId=q.member_id, txtDob=q.date_of_birth.strftime(US)).text

    def auth_detail(self, q: AuthorizationQuery, number: str) -> str:
        return self.post("/Authorizations.aspx", self.auth_list(q), __EVENTTARGET="gvAuths",
                         __EVENTARGUMENT=f"Select${number}").text

    def report(self, q: ClaimQuery) -> str:
        fields = ({"txtClaimNo": q.claim_number} if q.claim_number else
                  {"txtMemberId": q.member_id or "", "txtDob": q.date_of_birth.strftime(US),  # type: ignore[union-attr]
                   "txtFrom": q.service_from.strftime(US), "txtThru": q.service_to.strftime(US)})  # type: ignore[union-attr]
        return self.post("/Claims.aspx", self.client.get("/Claims.aspx").text, **fields).text

    def eob(self, q: ClaimQuery, number: str) -> tuple[str, bytes]:
        page = self.post("/Claims.aspx", self.report(q), __EVENTTARGET="rptClaims", __EVENTARGUMENT=f"EOB${number}").text
        link = html_lib.unescape(re.search(r'id="lnkDownload" href="([^"]*)"', page).group(1))  # type: ignore[union-attr]
        return page, self.client.get(link).content


def _listing(found: Any, date_of_birth: Any) -> AuthListing:
    rows = sorted(found.authorizations, key=lambda a: (a.last_updated, a.auth_number), reverse=True)
    return AuthListing(member_id=found.query.member_id, date_of_birth=date_of_birth, rows=tuple(
        AuthListRow(auth_number=a.auth_number, service_type=a.service_type, status=a.status,
                    effective_date=a.effective_date, expiration_date=a.expiration_date) for a in rows))


def _report(query: ClaimQuery, claims: Any) -> ClaimReport:
    rows = sorted(claims, key=lambda c: (c.service_from, c.payer_claim_number), reverse=True)
    return ClaimReport(claim_number=query.claim_number, member_id=query.member_id, service_from=query.service_from,
                       service_to=query.service_to, rows=tuple(
                           ClaimListRow(claim_number=c.payer_claim_number, provider_account_number=c.provider_account_number,
                                        service_from=c.service_from, service_to=c.service_to, billed=c.billed, paid=c.paid,
                                        status_category=c.status_category) for c in rows))


def _not_found(query: Any, reason: RejectReason) -> MemberNotFound:
    return MemberNotFound(carrier=CARRIER, query=query, reject_reason=reason)


def _write(root: Path, flow: str, name: str, page: str | bytes, query: Any, expected: Any = None,
           error: tuple[str, str] | None = None) -> None:
    folder = root / flow
    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(page, bytes):
        (folder / f"{name}.pdf").write_bytes(page)
    else:
        (folder / f"{name}.html").write_text(page, encoding="utf-8")
    content: dict[str, Any] = {"query": query.model_dump(mode="json") if query is not None else None}
    if error:
        content["error"] = {"type": error[0], "outcome": error[1]}
    else:
        content["record"] = expected.model_dump(mode="json")
    (folder / f"{name}.expected.json").write_text(json.dumps(content, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def record_all(root: Path, dataset: Dataset | None = None) -> None:
    dataset = dataset or generate_dataset()
    portal = Portal(dataset)
    data = dataset.carrier(CARRIER)
    kinds = ("active_subscriber", "dependent", "termed", "future", "not_found", "wrong_dob", "wrong_last_name")
    for sample in ground_truth.sample_members(dataset, CARRIER, 7, kinds=kinds):
        _write(root, "eligibility", sample.kind, portal.eligibility(sample.query), sample.query, sample.expected)
    active = ground_truth.sample_members(dataset, CARRIER, 40, kinds=("active_subscriber",))
    plain = next(s for s in active if meaning_change_for(data, s.query.member_id, "v2") is None)
    tiers = next(s for s in active if meaning_change_for(data, s.query.member_id, "v2") == "tier_words")
    hmo = next(s for s in active if data.plan_for(data.member(s.query.member_id)).code == "CCH150")  # type: ignore[arg-type]
    _write(root, "eligibility", "hmo_not_covered_out_of_network", portal.eligibility(hmo.query), hmo.query, hmo.expected)
    portal.state.update_faults({"layout_version": "v2"})
    _write(root, "eligibility", "v2_cosmetic", portal.eligibility(plain.query), plain.query, plain.expected)
    _write(root, "eligibility", "v2_tier_words", portal.eligibility(tiers.query), tiers.query,
           error=("UnmappedValue", "needs_attention"))
    portal.state.update_faults({"layout_version": "v1", "maintenance": True})
    _write(root, "eligibility", "maintenance", portal.client.get("/Eligibility.aspx").text, plain.query,
           error=("UnexpectedPage", "needs_attention"))
    portal.state.update_faults({"maintenance": False})

    holders = ground_truth.members_with_authorizations(dataset, CARRIER)
    several = next(m for m in holders if len(data.authorizations_for(m.member_id)) >= 3)
    q = AuthorizationQuery(member_id=several.member_id, date_of_birth=several.date_of_birth)
    found = ground_truth.authorizations(dataset, CARRIER, q.member_id, q.date_of_birth)
    _write(root, "authorization", "list_several", portal.auth_list(q), q, _listing(found, q.date_of_birth))
    empty_member = ground_truth.members_without_authorizations(dataset, CARRIER)[0]
    qe = AuthorizationQuery(member_id=empty_member.member_id, date_of_birth=empty_member.date_of_birth)
    _write(root, "authorization", "list_empty", portal.auth_list(qe), qe,
           _listing(ground_truth.authorizations(dataset, CARRIER, qe.member_id, qe.date_of_birth), qe.date_of_birth))
    qn = AuthorizationQuery(member_id=data.not_found_ids[0], date_of_birth=several.date_of_birth)
    _write(root, "authorization", "not_found", portal.auth_list(qn), qn, _not_found(qn, RejectReason.NOT_FOUND))
    for status, auths in sorted(ground_truth.authorizations_by_status(dataset, CARRIER).items(), key=lambda kv: str(kv[0])):
        auth = auths[0]
        member = data.member(auth.member_id)
        qa = AuthorizationQuery(member_id=auth.member_id, date_of_birth=member.date_of_birth)  # type: ignore[union-attr]
        _write(root, "authorization", f"detail_{status.value.lower()}", portal.auth_detail(qa, auth.auth_number), qa,
               ground_truth.authorization(dataset, CARRIER, auth.auth_number))
    portal.state.update_faults({"layout_version": "v2"})
    auth = ground_truth.authorizations_by_status(dataset, CARRIER)[next(iter(ground_truth.authorizations_by_status(dataset, CARRIER)))][0]
    qa = AuthorizationQuery(member_id=auth.member_id, date_of_birth=data.member(auth.member_id).date_of_birth)  # type: ignore[union-attr]
    _write(root, "authorization", "v2_detail", portal.auth_detail(qa, auth.auth_number), qa,
           ground_truth.authorization(dataset, CARRIER, auth.auth_number))
    portal.state.update_faults({"layout_version": "v1"})

    heavy = ground_truth.members_with_many_claims(dataset, CARRIER)[0]
    qc = ground_truth.member_claims_query(dataset, CARRIER, heavy.member_id)
    listed = ground_truth.claims(dataset, CARRIER, qc)
    _write(root, "claim_status", "report_by_member", portal.report(qc), qc, _report(qc, listed.claims))  # type: ignore[union-attr]
    by_category = ground_truth.claims_by_category(dataset, CARRIER)
    paid = by_category[next(c for c in by_category if c.value == "F1")][0]
    qn_ = ClaimQuery(claim_number=paid.claim_number)
    _write(root, "claim_status", "report_by_number", portal.report(qn_), qn_,
           _report(qn_, ground_truth.claims(dataset, CARRIER, qn_).claims))  # type: ignore[union-attr]
    qu = ClaimQuery(claim_number="C260019999999")
    _write(root, "claim_status", "report_no_claims", portal.report(qu), qu, _report(qu, ()))
    qd = qc.model_copy(update={"date_of_birth": heavy.date_of_birth.replace(day=1 if heavy.date_of_birth.day != 1 else 2)})
    _write(root, "claim_status", "wrong_dob", portal.report(qd), qd, _not_found(qd, RejectReason.DOB_MISMATCH))
    page, _ = portal.eob(qn_, paid.claim_number)
    _write(root, "claim_status", "eob_page", page, qn_, EobOffer(claim_number=paid.claim_number))
    portal.state.update_faults({"layout_version": "v2"})
    _write(root, "claim_status", "v2_report_by_member", portal.report(qc), qc, _report(qc, listed.claims))  # type: ignore[union-attr]
    portal.state.update_faults({"layout_version": "v1"})

    for code in ("F1", "F2", "F3", "F4", "P2", "A1"):
        category = next((c for c in by_category if c.value == code), None)
        if category is None:
            continue
        claim = max(by_category[category], key=lambda c: (len(c.lines), c.claim_number))
        _, pdf = portal.eob(ClaimQuery(claim_number=claim.claim_number), claim.claim_number)
        _write(root, "eob", f"eob_{code.lower()}", pdf, None, ground_truth.claim(dataset, CARRIER, claim.claim_number))


if __name__ == "__main__":
    record_all(Path(sys.argv[1] if len(sys.argv) > 1 else "tests/recorded_pages/cascade"))
