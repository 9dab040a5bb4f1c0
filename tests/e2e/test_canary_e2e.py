"""The canary against the real sandbox portals and Chromium (issue 13, "Must show").

One portal switches to its `v2` layout, whose benefits page carries a change of meaning for the canary
member's plan: that portal's canary ends "needs attention", its items are held (pending, not attempted:
the portal saw the canary lookup only), and every other portal's items finish equal to the ground truth,
each account logging in once (the canary's session is the batch's). Back on v1, the next run's canary
passes and the held items finish equal to the ground truth too.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

from sqlmodel import select

from aggregator.overnight.appointments import import_appointments
from aggregator.overnight.batch import TERMINAL_STATES, BatchRun, ItemState
from aggregator.scrapers.registry import adapter_for
from aggregator.store import Repository
from aggregator.store import batches as store
from aggregator.store import canary as canary_store
from aggregator.store.tables import LookupRow
from sandbox.appointments import appointment_list, write_csv
from sandbox.batch_truth import item_problems
from tests.e2e.fixtures import account_stats
from tests.e2e.test_batch_e2e import DAY, OPTIONS, carriers


def _active(sandbox, slug: str):  # type: ignore[no-untyped-def]
    return [m for m in sandbox.dataset.carrier(slug).members.values() if m.covered_on(DAY)]


def _meaning_change(sandbox, slug: str, member_id: str) -> str | None:  # type: ignore[no-untyped-def]
    """The v2 change of meaning of this member's page, as the carrier's recording declaration says (a carrier
    that declares none has none)."""
    declared = getattr(importlib.import_module(f"sandbox.{slug}.recording"), "meaning_change_for", None)
    return declared(sandbox.dataset.carrier(slug), member_id, "v2") if declared else None


def _drifting_portal(sandbox, slugs: list[str]) -> str:  # type: ignore[no-untyped-def]
    """The first portal with an active member whose v2 benefits page changes meaning."""
    return next(s for s in slugs if any(_meaning_change(sandbox, s, m.member_id) for m in _active(sandbox, s)))


def _configure(repository, sandbox, vault, slugs: list[str], drifting: str) -> None:  # type: ignore[no-untyped-def]
    """A canary member for every account of every portal: on the drifting portal one whose v2 page changes
    meaning, elsewhere one whose page does not."""
    for slug in slugs:
        wanted = slug == drifting
        member = next((m for m in _active(sandbox, slug) if bool(_meaning_change(sandbox, slug, m.member_id)) == wanted),
                      None)
        if member is None:  # a portal with no such member (a tiny scaffold dataset) runs without a canary
            continue
        for account in vault.accounts(slug):
            canary_store.set_member(repository, carrier=slug, account_label=account.label, member_id=member.member_id,
                                    date_of_birth=member.date_of_birth, last_name=member.last_name)


def _batch_lookups(repository, slug: str) -> list[LookupRow]:  # type: ignore[no-untyped-def]
    with repository.session() as session:
        return list(session.exec(select(LookupRow).where(LookupRow.carrier == slug, LookupRow.source != "canary")))


async def test_a_failing_canary_holds_its_portal_and_the_rest_of_the_batch_finishes(
        make_runner, sandbox, portals, vault, tmp_path: Path):
    slugs = carriers(sandbox)
    drifting = _drifting_portal(sandbox, slugs)
    others = [s for s in slugs if s != drifting]
    async with make_runner() as runner:
        rows = appointment_list(sandbox.dataset, DAY, 4 * len(slugs), carriers=slugs)
        report = import_appointments(runner.repository, write_csv(rows, tmp_path / "appointments.csv"))
        assert report.problems == []
        _configure(runner.repository, sandbox, vault, slugs, drifting)
        portals[drifting].update_faults({"layout_version": "v2"})

        summary = await BatchRun(runner, DAY, options=OPTIONS, trigger="nightly").run()

        items = store.items_on(runner.repository, DAY)
        held = [i for i in items if i.carrier == drifting]
        assert held and {i.state for i in held} == {"pending"}
        assert all(i.reason_code == "canary_held" and i.attempts == 0 for i in held)
        portal_name = adapter_for(drifting).manifest.display_name
        assert (held[0].reason or "").startswith(f"held: canary failed at {portal_name}: ")
        assert set(summary.held) == {drifting}
        assert _batch_lookups(runner.repository, drifting) == []  # not burned through
        # One failed canary lookup is enough: the portal's other accounts are not asked (layout drift is the portal's).
        assert [r.status for (slug, _), r in canary_store.latest_results(runner.repository).items()
                if slug == drifting] == ["failed"]
        # The rest of the batch: terminal and equal to the ground truth.
        rest = [i for i in items if i.carrier != drifting]
        assert rest and all(ItemState(i.state) in TERMINAL_STATES for i in rest)
        problems = {i.appointment_id: item_problems(runner.repository, sandbox.dataset, i,
                                                    store.get_appointment(runner.repository, i.appointment_id))
                    for i in rest}
        assert {(i.appointment_id, i.carrier, i.state, i.reason_code): problems[i.appointment_id]
                for i in rest if problems[i.appointment_id]} == {}
        # A passing canary's session is the batch's: one login per account, whatever it checked after.
        passed = {key: r for key, r in canary_store.latest_results(runner.repository).items() if key[0] in others}
        assert passed and {r.status for r in passed.values()} == {"passed"}
        for slug, label in passed:
            assert account_stats(portals[slug], label)["successful_logins"] == 1, (slug, label)

        asked = {slug: len(_batch_lookups(runner.repository, slug)) for slug in others}

        # A person fixes it (here: the portal goes back to v1); the next run releases the held items.
        portals[drifting].update_faults({"layout_version": "v1"})
        again = await BatchRun(runner, DAY, options=OPTIONS, trigger="retry").run()

        assert again.held == {}
        items = store.items_on(runner.repository, DAY)
        assert all(ItemState(i.state) in TERMINAL_STATES for i in items)
        problems = {i.appointment_id: item_problems(runner.repository, sandbox.dataset, i,
                                                    store.get_appointment(runner.repository, i.appointment_id))
                    for i in items}
        assert {k: v for k, v in problems.items() if v} == {}
        assert all(i.reason_code != "canary_held" for i in items)
        # Items the first run finished were not asked again.
        assert {slug: len(_batch_lookups(runner.repository, slug)) for slug in others} == asked


async def test_the_canary_on_demand_says_which_portal_fails(settings, sandbox, portals, vault):
    slugs = carriers(sandbox)
    drifting = _drifting_portal(sandbox, slugs)
    repository = Repository.open(settings.resolved_database_url)
    _configure(repository, sandbox, vault, [drifting], drifting)
    portals[drifting].update_faults({"layout_version": "v2"})
    env = {**os.environ, "AGGREGATOR_DATA_DIR": str(settings.resolved_data_dir),
           "AGGREGATOR_CARRIER_URLS": json.dumps(sandbox.urls), "AGGREGATOR_RESPECT_MAINTENANCE_WINDOWS": "false"}
    command = [sys.executable, "-m", "aggregator", "canary", "--portal", drifting, "--date", DAY.isoformat(), "--json"]
    done = await asyncio.to_thread(subprocess.run, command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 4, done.stderr
    (verdict,) = json.loads(done.stdout)
    assert verdict["portal"] == drifting and verdict["held"] and verdict["checks"][0]["status"] == "failed"
    member = canary_store.members(repository)[0]
    for value in (member.member_id, member.date_of_birth.isoformat()):
        assert value not in done.stdout and value not in done.stderr
