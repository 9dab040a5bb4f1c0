"""Reads and writes for lookups, records and the evidence chain. The only place that issues SQL."""

from __future__ import annotations

import functools
import os
import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import psutil
from sqlalchemy import text, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from aggregator.errors import Outcome
from aggregator.models import (
    AuthorizationList,
    ClaimList,
    EligibilityRecord,
    MemberNotFound,
)
from aggregator.models.answers import Answer, Query
from aggregator.store.database import make_engine, migrate
from aggregator.store.tables import EvidenceRow, LookupRow, RecordEvidenceRow, RecordRow

ANSWER_TYPES: dict[str, type[Answer]] = {
    "eligibility": EligibilityRecord, "not_found": MemberNotFound,
    "authorization_list": AuthorizationList, "claim_list": ClaimList,
}
GENESIS_HASH = "0" * 64
EVIDENCE_CHAIN_LOCK = 0x45564944  # "EVID": the advisory lock key that serializes chain appends


INTERRUPTED = "interrupted"  # the outcome of a lookup whose process died before it finished
INTERRUPTED_REASON = ("interrupted: the process running this lookup stopped before it finished (killed, crashed or "
                      "the machine restarted); ask again")


def process_owner() -> str:
    """This process, as lookups record it: host, pid and start time (a reused pid is another process).
    Cached by pid (every lookup records it): a forked child is another pid, so another owner."""
    return _owner_of(os.getpid())


@functools.lru_cache(maxsize=4)
def _owner_of(pid: int) -> str:
    return f"{_host()}:{pid}:{_started(pid)}"


def _host() -> str:
    return socket.gethostname()[:80]  # the owner column holds 120 characters


def _started(pid: int) -> int:
    return int(psutil.Process(pid).create_time())


def owner_is_gone(owner: str | None) -> bool:
    """True when the process that `owner` names has certainly ended; a process on another host (a shared
    PostgreSQL) cannot be checked from here and counts as alive. A lookup without an owner was left by a
    release before owners were recorded: nothing still runs it."""
    if owner is None:
        return True
    parts = owner.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit():
        return False  # not an owner this code wrote: leave it alone
    host, pid, started = parts[0], int(parts[1]), parts[2]
    if host != _host():
        return False
    try:
        return abs(_started(pid) - int(started)) > 1  # the pid now belongs to a process started later
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return True
    except psutil.Error:  # no permission to look: it exists
        return False


def new_id() -> str:
    return uuid.uuid4().hex


def utcnow() -> datetime:
    """Timezone-aware UTC: what the database stores and what evidence hashes cover."""
    return datetime.now(UTC)


