"""One registry per web app: the database-derived metrics, this process's runtime metrics, and whatever the
app adds (the vault's frozen accounts), rendered in the format the scraper asks for.

Never prometheus_client's global default registry: two apps in one process (tests, a second app) would
collide on it, and it would also expose the Python process collectors we have not chosen to publish.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from aggregator.evidence_files import evidence_files
from aggregator.metrics.runtime import RuntimeMetrics
from aggregator.metrics.store_collector import StoreCollector
from aggregator.settings import Settings
from aggregator.store.repository import Repository


class MetricsExposition:
    def __init__(self, settings: Settings, repository: Repository, runtime: RuntimeMetrics,
                 extra: Iterable[Collector] = ()) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.store = StoreCollector(repository, evidence_files(settings),
                                    window=timedelta(hours=settings.metrics_window_hours),
                                    batch_dates=settings.metrics_batch_dates)
        collectors: list[Collector] = [self.store, runtime, *extra]
        for collector in collectors:
            self.registry.register(collector)

    def render(self, accept: str | None) -> tuple[bytes, str]:
        """(body, content type): OpenMetrics when the scraper asks for it, else Prometheus text 0.0.4."""
        encoder, content_type = choose_encoder(accept or "")
        return encoder(self.registry), content_type
