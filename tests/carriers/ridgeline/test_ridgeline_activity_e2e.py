"""Authorizations and claim status end to end: real sandbox portal, real Chromium, answers vs ground truth.

Every lookup goes through the runner and the Ridgeline adapter; every answer is compared field by field
(provenance aside) with `sandbox.ground_truth`, and every page the adapter had to read (the list or
every results page, then every detail page) must be evidence named in the answer's provenance.
"""

from __future__ import annotations

import json
import math
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from aggregator.browser import Capture
from aggregator.errors import Outcome, ParseError
from aggregator.evidence import SnapshotFiles, verify_chain
from aggregator.models import (
    AuthorizationList,
    AuthorizationQuery,
    ClaimList,
    ClaimQuery,
    MemberNotFound,
    RejectReason,
)
from aggregator.models.codes import ClaimStatusCategory
from aggregator.scrapers.framework import Credentials
from aggregator.scrapers.ridgeline import RidgelineAdapter
from sandbox import ground_truth
from sandbox.ridgeline.vocabulary import CLAIMS_PER_PAGE

CARRIER = "ridgeline"
UNKNOWN_CLAIM = "26001999999"  # well-formed, and nobody's


def _expected(truth, carrier: str, query):  # type: ignore[no-untyped-def]
    if isinstance(truth, RejectReason):
        return MemberNotFound(carrier=carrier, query=query, reject_reason=truth)
    return truth


def _check_evidence(result, labels: list[str]) -> None:  # type: ignore[no-untyped-def]
    """The lookup captured exactly these pages, in this order, and its answer names every one."""
    assert [e.label for e in result.evidence] == labels
    assert result.answer.provenance is not None
    assert sorted(result.answer.provenance.evidence_ids) == sorted(e.id for e in result.evidence)
    # Each item names its own two pages: the list or results page that showed it, and its detail page.
    by_id = {e.id: e for e in result.evidence}
    for item in getattr(result.answer, "authorizations", ()) + getattr(result.answer, "claims", ()):
        assert item.provenance is not None and len(item.provenance.evidence_ids) == 2
        listing, detail = (by_id[i] for i in item.provenance.evidence_ids)
        assert detail.label.endswith("-detail") and not listing.label.endswith("-detail")
        number = getattr(item, "auth_number", None) or item.payer_claim_number
        assert number in detail.url


async def test_authorization_lists_of_30_members_equal_ground_truth(make_runner, sandbox, portal, settings):
    data = sandbox.dataset.carrier(CARRIER)
    holders = ground_truth.members_with_authorizations(portal, CARRIER)  # the first ones hold every status
    without = ground_truth.members_without_authorizations(portal, CARRIER)
    members = holders[:14] + without[:14]
    queries = [AuthorizationQuery(member_id=m.member_id, date_of_birth=m.date_of_birth) for m in members]
    queries.append(AuthorizationQuery(member_id=data.not_found_ids[0], date_of_birth=members[0].date_of_birth))
    queries.append(AuthorizationQuery(member_id=holders[30].member_id,
                                      date_of_birth=holders[30].date_of_birth + timedelta(days=1)))
    assert len({q.member_id for q in queries}) == 30
    async with make_runner() as runner:
        results = [await runner.authorizations(CARRIER, q) for q in queries]

    statuses = set()
    for query, result in zip(queries, results, strict=True):
        truth = ground_truth.authorizations(portal, CARRIER, query.member_id, query.date_of_birth)
        expected = _expected(truth, CARRIER, query)
        assert result.answer is not None, (result.outcome, result.reason)
        assert result.answer.without_provenance() == expected  # field by field
        assert runner.repository.records_for_lookup(result.lookup_id) == [result.answer]
        if isinstance(expected, AuthorizationList):
            assert result.outcome is Outcome.FOUND
            statuses |= {a.status for a in expected.authorizations}
            _check_evidence(result, ["authorization-search-result"]
                            + ["authorization-detail"] * len(expected.authorizations))
        else:
            assert result.outcome is Outcome.NOT_FOUND and result.reason_code == truth.value
            _check_evidence(result, ["authorization-search-result"])
    assert len(statuses) == 7, "every authorization status was read at least once"
    assert [r.answer.reject_reason for r in results[-2:]] == [RejectReason.NOT_FOUND, RejectReason.DOB_MISMATCH]
    files = SnapshotFiles(settings.resolved_snapshots_dir)
    assert verify_chain(runner.repository, files) == (sum(len(r.evidence) for r in results), [])
    assert sum(s["login_attempts"] for s in portal.stats()["accounts"].values()) == 1


