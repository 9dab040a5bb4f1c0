"""The committed recorded pages are what the one recorder writes (`aggregator sandbox record-pages`), and
that is ground truth. Every carrier with a declaration (sandbox/<slug>/recording.py) is covered.

Offline: no browser, no portal. The live half (driving Chromium against the sandbox) is exercised by running
the command itself and by tests/recording/; here we pin what it wrote and the checks it applies before writing.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from aggregator import errors
from aggregator.errors import Outcome
from aggregator.models import EligibilityRecord, MemberNotFound
from aggregator.recording.cases import PAGE_FLOWS, QUERY_MODELS
from sandbox.accounts import portal_accounts
from sandbox.recorded_cases import CARRIERS, answer_truth, declared_cases, recording_dataset
from sandbox.recorder import check_declared_case

ROOT = Path(__file__).parent / "recorded_pages"
# Page cases (HTML + expected); documents (<carrier>/eob/*.pdf) are checked by the ground-truth tests.
EXPECTED = sorted(p for p in ROOT.glob("*/*/*.expected.json") if p.parent.name in PAGE_FLOWS)
DECLARED = [(carrier, case) for carrier in CARRIERS for case in declared_cases(carrier)]


def _own_recorder(carrier: str) -> bool:
    """A hub's pages (one portal, several payers) are written by the hub's own recorder, not sandbox.recorder,
    which drives one payer's portal with the runner: the checks of sandbox.recorder do not apply to them (their
    expected files are held to ground truth by tests/test_recorded_ground_truth.py all the same)."""
    from aggregator.scrapers.registry import adapter_for

    return adapter_for(carrier).manifest.is_hub


def _declared_param(carrier: str, case: Any) -> Any:
    marks = [pytest.mark.skip(reason=f"{carrier} serves several payers: its pages are written by its own recorder, "
                                     "not sandbox.recorder")] if _own_recorder(carrier) else []
    return pytest.param(carrier, case, id=f"{carrier}/{case.stem}", marks=marks)


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", EXPECTED, ids=[str(p.relative_to(ROOT)) for p in EXPECTED])
def test_expected_file_shape(path: Path) -> None:
    expected = load(path)
    assert path.with_name(path.name.removesuffix(".expected.json") + ".html").exists()
    assert set(expected) in ({"query", "record"}, {"query", "error"}), sorted(expected)
    QUERY_MODELS[path.parent.name].model_validate(expected["query"])
    if "error" in expected:
        error = expected["error"]
        assert {"type", "outcome"} <= set(error) <= {"type", "outcome", "reason"}  # the reason's wording is free
        kind = getattr(errors, error["type"])
        assert issubclass(kind, errors.AggregatorError)
        # A page no record may come out of is "needs attention", whatever the adapter calls it; only a
        # page that says the portal is unavailable (maintenance, rate limit) may say "retry later".
        if issubclass(kind, (errors.PortalUnavailable, errors.RateLimited)):
            assert error["outcome"] == Outcome.RETRY_LATER.value
        else:
            assert error["outcome"] == Outcome.NEEDS_ATTENTION.value


def test_no_account_secret_in_recorded_pages() -> None:
    # A carrier's accounts or a hub's (sandbox.accounts.portal_accounts knows both).
    accounts = [a for carrier in CARRIERS for a in portal_accounts(recording_dataset(carrier), carrier)]
    secrets = [s for a in accounts for s in (a.password, a.totp_secret, *(v for _, v in a.security_answers)) if s]
    for path in sorted(ROOT.rglob("*")):
        if path.is_file():
            data = path.read_bytes()  # PDFs too
            assert not [s for s in secrets if s.encode() in data], f"{path.name} holds a sandbox account secret"
            text = data.decode("utf-8", errors="replace")
            if path.name.endswith(".expected.json"):
                # Pages show "Logged in as <username>" (kept as captured); expected files never name one.
                assert not [a.username for a in accounts if a.username in text], path.name


# --- the recorder's check, offline, on every declared case of every carrier ------------------------------

def _live_agreeing(carrier: str, case: Any) -> SimpleNamespace:
    """What a live lookup that agrees with the ground truth returns."""
    if case.refusal is not None:
        return SimpleNamespace(outcome=case.refusal.live, answer=None, reason="x", reason_code="x")
    answer = answer_truth(recording_dataset(carrier), carrier, case)
    outcome = Outcome.NOT_FOUND if isinstance(answer, MemberNotFound) else Outcome.FOUND
    return SimpleNamespace(outcome=outcome, answer=answer, reason=None, reason_code=None)


def _kept(carrier: str, case: Any) -> bytes:
    return (ROOT / carrier / case.flow / f"{case.name}{case.suffix}").read_bytes()


@pytest.mark.parametrize(("carrier", "case"), [_declared_param(c, k) for c, k in DECLARED])
def test_record_declared_writes_the_committed_expected_file(carrier: str, case: Any) -> None:
    content, problem = check_declared_case(recording_dataset(carrier), carrier, case, _live_agreeing(carrier, case),
                                           _kept(carrier, case))
    assert problem is None
    assert content is not None
    committed = load(ROOT / carrier / case.flow / f"{case.name}.expected.json")
    if "error" in committed:  # the reason's wording is free
        content["error"].pop("reason")
        committed["error"].pop("reason", None)
    assert content == committed


def _records(carrier: str) -> list[Any]:
    """Declared eligibility cases whose page has a record, each for a different member."""
    dataset = recording_dataset(carrier)
    return [c for c in declared_cases(carrier) if c.flow == "eligibility" and c.refusal is None
            and not c.faults.get("layout_version") == "v2"
            and isinstance(answer_truth(dataset, carrier, c), EligibilityRecord)]


REFUSING = [c for c in CARRIERS if not _own_recorder(c) and len(_records(c)) >= 2]


@pytest.mark.parametrize("carrier", REFUSING)
def test_record_declared_refuses_disagreements(carrier: str) -> None:
    dataset = recording_dataset(carrier)
    first, other = _records(carrier)[:2]

    def check(case: Any, live: SimpleNamespace, page_of: Any = None) -> str:
        return str(check_declared_case(dataset, carrier, case, live, _kept(carrier, page_of or case))[1])

    found = _live_agreeing(carrier, first)
    wrong = found.answer.model_copy(update={"plan": found.answer.plan.model_copy(update={"group_name": "X"})})
    assert "live answer differs from ground truth" in check(first, SimpleNamespace(**{**vars(found), "answer": wrong}))
    # Another member's page: either the parser refuses it for naming someone else, or it reads a different
    # record; both keep the recorder from writing it for this case.
    assert "offline parse of the kept page differs" in check(first, found, page_of=other)
    assert "ground truth is found" in check(first, SimpleNamespace(outcome=Outcome.NEEDS_ATTENTION, answer=None,
                                                                   reason="x", reason_code="parse_error"))
    for refusing in (c for c in declared_cases(carrier) if c.refusal is not None and c.refusal.why == "meaning_change"):
        answered = SimpleNamespace(outcome=Outcome.FOUND, answer=object(), reason=None, reason_code=None)
        assert f"a correct adapter gives {refusing.refusal.live.value}" in check(refusing, answered)
