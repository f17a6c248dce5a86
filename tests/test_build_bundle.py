"""scripts/build_bundle.py on a miniature source folder written here in the sources' own formats."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pandas as pd
import pytest

from ratings.bundle import load_bundle
from ratings.paths import PROJECT_ROOT

spec = importlib.util.spec_from_file_location("build_bundle", PROJECT_ROOT / "scripts" / "build_bundle.py")
assert spec and spec.loader
build_bundle = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build_bundle)

# 2026-07-01 and 2026-07-02, 13:30 UTC: the New York open; 01:30 UTC: the Hong Kong open.
NY_OPEN = (1782912600000, 1782999000000)
HK_OPEN = (1782869400000, 1782955800000)


def write_source(root: Path) -> Path:
    """The smallest folder with every file the builder reads, in each source's real layout."""
    (root / "consensus").mkdir(parents=True)
    (root / "prices" / "closes").mkdir(parents=True)
    (root / "prices" / "watchlist").mkdir(parents=True)
    (root / "prices" / "sp500-daily").mkdir(parents=True)
    (root / "universe").mkdir(parents=True)
    (root / "PROVENANCE.md").write_text("# test provenance\n")
    yahoo = {
        "F": {"price": 13.405, "target": 14.901, "targetLow": 11, "targetHigh": 20, "analysts": 20,
              "recKey": "hold", "recMean": 2.71429},
        "AAPL": {"price": 200.0, "target": None, "targetLow": None, "targetHigh": None, "analysts": None,
                 "recKey": "none", "recMean": None},
        "XYZ": {"price": 5.0, "target": 4.0, "targetLow": 3, "targetHigh": 5, "analysts": 2,
                "recKey": "underperform", "recMean": 3.8},
    }  # fmt: skip
    (root / "consensus/yahoo-2026-07-02.json").write_text(
        json.dumps({"generatedAt": "2026-07-02T15:48:42.166Z", "asOf": "2026-07-02", "names": yahoo})
    )
    (root / "consensus/tipranks-F-2026.csv").write_text(
        "ticker,source,as_of,strong_buy,buy,hold,sell,strong_sell,target_mean,consensus_label,note\n"
        'F,TipRanks,2026,,2,11,1,,13.87,Hold,"quoted, with a comma"\n'
    )
    (root / "consensus/finviz-2025-08-21.csv").write_text(
        '"No.","Ticker","Company","Sector","Industry","Analyst Recom","Price"\n'
        '1,"PSNY","Polestar","Consumer Cyclical","Auto Manufacturers",4.50,1.07\n'
        '2,"AAPL","Apple Inc","Technology","Consumer Electronics",,229.3\n'
        '3,"XYZ","XYZ Corp","Industrials","Tools",3.9,5.1\n'
    )
    (root / "consensus/yahoo-history-2026-06-29_2026-07-02.csv").write_text(
        "as_of,generated_at,commit,ticker,price,target_mean,target_high,target_low,n_analysts,rec_key,rec_mean,n_names_in_file\n"
        "2026-06-29,2026-06-29T02:00:51.722Z,a,F,14.13,14.851,,,20,,,501\n"
        "2026-06-29,2026-06-29T13:46:30.066Z,b,F,14.18,14.851,20,10,20,hold,2.71429,501\n"
        "2026-07-02,2026-07-02T15:48:42.166Z,c,F,13.405,14.901,20,11,20,hold,2.71429,2537\n"
    )
    (root / "consensus/yahoo-history-TSLA-NVDA-2026-07-24_2026-08-09.csv").write_text(
        "commit,commit_time,ticker,updated_label,target_mean,target_high,target_low,n_analysts,rec_key,rec_mean\n"
        "d,2026-07-24T11:21:55+09:00,TSLA,2026-07-23 16:04,425.08948,600.0,125.0,38,buy,2.38298\n"
    )
    for ticker, opens in (
        ("F", NY_OPEN),
        ("TSLA", NY_OPEN),
        ("NVDA", NY_OPEN),
        ("1211.HK", HK_OPEN),
        ("1810.HK", HK_OPEN),
    ):
        daily = [[opens[0], 10.0], [opens[1], 11.0]]
        (root / f"prices/closes/{ticker}.json").write_text(json.dumps({"daily": daily, "intraday": []}))
    for ticker in ("PSNY", "LOT"):
        (root / f"prices/watchlist/{ticker}-closes.csv").write_text("Date,Close\n2026-07-13,18.0\n2026-07-14,17.86")
    (root / "prices/watchlist/BYDDF-2009_2024-02-20.csv").write_text(
        "Date,Open,High,Low,Close,Adj Close,Volume\n"
        "2024-02-16,24,24.6,24,24.36,24.36,1\n2024-02-20,23.6,23.6,23.1,,,0\n"
    )
    (root / "prices/sp500-daily/AAPL.csv").write_text(
        "Date,Open,High,Low,Close,Adj Close,Volume\n"
        "2026-02-26,1,1,1,272.95,272.95,1\n2026-02-27,1,1,1,264.18,264.18,1\n"
    )
    (root / "prices/sp500-daily/F.csv").write_text(
        "Date,Open,High,Low,Close,Adj Close,Volume\n2026-02-27,1,1,1,99,99,1\n"
    )
    (root / "universe/sp500-constituents-2026-08-08.csv").write_text(
        "Symbol,Security,GICS Sector,GICS Sub-Industry,Headquarters Location,Date added,CIK,Founded\n"
        'AAPL,Apple Inc.,Information Technology,Technology Hardware,"Cupertino, California",1982-11-30,320193,1977\n'
        'BRK.B,Berkshire Hathaway,Financials,Multi-Sector Holdings,"Omaha, Nebraska",2010-02-16,1067983,1839\n'
        "F,Ford Motor Company,Consumer Discretionary,Automobile Manufacturers,"
        '"Dearborn, Michigan",1957-03-04,37996,1903\n'
    )
    return root


