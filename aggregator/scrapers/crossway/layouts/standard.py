"""The `standard` layout (Ridgeline Mutual): the hub's own rendering of a 271 response.

`table#benefits`: `Service | Coverage | Network | Level | Period | Amount | Prior Auth`, one row per benefit
line. Read by header, never by position.
"""

from __future__ import annotations

from aggregator.models import BenefitLine
from aggregator.scrapers.framework import Document, read_table

from .. import maps
from .common import benefit_line, optional_word

HEADERS = ("Service", "Coverage", "Network", "Level", "Period", "Amount", "Prior Auth")


def read_benefits(doc: Document) -> list[BenefitLine]:
    table = doc.table_with_headers(*HEADERS, field="benefits")
    _, rows = read_table(table, name="benefits", required=HEADERS)
    return [benefit_line({
        "service_type": maps.SERVICE_TYPES(row.text("Service")),
        "kind": maps.BENEFITS(row.text("Coverage")),
        "network": maps.NETWORKS(row.text("Network")),
        "coverage_level": optional_word(row.text("Level"), maps.LEVELS),
        "time_period": optional_word(row.text("Period"), maps.PERIODS),
        "prior_auth": maps.PRIOR_AUTH(row.text("Prior Auth")),
    }, row.text("Amount")) for row in rows]
