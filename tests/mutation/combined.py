"""Families made of other families: several layout-only changes at once, and a meaning change on a page
that has also drifted. Drift must neither break a good reading nor hide a contradiction."""

from __future__ import annotations

import random
from dataclasses import replace

from tests.mutation.corpus import Case
from tests.mutation.oracle import SAME
from tests.mutation.sites import Made
from tests.mutation.variants import FAMILIES, LAYOUT, MEANING, family

# Families that split text nodes (a comment or an invisible character inside a word): a value split in two
# is no longer one value a meaning family can find and change, so they are left out as a base for those.
SPLITTING = ("comment_split_text", "invisible_characters")
COMBINED = ("layout_combined", "meaning_after_layout")


def _layout_names(*, exclude: tuple[str, ...] = ()) -> list[str]:
    return sorted(name for name, fam in FAMILIES.items()
                  if fam.klass == LAYOUT and name not in ("roundtrip", *COMBINED, *exclude))


@family("layout_combined", LAYOUT)
def layout_combined(case: Case, rng: random.Random) -> Made:
    """Three other layout-only families applied one after the other (a redesign rarely changes one thing):
    still exactly the expected answer."""
    made = []
    for _ in range(2):
        current, applied = case, []
        for name in rng.sample(_layout_names(), 3):
            variants = FAMILIES[name].make(current, rng)
            if variants:
                current = replace(current, html=rng.choice(variants).html)
                applied.append(name)
        if applied:
            made.append((f"combined: {' + '.join(applied)}", current.html, SAME))
    return made


@family("meaning_after_layout", MEANING)
def meaning_after_layout(case: Case, rng: random.Random) -> Made:
    """A layout-only change (not one that splits text nodes) and then a meaning change on the drifted page:
    the meaning change's own truth applies (drift must not hide a contradiction or a cut)."""
    meanings = sorted(name for name, fam in FAMILIES.items() if fam.klass == MEANING and name not in COMBINED)
    made = []
    for _ in range(2):
        base = FAMILIES[rng.choice(_layout_names(exclude=SPLITTING))].make(case, rng)
        if not base:
            continue
        drifted = replace(case, html=rng.choice(base).html)
        name = rng.choice(meanings)
        variants = FAMILIES[name].make(drifted, rng)
        if variants:
            variant = rng.choice(variants)
            made.append((f"{base[0].family}, then {name}: {variant.description}", variant.html, variant.truth))
    return made
