"""The canary: before the batch, one known lookup per portal account checks login and parsing.

An admin configures a *canary member* per portal account (carrier + account label + member id + date of
birth; the web app's Admin > Canary page). Before the batch dispatches a portal's items, each of that
portal's accounts looks its canary member up once, through the batch's own runner, so a passing canary
costs one lookup and its logged-in session is the one the batch then uses (one session per account).

A check **passes** when the lookup ends FOUND with an eligibility record (the framework's invariants
already ran on it) whose *stable fields* equal the last known good answer for that member: member,
payer, plan, group, coverage status and dates, the plan's benefit lines (copays, coinsurance,
deductible and out-of-pocket totals, limits) and the prior-auth list. Accumulators (remaining, met to
date, used) are left out: they move with every paid claim. The comparison is what catches a change of
meaning that still parses (networks swapped by position, the plan's share read as the patient's); a real
change (a plan renewal) fails once, and an admin accepts the new answer as the baseline. The first
answer after a member is configured is the baseline.

A check **fails** on a login problem (rejected, action required, MFA needing a person), on anything the
adapter could not read safely (layout drift: needs attention), on "member not found" and on a changed
answer. It is **inconclusive** when the portal did not answer (unavailable, maintenance): the batch's
own backoff, breaker and maintenance handling deal with an outage, and nothing is held for it.

A portal is **held** when one of its checks failed for a reason that is the portal's (not one account's
login), or when no account of it passed and one failed to log in. Its unfinished items of the batch are
not attempted: they stay pending with the reason "held: canary failed at <portal>: <reason>", and run
at the next batch run (retry pass, `aggregator run`) whose canary passes. Other portals go on.

Nothing here logs a member id, name or date of birth: events carry carrier, account label, status
and reason code only.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from aggregator.errors import AggregatorError, ConfigurationError, Outcome
from aggregator.flows.changes import eligibility_changes
from aggregator.flows.eligibility import InconsistentAnswer
from aggregator.logging import get_logger
from aggregator.models import EligibilityQuery, EligibilityRecord, QuantityQualifier, TimePeriod
from aggregator.scrapers.registry import adapter_for
from aggregator.store import canary as store
from aggregator.store import new_id, utcnow
from aggregator.store.batches import update_item
from aggregator.store.tables import BatchItemRow, CanaryMemberRow, CanaryResultRow

if TYPE_CHECKING:
    from aggregator.runner import Runner

log = get_logger(__name__)

PASSED, FAILED, INCONCLUSIVE, SKIPPED = store.PASSED, store.FAILED, store.INCONCLUSIVE, "skipped"
HELD_CODE = store.HELD_CODE
ANSWER_CHANGED = "canary_answer_changed"
MEMBER_NOT_FOUND = "canary_member_not_found"
# Benefit lines that move with every paid claim: never part of the comparison.
ACCUMULATOR_PERIODS = frozenset({TimePeriod.REMAINING, TimePeriod.YEAR_TO_DATE, TimePeriod.LIFETIME_REMAINING})
HELD_ACTION = ("An admin looks at Admin > Canary: fix the portal account (vault) or have the adapter updated for the "
               "portal's new pages (or accept a changed canary answer that is right), then run `aggregator canary "
               "--portal {portal}`; held items run at the next batch run (`aggregator run --date {day}`, or the "
               "retry pass by itself).")


@dataclass(frozen=True)
class CanaryCheck:
    """One portal account's canary lookup and what it showed."""

    carrier: str
    account_label: str
    status: str  # passed / failed / inconclusive / skipped
    reason: str | None = None
    reason_code: str | None = None
    login_problem: bool = False  # the account's own problem (another account of the portal may be fine)
    result_id: str | None = None
    lookup_id: str | None = None
    differences: tuple[str, ...] = ()


@dataclass
class PortalVerdict:
    carrier: str
    display_name: str
    checks: list[CanaryCheck]
    held: bool = False
    reason: str | None = None
    reason_code: str | None = None

    @property
    def hold_reason(self) -> str:
        return f"held: canary failed at {self.display_name}: {self.reason}"


@dataclass
class CanaryGate:
    """What the canary decided before a batch run: the items to dispatch and the portals held."""

    verdicts: dict[str, PortalVerdict] = field(default_factory=dict)
    released: list[BatchItemRow] = field(default_factory=list)
    held_items: dict[str, int] = field(default_factory=dict)  # carrier -> items held

    @property
    def held(self) -> dict[str, str]:
        """Carrier -> the reason its items are held (for the batch summary)."""
        return {slug: v.hold_reason for slug, v in self.verdicts.items() if v.held}


# --- the batch's hook ----------------------------------------------------------------------------------


