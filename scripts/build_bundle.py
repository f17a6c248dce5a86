"""Build the bundled snapshot in data/ from a folder of source files.

    python scripts/build_bundle.py ../shared/data [--recording ../shared/yahoo-payloads/2025-02-24] [--out data]

The source folder is the one described by its PROVENANCE.md; the recording folder holds Yahoo's
recorded quoteSummary answers of 2025-02-24 (by default ``yahoo-payloads/2025-02-24`` beside the
source folder). The script only reshapes: it never fills in a value the sources do not give. It writes

    consensus.parquet          current consensus rows, per ticker and source (schema CONSENSUS)
    consensus_history.parquet  dated consensus snapshots (schema CONSENSUS_HISTORY)
    trend.parquet              Yahoo's recommendation trend as recorded on 2025-02-24 (schema TREND)
    upgrades.parquet           analysts' actions as recorded on 2025-02-24 (schema UPGRADES)
    prices.parquet             daily closes, one series per ticker (schema PRICES)
    adjusted_prices.parquet    split- and dividend-adjusted closes 1999-2021 of the tickers with
                               upgrade histories, and the equal-weighted benchmark (schema PRICES)
    universe.parquet           names and sectors (schema UNIVERSE)
    manifest.json              each source's repository, commit, as-of and terms; each file's hash
    PROVENANCE.md              the source folder's own provenance notes verbatim, then the builder's
                               notes on the recording and on the benchmark it computes

and is deterministic: the same sources give byte-identical Parquet files.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import sys
import textwrap
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # runs from a checkout without installing

from ratings.core import YAHOO_KEY_LABELS
from ratings.schema import (
    CONSENSUS,
    CONSENSUS_HISTORY,
    COUNT_COLUMNS,
    PRICES,
    TIMESTAMP_FORMAT,
    TREND,
    UNIVERSE,
    UPGRADES,
    Schema,
    conform,
    utc_text,
    validate,
)
from ratings.tickers import WATCHLIST

YAHOO_TERMS = (
    "Values from Yahoo Finance; Yahoo's terms of use apply. Shipped as a small, clearly labelled "
    "sample snapshot for offline use, not as a data feed."
)
FINVIZ_TERMS = "Values from finviz.com; finviz's terms of use apply. Shipped as a labelled sample snapshot."
TIPRANKS_TERMS = "Figures from TipRanks as quoted in a news article; TipRanks' terms of use apply."
POOKSOFT_TERMS = (
    "ODC-PDDL-1.0 for the data, as the repository's README states (MIT for its code); the figures come from "
    "Alpha Vantage."
)

MAIN_ID = "yahoo-2026-07-02"
JUNE_ID = "yahoo-history-2026-06-29_2026-07-02"
SUMMER_ID = "yahoo-history-TSLA-NVDA-2026-07-24_2026-08-09"
RECORDING_ID = "yahoo-2025-02-24"
ADJUSTED_ID = "sp500-daily-1999-2021"
BENCHMARK_ID = "ew-sp500-1999-2021"
#: The benchmark series' ticker in adjusted_prices.parquet: not a listed symbol, the builder's own index.
BENCHMARK = "EW-SP500"
BENCHMARK_BASE = 100.0

# Reviewed provenance of every source file (see PROVENANCE.md); the script records it in the manifest.
SOURCES: dict[str, dict[str, Any]] = {
    MAIN_ID: {
        "title": "Yahoo Finance analyst consensus, 2,537 US tickers",
        "provider": "Yahoo Finance",
        "file": "consensus/yahoo-2026-07-02.json",
        "repository": "bondstreetcp/stock-chart-screener",
        "path": "data/estimates.json",
        "commit": "cf2c14360240bcde518f8b96b914ac70a6ab059f",
        "as_of": "2026-07-02",
        "terms": YAHOO_TERMS,
    },
    "tipranks-F-2026": {
        "title": "TipRanks consensus for Ford (F)",
        "provider": "TipRanks",
        "file": "consensus/tipranks-F-2026.csv",
        "repository": None,
        "path": None,
        "commit": None,
        "as_of": "2026",
        "terms": TIPRANKS_TERMS,
        "caveat": "Quoted in a 2026 news article that gives no exact date and no share price.",
    },
    "finviz-2025-08-21": {
        "title": "finviz screener export (Analyst Recom, sector, industry, price)",
        "provider": "finviz",
        "file": "consensus/finviz-2025-08-21.csv",
        "repository": "Thyge1232/AktieScreener",
        "path": "finviz (1).csv",
        "commit": "fb3dc9a33d9eeaae1d7233142589f54e11f5ca90",
        "as_of": "2025-08-21",
        "terms": FINVIZ_TERMS,
        "caveat": "Pre-market 2025-08-21; its prices are the 2025-08-20 closes. No price targets.",
    },
    JUNE_ID: {
        "title": "Yahoo Finance consensus history for F, TSLA, NVDA, GM (6 versions of the snapshot file)",
        "provider": "Yahoo Finance",
        "file": "consensus/yahoo-history-2026-06-29_2026-07-02.csv",
        "repository": "bondstreetcp/stock-chart-screener",
        "path": "data/estimates.json (git history)",
        "commit": "4ee5d070..cf2c1436",
        "as_of": "2026-06-29..2026-07-02",
        "terms": YAHOO_TERMS,
    },
    SUMMER_ID: {
        "title": "Yahoo Finance consensus history for TSLA and NVDA (27 versions)",
        "provider": "Yahoo Finance",
        "file": "consensus/yahoo-history-TSLA-NVDA-2026-07-24_2026-08-09.csv",
        "repository": "bomisian/investment-compass",
        "path": "estimates_data.js (git history)",
        "commit": "eb3318e2..aff6feaa",
        "as_of": "2026-07-23..2026-08-08",
        "terms": YAHOO_TERMS,
        "caveat": "No share price in these snapshots.",
    },
    RECORDING_ID: {
        "title": "Yahoo Finance analyst detail recorded 2025-02-24: consensus with median target and counts, "
        "recommendation trend, upgrades and downgrades",
        "provider": "Yahoo Finance",
        "file": "../yahoo-payloads/2025-02-24/quoteSummary-{module}-{SYMBOL}.json",
        "repository": "gadicc/node-yahoo-finance2",
        "path": "tests/fixtures/http/",
        "commit": "c9dbcb6f7dea4c52ceef67472ad2af357eaa156b",
        "as_of": "2025-02-24",
        "terms": YAHOO_TERMS,
        "caveat": "Real quoteSummary answers recorded 2025-02-24 about 09:35 UTC for 22 symbols. Symbols whose "
        "analyst modules answered HTTP 404 (funds, currencies, crypto, an index, a future) have no rows; "
        "the upgrade histories carry no price targets.",
    },
    "closes-stock-chart-screener": {
        "title": "Daily closes for F, TSLA, NVDA, 1211.HK, 1810.HK",
        "provider": "Yahoo Finance",
        "file": "prices/closes/{TICKER}.json",
        "repository": "bondstreetcp/stock-chart-screener",
        "path": "data/series/symbols/<T>.json",
        "commit": "cf2c14360240bcde518f8b96b914ac70a6ab059f",
        "as_of": "2026-07-02",
        "terms": YAHOO_TERMS,
    },
    "sp500-daily": {
        "title": "Daily prices of the S&P 500 set",
        "provider": "Yahoo Finance",
        "file": "prices/sp500-daily/{TICKER}.csv",
        "repository": "danyoko-bugover/GPT5.0-pureprice-stockpicking",
        "path": "data/<T>.csv",
        "commit": "e99258f96f1114b23a80a083daf8d06df6a7c297",
        "as_of": "2026-02-27",
        "terms": YAHOO_TERMS,
    },
    "closes-factor-attribution": {
        "title": "Adjusted daily closes for PSNY and LOT",
        "provider": "Yahoo Finance",
        "file": "prices/watchlist/{TICKER}-closes.csv",
        "repository": "dsturdy/Factor_Attribution_5_csvs",
        "path": "data/<T>.csv",
        "commit": "d4cbf2bc9d28fabb56e2234e243f165c365d3b90",
        "as_of": "2026-07-14",
        "terms": YAHOO_TERMS,
        "caveat": "PSNY is back-adjusted for the December 2025 1:30 ADS ratio change (2021 prints near $300).",
    },
    "byddf-ev-forecasting": {
        "title": "Daily prices for BYDDF (BYD OTC ADR)",
        "provider": "Yahoo Finance",
        "file": "prices/watchlist/BYDDF-2009_2024-02-20.csv",
        "repository": "navi-08/ev-forecasting",
        "path": "Resources/BYDDF.csv",
        "commit": "7d2563c71fda142263f7d697729340628f04cfe6",
        "as_of": "2024-02-20",
        "terms": YAHOO_TERMS,
        "caveat": "Stale: ends 2024-02-20.",
    },
    ADJUSTED_ID: {
        "title": "Split- and dividend-adjusted daily closes of 504 S&P 500 tickers (as of 2021)",
        "provider": "Alpha Vantage",
        "file": "prices/sp500-daily-1999-2021/daily_adjusted.parquet",
        "repository": "Pooksoft/PooksoftSP500EquityPriceDataSet",
        "path": "daily_adjusted/DA-<T>-T-2021-04-21.csv",
        "commit": "19a3f02fd0751beebae28e790ed55f0c443ad59a",
        "as_of": "2021-04-21",
        "terms": POOKSOFT_TERMS,
        "caveat": "Only the tickers with an upgrade history in the bundle are shipped; `close` is the file's "
        "adjusted_close.",
    },
    BENCHMARK_ID: {
        "title": f"{BENCHMARK}: equal-weighted average of the daily returns of the 504 tickers, computed by the "
        "builder",
        "provider": "computed by scripts/build_bundle.py from sp500-daily-1999-2021",
        "file": "prices/sp500-daily-1999-2021/daily_adjusted.parquet",
        "repository": "Pooksoft/PooksoftSP500EquityPriceDataSet",
        "path": "daily_adjusted/DA-<T>-T-2021-04-21.csv",
        "commit": "19a3f02fd0751beebae28e790ed55f0c443ad59a",
        "as_of": "2021-04-21",
        "terms": POOKSOFT_TERMS,
        "caveat": "An index level (100 on the first day), not a price: see the manifest's benchmarks. The 504 "
        "tickers are the index's members of 2021, so companies that left it earlier are missing (survivorship "
        "bias); the returns are the file's adjusted closes as they are.",
    },
    "sp500-constituents-2026-08-08": {
        "title": "S&P 500 constituents with GICS sectors",
        "provider": "datasets/s-and-p-500-companies",
        "file": "universe/sp500-constituents-2026-08-08.csv",
        "repository": "datasets/s-and-p-500-companies",
        "path": "data/constituents.csv",
        "commit": "56509dd80619e4d8e1410c2260d68ddd3eab6068",
        "as_of": "2026-08-08",
        "terms": "ODC-PDDL-1.0 (public domain dedication)",
    },
}

# Names of the watchlist tickers no source file names; identity, not market data (PROVENANCE.md).
EXTRA_NAMES = {
    "1810.HK": "Xiaomi Corporation",
    "1211.HK": "BYD Company Limited (H shares)",
    "BYDDF": "BYD Company Limited (OTC)",
}


EXCHANGE_TZ = {"HK": "Asia/Hong_Kong"}
US_TZ = "America/New_York"


def yahoo_snapshot(src: Path) -> pd.DataFrame:
    """The main Yahoo file's rows, each with `observed_at`: the moment the file was generated."""
    raw = json.loads((src / SOURCES[MAIN_ID]["file"]).read_text())
    rows = pd.DataFrame.from_dict(raw["names"], orient="index").rename_axis("ticker").reset_index()
    as_of = raw["asOf"]
    return pd.DataFrame(
        {
            "ticker": rows["ticker"],
            "source": "Yahoo Finance",
            "as_of": as_of,
            "currency": "USD",  # every ticker of this file is a US listing (PROVENANCE.md)
            "price": rows["price"],
            "price_as_of": as_of,
            "target_mean": rows["target"],
            "target_low": rows["targetLow"],
            "target_high": rows["targetHigh"],
            "n_analysts": rows["analysts"],
            "rating_mean": rows["recMean"],
            "source_label": rows["recKey"].map(YAHOO_KEY_LABELS),
            "source_id": MAIN_ID,
            "observed_at": utc_text(raw["generatedAt"]),
        }
    )


