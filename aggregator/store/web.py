"""All SQL of the web app: users, sessions, API tokens, failed sign-ins and the access log.

Functions take the product's `Repository` and use its sessions, so the web app shares the database (and
its migrations) with the runner. Nothing here knows about HTTP; hashing of passwords and tokens happens
in `aggregator.web.auth` and arrives here already hashed.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, delete, func, or_, update
from sqlmodel import col, select

from aggregator.store.repository import Repository, new_id, utcnow
from aggregator.store.tables import (
    AccessLogRow,
    AppointmentRow,
    BatchItemRow,
    EvidenceRow,
    LookupRow,
    RecordEvidenceRow,
    RecordRow,
    WebApiTokenRow,
    WebLoginFailureRow,
    WebSessionRow,
    WebUserRow,
)

ROLES = ("admin", "staff", "auditor")
DEFAULT_TOKEN_DAYS = 90  # API tokens made before tokens had an expiry end this long after they were made


def check_name(field: str, value: str) -> None:
    """Names people read (user names, display names, labels) are plain text: no control characters (NUL,
    newlines, escapes) and no invisible format characters (bidirectional overrides, zero-width marks) that
    make one name look like another or reorder what is shown around it."""
    if not value.strip():
        raise ValueError(f"{field} is empty")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in value):
        raise ValueError(f"{field} may not contain control, bidirectional or invisible characters")


def as_utc(moment: datetime) -> datetime:
    """SQLite hands datetimes back without a zone; everything stored is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# --- users ---------------------------------------------------------------------------------------------

def add_user(repository: Repository, *, username: str, display_name: str, role: str, password_hash: str) -> WebUserRow:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    check_name("user name", username)
    check_name("display name", display_name)
    now = utcnow()
    row = WebUserRow(id=new_id(), username=username, display_name=display_name, role=role,
                     password_hash=password_hash, created_at=now, updated_at=now)
    with repository.session() as s:
        if s.exec(select(WebUserRow).where(WebUserRow.username == username)).first() is not None:
            raise ValueError(f"a user named '{username}' already exists")
        s.add(row)
        s.commit()
    return row


def user_by_name(repository: Repository, username: str) -> WebUserRow | None:
    with repository.session() as s:
        return s.exec(select(WebUserRow).where(WebUserRow.username == username)).first()


def user_by_id(repository: Repository, user_id: str) -> WebUserRow | None:
    with repository.session() as s:
        return s.get(WebUserRow, user_id)


def users(repository: Repository) -> list[WebUserRow]:
    with repository.session() as s:
        return list(s.exec(select(WebUserRow).order_by(col(WebUserRow.username))))


def count_admins(repository: Repository) -> int:
    with repository.session() as s:
        return s.exec(select(func.count()).select_from(WebUserRow)
                      .where(WebUserRow.role == "admin", col(WebUserRow.disabled).is_(False))).one()


def update_user(repository: Repository, user_id: str, **fields: object) -> WebUserRow:
    with repository.session() as s:
        row = s.get(WebUserRow, user_id)
        if row is None:
            raise LookupError(f"no user {user_id}")
        for name, value in fields.items():
            setattr(row, name, value)
        row.updated_at = utcnow()
        s.add(row)
        if fields.get("disabled") or "password_hash" in fields:
            # A disabled user or a changed password ends every session.
            s.exec(delete(WebSessionRow).where(col(WebSessionRow.user_id) == user_id))
        if fields.get("disabled"):
            # ...and disabling revokes every token for good: enabling the user again must not bring back
            # tokens that may have leaked with the reason they were disabled.
            s.exec(update(WebApiTokenRow).where(col(WebApiTokenRow.user_id) == user_id,
                                                col(WebApiTokenRow.revoked_at).is_(None)).values(revoked_at=utcnow()))
        s.commit()
        return row


# --- sessions ------------------------------------------------------------------------------------------

def create_session(repository: Repository, *, session_hash: str, user_id: str, csrf_token: str,
                   client_ip: str | None) -> WebSessionRow:
    now = utcnow()
    row = WebSessionRow(id=session_hash, user_id=user_id, csrf_token=csrf_token, created_at=now,
                        last_seen_at=now, client_ip=client_ip)
    with repository.session() as s:
        s.add(row)
        user = s.get(WebUserRow, user_id)
        if user is not None:
            user.last_login_at = now
            s.add(user)
        s.commit()
    return row


