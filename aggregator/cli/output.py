"""How the CLI shows answers: readable tables, or the normalized records as JSON, plus evidence paths."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from aggregator.errors import ConfigurationError, NotAvailableAtCarrier
from aggregator.models import AuthorizationList, ClaimList, EligibilityRecord, MemberNotFound
from aggregator.scrapers.registry import adapter_for
from aggregator.scrapers.routing import payer_name

if TYPE_CHECKING:
    from aggregator.evidence_files import EvidenceFiles
    from aggregator.flows.authorization import AuthorizationAnswer
    from aggregator.runner import LookupResult


def show_result(console: Console, result: LookupResult, files: EvidenceFiles, *, as_json: bool,
                extra: dict[str, object] | None = None) -> None:
    evidence = [
        {"id": e.id, "url": e.url, "captured_at": e.captured_at.isoformat(), "label": e.label,
         "screenshot": files.where(e.screenshot_path), "html": files.where(e.html_path),
         "screenshot_sha256": e.screenshot_sha256}
        for e in result.evidence
    ]
    if as_json:
        payload = {
            "lookup_id": result.lookup_id, "carrier": result.carrier, "payer": result.carrier,
            "portal": result.portal, "account": result.account_label,
            "outcome": result.outcome.value, "reason": result.reason, "reason_code": result.reason_code,
            "record": result.answer.model_dump(mode="json") if result.answer else None,
            "changes": [c.model_dump(mode="json") for c in result.changes], "evidence": evidence, **(extra or {}),
        }
        console.print_json(json.dumps(payload))
        return
    console.print(f"[bold]{answered_by(result.carrier, result.portal)}[/bold]", highlight=False)
    answer = result.answer
    if isinstance(answer, MemberNotFound):
        console.print(f"[yellow]No answer:[/yellow] {answer.reject_reason.label} (AAA03 {answer.reject_reason.value})")
    elif isinstance(answer, EligibilityRecord):
        show_eligibility(console, answer)
    elif isinstance(answer, AuthorizationList):
        show_authorizations(console, answer)
    elif isinstance(answer, ClaimList):
        show_claims(console, answer)
    if result.changes:
        console.print("[bold]Changed since the last check:[/bold]")
        for change in result.changes:
            console.print(f"  - {change.message}", highlight=False)
    for item in evidence:
        console.print(f"evidence {item['id']}: {item['screenshot']}", highlight=False)


def answered_by(payer: str, portal: str | None) -> str:
    """"Ridgeline Mutual via Crossway": the payer, and the portal when it is not the payer's own site."""
    if portal is None or portal == payer:
        return payer_name(payer)
    return f"{payer_name(payer)} via {portal_name(portal)}"


def portal_name(portal: str) -> str:
    try:
        return adapter_for(portal).manifest.display_name
    except ConfigurationError:  # a lookup stored before a portal was removed still shows
        return portal


def show_not_available(console: Console, error: NotAvailableAtCarrier) -> None:
    """A question the carrier's portal cannot answer: what is missing and whom to call (no portal was asked)."""
    # One line, as every non-zero exit prints.
    console.print(f"[yellow]not available at this carrier:[/yellow] {error.reason}; what to do: {error.call_the_payer}",
                  highlight=False, soft_wrap=True)


