"""`aggregator dev new-carrier`: the files it writes (only new ones, all in folders named for the slug), that
they compile and import, the slugs it refuses, and that the committed Summit Health Plan carrier -- made with
it -- is exactly what the templates generate today (so the templates and summit never drift apart).

Every generation here goes to a temporary root (`--root`); the repository is only read. Whether a generated
carrier works end to end is shown by summit itself: its own tests (tests/carriers/summit/) and every
cross-carrier test run on it.
"""

from __future__ import annotations

import ast
import importlib
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import aggregator.scrapers
import sandbox
from aggregator.cli import app
from aggregator.dev.scaffold import (
    FOLDERS,
    Carrier,
    ScaffoldError,
    new_carrier,
    next_port_offset,
    parse_capabilities,
    plan,
)
from aggregator.scrapers.framework import Capability

REPO = Path(__file__).resolve().parents[1]
SUMMIT = ("summit", "Summit Health Plan")
PLACEHOLDER = re.compile(r"\$\{?(" + "|".join(Carrier("x", "X", frozenset(), 0).values()) + r")\b")
GENERATED = {  # folder of the contract -> the files the skeleton has there (the recorder adds the pages)
    "aggregator/scrapers/{slug}": {"__init__.py", "adapter.py", "manifest.py", "maps.py", "pages.py"},
    "sandbox/{slug}": {"__init__.py", "app.py", "profile.py", "recording.py", "views.py", "vocabulary.py"},
    "tests/carriers/{slug}": {"__init__.py", "test_{slug}_e2e.py", "test_{slug}_pages.py", "test_{slug}_recorded_cases.py",
                              "test_{slug}_web.py"},
}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """The parts of a checkout the scaffold reads: pyproject.toml, the two packages' folders, and the
    sandbox profiles (for the next port offset)."""
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "aggregator" / "scrapers").mkdir(parents=True)
    # Under other folder names: a carrier made in the repository (say `acme`) must not take the slugs used here.
    for number, profile in enumerate(sorted((REPO / "sandbox").glob("*/profile.py"))):
        target = tmp_path / "sandbox" / f"existing_{number}" / "profile.py"
        target.parent.mkdir(parents=True)
        shutil.copy(profile, target)
    (tmp_path / "sandbox" / "dataset.py").write_text("", encoding="utf-8")  # a shared module a slug may not hide
    return tmp_path


def files_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts}


def test_the_skeleton_is_new_files_only_all_in_folders_named_for_the_slug(root: Path) -> None:
    before = files_under(root)
    written = new_carrier("probe_health", root, name="Probe Health")
    after = files_under(root)
    assert before <= after and {str(p.relative_to(root)) for p in written} == after - before
    wanted = {f"{folder}/{name}".format(slug="probe_health") for folder, names in GENERATED.items() for name in names}
    assert after - before == wanted
    for path in after - before:  # e.g. sandbox/probe_health/app.py: one of the four folders, named for the slug
        assert any(path.startswith(folder.format(slug="probe_health") + "/") for folder in FOLDERS.values()), path


def test_the_generated_python_compiles_and_names_the_carrier(root: Path) -> None:
    written = new_carrier("probe_health", root, name="Probe Health")
    for path in written:
        source = path.read_text(encoding="utf-8")
        compile(source, str(path), "exec")
        assert "summit" not in source.lower() and not PLACEHOLDER.search(source), path
    manifest = (root / "aggregator/scrapers/probe_health/manifest.py").read_text(encoding="utf-8")
    assert 'slug="probe_health"' in manifest and 'display_name="Probe Health"' in manifest
    assert "class Probe_HealthAdapter(CarrierAdapter)" in (root / "aggregator/scrapers/probe_health/adapter.py").read_text()


@pytest.fixture
def importable(root: Path) -> Iterator[Path]:
    """The temporary root's carrier folders importable as aggregator.scrapers.<slug> and sandbox.<slug>."""
    added = [(aggregator.scrapers, str(root / "aggregator" / "scrapers")), (sandbox, str(root / "sandbox"))]
    for package, folder in added:
        package.__path__.append(folder)
    yield root
    for package, folder in added:
        package.__path__.remove(folder)
    for name in [n for n in sys.modules if "probe_health" in n.split(".")]:
        del sys.modules[name]


