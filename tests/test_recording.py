"""The committed recorded pages are what `aggregator sandbox record-pages` writes, and that is ground truth.

Offline: no browser, no portal. The live half (driving Chromium against the sandbox) is exercised by
running the command itself; here we pin what it wrote and the checks it applies before writing.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from aggregator import errors
from aggregator.errors import Outcome
from aggregator.models import AuthorizationQuery, ClaimQuery, EligibilityQuery
from sandbox.dataset import generate_dataset
from sandbox.ground_truth import eligibility
from sandbox.recorder import (
    ACTIVITY_FLOWS,
    CASE_NAMES,
    FLOW_CASE_NAMES,
    activity_truth,
    check_case,
    expected_json,
    plan_activity_cases,
    plan_cases,
    truth_kind,
)

ROOT = Path(__file__).parent / "recorded_pages"
CARRIER = "ridgeline"
CASE_DIR = ROOT / CARRIER / "eligibility"
# Page cases (HTML + expected); documents (e.g. Cascade's EOB PDFs in <carrier>/eob/) have their own tests.
EXPECTED = sorted(p for p in ROOT.glob("*/*/*.expected.json") if p.parent.name in ("eligibility", "authorization",
                                                                                   "claim_status"))
QUERY_MODELS = {"eligibility": EligibilityQuery, "authorization": AuthorizationQuery, "claim_status": ClaimQuery}
ACTIVITY_CASES = [(flow, name) for flow in ACTIVITY_FLOWS for name in FLOW_CASE_NAMES[flow]]


@pytest.fixture(scope="module")
def dataset():  # type: ignore[no-untyped-def]
    return generate_dataset()  # the seed and date the committed cases were recorded with


@pytest.fixture(scope="module")
def planned(dataset):  # type: ignore[no-untyped-def]
    return {case.name: case for case in plan_cases(dataset, CARRIER)}


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", EXPECTED, ids=[p.name for p in EXPECTED])
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


def test_committed_cases_are_the_recorders_cases(planned) -> None:  # type: ignore[no-untyped-def]
    stems = {p.name.removesuffix(".expected.json") for p in CASE_DIR.glob("*.expected.json")}
    # Every recorder case is committed (hand-made cases may sit beside them).
    assert set(planned) == set(CASE_NAMES) and set(planned) <= stems, "re-run `aggregator sandbox record-pages`"
    for name, case in planned.items():
        assert load(CASE_DIR / f"{name}.expected.json")["query"] == case.query.model_dump(mode="json"), name


@pytest.mark.parametrize("name", CASE_NAMES)
def test_expected_is_ground_truth_not_parser_output(name: str, dataset, planned) -> None:  # type: ignore[no-untyped-def]
    expected = load(CASE_DIR / f"{name}.expected.json")
    query = EligibilityQuery.model_validate(expected["query"])
    kind, truth = truth_kind(dataset, CARRIER, planned[name])
    if kind in ("record", "not_found"):
        assert expected == {"query": expected["query"],
                            "record": eligibility(dataset, CARRIER, query).model_dump(mode="json")}
    else:
        assert "error" in expected and "record" not in expected


@pytest.mark.parametrize("name", CASE_NAMES)
def test_recorder_check_accepts_agreeing_lookups_and_writes_the_committed_file(name: str, dataset, planned) -> None:  # type: ignore[no-untyped-def]
    case = planned[name]
    kind, truth = truth_kind(dataset, CARRIER, case)
    committed = load(CASE_DIR / f"{name}.expected.json")
    html = (CASE_DIR / f"{name}.html").read_text(encoding="utf-8")
    live = {
        "record": SimpleNamespace(outcome=Outcome.FOUND, answer=truth, reason=None, reason_code=None),
        "not_found": SimpleNamespace(outcome=Outcome.NOT_FOUND, answer=truth, reason=None, reason_code=None),
        "refusal": SimpleNamespace(outcome=Outcome.NEEDS_ATTENTION, answer=None, reason="x",
                                   reason_code=_code(committed)),
        "maintenance": SimpleNamespace(outcome=Outcome.RETRY_LATER, answer=None, reason="x",
                                       reason_code="portal_maintenance"),
    }[kind]
    content, problem = check_case(case, kind, truth, live, html, CARRIER)
    assert problem is None
    assert expected_json(content) == (CASE_DIR / f"{name}.expected.json").read_bytes()


def _code(expected: dict) -> str:
    return getattr(errors, expected["error"]["type"])("x").code if "error" in expected else ""


def test_recorder_refuses_disagreements(dataset, planned) -> None:  # type: ignore[no-untyped-def]
    def check(name: str, **live: object) -> str | None:
        case = planned[name]
        kind, truth = truth_kind(dataset, CARRIER, case)
        html = (CASE_DIR / f"{name}.html").read_text(encoding="utf-8")
        fields = {"answer": None, "reason": "x", "reason_code": None, **live}
        return check_case(case, kind, truth, SimpleNamespace(**fields), html, CARRIER)[1]

    _, truth = truth_kind(dataset, CARRIER, planned["active_subscriber_individual"])
    wrong = truth.model_copy(update={"plan": truth.plan.model_copy(update={"group_name": "Someone Else"})})
    assert "differs from ground truth" in check("active_subscriber_individual", outcome=Outcome.FOUND, answer=wrong)
    assert "ground truth is found" in check("active_subscriber_individual", outcome=Outcome.NEEDS_ATTENTION,
                                            reason_code="parse_error")
    _, tier_truth = truth_kind(dataset, CARRIER, planned["v2_tier_swap"])
    assert "must end in needs_attention" in check("v2_tier_swap", outcome=Outcome.FOUND, answer=tier_truth)
    assert "offline parse with" in check("v2_plan_share", outcome=Outcome.NEEDS_ATTENTION,
                                         reason_code="inconsistent_answer")
    assert "portal_maintenance" in check("maintenance_page", outcome=Outcome.NEEDS_ATTENTION,
                                         reason_code="unexpected_page")


@pytest.mark.parametrize(("flow", "name"), ACTIVITY_CASES, ids=[f"{f}/{n}" for f, n in ACTIVITY_CASES])
def test_activity_expected_is_ground_truth_not_parser_output(flow: str, name: str, dataset) -> None:  # type: ignore[no-untyped-def]
    planned = {case.name: case for case in plan_activity_cases(dataset, CARRIER, flow)}
    assert set(planned) == set(FLOW_CASE_NAMES[flow]), "every recorder case has a fitting record"
    case = planned[name]
    expected = load(ROOT / CARRIER / flow / f"{name}.expected.json")
    truth = activity_truth(dataset, CARRIER, case)
    assert expected_json({"query": case.query.model_dump(mode="json"), "record": truth.page.model_dump(mode="json")}) \
        == (ROOT / CARRIER / flow / f"{name}.expected.json").read_bytes(), "re-run `aggregator sandbox record-pages`"
    assert expected["query"] == case.query.model_dump(mode="json")


def test_no_account_secret_in_recorded_pages(dataset) -> None:  # type: ignore[no-untyped-def]
    accounts = [a for slug in dataset.carriers for a in dataset.carrier(slug).accounts]
    secrets = [s for a in accounts for s in (a.password, a.totp_secret, *(v for _, v in a.security_answers)) if s]
    for path in sorted(ROOT.rglob("*")):
        if path.is_file():
            data = path.read_bytes()  # PDFs too
            assert not [s for s in secrets if s.encode() in data], f"{path.name} holds a sandbox account secret"
            text = data.decode("utf-8", errors="replace")
            if path.name.endswith(".expected.json"):
                # Pages show "Logged in as <username>" (kept as captured); expected files never name one.
                assert not [a.username for a in accounts if a.username in text], path.name


# --- the one recorder (record_declared): its check, offline, on every declared case of every carrier ----

def _declared() -> list[tuple[str, object]]:
    from sandbox.recorded_cases import CARRIERS, declared_cases

    return [(carrier, case) for carrier in CARRIERS for case in declared_cases(carrier)]


DECLARED = _declared()


def _live_agreeing(carrier: str, case) -> SimpleNamespace:  # type: ignore[no-untyped-def]
    from aggregator.models import MemberNotFound
    from sandbox.recorded_cases import answer_truth, recording_dataset

    if case.refusal is not None:
        return SimpleNamespace(outcome=case.refusal.live, answer=None, reason="x", reason_code="x")
    answer = answer_truth(recording_dataset(carrier), carrier, case)
    outcome = Outcome.NOT_FOUND if isinstance(answer, MemberNotFound) else Outcome.FOUND
    return SimpleNamespace(outcome=outcome, answer=answer, reason=None, reason_code=None)


@pytest.mark.parametrize(("carrier", "case"), DECLARED, ids=[f"{c}/{k.stem}" for c, k in DECLARED])  # type: ignore[attr-defined]
def test_record_declared_writes_the_committed_expected_file(carrier: str, case) -> None:  # type: ignore[no-untyped-def]
    from sandbox.recorded_cases import recording_dataset
    from sandbox.recorder import check_declared_case

    path = ROOT / carrier / case.flow / f"{case.name}{case.suffix}"
    content, problem = check_declared_case(recording_dataset(carrier), carrier, case,
                                           _live_agreeing(carrier, case), path.read_bytes())
    assert problem is None
    committed = load(path.with_name(f"{case.name}.expected.json"))
    if "error" in committed:  # the reason's wording is free
        content["error"].pop("reason"), committed["error"].pop("reason", None)  # type: ignore[index]
    assert content == committed


def test_record_declared_refuses_disagreements() -> None:
    from sandbox.recorded_cases import declared_cases, recording_dataset
    from sandbox.recorder import check_declared_case

    dataset = recording_dataset("cascade")
    cases = {c.stem: c for c in declared_cases("cascade")}

    def check(stem: str, live: SimpleNamespace, page_of: str | None = None) -> str | None:
        case = cases[stem]
        other = cases[page_of or stem]
        page = (ROOT / "cascade" / other.flow / f"{other.name}{other.suffix}").read_bytes()
        return check_declared_case(dataset, "cascade", case, live, page)[1]

    found = _live_agreeing("cascade", cases["eligibility/active_subscriber"])
    wrong = found.answer.model_copy(update={"plan": found.answer.plan.model_copy(update={"group_name": "X"})})
    assert "live answer differs from ground truth" in str(check(
        "eligibility/active_subscriber", SimpleNamespace(**{**vars(found), "answer": wrong})))
    assert "offline parse of the kept page differs" in str(check(
        "eligibility/active_subscriber", found, page_of="eligibility/dependent"))
    assert "ground truth is found" in str(check(
        "eligibility/active_subscriber", SimpleNamespace(outcome=Outcome.NEEDS_ATTENTION, answer=None,
                                                         reason="x", reason_code="parse_error")))
    tier = cases["eligibility/v2_tier_words"]
    assert "a correct adapter gives needs_attention" in str(check(
        tier.stem, SimpleNamespace(outcome=Outcome.FOUND, answer=object(), reason=None, reason_code=None)))
    # Another member's page: the parser now refuses it for naming someone else, so either message proves
    # the recorder will not keep it for this case.
    refused = str(check(tier.stem, _live_agreeing("cascade", tier), page_of="eligibility/v2_cosmetic"))
    assert "offline parse must refuse" in refused or "the case declares UnmappedValue" in refused
    document = cases["eob/eob_f1"]
    assert "differs from ground truth" in str(check(document.stem, _live_agreeing("cascade", document),
                                                    page_of="eob/eob_f2"))
