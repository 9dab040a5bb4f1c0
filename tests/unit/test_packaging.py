"""The product's wheel holds the product only: the sandbox is a separate development distribution that plugs
its commands into `aggregator` through an entry point."""

import tomllib
from importlib.metadata import entry_points
from pathlib import Path

from setuptools import find_packages

ROOT = Path(__file__).parents[2]


def _find(pyproject: Path) -> list[str]:
    config = tomllib.loads(pyproject.read_text())["tool"]["setuptools"]["packages"]["find"]
    where = [str((pyproject.parent / w).resolve()) for w in config.get("where", ["."])]
    return [p for w in where for p in find_packages(w, include=config["include"])]


def test_product_wheel_packages_are_the_product_only():
    packages = _find(ROOT / "pyproject.toml")
    assert "aggregator" in packages and "vault" in packages and "aggregator.scrapers.framework" in packages
    assert not [p for p in packages if p.split(".")[0] in {"sandbox", "tests", "benchmarks", "scripts"}]


def test_sandbox_distribution_holds_every_sandbox_package_and_nothing_else():
    packages = _find(ROOT / "sandbox" / "pyproject.toml")
    assert "sandbox" in packages
    assert {p.split(".")[0] for p in packages} == {"sandbox"}
    on_disk = {".".join(init.parent.relative_to(ROOT).parts) for init in (ROOT / "sandbox").rglob("__init__.py")}
    assert on_disk <= set(packages)


def test_sandbox_commands_arrive_as_a_plugin():
    plugins = {e.name: e.value for e in entry_points(group="aggregator.commands")}
    assert plugins.get("sandbox") == "sandbox.cli:register"


class _Entry:
    def __init__(self, module: str, error: Exception | None = None) -> None:
        self.module, self.error, self.registered = module, error, []

    def load(self):
        if self.error:
            raise self.error
        return self.registered.append


def test_a_plugin_whose_package_is_absent_is_skipped_and_a_broken_one_is_not(monkeypatch):
    import pytest

    import aggregator.cli as cli

    absent = _Entry("sandbox.cli", ModuleNotFoundError("No module named 'sandbox'", name="sandbox"))
    present = _Entry("extra.cli")
    monkeypatch.setattr(cli, "entry_points", lambda group: [absent, present])
    cli.load_plugins("root")
    assert present.registered == ["root"]

    broken = _Entry("sandbox.cli", ModuleNotFoundError("No module named 'lxml'", name="lxml"))
    monkeypatch.setattr(cli, "entry_points", lambda group: [broken])
    with pytest.raises(ModuleNotFoundError, match="lxml"):
        cli.load_plugins("root")
