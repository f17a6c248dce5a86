"""Where the project's files are: the bundled snapshot in the project, its cache and its local store outside.

The cache and the store follow the platform's conventions (``platformdirs``, which yfinance uses
too). Each of the three can be moved with an environment variable, which is also how tests keep
them inside a temporary folder.
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
#: Environment variable that moves the local SQLite store (a file path).
STORE_ENV = "RATINGS_STORE"


def cache_dir() -> Path:
    """The project's cache folder: ``$RATINGS_CACHE_DIR`` or the user's cache directory.

    The folder is not created here; whoever writes into it creates what it needs.
    """
    override = os.environ.get(CACHE_DIR_ENV, "").strip()
    return Path(override).expanduser() if override else Path(platformdirs.user_cache_dir(APP_NAME))


def default_store_path() -> Path:
    """The local store's file: ``$RATINGS_STORE`` or ``ratings.sqlite`` in the user's data directory."""
    override = os.environ.get(STORE_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME)) / "ratings.sqlite"


def data_dir() -> Path:
    """The bundle folder: ``$RATINGS_DATA_DIR`` if set, else the project's ``data/``."""
    return Path(os.environ.get(DATA_DIR_ENV) or PROJECT_ROOT / "data")
