"""`aggregator dev new-carrier SLUG`: a working skeleton of a new carrier, in the four folders of the carrier
contract (docs/adding-a-carrier.md):

    aggregator/scrapers/<slug>/   manifest, adapter, pages (parsers), maps
    sandbox/<slug>/               a tiny sandbox portal (login + TOTP, member search, benefits page), its
                                  profile (dataset, port) and its recorded-page case declaration
    tests/carriers/<slug>/        page tests and an end-to-end test
    tests/recorded_pages/<slug>/  recorded pages, written by the recorder (`aggregator sandbox record-pages`)

The files are rendered from the templates in aggregator/dev/templates/ (string.Template: `${slug}`,
`${name}`, `${cls}`, ...; a literal dollar sign is `$$`). The scaffold only ever creates files, in folders
named for the slug: it refuses a slug that is taken, and never overwrites or edits an existing file.

This module reads the source tree it writes into (`root`) as files; it never imports `sandbox` (the
product package does not depend on the sandbox), so the next free sandbox port offset is read from the
`port_offset=` of the existing `sandbox/*/profile.py` files.
"""

from __future__ import annotations

import ast
import keyword
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template

from aggregator.scrapers.framework import Capability

TEMPLATES = "templates"
# Template group -> the folder of the carrier contract it renders into ({slug} filled in).
FOLDERS: dict[str, str] = {
    "scrapers": "aggregator/scrapers/{slug}",
    "sandbox": "sandbox/{slug}",
    "tests": "tests/carriers/{slug}",
    "recorded_pages": "tests/recorded_pages/{slug}",
}
SLUG_IN_FILE_NAME = "__slug__"
RESERVED = frozenset({"framework", "registry", "dev", "carriers", "common", "templates", "static", "tests"})
SLUG = re.compile(r"[a-z][a-z0-9_]{1,39}")  # the manifest's slug rule (framework/manifest.py)
SUPPORTED_CAPABILITIES = frozenset({Capability.ELIGIBILITY})


class ScaffoldError(ValueError):
    """The carrier cannot be generated as asked (a bad or taken slug, a file in the way)."""


@dataclass(frozen=True)
class Carrier:
    slug: str
    name: str
    capabilities: frozenset[Capability]
    port_offset: int

    @property
    def cls(self) -> str:
        """The class-name stem: `acme_health` -> `AcmeHealth` (AcmeHealthAdapter, ...)."""
        return "".join(part.capitalize() for part in self.slug.split("_"))

    @property
    def code(self) -> str:
        """Letters for the carrier's made-up identifiers (member-id prefix, plan codes, payer id)."""
        letters = re.sub(r"[^A-Z]", "", self.slug.upper())
        return (letters + "XX")[:2]

    def values(self) -> dict[str, str]:
        return {
            "slug": self.slug,
            "name": self.name,
            "cls": self.cls,
            "code": self.code,
            "payer_id": (re.sub(r"[^A-Z]", "", self.slug.upper()) + "PLAN")[:4] + "1",
            "port_offset": str(self.port_offset),
            "cookie": f"{self.slug.upper()}SESSION",
            "capabilities": ", ".join(f"Capability.{c.name}" for c in sorted(self.capabilities, key=str)),
        }


def find_root(start: Path | None = None) -> Path:
    """The source tree to write into: the checkout holding this package when it is one (an editable
    install), else the current directory or the nearest parent holding pyproject.toml and sandbox/."""
    here = Path(__file__).resolve().parents[2]
    candidates = [here] if start is None else []
    base = (start or Path.cwd()).resolve()
    candidates += [base, *base.parents]
    for candidate in candidates:
        if (candidate / "pyproject.toml").is_file() and (candidate / "aggregator").is_dir():
            return candidate
    raise ScaffoldError("no source checkout found (a folder with pyproject.toml and aggregator/): run this in one, "
                        "or give --root")