def session_with_user(repository: Repository, session_hash: str) -> tuple[WebSessionRow, WebUserRow] | None:
    with repository.session() as s:
        found = s.exec(select(WebSessionRow, WebUserRow).join(WebUserRow, col(WebUserRow.id) == WebSessionRow.user_id)
                       .where(WebSessionRow.id == session_hash)).first()
        return (found[0], found[1]) if found else None


def touch_session(repository: Repository, session_hash: str, when: datetime) -> None:
    with repository.session() as s:
        row = s.get(WebSessionRow, session_hash)
        if row is not None:
            row.last_seen_at = when
            s.add(row)
            s.commit()


def end_session(repository: Repository, session_hash: str) -> None:
    with repository.session() as s:
        s.exec(delete(WebSessionRow).where(col(WebSessionRow.id) == session_hash))
        s.commit()


# --- API tokens ----------------------------------------------------------------------------------------

def add_token(repository: Repository, *, user_id: str, name: str, token_hash: str,
              days: int = DEFAULT_TOKEN_DAYS) -> WebApiTokenRow:
    if days < 1:
        raise ValueError("a token must last at least one day")
    now = utcnow()
    row = WebApiTokenRow(id=new_id(), user_id=user_id, name=name, token_hash=token_hash, created_at=now,
                         expires_at=now + timedelta(days=days))
    with repository.session() as s:
        s.add(row)
        s.commit()
    return row


def tokens(repository: Repository, user_id: str | None = None) -> list[WebApiTokenRow]:
    with repository.session() as s:
        query = select(WebApiTokenRow).order_by(col(WebApiTokenRow.created_at))
        if user_id is not None:
            query = query.where(WebApiTokenRow.user_id == user_id)
        return list(s.exec(query))


def token_expiry(token: WebApiTokenRow) -> datetime:
    return as_utc(token.expires_at) if token.expires_at else as_utc(token.created_at) + timedelta(days=DEFAULT_TOKEN_DAYS)


def user_for_token(repository: Repository, token_hash: str, now: datetime | None = None) -> WebUserRow | None:
    """The active user owning an unrevoked, unexpired token (and the token's last use is recorded)."""
    now = now or utcnow()
    unexpired = or_(col(WebApiTokenRow.expires_at) > now,
                    and_(col(WebApiTokenRow.expires_at).is_(None),
                         col(WebApiTokenRow.created_at) > now - timedelta(days=DEFAULT_TOKEN_DAYS)))
    with repository.session() as s:
        found = s.exec(select(WebApiTokenRow, WebUserRow).join(WebUserRow, col(WebUserRow.id) == WebApiTokenRow.user_id)
                       .where(WebApiTokenRow.token_hash == token_hash, col(WebApiTokenRow.revoked_at).is_(None),
                              unexpired, col(WebUserRow.disabled).is_(False))).first()
        if found is None:
            return None
        token, user = found
        token.last_used_at = utcnow()
        s.add(token)
        s.commit()
        return user


def revoke_token(repository: Repository, token_id: str) -> WebApiTokenRow:
    with repository.session() as s:
        row = s.get(WebApiTokenRow, token_id)
        if row is None:
            raise LookupError(f"no token {token_id}")
        row.revoked_at = row.revoked_at or utcnow()
        s.add(row)
        s.commit()
        return row


# --- failed sign-ins -----------------------------------------------------------------------------------

def record_login_failure(repository: Repository, username: str, client_ip: str | None) -> None:
    with repository.session() as s:
        s.add(WebLoginFailureRow(id=new_id(), username=username[:80], client_ip=client_ip, failed_at=utcnow()))
        s.commit()


def recent_login_failures(repository: Repository, *, username: str, client_ip: str | None,
                          since: datetime) -> tuple[int, int]:
    """Failures since `since` for this user name, and from this address (any user name)."""
    with repository.session() as s:
        by_user = s.exec(select(func.count()).select_from(WebLoginFailureRow)
                         .where(WebLoginFailureRow.username == username[:80], WebLoginFailureRow.failed_at >= since)).one()
        by_ip = 0
        if client_ip:
            by_ip = s.exec(select(func.count()).select_from(WebLoginFailureRow)
                           .where(WebLoginFailureRow.client_ip == client_ip, WebLoginFailureRow.failed_at >= since)).one()
        return by_user, by_ip


