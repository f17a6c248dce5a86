
ALTER TABLE upgrades ADD COLUMN price_target_action TEXT;
ALTER TABLE upgrades ADD COLUMN prior_price_target REAL;
ALTER TABLE upgrades ADD COLUMN current_price_target REAL;
CREATE TABLE trend (
    ticker      TEXT NOT NULL CHECK (ticker <> ''),
    observed_at TEXT NOT NULL,
    period      TEXT NOT NULL,
    month       TEXT,
    strong_buy  INTEGER CHECK (strong_buy >= 0),
    buy         INTEGER CHECK (buy >= 0),
    hold        INTEGER CHECK (hold >= 0),
    sell        INTEGER CHECK (sell >= 0),
    strong_sell INTEGER CHECK (strong_sell >= 0),
    UNIQUE (ticker, observed_at, period)
);
CREATE TABLE prices (
    ticker     TEXT NOT NULL CHECK (ticker <> ''),
    date       TEXT NOT NULL,
    close      REAL,
    currency   TEXT,
    source_id  TEXT,
    fetched_at TEXT NOT NULL,
    PRIMARY KEY (ticker, date)
) WITHOUT ROWID;
CREATE TABLE fetch_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at  TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    tickers     TEXT NOT NULL,
    ok          INTEGER NOT NULL CHECK (ok >= 0),
    no_coverage INTEGER NOT NULL CHECK (no_coverage >= 0),
    failed      INTEGER NOT NULL CHECK (failed >= 0),
    reasons     TEXT NOT NULL
);
CREATE INDEX snapshots_by_time ON snapshots (observed_at);
