"""Every recorded-page expected file of every carrier is the sandbox's ground truth.

Offline: the dataset is regenerated from the seed and date each carrier's declaration says its cases
were recorded with (sandbox/<carrier>/recording.py), and each expected file is compared with
`sandbox.ground_truth.recorded_page(...)` for the declared case's query and page, field by field; an
expected refusal must be the one a correct adapter gives, for a reason the sandbox shows. The parser is
not consulted: a parser change that alters a value and an expected file rewritten to match it both fail
here (see the tests that change a value consistently in a page and its expected file).
"""

from __future__ import annotations

import html
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from aggregator.scrapers.framework import Capability
from aggregator.scrapers.registry import adapter_for
from sandbox.recorded_cases import (
    CARRIERS,
    declared_cases,
    ground_truth_problems,
    hand_made_cases,
    page_truth,
    recording_dataset,
)
from tests.test_recorded_pages import QUERY_MODELS, parse_case

ROOT = Path(__file__).parent / "recorded_pages"


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def dump(path: Path, content: dict[str, Any]) -> None:
    path.write_text(json.dumps(content, indent=2, sort_keys=True) + "\n", encoding="utf-8")


@pytest.mark.parametrize("carrier", CARRIERS)
def test_every_expected_file_equals_ground_truth(carrier: str) -> None:
    assert ground_truth_problems(ROOT, carrier) == []


def test_every_carrier_folder_has_a_declaration() -> None:
    assert sorted(p.name for p in ROOT.iterdir() if p.is_dir()) == sorted(CARRIERS)
    for carrier in CARRIERS:
        assert declared_cases(carrier), carrier


def declared_kinds(carrier: str) -> dict[str, set[str]]:
    """Per flow folder, the kinds of page model whose ground truth the carrier's declared cases compare."""
    dataset = recording_dataset(carrier)
    kinds: dict[str, set[str]] = {}
    for case in declared_cases(carrier, dataset):
        truth = page_truth(dataset, carrier, case) if case.refusal is None else None
        if truth is not None:  # None: a screen on the way to an answer (a hub's sign-in, pickers, forms)
            kinds.setdefault(case.flow, set()).add(truth.kind)
    return kinds


@pytest.mark.parametrize("carrier", CARRIERS)
def test_page_models_and_documents_are_checked_too(carrier: str) -> None:
    """Not only eligibility: for every capability the carrier's manifest declares, a page that yields a record
    (list / results / report / detail pages) and a not-found page are compared. The page models particular
    to one carrier are pinned in its own folder (tests/carriers/<slug>/test_<slug>_recorded_cases.py)."""
    kinds = declared_kinds(carrier)
    for capability in adapter_for(carrier).manifest.capabilities:
        found = kinds.get(capability.value, set())
        assert "not_found" in found and found - {"not_found"}, (capability.value, sorted(found))
    if Capability.ELIGIBILITY in adapter_for(carrier).manifest.capabilities:
        assert "eligibility" in kinds["eligibility"]


# --- the check fails when a page and its expected file are changed together ---------------------------

def _copy(carrier: str, tmp_path: Path) -> Path:
    shutil.copytree(ROOT / carrier, tmp_path / carrier)
    return tmp_path


def _plain_group_case(root: Path, carrier: str) -> tuple[Path, str]:
    """The first recorded eligibility record whose group name is plain words that the page shows."""
    for path in sorted((root / carrier / "eligibility").glob("*.expected.json")):
        record = load(path).get("record", {})
        group = record.get("plan", {}).get("group_name") if record.get("kind") == "eligibility" else None
        page = path.with_name(path.name.replace(".expected.json", ".html"))
        if group and group.replace(" ", "").isalnum() and group in page.read_text(encoding="utf-8"):
            return path, group
    raise AssertionError(f"{carrier}: no eligibility case with a plain group name on its page")