@pytest.fixture
def built(tmp_path: Path) -> tuple[Path, dict]:
    source = write_source(tmp_path / "source")
    out = tmp_path / "data"
    manifest = build_bundle.build(source, out)
    return out, manifest


def test_build_output_loads_through_the_normal_loader(built: tuple[Path, dict]) -> None:
    out, manifest = built
    dataset = load_bundle(out)  # schemas and manifest hashes are checked on load
    assert set(manifest["files"]) == {
        "consensus.parquet",
        "consensus_history.parquet",
        "prices.parquet",
        "universe.parquet",
    }
    assert (out / "PROVENANCE.md").read_text() == "# test provenance\n"
    consensus = dataset.consensus.set_index(["ticker", "source"])
    ford = consensus.loc[("F", "Yahoo Finance")]
    assert (ford["price"], ford["target_mean"], ford["n_analysts"], ford["source_label"]) == (
        13.405,
        14.901,
        20,
        "Hold",
    )
    assert consensus.loc[("XYZ", "Yahoo Finance"), "source_label"] == "Sell"  # Yahoo's "underperform"
    aapl = consensus.loc[("AAPL", "Yahoo Finance")]
    assert pd.isna(aapl["target_mean"]) and pd.isna(aapl["n_analysts"]) and pd.isna(aapl["source_label"])
    tipranks = consensus.loc[("F", "TipRanks")]
    assert tipranks["as_of"] == "2026" and pd.isna(tipranks["price"]) and pd.isna(tipranks["strong_buy"])
    # finviz: only tickers of the universe, only rows with a rating.
    assert set(dataset.consensus.loc[dataset.consensus["source"] == "finviz", "ticker"]) == {"PSNY"}


def test_build_takes_each_close_on_its_exchange_day_and_one_series_per_ticker(built: tuple[Path, dict]) -> None:
    prices = load_bundle(built[0]).prices
    for ticker in ("F", "1810.HK"):
        days = prices.loc[prices["ticker"] == ticker, "date"].dt.strftime("%Y-%m-%d").tolist()
        assert days == ["2026-07-01", "2026-07-02"]
    assert prices.loc[prices["ticker"] == "F", "close"].tolist() == [10.0, 11.0]  # not the sp500-daily file
    assert set(prices.loc[prices["ticker"] == "1211.HK", "currency"]) == {"HKD"}
    assert prices.loc[prices["ticker"] == "BYDDF", "close"].tolist() == [24.36]  # row without a close dropped
    assert built[1]["files"]["prices.parquet"]["dropped_rows_without_close"] == 1


def test_build_keeps_the_last_history_snapshot_of_each_day(built: tuple[Path, dict]) -> None:
    history = load_bundle(built[0]).history
    ford = history[history["ticker"] == "F"]
    assert ford["as_of"].tolist() == ["2026-06-29", "2026-07-02"]
    assert ford["price"].tolist() == [14.18, 13.405]
    tsla = history[history["ticker"] == "TSLA"].iloc[0]
    assert (tsla["as_of"], tsla["observed_at"]) == ("2026-07-23", "2026-07-24T02:21:55Z")


def test_build_names_sp500_members_in_yahoo_spelling(built: tuple[Path, dict]) -> None:
    universe = load_bundle(built[0]).universe.set_index("ticker")
    assert universe.loc["BRK-B", "in_sp500"] and "BRK.B" not in universe.index
    assert universe.loc["PSNY", "sector_scheme"] == "finviz"
    assert universe.loc["1810.HK", "name"] == build_bundle.EXTRA_NAMES["1810.HK"]
    assert universe["in_watchlist"].sum() == 8


def test_build_is_deterministic(tmp_path: Path, built: tuple[Path, dict]) -> None:
    again = build_bundle.build(tmp_path / "source", tmp_path / "again")
    assert {k: v["sha256"] for k, v in again["files"].items()} == {k: v["sha256"] for k, v in built[1]["files"].items()}


def test_cli_refuses_a_folder_that_is_not_a_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_bundle.main([str(tmp_path)])
    assert exit_info.value.code == 2
    assert "no PROVENANCE.md" in capsys.readouterr().err
