"""Metrics computed at scrape time from the database: what every process wrote, whichever ran the batch.

The batch usually runs in another process (`aggregator run`, or the scheduler inside `aggregator
serve`), so counts that must agree with the worklist are read from the store when Prometheus asks,
never counted in this process's memory: lookups by carrier, flow, source and outcome; the batch items of
the most recent run dates by carrier and state (as the worklist counts them, appointments without an
item as "not_checked"); their attempts and retries; how long lookups took (a gauge histogram over a
recent window); evidence entries and bytes. Every query aggregates in the database (queries.py).

Labels: carrier slug, flow, source, outcome, batch date, state, evidence file kind. Never a member id,
a name, a date of birth or a portal user name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from prometheus_client.core import CounterMetricFamily, GaugeHistogramMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.utils import floatToGoString

from aggregator.evidence_files import EvidenceFiles
from aggregator.metrics import queries
from aggregator.metrics.evidence_sizes import EvidenceSizeTally
from aggregator.store.repository import Repository

# Lookups take seconds (a login adds several, a retried one tens); the navigation timeout is 30 s per page.
CHECK_DURATION_BUCKETS = (1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0)
RUNNING = "running"  # the outcome label of a lookup that has none yet


class StoreCollector:
    """A prometheus_client collector over the store (register it in an app's own CollectorRegistry)."""

    def __init__(self, repository: Repository, files: EvidenceFiles | Path, *, window: timedelta, batch_dates: int,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.repository = repository
        self.window = window
        self.batch_dates = batch_dates
        self.now = now
        self.evidence = EvidenceSizeTally(repository, files)

    def collect(self) -> Iterator[Metric]:
        yield from self._lookups()
        yield from self._batch_items()
        yield self._check_durations()
        yield from self._evidence()

    def _lookups(self) -> Iterator[Metric]:
        finished = CounterMetricFamily(
            "aggregator_lookups", "Lookups (questions asked of a carrier portal) that ended, by carrier, flow "
            "(eligibility, authorization, claim_status), source (cli, web, batch, canary, record) and outcome; from the "
            "database, all time.", labels=("carrier", "flow", "source", "outcome"))
        running = GaugeMetricFamily(
            "aggregator_lookups_running", "Lookups started and not yet ended, by carrier and flow.",
            labels=("carrier", "flow"))
        in_progress: dict[tuple[str, str], int] = {}
        for row in queries.lookup_counts(self.repository):
            if row.outcome is None:
                key = (row.carrier, row.flow)
                in_progress[key] = in_progress.get(key, 0) + row.count
            else:
                finished.add_metric((row.carrier, row.flow, row.source, row.outcome), row.count)
        for (carrier, flow), count in sorted(in_progress.items()):
            running.add_metric((carrier, flow), count)
        yield finished
        yield running

    def _batch_items(self) -> Iterator[Metric]:
        days = queries.recent_batch_dates(self.repository, self.batch_dates)
        items = GaugeMetricFamily(
            "aggregator_batch_items", "Appointments of the most recent batch dates by carrier and worklist state "
            "(verified, verified_with_changes, not_found, needs_human, failed, deferred, running, pending, "
            "not_checked); the same counts as the worklist of that date.", labels=("batch_date", "carrier", "state"))
        attempts = GaugeMetricFamily(
            "aggregator_batch_item_attempts", "Attempts the batch made for the items of a date (since the last "
            "retry pass, which starts its items over).", labels=("batch_date", "carrier"))
        retries = GaugeMetricFamily(
            "aggregator_batch_item_retries", "Attempts beyond each item's first (portal down, maintenance, "
            "backoff), for the items of a date.", labels=("batch_date", "carrier"))
        per_carrier: dict[tuple[str, str], tuple[int, int]] = {}
        for row in queries.item_counts(self.repository, days):
            day = row.batch_date.isoformat()
            items.add_metric((day, row.carrier, row.state), row.count)
            before = per_carrier.get((day, row.carrier), (0, 0))
            per_carrier[(day, row.carrier)] = (before[0] + row.attempts, before[1] + row.retries)
        for (day, carrier), (tries, again) in sorted(per_carrier.items()):
            attempts.add_metric((day, carrier), tries)
            retries.add_metric((day, carrier), again)
        yield items
        yield attempts
        yield retries
        last = queries.last_run_finished(self.repository)
        finished = GaugeMetricFamily(
            "aggregator_batch_last_run_finished_timestamp_seconds", "When the most recent batch run (any date) "
            "finished, as a Unix time; absent before the first.")
        if last is not None:
            finished.add_metric((), (last if last.tzinfo else last.replace(tzinfo=UTC)).timestamp())
        yield finished

    def _check_durations(self) -> Metric:
        hours = self.window.total_seconds() / 3600
        family = GaugeHistogramMetricFamily(
            "aggregator_check_duration_seconds", f"How long lookups took from being asked to their answer, by "
            f"carrier and flow: the lookups asked in the last {hours:g} h that have ended (a window, hence a "
            "gauge histogram).", labels=("carrier", "flow"))
        since = self.now() - self.window
        for row in queries.duration_buckets(self.repository, CHECK_DURATION_BUCKETS, since):
            buckets = [(floatToGoString(bound), float(n)) for bound, n in zip(CHECK_DURATION_BUCKETS, row.cumulative,
                                                                               strict=True)]
            buckets.append(("+Inf", float(row.count)))
            family.add_metric((row.carrier, row.flow), buckets, row.total_seconds)
        return family

    def _evidence(self) -> Iterator[Metric]:
        totals = self.evidence.totals()
        entries = CounterMetricFamily(
            "aggregator_evidence_entries", "Evidence chain entries (captured pages) by carrier.", labels=("carrier",))
        sizes = CounterMetricFamily(
            "aggregator_evidence_bytes", "Bytes of the evidence files each entry references, by carrier and kind "
            "(screenshot, html, document), as captured: an identical file two entries share counts twice.",
            labels=("carrier", "kind"))
        for carrier, count in sorted(totals.entries.items()):
            entries.add_metric((carrier,), count)
        for (carrier, kind), size in sorted(totals.bytes.items()):
            sizes.add_metric((carrier, kind), size)
        behind = GaugeMetricFamily(
            "aggregator_evidence_tally_behind", "1 while the evidence byte count is still catching up with entries "
            "added since the last scrape (more than one scrape counts), else 0.")
        behind.add_metric((), 1.0 if totals.behind else 0.0)
        yield entries
        yield sizes
        yield behind
