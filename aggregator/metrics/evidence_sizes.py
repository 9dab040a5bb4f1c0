"""Evidence bytes per carrier and kind of file, kept up to date at each scrape without re-reading the store.

The database keeps each capture's file paths but not their sizes; the files are content-addressed (a
file's name is its checksum, so it never changes) and the chain is append-only with increasing `seq`.
So one tally per web app remembers the last entry it counted and, at each scrape, reads only the entries
added since (a few columns, at most `max_entries` of them) and asks the evidence store their sizes (a stat on
the local directory, a HEAD per file on S3: fewer entries per scrape there, sent in parallel). A scrape after
a large import catches up over several scrapes instead of stalling one; a store that cannot be reached counts
nothing that scrape and is asked again at the next.

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

from aggregator.errors import AggregatorError
from aggregator.evidence_files import DirectoryEvidenceFiles, EvidenceFiles, read_many
from aggregator.logging import get_logger
from aggregator.store.repository import Repository
from aggregator.store.tables import EvidenceRow

MAX_ENTRIES_PER_SCRAPE = 20_000
# A remote store answers each size with a request: this many entries (2-3 HEADs each) stay well inside a
# scrape timeout of a few seconds.
MAX_REMOTE_ENTRIES_PER_SCRAPE = 500
KINDS = ("screenshot", "html", "document")

log = get_logger(__name__)


@dataclass(frozen=True)
class EvidenceTotals:
    entries: dict[str, int]  # carrier -> entries counted
    bytes: dict[tuple[str, str], int]  # (carrier, kind) -> bytes
    behind: bool  # more entries are waiting than one scrape counts


class EvidenceSizeTally:
    def __init__(self, repository: Repository, files: EvidenceFiles | Path, *, max_entries: int | None = None) -> None:
        self.repository = repository
        # A path is the directory store (what callers passed before the store could be S3).
        self.files: EvidenceFiles = DirectoryEvidenceFiles(files) if isinstance(files, Path) else files
        if max_entries is None:
            max_entries = MAX_ENTRIES_PER_SCRAPE if self.files.read_threads <= 1 else MAX_REMOTE_ENTRIES_PER_SCRAPE
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
            rows = rows[: self.max_entries]
            wanted = [(carrier, kind, relative) for _, carrier, *paths in rows
                      for kind, relative in zip(KINDS, paths, strict=True) if relative]
            try:
                sizes = read_many(self.files, lambda item: self._size(item[2]), wanted)
            except AggregatorError as error:  # the store is down: count these entries at a later scrape
                log.warning("evidence_sizes_unavailable", error=type(error).__name__, reason=error.reason)
                return EvidenceTotals(dict(self._entries), dict(self._bytes), True)
            for (carrier, kind, _), size in zip(wanted, sizes, strict=True):
                self._bytes[(carrier, kind)] += size
            for _, carrier, *_paths in rows:
                self._entries[carrier] += 1
            if rows:
                self._last_seq = rows[-1][0]
            return EvidenceTotals(dict(self._entries), dict(self._bytes), behind)

    def _size(self, relative: str) -> int:
        try:
            return self.files.size(relative) or 0
        except OSError:
            return 0
