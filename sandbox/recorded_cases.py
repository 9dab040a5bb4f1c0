"""Which recorded-page cases each carrier has, and whether a committed expected file is ground truth.

A carrier's part of the recorder is only a declaration (`sandbox/<carrier>/recording.py`: `RECORDED_WITH`
and `cases(dataset)`): per case its flow, name, query, which captured page to keep, the portal faults to
set, and, for a page no record may come out of, the refusal a correct adapter must give and why. The
ground truth of a kept page is `sandbox.ground_truth.recorded_page(...)`, from the seeded dataset alone.

`ground_truth_problems(root, carrier)` compares every expected file of a carrier under `root` with the
ground truth recomputed from the declaration; the recorder writes nothing else and the update mode of
tests/test_recorded_pages.py writes nothing that differs from it. Nothing here parses a page.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import pkgutil
import re
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Literal

from aggregator import errors
from aggregator.errors import Outcome
from aggregator.models import CoverageStatus, EligibilityRecord
from aggregator.recording.cases import PAGE_FLOWS, QUERY_MODELS, differing_fields

__all__ = ["CARRIERS", "PAGE_FLOWS", "QUERY_MODELS", "declared_carriers", "differing_fields"]


def declared_carriers() -> tuple[str, ...]:
    """The sandbox carriers with recorded-page declarations: every sandbox/<slug>/ package holding a
    `recording` module (no list of carriers anywhere else)."""
    import sandbox

    return tuple(sorted(info.name for info in pkgutil.iter_modules(sandbox.__path__) if info.ispkg
                        and importlib.util.find_spec(f"sandbox.{info.name}.recording") is not None))


CARRIERS: tuple[str, ...] = declared_carriers()
DOCUMENT_FLOW = "eob"  # documents a claim lookup downloaded (EOB PDFs), kept as <case>.pdf
HAND_MADE_PREFIX = "edited_"  # hand-made pages (one targeted edit of a recorded page); never recorded

Why = Literal["meaning_change", "maintenance", "rate_limit"]


@dataclass(frozen=True)
class Refusal:
    """What a correct adapter must do with the kept page, and what makes it so in the sandbox."""

    why: Why
    live: Outcome  # the live lookup's outcome
    offline: Outcome  # the outcome of parsing the kept page offline
    type: str | None = None  # the error class, when the declaration pins it (else the adapter's is kept)


@dataclass(frozen=True)
class DeclaredCase:
    flow: str  # a page flow, or DOCUMENT_FLOW (the lookup is then a claim status lookup)
    name: str
    query: Any  # EligibilityQuery | AuthorizationQuery | ClaimQuery
    page: str  # which page's ground truth (sandbox.ground_truth.recorded_page); documents: "claim:<number>"
    keep: str  # the evidence label of the kept capture
    marker: str | None = None  # when several captures share the label: text the kept one's URL or HTML holds
    faults: dict[str, Any] = field(default_factory=dict)
    refusal: Refusal | None = None

    @property
    def lookup_flow(self) -> str:
        return "claim_status" if self.flow == DOCUMENT_FLOW else self.flow

    @property
    def stem(self) -> str:
        return f"{self.flow}/{self.name}"

    @property
    def suffix(self) -> str:
        return ".pdf" if self.flow == DOCUMENT_FLOW else ".html"

    def query_json(self) -> Any:
        # A document's expected file names no query: the document alone is its record's source.
        return None if self.flow == DOCUMENT_FLOW else self.query.model_dump(mode="json")


@dataclass(frozen=True)
class HandMadeCase:
    """A recorded page with one targeted edit that makes it contradict itself or the portal's vocabulary,
    so the only correct answer is a refusal (needs attention). The page is derived from its base case
    (same flow, same query) by replacing the first match of `pattern`; never captured, never hand-typed."""

    flow: str
    name: str  # starts with HAND_MADE_PREFIX
    base: str  # the recorded case it is made from
    pattern: str
    replacement: str
    flags: int = 0

    @property
    def stem(self) -> str:
        return f"{self.flow}/{self.name}"

    def edit(self, page: str) -> str | None:
        """The edited page, or None when the base page has nothing the edit applies to."""
        edited, count = re.subn(self.pattern, self.replacement, page, count=1, flags=self.flags)
        return edited if count and edited != page else None


def declaration(carrier: str) -> Any:
    if carrier not in declared_carriers():
        raise ValueError(f"no recorded-page declaration for carrier '{carrier}' (known: {', '.join(CARRIERS)})")
    return importlib.import_module(f"sandbox.{carrier}.recording")


def hand_made_cases(carrier: str) -> tuple[HandMadeCase, ...]:
    made: tuple[HandMadeCase, ...] = getattr(declaration(carrier), "HAND_MADE", ())
    if any(not m.name.startswith(HAND_MADE_PREFIX) for m in made):
        raise ValueError(f"{carrier}: hand-made case names start with '{HAND_MADE_PREFIX}'")
    return made


def recorded_with(carrier: str) -> tuple[int, date]:
    """The dataset seed and 'today' the committed cases of `carrier` were recorded with."""
    declared = declaration(carrier).RECORDED_WITH
    return declared["seed"], declared["as_of"]


@cache
def _dataset(seed: int, as_of: date) -> Any:
    from sandbox.dataset import generate_dataset

    return generate_dataset(seed=seed, as_of=as_of)


def recording_dataset(carrier: str) -> Any:
    return _dataset(*recorded_with(carrier))


def declared_cases(carrier: str, dataset: Any = None) -> list[DeclaredCase]:
    cases: list[DeclaredCase] = declaration(carrier).cases(dataset or recording_dataset(carrier))
    stems = [c.stem for c in cases]
    if len(set(stems)) != len(stems) or any(c.name.startswith(HAND_MADE_PREFIX) for c in cases):
        raise ValueError(f"{carrier}: case names must be unique per flow and not start with '{HAND_MADE_PREFIX}'")
    return cases


def page_truth(dataset: Any, carrier: str, case: DeclaredCase) -> Any:
    """The kept page's ground truth (a record or a page model). ValueError when the page cannot exist.
    A hub's declaration (one portal, several payers) gives its own: `page_truth(dataset, payer, case)` with the
    case's payer from `PAYER_OF(dataset)`; None there is a screen on the way to an answer (no answer on it)."""
    from sandbox import ground_truth

    hub_truth = _hub_page_truth(dataset, carrier, case)
    if hub_truth is not _NOT_A_HUB:
        return hub_truth
    return ground_truth.recorded_page(dataset, carrier, case.lookup_flow, case.query, case.page)


