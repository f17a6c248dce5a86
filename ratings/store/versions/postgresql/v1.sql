-- PostgreSQL's schema v1, table for table versions/v1.sql (SQLite's): text in byte order (COLLATE "C", as
-- SQLite compares it), DOUBLE PRECISION for SQLite's REAL (PostgreSQL's REAL is single precision).
CREATE TABLE snapshots (
    ticker TEXT COLLATE "C" NOT NULL CHECK (ticker <> ''), source_id TEXT COLLATE "C" NOT NULL CHECK (source_id <> ''),
    observed_at TEXT COLLATE "C" NOT NULL, source TEXT COLLATE "C", as_of TEXT COLLATE "C", currency TEXT COLLATE "C",
    price DOUBLE PRECISION, price_as_of TEXT COLLATE "C",
    target_mean DOUBLE PRECISION, target_median DOUBLE PRECISION, target_low DOUBLE PRECISION,
    target_high DOUBLE PRECISION,
    n_analysts INTEGER CHECK (n_analysts >= 0), strong_buy INTEGER CHECK (strong_buy >= 0),
    buy INTEGER CHECK (buy >= 0), hold INTEGER CHECK (hold >= 0), sell INTEGER CHECK (sell >= 0),
    strong_sell INTEGER CHECK (strong_sell >= 0),
    rating_mean DOUBLE PRECISION, source_label TEXT COLLATE "C", note TEXT COLLATE "C",
    UNIQUE (ticker, source_id, observed_at)
);
CREATE TABLE upgrades (
    ticker TEXT COLLATE "C" NOT NULL CHECK (ticker <> ''), graded_at TEXT COLLATE "C" NOT NULL,
    firm TEXT COLLATE "C" NOT NULL, action TEXT COLLATE "C" NOT NULL,
    from_grade TEXT COLLATE "C", to_grade TEXT COLLATE "C", source TEXT COLLATE "C",
    first_seen_at TEXT COLLATE "C" NOT NULL,
    UNIQUE (ticker, graded_at, firm, action)
);
CREATE TABLE names (
    ticker TEXT COLLATE "C" PRIMARY KEY CHECK (ticker <> ''), name TEXT COLLATE "C", currency TEXT COLLATE "C",
    updated_at TEXT COLLATE "C" NOT NULL
);