class Repository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str) -> Repository:
        """Engine, schema brought to the latest migration, and lookups a dead process left open closed."""
        engine = make_engine(url)
        migrate(engine)
        repository = cls(engine)
        repository.close_interrupted_lookups()
        return repository

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    # --- lookups ------------------------------------------------------------------------------------

    def create_lookup(self, *, flow: str, carrier: str, query: Query, source: str) -> LookupRow:
        row = LookupRow(
            id=new_id(), flow=flow, carrier=carrier, member_id=getattr(query, "member_id", None),
            date_of_birth=getattr(query, "date_of_birth", None),
            service_date=getattr(query, "service_date", None) or getattr(query, "service_to", None),
            query=query.model_dump_json(), source=source, requested_at=utcnow(), owner=process_owner(),
        )
        with self.session() as s:
            s.add(row)
            s.commit()
        return row

    def _update_lookup(self, lookup_id: str, **fields: object) -> None:
        # One UPDATE statement: the row is not read first (three of these per lookup).
        with self.session() as s:
            result = s.exec(update(LookupRow).where(col(LookupRow.id) == lookup_id).values(**fields))
            assert result.rowcount == 1, f"no lookup {lookup_id}"
            s.commit()

    def set_lookup_account(self, lookup_id: str, account_label: str, *, portal: str | None = None) -> None:
        self._update_lookup(lookup_id, account_label=account_label, portal=portal)

    def set_lookup_changes(self, lookup_id: str, changes_json: str) -> None:
        self._update_lookup(lookup_id, changes=changes_json)

    def finish_lookup(self, lookup_id: str, outcome: Outcome, reason: str | None, reason_code: str | None, *,
                      record: tuple[Answer, str] | None = None, changes_json: str | None = None) -> None:
        """The lookup's outcome, with the record that answers it (`(answer, subject)`) and what changed
        since the previous answer, in one transaction: a lookup is never finished without its record,
        nor a record stored for a lookup that did not finish."""
        fields: dict[str, object] = dict(outcome=outcome.value, reason=reason[:500] if reason else None,
                                         reason_code=reason_code, finished_at=utcnow(), owner=None)
        if changes_json is not None:
            fields["changes"] = changes_json
        with self.session() as s:
            if record is not None:
                self._add_record(s, lookup_id, *record)
            result = s.exec(update(LookupRow).where(col(LookupRow.id) == lookup_id).values(**fields))
            assert result.rowcount == 1, f"no lookup {lookup_id}"
            s.commit()

    def close_interrupted_lookups(self) -> int:
        """Lookups without an outcome whose process has ended get the outcome "interrupted" (not a
        "pending" shown forever). Lookups of live processes, here or on another host, are left alone.
        Returns how many were closed; run at every open, so a restart cleans up after a kill."""
        with self.session() as s:
            open_rows = list(s.exec(select(LookupRow).where(col(LookupRow.outcome).is_(None))))
            closed = 0
            for row in open_rows:
                if not owner_is_gone(row.owner):
                    continue
                row.outcome, row.reason, row.reason_code = INTERRUPTED, INTERRUPTED_REASON, INTERRUPTED
                row.finished_at, row.owner = utcnow(), None
                s.add(row)
                closed += 1
            if closed:
                s.commit()
            return closed

    def get_lookup(self, lookup_id: str) -> LookupRow | None:
        with self.session() as s:
            return s.get(LookupRow, lookup_id)

    def lookups(self, *, limit: int = 100) -> list[LookupRow]:
        with self.session() as s:
            return list(s.exec(select(LookupRow).order_by(col(LookupRow.requested_at).desc()).limit(limit)))

    # --- records ------------------------------------------------------------------------------------

    def save_record(self, lookup_id: str, answer: Answer, *, subject: str) -> str:
        with self.session() as s:
            record_id = self._add_record(s, lookup_id, answer, subject)
            s.commit()
        return record_id

    @staticmethod
    def _add_record(s: Session, lookup_id: str, answer: Answer, subject: str) -> str:
        assert answer.provenance is not None, "records are stored with their provenance"
        query = answer.query if not isinstance(answer, EligibilityRecord) else None
        member_id = answer.member.member_id if isinstance(answer, EligibilityRecord) else getattr(query, "member_id", None)
        service_date = (answer.service_date if isinstance(answer, EligibilityRecord)
                        else getattr(query, "service_date", None) or getattr(query, "service_to", None))
        row = RecordRow(
            id=new_id(), lookup_id=lookup_id, kind=answer.kind, carrier=answer.carrier, subject=subject,
            member_id=member_id, service_date=service_date,
            fetched_at=answer.provenance.fetched_at.astimezone(UTC),
            payload=answer.model_dump_json(),
        )
        s.add(row)
        s.flush()
        for evidence_id in answer.provenance.evidence_ids:
            s.add(RecordEvidenceRow(record_id=row.id, evidence_id=evidence_id))
        return row.id

    def records_for_lookup(self, lookup_id: str) -> list[Answer]:
        with self.session() as s:
            rows = s.exec(select(RecordRow).where(RecordRow.lookup_id == lookup_id))
            return [load_answer(r) for r in rows]

    def previous_record(self, *, carrier: str, kind: str, subject: str, before_lookup: str) -> Answer | None:
        """The latest stored answer of this kind on this subject, from an earlier lookup."""
        with self.session() as s:
            row = s.exec(
                select(RecordRow)
                .where(RecordRow.carrier == carrier, RecordRow.kind == kind, RecordRow.subject == subject,
                       RecordRow.lookup_id != before_lookup)
                .order_by(col(RecordRow.fetched_at).desc())
                .limit(1)
            ).first()
            return load_answer(row) if row else None

    # --- evidence chain -----------------------------------------------------------------------------

    def append_evidence(self, build: Callable[[int, str], EvidenceRow]) -> EvidenceRow:
        """Append to the chain atomically: `build(seq, prev_hash)` returns the complete row."""
        with self.session() as s:
            if self.engine.dialect.name == "postgresql":
                # Row locks cannot stop two writers from reading the same head and both appending after
                # it; a transaction-scoped advisory lock serializes appends (SQLite: BEGIN IMMEDIATE).
                s.connection().execute(text("SELECT pg_advisory_xact_lock(:key)").bindparams(key=EVIDENCE_CHAIN_LOCK))
            last = s.exec(select(EvidenceRow).order_by(col(EvidenceRow.seq).desc()).limit(1)).first()
            seq = (last.seq + 1) if last else 1
            row = build(seq, last.entry_hash if last else GENESIS_HASH)
            s.add(row)
            s.commit()
            return row

    def evidence(self, evidence_id: str) -> EvidenceRow | None:
        with self.session() as s:
            return s.get(EvidenceRow, evidence_id)

    def evidence_for_lookup(self, lookup_id: str) -> list[EvidenceRow]:
        with self.session() as s:
            return list(s.exec(select(EvidenceRow).where(EvidenceRow.lookup_id == lookup_id).order_by(col(EvidenceRow.seq))))

    def evidence_chain(self) -> Iterator[EvidenceRow]:
        with self.session() as s:
            yield from s.exec(select(EvidenceRow).order_by(col(EvidenceRow.seq))).yield_per(500)


def load_answer(row: RecordRow) -> Answer:
    return ANSWER_TYPES[row.kind].model_validate_json(row.payload)