def answer_truth(dataset: Any, carrier: str, case: DeclaredCase) -> Any:
    """The whole live lookup's ground-truth answer."""
    from sandbox import ground_truth

    hub_truth = _hub_page_truth(dataset, carrier, case, page="answer")
    if hub_truth is not _NOT_A_HUB:
        return hub_truth
    return ground_truth.recorded_page(dataset, carrier, case.lookup_flow, case.query, "answer")


_NOT_A_HUB = object()


def case_payer(dataset: Any, carrier: str, case: DeclaredCase) -> str:
    """The payer a case's page is about: the carrier itself, or at a hub the case's (`PAYER_OF`)."""
    payers = getattr(declaration(carrier), "PAYER_OF", None)
    return payers(dataset)[case.stem] if payers is not None else carrier


def _hub_page_truth(dataset: Any, carrier: str, case: DeclaredCase, page: str | None = None) -> Any:
    own = getattr(declaration(carrier), "page_truth", None)
    if own is None:
        return _NOT_A_HUB
    if page is not None and page != case.page:
        from dataclasses import replace

        case = replace(case, page=page)
    return own(dataset, case_payer(dataset, carrier, case), case)


def refusal_problem(dataset: Any, carrier: str, case: DeclaredCase) -> str | None:
    """Why the declaration is wrong about refusing (or not refusing) this case, per the sandbox; else None."""
    meaning_change = _meaning_change(dataset, carrier, case)
    why = case.refusal.why if case.refusal else None
    # A hub's declaration may reach a refusal page by a state of the portal rather than a fault (`SETUP_OF`:
    # stem -> "daily_limit", the day's searches used up, or "too_fast", the pace gate's 429).
    setup = _setups(dataset, carrier).get(case.stem)
    if why == "maintenance" and not (case.faults.get("maintenance") or setup == "daily_limit"):
        return "declared a maintenance refusal, but the case sets no maintenance fault"
    if why == "rate_limit" and not (case.faults.get("rate_limit") or setup == "too_fast"):
        return "declared a rate-limit refusal, but the case sets no rate-limit fault"
    if why == "meaning_change" and not meaning_change:
        return "declared a change-of-meaning refusal, but the sandbox shows no change of meaning"
    if why is None and (meaning_change or case.faults.get("maintenance") or case.faults.get("rate_limit")):
        return "the sandbox makes this page one no record may come out of, but the case expects a record"
    if case.refusal and case.refusal.offline not in (Outcome.NEEDS_ATTENTION, Outcome.RETRY_LATER):
        return f"a refused page must be needs_attention or retry_later offline, not {case.refusal.offline.value}"
    if case.refusal and case.refusal.offline is Outcome.RETRY_LATER and why == "meaning_change":
        return "a change of meaning is needs_attention: retrying cannot help"
    return None


