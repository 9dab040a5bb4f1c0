"""Prometheus metrics of checks, logins and evidence, and readiness checks (docs/metrics.md).

- store_collector.py (+ queries.py, evidence_sizes.py): computed at scrape time from the database, so they
  count what every process did (the batch usually runs in another one);
- runtime.py: what only this process knows (logins, portal latency, the runner's retries, the running
  batch's circuit breakers);
- exposition.py: one registry per web app; readiness.py: the database and data directory checks.
"""

from aggregator.metrics.exposition import MetricsExposition
from aggregator.metrics.readiness import NOT_CONFIGURED, OK, Check, Readiness
from aggregator.metrics.runtime import RuntimeMetrics, process_metrics

__all__ = ["NOT_CONFIGURED", "OK", "Check", "MetricsExposition", "Readiness", "RuntimeMetrics", "process_metrics"]
