"""What only this process knows: portal logins and their refusals, portal request latency, the runner's
own retries, and the state of the running batch's circuit breakers.

The database holds none of these (a login leaves no row; a breaker lives in the batch's memory), so they
are counted where they happen. The instruments are not registered in any prometheus_client registry:
each web app exposes them through its own registry (`RuntimeMetrics.collect`), so two apps, or two tests,
in one process never collide, and a test can build its own `RuntimeMetrics`. A process has one, shared
by its runners (`process_metrics()`): in `aggregator serve` the scheduler's batch, the on-demand lookups
and `/metrics` see the same counts; a batch run by `aggregator run` counts in its own process, which
nobody scrapes (the database-derived metrics still cover its checks: docs/metrics.md).

Labels are the carrier slug and the portal account's label (the practice's name for the account, e.g.
"frontdesk"), never its user name nor anything about a member.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Protocol

from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

# A portal request is one navigation, one page-made JSON call or one download; most take well under a
# second on a healthy portal, a slow one several, a timeout the navigation limit (30 s by default).
PORTAL_REQUEST_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0)
LOGIN_RESULTS = ("succeeded", "refused", "failed", "needs_person")
BREAKER_STATES = ("closed", "open", "half_open")


class BreakerView(Protocol):
    """What the metrics read of a circuit breaker (aggregator.overnight.batch.CircuitBreaker)."""

    @property
    def state(self) -> str: ...  # one of BREAKER_STATES

    @property
    def failures(self) -> int: ...  # consecutive "portal down" answers


class RuntimeMetrics:
    """This process's counters and histograms, and the circuit breakers of the batch it is running."""

    def __init__(self) -> None:
        self.logins = Counter(
            "aggregator_portal_logins", "Portal logins this process attempted, by result: succeeded, refused (the "
            "portal rejected the credentials or wanted a person; the account was frozen), failed (the portal did "
            "not answer).", ("carrier", "account", "result"), registry=None)
        self.portal_requests = Histogram(
            "aggregator_portal_request_duration_seconds", "Time from sending a portal request (navigation, JSON "
            "call, download) to its answer; requests that got no answer are not observed.", ("carrier", "kind"),
            buckets=PORTAL_REQUEST_BUCKETS, registry=None)
        self.portal_retries = Counter(
            "aggregator_portal_retries", "Lookups the runner sent again after the portal did not answer (server "
            "error, timeout), within one lookup.", ("carrier",), registry=None)
        self._breakers: dict[str, BreakerView] = {}
        self._lock = threading.Lock()  # scrapes run in the web app's worker threads

    # --- what the runner and the batch report ------------------------------------------------------------

    def count_login(self, carrier: str, account: str, result: str) -> None:
        if result not in LOGIN_RESULTS:
            raise ValueError(f"a login result is one of {', '.join(LOGIN_RESULTS)}, not {result!r}")
        self.logins.labels(carrier, account, result).inc()

    def observe_portal_request(self, carrier: str, kind: str, seconds: float) -> None:
        """The `PortalSession.timer` callback (aggregator/browser.py)."""
        self.portal_requests.labels(carrier, kind).observe(max(0.0, seconds))

    def count_portal_retry(self, carrier: str) -> None:
        self.portal_retries.labels(carrier).inc()

    @contextmanager
    def breaker_watched(self, carrier: str, breaker: BreakerView) -> Iterator[None]:
        """While the batch's workers for `carrier` run, its breaker's state is exposed; afterwards it is
        not (a finished run's breaker says nothing about the portal now)."""
        with self._lock:
            self._breakers[carrier] = breaker
        try:
            yield
        finally:
            with self._lock:
                if self._breakers.get(carrier) is breaker:
                    del self._breakers[carrier]

    # --- exposition ------------------------------------------------------------------------------------------

    def collect(self) -> Iterable[Metric]:
        yield from self.logins.collect()
        yield from self.portal_requests.collect()
        yield from self.portal_retries.collect()
        yield from self._breaker_families()

    def _breaker_families(self) -> Iterator[Metric]:
        with self._lock:
            watched = sorted(self._breakers.items())
        state = GaugeMetricFamily(
            "aggregator_circuit_breaker_state", "The running batch's circuit breaker per carrier: 1 for its current "
            "state (closed: requests go out; open: nobody asks the portal; half_open: one probe decides).",
            labels=("carrier", "state"))
        failures = GaugeMetricFamily(
            "aggregator_circuit_breaker_consecutive_failures", "Consecutive 'portal down' answers the running "
            "batch's breaker has counted per carrier.", labels=("carrier",))
        for carrier, breaker in watched:
            current = breaker.state
            for name in BREAKER_STATES:
                state.add_metric((carrier, name), 1.0 if name == current else 0.0)
            failures.add_metric((carrier,), float(breaker.failures))
        yield state
        yield failures


_PROCESS_METRICS = RuntimeMetrics()


def process_metrics() -> RuntimeMetrics:
    """The process's runtime metrics: what its runners and batches count, and its web app exposes."""
    return _PROCESS_METRICS
