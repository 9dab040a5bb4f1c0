"""Daily search budgets of portal accounts, and the notices portals give accounts (a password expiring).

A hub caps searches per user per day and shows a "limit reached" page beyond; we never go there: every
search is reserved here first, by one conditional UPDATE (`searches < cap`), so two workers or processes
cannot both take the last one, and the count survives restarts. A reservation is spent even when the search
then fails: the portal may have counted it, and counting one too many only costs a search, never the cap.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from aggregator.store.repository import Repository, utcnow
from aggregator.store.tables import AccountNoticeRow, PortalSearchCountRow


@dataclass(frozen=True)
class AccountRef:
    """The portal account a count or notice belongs to (the vault's id, and what people call it)."""

    account_id: str
    portal: str
    label: str


def reserve_search(repository: Repository, account: AccountRef, day: date, cap: int) -> bool:
    """Take one of the account's `cap` searches of `day`; False when none is left."""
    for _ in range(3):  # two workers making the day's first row at once: the loser updates it instead
        with repository.session() as session:
            result = session.exec(
                update(PortalSearchCountRow)
                .where(col(PortalSearchCountRow.account_id) == account.account_id,
                       col(PortalSearchCountRow.day) == day, col(PortalSearchCountRow.searches) < cap)
                .values(searches=PortalSearchCountRow.searches + 1, updated_at=utcnow()))
            if result.rowcount == 1:
                session.commit()
                return True
            exists = session.exec(select(PortalSearchCountRow.searches).where(
                PortalSearchCountRow.account_id == account.account_id, PortalSearchCountRow.day == day)).first()
            if exists is not None:
                return False  # at the cap
            if cap < 1:
                return False
            session.add(PortalSearchCountRow(account_id=account.account_id, day=day, portal=account.portal,
                                             account_label=account.label, searches=1, updated_at=utcnow()))
            try:
                session.commit()
                return True
            except IntegrityError:
                session.rollback()
    raise RuntimeError(f"could not count a search of {account.portal}/{account.label}")


def searches_made(repository: Repository, account_ids: Iterable[str], day: date) -> dict[str, int]:
    """Searches each account made on `day` (0 for one that made none)."""
    ids = list(account_ids)
    counts = dict.fromkeys(ids, 0)
    if not ids:
        return counts
    with repository.session() as session:
        for row in session.exec(select(PortalSearchCountRow).where(
                col(PortalSearchCountRow.account_id).in_(ids), PortalSearchCountRow.day == day)):
            counts[row.account_id] = row.searches
    return counts


def record_notice(repository: Repository, account: AccountRef, kind: str, message: str, due: date | None) -> None:
    with repository.session() as session:
        row = session.get(AccountNoticeRow, (account.account_id, kind))
        if row is None:
            row = AccountNoticeRow(account_id=account.account_id, kind=kind, portal=account.portal,
                                   account_label=account.label, message=message[:500], due=due, seen_at=utcnow())
        else:
            row.portal, row.account_label, row.message, row.due, row.seen_at = (
                account.portal, account.label, message[:500], due, utcnow())
        session.add(row)
        session.commit()


def clear_notices(repository: Repository, account_id: str, kinds: Iterable[str]) -> None:
    """The portal no longer says it (the password was changed): the notice goes."""
    kinds = list(kinds)
    if not kinds:
        return
    with repository.session() as session:
        for row in session.exec(select(AccountNoticeRow).where(AccountNoticeRow.account_id == account_id,
                                                               col(AccountNoticeRow.kind).in_(kinds))):
            session.delete(row)
        session.commit()


def account_notices(repository: Repository, account_id: str) -> list[AccountNoticeRow]:
    with repository.session() as session:
        return list(session.exec(select(AccountNoticeRow).where(AccountNoticeRow.account_id == account_id)))


def notices(repository: Repository) -> list[AccountNoticeRow]:
    """Every current notice, soonest due first."""
    with repository.session() as session:
        rows = list(session.exec(select(AccountNoticeRow)))
    return sorted(rows, key=lambda r: (r.due or date.max, r.portal, r.account_label, r.kind))
