"""Where the project's files are: the bundled snapshot in the project, its cache and its local store outside.

The cache and the store follow the platform's conventions (``platformdirs``, which yfinance uses
too). Each of the three can be moved with an environment variable, which is also how tests keep
them inside a temporary folder. The store is a SQLite file unless it is named by a PostgreSQL URL
(``postgresql://...``): a :data:`StoreTarget` is either, and a URL is kept as text, never a path.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "analyst-ratings"

#: The project's checkout: app.py, pages/ and data/ sit here (an installed package alone has no data/).
PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: Environment variable that moves the bundled snapshot's folder.
DATA_DIR_ENV = "RATINGS_DATA_DIR"

#: Environment variable that moves the cache folder (live results, yfinance's own cache).
CACHE_DIR_ENV = "RATINGS_CACHE_DIR"
#: Environment variable that moves the store: a SQLite file's path, or a PostgreSQL URL.
STORE_ENV = "RATINGS_STORE"
#: How a PostgreSQL store's URL begins (libpq's two spellings); anything else is a SQLite file's path.
STORE_URL_SCHEMES = ("postgresql://", "postgres://")

#: Where a store is: a SQLite file (a path) or a PostgreSQL database (its URL, as text).
StoreTarget = Path | str


def is_store_url(target: object) -> bool:
    """Whether `target` names a PostgreSQL store (a ``postgresql://`` URL) rather than a SQLite file."""
    return isinstance(target, str) and target.strip().lower().startswith(STORE_URL_SCHEMES)


def store_target(given: str | os.PathLike[str]) -> StoreTarget:
    """`given` as a :data:`StoreTarget`: a URL stays text (a Path would fold its ``//``), a path is expanded."""
    if is_store_url(given):
        return str(given).strip()
    return Path(given).expanduser()


def cache_dir() -> Path:
    """The project's cache folder: ``$RATINGS_CACHE_DIR`` or the user's cache directory.

    The folder is not created here; whoever writes into it creates what it needs.
    """
    override = os.environ.get(CACHE_DIR_ENV, "").strip()
    return Path(override).expanduser() if override else Path(platformdirs.user_cache_dir(APP_NAME))


def default_store_path() -> StoreTarget:
    """The store: ``$RATINGS_STORE`` (a file's path or a PostgreSQL URL), else ``ratings.sqlite`` in the
    user's data directory."""
    override = os.environ.get(STORE_ENV, "").strip()
    if override:
        return store_target(override)
    return Path(platformdirs.user_data_dir(APP_NAME)) / "ratings.sqlite"


def data_dir() -> Path:
    """The bundle folder: ``$RATINGS_DATA_DIR`` if set, else the project's ``data/``."""
    return Path(os.environ.get(DATA_DIR_ENV) or PROJECT_ROOT / "data")
