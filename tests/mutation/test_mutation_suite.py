"""The mutation suite's assertions: for every carrier and family, no wrong answer and no crash; for every
carrier, at least 95% of layout-only variants read exactly. The table is printed at the end of the pytest
run and written to the run's temporary directory (and to $MUTATION_FINDINGS when set)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.mutation import report, suite
from tests.mutation.corpus import load_cases
from tests.mutation.oracle import CRASH, WRONG, violations
from tests.mutation.variants import FAMILIES, LAYOUT

CARRIERS = sorted({case.carrier for case in load_cases()})
LAYOUT_EXACT_GOAL = 0.95
_RUN: dict[str, suite.Results] = {}


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> suite.Results:
    outcome = suite.run()
    _RUN["results"] = outcome
    target = tmp_path_factory.mktemp("mutation") / "mutation-findings.md"
    report.write_markdown(outcome, target)
    if os.environ.get("MUTATION_FINDINGS"):
        report.write_markdown(outcome, Path(os.environ["MUTATION_FINDINGS"]))
    _RUN["findings_path"] = target  # type: ignore[assignment]
    return outcome


def _findings(results: suite.Results, carrier: str, family: str, verdicts: tuple[str, ...]) -> str:
    items = [f for f in results.findings if f.carrier == carrier and f.family == family and f.verdict in verdicts]
    return "\n".join(f"  {f.verdict}: {f.flow}/{f.case}: {f.description} -> {f.note} {f.detail}" for f in items[:15])


@pytest.mark.parametrize("family", list(FAMILIES))
@pytest.mark.parametrize("carrier", CARRIERS)
def test_no_wrong_answer_and_no_crash(results: suite.Results, carrier: str, family: str) -> None:
    wrong = results.total(WRONG, carrier=carrier, family_name=family)
    crash = results.total(CRASH, carrier=carrier, family_name=family)
    assert (wrong, crash) == (0, 0), (
        f"{carrier} x {family}: {wrong} wrong, {crash} crash\n{_findings(results, carrier, family, (WRONG, CRASH))}")


@pytest.mark.parametrize("carrier", CARRIERS)
def test_layout_only_variants_read_exactly(results: suite.Results, carrier: str) -> None:
    share = results.layout_exact_share(carrier)
    flagged = {name: results.variants(carrier=carrier, family_name=name) - results.total("exact", carrier=carrier,
                                                                                         family_name=name)
               for name, fam in FAMILIES.items() if fam.klass == LAYOUT}
    assert share >= LAYOUT_EXACT_GOAL, (
        f"{carrier}: {share:.1%} of layout-only variants exact (goal {LAYOUT_EXACT_GOAL:.0%}); not exact per family: "
        f"{ {k: v for k, v in flagged.items() if v} }")


def test_the_generators_never_fail(results: suite.Results) -> None:
    assert results.generator_errors == []


def test_every_family_makes_variants(results: suite.Results) -> None:
    idle = [name for name in FAMILIES if results.variants(family_name=name) == 0]
    assert idle == [], f"families that mutated nothing: {idle}"


def test_expected_records_satisfy_the_oracles_rules() -> None:
    """The oracle's self-consistency rules hold on every ground-truth record (else they are wrong rules)."""
    broken = {case.key: violations(case.expected_record) for case in load_cases() if case.expected_record}
    assert {key: rules for key, rules in broken.items() if rules} == {}


def test_variants_are_deterministic() -> None:
    case = max((c for c in load_cases() if c.expected_record), key=lambda c: c.html.count("<tr"))
    for name, fam in FAMILIES.items():
        first = [v.html for v in fam.make(case, suite.rng_for(suite.SEED, case, name))]
        again = [v.html for v in fam.make(case, suite.rng_for(suite.SEED, case, name))]
        assert first == again, name


def test_every_family_is_documented() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "mutation-suite.md").read_text(encoding="utf-8")
    families_section = doc.split("## Families", 1)[-1].split("\n## ", 1)[0]
    assert [name for name in FAMILIES if f"| `{name}` |" not in families_section] == []


def test_the_suite_fails_a_parser_that_ignores_the_page(monkeypatch: pytest.MonkeyPatch) -> None:
    """The assertions can fail: a 'parser' that always returns the expected answer, whatever the page says,
    is wrong on meaning-changing variants; one that always refuses misses the layout-only goal."""
    from tests.mutation.corpus import Case, Outcome

    def stale(case: Case, html: str) -> Outcome:
        if case.expected_record is not None:
            return Outcome(record=case.expected_record)
        return Outcome(error_type=case.expected_error["type"], error_outcome=case.expected_error["outcome"])

    monkeypatch.setattr(Case, "parse", stale)
    ignoring = suite.run(carriers={"cascade"})
    assert ignoring.total(WRONG) > 0 and ignoring.layout_exact_share("cascade") == 1.0

    monkeypatch.setattr(Case, "parse", lambda case, html: Outcome(error_type="ParseError",
                                                                   error_outcome="needs_attention"))
    refusing = suite.run(carriers={"cascade"})
    assert refusing.total(WRONG) == 0 and refusing.layout_exact_share("cascade") < LAYOUT_EXACT_GOAL