def parse_capabilities(text: str) -> frozenset[Capability]:
    names = {c.value: c for c in Capability} | {"claims": Capability.CLAIM_STATUS,
                                                 "authorizations": Capability.AUTHORIZATION}
    wanted = [part.strip().lower() for part in text.split(",") if part.strip()]
    unknown = [w for w in wanted if w not in names]
    if unknown or not wanted:
        raise ScaffoldError(f"unknown capability '{(unknown or [''])[0]}' (known: {', '.join(c.value for c in Capability)})")
    chosen = frozenset(names[w] for w in wanted)
    missing = sorted(c.value for c in chosen - SUPPORTED_CAPABILITIES)
    if missing:
        raise ScaffoldError(f"the scaffold generates eligibility only; add {', '.join(missing)} by hand after "
                            "generating (docs/adding-a-carrier.md, 'Adding a capability')")
    return chosen


def check_slug(slug: str, root: Path) -> None:
    if not SLUG.fullmatch(slug):
        raise ScaffoldError(f"'{slug}' is not a carrier slug: 2-40 lowercase letters, digits or '_', starting with "
                            "a letter (it is a Python package name, a URL part and a log prefix)")
    if keyword.iskeyword(slug) or slug in RESERVED:
        raise ScaffoldError(f"'{slug}' is a reserved name, not a carrier slug")
    taken = [folder.format(slug=slug) for folder in FOLDERS.values() if (root / folder.format(slug=slug)).exists()]
    if taken:
        raise ScaffoldError(f"carrier '{slug}' is taken: {', '.join(taken)} already exist(s); the scaffold never "
                            "overwrites (pick another slug, or remove those folders)")


def next_port_offset(root: Path) -> int:
    """One more than the highest `port_offset=` of the sandbox carriers in `root` (0 when there are none)."""
    offsets = []
    for profile in sorted((root / "sandbox").glob("*/profile.py")):
        for node in ast.walk(ast.parse(profile.read_text(encoding="utf-8"))):
            if isinstance(node, ast.keyword) and node.arg == "port_offset" and isinstance(node.value, ast.Constant):
                offsets.append(int(node.value.value))
    return max(offsets, default=-1) + 1


def default_name(slug: str) -> str:
    return " ".join(part.capitalize() for part in slug.split("_")) + " Health"


def plan(carrier: Carrier) -> dict[Path, str]:
    """Relative path -> rendered text of every file the scaffold writes for `carrier` (nothing is written)."""
    values = carrier.values()
    files: dict[Path, str] = {}
    base = resources.files("aggregator.dev") / TEMPLATES
    for group, folder in FOLDERS.items():
        source = base / group
        if not source.is_dir():
            continue
        for template in _walk(source):
            relative = template[0]
            target = Path(folder.format(slug=carrier.slug)) / relative.removesuffix(".tmpl").replace(
                SLUG_IN_FILE_NAME, carrier.slug)
            try:
                files[target] = Template(template[1]).substitute(values)
            except (KeyError, ValueError) as error:  # a template bug, not the user's
                raise RuntimeError(f"template {group}/{relative}: {error!r}") from None
    return files


def _walk(folder: resources.abc.Traversable, prefix: str = "") -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.is_dir():
            if entry.name != "__pycache__":
                found += _walk(entry, f"{prefix}{entry.name}/")
        elif entry.name.endswith(".tmpl"):
            found.append((f"{prefix}{entry.name}", entry.read_text(encoding="utf-8")))
    return found


def new_carrier(slug: str, root: Path, *, name: str | None = None,
                capabilities: frozenset[Capability] = SUPPORTED_CAPABILITIES) -> list[Path]:
    """Write the skeleton of carrier `slug` under `root`; returns the files written (absolute)."""
    check_slug(slug, root)
    if not (root / "aggregator" / "scrapers").is_dir():
        raise ScaffoldError(f"{root} is not a source checkout (no aggregator/scrapers/)")
    display = (name or default_name(slug)).strip()
    if not display or any(c in display for c in "<>&\"'\\$") or len(display) > 60:
        raise ScaffoldError("the display name is 1-60 characters without < > & \" ' \\ or $")
    carrier = Carrier(slug, display, capabilities, next_port_offset(root))
    files = plan(carrier)
    in_the_way = [str(path) for path in files if (root / path).exists()]
    if in_the_way:  # checked again here: nothing is written unless every file is new
        raise ScaffoldError(f"refusing to overwrite {', '.join(in_the_way)}")
    written = []
    for path, text in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("x", encoding="utf-8") as out:  # "x": fails rather than overwrite
            out.write(text)
        written.append(target)
    return written
