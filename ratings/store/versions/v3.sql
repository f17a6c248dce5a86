-- Yahoo's analysis tab (ratings.schema's ESTIMATES, EPS_TREND, EPS_REVISIONS, SURPRISES): dated snapshots,
-- one row per ticker, fetch and period (or reported quarter). Unknown figures are NULL, never 0.
CREATE TABLE estimates (
    ticker TEXT NOT NULL CHECK (ticker <> ''), observed_at TEXT NOT NULL, period TEXT NOT NULL, end_date TEXT,
    eps_mean REAL, eps_low REAL, eps_high REAL, eps_analysts INTEGER CHECK (eps_analysts > 0),
    eps_year_ago REAL, eps_growth REAL,
    revenue_mean REAL, revenue_low REAL, revenue_high REAL, revenue_analysts INTEGER CHECK (revenue_analysts > 0),
    revenue_year_ago REAL, revenue_growth REAL,
    currency TEXT,
    UNIQUE (ticker, observed_at, period)
);
CREATE TABLE eps_trend (
    ticker TEXT NOT NULL CHECK (ticker <> ''), observed_at TEXT NOT NULL, period TEXT NOT NULL,
    eps_current REAL, eps_7d_ago REAL, eps_30d_ago REAL, eps_60d_ago REAL, eps_90d_ago REAL, currency TEXT,
    UNIQUE (ticker, observed_at, period)
);
CREATE TABLE eps_revisions (
    ticker TEXT NOT NULL CHECK (ticker <> ''), observed_at TEXT NOT NULL, period TEXT NOT NULL,
    up_7d INTEGER CHECK (up_7d >= 0), down_7d INTEGER CHECK (down_7d >= 0),
    up_30d INTEGER CHECK (up_30d >= 0), down_30d INTEGER CHECK (down_30d >= 0), currency TEXT,
    UNIQUE (ticker, observed_at, period)
);
CREATE TABLE surprises (
    ticker TEXT NOT NULL CHECK (ticker <> ''), observed_at TEXT NOT NULL, quarter TEXT NOT NULL, period TEXT,
    eps_estimate REAL, eps_actual REAL, eps_difference REAL, surprise REAL, currency TEXT,
    UNIQUE (ticker, observed_at, quarter)
);
