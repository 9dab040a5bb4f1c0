"""Ridgeline's recorded-page cases, declared for the recorder (sandbox.recorder) and the ground-truth
check (sandbox.recorded_cases). Which members the cases use is chosen in sandbox.recorder
(`plan_cases`, `plan_activity_cases`); this module only says, per case, which page is kept and what a
correct adapter must do with it.
"""

from __future__ import annotations

import re
from typing import Any

from aggregator.errors import Outcome
from sandbox.dataset import DEFAULT_AS_OF, DEFAULT_SEED
from sandbox.recorded_cases import DeclaredCase, HandMadeCase, Refusal
from sandbox.ridgeline.benefits_view import meaning_change_for

__all__ = ["HAND_MADE", "RECORDED_WITH", "cases", "meaning_change_for"]

CARRIER = "ridgeline"
RECORDED_WITH = {"seed": DEFAULT_SEED, "as_of": DEFAULT_AS_OF}

_REFUSALS = {
    "refusal": Refusal("meaning_change", live=Outcome.NEEDS_ATTENTION, offline=Outcome.NEEDS_ATTENTION),
    # parse_answer classifies result pages only: the maintenance page offline is an unexpected page.
    "maintenance": Refusal("maintenance", live=Outcome.RETRY_LATER, offline=Outcome.NEEDS_ATTENTION),
}

# Pages the parser must refuse, each one edit of a recorded page (docs/recorded-pages.md, "Hand-made cases").
HAND_MADE = (
    HandMadeCase("authorization", "edited_unknown_status_word", "detail_approved",
                 r"<b>Approved</b>", "<b>Approved - Provisional</b>"),
    HandMadeCase("claim_status", "edited_total_billed_disagrees_with_lines", "detail_paid_multi_line",
                 r"(Total Billed:.*?&nbsp;)\$[\d,.]+", r"\g<1>$9,999.00", re.DOTALL),
    HandMadeCase("claim_status", "edited_unknown_adjustment_group", "detail_paid_multi_line", r"CO-45 ", "XY-45 "),
    HandMadeCase("claim_status", "edited_pager_without_prev_link", "results_last_page",
                 r'<a href="[^"]*">&lt; Prev</a>', "&nbsp;"),
)


def cases(dataset: Any) -> list[DeclaredCase]:
    from sandbox.recorder import (
        ACTIVITY_FLOWS,
        EVIDENCE_LABELS,
        activity_truth,
        plan_activity_cases,
        plan_cases,
    )

    declared = [
        DeclaredCase("eligibility", c.name, c.query, "answer", EVIDENCE_LABELS[c.expect],
                     faults={"layout_version": c.layout, "maintenance": c.maintenance},
                     refusal=_REFUSALS.get(c.expect))
        for c in plan_cases(dataset, CARRIER)
    ]
    for flow in ACTIVITY_FLOWS:
        for case in plan_activity_cases(dataset, CARRIER, flow):
            truth = activity_truth(dataset, CARRIER, case)
            declared.append(DeclaredCase(flow, case.name, case.query, _page(flow, case.page), truth.label,
                                         marker=truth.url_suffix, faults={"layout_version": case.layout}))
    return declared


def _page(flow: str, page: str) -> str:
    """sandbox.recorder's page names -> sandbox.ground_truth.recorded_page's."""
    if page == "search":
        return "auth-list" if flow == "authorization" else "answer"
    if page.startswith("results:"):
        return "claim-results:" + page.removeprefix("results:")
    return ("auth:" if flow == "authorization" else "claim:") + page.removeprefix("detail:")
