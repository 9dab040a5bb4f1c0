"""Cascade's recorded-page cases, declared for the one recorder (sandbox.recorder.record_declared)
and the ground-truth check (sandbox.recorded_cases).

    .venv/bin/aggregator sandbox record-pages --carrier cascade

Each case is a real lookup in Chromium; the page kept is the content frame's document as the adapter
captured it (`<out>/cascade/<flow>/<case>.html`). The `eob` cases keep the EOB PDF a claim lookup
downloaded (`<out>/cascade/eob/<case>.pdf`, the document of the `claim-eob` capture), whose expected
record is the claim's ground truth. Expected files are the sandbox's ground truth, never the parser's.
"""

from __future__ import annotations

import re
from typing import Any

from aggregator.errors import Outcome
from aggregator.models import AuthorizationQuery, ClaimQuery
from sandbox import ground_truth
from sandbox.cascade.views import meaning_change_for
from sandbox.dataset import DEFAULT_AS_OF, DEFAULT_SEED, CarrierData, Dataset
from sandbox.recorded_cases import DOCUMENT_FLOW, DeclaredCase, HandMadeCase, Refusal

__all__ = ["HAND_MADE", "RECORDED_WITH", "cases", "meaning_change_for"]

CARRIER = "cascade"
RECORDED_WITH = {"seed": DEFAULT_SEED, "as_of": DEFAULT_AS_OF}
V1, V2 = {"layout_version": "v1"}, {"layout_version": "v2"}
UNKNOWN_CLAIM_NUMBER = "C260019999999"
EOB_CATEGORIES = ("F1", "F2", "F3", "F4", "P2", "A1")

TIER_WORDS = Refusal("meaning_change", live=Outcome.NEEDS_ATTENTION, offline=Outcome.NEEDS_ATTENTION,
                     type="UnmappedValue")
# Live the adapter meets the maintenance page while navigating (retry later); parse_answer classifies
# result pages only, so the page offline is an unexpected page: no answer comes out of it either way.
MAINTENANCE = Refusal("maintenance", live=Outcome.RETRY_LATER, offline=Outcome.NEEDS_ATTENTION,
                      type="UnexpectedPage")

# Pages the parser must refuse, each one edit of a recorded page (docs/recorded-pages.md, "Hand-made cases").
HAND_MADE = (
    HandMadeCase("eligibility", "edited_no_page_date", "active_subscriber", r'<span id="lblToday">[^<]*</span>', ""),
    HandMadeCase("authorization", "edited_unknown_decision", "detail_a1",
                 r"(Decision:</td><td>)APPROVED(</td>)", r"\g<1>APPROVED - SEE NOTES\g<2>"),
    # One space fewer before the account number: every later column shifts left by one character.
    HandMadeCase("claim_status", "edited_column_drift", "report_by_number", r"(</a>) {3}(\S)", r"\1  \2"),
    HandMadeCase("claim_status", "edited_unknown_status_word", "report_by_number", r" PAID$", " PAID IN FULL",
                 re.MULTILINE),
)


def cases(dataset: Dataset) -> list[DeclaredCase]:
    return [*_eligibility(dataset), *_authorizations(dataset), *_claims(dataset)]


def _plan_code(data: CarrierData, member_id: str) -> str:
    member = data.member(member_id)
    assert member is not None
    return data.plan_for(member).code


def _eligibility(dataset: Dataset) -> list[DeclaredCase]:
    data = dataset.carrier(CARRIER)
    kinds: tuple[ground_truth.SampleKind, ...] = (
        "active_subscriber", "dependent", "termed", "future", "not_found", "wrong_dob", "wrong_last_name")
    found = [DeclaredCase("eligibility", s.kind, s.query, "answer", "eligibility-result", faults=V1)
             for s in ground_truth.sample_members(dataset, CARRIER, 7, kinds=kinds)]
    active = ground_truth.sample_members(dataset, CARRIER, 40, kinds=("active_subscriber",))
    plain = next(s for s in active if meaning_change_for(data, s.query.required_member_id, "v2") is None)
    tiers = next(s for s in active if meaning_change_for(data, s.query.required_member_id, "v2") == "tier_words")
    hmo = next(s for s in active if _plan_code(data, s.query.required_member_id) == "CCH150")
    return [
        *found,
        DeclaredCase("eligibility", "hmo_not_covered_out_of_network", hmo.query, "answer", "eligibility-result",
                     faults=V1),
        DeclaredCase("eligibility", "v2_cosmetic", plain.query, "answer", "eligibility-result", faults=V2),
        DeclaredCase("eligibility", "v2_tier_words", tiers.query, "answer", "eligibility-result", faults=V2,
                     refusal=TIER_WORDS),
        DeclaredCase("eligibility", "maintenance", plain.query, "answer", "maintenance",
                     faults={**V1, "maintenance": True}, refusal=MAINTENANCE),
    ]