@pytest.mark.parametrize("carrier", CARRIERS)
def test_a_value_changed_consistently_in_page_and_expected_file_fails(carrier: str, tmp_path: Path) -> None:
    root = _copy(carrier, tmp_path)
    expected_path, group = _plain_group_case(root, carrier)
    page = expected_path.with_name(expected_path.name.replace(".expected.json", ".html"))
    changed = group.upper()  # the parser change that once went unnoticed offline
    page.write_text(page.read_text(encoding="utf-8").replace(group, changed), encoding="utf-8")
    expected = load(expected_path)
    expected["record"]["plan"]["group_name"] = changed
    dump(expected_path, expected)

    # The recorded-page test alone would accept the pair: the parser reads the page as the file says...
    query = QUERY_MODELS["eligibility"].model_validate(expected["query"])
    assert parse_case(page, query) == {"record": expected["record"]}
    # ...the ground-truth check does not.
    problems = ground_truth_problems(root, carrier)
    name = expected_path.name.removesuffix(".expected.json")
    assert problems == [f"{carrier}/eligibility/{name}: the record differs from ground truth "
                        "(fields differ: plan.group_name)"]


def test_a_changed_detail_page_value_fails_too(tmp_path: Path) -> None:
    """A page model / detail record, not only eligibility: a claim's paid amount in a Cascade report row."""
    root = _copy("cascade", tmp_path)
    path = root / "cascade" / "claim_status" / "report_by_number.expected.json"
    expected = load(path)
    expected["record"]["rows"][0]["paid"] = "0.01"
    dump(path, expected)
    assert ground_truth_problems(root, "cascade") == [
        "cascade/claim_status/report_by_number: the record differs from ground truth (fields differ: rows[0].paid)"]


def test_a_changed_document_record_fails(tmp_path: Path) -> None:
    root = _copy("cascade", tmp_path)
    path = sorted((root / "cascade" / "eob").glob("*.expected.json"))[0]
    expected = load(path)
    expected["record"]["billed"] = "1.00"
    dump(path, expected)
    assert ground_truth_problems(root, "cascade") == [
        f"cascade/eob/{path.name.removesuffix('.expected.json')}: the record differs from ground truth "
        "(fields differ: billed)"]
    assert adapter_for("cascade").parse_document("eob", path.with_suffix("").with_suffix(".pdf").read_bytes())


@pytest.mark.parametrize("carrier", CARRIERS)
def test_a_record_where_a_correct_adapter_must_refuse_fails(carrier: str, tmp_path: Path) -> None:
    root = _copy(carrier, tmp_path)
    dataset = recording_dataset(carrier)
    case = next(c for c in declared_cases(carrier) if c.refusal is not None and c.refusal.why == "meaning_change")
    path = root / carrier / case.flow / f"{case.name}.expected.json"
    # What the page would say if the change of meaning were read as if nothing had changed.
    dump(path, {"query": load(path)["query"], "record": page_truth(dataset, carrier, case).model_dump(mode="json")})
    assert ground_truth_problems(root, carrier) == [
        f"{carrier}/{case.stem}: a record where a correct adapter must refuse (meaning_change)"]


@pytest.mark.parametrize("carrier", CARRIERS)
def test_a_refusal_outcome_a_correct_adapter_would_not_give_fails(carrier: str, tmp_path: Path) -> None:
    root = _copy(carrier, tmp_path)
    case = next(c for c in declared_cases(carrier) if c.refusal is not None)
    path = root / carrier / case.flow / f"{case.name}.expected.json"
    expected = load(path)
    expected["error"]["outcome"] = "failed"
    dump(path, expected)
    problems = ground_truth_problems(root, carrier)
    assert problems and all(p.startswith(f"{carrier}/{case.stem}: ") for p in problems), problems