def test_the_generated_carrier_imports_and_keeps_the_contract(importable: Path) -> None:
    new_carrier("probe_health", importable, name="Probe Health")
    adapter = importlib.import_module("aggregator.scrapers.probe_health").ADAPTER
    assert adapter.__name__.lower() == "probe_healthadapter" and adapter.manifest.slug == "probe_health"
    assert adapter.implemented_capabilities() == adapter.manifest.capabilities == {Capability.ELIGIBILITY}
    portal = importlib.import_module("sandbox.probe_health")
    assert portal.PROFILE.slug == "probe_health" and callable(portal.create_app)
    assert portal.PROFILE.port_offset == next_port_offset(REPO)  # the next free port, after every carrier's
    recording = importlib.import_module("sandbox.probe_health.recording")
    assert {"HAND_MADE", "RECORDED_WITH", "cases", "meaning_change_for"} <= set(dir(recording))


@pytest.mark.parametrize(("slug", "why"), [
    ("Probe", "not a carrier slug"), ("probe-health", "not a carrier slug"), ("1probe", "not a carrier slug"),
    ("a", "not a carrier slug"), ("class", "reserved"), ("framework", "reserved"), ("dataset", "taken by the module"),
])
def test_a_bad_slug_is_refused_with_the_reason(root: Path, slug: str, why: str) -> None:
    before = files_under(root)
    with pytest.raises(ScaffoldError, match=why):
        new_carrier(slug, root)
    assert files_under(root) == before


def test_a_taken_slug_is_refused_and_nothing_is_overwritten(root: Path) -> None:
    new_carrier("probe", root)
    page = root / "sandbox" / "probe" / "app.py"
    page.write_text("# edited by hand\n", encoding="utf-8")
    with pytest.raises(ScaffoldError, match="taken"):
        new_carrier("probe", root)
    assert page.read_text(encoding="utf-8") == "# edited by hand\n"
    (root / "tests" / "recorded_pages" / "zeta").mkdir(parents=True)  # any one of the four folders takes the slug
    with pytest.raises(ScaffoldError, match="tests/recorded_pages/zeta"):
        new_carrier("zeta", root)


def test_a_bad_display_name_or_capability_is_refused(root: Path) -> None:
    with pytest.raises(ScaffoldError, match="display name"):
        new_carrier("probe", root, name="Probe <b>")
    with pytest.raises(ScaffoldError, match="unknown capability"):
        parse_capabilities("eligibility,dental")
    with pytest.raises(ScaffoldError, match="eligibility only"):
        parse_capabilities("eligibility,claims")
    assert parse_capabilities(" Eligibility ") == {Capability.ELIGIBILITY}


def test_the_command_writes_into_root_and_exits_2_on_a_refusal(root: Path) -> None:
    runner = CliRunner()
    made = runner.invoke(app, ["dev", "new-carrier", "probe", "--name", "Probe Care", "--root", str(root), "--no-record"])
    assert made.exit_code == 0, made.output
    assert "created sandbox/probe/app.py" in made.output and "record-pages --carrier probe" in made.output
    again = runner.invoke(app, ["dev", "new-carrier", "probe", "--root", str(root), "--no-record"])
    assert again.exit_code == 2 and "taken" in again.output


def _port_offset(profile: Path) -> int:
    return next(node.value.value for node in ast.walk(ast.parse(profile.read_text(encoding="utf-8")))
                if isinstance(node, ast.keyword) and node.arg == "port_offset" and isinstance(node.value, ast.Constant))


def test_the_committed_summit_carrier_is_exactly_a_fresh_generation() -> None:
    """Summit was made with the scaffold and never edited by hand: change the templates and regenerate
    (remove its three generated folders, keep tests/recorded_pages/summit aside, run the command, put it back)."""
    slug, name = SUMMIT
    carrier = Carrier(slug, name, frozenset({Capability.ELIGIBILITY}), _port_offset(REPO / "sandbox" / slug / "profile.py"))
    fresh = {str(path): text for path, text in plan(carrier).items()}
    committed = {path: (REPO / path).read_text(encoding="utf-8") for folder in GENERATED
                 for path in sorted(files_under(REPO / folder.format(slug=slug)))
                 for path in [f"{folder.format(slug=slug)}/{path}"]}
    assert sorted(committed) == sorted(fresh)
    assert [path for path in fresh if committed[path] != fresh[path]] == []
    assert (REPO / "tests" / "recorded_pages" / slug / "eligibility").is_dir()  # recorded by the recorder
