"""The coverage matrix: what each carrier's portal answers, how it is searched and signed in to, its caps,
and what it does not show with the call-the-payer checklist. Built from the manifests only, so
`aggregator carriers` (table, `--json`, `--markdown`) and docs/carriers.md cannot say more than the
adapters declare (and the manifest validation keeps declarations and gaps from contradicting).
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict

from aggregator.models import ServiceType
from aggregator.scrapers.framework.manifest import (
    CallThePayerItem,
    Capability,
    Manifest,
    SearchMode,
    checklist,
)

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MARKDOWN_COMMAND = "aggregator carriers --markdown > docs/carriers.md"


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True)


class SearchModeRow(_Row):
    mode: str
    capability: str
    needs: str


class MfaRow(_Row):
    kind: str
    label: str


class LoginRow(_Row):
    kind: str
    label: str
    mfa: tuple[MfaRow, ...]
    credential_fields: tuple[str, ...]


class LimitsRow(_Row):
    max_sessions_per_account: int
    max_concurrent_accounts: int
    min_seconds_between_requests: float
    session_lifetime_minutes: int


class WindowRow(_Row):
    weekdays: tuple[str, ...]
    start: str
    end: str
    timezone: str


class CapRow(_Row):
    kind: str
    label: str
    value: int
    capability: str | None
    note: str


class GapRow(_Row):
    need: str
    capability: str
    not_at_carrier: bool
    missing: str
    shown_for: tuple[str, ...] | None  # X12 service type codes the portal does show it for
    note: str  # what the portal shows instead, in its words
    call_the_payer: CallThePayerItem
    text: str  # the checklist line


class CarrierCoverage(_Row):
    """One carrier's row of the matrix (the `aggregator carriers --json` shape)."""

    slug: str
    display_name: str
    status: str
    capabilities: tuple[str, ...]
    not_available: tuple[str, ...]
    search_modes: tuple[SearchModeRow, ...]
    login: LoginRow
    limits: LimitsRow
    maintenance_windows: tuple[WindowRow, ...]
    caps: tuple[CapRow, ...]
    gaps: tuple[GapRow, ...]
    payers: tuple[str, ...] = ()  # a hub's payers ("Harborview Health (harborview)"); empty: its own site


def coverage_of(manifest: Manifest) -> CarrierCoverage:
    declared = [c for c in Capability if c in manifest.capabilities]  # enum order, not set order
    return CarrierCoverage(
        slug=manifest.slug,
        display_name=manifest.display_name,
        payers=tuple(f"{p.display_name} ({p.slug}){', name search' if p.name_search else ''}"
                     for p in manifest.payers),
        status=manifest.status.value,
        capabilities=tuple(c.value for c in declared),
        not_available=tuple(c.value for c in Capability if c not in manifest.capabilities),
        search_modes=tuple(SearchModeRow(mode=m.value, capability=m.capability.value, needs=m.label)
                           for m in sorted(manifest.search_modes, key=_mode_order)),
        login=LoginRow(kind=manifest.login_kind.value, label=manifest.login_kind.label,
                       mfa=tuple(MfaRow(kind=k.value, label=k.label) for k in sorted(manifest.mfa_kinds)),
                       credential_fields=tuple(sorted(f.value for f in manifest.credential_fields))),
        limits=LimitsRow(max_sessions_per_account=manifest.limits.max_sessions_per_account,
                         max_concurrent_accounts=manifest.limits.max_concurrent_accounts,
                         min_seconds_between_requests=manifest.limits.min_seconds_between_requests,
                         session_lifetime_minutes=manifest.session_lifetime_minutes),
        maintenance_windows=tuple(
            WindowRow(weekdays=tuple(WEEKDAYS[d] for d in sorted(w.weekdays)), start=w.start.strftime("%H:%M"),
                      end=w.end.strftime("%H:%M"), timezone=w.timezone) for w in manifest.maintenance_windows),
        caps=tuple(CapRow(kind=c.kind.value, label=c.kind.label, value=c.value,
                          capability=c.capability.value if c.capability else None, note=c.note)
                   for c in manifest.caps),
        gaps=tuple(_gap_row(manifest, item) for item in checklist(manifest)),
    )


def _mode_order(mode: SearchMode) -> int:
    return list(SearchMode).index(mode)


def _gap_row(manifest: Manifest, item: CallThePayerItem) -> GapRow:
    gap = None if item.not_at_carrier else manifest.gap_for(item.need)
    shown = None if gap is None or gap.shown_for is None else tuple(sorted(s.value for s in gap.shown_for))
    return GapRow(need=item.need.value, capability=item.capability.value, not_at_carrier=item.not_at_carrier,
                  missing=item.missing, shown_for=shown, note=gap.note if gap else "", call_the_payer=item,
                  text=item.text)