async def gate_batch(runner: Runner, day: date, items: Sequence[BatchItemRow], trigger: str) -> CanaryGate:
    """Run the canary of every portal that has unfinished items of `day`; hold the items of the portals
    whose canary failed and return the others. Without canary members (or with the canary switched off
    in the settings) every item is released and nothing is looked up."""
    gate = CanaryGate(released=list(items))
    carriers = sorted({item.carrier for item in items})
    if not carriers or not getattr(runner.settings, "canary_enabled", True):
        return gate
    if not store.members(runner.repository, carriers):
        _release_held(runner, [i for i in items if i.reason_code == HELD_CODE])
        return gate
    gate.verdicts = await run_canaries(runner, carriers=carriers, service_date=day, trigger=trigger, batch_date=day)
    released: list[BatchItemRow] = []
    held: list[BatchItemRow] = []
    for item in items:
        verdict = gate.verdicts.get(item.carrier)
        (held if verdict is not None and verdict.held else released).append(item)
    gate.released = released
    _release_held(runner, [i for i in released if i.reason_code == HELD_CODE])
    for item in held:
        verdict = gate.verdicts[item.carrier]
        update_item(runner.repository, item.id, state="pending", reason=verdict.hold_reason[:500],
                    reason_code=HELD_CODE, action=HELD_ACTION.format(portal=item.carrier, day=day.isoformat())[:500],
                    not_before=None, account_label=None)
        gate.held_items[item.carrier] = gate.held_items.get(item.carrier, 0) + 1
    for slug, count in sorted(gate.held_items.items()):
        verdict = gate.verdicts[slug]
        log.error("canary_portal_held", carrier=slug, batch_date=day.isoformat(), items=count,
                  error=verdict.reason_code, reason=verdict.reason)
    return gate


def _release_held(runner: Runner, items: Iterable[BatchItemRow]) -> None:
    """Items a failed canary held earlier and whose portal now passes: the hold's reason goes."""
    for item in items:
        update_item(runner.repository, item.id, reason=None, reason_code=None, action=None)


def member_problem(member_id: str, last_name: str | None) -> str | None:
    """What is wrong with a canary member's fields (web form, CLI), as a sentence that names the field,
    never the value (it is PHI-like)."""
    for name, value, limit in (("member id", member_id, 80), ("last name", last_name or "", 80)):
        if len(value.strip()) > limit:
            return f"the {name} is longer than {limit} characters"
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            return f"the {name} contains a control character"
    if not member_id.strip():
        return "the member id is empty"
    return None


# --- checks ---------------------------------------------------------------------------------------------


async def run_canaries(runner: Runner, *, carriers: Iterable[str] | None = None, service_date: date,
                       trigger: str, batch_date: date | None = None) -> dict[str, PortalVerdict]:
    """Check every configured canary member of these carriers (default all); portals in parallel, the
    accounts of one portal one after another (a portal limits concurrent sessions)."""
    by_carrier: dict[str, list[CanaryMemberRow]] = {}
    for member in store.members(runner.repository, carriers):
        by_carrier.setdefault(member.carrier, []).append(member)

    async def portal(slug: str, members: list[CanaryMemberRow]) -> PortalVerdict:
        checks: list[CanaryCheck] = []
        for member in members:
            failed = next((c for c in checks if c.status == FAILED and not c.login_problem), None)
            if failed is not None:  # the portal's own problem: another account would only fail the same way
                checks.append(_skipped(slug, member.account_label,
                                       f"the portal's canary already failed with account {failed.account_label}"))
                continue
            checks.append(await check_account(runner, member, service_date=service_date, trigger=trigger,
                                              batch_date=batch_date))
        return decide(slug, checks)

    verdicts = await asyncio.gather(*(portal(slug, ms) for slug, ms in sorted(by_carrier.items())))
    return {v.carrier: v for v in verdicts}


def decide(slug: str, checks: list[CanaryCheck]) -> PortalVerdict:
    """Held when a check failed for the portal's sake, or when no account passed and one failed to log in."""
    verdict = PortalVerdict(slug, display_name(slug), checks)
    failed = [c for c in checks if c.status == FAILED]
    portal_failures = [c for c in failed if not c.login_problem]
    cause = portal_failures[0] if portal_failures else (
        failed[0] if failed and not any(c.status == PASSED for c in checks) else None)
    if cause is not None:
        verdict.held, verdict.reason_code = True, cause.reason_code
        verdict.reason = f"{cause.reason} (account {cause.account_label})"
    return verdict


def display_name(slug: str) -> str:
    try:
        return adapter_for(slug).manifest.display_name
    except ConfigurationError:
        return slug


