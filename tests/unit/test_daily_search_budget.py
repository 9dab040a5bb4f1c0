"""Daily search budgets: counted in the database per portal account and portal day, never beyond the cap even
with many takers at once, and the batch plans within them: an item that does not fit ends `deferred: daily
limit` with when it can run, before any portal is asked (aggregator/store/budgets.py, aggregator/planning.py,
aggregator/overnight/batch.py). A scripted runner takes searches the way the real one does; no browser."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from aggregator.errors import Outcome
from aggregator.models import Provenance
from aggregator.overnight.appointments import import_appointments
from aggregator.overnight.batch import BatchOptions, BatchRun
from aggregator.planning import SearchBudget
from aggregator.runner import LookupResult
from aggregator.scrapers.registry import all_adapters
from aggregator.settings import Settings
from aggregator.store import Repository, budgets
from aggregator.store import batches as store
from sandbox.appointments import hub_day, write_csv
from sandbox.carriers import payer_source
from sandbox.dataset import generate_dataset
from sandbox.ground_truth import eligibility as truth_eligibility
from vault import MasterKey, Vault

DAY = date(2026, 12, 1)
QUIET = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)  # noon in New York
FAST = BatchOptions(max_attempts=3, retry_base_seconds=0.01, retry_max_seconds=0.05, deadline_seconds=60)
DATASET = generate_dataset()
HUB = next(a.manifest for a in all_adapters() if a.manifest.is_hub)


class BudgetedRunner:
    """Answers from the ground truth; like the real runner, takes one of the account's searches of the day
    first (SearchBudget.reserve) and says `daily_limit` when there is none."""

    def __init__(self, settings: Settings, repository: Repository, vault: Vault) -> None:
        self.settings, self.repository, self.vault = settings, repository, vault
        self.clock, self.respect_maintenance_windows = (lambda: QUIET), False
        self.budget = SearchBudget(settings, repository, self.clock)
        self.searches: Counter[str] = Counter()  # account label -> searches that reached the "portal"

    def logins_performed(self, account_id: str) -> int:
        return 0

    def held_for(self, portal: str, label: str) -> float:
        return 0.0  # no portal here asks an account to wait

    async def eligibility(self, carrier, query, *, source, account_label=None, portal=None):  # type: ignore[no-untyped-def]
        assert portal == HUB.slug and account_label is not None
        lookup = self.repository.create_lookup(flow="eligibility", carrier=carrier, query=query, source=source)
        account = self.vault.find(portal, account_label)
        assert account is not None
        if not self.budget.reserve(HUB, budgets.AccountRef(account.account_id, portal, account.label)):
            reason = self.budget.spent(HUB).reason
            self.repository.finish_lookup(lookup.id, Outcome.RETRY_LATER, reason, "daily_limit")
            return LookupResult(lookup.id, carrier, Outcome.RETRY_LATER, reason=reason, reason_code="daily_limit")
        self.searches[account_label] += 1
        answer = truth_eligibility(payer_source(DATASET, carrier), carrier, query)
        answer = answer.model_copy(update={"provenance": Provenance(
            carrier=carrier, portal=portal, portal_account=account_label, fetched_at=datetime.now(UTC))})
        self.repository.save_record(lookup.id, answer, subject=query.member_id)
        outcome = Outcome.NOT_FOUND if answer.kind == "not_found" else Outcome.FOUND
        self.repository.finish_lookup(lookup.id, outcome, None, None)
        return LookupResult(lookup.id, carrier, outcome, answer=answer, account_label=account_label, portal=portal)


@pytest.fixture
def hub_vault(settings: Settings) -> Vault:
    vault = Vault.create(settings.resolved_vault_path, MasterKey.generate())
    for label in ("frontdesk", "billing"):
        vault.add_account(carrier=HUB.slug, label=label, username=f"user-{label}", password="pw",
                          totp_secret="JBSWY3DPEHPK3PXP")
    return vault


def test_searches_are_never_counted_past_the_cap_by_many_takers_at_once(settings, repository):
    account = budgets.AccountRef("a" * 32, HUB.slug, "frontdesk")
    taken: list[bool] = []
    lock = threading.Lock()

    def take() -> None:
        for _ in range(10):
            got = budgets.reserve_search(repository, account, DAY, 25)
            with lock:
                taken.append(got)

    threads = [threading.Thread(target=take) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert taken.count(True) == 25 and taken.count(False) == 35
    # Counted in the database: a new process (a new Repository) sees the same, and the next day starts afresh.
    again = Repository.open(settings.resolved_database_url)
    assert budgets.searches_made(again, [account.account_id], DAY) == {account.account_id: 25}
    assert budgets.reserve_search(again, account, date(2026, 12, 2), 25)


def test_the_budget_day_is_the_portals_and_a_deployment_may_only_lower_the_cap(tmp_path, repository):
    late = datetime(2026, 12, 2, 3, 30, tzinfo=UTC)  # still Dec 1 in New York
    budget = SearchBudget(Settings(data_dir=tmp_path, daily_search_caps={HUB.slug: 150}), repository, lambda: late)
    assert budget.day(HUB) == date(2026, 12, 1)
    assert budget.next_day(HUB) == datetime.combine(date(2026, 12, 2), time(0), tzinfo=ZoneInfo(HUB.timezone))
    assert budget.cap(HUB) == min(150, HUB.daily_search_cap() or 150)
    higher = SearchBudget(Settings(data_dir=tmp_path, daily_search_caps={HUB.slug: 10**6}), repository, lambda: late)
    assert higher.cap(HUB) == HUB.daily_search_cap()


async def test_a_batch_plans_within_the_accounts_budgets_and_defers_the_rest_with_when(tmp_path, hub_vault):
    settings = Settings(data_dir=tmp_path / "data", vault_path=hub_vault.path,
                        daily_search_caps={HUB.slug: 150})
    repository = Repository.open(settings.resolved_database_url)
    rows = hub_day(DATASET, DAY, 400)
    report = import_appointments(repository, write_csv(rows, tmp_path / "hub.csv"))
    assert report.problems == [] and report.added == 400

    runner = BudgetedRunner(settings, repository, hub_vault)
    summary = await BatchRun(runner, DAY, options=FAST).run()  # type: ignore[arg-type]
    assert sum(runner.searches.values()) == 300 and all(n <= 150 for n in runner.searches.values())
    items = store.items_on(repository, DAY)
    deferred = [i for i in items if i.state == "deferred"]
    assert len(deferred) == 100 and summary.counts["deferred"] == 100
    tomorrow = datetime.combine(date(2026, 11, 26), time(0), tzinfo=ZoneInfo(HUB.timezone))
    for item in deferred:
        assert item.reason_code == "daily_limit" and item.reason.startswith("deferred: daily limit")
        assert store.aware(item.not_before) == tomorrow and item.eligibility_lookup_id is None
    assert summary.deferred_until == tomorrow
    assert sum(1 for i in items if i.state in ("verified", "verified_with_changes", "not_found")) == 300

    # A restart the same day (a new runner, the same database): nothing is left to spend, nothing is asked.
    again = BudgetedRunner(settings, repository, hub_vault)
    await BatchRun(again, DAY, options=FAST).run()  # type: ignore[arg-type]
    assert sum(again.searches.values()) == 0
    assert Counter(i.state for i in store.items_on(repository, DAY))["deferred"] == 100