def _setups(dataset: Any, carrier: str) -> dict[str, str]:
    """stem -> the portal state a hub's case is recorded in (`SETUP_OF(dataset)`, or the `setup` of each of the
    declaration's `hub_cases(dataset)`); empty for a carrier portal (its refusals come from faults)."""
    declared = declaration(carrier)
    setups = getattr(declared, "SETUP_OF", None)
    if setups is not None:
        return dict(setups(dataset))
    hub_cases = getattr(declared, "hub_cases", None)
    if hub_cases is None:
        return {}
    return {f"{c.flow}/{c.name}": c.setup for c in hub_cases(dataset) if getattr(c, "setup", None)}


def _meaning_change(dataset: Any, carrier: str, case: DeclaredCase) -> bool:
    """A v2 page whose meaning changed: only on an eligibility page with benefit tables (active coverage)."""
    layout = case.faults.get("layout_version", "v1")
    if case.flow != "eligibility" or case.faults.get("maintenance"):
        return False
    truth = page_truth(dataset, carrier, case)
    if not isinstance(truth, EligibilityRecord) or truth.coverage.status is not CoverageStatus.ACTIVE:
        return False
    from sandbox.carriers import payer_source

    payer = case_payer(dataset, carrier, case)
    change = declaration(carrier).meaning_change_for(payer_source(dataset, payer).carrier(payer),
                                                     case.query.member_id, layout)
    return change is not None


def expected_problems(dataset: Any, carrier: str, case: DeclaredCase, expected: dict[str, Any]) -> list[str]:
    """How a committed expected file of a declared case disagrees with the ground truth (empty: agrees)."""
    where = f"{carrier}/{case.stem}"
    problems: list[str] = []
    if expected.get("query") != case.query_json():
        problems.append(f"{where}: the query is not the declared case's query (fields differ: "
                        f"{', '.join(differing_fields(expected.get('query'), case.query_json()))})")
    wrong = refusal_problem(dataset, carrier, case)
    if wrong:
        problems.append(f"{where}: {wrong}")
    if case.refusal is not None:
        error = expected.get("error")
        if not isinstance(error, dict) or "record" in expected:
            return [*problems, f"{where}: a record where a correct adapter must refuse ({case.refusal.why})"]
        if error.get("outcome") != case.refusal.offline.value:
            problems.append(f"{where}: error outcome {error.get('outcome')}, a correct adapter gives "
                            f"{case.refusal.offline.value} ({case.refusal.why})")
        if case.refusal.type is not None and error.get("type") != case.refusal.type:
            problems.append(f"{where}: error type {error.get('type')}, declared {case.refusal.type}")
        problems.extend(f"{where}: {p}" for p in error_shape_problems(error))
        return problems
    try:
        found = page_truth(dataset, carrier, case)
    except ValueError as impossible:
        return [*problems, f"{where}: {impossible}"]
    if found is None:  # a screen on the way to an answer (a hub's sign-in, pickers, forms): nothing to read
        refused = expected.get("error")
        if "record" in expected or not isinstance(refused, dict):
            return [*problems, f"{where}: a record from a page that holds no answer"]
        if refused.get("outcome") != Outcome.NEEDS_ATTENTION.value:
            problems.append(f"{where}: a page that holds no answer must be needs_attention, not "
                            f"{refused.get('outcome')}")
        return [*problems, *(f"{where}: {p}" for p in error_shape_problems(refused))]
    if "record" not in expected or "error" in expected:
        return [*problems, f"{where}: an error where the ground truth has a record"]
    truth = found.model_dump(mode="json")
    if expected["record"] != truth:
        problems.append(f"{where}: the record differs from ground truth (fields differ: "
                        f"{', '.join(differing_fields(expected['record'], truth))})")
    return problems