async def check_account(runner: Runner, member: CanaryMemberRow, *, service_date: date, trigger: str,
                        batch_date: date | None = None) -> CanaryCheck:
    """One canary lookup for one portal account, stored as a canary result (skipped ones are not)."""
    slug, label = member.carrier, member.account_label
    account = runner.vault.find(slug, label)
    if account is None:
        return _skipped(slug, label, "no such portal account in the vault")
    if account.is_frozen:  # the batch already ends the portal's items with what to do about it
        return _skipped(slug, label, f"the portal account is frozen ({account.frozen_reason})")
    query = EligibilityQuery(member_id=member.member_id, date_of_birth=member.date_of_birth,
                             service_date=service_date, last_name=member.last_name)
    started = utcnow()
    try:
        result = await runner.eligibility(slug, query, source="canary", account_label=label)
    except AggregatorError as error:  # e.g. the carrier has no eligibility lookup: nothing to check
        return _skipped(slug, label, error.reason)
    status, reason, code, differences = _judge(runner, member, result.outcome, result.answer, result.reason,
                                               result.reason_code)
    login_problem = status == FAILED and result.outcome is Outcome.NEEDS_HUMAN
    row = store.add_result(runner.repository, CanaryResultRow(
        id=new_id(), canary_member_id=member.id, carrier=slug, account_label=label, trigger=trigger,
        batch_date=batch_date, started_at=started, finished_at=utcnow(), status=status,
        reason=reason[:500] if reason else None, reason_code=code, lookup_id=result.lookup_id,
        differences=json.dumps(list(differences)) if differences else None))
    event = log.info if status == PASSED else log.warning
    event("canary_checked", carrier=slug, account=label, status=status, error=code, lookup_id=result.lookup_id,
          trigger=trigger)
    return CanaryCheck(slug, label, status, reason, code, login_problem, row.id, result.lookup_id, differences)


def _skipped(slug: str, label: str, reason: str) -> CanaryCheck:
    log.warning("canary_skipped", carrier=slug, account=label, reason=reason)
    return CanaryCheck(slug, label, SKIPPED, reason)


def _judge(runner: Runner, member: CanaryMemberRow, outcome: Outcome, answer: object, reason: str | None,
           code: str | None) -> tuple[str, str | None, str | None, tuple[str, ...]]:
    """(status, reason, reason code, differences from the baseline) of one canary lookup."""
    if outcome is Outcome.FOUND and isinstance(answer, EligibilityRecord):
        differences = _differences_from_baseline(runner, member, answer)
        if differences:
            return (FAILED, "the answer differs from the last good canary answer: " + "; ".join(differences),
                    ANSWER_CHANGED, differences)
        return PASSED, None, None, ()
    if outcome is Outcome.FOUND:  # not an eligibility record: the adapter answered something else
        return FAILED, "the canary lookup did not return an eligibility record", "canary_wrong_answer", ()
    if outcome is Outcome.NOT_FOUND:
        return (FAILED, f"the canary member was not found ({reason}): the portal's search changed, or the canary "
                        "member must be updated", MEMBER_NOT_FOUND, ())
    if outcome is Outcome.RETRY_LATER:
        return INCONCLUSIVE, reason, code, ()
    if outcome is Outcome.NEEDS_HUMAN:
        return FAILED, f"login: {reason}", code, ()
    return FAILED, reason or outcome.value, code or outcome.value, ()


def stable_view(record: EligibilityRecord) -> EligibilityRecord:
    """The record without what legitimately moves between checks: accumulators, provenance."""
    benefits = tuple(line for line in record.benefits if line.time_period not in ACCUMULATOR_PERIODS
                     and line.quantity_qualifier is not QuantityQualifier.QUANTITY_USED)
    return record.model_copy(update={"benefits": benefits, "provenance": None})


def stable_differences(baseline: EligibilityRecord, current: EligibilityRecord) -> tuple[str, ...]:
    """Sentences saying how the stable fields differ (empty: the same answer). No member name or DOB."""
    try:
        changes = eligibility_changes(stable_view(baseline), stable_view(current))
    except InconsistentAnswer:
        return ("the answer is about another member than the last good one",)
    return tuple(change.message for change in changes)


def _differences_from_baseline(runner: Runner, member: CanaryMemberRow, answer: EligibilityRecord) -> tuple[str, ...]:
    base = store.baseline(runner.repository, member)
    if base is None or base.lookup_id is None:
        return ()  # the first answer since the member was configured is the baseline
    previous = next((a for a in runner.repository.records_for_lookup(base.lookup_id)
                     if isinstance(a, EligibilityRecord)), None)
    return stable_differences(previous, answer) if previous is not None else ()