def test_undeclared_and_missing_cases_are_named(tmp_path: Path) -> None:
    root = _copy("ridgeline", tmp_path)
    folder = root / "ridgeline" / "eligibility"
    source = load(folder / "active_subscriber_individual.expected.json")
    for name in ("edited_made_up", "made_up"):
        shutil.copy(folder / "active_subscriber_individual.html", folder / f"{name}.html")
        dump(folder / f"{name}.expected.json", source)
    (folder / "termed.expected.json").unlink()
    (folder / "termed.html").unlink()
    assert ground_truth_problems(root, "ridgeline") == [
        f"ridgeline/eligibility/{name}: not a declared case (declare it in sandbox/ridgeline/recording.py: "
        "cases() or HAND_MADE)" for name in ("edited_made_up", "made_up")
    ] + ["ridgeline/eligibility/termed: declared but not recorded"]


@pytest.mark.parametrize("carrier", [c for c in CARRIERS if hand_made_cases(c)])
def test_a_hand_made_page_is_its_base_with_the_declared_edit_and_a_refusal(carrier: str, tmp_path: Path) -> None:
    root = _copy(carrier, tmp_path)
    made = hand_made_cases(carrier)[0]
    page = root / carrier / made.flow / f"{made.name}.html"
    expected_path = page.with_name(f"{made.name}.expected.json")
    base = load(expected_path.with_name(f"{made.base}.expected.json"))
    assert ground_truth_problems(root, carrier) == []
    page.write_text(page.read_text(encoding="utf-8") + "<!-- more -->", encoding="utf-8")
    dump(expected_path, base)  # a record for a page a correct adapter must refuse
    assert ground_truth_problems(root, carrier) == [
        f"{carrier}/{made.stem}: a hand-made (edited) page must expect a refusal, not a record",
        f"{carrier}/{made.stem}: the page is not '{made.base}' with the declared edit"]


def test_html_escaping_is_not_what_makes_the_value_change_test_pass() -> None:
    """The consistent-change test picks a plain group name, so the page holds it verbatim (no entity)."""
    for carrier in CARRIERS:
        _, group = _plain_group_case(ROOT, carrier)
        assert html.escape(group) == group


# --- the update mode writes nothing that differs from ground truth -----------------------------------

@pytest.mark.parametrize("carrier", CARRIERS)
def test_update_mode_refuses_a_record_that_differs_from_ground_truth(carrier: str, tmp_path: Path) -> None:
    from tests.test_recorded_pages import update_refusal

    root = _copy(carrier, tmp_path)
    expected_path, group = _plain_group_case(root, carrier)
    page = expected_path.with_name(expected_path.name.replace(".expected.json", ".html"))
    query = QUERY_MODELS["eligibility"].model_validate(load(expected_path)["query"])
    assert update_refusal(page, parse_case(page, query)) is None  # today's parser output is ground truth
    page.write_text(page.read_text(encoding="utf-8").replace(group, group.upper()), encoding="utf-8")
    assert update_refusal(page, parse_case(page, query)) == (
        "the parser's record differs from ground truth (fields differ: plan.group_name)")


def test_update_mode_refuses_a_record_for_a_refusal_and_an_undeclared_page(tmp_path: Path) -> None:
    from tests.test_recorded_pages import update_refusal

    case = next(c for c in declared_cases("bluepeak") if c.refusal is not None and c.refusal.why == "meaning_change")
    page = ROOT / "bluepeak" / case.flow / f"{case.name}.html"
    record = {"record": page_truth(recording_dataset("bluepeak"), "bluepeak", case).model_dump(mode="json")}
    assert "where a correct adapter must refuse" in str(update_refusal(page, record))
    assert update_refusal(tmp_path / "bluepeak" / "eligibility" / "made_up.html", record) == (
        "no declared case, so no ground truth to compare with")
    hand_made = tmp_path / "ridgeline" / "eligibility" / "edited_x.html"
    assert update_refusal(hand_made, record) == "a hand-made page must still be refused with needs_attention"
