"""Issue 15's unattended must-show, against the real Crossway sandbox and Chromium: the overnight run never waits
for a person. Both hub accounts' users get their code by text message; each signed in once with a person at the
screen, so each has a remembered device in the vault. One account's device is then removed: in the batch that
account's items end "needs a human" (code by text) at once, with no code waited for and no lock, every other item
is answered, and after an attended sign-in the blocked items are run again and equal ground truth."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

from aggregator.human_steps import Prompt
from aggregator.overnight.appointments import import_appointments
from aggregator.overnight.batch import BatchOptions, BatchRun, ItemState, rerun_blocked
from aggregator.scrapers.registry import all_adapters
from aggregator.scrapers.routing import PayerRoute, RoutingFile, save_routing
from aggregator.store import batches as store
from aggregator.store import budgets
from sandbox.appointments import appointment_list, hub_day, with_hub_visits, write_csv
from sandbox.batch_truth import item_problems

DAY = date(2026, 12, 2)
HUB = "crossway"
OWN_SITES = tuple(a.manifest.slug for a in all_adapters() if not a.manifest.is_hub)  # payers with their own portal
OPTIONS = BatchOptions(max_attempts=3, retry_base_seconds=0.5, retry_max_seconds=2, deadline_seconds=600)


class OutboxPerson:
    """The person at the screen: reads the code from the sandbox's outbox (their phone) when asked."""

    def __init__(self, idp, username: str) -> None:  # type: ignore[no-untyped-def]
        self.idp, self.username = idp, username
        self.prompts: list[Prompt] = []
        self.outcomes: list[str | None] = []

    async def code(self, prompt: Prompt) -> str | None:
        self.prompts.append(prompt)
        messages = self.idp.outbox_for(self.username)
        return str(messages[-1]["code"]) if messages else None

    async def approve(self, prompt: Prompt) -> None:
        raise AssertionError("a text-message user is never asked for a push approval")

    def done(self, error: str | None = None) -> None:
        self.outcomes.append(error)


async def test_a_device_less_account_waits_for_a_person_and_its_items_run_after_an_attended_sign_in(
        make_runner, sandbox, portals, vault, settings, tmp_path, capfd, caplog):
    hub = sandbox.hubs[HUB]
    accounts = {a.label: a for a in vault.accounts(HUB)}
    users = {label: account.username.get_secret_value() for label, account in accounts.items()}
    for username in users.values():
        hub.idp.set_second_factor(username, "sms")
    # Prairie's items may use only "billing", Harborview's only "frontdesk" (Admin > Routing).
    save_routing(settings.resolved_data_dir, RoutingFile(payers={
        "prairie": PayerRoute(portals=(HUB,), accounts={HUB: ("billing",)}),
        "harborview": PayerRoute(portals=(HUB,), accounts={HUB: ("frontdesk",)})}))
    rows = with_hub_visits(appointment_list(sandbox.dataset, DAY, 12, carriers=OWN_SITES[:2]),
                           hub_day(sandbox.dataset, DAY, 8, payers=("prairie",), seed=7)
                           + hub_day(sandbox.dataset, DAY, 6, payers=("harborview",), seed=8))
    waiting_for_billing = sum(1 for r in rows if r["carrier"] in ("prairie", "Prairie Mutual"))
    assert waiting_for_billing == 8

    async with make_runner() as runner:
        # Each account signed in once with a person at the screen: its device is remembered (in the vault).
        for label, username in users.items():
            person = OutboxPerson(hub.idp, username)
            outcome = await runner.sign_in(HUB, label, person)
            assert outcome.ok, outcome.reason
            assert [p.step.value for p in person.prompts] == ["code_by_text"] and person.outcomes[-1] is None
            assert runner.vault.load_device(accounts[label].account_id)
        sent_before = len(hub.idp.outbox_for(users["billing"]))

    # The next night: no saved sessions, and billing's remembered device is gone (a new machine, say).
    for account in accounts.values():
        vault.clear_session(account.account_id)
    vault.clear_device(accounts["billing"].account_id)

    async with make_runner() as runner:
        report = import_appointments(runner.repository, write_csv(rows, tmp_path / "day.csv"))
        assert report.problems == [] and report.added == len(rows)
        await BatchRun(runner, DAY, options=OPTIONS).run()
        items = store.items_on(runner.repository, DAY)
        blocked = [i for i in items if i.state == ItemState.NEEDS_HUMAN.value]
        assert len(blocked) == waiting_for_billing
        assert {i.carrier for i in blocked} == {"prairie"} and {i.reason_code for i in blocked} == {"code_by_text"}
        assert all("sign in to Crossway" in (i.reason or "") and "/signin" not in (i.reason or "") for i in blocked)
        assert all(i.action and "text message" in i.action for i in blocked)
        assert runner.needs_sign_in(accounts["billing"].account_id) is not None
        notices = {n.account_label: n.kind for n in budgets.notices(runner.repository)}
        assert notices.get("billing") == "code_by_text" and notices.get("frontdesk") != "code_by_text"
        # Every other item was answered, right; frontdesk's remembered device meant no code was asked of it.
        problems = {i.appointment_id: item_problems(runner.repository, sandbox.dataset, i,
                                                    store.get_appointment(runner.repository, i.appointment_id))
                    for i in items if i not in blocked}
        assert {k: v for k, v in problems.items() if v} == {}
        # One text message for billing's one unattended attempt; nobody waited for it, nothing was locked.
        stats = hub.idp.stats()["accounts"]
        assert len(hub.idp.outbox_for(users["billing"])) == sent_before + 1
        assert not stats[users["billing"]]["locked"] and not stats[users["frontdesk"]]["locked"]

        # The retry pass before opening, with nobody signed in yet: they end the same way at once, no new code.
        await BatchRun(runner, DAY, options=OPTIONS, retry_failed=True).run()
        again = Counter(i.state for i in store.items_on(runner.repository, DAY))
        assert again[ItemState.NEEDS_HUMAN.value] == waiting_for_billing
        assert len(hub.idp.outbox_for(users["billing"])) == sent_before + 1

        # A person signs in; the blocked items run again (the hook the web app and `aggregator signin` install).
        runner.after_sign_in.append(lambda account: rerun_blocked(runner, account.carrier, account.label))
        outcome = await runner.sign_in(HUB, "billing", OutboxPerson(hub.idp, users["billing"]))
        assert outcome.ok and outcome.rerun == waiting_for_billing
        assert runner.needs_sign_in(accounts["billing"].account_id) is None
        for item in store.items_on(runner.repository, DAY):
            appointment = store.get_appointment(runner.repository, item.appointment_id)
            assert item_problems(runner.repository, sandbox.dataset, item, appointment) == [], item.appointment_id
        devices = [c["value"] for a in accounts.values() for c in runner.vault.load_device(a.account_id) or []]

    # No code, password or device cookie in clear: not in the logs, the database or the evidence pages.
    codes = [m["code"] for username in users.values() for m in hub.idp.outbox_for(username)]
    passwords = [a.password.get_secret_value() for a in accounts.values()]
    assert len(codes) == 4 and len(devices) == 2
    out, err = capfd.readouterr()
    stored = settings.resolved_database_url.removeprefix("sqlite:///")
    places = {"logs": out + err + caplog.text, "database": Path(stored).read_bytes().decode("latin-1"),
              "evidence": "".join(p.read_text(errors="replace") for p in settings.resolved_snapshots_dir.rglob("*.html"))}
    for where, text in places.items():
        for secret in (*codes, *devices, *passwords):
            assert secret not in text, where
