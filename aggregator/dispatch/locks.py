"""The names of procrastinate's locks: what two jobs must never do at the same time, across every machine.

A procrastinate `lock` lets one job with that name be "doing" at a time (the others wait, queued); a
`queueing_lock` lets one job with that name wait in the queue at a time (a second defer is refused).
The names carry no PHI: a carrier slug, a vault account label, a batch item id.
"""

from __future__ import annotations

ACCOUNT_LOCK_PREFIX = "portal-account:"
ITEM_QUEUEING_LOCK_PREFIX = "batch-item:"


def account_lock(carrier: str, label: str) -> str:
    """The `lock` of every job that uses one portal account: one active job, so one portal session, per
    account across all workers (the portals allow one session per account; a second login ends the first)."""
    if not carrier or not label:
        raise ValueError("a portal account lock needs the carrier and the account label")
    return f"{ACCOUNT_LOCK_PREFIX}{carrier}/{label}"


def account_of_lock(lock: str | None) -> tuple[str, str] | None:
    """(carrier, label) of a lock made by `account_lock`, None for any other lock."""
    if not lock or not lock.startswith(ACCOUNT_LOCK_PREFIX):
        return None
    carrier, _, label = lock.removeprefix(ACCOUNT_LOCK_PREFIX).partition("/")
    return (carrier, label) if carrier and label else None


def item_queueing_lock(item_id: str) -> str:
    """The `queueing_lock` of a batch item's job: at most one job per item waits in the queue, so enqueuing
    a day twice (two `aggregator run`, the nightly task and a person) never checks an item twice."""
    if not item_id:
        raise ValueError("a batch item queueing lock needs the item id")
    return f"{ITEM_QUEUEING_LOCK_PREFIX}{item_id}"