def clear_login_failures(repository: Repository, username: str) -> None:
    with repository.session() as s:
        s.exec(delete(WebLoginFailureRow).where(col(WebLoginFailureRow.username) == username))
        s.commit()


# --- access log ----------------------------------------------------------------------------------------

def log_access(repository: Repository, *, user: WebUserRow, action: str, object_type: str, object_id: str,
               client_ip: str | None) -> AccessLogRow:
    row = AccessLogRow(id=new_id(), at=utcnow(), user_id=user.id, username=user.username, role=user.role,
                       action=action, object_type=object_type, object_id=object_id[:120], client_ip=client_ip)
    with repository.session() as s:
        s.add(row)
        s.commit()
    return row


def access_log(repository: Repository, *, username: str | None = None, object_type: str | None = None,
               object_id: str | None = None, limit: int = 200) -> list[AccessLogRow]:
    with repository.session() as s:
        query = select(AccessLogRow).order_by(col(AccessLogRow.at).desc()).limit(limit)
        if username:
            query = query.where(AccessLogRow.username == username)
        if object_type:
            query = query.where(AccessLogRow.object_type == object_type)
        if object_id:
            query = query.where(AccessLogRow.object_id == object_id)
        return list(s.exec(query))


# --- evidence browsing (read-only queries the auditor pages need) ---------------------------------------

def find_evidence(repository: Repository, *, date_from: date | None = None, date_to: date | None = None,
                  carrier: str | None = None, member_id: str | None = None, flow: str | None = None,
                  limit: int = 200) -> list[tuple[EvidenceRow, LookupRow | None]]:
    """Evidence by capture date (UTC days), carrier, member id (of its lookup) and flow, newest first."""
    with repository.session() as s:
        query = (select(EvidenceRow, LookupRow).join(LookupRow, col(LookupRow.id) == EvidenceRow.lookup_id, isouter=True)
                 .order_by(col(EvidenceRow.seq).desc()).limit(limit))
        if date_from:
            query = query.where(EvidenceRow.captured_at >= datetime.combine(date_from, time.min, UTC))
        if date_to and date_to < date.max:  # the last day of the calendar has no "next day" to stop before
            query = query.where(EvidenceRow.captured_at < datetime.combine(date_to + timedelta(days=1), time.min, UTC))
        if carrier:
            query = query.where(EvidenceRow.carrier == carrier)
        if flow:
            query = query.where(EvidenceRow.flow == flow)
        if member_id:
            query = query.where(LookupRow.member_id == member_id)
        return [(e, lk) for e, lk in s.exec(query)]


def records_backed_by(repository: Repository, evidence_id: str) -> list[RecordRow]:
    with repository.session() as s:
        return list(s.exec(select(RecordRow).join(RecordEvidenceRow, col(RecordEvidenceRow.record_id) == RecordRow.id)
                           .where(RecordEvidenceRow.evidence_id == evidence_id)))


def records_of_lookup(repository: Repository, lookup_id: str) -> list[RecordRow]:
    with repository.session() as s:
        return list(s.exec(select(RecordRow).where(RecordRow.lookup_id == lookup_id)))


def previous_evidence(repository: Repository, seq: int) -> EvidenceRow | None:
    with repository.session() as s:
        return s.exec(select(EvidenceRow).where(EvidenceRow.seq < seq).order_by(col(EvidenceRow.seq).desc()).limit(1)).first()


def evidence_count(repository: Repository) -> int:
    with repository.session() as s:
        return s.exec(select(func.count()).select_from(EvidenceRow)).one()


# --- appointments and batch items (read-only; the batch writes them) -----------------------------------

def appointment(repository: Repository, appointment_id: str) -> AppointmentRow | None:
    with repository.session() as s:
        return s.get(AppointmentRow, appointment_id)


def batch_item(repository: Repository, item_id: str) -> BatchItemRow | None:
    with repository.session() as s:
        return s.get(BatchItemRow, item_id)


def batch_items_for(repository: Repository, appointment_id: str) -> list[BatchItemRow]:
    """Every batch date's item for this appointment, latest batch date first."""
    with repository.session() as s:
        return list(s.exec(select(BatchItemRow).where(BatchItemRow.appointment_id == appointment_id)
                           .order_by(col(BatchItemRow.batch_date).desc())))
