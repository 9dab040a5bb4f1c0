"""BluePeak's recorded cases compare its own page models with ground truth, not only eligibility
(the cross-carrier checks are in tests/test_recorded_ground_truth.py)."""

from __future__ import annotations

from tests.test_recorded_ground_truth import declared_kinds


def test_page_models_and_documents_are_checked_too() -> None:
    kinds = set().union(*declared_kinds("bluepeak").values())
    assert {"eligibility", "not_found"} <= kinds
    assert {"authorization_list", "claim_list"} <= kinds, sorted(kinds)
