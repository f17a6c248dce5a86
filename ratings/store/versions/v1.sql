
CREATE TABLE snapshots (
    ticker        TEXT NOT NULL CHECK (ticker <> ''),
    source_id     TEXT NOT NULL CHECK (source_id <> ''),
    observed_at   TEXT NOT NULL,
    source        TEXT,
    as_of         TEXT,
    currency      TEXT,
    price         REAL,
    price_as_of   TEXT,
    target_mean   REAL,
    target_median REAL,
    target_low    REAL,
    target_high   REAL,
    n_analysts    INTEGER CHECK (n_analysts >= 0),
    strong_buy    INTEGER CHECK (strong_buy >= 0),
    buy           INTEGER CHECK (buy >= 0),
    hold          INTEGER CHECK (hold >= 0),
    sell          INTEGER CHECK (sell >= 0),
    strong_sell   INTEGER CHECK (strong_sell >= 0),
    rating_mean   REAL,
    source_label  TEXT,
    note          TEXT,
    UNIQUE (ticker, source_id, observed_at)
);
CREATE TABLE upgrades (
    ticker        TEXT NOT NULL CHECK (ticker <> ''),
    graded_at     TEXT NOT NULL,
    firm          TEXT NOT NULL,
    action        TEXT NOT NULL,
    from_grade    TEXT,
    to_grade      TEXT,
    source        TEXT,
    first_seen_at TEXT NOT NULL,
    UNIQUE (ticker, graded_at, firm, action)
);
CREATE TABLE names (
    ticker     TEXT PRIMARY KEY CHECK (ticker <> ''),
    name       TEXT,
    currency   TEXT,
    updated_at TEXT NOT NULL
);
