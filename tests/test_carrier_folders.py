"""A carrier is its four folders (issue 13): each registered carrier has them, and nothing outside them
lists carriers.

aggregator/scrapers/<slug>/, sandbox/<slug>/, tests/recorded_pages/<slug>/ and tests/carriers/<slug>/ hold
everything about a carrier; the rest of the code finds carriers through the registry
(`aggregator.scrapers.registry.all_adapters()`) or the sandbox's discovery (`sandbox.carriers.profiles()`).
A list, tuple or set literal, or a dict's keys, naming two or more carriers is such a list (it goes stale
the day a carrier is added), so this test fails on one anywhere in aggregator/, sandbox/, benchmarks/
and tests/ outside the carrier folders. One slug alone is an example (the runner's tests use one portal)
and is allowed, except that the product and the sandbox's shared modules may not compare with a slug
(`if carrier == "x"` is one carrier's special case, which belongs in its folder). A file that must pin
carriers by name says why in ALLOWED below; an entry that no longer matches anything fails too, so the
allow-list cannot rot.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from aggregator.scrapers.registry import all_adapters
from sandbox.carriers import hubs, profiles

REPO = Path(__file__).resolve().parents[1]
SCANNED = ("aggregator", "sandbox", "benchmarks", "tests")
CARRIER_FOLDERS = (("aggregator", "scrapers"), ("sandbox",), ("tests", "recorded_pages"), ("tests", "carriers"))

# path (from the repository root) -> why it may name several carriers in one literal.
ALLOWED: dict[str, str] = {
    "tests/sandbox/test_sandbox_activity.py": "pins the data digests of the carriers that existed before activity "
                                              "data did (a history, not a list to extend)",
    "tests/sandbox/test_sandbox_carriers.py": "pins the documented ports of the first three carriers, which must "
                                              "not move when a carrier is added",
    "tests/unit/test_canary.py": "two example portals, one whose canary fails and one that finishes (the canary's "
                                 "own behaviour, not a list of carriers to cover)",
}


def carrier_slugs() -> set[str]:
    return {a.manifest.slug for a in all_adapters()} | set(profiles()) | set(hubs())


def in_a_carrier_folder(relative: Path, slugs: set[str]) -> bool:
    parts = relative.parts
    return any(parts[:len(prefix)] == prefix and len(parts) > len(prefix) + 1 and parts[len(prefix)] in slugs
               for prefix in CARRIER_FOLDERS)


def scanned_files(slugs: set[str]) -> Iterator[Path]:
    for top in SCANNED:
        for path in sorted((REPO / top).glob("**/*.py")):
            relative = path.relative_to(REPO)
            if ".venv" not in relative.parts and not in_a_carrier_folder(relative, slugs):
                yield path


def _named(nodes: list[ast.expr | None], slugs: set[str]) -> set[str]:
    return {n.value for n in nodes if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value in slugs}


def lists_of_carriers(source: str, slugs: set[str], *, shared_code: bool = False) -> list[tuple[int, list[str]]]:
    """(line, slugs) of every list/tuple/set literal or dict whose keys name two or more carriers; in shared
    code (`shared_code`: the product and the sandbox's own modules), also every comparison with one slug
    (`if carrier == "x"`: one carrier's special case, which belongs in that carrier's folder)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            named = _named(list(node.elts), slugs)
        elif isinstance(node, ast.Dict):
            named = _named(list(node.keys), slugs)
        elif isinstance(node, ast.Compare) and shared_code:
            named = _named([node.left, *node.comparators], slugs)
            if named:
                found.append((node.lineno, sorted(named)))
            continue
        else:
            continue
        if len(named) >= 2:
            found.append((node.lineno, sorted(named)))
    return found


def is_shared_code(relative: Path) -> bool:
    return relative.parts[0] in ("aggregator", "sandbox")


def test_no_file_outside_the_carrier_folders_lists_carriers() -> None:
    slugs = carrier_slugs()
    found = {}
    for path in scanned_files(slugs):
        hits = lists_of_carriers(path.read_text(encoding="utf-8"), slugs,
                                 shared_code=is_shared_code(path.relative_to(REPO)))
        relative = str(path.relative_to(REPO))
        if hits and relative not in ALLOWED:
            found[relative] = [f"line {line}: {', '.join(named)}" for line, named in hits]
    assert found == {}, (
        "a list of carriers outside the carrier folders; iterate aggregator.scrapers.registry.all_adapters() "
        f"or sandbox.carriers.profiles() instead (or say why in ALLOWED): {found}")


def test_every_allowed_file_still_lists_carriers() -> None:
    slugs = carrier_slugs()
    stale = [path for path in ALLOWED if not (REPO / path).exists() or not lists_of_carriers(
        (REPO / path).read_text(encoding="utf-8"), slugs, shared_code=is_shared_code(Path(path)))]
    assert stale == [], f"ALLOWED entries that list no carriers any more (remove them): {stale}"


def test_the_scan_finds_a_list_a_dict_and_a_membership_test_but_not_one_example() -> None:
    slugs = {"alpha", "beta"}
    source = '''
CARRIERS = ("alpha", "beta")
PORTS = {"alpha": 8001, "beta": 8002}
if slug in {"alpha", "beta"}:
    pass
run("alpha", member="beta")
EXAMPLE = ["alpha", "gamma"]
'''
    assert lists_of_carriers(source, slugs) == [(2, ["alpha", "beta"]), (3, ["alpha", "beta"]),
                                                (4, ["alpha", "beta"])]


def test_in_shared_code_one_carriers_special_case_is_found_too() -> None:
    source = 'if carrier == "alpha":\n    pass\nwhile "beta" != slug:\n    pass\nprint("alpha")\n'
    assert lists_of_carriers(source, {"alpha", "beta"}, shared_code=True) == [(1, ["alpha"]), (3, ["beta"])]
    assert lists_of_carriers(source, {"alpha", "beta"}) == []  # a test may use one carrier as its example


def test_the_carrier_folders_are_not_scanned_and_the_shared_code_is() -> None:
    slugs = carrier_slugs()
    files = {str(p.relative_to(REPO)) for p in scanned_files(slugs)}
    slug = sorted(slugs)[0]
    assert not any(f.startswith((f"aggregator/scrapers/{slug}/", f"sandbox/{slug}/", f"tests/carriers/{slug}/"))
                   for f in files)
    assert {"aggregator/scrapers/registry.py", "sandbox/server.py", "tests/test_recorded_pages.py"} <= files


def test_every_carrier_has_its_four_folders() -> None:
    """The registry's portals and the sandbox's are the same (a carrier's own portal or a hub serving several
    payers, sandbox.carriers.hubs()), and each has its recorded pages and its own tests."""
    registered = {a.manifest.slug for a in all_adapters()}
    assert registered == set(profiles()) | set(hubs()), (
        "an adapter without a sandbox portal, or a portal without an adapter")
    assert {a.manifest.slug for a in all_adapters() if a.manifest.is_hub} == set(hubs()), (
        "a hub adapter is served by a sandbox hub, a carrier's adapter by a carrier folder")
    for slug in sorted(registered):
        own_tests = REPO / "tests" / "carriers" / slug
        assert (REPO / "tests" / "recorded_pages" / slug).is_dir(), f"tests/recorded_pages/{slug}/ is missing"
        assert (own_tests / "__init__.py").is_file(), f"tests/carriers/{slug}/__init__.py is missing"
        assert list(own_tests.glob("test_*.py")), f"tests/carriers/{slug}/ holds no tests"
