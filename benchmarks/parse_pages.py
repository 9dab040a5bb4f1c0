"""Parsing cost: every recorded page (tests/recorded_pages) through its carrier's checked parser.

The parsers are pure (HTML in, record or refusal out), so their cost is measured apart from the browser,
the portal and the store: CPU-ms per page, per carrier and flow, best of `--rounds` rounds (each round
parses every page once; the best round is the one least disturbed by the rest of the machine).

    .venv/bin/python benchmarks/parse_pages.py            # 5 rounds
    .venv/bin/python benchmarks/parse_pages.py --rounds 9
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    from aggregator.errors import AggregatorError
    from aggregator.logging import configure_logging
    from aggregator.models import AuthorizationQuery, ClaimQuery, EligibilityQuery
    from aggregator.scrapers.registry import adapter_for
    from benchmarks.sequential_lookups import machine, write_report

    configure_logging("console", "CRITICAL")  # a refusal logs nothing we want to time or print
    models = {"eligibility": EligibilityQuery, "authorization": AuthorizationQuery, "claim_status": ClaimQuery}
    pages = []
    for html_path in sorted((ROOT / "tests" / "recorded_pages").glob("*/*/*.html")):
        carrier, flow = html_path.parent.parent.name, html_path.parent.name
        expected = json.loads(html_path.with_suffix(".expected.json").read_text(encoding="utf-8"))
        pages.append((f"{carrier}/{flow}", adapter_for(carrier), flow, html_path.read_text(encoding="utf-8"),
                      models[flow].model_validate(expected["query"])))
    best: dict[str, float] = {}
    for _ in range(args.rounds):
        spent: dict[str, float] = defaultdict(float)
        for group, adapter, flow, html, query in pages:
            started = time.process_time()
            try:
                adapter.parse_answer(flow, html, query)
            except AggregatorError:
                pass  # a refusal is a result too, and costs what it costs
            spent[group] += time.process_time() - started
        for group, seconds in spent.items():
            best[group] = min(best.get(group, seconds), seconds)
    counts: dict[str, int] = defaultdict(int)
    for group, *_ in pages:
        counts[group] += 1
    rows = {group: {"pages": counts[group], "cpu_ms_per_page": round(1000 * best[group] / counts[group], 3)}
            for group in sorted(best)}
    total = sum(best.values())
    report = {"benchmark": "parse_pages", "machine": machine(), "rounds": args.rounds, "pages": len(pages),
              "cpu_ms_per_page_all": round(1000 * total / len(pages), 3), "by_carrier_and_flow": rows}
    write_report(report, ROOT / "benchmarks" / "results" / "parse_pages.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