def error_shape_problems(error: dict[str, Any]) -> list[str]:
    """An expected error is an AggregatorError class whose outcome is the one it carries; only a portal
    saying it is unavailable may be retry_later."""
    kind = getattr(errors, str(error.get("type")), None)
    if not (isinstance(kind, type) and issubclass(kind, errors.AggregatorError)):
        return [f"error type {error.get('type')} is not an AggregatorError"]
    if error.get("outcome") != kind.outcome.value:
        return [f"error type {error.get('type')} has outcome {kind.outcome.value}, not {error.get('outcome')}"]
    if kind.outcome not in (Outcome.NEEDS_ATTENTION, Outcome.RETRY_LATER):
        return [f"error outcome {kind.outcome.value}: a page no record comes out of is needs_attention"]
    return []


def ground_truth_problems(root: Path, carrier: str, dataset: Any = None) -> list[str]:
    """Every way the cases of `carrier` under `root` (<root>/<carrier>/<flow>/<case>.*) disagree with the
    ground truth: a declared case missing or differing, an undeclared case, a hand-made case that is not
    a refusal. Empty when every expected file is ground truth."""
    dataset = dataset or recording_dataset(carrier)
    cases = {c.stem: c for c in declared_cases(carrier, dataset)}
    made = {m.stem: m for m in hand_made_cases(carrier)}
    folder = Path(root) / carrier
    problems: list[str] = []
    seen: set[str] = set()
    for path in sorted(folder.glob("*/*.expected.json")):
        stem = f"{path.parent.name}/{path.name.removesuffix('.expected.json')}"
        seen.add(stem)
        expected = json.loads(path.read_text(encoding="utf-8"))
        case = cases.get(stem)
        if case is not None:
            if not path.with_name(path.name.replace(".expected.json", case.suffix)).exists():
                problems.append(f"{carrier}/{stem}: no {case.suffix} beside the expected file")
            problems.extend(expected_problems(dataset, carrier, case, expected))
        elif stem in made:
            problems.extend(f"{carrier}/{stem}: {p}" for p in hand_made_problems(expected)
                            + derivation_problems(folder, made[stem], expected))
        else:
            problems.append(f"{carrier}/{stem}: not a declared case (declare it in sandbox/{carrier}/recording.py: "
                            f"cases() or HAND_MADE)")
    problems.extend(f"{carrier}/{stem}: declared but not recorded" for stem in sorted((set(cases) | set(made)) - seen))
    return problems


def hand_made_problems(expected: dict[str, Any]) -> list[str]:
    """A hand-made page is a recorded page edited to contradict itself or the portal's vocabulary: the
    ground truth has no record for it, so the only correct answer is a refusal (needs attention)."""
    error = expected.get("error")
    if "record" in expected or not isinstance(error, dict):
        return ["a hand-made (edited) page must expect a refusal, not a record"]
    if error.get("outcome") != Outcome.NEEDS_ATTENTION.value:
        return [f"a hand-made (edited) page must be needs_attention, not {error.get('outcome')}"]
    return error_shape_problems(error)


@cache
def _declared_by_stem(carrier: str) -> dict[str, DeclaredCase]:
    return {c.stem: c for c in declared_cases(carrier)}


def derivation_problems(folder: Path, made: HandMadeCase, expected: dict[str, Any]) -> list[str]:
    """A hand-made page must be exactly its base page with the declared edit, for the base's query."""
    base = folder / made.flow / f"{made.base}.html"
    page = folder / made.flow / f"{made.name}.html"
    if not base.exists() or not page.exists():
        return [f"the page or its base case '{made.base}' is missing"]
    base_expected = json.loads(base.with_name(f"{made.base}.expected.json").read_text(encoding="utf-8"))
    problems = [] if expected.get("query") == base_expected.get("query") else ["the query is not its base case's"]
    if made.edit(base.read_text(encoding="utf-8")) != page.read_text(encoding="utf-8"):
        problems.append(f"the page is not '{made.base}' with the declared edit")
    return problems


def declared_case_for(carrier: str, flow: str, name: str) -> DeclaredCase | None:
    """The declared case of the committed recording (the declaration's seed and date), or None."""
    return _declared_by_stem(carrier).get(f"{flow}/{name}")
