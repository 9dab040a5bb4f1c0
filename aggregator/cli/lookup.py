"""`aggregator lookup ...`: ask a carrier portal one question now (eligibility, authorizations, claims).

`--carrier` names the payer (the health plan on the card); routing (<data dir>/routing.json, docs/routing.md)
picks the portal that answers for it, and `--portal` forces one (its own site or a hub that serves it)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer

from aggregator.cli.common import (
    EXIT_CODES,
    AccountOption,
    CarrierOption,
    DataDirOption,
    DobOption,
    JsonOption,
    MemberIdOption,
    PortalOption,
    app,
    build_query,
    console,
    fail,
    load_settings,
    parse_iso_date,
    plan_lookups,
    run_lookups,
)
from aggregator.cli.output import show_authorization_answer, show_result
from aggregator.errors import Outcome
from aggregator.evidence_files import evidence_files
from aggregator.models import (
    AuthorizationList,
    AuthorizationQuery,
    ClaimQuery,
    EligibilityQuery,
    EligibilityRecord,
    ServiceType,
)
from aggregator.scrapers.framework import Capability
from aggregator.settings import Settings

if TYPE_CHECKING:  # Playwright is imported only by commands that browse
    from aggregator.runner import LookupResult, Runner

OptionalMemberIdOption = Annotated[str | None, typer.Option(
    "--member-id", help="member id as printed on the card (or search by --first-name and --last-name)")]

lookup_app = typer.Typer(help="Ask a carrier portal one question now (the payer's routed portal, or --portal).",
                         no_args_is_help=True)
app.add_typer(lookup_app, name="lookup")


def finish(result: LookupResult, settings: Settings, as_json: bool, extra: dict[str, Any] | None = None) -> None:
    show_result(console, result, evidence_files(settings), as_json=as_json, extra=extra)
    if result.outcome is not Outcome.FOUND:
        reason = f"{result.outcome.value}: {result.reason}" if result.reason else result.outcome.value
        raise fail(reason, EXIT_CODES[result.outcome])


@lookup_app.command("eligibility")
def lookup_eligibility(
    carrier: CarrierOption,
    dob: DobOption,
    member_id: OptionalMemberIdOption = None,
    service_date: Annotated[str | None, typer.Option("--service-date", help="date of service, YYYY-MM-DD (default today)")] = None,
    first_name: Annotated[str | None, typer.Option("--first-name", help="with --last-name and no --member-id: search "
                                                   "by name and date of birth, where the payer's portal allows it")] = None,
    last_name: Annotated[str | None, typer.Option("--last-name", help="narrows a member-id search; with "
                                                  "--first-name: a search by name")] = None,
    portal: PortalOption = None,
    account: AccountOption = None,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Eligibility and benefits for one member on a date of service (by member id, or by name + DOB)."""
    settings = load_settings(data_dir)
    if not (member_id and member_id.strip()):
        missing = [option for option, value in (("--first-name", first_name), ("--last-name", last_name))
                   if not (value and value.strip())]
        if missing:
            raise fail(f"--member-id is missing: give it, or search by name with --first-name and --last-name "
                       f"(missing: {' and '.join(missing)})", 2)
        member_id = None
    query = build_query(EligibilityQuery, member_id=member_id, date_of_birth=parse_iso_date(dob, "--dob"),
                        service_date=parse_iso_date(service_date, "--service-date") if service_date else date.today(),
                        last_name=last_name or None, first_name=first_name or None)
    payer, forced = plan_lookups(settings, carrier, [(Capability.ELIGIBILITY, query)], portal)
    result = run_lookups(settings, lambda r: r.eligibility(payer, query, account_label=account, portal=forced))
    finish(result, settings, as_json)


