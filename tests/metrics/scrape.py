"""Reading a /metrics answer in tests: prometheus_client's own parser, then samples by name and labels."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def samples(text: str, name: str, *labels: str, where: dict[str, str] | None = None) -> dict[tuple[str, ...], float]:
    """Every sample called `name` (e.g. "aggregator_lookups_total") whose labels include `where`, keyed by
    the values of `labels`, in that order. A key met twice is a bug in the exposition: it fails here."""
    found: dict[tuple[str, ...], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name != name or any(sample.labels.get(k) != v for k, v in (where or {}).items()):
                continue
            key = tuple(sample.labels[label] for label in labels)
            assert key not in found, f"{name}{key} exposed twice"
            found[key] = sample.value
    return found


def every_label_value(text: str) -> set[str]:
    return {value for family in text_string_to_metric_families(text) for sample in family.samples
            for value in sample.labels.values()}
