"""What must hold of a file before SQLite may open it: a regular file, SQLite's header, its full length.

SQLite itself opens a truncated file without complaint and would happily write to a file that
is not a database once it has created tables in it; these checks only read, so a file that fails
one is left byte for byte as it was.
"""

from __future__ import annotations

import stat
from pathlib import Path

from .errors import StoreError

SQLITE_HEADER = b"SQLite format 3\x00"


def check_file(path: Path, *, create: bool) -> bool:
    """Refuse what is not a SQLite file before SQLite sees it. Returns whether the file exists."""
    try:
        info = path.stat()
    except FileNotFoundError:
        if not create:
            raise StoreError(f"no store at {path}: run `ratings fetch` first") from None
        return False
    except OSError as exc:
        raise StoreError(f"cannot read the store {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise StoreError(f"not a file: {path}")
    if info.st_size:
        try:
            with path.open("rb") as fh:
                head = fh.read(100)
        except OSError as exc:
            raise StoreError(f"cannot read the store {path}: {exc.strerror or exc}") from None
        if head[: len(SQLITE_HEADER)] != SQLITE_HEADER:
            raise StoreError(f"not a SQLite database: {path}")
        journals = (path.with_name(path.name + suffix) for suffix in ("-wal", "-journal"))
        problem = truncation(head, info.st_size, has_journal=any(j.exists() for j in journals))
        if problem:
            raise StoreError(f"the store {path} is damaged: {problem}")
    return True


def truncation(head: bytes, size: int, *, has_journal: bool) -> str | None:
    """Why a file with SQLite's magic is cut short, from its 100-byte header; None if it looks whole.

    SQLite itself opens a file cut inside its last page, or short of pages it never reads on open,
    without complaint. With a WAL or rollback journal beside the file another process may be in
    the middle of writing it (or SQLite will recover it): then SQLite alone judges.
    """
    if len(head) < 100:
        return f"{size} bytes, shorter than SQLite's 100-byte header"
    page_size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):
        return f"invalid page size {page_size}"
    if has_journal:
        return None
    if size % page_size:
        return f"{size} bytes is not a whole number of {page_size}-byte pages (truncated?)"
    pages = int.from_bytes(head[28:32], "big")
    # The header's page count is valid only when the change counter matches "version-valid-for".
    if head[24:28] == head[92:96] and pages * page_size > size:
        return f"{size} bytes but its header counts {pages} pages of {page_size} bytes (truncated?)"
    return None
