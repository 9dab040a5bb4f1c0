"""Run every family on every recorded case and count the answers per carrier and family.

Deterministic: each (case, family) pair gets its own `random.Random` seeded from the suite seed, the case
and the family name, so adding a case or a family never changes the variants of another.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections import Counter
from dataclasses import dataclass, field

from tests.mutation import combined, completeness, dom, layout, meaning, screen_data  # noqa: F401 - registers families
from tests.mutation.corpus import Case, load_cases
from tests.mutation.oracle import CRASH, EXACT, FLAGGED, NEW_TRUTH, UNVERIFIED, WRONG, classify
from tests.mutation.variants import FAMILIES, LAYOUT, Variant

SEED = 20261129
CLASSES = (EXACT, NEW_TRUTH, FLAGGED, WRONG, UNVERIFIED, CRASH)
# Not a class of its own: a flagged answer that came from a parser bug the framework's checked path caught
# (an exception other than AggregatorError, turned into needs attention). Counted and listed, not asserted.
CAUGHT = "caught"


@dataclass(frozen=True)
class Finding:
    carrier: str
    flow: str
    case: str
    family: str
    klass: str  # LAYOUT or MEANING
    verdict: str
    description: str
    note: str
    detail: str


@dataclass
class Results:
    counts: dict[tuple[str, str], Counter] = field(default_factory=dict)  # (carrier, family) -> verdict counts
    findings: list[Finding] = field(default_factory=list)
    generator_errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, carrier: str, family_name: str, verdict: str) -> None:
        self.counts.setdefault((carrier, family_name), Counter())[verdict] += 1

    def total(self, verdict: str, *, carrier: str | None = None, family_name: str | None = None) -> int:
        return sum(c[verdict] for (ca, fa), c in self.counts.items()
                   if (carrier is None or ca == carrier) and (family_name is None or fa == family_name))

    def variants(self, *, carrier: str | None = None, family_name: str | None = None) -> int:
        return sum(self.total(v, carrier=carrier, family_name=family_name) for v in CLASSES)

    def layout_exact_share(self, carrier: str) -> float:
        names = [n for n, f in FAMILIES.items() if f.klass == LAYOUT]
        total = sum(self.variants(carrier=carrier, family_name=n) for n in names)
        exact = sum(self.total(EXACT, carrier=carrier, family_name=n) for n in names)
        return exact / total if total else 1.0

    @property
    def carriers(self) -> list[str]:
        return sorted({carrier for carrier, _ in self.counts})


def rng_for(seed: int, case: Case, family_name: str) -> random.Random:
    digest = hashlib.sha256(f"{seed}/{case.key}/{family_name}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def variant_budget(case: Case) -> int:
    """How many variants a case gets: fewer for a larger page, since a variant costs one parse and parse time
    grows with the page (40 for a page up to 10 KB, 20 for a 20 KB page, 12 for a 75 KB one). Deterministic:
    it depends on the page, never on the clock."""
    kilobytes = max(1, len(case.html) // 1000)
    return max(12, min(40, 400 // kilobytes))


def select(variants: list[Variant], budget: int, rng: random.Random) -> list[Variant]:
    """Up to `budget` variants, taken round-robin over the families in a per-case shuffled order so every
    family is represented before any family gets its second variant."""
    by_family: dict[str, list[Variant]] = {}
    for variant in variants:
        by_family.setdefault(variant.family, []).append(variant)
    order = sorted(by_family)  # by name, so the choice never depends on the order modules register families
    rng.shuffle(order)
    chosen: list[Variant] = []
    depth = 0
    while len(chosen) < min(budget, len(variants)):
        for name in order:
            if depth < len(by_family[name]) and len(chosen) < budget:
                chosen.append(by_family[name][depth])
        depth += 1
    return chosen


def run(*, seed: int = SEED, carriers: set[str] | None = None, families: set[str] | None = None,
        every_variant: bool = False) -> Results:
    started = time.perf_counter()
    results = Results()
    for case in load_cases():
        if carriers and case.carrier not in carriers:
            continue
        made: list[Variant] = []
        for name, fam in FAMILIES.items():
            if families and name not in families:
                continue
            try:
                made += fam.make(case, rng_for(seed, case, name))
            except Exception as error:  # noqa: BLE001 - a generator bug is reported, never hidden
                results.generator_errors.append(f"{case.key} {name}: {type(error).__name__}: {error}")
        # A meaning-changing variant that changed nothing would turn a generator slip into a "wrong" answer.
        unchanged = {case.html, dom.serialise(dom.parse(case.html))}
        made = [v for v in made if v.klass == LAYOUT or v.html not in unchanged]
        budget = len(made) if families or every_variant else variant_budget(case)
        for variant in select(made, budget, rng_for(seed, case, "select")):
            name = variant.family
            outcome = case.parse(variant.html)
            verdict = classify(case, variant.truth, outcome)
            results.add(case.carrier, name, verdict.klass)
            if outcome.caught:
                results.add(case.carrier, name, CAUGHT)
                results.findings.append(Finding(case.carrier, case.flow, case.name, name, variant.klass, CAUGHT,
                                                variant.description, outcome.caught, ""))
            flagged_layout = verdict.klass == FLAGGED and variant.klass == LAYOUT
            if verdict.klass in (WRONG, CRASH, UNVERIFIED) or flagged_layout:
                detail = "; ".join(f"{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}"
                                   for k, v in verdict.detail.items() if v)
                results.findings.append(Finding(case.carrier, case.flow, case.name, name, variant.klass,
                                                verdict.klass, variant.description, verdict.note, detail))
    results.seconds = time.perf_counter() - started
    return results