@lookup_app.command("authorizations")
def lookup_authorizations(
    carrier: CarrierOption,
    member_id: MemberIdOption,
    dob: DobOption,
    service_date: Annotated[str | None, typer.Option("--service-date", help="with --service-type/--procedure: answer "
                                                     "whether this visit needs an authorization and has one")] = None,
    service_type: Annotated[str | None, typer.Option("--service-type", help="X12 service type code, e.g. 62")] = None,
    procedure: Annotated[str | None, typer.Option("--procedure", help="CPT/HCPCS code, e.g. 70551")] = None,
    portal: PortalOption = None,
    account: AccountOption = None,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Prior authorizations on file for a member; with a visit, whether it needs one and has one."""
    from aggregator.flows.authorization import answer_authorization

    settings = load_settings(data_dir)
    query = build_query(AuthorizationQuery, member_id=member_id, date_of_birth=parse_iso_date(dob, "--dob"))
    if (service_type or procedure) and not service_date:
        raise fail("--service-type/--procedure need --service-date (the visit to check)", 2)
    visit_type = None
    if service_type:
        try:
            visit_type = ServiceType(service_type.strip().upper())
        except ValueError:
            raise fail(f"--service-type: '{service_type}' is not an X12 service type code this product knows", 2) from None
    if not service_date:
        payer, forced = plan_lookups(settings, carrier, [(Capability.AUTHORIZATION, query)], portal)
        result = run_lookups(settings, lambda r: r.authorizations(payer, query, account_label=account, portal=forced))
        finish(result, settings, as_json)
        return
    visit = parse_iso_date(service_date, "--service-date")
    eligibility_query = build_query(EligibilityQuery, member_id=member_id, date_of_birth=query.date_of_birth,
                                    service_date=visit)
    payer, forced = plan_lookups(settings, carrier, [(Capability.AUTHORIZATION, query),
                                                     (Capability.ELIGIBILITY, eligibility_query)], portal)

    async def both(runner: Runner) -> tuple[LookupResult, LookupResult]:
        coverage = await runner.eligibility(payer, eligibility_query, account_label=account, portal=forced)
        return coverage, await runner.authorizations(payer, query, account_label=account, portal=forced)

    coverage, auths = run_lookups(settings, both)
    for part in (coverage, auths):
        if part.outcome is not Outcome.FOUND:
            finish(part, settings, as_json)
    # Both FOUND (finish() exits otherwise): the answers are the records themselves, not "member not found".
    assert isinstance(coverage.answer, EligibilityRecord) and isinstance(auths.answer, AuthorizationList)
    answer = answer_authorization(coverage.answer, auths.answer, service_date=visit,
                                  service_type=visit_type, procedure_code=procedure.strip().upper() if procedure else None)
    finish(auths, settings, as_json, extra={"authorization_answer": answer.model_dump(mode="json")})
    if not as_json:
        show_authorization_answer(console, answer)


@lookup_app.command("claims")
def lookup_claims(
    carrier: CarrierOption,
    claim_number: Annotated[str | None, typer.Option("--claim-number", help="the payer's claim number")] = None,
    member_id: Annotated[str | None, typer.Option("--member-id", help="member id (with --dob, --from, --to)")] = None,
    dob: Annotated[str | None, typer.Option(help="date of birth, YYYY-MM-DD")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="first date of service, YYYY-MM-DD")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="last date of service, YYYY-MM-DD (default today)")] = None,
    portal: PortalOption = None,
    account: AccountOption = None,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Claim status by claim number, or every claim of a member in a date range (all result pages)."""
    settings = load_settings(data_dir)
    query = build_query(
        ClaimQuery, claim_number=claim_number.strip() if claim_number else None, member_id=member_id,
        date_of_birth=parse_iso_date(dob, "--dob") if dob else None,
        service_from=parse_iso_date(date_from, "--from") if date_from else None,
        service_to=parse_iso_date(date_to, "--to") if date_to else (date.today() if member_id else None),
    )
    payer, forced = plan_lookups(settings, carrier, [(Capability.CLAIM_STATUS, query)], portal)
    result = run_lookups(settings, lambda r: r.claims(payer, query, account_label=account, portal=forced))
    finish(result, settings, as_json)
