"""Build the bundled snapshot in data/ from a folder of source files.

    python scripts/build_bundle.py ../shared/data [--out data]

The source folder is the one described by its PROVENANCE.md (copied next to the output). The
script only reshapes: it never fills in a value the sources do not give. It writes

    consensus.parquet          current consensus rows (schema CONSENSUS)
    consensus_history.parquet  dated consensus snapshots (schema CONSENSUS_HISTORY)
    prices.parquet             daily closes, one series per ticker (schema PRICES)
    universe.parquet           names and sectors (schema UNIVERSE)
    manifest.json              each source's repository, commit, as-of and terms; each file's hash
    PROVENANCE.md              the source folder's own provenance notes, verbatim

and is deterministic: the same sources give byte-identical Parquet files.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # runs from a checkout without installing

from ratings.core import YAHOO_KEY_LABELS
from ratings.schema import (
    CONSENSUS,
    CONSENSUS_HISTORY,
    PRICES,
    TIMESTAMP_FORMAT,
    UNIVERSE,
    Schema,
    conform,
    validate,
)
from ratings.tickers import WATCHLIST

YAHOO_TERMS = (
    "Values from Yahoo Finance; Yahoo's terms of use apply. Shipped as a small, clearly labelled "
    "sample snapshot for offline use, not as a data feed."
)
FINVIZ_TERMS = "Values from finviz.com; finviz's terms of use apply. Shipped as a labelled sample snapshot."
TIPRANKS_TERMS = "Figures from TipRanks as quoted in a news article; TipRanks' terms of use apply."

# Reviewed provenance of every source file (see PROVENANCE.md); the script records it in the manifest.
SOURCES: dict[str, dict[str, Any]] = {
    "yahoo-2026-07-02": {
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
    "yahoo-history-2026-06-29_2026-07-02": {
        "title": "Yahoo Finance consensus history for F, TSLA, NVDA, GM (6 versions of the snapshot file)",
        "provider": "Yahoo Finance",
        "file": "consensus/yahoo-history-2026-06-29_2026-07-02.csv",
        "repository": "bondstreetcp/stock-chart-screener",
        "path": "data/estimates.json (git history)",
        "commit": "4ee5d070..cf2c1436",
        "as_of": "2026-06-29..2026-07-02",
        "terms": YAHOO_TERMS,
    },
    "yahoo-history-TSLA-NVDA-2026-07-24_2026-08-09": {
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
    raw = json.loads((src / SOURCES["yahoo-2026-07-02"]["file"]).read_text())
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
            "source_id": "yahoo-2026-07-02",
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


def history(src: Path) -> pd.DataFrame:
    june_id, summer_id = "yahoo-history-2026-06-29_2026-07-02", "yahoo-history-TSLA-NVDA-2026-07-24_2026-08-09"
    june = pd.read_csv(src / SOURCES[june_id]["file"])
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
            "source_id": june_id,
        }
    )
    summer = pd.read_csv(src / SOURCES[summer_id]["file"])
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
            "source_id": summer_id,
        }
    )
    rows = pd.concat([june, summer], ignore_index=True).assign(source="Yahoo Finance", currency="USD")
    # One snapshot per ticker, source and day: the last one seen that day.
    rows = rows.sort_values("observed_at").drop_duplicates(["ticker", "source_id", "as_of"], keep="last")
    rows["observed_at"] = rows["observed_at"].dt.strftime(TIMESTAMP_FORMAT)
    return rows.sort_values(["ticker", "as_of"])


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


def universe(src: Path, finviz_names: pd.DataFrame, tickers: set[str]) -> pd.DataFrame:
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
    extra = pd.DataFrame({"ticker": list(EXTRA_NAMES), "name": list(EXTRA_NAMES.values()), "in_sp500": False})
    rows = pd.concat([members, others, extra], ignore_index=True)
    rows = rows.drop_duplicates("ticker")
    known = set(rows["ticker"])
    bare = sorted(tickers - known)  # known to the data but named nowhere
    rows = pd.concat([rows, pd.DataFrame({"ticker": bare, "in_sp500": False})], ignore_index=True)
    rows["in_watchlist"] = rows["ticker"].isin(WATCHLIST)
    return rows.sort_values("ticker")


def _write(frame: pd.DataFrame, schema: Schema, path: Path) -> dict[str, Any]:
    frame = conform(frame.reset_index(drop=True), schema)
    validate(frame, schema)
    frame.to_parquet(path, index=False, compression="zstd")
    return {"schema": schema.name, "rows": len(frame), "sha256": _sha256(path)}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build(src: Path, out: Path) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    sp = pd.read_csv(src / SOURCES["sp500-constituents-2026-08-08"]["file"], usecols=["Symbol"])
    sp500 = set(sp["Symbol"].str.replace(".", "-", regex=False))
    universe_tickers = sp500 | set(WATCHLIST)

    yahoo = yahoo_snapshot(src)
    finviz_rows, finviz_names = finviz(src, universe_tickers)
    consensus = pd.concat([yahoo, tipranks(src), finviz_rows], ignore_index=True)
    hist = history(src)
    closes, dropped = prices(src)
    all_tickers = set(consensus["ticker"]) | set(closes["ticker"]) | universe_tickers
    names = universe(src, finviz_names, all_tickers)

    files = {
        "consensus.parquet": _write(consensus, CONSENSUS, out / "consensus.parquet")
        | {"sources": ["yahoo-2026-07-02", "tipranks-F-2026", "finviz-2025-08-21"]},
        "consensus_history.parquet": _write(hist, CONSENSUS_HISTORY, out / "consensus_history.parquet")
        | {"sources": sorted(set(hist["source_id"]))},
        "prices.parquet": _write(closes, PRICES, out / "prices.parquet")
        | {"sources": sorted(set(closes["source_id"])), "dropped_rows_without_close": dropped},
        "universe.parquet": _write(names, UNIVERSE, out / "universe.parquet")
        | {"sources": ["sp500-constituents-2026-08-08", "finviz-2025-08-21"]},
    }
    shutil.copyfile(src / "PROVENANCE.md", out / "PROVENANCE.md")
    price_ranges = closes.groupby("ticker")["date"].agg(["min", "max"])
    manifest = {
        "description": "Bundled sample snapshot of real analyst consensus and prices; see PROVENANCE.md.",
        "builder": "scripts/build_bundle.py",
        "consensus_as_of": "2026-07-02",
        "files": files,
        "sources": SOURCES,
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
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "data")
    args = parser.parse_args(argv)
    if not (args.source / "PROVENANCE.md").is_file():
        parser.error(f"{args.source} has no PROVENANCE.md: not a source folder")
    manifest = build(args.source, args.out)
    for name, info in manifest["files"].items():
        print(f"{name:28} {info['rows']:>8,} rows  {(args.out / name).stat().st_size / 1024:>8,.0f} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
