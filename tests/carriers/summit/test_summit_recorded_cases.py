"""Summit Health Plan's declared recorded-page cases (sandbox/summit/recording.py) cover what the adapter reads: a
benefits page and a "not found" search, the refusals a correct adapter gives (a v2 change of meaning, the
maintenance page) and a hand-made page it must refuse. The ground-truth comparison itself is the
cross-carrier tests/test_recorded_ground_truth.py."""

from __future__ import annotations

from sandbox.recorded_cases import declared_cases, hand_made_cases
from tests.test_recorded_ground_truth import declared_kinds

CARRIER = "summit"


def test_the_cases_cover_every_kind_of_page_the_adapter_reads() -> None:
    assert declared_kinds(CARRIER) == {"eligibility": {"eligibility", "not_found"}}
    refusals = {case.refusal.why for case in declared_cases(CARRIER) if case.refusal is not None}
    assert refusals == {"meaning_change", "maintenance"}
    assert hand_made_cases(CARRIER)
