-- Yahoo's analysis tab (ratings.schema's ESTIMATES, EPS_TREND, EPS_REVISIONS, SURPRISES): dated snapshots,
-- one row per ticker, fetch and period (or reported quarter). Unknown figures are NULL, never 0.
-- PostgreSQL's v3 adds `seq` to the tables of periods: the order Yahoo sent them in (SQLite's rowid).
CREATE TABLE estimates (
    ticker TEXT COLLATE "C" NOT NULL CHECK (ticker <> ''), observed_at TEXT COLLATE "C" NOT NULL,
    period TEXT COLLATE "C" NOT NULL, end_date TEXT COLLATE "C",
    eps_mean DOUBLE PRECISION, eps_low DOUBLE PRECISION, eps_high DOUBLE PRECISION,
    eps_analysts INTEGER CHECK (eps_analysts > 0), eps_year_ago DOUBLE PRECISION, eps_growth DOUBLE PRECISION,
    revenue_mean DOUBLE PRECISION, revenue_low DOUBLE PRECISION, revenue_high DOUBLE PRECISION,
    revenue_analysts INTEGER CHECK (revenue_analysts > 0), revenue_year_ago DOUBLE PRECISION,
    revenue_growth DOUBLE PRECISION,
    currency TEXT COLLATE "C",
    seq BIGINT GENERATED ALWAYS AS IDENTITY,
    UNIQUE (ticker, observed_at, period)
);
CREATE TABLE eps_trend (
    ticker TEXT COLLATE "C" NOT NULL CHECK (ticker <> ''), observed_at TEXT COLLATE "C" NOT NULL,
    period TEXT COLLATE "C" NOT NULL,
    eps_current DOUBLE PRECISION, eps_7d_ago DOUBLE PRECISION, eps_30d_ago DOUBLE PRECISION,
    eps_60d_ago DOUBLE PRECISION, eps_90d_ago DOUBLE PRECISION, currency TEXT COLLATE "C",
    seq BIGINT GENERATED ALWAYS AS IDENTITY,
    UNIQUE (ticker, observed_at, period)
);
CREATE TABLE eps_revisions (
    ticker TEXT COLLATE "C" NOT NULL CHECK (ticker <> ''), observed_at TEXT COLLATE "C" NOT NULL,
    period TEXT COLLATE "C" NOT NULL,
    up_7d INTEGER CHECK (up_7d >= 0), down_7d INTEGER CHECK (down_7d >= 0),
    up_30d INTEGER CHECK (up_30d >= 0), down_30d INTEGER CHECK (down_30d >= 0), currency TEXT COLLATE "C",
    seq BIGINT GENERATED ALWAYS AS IDENTITY,
    UNIQUE (ticker, observed_at, period)
);
CREATE TABLE surprises (
    ticker TEXT COLLATE "C" NOT NULL CHECK (ticker <> ''), observed_at TEXT COLLATE "C" NOT NULL,
    quarter TEXT COLLATE "C" NOT NULL, period TEXT COLLATE "C",
    eps_estimate DOUBLE PRECISION, eps_actual DOUBLE PRECISION, eps_difference DOUBLE PRECISION,
    surprise DOUBLE PRECISION, currency TEXT COLLATE "C",
    UNIQUE (ticker, observed_at, quarter)
);
