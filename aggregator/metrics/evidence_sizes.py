"""Evidence bytes per carrier and kind of file, kept up to date at each scrape without re-reading the store.

The database keeps each capture's file paths but not their sizes; the files are content-addressed (a
file's name is its checksum, so it never changes) and the chain is append-only with increasing `seq`.
So one tally per web app remembers the last entry it counted and, at each scrape, reads only the entries
added since (a few columns, at most `max_entries` of them) and asks the file system their sizes. A scrape
after a large import catches up over several scrapes instead of stalling one.

What is counted: for every entry, the size of each file it references (screenshot, HTML, document), as
captured; two entries of an identical page count twice although the store keeps the file once. A file
that is missing counts 0 (`aggregator evidence verify` names it).
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlmodel import col

from aggregator.store.repository import Repository
from aggregator.store.tables import EvidenceRow

MAX_ENTRIES_PER_SCRAPE = 20_000
KINDS = ("screenshot", "html", "document")


@dataclass(frozen=True)
class EvidenceTotals:
    entries: dict[str, int]  # carrier -> entries counted
    bytes: dict[tuple[str, str], int]  # (carrier, kind) -> bytes
    behind: bool  # more entries are waiting than one scrape counts


class EvidenceSizeTally:
    def __init__(self, repository: Repository, snapshots_dir: Path, *, max_entries: int = MAX_ENTRIES_PER_SCRAPE) -> None:
        self.repository = repository
        self.snapshots_dir = snapshots_dir
        self.max_entries = max_entries
        self._last_seq = 0
        self._entries: Counter[str] = Counter()
        self._bytes: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()  # two scrapes at once must not count the same entries twice

    def totals(self) -> EvidenceTotals:
        with self._lock:
            statement = (select(col(EvidenceRow.seq), col(EvidenceRow.carrier), col(EvidenceRow.screenshot_path),
                                col(EvidenceRow.html_path), col(EvidenceRow.document_path))
                         .where(col(EvidenceRow.seq) > self._last_seq)
                         .order_by(col(EvidenceRow.seq)).limit(self.max_entries + 1))
            with self.repository.session() as session:
                rows = list(session.connection().execute(statement).all())
            behind = len(rows) > self.max_entries
            for seq, carrier, *paths in rows[: self.max_entries]:
                self._entries[carrier] += 1
                for kind, relative in zip(KINDS, paths, strict=True):
                    if relative:
                        self._bytes[(carrier, kind)] += self._size(relative)
                self._last_seq = seq
            return EvidenceTotals(dict(self._entries), dict(self._bytes), behind)

    def _size(self, relative: str) -> int:
        try:
            return (self.snapshots_dir / relative).stat().st_size
        except OSError:
            return 0