def _authorizations(dataset: Dataset) -> list[DeclaredCase]:
    data = dataset.carrier(CARRIER)

    def query(member_id: str) -> AuthorizationQuery:
        member = data.member(member_id)
        assert member is not None
        return AuthorizationQuery(member_id=member.member_id, date_of_birth=member.date_of_birth)

    holders = ground_truth.members_with_authorizations(dataset, CARRIER)
    several = next(m for m in holders if len(data.authorizations_for(m.member_id)) >= 3)
    empty = ground_truth.members_without_authorizations(dataset, CARRIER)[0]
    by_status = ground_truth.authorizations_by_status(dataset, CARRIER)
    declared = [
        DeclaredCase("authorization", "list_several", query(several.member_id), "auth-list",
                     "authorization-search-result", faults=V1),
        DeclaredCase("authorization", "list_empty", query(empty.member_id), "auth-list",
                     "authorization-search-result", faults=V1),
        DeclaredCase("authorization", "not_found", AuthorizationQuery(member_id=data.not_found_ids[0],
                                                                      date_of_birth=several.date_of_birth),
                     "auth-list", "authorization-search-result", faults=V1),
    ]
    for status, auths in sorted(by_status.items(), key=lambda kv: str(kv[0])):
        auth = auths[0]
        declared.append(DeclaredCase("authorization", f"detail_{status.value.lower()}", query(auth.member_id),
                                     f"auth:{auth.auth_number}", "authorization-detail", marker=auth.auth_number,
                                     faults=V1))
    first = by_status[next(iter(by_status))][0]
    declared.append(DeclaredCase("authorization", "v2_detail", query(first.member_id), f"auth:{first.auth_number}",
                                 "authorization-detail", marker=first.auth_number, faults=V2))
    return declared


def _claims(dataset: Dataset) -> list[DeclaredCase]:
    heavy = ground_truth.members_with_many_claims(dataset, CARRIER)[0]
    by_member = ground_truth.member_claims_query(dataset, CARRIER, heavy.member_id)
    by_category = {c.value: claims for c, claims in ground_truth.claims_by_category(dataset, CARRIER).items()}
    paid = by_category["F1"][0]
    by_number = ClaimQuery(claim_number=paid.claim_number)
    other_day = 1 if heavy.date_of_birth.day != 1 else 2
    wrong_dob = by_member.model_copy(update={"date_of_birth": heavy.date_of_birth.replace(day=other_day)})

    def report(name: str, query: ClaimQuery, faults: dict[str, Any] = V1, page: str = "claim-report") -> DeclaredCase:
        return DeclaredCase("claim_status", name, query, page, "claims-report", faults=faults)

    declared = [
        report("report_by_member", by_member),
        report("report_by_number", by_number),
        report("report_no_claims", ClaimQuery(claim_number=UNKNOWN_CLAIM_NUMBER)),
        report("wrong_dob", wrong_dob, page="answer"),
        DeclaredCase("claim_status", "eob_page", by_number, f"eob-offer:{paid.claim_number}", "claim-eob",
                     marker=paid.claim_number, faults=V1),
        report("v2_report_by_member", by_member, faults=V2),
    ]
    for code in EOB_CATEGORIES:
        if code not in by_category:
            continue
        claim = max(by_category[code], key=lambda c: (len(c.lines), c.claim_number))
        declared.append(DeclaredCase(DOCUMENT_FLOW, f"eob_{code.lower()}", ClaimQuery(claim_number=claim.claim_number),
                                     f"claim:{claim.claim_number}", "claim-eob", marker=claim.claim_number, faults=V1))
    return declared