def tipranks(src: Path) -> pd.DataFrame:
    rows = pd.read_csv(src / SOURCES["tipranks-F-2026"]["file"], dtype={"as_of": str})
    return rows.assign(
        source_label=rows["consensus_label"],
        source_id="tipranks-F-2026",
        currency="USD",
    ).drop(columns="consensus_label")


def finviz(src: Path, tickers: set[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The finviz ratings of `tickers`, and names/sectors of every finviz ticker."""
    raw = pd.read_csv(src / SOURCES["finviz-2025-08-21"]["file"], usecols=[
        "Ticker", "Company", "Sector", "Industry", "Analyst Recom", "Price",
    ])  # fmt: skip
    ratings = raw[raw["Ticker"].isin(tickers)]
    consensus = pd.DataFrame(
        {
            "ticker": ratings["Ticker"],
            "source": "finviz",
            "as_of": "2025-08-21",
            "currency": "USD",
            "price": ratings["Price"],
            "price_as_of": "2025-08-20",  # pre-market export: the prices are the previous close
            "rating_mean": ratings["Analyst Recom"],
            "source_id": "finviz-2025-08-21",
        }
    )
    consensus = consensus[consensus["rating_mean"].notna()]
    names = raw.rename(columns={"Ticker": "ticker", "Company": "name", "Sector": "sector", "Industry": "industry"})
    return consensus, names[["ticker", "name", "sector", "industry"]]


def history(src: Path, main: pd.DataFrame, recorded: pd.DataFrame) -> pd.DataFrame:
    """Dated Yahoo snapshots: the two files' git histories, the 2025-02-24 recording and, for the recorded tickers,
    the main file's 2026-07-02 snapshot, so that a recorded ticker has a later snapshot to compare with where the
    main file has one."""
    june = pd.read_csv(src / SOURCES[JUNE_ID]["file"])
    june = pd.DataFrame(
        {
            "ticker": june["ticker"],
            "as_of": june["as_of"],
            "price": june["price"],
            "price_as_of": june["as_of"],
            "target_mean": june["target_mean"],
            "target_low": june["target_low"],
            "target_high": june["target_high"],
            "n_analysts": june["n_analysts"],
            "rating_mean": june["rec_mean"],
            "source_label": june["rec_key"].map(YAHOO_KEY_LABELS),
            "observed_at": pd.to_datetime(june["generated_at"], utc=True),
            "source_id": JUNE_ID,
        }
    )
    summer = pd.read_csv(src / SOURCES[SUMMER_ID]["file"])
    summer = pd.DataFrame(
        {
            "ticker": summer["ticker"],
            "as_of": summer["updated_label"].str.slice(0, 10),
            "target_mean": summer["target_mean"],
            "target_low": summer["target_low"],
            "target_high": summer["target_high"],
            "n_analysts": summer["n_analysts"],
            "rating_mean": summer["rec_mean"],
            "source_label": summer["rec_key"].map(YAHOO_KEY_LABELS),
            "observed_at": pd.to_datetime(summer["commit_time"], utc=True),
            "source_id": SUMMER_ID,
        }
    )
    rows = pd.concat([june, summer], ignore_index=True).assign(source="Yahoo Finance", currency="USD")
    # One snapshot per ticker, source and day: the last one seen that day.
    rows = rows.sort_values("observed_at").drop_duplicates(["ticker", "source_id", "as_of"], keep="last")
    rows["observed_at"] = rows["observed_at"].dt.strftime(TIMESTAMP_FORMAT)
    later = main[main["ticker"].isin(set(recorded["ticker"]))]
    frames = [frame for frame in (rows, recorded, later) if not frame.empty]
    return pd.concat(frames, ignore_index=True).sort_values(["ticker", "as_of", "source_id"], kind="stable")


def newest_yahoo(main: pd.DataFrame, hist: pd.DataFrame) -> pd.DataFrame:
    """Per ticker, the newest Yahoo Finance snapshot of the 2026 files, with its own source id, as-of and values.

    That is the main file's row unless a git-history snapshot was observed later (TSLA's and NVDA's of August);
    observed at the same moment (the June history's copy of the main file), the main file's row stays. The
    2025-02-24 recording is not a candidate: it stands beside this row as a source of its own.
    """
    later = hist[hist["source_id"].isin([JUNE_ID, SUMMER_ID])]
    candidates = pd.concat([main.assign(_main=1), later.assign(_main=0)], ignore_index=True)
    newest = candidates.sort_values(["observed_at", "_main"], kind="stable").drop_duplicates("ticker", keep="last")
    order = {ticker: i for i, ticker in enumerate(main["ticker"])}  # the main file's order, for stable bytes
    newest = newest.assign(_order=newest["ticker"].map(order)).sort_values(["_order", "ticker"], kind="stable")
    return newest.drop(columns=["_main", "_order"])


# ---------------------------------------------------------------------------------------------
# The 2025-02-24 recording: Yahoo's own quoteSummary answers, read with the live loader's rules

#: The quoteSummary modules that carry analysts' views: a symbol none of which answered with data has no coverage.
ANALYST_MODULES = ("financialData", "recommendationTrend", "upgradeDowngradeHistory")
TARGET_FIELDS = {
    "targetMeanPrice": "target_mean",
    "targetMedianPrice": "target_median",
    "targetLowPrice": "target_low",
    "targetHighPrice": "target_high",
}
COUNT_FIELDS = dict(zip(("strongBuy", "buy", "hold", "sell", "strongSell"), COUNT_COLUMNS, strict=True))
NAME_FIELDS = ("longName", "shortName")

# The bounds of ratings/yahoo/parse.py: no share trades at a billion and no ticker has a hundred thousand
# analysts; an analyst's action dated before 1990 (Yahoo's epoch 0, say) or more than a day after the answer
# (milliseconds read as seconds) is a broken date. Beyond them a value is unknown, never a wrong number.
_MAX_PRICE = 1e9
_MAX_COUNT = 100_000
_FIRST_GRADE = pd.Timestamp("1990-01-01", tz="UTC")
_GRADE_SLACK = pd.Timedelta(days=1)
_PERIOD = re.compile(r"([+-]?\d+)m")


def _finite(value: object) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _price(value: object) -> float | None:
    """A positive, finite, plausible price or target; Yahoo's 0 means "none"."""
    number = _finite(value)
    return number if number is not None and 0 < number < _MAX_PRICE else None


def _count(value: object) -> int | None:
    number = _finite(value)
    return int(number) if number is not None and 0 <= number <= _MAX_COUNT and number.is_integer() else None


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


class Answer(NamedTuple):
    """One recorded answer: its HTTP status, when it was given (UTC), and the module's body if Yahoo sent one."""

    status: int
    recorded_at: str
    body: dict[str, Any] | None


def _answer(folder: Path, module: str, symbol: str) -> Answer | None:
    """The recorded answer of `module` for `symbol`; None if it was not recorded."""
    path = folder / f"quoteSummary-{module}-{symbol}.json"
    if not path.is_file():
        return None
    record = json.loads(path.read_text())
    results = ((record.get("body") or {}).get("quoteSummary") or {}).get("result") or []
    body = results[0].get(module) if record["status"] == 200 and results and isinstance(results[0], dict) else None
    recorded_at = utc_text(parsedate_to_datetime(record["date"]))
    return Answer(int(record["status"]), recorded_at, body if isinstance(body, dict) and body else None)


def _recorded_trend(symbol: str, body: dict[str, Any], recorded_at: str) -> list[dict[str, Any]]:
    this_month = pd.Period(recorded_at[:7], freq="M")
    rows: list[dict[str, Any]] = []
    for record in body.get("trend") or []:
        period = _text(record.get("period"))
        counts = {ours: _count(record.get(theirs)) for theirs, ours in COUNT_FIELDS.items()}
        # A month whose counts are all zero (or unknown) is Yahoo saying "no ratings": left out, not zeros.
        if period is None or period in {row["period"] for row in rows} or not any(counts.values()):
            continue
        match = _PERIOD.fullmatch(period)
        month = (this_month + int(match.group(1))).strftime("%Y-%m") if match else None
        rows.append({"ticker": symbol, "period": period, "month": month, **counts, "observed_at": recorded_at})
    return rows


def _recorded_upgrades(symbol: str, body: dict[str, Any], recorded_at: str) -> list[dict[str, Any]]:
    first, last = _FIRST_GRADE.timestamp(), (pd.Timestamp(recorded_at) + _GRADE_SLACK).timestamp()
    rows: list[dict[str, Any]] = []
    seen: set[tuple[str, str, str]] = set()
    for record in body.get("history") or []:
        epoch = _finite(record.get("epochGradeDate"))
        firm, action = _text(record.get("firm")), _text(record.get("action"))
        # Without a plausible date, a firm or an action the row records nothing that could be shown.
        if epoch is None or not first <= epoch <= last or firm is None or action is None:
            continue
        graded_at = pd.Timestamp(epoch, unit="s", tz="UTC").strftime(TIMESTAMP_FORMAT)
        if (graded_at, firm, action) in seen:
            continue
        seen.add((graded_at, firm, action))
        rows.append(
            {
                "ticker": symbol,
                "graded_at": graded_at,
                "firm": firm,
                "action": action,
                "from_grade": _text(record.get("fromGrade")),
                "to_grade": _text(record.get("toGrade")),
                "price_target_action": _text(record.get("priceTargetAction")),
                "prior_price_target": _price(record.get("priorPriceTarget")),
                "current_price_target": _price(record.get("currentPriceTarget")),
                "source": "Yahoo Finance",
            }
        )
    return rows


def _recorded_snapshot(
    symbol: str, financial: dict[str, Any], recorded_at: str, quote: dict[str, Any], counts: dict[str, int | None]
) -> dict[str, Any] | None:
    """The consensus row of financialData (and the current month's counts), None if it holds no view at all."""
    day = recorded_at[:10]
    targets = {ours: _price(financial.get(theirs)) for theirs, ours in TARGET_FIELDS.items()}
    low, high = targets["target_low"], targets["target_high"]
    if low is not None and high is not None and low > high:
        targets["target_low"] = targets["target_high"] = None  # one of the two is wrong, and which is unknown
    rating = _price(financial.get("recommendationMean"))
    key = _text(financial.get("recommendationKey"))
    price = _price(financial.get("currentPrice"))
    row = {
        "ticker": symbol,
        "source": "Yahoo Finance",
        "as_of": day,
        "currency": _text(quote.get("currency")),  # the quote's currency: that of the price and the targets
        "price": price,
        "price_as_of": day if price is not None else None,
        **targets,
        "n_analysts": _count(financial.get("numberOfAnalystOpinions")) or None,  # 0 analysts is no coverage
        **counts,
        "rating_mean": rating if rating is not None and 1 <= rating <= 5 else None,
        "source_label": YAHOO_KEY_LABELS.get(key.lower()) if key else None,
        "source_id": RECORDING_ID,
        "observed_at": recorded_at,
    }
    views = [*targets.values(), row["rating_mean"], row["n_analysts"], *counts.values()]
    return row if any(value is not None for value in views) else None


class Recording(NamedTuple):
    """What the recording gives, and which symbols had no analyst data (or no upgrade history) to give."""

    snapshots: pd.DataFrame  # CONSENSUS_HISTORY rows, source_id RECORDING_ID
    trend: pd.DataFrame
    upgrades: pd.DataFrame
    names: pd.DataFrame  # ticker, name: Yahoo's long name, else its short name
    symbols: list[str]  # every recorded symbol
    no_analyst_data: list[str]
    no_upgrade_history: list[str]


def recording(folder: Path) -> Recording:
    """Every recorded symbol's consensus, trend, upgrades and name; a symbol without analyst data gives no rows."""
    prefix = "quoteSummary-price-"
    symbols = sorted(p.name.removeprefix(prefix).removesuffix(".json") for p in folder.glob(f"{prefix}*.json"))
    if not symbols:
        raise FileNotFoundError(f"{folder} holds no recorded quoteSummary answers ({prefix}<SYMBOL>.json)")
    snapshots: list[dict[str, Any]] = []
    trend: list[dict[str, Any]] = []
    upgrades: list[dict[str, Any]] = []
    names: list[dict[str, Any]] = []
    silent: list[str] = []
    no_upgrades: list[str] = []
    for symbol in symbols:
        answers = {module: _answer(folder, module, symbol) for module in (*ANALYST_MODULES, "price")}
        body = {module: a.body for module, a in answers.items() if a is not None and a.body is not None}
        when = {module: a.recorded_at for module, a in answers.items() if a is not None}
        months = (
            _recorded_trend(symbol, b, when["recommendationTrend"]) if (b := body.get("recommendationTrend")) else []
        )
        history = body.get("upgradeDowngradeHistory")
        actions = _recorded_upgrades(symbol, history, when["upgradeDowngradeHistory"]) if history else []
        current = next((m for m in months if m["period"] == "0m"), None)
        counts = {column: current[column] if current else None for column in COUNT_COLUMNS}
        quote = body.get("price") or {}
        financial = body.get("financialData")
        snapshot = _recorded_snapshot(symbol, financial, when["financialData"], quote, counts) if financial else None
        if snapshot is None and not months and not actions:
            silent.append(symbol)  # Yahoo's 404 "No fundamentals data found": no coverage, so no rows at all
            continue
        snapshots.extend([snapshot] if snapshot else [])
        trend.extend(months)
        upgrades.extend(actions)
        if not actions:
            no_upgrades.append(symbol)
        name = next((n for field in NAME_FIELDS if (n := _text(quote.get(field)))), None)
        names.append({"ticker": symbol, "name": name})
    upgrade_rows = pd.DataFrame(upgrades, columns=UPGRADES.names)
    return Recording(
        snapshots=pd.DataFrame(snapshots, columns=CONSENSUS_HISTORY.names),
        trend=pd.DataFrame(trend, columns=TREND.names),
        upgrades=upgrade_rows.sort_values(["ticker", "graded_at", "firm", "action"], kind="stable"),
        names=pd.DataFrame(names, columns=["ticker", "name"]),
        symbols=symbols,
        no_analyst_data=silent,
        no_upgrade_history=no_upgrades,
    )


def _closes_json(path: Path, ticker: str) -> pd.DataFrame:
    daily = json.loads(path.read_text())["daily"]
    frame = pd.DataFrame(daily, columns=["epoch_ms", "close"])
    tz = EXCHANGE_TZ.get(ticker.rsplit(".", 1)[-1], US_TZ) if "." in ticker else US_TZ
    # Bars are stamped at the session's open; the trading day is that instant's local date.
    local = pd.to_datetime(frame["epoch_ms"], unit="ms", utc=True).dt.tz_convert(tz)
    return pd.DataFrame({"date": local.dt.tz_localize(None).dt.normalize(), "close": frame["close"]})


def _csv_closes(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, usecols=["Date", "Close"])
    return pd.DataFrame({"date": pd.to_datetime(frame["Date"]), "close": frame["Close"]})


def prices(src: Path) -> tuple[pd.DataFrame, int]:
    """One series per ticker, from the file that reaches furthest; rows without a close dropped."""
    series: list[pd.DataFrame] = []
    for ticker in ("F", "TSLA", "NVDA", "1211.HK", "1810.HK"):
        frame = _closes_json(src / f"prices/closes/{ticker}.json", ticker)
        series.append(
            frame.assign(
                ticker=ticker,
                currency="HKD" if ticker.endswith(".HK") else "USD",
                source_id="closes-stock-chart-screener",
            )
        )
    for ticker in ("PSNY", "LOT"):
        frame = _csv_closes(src / f"prices/watchlist/{ticker}-closes.csv")
        series.append(frame.assign(ticker=ticker, currency="USD", source_id="closes-factor-attribution"))
    byddf = _csv_closes(src / SOURCES["byddf-ev-forecasting"]["file"])
    series.append(byddf.assign(ticker="BYDDF", currency="USD", source_id="byddf-ev-forecasting"))
    taken = {s["ticker"].iloc[0] for s in series}
    for path in sorted((src / "prices/sp500-daily").glob("*.csv")):
        if path.stem not in taken:
            series.append(_csv_closes(path).assign(ticker=path.stem, currency="USD", source_id="sp500-daily"))
    rows = pd.concat(series, ignore_index=True)
    usable = rows["close"].notna() & (rows["close"] > 0)
    rows = rows[usable].drop_duplicates(["ticker", "date"], keep="last")
    return rows.sort_values(["ticker", "date"]), int((~usable).sum())


# ---------------------------------------------------------------------------------------------
# Adjusted closes 1999-2021, and the equal-weighted benchmark the builder computes from them


def adjusted_prices(src: Path, tickers: set[str]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The adjusted closes of `tickers` (those the file has), and BENCHMARK from all of the file's tickers.

    BENCHMARK is the equal-weighted average of the tickers' daily returns, compounded into an index that is
    BENCHMARK_BASE on the file's first day. A ticker's return on a day is its adjusted close over its adjusted
    close on the file's previous trading day, minus 1; a ticker without a close on either day (not yet listed,
    gone, or a day missing from its series) has no return that day, and the day's average is over the tickers
    that have one. A day on which none has a return would get no row (there is none).
    """
    raw = pd.read_parquet(src / SOURCES[ADJUSTED_ID]["file"], columns=["ticker", "date", "adjusted_close"])
    raw = pd.DataFrame(
        {
            "ticker": raw["ticker"].astype(str).str.replace(".", "-", regex=False),  # BRK.B -> Yahoo's BRK-B
            "date": pd.to_datetime(raw["date"]).astype("datetime64[ns]"),
            "close": raw["adjusted_close"].astype("float64"),
        }
    )
    raw = raw[np.isfinite(raw["close"]) & (raw["close"] > 0)]
    raw = raw.drop_duplicates(["ticker", "date"], keep="last").sort_values(["ticker", "date"], kind="stable")
    calendar = pd.DatetimeIndex(np.sort(raw["date"].unique()))
    day = pd.Series(calendar.get_indexer(raw["date"]), index=raw.index)
    by_ticker = raw.groupby("ticker", sort=False)
    follows = day.groupby(raw["ticker"], sort=False).shift() == day - 1
    returns = (raw["close"] / by_ticker["close"].shift() - 1).where(follows)
    average = returns.groupby(raw["date"]).mean().reindex(calendar)
    growth = (1 + average).fillna({calendar[0]: 1.0})  # the first day is the base
    level = (BENCHMARK_BASE * growth.cumprod()).dropna()  # cumprod carries the level over a day without returns
    benchmark = pd.DataFrame({"ticker": BENCHMARK, "date": level.index, "close": level.to_numpy()})
    benchmark["source_id"] = BENCHMARK_ID
    members = raw[raw["ticker"].isin(tickers)].assign(source_id=ADJUSTED_ID)
    rows = pd.concat([members, benchmark], ignore_index=True).assign(currency="USD")
    count = int(raw["ticker"].nunique())
    info = {
        "ticker": BENCHMARK,
        "source_id": BENCHMARK_ID,
        "description": f"equal-weighted average of the {count} tickers, computed by the builder",
        "method": (
            "Each day, the mean of the daily returns (adjusted_close over the previous trading day's, minus 1) of "
            "the tickers with a close on both days, compounded from the base on the first day."
        ),
        "base": BENCHMARK_BASE,
        "tickers": count,
        "first": calendar[0].strftime("%Y-%m-%d"),
        "last": calendar[-1].strftime("%Y-%m-%d"),
        "unit": "index level, not a price (the returns are of USD closes)",
        "caveat": SOURCES[BENCHMARK_ID]["caveat"],
    }
    return rows.sort_values(["ticker", "date"], kind="stable"), info


def universe(src: Path, finviz_names: pd.DataFrame, tickers: set[str], recorded_names: pd.DataFrame) -> pd.DataFrame:
    sp = pd.read_csv(src / SOURCES["sp500-constituents-2026-08-08"]["file"])
    members = pd.DataFrame(
        {
            "ticker": sp["Symbol"].str.replace(".", "-", regex=False),  # BRK.B -> Yahoo's BRK-B
            "name": sp["Security"],
            "sector": sp["GICS Sector"],
            "industry": sp["GICS Sub-Industry"],
            "sector_scheme": "GICS",
            "in_sp500": True,
        }
    )
    others = finviz_names[finviz_names["ticker"].isin(tickers - set(members["ticker"]))]
    others = others.assign(sector_scheme="finviz", in_sp500=False)
    # Yahoo's names for the recorded symbols named nowhere else (non-US listings): a name, no sector.
    recorded = recorded_names[recorded_names["name"].notna()].assign(in_sp500=False)
    extra = pd.DataFrame({"ticker": list(EXTRA_NAMES), "name": list(EXTRA_NAMES.values()), "in_sp500": False})
    rows = pd.concat([members, others, recorded, extra], ignore_index=True)
    rows = rows.drop_duplicates("ticker")
    known = set(rows["ticker"])
    bare = sorted(tickers - known)  # known to the data but named nowhere
    rows = pd.concat([rows, pd.DataFrame({"ticker": bare, "in_sp500": False})], ignore_index=True)
    rows["in_watchlist"] = rows["ticker"].isin(WATCHLIST)
    return rows.sort_values("ticker")


def provenance_notes(rec: Recording, adjusted: pd.DataFrame, benchmark: dict[str, Any]) -> str:
    """What the builder adds to the source folder's PROVENANCE.md: the recording, the adjusted closes, the index."""
    members = sorted(set(adjusted["ticker"]) - {BENCHMARK})
    recorded = sorted(set(rec.symbols) - set(rec.no_analyst_data))
    recording_source, adjusted_source = SOURCES[RECORDING_ID], SOURCES[ADJUSTED_ID]
    items = [
        f"`{RECORDING_ID}`: Yahoo's quoteSummary answers recorded 2025-02-24 about 09:35 UTC for "
        f"{len(rec.symbols)} symbols (modules financialData, recommendationTrend, upgradeDowngradeHistory and "
        f"price), from {recording_source['repository']} `{recording_source['path']}` @ "
        f"{recording_source['commit']}. Read with the live loader's rules (Yahoo's 0 target means none; an "
        "impossible value is unknown; a trend month whose counts are all zero is left out; a duplicate action "
        "is kept once), they give a consensus row with the median target and the current month's Strong "
        "Buy..Strong Sell counts (consensus.parquet and consensus_history.parquet), the four-month trend "
        "(trend.parquet), every analyst's action (upgrades.parquet; these answers carry no price targets) and "
        "the names the other sources lack (universe.parquet). "
        f"Rows for {', '.join(recorded) or 'none'}. No analyst data (HTTP 404 for the analyst modules), so no "
        f"rows: {', '.join(rec.no_analyst_data) or 'none'}. "
        f"No upgrade history: {', '.join(rec.no_upgrade_history) or 'none'}.",
        f"`{ADJUSTED_ID}` (adjusted_prices.parquet): split- and dividend-adjusted daily closes (the file's "
        "adjusted_close) of the tickers with an upgrade history in the bundle that the file has: "
        f"{', '.join(members) or 'none'}; {benchmark['first']} .. {benchmark['last']}; from "
        f"{adjusted_source['repository']} @ {adjusted_source['commit'][:7]} (`prices/{ADJUSTED_ID}/` above).",
        f"`{BENCHMARK}` (adjusted_prices.parquet, source id `{BENCHMARK_ID}`): {benchmark['description']}. Each "
        "day, the mean of the daily returns of the tickers with an adjusted close that day and on the trading "
        "day before (so a ticker counts from its second day in the file to its last), compounded into an index "
        f"level that is {benchmark['base']:g} on {benchmark['first']}. An index level, not a price. The "
        "tickers are the 2021 members, so companies that left the index earlier are missing (survivorship bias).",
        "For the recorded tickers that the 2026-07-02 file also has, its snapshot joins "
        "consensus_history.parquet, so their consensus can be compared across the two dates. Each ticker's "
        "current Yahoo row in consensus.parquet is its newest 2026 snapshot (TSLA's and NVDA's come from the "
        "August history and carry no price); the 2025-02-24 recording stands beside it as a row of its own.",
    ]
    bullets = "\n".join(textwrap.fill(item, width=110, initial_indent="- ", subsequent_indent="  ") for item in items)
    return (
        "\n## Added by scripts/build_bundle.py\n\n"
        "The notes above are the source folder's PROVENANCE.md, verbatim. The bundle also holds:\n\n"
        f"{bullets}\n"
    )


def _write(frame: pd.DataFrame, schema: Schema, path: Path) -> dict[str, Any]:
    frame = conform(frame.reset_index(drop=True), schema)
    validate(frame, schema)
    frame.to_parquet(path, index=False, compression="zstd")
    return {"schema": schema.name, "rows": len(frame), "sha256": _sha256(path)}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def default_recording(src: Path) -> Path:
    """Where the 2025-02-24 recording is by default: the yahoo-payloads folder beside the source folder."""
    return src.parent / "yahoo-payloads" / "2025-02-24"


def build(src: Path, out: Path, recorded_in: Path | None = None) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    sp = pd.read_csv(src / SOURCES["sp500-constituents-2026-08-08"]["file"], usecols=["Symbol"])
    sp500 = set(sp["Symbol"].str.replace(".", "-", regex=False))
    universe_tickers = sp500 | set(WATCHLIST)

    main = yahoo_snapshot(src)
    rec = recording(recorded_in or default_recording(src))
    hist = history(src, main, rec.snapshots)
    finviz_rows, finviz_names = finviz(src, universe_tickers)
    consensus = pd.concat([newest_yahoo(main, hist), rec.snapshots, tipranks(src), finviz_rows], ignore_index=True)
    closes, dropped = prices(src)
    upgrade_tickers = set(rec.upgrades["ticker"])
    adjusted, benchmark = adjusted_prices(src, upgrade_tickers)
    all_tickers = set(consensus["ticker"]) | set(closes["ticker"]) | universe_tickers
    names = universe(src, finviz_names, all_tickers, rec.names)

    with_adjusted = sorted(set(adjusted["ticker"]) - {BENCHMARK})
    files = {
        "consensus.parquet": _write(consensus, CONSENSUS, out / "consensus.parquet")
        | {"sources": list(dict.fromkeys(consensus["source_id"]))},
        "consensus_history.parquet": _write(hist, CONSENSUS_HISTORY, out / "consensus_history.parquet")
        | {"sources": sorted(set(hist["source_id"]))},
        "trend.parquet": _write(rec.trend, TREND, out / "trend.parquet") | {"sources": [RECORDING_ID]},
        "upgrades.parquet": _write(rec.upgrades, UPGRADES, out / "upgrades.parquet") | {"sources": [RECORDING_ID]},
        "prices.parquet": _write(closes, PRICES, out / "prices.parquet")
        | {"sources": sorted(set(closes["source_id"])), "dropped_rows_without_close": dropped},
        "adjusted_prices.parquet": _write(adjusted, PRICES, out / "adjusted_prices.parquet")
        | {
            "sources": [ADJUSTED_ID, BENCHMARK_ID],
            "tickers": [*with_adjusted, BENCHMARK],
            "upgrade_tickers_without_adjusted_closes": sorted(upgrade_tickers - set(with_adjusted)),
        },
        "universe.parquet": _write(names, UNIVERSE, out / "universe.parquet")
        | {"sources": ["sp500-constituents-2026-08-08", "finviz-2025-08-21", RECORDING_ID]},
    }
    notes = provenance_notes(rec, adjusted, benchmark)
    (out / "PROVENANCE.md").write_text((src / "PROVENANCE.md").read_text() + notes)
    sources = {key: dict(value) for key, value in SOURCES.items()}
    sources[RECORDING_ID] |= {
        "symbols": rec.symbols,
        "no_analyst_data": rec.no_analyst_data,
        "no_upgrade_history": rec.no_upgrade_history,
    }
    price_ranges = closes.groupby("ticker")["date"].agg(["min", "max"])
    manifest = {
        "description": "Bundled sample snapshot of real analyst consensus and prices; see PROVENANCE.md.",
        "builder": "scripts/build_bundle.py",
        "consensus_as_of": "2026-07-02",
        "files": files,
        "sources": sources,
        "benchmarks": {BENCHMARK: benchmark},
        "names_without_source_file": EXTRA_NAMES,
        "price_ranges": {
            t: {"first": r["min"].strftime("%Y-%m-%d"), "last": r["max"].strftime("%Y-%m-%d")}
            for t, r in price_ranges.loc[list(WATCHLIST)].iterrows()
        },
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path, help="folder with PROVENANCE.md, consensus/, prices/, universe/")
    parser.add_argument(
        "--recording",
        type=Path,
        default=None,
        help="folder of the 2025-02-24 quoteSummary answers (default: SOURCE/../yahoo-payloads/2025-02-24)",
    )
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "data")
    args = parser.parse_args(argv)
    if not (args.source / "PROVENANCE.md").is_file():
        parser.error(f"{args.source} has no PROVENANCE.md: not a source folder")
    recorded_in = args.recording or default_recording(args.source)
    if not recorded_in.is_dir():
        parser.error(f"{recorded_in} is not a folder: give the 2025-02-24 recording with --recording")
    manifest = build(args.source, args.out, recorded_in)
    for name, info in manifest["files"].items():
        print(f"{name:28} {info['rows']:>8,} rows  {(args.out / name).stat().st_size / 1024:>8,.0f} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