def show_eligibility(console: Console, answer: EligibilityRecord) -> None:
    m, c = answer.member, answer.coverage
    summary = Table.grid(padding=(0, 2))
    summary.add_row("Member", f"{m.first_name} {m.last_name}  ({m.member_id}, born {m.date_of_birth}, {m.relationship.label})")
    summary.add_row("Payer", f"{answer.payer.name} ({answer.payer.payer_id})")
    summary.add_row("Plan", f"{answer.plan.name} [{answer.plan.insurance_type.label}], group {answer.plan.group_number} {answer.plan.group_name}")
    ends = f" to {c.termination_date}" if c.termination_date else ""
    status = "[green]ACTIVE[/green]" if c.status.value == "1" else "[red]INACTIVE[/red]"
    summary.add_row("Coverage", f"{status} on {answer.service_date} (effective {c.effective_date}{ends})")
    if answer.prior_auth_service_types:
        summary.add_row("Prior auth", ", ".join(s.label for s in answer.prior_auth_service_types))
    console.print(summary)
    if not answer.benefits:
        return
    table = Table(title="Benefits")
    for header in ("Service", "Benefit", "Network", "Level", "Period", "Value", "Prior auth"):
        table.add_column(header)
    for line in answer.benefits:
        if line.amount is not None:
            value = f"${line.amount:,.2f}"
        elif line.percent is not None:
            value = f"{line.percent * 100:g}%"
        elif line.quantity is not None:
            value = f"{line.quantity:g} {line.quantity_qualifier.label if line.quantity_qualifier else ''}"
        else:
            value = ""
        table.add_row(line.service_type.label, line.kind.label, line.network.label,
                      line.coverage_level.label if line.coverage_level else "",
                      line.time_period.label if line.time_period else "", value, line.prior_auth.label)
    console.print(table)


def show_authorizations(console: Console, answer: AuthorizationList) -> None:
    if not answer.authorizations:
        console.print("No authorizations on file.")
        return
    table = Table(title=f"Authorizations ({len(answer.authorizations)})")
    for header in ("Auth #", "Status", "Service", "Procedures (approved/used/left)", "Effective", "Expires", "Provider", "Reason"):
        table.add_column(header)
    for auth in answer.authorizations:
        procedures = "; ".join(f"{s.procedure_code} {s.approved:g}/{s.used:g}/{s.remaining:g} {s.unit.label.lower()}"
                               for s in auth.services)
        table.add_row(auth.auth_number, f"{auth.status.label} ({auth.status.value})", auth.service_type.label, procedures,
                      str(auth.effective_date or ""), str(auth.expiration_date or ""), auth.servicing_provider_name,
                      auth.decision_reason.label if auth.decision_reason else "")
    console.print(table)


def show_claims(console: Console, answer: ClaimList) -> None:
    if not answer.claims:
        console.print("No claims found.")
        return
    table = Table(title=f"Claims ({len(answer.claims)})")
    for header in ("Claim #", "Acct #", "Service dates", "Billed", "Allowed", "Paid", "Patient", "Status", "Paid on", "Check/EFT"):
        table.add_column(header)
    for claim in answer.claims:
        table.add_row(
            claim.payer_claim_number, claim.provider_account_number, f"{claim.service_from} - {claim.service_to}",
            _money(claim.billed), _money(claim.allowed), _money(claim.paid), _money(claim.patient_responsibility),
            f"{claim.status_category.label} ({claim.status_category.value}/{claim.status_code})",
            str(claim.paid_date or ""), claim.check_number or "",
        )
    console.print(table)
    if len(answer.claims) == 1:
        lines = Table(title="Lines")
        for header in ("Line", "Procedure", "Date", "Units", "Billed", "Allowed", "Paid", "Adjustments"):
            lines.add_column(header)
        for line in answer.claims[0].lines:
            adjustments = "; ".join(f"{a.group.value}-{a.reason.value} {_money(a.amount)}" for a in line.adjustments)
            lines.add_row(str(line.line_number), line.procedure_code, str(line.service_date), f"{line.units:g}",
                          _money(line.billed), _money(line.allowed), _money(line.paid), adjustments)
        console.print(lines)


def show_authorization_answer(console: Console, answer: AuthorizationAnswer) -> None:
    console.print(f"[bold]Prior authorization for the visit on {answer.service_date}:[/bold] "
                  f"required {answer.required.label} ({answer.required_because}); status {answer.status}"
                  + (f", covered by {answer.covering_auth_number}" if answer.covering_auth_number else ""), highlight=False)
    for item in answer.missing:
        console.print(f"  - {item}", highlight=False)


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"${value:,.2f}"
