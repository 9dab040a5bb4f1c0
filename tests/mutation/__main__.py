"""`python -m tests.mutation`: run the mutation suite, print its table, write the findings file."""

from __future__ import annotations

import argparse
from pathlib import Path

from tests.mutation import report, suite


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.mutation", description=__doc__)
    parser.add_argument("--carrier", action="append", help="only this carrier (repeatable)")
    parser.add_argument("--family", action="append", help="only this family (repeatable)")
    parser.add_argument("--seed", type=int, default=suite.SEED)
    parser.add_argument("--all", action="store_true", help="every variant the families make (no per-case budget)")
    parser.add_argument("--docs", action="store_true", help="print the counts section for docs/mutation-suite.md")
    parser.add_argument("--findings", type=Path, default=None,
                        help="write the findings as Markdown here (default: print them)")
    args = parser.parse_args()
    results = suite.run(seed=args.seed, carriers=set(args.carrier or ()), families=set(args.family or ()),
                        every_variant=args.all)
    if args.docs:
        print(report.docs_counts(results))
        return 0
    print(report.text_table(results))
    if args.findings:
        report.write_markdown(results, args.findings)
        print(f"findings written to {args.findings}")
    else:
        print(report.markdown(results).split("\n## ", 1)[-1] if results.findings else "no findings")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