def coverage_matrix(manifests: Iterable[Manifest]) -> tuple[CarrierCoverage, ...]:
    return tuple(coverage_of(m) for m in sorted(manifests, key=lambda m: m.slug))


def _service_labels(codes: tuple[str, ...]) -> list[str]:
    return sorted(ServiceType(code).label for code in codes)


# --- markdown (docs/carriers.md) -----------------------------------------------------------------------


def matrix_markdown(manifests: Iterable[Manifest]) -> str:
    """docs/carriers.md: deterministic, so a test can hold the committed file to it."""
    rows = coverage_matrix(manifests)
    lines = [
        "# Carriers: what each portal answers (coverage matrix)",
        "",
        f"<!-- Generated from the carrier manifests: `{MARKDOWN_COMMAND}`. Do not edit by hand. -->",
        f"<!-- carriers: {', '.join(r.slug for r in rows)} -->",
        "",
        "Each carrier is one folder, `aggregator/scrapers/<slug>/`; its `manifest.py` declares what is listed here. "
        "A question a carrier has no capability for is never asked of its portal: the batch, worklist, web "
        "form and CLI say \"not available at this carrier\" and show the call-the-payer item below. A gap is "
        "something the portal does not show even where it has the capability; "
        "`call_the_payer(manifest, need, service)` (aggregator/scrapers/framework/manifest.py) gives the item "
        "for a visit that needs it.",
        "",
        "| Carrier | Status | " + " | ".join(_cap_title(c) for c in Capability) + " | Sign-in | Gaps |",
        "|---|---|" + "---|" * len(Capability) + "---|---|",
    ]
    for row in rows:
        marks = ["yes" if c.value in row.capabilities else "**not available**" for c in Capability]
        mfa = " + ".join(m.kind for m in row.login.mfa) or "none"
        lines.append(f"| {row.display_name} (`{row.slug}`) | {row.status} | {' | '.join(marks)} | "
                     f"{row.login.kind}, MFA: {mfa} | {len(row.gaps)} |")
    for row in rows:
        lines += ["", *_carrier_section(row)]
    return "\n".join(lines) + "\n"


def _cap_title(capability: Capability) -> str:
    return capability.label[0].upper() + capability.label[1:]


def _carrier_section(row: CarrierCoverage) -> list[str]:
    lines = [f"## {row.display_name} (`{row.slug}`)", "", f"Status: {row.status}.", "",
             *([f"A hub: payers reached through it: {'; '.join(row.payers)}.", ""] if row.payers else []),
             "Capabilities: " + (", ".join(f"`{c}`" for c in row.capabilities) or "none") + ".",
             "Not available at this carrier: " + (", ".join(f"`{c}`" for c in row.not_available) or "none") + ".",
             "", "Search modes:", ""]
    lines += [f"- `{m.mode}` ({m.capability}): {m.needs}" for m in row.search_modes]
    lines += ["", f"Sign-in: {row.login.label} (`{row.login.kind}`); credentials in the vault: "
                  f"{', '.join(f'`{f}`' for f in row.login.credential_fields)}.", ""]
    lines += [f"- MFA `{m.kind}`: {m.label}" for m in row.login.mfa] or ["- no MFA"]
    limits = row.limits
    lines += ["", "Limits and caps:", "",
              f"- {limits.max_sessions_per_account} session per portal account, at most "
              f"{limits.max_concurrent_accounts} accounts at once, {limits.min_seconds_between_requests:g} s "
              f"between requests; a saved session is tried for {limits.session_lifetime_minutes} minutes"]
    lines += [f"- maintenance: {', '.join(w.weekdays) if len(w.weekdays) < 7 else 'daily'} {w.start}-{w.end} "
              f"{w.timezone} (the runner starts no lookup then)" for w in row.maintenance_windows]
    lines += [f"- {c.label}: {c.value}" + (f" ({c.capability})" if c.capability else "") + (f": {c.note}" if c.note else "")
              for c in row.caps]
    lines += ["", "Not shown by the portal, and the call-the-payer checklist:", ""]
    if not row.gaps:
        lines.append("- nothing declared")
    for gap in row.gaps:
        listed = "" if gap.shown_for is None else f"; it lists: {', '.join(_service_labels(gap.shown_for))}"
        note = f": {_md(gap.note)}" if gap.note else ""
        lines += [f"- **{gap.missing}** (`{gap.need}`{listed}){note}",
                  f"  - {_md(gap.text)}",
                  f"  - fills: {_md(gap.call_the_payer.fills)}"]
    return lines


def _md(text: str) -> str:
    """Markdown would take "<service>" for an HTML tag and show nothing."""
    return text.replace("<", "\\<").replace(">", "\\>")