async def test_claims_by_member_every_page_by_number_and_unknown_number_equal_ground_truth(make_runner, sandbox,
                                                                                          portal):
    data = sandbox.dataset.carrier(CARRIER)
    heavy = ground_truth.members_with_many_claims(portal, CARRIER)
    assert len(heavy) == 3 and all(len(data.claims_for(m.member_id)) >= 25 for m in heavy)
    one_claim = [m for m in data.members.values() if len(data.claims_for(m.member_id)) == 1]
    no_claims = [m for m in data.members.values() if not data.claims_for(m.member_id)]
    # Member searches over a range covering every generated claim: all pages of the heavy members.
    few = [m for m in data.members.values() if 2 <= len(data.claims_for(m.member_id)) <= 3]
    by_member = heavy + one_claim[:10] + few[:14] + no_claims[:2]
    assert len({m.member_id for m in by_member}) == 29  # + the not-found and wrong-DOB members below: 31
    queries = [ground_truth.member_claims_query(portal, CARRIER, m.member_id) for m in by_member]
    # A narrow range: only the claims whose service dates overlap it.
    middle = sorted(data.claims_for(heavy[0].member_id), key=lambda c: c.service_from)[12]
    queries.append(ground_truth.member_claims_query(portal, CARRIER, heavy[0].member_id,
                                                    middle.service_from - timedelta(days=20),
                                                    middle.service_from + timedelta(days=20)))
    first = queries[0]
    queries.append(ClaimQuery(member_id=data.not_found_ids[1], date_of_birth=first.date_of_birth,
                              service_from=first.service_from, service_to=first.service_to))
    queries.append(first.model_copy(update={"member_id": one_claim[12].member_id,
                                            "date_of_birth": one_claim[12].date_of_birth - timedelta(days=31)}))
    # By claim number: decided and open claims of several kinds, and a number nobody has.
    by_category = ground_truth.claims_by_category(portal, CARRIER)
    numbers = [by_category[ClaimStatusCategory(code)][0].claim_number for code in ("F1", "F2", "F4", "P0", "A1")]
    assert UNKNOWN_CLAIM not in data.claims
    queries += [ClaimQuery(claim_number=n) for n in (*numbers, UNKNOWN_CLAIM)]
    async with make_runner() as runner:
        results = [await runner.claims(CARRIER, q) for q in queries]

    most_pages = 0
    for query, result in zip(queries, results, strict=True):
        expected = _expected(ground_truth.claims(portal, CARRIER, query), CARRIER, query)
        assert result.answer is not None, (result.outcome, result.reason)
        assert result.answer.without_provenance() == expected  # field by field
        assert runner.repository.records_for_lookup(result.lookup_id) == [result.answer]
        if isinstance(expected, ClaimList):
            assert result.outcome is Outcome.FOUND
            pages = max(1, math.ceil(len(expected.claims) / CLAIMS_PER_PAGE))
            most_pages = max(most_pages, pages)
            _check_evidence(result, [f"claim-results-page-{n}" for n in range(1, pages + 1)]
                            + ["claim-detail"] * len(expected.claims))
        else:
            assert result.outcome is Outcome.NOT_FOUND
            _check_evidence(result, ["claim-results-page-1"])
    assert most_pages == 4, "the 36-claim member's four result pages were all read"
    assert [len(r.answer.claims) for r in results[:3]] == [len(data.claims_for(m.member_id)) for m in heavy]
    narrow = results[len(by_member)].answer
    assert 0 < len(narrow.claims) < len(data.claims_for(heavy[0].member_id))
    assert [results[i].answer.reject_reason for i in (-8, -7)] == [RejectReason.NOT_FOUND, RejectReason.DOB_MISMATCH]
    assert [c.payer_claim_number for r in results[-6:-1] for c in r.answer.claims] == numbers
    assert results[-1].answer.claims == ()  # an unknown number: an empty list, a result


