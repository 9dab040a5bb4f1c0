"""Reads and writes for the canary: canary members (one per portal account) and canary results.

A canary member's member id and date of birth are PHI-like: nothing here logs them, and
`masked_member_id` is what pages and tables show.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date

from sqlmodel import col, select

from aggregator.store.batches import aware
from aggregator.store.repository import Repository, new_id, utcnow
from aggregator.store.tables import BatchItemRow, CanaryMemberRow, CanaryResultRow

PASSED, FAILED, INCONCLUSIVE = "passed", "failed", "inconclusive"
HELD_CODE = "canary_held"  # reason_code of a batch item held because its portal's canary failed


def masked_member_id(member_id: str) -> str:
    """'•••7341': enough for an admin to tell canary members apart, not enough to be the member id."""
    return "•••" + member_id[-4:] if len(member_id) > 6 else "•••"


def set_member(repository: Repository, *, carrier: str, account_label: str, member_id: str, date_of_birth: date,
               last_name: str | None = None, configured_by: str | None = None) -> CanaryMemberRow:
    """Configure (or replace) the canary member of one portal account. A replaced member starts a new
    baseline: answers about the previous member are no longer compared."""
    now = utcnow()
    with repository.session() as session:
        row = session.exec(select(CanaryMemberRow).where(CanaryMemberRow.carrier == carrier,
                                                         CanaryMemberRow.account_label == account_label)).first()
        if row is None:
            row = CanaryMemberRow(id=new_id(), carrier=carrier, account_label=account_label, member_id=member_id,
                                  date_of_birth=date_of_birth, last_name=last_name, configured_at=now,
                                  configured_by=configured_by)
        else:
            row.member_id, row.date_of_birth, row.last_name = member_id, date_of_birth, last_name
            row.configured_at, row.configured_by = now, configured_by
        session.add(row)
        session.commit()
        session.refresh(row)
    return _aware_member(row)


def remove_member(repository: Repository, canary_member_id: str) -> CanaryMemberRow | None:
    """Stop checking that account (its past results stay, for the record)."""
    with repository.session() as session:
        row = session.get(CanaryMemberRow, canary_member_id)
        if row is not None:
            session.delete(row)
            session.commit()
    return row


def members(repository: Repository, carriers: Iterable[str] | None = None) -> list[CanaryMemberRow]:
    statement = select(CanaryMemberRow)
    if carriers is not None:
        statement = statement.where(col(CanaryMemberRow.carrier).in_(list(carriers)))
    with repository.session() as session:
        rows = list(session.exec(statement.order_by(col(CanaryMemberRow.carrier), col(CanaryMemberRow.account_label))))
    return [_aware_member(r) for r in rows]


def add_result(repository: Repository, row: CanaryResultRow) -> CanaryResultRow:
    with repository.session() as session:
        session.add(row)
        session.commit()
    return row


def get_result(repository: Repository, result_id: str) -> CanaryResultRow | None:
    with repository.session() as session:
        row = session.get(CanaryResultRow, result_id)
    return _aware_result(row) if row else None


def recent_results(repository: Repository, *, limit: int = 50) -> list[CanaryResultRow]:
    with repository.session() as session:
        rows = list(session.exec(select(CanaryResultRow).order_by(col(CanaryResultRow.started_at).desc()).limit(limit)))
    return [_aware_result(r) for r in rows]


def latest_results(repository: Repository) -> dict[tuple[str, str], CanaryResultRow]:
    """The newest result of every (carrier, account label) that has a canary member now, since that member
    was configured (a replaced member's old results say nothing about the new one)."""
    latest: dict[tuple[str, str], CanaryResultRow] = {}
    with repository.session() as session:
        for member in members(repository):  # a handful of accounts: one small indexed query each
            row = session.exec(select(CanaryResultRow).where(CanaryResultRow.canary_member_id == member.id,
                                                             CanaryResultRow.started_at >= member.configured_at)
                               .order_by(col(CanaryResultRow.started_at).desc()).limit(1)).first()
            if row is not None:
                latest[(member.carrier, member.account_label)] = _aware_result(row)
    return latest


def baseline(repository: Repository, member: CanaryMemberRow) -> CanaryResultRow | None:
    """The last answer known good for this member since it was configured: the newest passed result, or
    a failed one an admin accepted."""
    with repository.session() as session:
        row = session.exec(
            select(CanaryResultRow)
            .where(CanaryResultRow.canary_member_id == member.id, col(CanaryResultRow.lookup_id).is_not(None),
                   CanaryResultRow.started_at >= member.configured_at,
                   (col(CanaryResultRow.status) == PASSED) | col(CanaryResultRow.accepted_at).is_not(None))
            .order_by(col(CanaryResultRow.started_at).desc()).limit(1)).first()
    return _aware_result(row) if row else None


def accept_result(repository: Repository, result_id: str, accepted_by: str) -> CanaryResultRow:
    """An admin says this (changed) answer is right: later canaries compare with it."""
    with repository.session() as session:
        row = session.get(CanaryResultRow, result_id)
        if row is None:
            raise KeyError(f"no canary result {result_id}")
        if row.lookup_id is None or row.reason_code != "canary_answer_changed":
            raise ValueError("only an answer that differs from the last good one can be accepted")
        row.accepted_at, row.accepted_by = utcnow(), accepted_by
        session.add(row)
        session.commit()
        session.refresh(row)
    return _aware_result(row)


def differences_of(row: CanaryResultRow) -> list[str]:
    return [str(x) for x in json.loads(row.differences)] if row.differences else []


def held_counts(repository: Repository) -> dict[str, int]:
    """Carrier -> how many batch items wait held by a failed canary (any date)."""
    with repository.session() as session:
        carriers = session.exec(select(BatchItemRow.carrier).where(BatchItemRow.reason_code == HELD_CODE,
                                                                   BatchItemRow.state == "pending")).all()
    counts: dict[str, int] = {}
    for carrier in carriers:
        counts[carrier] = counts.get(carrier, 0) + 1
    return counts


def _aware_member(row: CanaryMemberRow) -> CanaryMemberRow:
    row.configured_at = aware(row.configured_at) or row.configured_at
    return row


def _aware_result(row: CanaryResultRow) -> CanaryResultRow:
    row.started_at = aware(row.started_at) or row.started_at
    row.finished_at = aware(row.finished_at) or row.finished_at
    row.accepted_at = aware(row.accepted_at)
    return row
