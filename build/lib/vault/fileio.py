"""Crash-safe file primitives: an exclusive lock, atomic replace, and consistent reads.

Every writer takes the sidecar lock, re-reads the file under it, and replaces the file in one
`os.replace`, so readers (which take no lock) always see a whole old file or a whole new one, and
two writers can never both start from the same old content (no lost updates).
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from vault.errors import VaultMissing

# (inode, size, mtime) of a file we read: os.replace always yields a new inode, so a changed
# signature reliably means "someone wrote a new version".
Signature = tuple[int, int, int]


def lock_path(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Exclusive `flock` on `<path>.lock`. Each call opens its own descriptor, so the lock also
    excludes other threads of this process, not only other processes."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(lock_path(path), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock, even if the body raised


def read_file(path: Path) -> tuple[bytes, Signature]:
    """Content and signature read from the same descriptor, so they always belong together."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        raise VaultMissing(f"no vault at {path}: create one with `aggregator vault init`") from None
    with os.fdopen(fd, "rb") as handle:
        st = os.fstat(handle.fileno())
        return handle.read(), (st.st_ino, st.st_size, st.st_mtime_ns)


def signature(path: Path) -> Signature | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def fsync_dir(directory: Path) -> None:
    """Make a rename durable: the directory entry must reach the disk too."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes, *, overwrite: bool = True) -> None:
    """Write `data` to a 0600 temp file in the same directory, fsync it, then move it into place.

    With `overwrite=False` the move is a hard link, which fails if `path` exists: no clobbering,
    even against a concurrent creator. On any failure the temp file is removed and `path` is untouched.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # mode 0600
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)
            tmp.unlink()
        fsync_dir(path.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