# --- the adapter's guards, on recorded pages served by a stand-in session (no browser needed) --------

RECORDED = Path(__file__).parents[2] / "recorded_pages" / CARRIER / "claim_status"


def _recorded(name: str) -> tuple[str, ClaimQuery]:
    expected = json.loads((RECORDED / f"{name}.expected.json").read_text(encoding="utf-8"))
    return (RECORDED / f"{name}.html").read_text(encoding="utf-8"), ClaimQuery.model_validate(expected["query"])


class PageServer:
    """Serves fixed HTML per path the way `PortalSession` would, and records every capture."""

    account_label = "frontdesk"

    def __init__(self, pages: dict[str, str], after_search: str) -> None:
        self.pages, self.after_search = pages, after_search
        self.url = "http://portal.test/"
        self.captures: list[Capture] = []
        self.reads = 0  # of a page's HTML
        self.given: list[str | None] = []  # the HTML each capture was handed (None: it would read it)

    async def goto(self, path: str) -> None:
        self.url = "http://portal.test" + path
        self.current = self.pages[path.split("?")[0]]

    async def fill_form(self, fields: dict[str, object]) -> None:
        return None

    async def click_and_wait(self, selector: str) -> None:
        await self.goto(self.after_search)

    async def html(self) -> str:
        self.reads += 1
        return self.current

    async def capture(self, label: str, *, document: bytes | None = None, document_media_type: str | None = None,
                      html: str | None = None) -> Capture:  # PortalSession.capture's signature
        self.given.append(html)
        self.captures.append(Capture(evidence_id=f"e{len(self.captures) + 1}", html=html or self.current, url=self.url))
        return self.captures[-1]


def _adapter(server: PageServer) -> RidgelineAdapter:
    return RidgelineAdapter(server, Credentials(username=SecretStr("u"), password=SecretStr("p")))  # type: ignore[arg-type]


async def test_a_results_page_that_repeats_is_refused_with_its_evidence():
    page_one, query = _recorded("results_first_page")
    search, _ = _recorded("not_found")  # the search form (carrying an old message: harmless before a search)
    # "Next >" leads back to page 1: a portal loop must end in an error, not in duplicates or a hang.
    server = PageServer({"/claims": search, "/claims/results": page_one}, after_search="/claims/results")
    with pytest.raises(ParseError, match="do not follow one another") as raised:
        await _adapter(server).check_claims(query)
    assert raised.value.evidence_ids == ["e1", "e2"] and len(server.captures) == 2


async def test_a_page_is_read_once_to_classify_and_capture_it():
    # The HTML captured is the very HTML the page was classified by: one read from the browser per page.
    page_one, query = _recorded("results_first_page")
    search, _ = _recorded("not_found")
    server = PageServer({"/claims": search, "/claims/results": page_one}, after_search="/claims/results")
    with pytest.raises(ParseError, match="do not follow one another"):
        await _adapter(server).check_claims(query)
    # The search form, then the results page twice (the portal's "Next >" led back to page 1): three pages.
    assert server.reads == 3 and server.given == [page_one, page_one]


async def test_more_result_pages_than_any_real_answer_is_refused_before_reading_them():
    page_one, query = _recorded("results_first_page")
    search, _ = _recorded("not_found")
    runaway = page_one.replace("Page 1 of 4", "Page 1 of 51")
    server = PageServer({"/claims": search, "/claims/results": runaway}, after_search="/claims/results")
    with pytest.raises(ParseError, match="51 result pages") as raised:
        await _adapter(server).check_claims(query)
    assert raised.value.evidence_ids == ["e1"]


async def test_a_detail_page_that_disagrees_with_its_row_is_refused():
    results, query = _recorded("claim_number_search")
    search, _ = _recorded("not_found")
    other_claim, _ = _recorded("detail_denied")
    number = query.claim_number
    server = PageServer({"/claims": search, "/claims/results": results, f"/claims/{number}": other_claim},
                        after_search="/claims/results")
    # The detail page shows another claim number than the one searched: refused as it is read.
    with pytest.raises(ParseError, match="disagrees with its row|not the claim number searched") as raised:
        await _adapter(server).check_claims(query)
    assert raised.value.evidence_ids == ["e2"]
