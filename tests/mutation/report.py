"""The suite's table (per carrier x family) and its findings, as plain text and as Markdown."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from tests.mutation.oracle import CRASH, EXACT, FLAGGED, NEW_TRUTH, UNVERIFIED, WRONG
from tests.mutation.suite import CAUGHT, CLASSES, Results
from tests.mutation.variants import FAMILIES, LAYOUT

COLUMNS = (("variants", None), ("exact", EXACT), ("new truth", NEW_TRUTH), ("needs attn", FLAGGED),
           ("wrong", WRONG), ("unverified", UNVERIFIED), ("crash", CRASH), ("caught bug", CAUGHT))


def rows(results: Results) -> list[list[str]]:
    out = []
    for carrier in results.carriers:
        for name, fam in sorted(FAMILIES.items(), key=lambda item: item[1].klass != LAYOUT):  # layout first
            if (carrier, name) not in results.counts:
                continue
            counts = results.counts[(carrier, name)]
            out.append([carrier, name, "layout" if fam.klass == LAYOUT else "meaning",
                        str(sum(counts[v] for v in CLASSES)), *[str(counts[v]) for _, v in COLUMNS[1:]]])
    return out


def summary_lines(results: Results) -> list[str]:
    lines = []
    for carrier in results.carriers:
        lines.append(f"{carrier}: layout-only exact {results.layout_exact_share(carrier):.1%}, "
                     f"wrong {results.total(WRONG, carrier=carrier)}, crash {results.total(CRASH, carrier=carrier)}, "
                     f"unverified {results.total(UNVERIFIED, carrier=carrier)}")
    lines.append(f"all: {results.variants()} variants in {results.seconds:.1f} s")
    return lines


def text_table(results: Results) -> str:
    header = ["carrier", "family", "class", *[name for name, _ in COLUMNS]]
    body = rows(results)
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" if i < 3 else f"{{:>{w}}}" for i, w in enumerate(widths))
    lines = [fmt.format(*header), fmt.format(*["-" * w for w in widths])]
    lines += [fmt.format(*r) for r in body]
    return "\n".join(lines + [""] + summary_lines(results))


def markdown(results: Results) -> str:
    header = ["carrier", "family", "class", *[name for name, _ in COLUMNS]]
    out = [f"# Mutation suite findings ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)", "",
           "Written by `python -m tests.mutation` (and the pytest run). Fix what is listed under your carrier;",
           "re-run `.venv/bin/python -m tests.mutation --carrier <slug>` to refresh this file.", "",
           *[f"- {line}" for line in summary_lines(results)], "",
           "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(r) + " |" for r in rows(results)]
    if results.generator_errors:
        out += ["", "## Generator errors (suite bugs)", *[f"- {e}" for e in results.generator_errors]]
    grouped: dict[tuple[str, str], list] = defaultdict(list)
    for finding in results.findings:
        grouped[(finding.carrier, finding.verdict)].append(finding)
    order = (CRASH, WRONG, FLAGGED, UNVERIFIED, CAUGHT)
    for carrier in results.carriers:
        for verdict in order:
            items = grouped.get((carrier, verdict), [])
            if not items:
                continue
            title = {FLAGGED: "layout-only variants flagged (needs attention instead of the expected answer)",
                     WRONG: "WRONG answers", CRASH: "CRASHES (exception other than AggregatorError)",
                     UNVERIFIED: "changed-unverified (a record the family cannot confirm; review)",
                     CAUGHT: "parser bugs the framework caught (needs attention, but an exception type inside)",
                     }[verdict]
            out += ["", f"## {carrier}: {title} ({len(items)})", ""]
            for f in sorted(items, key=lambda f: (f.flow, f.case, f.family, f.description)):
                extra = f" [{f.detail}]" if f.detail else ""
                out.append(f"- {f.flow}/{f.case} · {f.family} · {f.description} → {f.note}{extra}")
    return "\n".join(out) + "\n"


def docs_counts(results: Results) -> str:
    """The counts for docs/mutation-suite.md: per carrier, then per family over all carriers."""
    header = ["family", "class", *[name for name, _ in COLUMNS[:-1]]]
    out = [f"- {line}" for line in summary_lines(results)] + ["", "| " + " | ".join(header) + " |",
                                                                "|" + "---|" * len(header)]
    for name, fam in sorted(FAMILIES.items(), key=lambda item: item[1].klass != LAYOUT):
        if not results.variants(family_name=name):
            continue
        counts = [results.total(v, family_name=name) for _, v in COLUMNS[1:-1]]
        out.append("| " + " | ".join([f"`{name}`", "layout" if fam.klass == LAYOUT else "meaning",
                                      str(results.variants(family_name=name)), *map(str, counts)]) + " |")
    return "\n".join(out) + "\n"


def write_markdown(results: Results, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(markdown(results), encoding="utf-8")
