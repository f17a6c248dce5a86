"""Where a store is, asked without opening it: a SQLite file's path or a PostgreSQL URL; whether it exists;
a version stamp that changes with every write (the dashboard keys its caches by it)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..paths import StoreTarget, is_store_url, store_target


@dataclass(frozen=True)
class StoreURL:
    """A PostgreSQL store's URL; ``str()`` gives it without its password."""

    url: str

    def __str__(self) -> str:
        return display(self.url)

    def exists(self) -> bool:
        """False only when the server answers that the database holds no store yet; a server that cannot
        be reached counts as there, so that opening it says why it cannot be read."""
        return version_stamp(self.url) != no_store()


def locate(target: str | os.PathLike[str]) -> Path | StoreURL:
    """`target` as a Path (a SQLite file) or a :class:`StoreURL`: both say ``exists()``."""
    found = store_target(target)
    return StoreURL(found) if isinstance(found, str) else found


def display(target: StoreTarget | StoreURL) -> str:
    """How a store is named to people: a path as it is, a URL without its password."""
    if isinstance(target, StoreURL):
        target = target.url
    if is_store_url(target):
        from .postgres import display as without_password

        return without_password(str(target))
    return str(target)


def no_store() -> tuple[Any, ...]:
    from .postgres import NO_STORE

    return NO_STORE


def version_stamp(target: StoreTarget | StoreURL) -> tuple[Any, ...]:
    """Changes with every write: (mtime_ns, size) of a SQLite file and of its WAL (None for one absent), or a
    PostgreSQL store's newest fetch-log id and snapshot time (:func:`ratings.store.postgres.version_stamp`)."""
    if isinstance(target, StoreURL):
        target = target.url
    if is_store_url(target):
        from .postgres import version_stamp as database_version

        return database_version(str(target))
    path = Path(target)
    stamps: list[tuple[int, int] | None] = []
    for candidate in (path, path.with_name(path.name + "-wal")):
        try:
            info = candidate.stat()
        except OSError:
            stamps.append(None)
        else:
            stamps.append((info.st_mtime_ns, info.st_size))
    return tuple(stamps)
