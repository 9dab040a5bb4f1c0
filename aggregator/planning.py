"""Where a question goes and whether it may go today: the payer's routes (aggregator/scrapers/routing.py)
filtered to the portals that answer it, and the daily search budgets of portal accounts
(aggregator/store/budgets.py). The runner and the batch planner both ask here, so they cannot disagree."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from aggregator.errors import ConfigurationError, DailyLimitReached
from aggregator.flows import capabilities
from aggregator.models import EligibilityQuery
from aggregator.models.answers import Query
from aggregator.scrapers.framework import Capability, Manifest
from aggregator.scrapers.framework.manifest import SearchMode
from aggregator.scrapers.routing import ROUTING_FILE, Route, Routing, payer_name
from aggregator.settings import Settings
from aggregator.store import Repository, budgets

_loaded: dict[Path, tuple[int | None, Routing]] = {}


def routing_of(settings: Settings) -> Routing:
    """The routes in force, read again when the file changed (the web admin may edit it meanwhile)."""
    data_dir = settings.resolved_data_dir
    path = data_dir / ROUTING_FILE
    stamp = path.stat().st_mtime_ns if path.is_file() else None
    known = _loaded.get(data_dir)
    if known is None or known[0] != stamp:
        known = _loaded[data_dir] = (stamp, Routing.load(data_dir))
    return known[1]


def routes_for(settings: Settings, capability: Capability, payer: str, query: Query,
               portal: str | None = None) -> list[Route]:
    """The portals that may answer this question for `payer`, in order of preference. Unknown payer or
    portal: ConfigurationError; a question none of them answers: NotAvailableAtCarrier (with the
    call-the-payer item), so no portal is logged in to for it."""
    routes = routing_of(settings).routes(payer, portal=portal)
    able = [r for r in routes if capabilities.declares(r.adapter.manifest, capability)]
    if not able:
        capabilities.require(routes[0].adapter.manifest, capability, payer)
    if isinstance(query, EligibilityQuery) and query.by_name:
        able = [r for r in able if SearchMode.ELIGIBILITY_BY_NAME in r.adapter.manifest.search_modes
                and r.adapter.manifest.payer(payer).name_search]
        if not able:
            raise ConfigurationError(f"{payer_name(payer)} patients cannot be searched by name on "
                                     f"{' or '.join(r.adapter.manifest.display_name for r in routes)}: "
                                     "give the member id")
    return able


class SearchBudget:
    """Daily search caps of portal accounts: the manifest's, or a lower one the deployment sets
    (AGGREGATOR_DAILY_SEARCH_CAPS), counted per account per portal day in the database."""

    def __init__(self, settings: Settings, repository: Repository, clock: Callable[[], datetime]) -> None:
        self.settings, self.repository, self.clock = settings, repository, clock

    def cap(self, manifest: Manifest) -> int | None:
        cap = manifest.daily_search_cap()
        override = self.settings.daily_search_caps.get(manifest.slug)
        if override is not None:
            cap = override if cap is None else min(cap, override)
        return cap

    def day(self, manifest: Manifest) -> date:
        """Today in the portal's calendar: its daily caps start again at its midnight."""
        return self.clock().astimezone(ZoneInfo(manifest.timezone)).date()

    def next_day(self, manifest: Manifest) -> datetime:
        zone = ZoneInfo(manifest.timezone)
        return datetime.combine(self.day(manifest) + timedelta(days=1), time(0), tzinfo=zone)

    def left(self, manifest: Manifest, account_ids: list[str]) -> dict[str, int | None]:
        """Searches each account may still make today (None: the portal has no cap)."""
        cap = self.cap(manifest)
        if cap is None:
            return dict.fromkeys(account_ids, None)
        made = budgets.searches_made(self.repository, account_ids, self.day(manifest))
        return {account_id: max(0, cap - made[account_id]) for account_id in account_ids}

    def reserve(self, manifest: Manifest, account: budgets.AccountRef) -> bool:
        """Take one search of the account's day; always True for a portal without a cap."""
        cap = self.cap(manifest)
        return cap is None or budgets.reserve_search(self.repository, account, self.day(manifest), cap)

    def spent(self, manifest: Manifest) -> DailyLimitReached:
        """The error (and the item's reason) when no account has a search left today."""
        return DailyLimitReached(f"deferred: daily limit (each {manifest.display_name} account may search "
                                 f"{self.cap(manifest)} times a day); it can run after "
                                 f"{self.next_day(manifest):%Y-%m-%d %H:%M %Z}")
