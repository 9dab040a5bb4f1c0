"""The coverage matrix (`aggregator carriers`, docs/carriers.md): every registered carrier, read from its manifest,
held to what its adapter implements and to what its sandbox portal shows."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from aggregator.cli import app
from aggregator.models import ServiceType
from aggregator.scrapers.framework import CarrierAdapter
from aggregator.scrapers.framework.manifest import Capability, Need, call_the_payer
from aggregator.scrapers.framework.manifest_matrix import MARKDOWN_COMMAND, matrix_markdown
from aggregator.scrapers.registry import all_adapters
from sandbox.carriers import hubs, profiles
from sandbox.plans import build_plan

DOC = Path(__file__).parents[2] / "docs" / "carriers.md"
ADAPTERS = all_adapters()
IDS = [a.manifest.slug for a in ADAPTERS]
ROW_KEYS = {"slug", "display_name", "status", "capabilities", "not_available", "search_modes", "login", "limits",
            "maintenance_windows", "caps", "gaps", "payers"}
GAP_KEYS = {"need", "capability", "not_at_carrier", "missing", "shown_for", "note", "call_the_payer", "text"}


def run(*args: str) -> str:
    result = CliRunner().invoke(app, ["carriers", *args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def rows() -> dict[str, dict]:
    return {row["slug"]: row for row in json.loads(run("--json"))}


def test_json_lists_every_registered_carrier_once(rows: dict[str, dict]):
    assert sorted(rows) == sorted(IDS)
    assert all(set(row) == ROW_KEYS for row in rows.values())


@pytest.mark.parametrize("adapter", ADAPTERS, ids=IDS)
def test_json_row_says_what_the_adapter_implements(adapter: type[CarrierAdapter], rows: dict[str, dict]):
    manifest, row = adapter.manifest, rows[adapter.manifest.slug]
    implemented = adapter.implemented_capabilities()
    assert set(row["capabilities"]) == {c.value for c in implemented}
    assert set(row["not_available"]) == {c.value for c in Capability if c not in implemented}
    assert {m["capability"] for m in row["search_modes"]} == set(row["capabilities"])
    assert row["login"]["kind"] == manifest.login_kind.value
    assert {m["kind"] for m in row["login"]["mfa"]} == {k.value for k in manifest.mfa_kinds}
    assert row["limits"]["session_lifetime_minutes"] == manifest.session_lifetime_minutes
    assert len(row["maintenance_windows"]) == len(manifest.maintenance_windows)
    assert [c["kind"] for c in row["caps"]] == [c.kind.value for c in manifest.caps]


@pytest.mark.parametrize("adapter", ADAPTERS, ids=IDS)
def test_every_gap_carries_its_call_the_payer_item(adapter: type[CarrierAdapter], rows: dict[str, dict]):
    manifest, row = adapter.manifest, rows[adapter.manifest.slug]
    gaps = row["gaps"]
    whole = [g["need"] for g in gaps if g["not_at_carrier"]]
    assert whole == [Need.of_capability(Capability(c)).value for c in row["not_available"]]
    assert [g["need"] for g in gaps if not g["not_at_carrier"]] == [g.need.value for g in manifest.gaps]
    for gap in gaps:
        assert set(gap) == GAP_KEYS
        item = gap["call_the_payer"]
        assert gap["text"].startswith(f"Call {manifest.display_name} {item['contact']}: ask ")
        assert item["carrier"] == manifest.slug and item["fills"] and item["ask"] in gap["text"]
        assert Need(gap["need"]).capability.value == gap["capability"]
    # What the worklist gets for a question the carrier cannot answer at all.
    for capability in Capability:
        item = call_the_payer(manifest, capability)
        assert (item is not None) == (capability not in adapter.implemented_capabilities())


def sandbox_plan_specs(adapter: type[CarrierAdapter]) -> list[Any]:
    """The plans the adapter's sandbox portal shows benefits of: its own profile's, or for a hub the plans of
    every payer it serves (each payer's sandbox data)."""
    from sandbox.carriers import payer_source
    from sandbox.dataset import generate_dataset

    if adapter.manifest.slug in profiles():
        return list(profiles()[adapter.manifest.slug].plans)
    dataset = generate_dataset(carriers=[p.slug for p in adapter.manifest.served_payers() if p.slug in profiles()])
    return [spec for payer in adapter.manifest.served_payers()
            for spec in payer_source(dataset, payer.slug).carrier(payer.slug).profile.plans]


SANDBOX_PORTALS = [a for a in ADAPTERS if a.manifest.slug in profiles() or a.manifest.slug in hubs()]


@pytest.mark.parametrize("adapter", SANDBOX_PORTALS, ids=[a.manifest.slug for a in SANDBOX_PORTALS])
def test_a_per_service_gap_never_hides_what_the_sandbox_portal_shows(adapter: type[CarrierAdapter]):
    """Ground truth: the service types the sandbox portal prints benefits and prior-auth requirements for are
    never declared missing (a gap may only name what the portal really does not show)."""
    plans = [build_plan(spec) for spec in sandbox_plan_specs(adapter)]
    shown = {service for plan in plans for service in plan.services}  # each with its prior-auth flag
    for need in (Need.SERVICE_BENEFITS, Need.PRIOR_AUTH_REQUIREMENT):
        for service in shown:
            assert call_the_payer(adapter.manifest, need, service) is None, f"{need.value}: {service.label}"
        gap = adapter.manifest.gap_for(need)
        if gap is not None and gap.shown_for is not None:  # and the portal shows nothing it does not list
            # (plan-level lines, service type 30, are on every benefits page besides the services)
            assert gap.shown_for - {ServiceType.HEALTH_BENEFIT_PLAN_COVERAGE} == shown, need.value


def test_the_table_names_every_carrier_and_its_gaps():
    output = run()
    for adapter in ADAPTERS:
        assert adapter.manifest.display_name in output
        assert adapter.manifest.slug in output


def test_json_and_markdown_together_are_a_usage_error():
    result = CliRunner().invoke(app, ["carriers", "--json", "--markdown"])
    assert result.exit_code == 2


def test_docs_carriers_md_is_what_the_generator_writes_now():
    """docs/carriers.md cannot go stale: it must equal the generator's output for the carriers it lists. A
    carrier added since (e.g. by `aggregator dev new-carrier`, which creates new files only) is reported, not
    failed: regenerate the page when the carrier is ready."""
    text = DOC.read_text(encoding="utf-8")
    found = re.search(r"^<!-- carriers: (.*) -->$", text, flags=re.MULTILINE)
    assert found, "docs/carriers.md lacks its generated carrier list"
    listed = found.group(1).split(", ")
    manifests = {a.manifest.slug: a.manifest for a in ADAPTERS}
    gone = sorted(set(listed) - set(manifests))
    assert not gone, f"docs/carriers.md lists carriers no longer registered {gone}: run `{MARKDOWN_COMMAND}`"
    assert text == matrix_markdown(manifests[slug] for slug in listed), f"docs/carriers.md is stale: run `{MARKDOWN_COMMAND}`"
    unlisted = sorted(set(manifests) - set(listed))
    if unlisted:
        warnings.warn(f"docs/carriers.md does not list {unlisted} yet: run `{MARKDOWN_COMMAND}`", stacklevel=1)


def test_markdown_option_prints_the_page_for_every_registered_carrier():
    assert run("--markdown") == matrix_markdown(a.manifest for a in ADAPTERS)
