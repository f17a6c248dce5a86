"""scripts/build_bundle.py on a miniature source folder written here in the sources' own formats."""

from __future__ import annotations

import importlib.util
import json
import shutil
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

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

#: Real answers recorded 2025-02-24 (tests/payloads/bundle/README.md), the builder's recording folder here.
RECORDED = Path(__file__).parent / "payloads" / "bundle"

# A miniature of the 1999-2021 adjusted closes: BRK.B leaves after day 3, NEW enters on day 3, GAP misses day 3.
DAYS = pd.to_datetime(["2020-01-02", "2020-01-03", "2020-01-06", "2020-01-07", "2020-01-08"])
ADJUSTED = {
    "AAPL": {0: 5.0, 1: 5.0, 2: 5.0, 3: 5.0, 4: 5.0},
    "BFLY": {0: 10.0, 1: 11.0, 2: 12.1, 3: 12.1, 4: 13.31},
    "BRK.B": {0: 100.0, 1: 100.0, 2: 90.0},
    "NEW": {2: 50.0, 3: 55.0, 4: 55.0},
    "GAP": {0: 20.0, 1: 22.0, 3: 30.0, 4: 30.0},
}


def recorded(module: str, symbol: str) -> dict[str, Any]:
    """One recorded answer, read here by hand."""
    return json.loads((RECORDED / f"quoteSummary-{module}-{symbol}.json").read_text())


def recorded_body(module: str, symbol: str) -> dict[str, Any]:
    return recorded(module, symbol)["body"]["quoteSummary"]["result"][0][module]


def recorded_at(module: str, symbol: str) -> str:
    """The answer's HTTP Date, as the bundle's timestamps spell it."""
    return parsedate_to_datetime(recorded(module, symbol)["date"]).strftime("%Y-%m-%dT%H:%M:%SZ")


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
        "TSLA": {"price": 400.205, "target": 421.1561, "targetLow": 123, "targetHigh": 600, "analysts": 41,
                 "recKey": "buy", "recMean": 2.34043},
        "BFLY": {"price": 7.725, "target": 7.0625, "targetLow": 5.25, "targetHigh": 11, "analysts": 4,
                 "recKey": "strong_buy", "recMean": 1.0},
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
    long = root / "prices" / "sp500-daily-1999-2021"
    long.mkdir(parents=True)
    rows = [(t, DAYS[i], close) for t, closes in ADJUSTED.items() for i, close in closes.items()]
    adjusted = pd.DataFrame(rows, columns=["ticker", "date", "adjusted_close"])
    adjusted = adjusted.assign(close=adjusted["adjusted_close"], dividend_amount=0.0, split_coefficient=1.0)
    adjusted.to_parquet(long / "daily_adjusted.parquet", index=False)
    # The recording, where the builder looks for it by default: yahoo-payloads/2025-02-24 beside the source.
    recording = root.parent / "yahoo-payloads" / "2025-02-24"
    recording.mkdir(parents=True)
    for path in RECORDED.glob("*.json"):
        shutil.copyfile(path, recording / path.name)
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
        "trend.parquet",
        "upgrades.parquet",
        "prices.parquet",
        "adjusted_prices.parquet",
        "universe.parquet",
    }
    provenance = (out / "PROVENANCE.md").read_text()
    assert provenance.startswith("# test provenance\n")  # the source's notes verbatim, then the builder's own
    assert "## Added by scripts/build_bundle.py" in provenance and "EW-SP500" in provenance
    consensus = dataset.consensus.set_index(["ticker", "source"])
    ford = consensus.loc[("F", "Yahoo Finance")]
    assert (ford["price"], ford["target_mean"], ford["n_analysts"], ford["source_label"]) == (
        13.405,
        14.901,
        20,
        "Hold",
    )
    assert consensus.loc[("XYZ", "Yahoo Finance"), "source_label"] == "Sell"  # Yahoo's "underperform"
    aapl = dataset.consensus.set_index(["ticker", "source_id"]).loc[("AAPL", "yahoo-2026-07-02")]  # two Yahoo rows
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
    for name in ("manifest.json", "PROVENANCE.md"):
        assert (tmp_path / "again" / name).read_bytes() == (built[0] / name).read_bytes()


def test_cli_refuses_a_folder_that_is_not_a_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_bundle.main([str(tmp_path)])
    assert exit_info.value.code == 2
    assert "no PROVENANCE.md" in capsys.readouterr().err


def test_cli_refuses_a_source_without_its_recording(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "alone"
    source.mkdir()
    (source / "PROVENANCE.md").write_text("# a source folder, but no yahoo-payloads beside it\n")
    with pytest.raises(SystemExit) as exit_info:
        build_bundle.main([str(source)])
    assert exit_info.value.code == 2
    assert "--recording" in capsys.readouterr().err


# --- the 2025-02-24 recording ----------------------------------------------------------------


def test_recorded_consensus_is_the_answer_read_by_hand(built: tuple[Path, dict]) -> None:
    consensus = load_bundle(built[0]).consensus.set_index(["ticker", "source_id"])
    aapl = consensus.loc[("AAPL", "yahoo-2025-02-24")]
    financial = recorded_body("financialData", "AAPL")
    assert (aapl["source"], aapl["as_of"], aapl["price_as_of"]) == ("Yahoo Finance", "2025-02-24", "2025-02-24")
    assert aapl["price"] == financial["currentPrice"] == 245.55
    assert aapl["target_mean"] == financial["targetMeanPrice"]
    assert aapl["target_median"] == financial["targetMedianPrice"] == 257.5
    assert (aapl["target_low"], aapl["target_high"]) == (financial["targetLowPrice"], financial["targetHighPrice"])
    assert (aapl["rating_mean"], aapl["n_analysts"]) == (financial["recommendationMean"], 40)
    assert aapl["source_label"] == "Buy"  # recommendationKey "buy"
    now = next(m for m in recorded_body("recommendationTrend", "AAPL")["trend"] if m["period"] == "0m")
    counts = [now[k] for k in ("strongBuy", "buy", "hold", "sell", "strongSell")]
    assert [aapl[c] for c in ("strong_buy", "buy", "hold", "sell", "strong_sell")] == counts == [7, 21, 14, 2, 2]
    assert aapl["currency"] == recorded_body("price", "AAPL")["currency"] == "USD"


def test_recorded_currency_is_the_quotes_not_the_financial_statements(built: tuple[Path, dict]) -> None:
    row = load_bundle(built[0]).consensus.set_index(["ticker", "source_id"]).loc[("THYAO.IS", "yahoo-2025-02-24")]
    assert recorded_body("financialData", "THYAO.IS")["financialCurrency"] == "USD"
    assert row["currency"] == recorded_body("price", "THYAO.IS")["currency"] == "TRY"
    assert row["price"] == 313 and row["target_median"] == 450


def test_a_recommendation_key_of_none_is_no_label(built: tuple[Path, dict]) -> None:
    financial = recorded_body("financialData", "BFLY")
    assert financial["recommendationKey"] == "none" and "recommendationMean" not in financial
    row = load_bundle(built[0]).consensus.set_index(["ticker", "source_id"]).loc[("BFLY", "yahoo-2025-02-24")]
    assert pd.isna(row["source_label"]) and pd.isna(row["rating_mean"])
    assert row["target_mean"] == financial["targetMeanPrice"] and row["n_analysts"] == 3


def test_a_symbol_without_analyst_data_has_no_rows_and_is_named(built: tuple[Path, dict]) -> None:
    out, manifest = built
    assert {recorded(m, "ADH")["status"] for m in build_bundle.ANALYST_MODULES} == {404}
    dataset = load_bundle(out)
    for frame in (dataset.consensus, dataset.history, dataset.trend, dataset.upgrades, dataset.universe):
        assert "ADH" not in set(frame["ticker"])
    source = manifest["sources"]["yahoo-2025-02-24"]
    assert source["no_analyst_data"] == ["ADH"]
    assert source["symbols"] == ["AAPL", "ADH", "BFLY", "THYAO.IS"]
    # THYAO.IS: upgradeDowngradeHistory answered 404; AAPL's history is not among the copied files.
    assert source["no_upgrade_history"] == ["AAPL", "THYAO.IS"]


def test_recorded_trend_has_its_months_and_the_time_of_the_answer(built: tuple[Path, dict]) -> None:
    trend = load_bundle(built[0]).trend
    aapl = trend[trend["ticker"] == "AAPL"].set_index("period")
    months = recorded_body("recommendationTrend", "AAPL")["trend"]
    assert aapl.index.tolist() == [m["period"] for m in months] == ["0m", "-1m", "-2m", "-3m"]
    assert aapl["month"].tolist() == ["2025-02", "2025-01", "2024-12", "2024-11"]
    for month in months:
        row = aapl.loc[month["period"]]
        assert [row["strong_buy"], row["buy"], row["hold"], row["sell"], row["strong_sell"]] == [
            month["strongBuy"], month["buy"], month["hold"], month["sell"], month["strongSell"]
        ]  # fmt: skip
    assert set(aapl["observed_at"]) == {recorded_at("recommendationTrend", "AAPL")} == {"2025-02-24T09:35:24Z"}
    assert len(trend[trend["ticker"] == "BFLY"]) == 2  # Yahoo gave BFLY two months


def test_recorded_upgrades_are_every_action_in_utc(built: tuple[Path, dict]) -> None:
    upgrades = load_bundle(built[0]).upgrades
    bfly = upgrades[upgrades["ticker"] == "BFLY"].sort_values("graded_at")
    history = sorted(recorded_body("upgradeDowngradeHistory", "BFLY")["history"], key=lambda a: a["epochGradeDate"])
    assert len(bfly) == len(history) == 6
    for row, action in zip(bfly.itertuples(), history, strict=True):
        when = datetime.fromtimestamp(action["epochGradeDate"], UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert (row.graded_at, row.firm, row.action, row.to_grade) == (
            when, action["firm"], action["action"], action["toGrade"]
        )  # fmt: skip
        assert action["fromGrade"] == "" and pd.isna(row.from_grade)  # no previous grade: unknown, not ""
    assert bfly.iloc[0]["graded_at"] == "2021-06-21T11:32:07Z"  # Cowen & Co., epochGradeDate 1624275127
    assert set(bfly["source"]) == {"Yahoo Finance"}
    assert bfly[["prior_price_target", "current_price_target"]].isna().all().all()  # none recorded
    assert "THYAO.IS" not in set(upgrades["ticker"])


def test_recorded_answers_go_through_the_live_loaders_rules(tmp_path: Path) -> None:
    """BFLY's real answers, spoiled the ways the live loader guards against, as symbol ZZZZ."""
    folder = tmp_path / "spoiled"
    folder.mkdir()
    for module in ("price", "financialData", "recommendationTrend", "upgradeDowngradeHistory"):
        answer = recorded(module, "BFLY")
        body = answer["body"]["quoteSummary"]["result"][0][module]
        if module == "financialData":
            body |= {"targetMedianPrice": 0, "targetLowPrice": 9.0, "targetHighPrice": 5.0, "currentPrice": "NaN"}
            body |= {"numberOfAnalystOpinions": 3.5, "recommendationMean": 7}
        elif module == "recommendationTrend":
            body["trend"] = [
                {"period": "0m", "strongBuy": 1.5, "buy": 3, "hold": 0, "sell": 0, "strongSell": 0},
                {"period": "-1m", "strongBuy": 0, "buy": 0, "hold": 0, "sell": 0, "strongSell": 0},
            ]
        elif module == "upgradeDowngradeHistory":
            first = body["history"][0]
            body["history"] = [
                first,
                dict(first),  # the same time, firm and action again
                first | {"epochGradeDate": 0},  # Yahoo's epoch 0
                first | {"epochGradeDate": first["epochGradeDate"] * 1000},  # milliseconds read as seconds
                first | {"epochGradeDate": 1740787200},  # 2025-03-01: days after the recording
                first | {"firm": " "},
            ]
        (folder / f"quoteSummary-{module}-ZZZZ.json").write_text(json.dumps(answer))
    rec = build_bundle.recording(folder)
    row = rec.snapshots.iloc[0]
    assert row["target_mean"] == recorded_body("financialData", "BFLY")["targetMeanPrice"]
    assert pd.isna(row["target_median"])  # Yahoo's 0: no target
    assert pd.isna(row["target_low"]) and pd.isna(row["target_high"])  # lowest above highest: both unknown
    assert pd.isna(row["price"]) and pd.isna(row["price_as_of"])  # not a finite number
    assert pd.isna(row["n_analysts"]) and pd.isna(row["rating_mean"])  # a fractional count, a rating off the scale
    assert rec.trend["period"].tolist() == ["0m"]  # an all-zero month is no ratings: left out
    assert pd.isna(rec.trend["strong_buy"].iloc[0]) and pd.isna(row["strong_buy"]) and row["buy"] == 3
    assert len(rec.upgrades) == 1  # once; the broken dates and the blank firm dropped
    assert rec.upgrades.iloc[0]["graded_at"] == "2024-09-10T12:41:52Z"


def test_recorded_tickers_get_the_main_files_later_snapshot_in_history(built: tuple[Path, dict]) -> None:
    history = load_bundle(built[0]).history
    bfly = history[history["ticker"] == "BFLY"].set_index("as_of")
    assert bfly.index.tolist() == ["2025-02-24", "2026-07-02"]
    assert bfly.loc["2025-02-24", "observed_at"] == recorded_at("financialData", "BFLY") == "2025-02-24T09:35:05Z"
    assert bfly.loc["2026-07-02", "observed_at"] == "2026-07-02T15:48:42Z"  # the main file's generatedAt
    assert bfly["source_id"].tolist() == ["yahoo-2025-02-24", "yahoo-2026-07-02"]
    assert bfly.loc["2026-07-02", "target_mean"] == 7.0625
    assert "THYAO.IS" in set(history["ticker"])  # recorded, not in the main file: its one snapshot
    assert "XYZ" not in set(history["ticker"])  # in the main file, not recorded: no history


def test_the_newest_2026_snapshot_is_the_current_yahoo_row(built: tuple[Path, dict]) -> None:
    consensus = load_bundle(built[0]).consensus
    yahoo = consensus[consensus["source"] == "Yahoo Finance"]
    tsla = yahoo[yahoo["ticker"] == "TSLA"]
    # The summer history's 2026-07-23 snapshot (observed 2026-07-24) is newer than the main file's.
    assert tsla["source_id"].tolist() == ["yahoo-history-TSLA-NVDA-2026-07-24_2026-08-09"]
    assert (tsla["as_of"].iloc[0], tsla["target_mean"].iloc[0]) == ("2026-07-23", 425.08948)
    # F's newest history snapshot is the main file itself (observed at the same second): the main file's row.
    ford = yahoo[yahoo["ticker"] == "F"]
    assert ford["source_id"].tolist() == ["yahoo-2026-07-02"]
    # The recording stays a row of its own beside the 2026 one.
    assert sorted(yahoo.loc[yahoo["ticker"] == "BFLY", "source_id"]) == ["yahoo-2025-02-24", "yahoo-2026-07-02"]
    assert not consensus.duplicated(["ticker", "source_id"]).any()


def test_recorded_names_fill_what_the_universe_lacks(built: tuple[Path, dict]) -> None:
    universe = load_bundle(built[0]).universe.set_index("ticker")
    assert universe.loc["THYAO.IS", "name"] == recorded_body("price", "THYAO.IS")["longName"]
    assert pd.isna(universe.loc["THYAO.IS", "sector"])  # a name, no sector: none was recorded
    assert universe.loc["AAPL", "name"] == "Apple Inc."  # the constituents list's, which comes first


# --- adjusted closes and the equal-weighted benchmark ------------------------------------------


def test_adjusted_closes_only_for_tickers_with_an_upgrade_history(built: tuple[Path, dict]) -> None:
    out, manifest = built
    adjusted = load_bundle(out).adjusted_closes
    assert set(adjusted["ticker"]) == {"BFLY", "EW-SP500"}  # AAPL has no upgrades here; BRK.B none recorded
    bfly = adjusted[adjusted["ticker"] == "BFLY"]
    assert bfly["close"].tolist() == list(ADJUSTED["BFLY"].values())
    assert set(bfly["source_id"]) == {"sp500-daily-1999-2021"} and set(adjusted["currency"]) == {"USD"}
    assert manifest["files"]["adjusted_prices.parquet"]["tickers"] == ["BFLY", "EW-SP500"]


def test_benchmark_is_the_compounded_mean_of_the_returns_of_the_tickers_trading(built: tuple[Path, dict]) -> None:
    out, manifest = built
    adjusted = load_bundle(out).adjusted_closes
    index = adjusted[adjusted["ticker"] == "EW-SP500"].set_index("date")["close"]
    assert index.index.tolist() == DAYS.tolist()
    assert index.iloc[0] == 100.0
    # The returns, from ADJUSTED above. Day 2: AAPL 0, BFLY +10%, BRK.B 0, GAP +10%. Day 3: AAPL 0, BFLY +10%,
    # BRK.B -10% (NEW's first day, GAP missing). Day 4: AAPL 0, BFLY 0, NEW +10% (GAP's close of day 2 is not
    # the day before: no return). Day 5: AAPL 0, BFLY +10%, NEW 0, GAP 0 (BRK.B gone).
    means = [(0 + 0.1 + 0 + 0.1) / 4, (0 + 0.1 - 0.1) / 3, (0 + 0 + 0.1) / 3, (0 + 0.1 + 0 + 0) / 4]
    assert index.pct_change().iloc[1:].tolist() == pytest.approx(means)
    assert index.iloc[3] / index.iloc[2] - 1 == pytest.approx(0.1 / 3)  # day 4, checked alone
    assert index.iloc[-1] == pytest.approx(100 * 1.05 * 1.0 * (1 + 0.1 / 3) * 1.025)
    assert set(adjusted.loc[adjusted["ticker"] == "EW-SP500", "source_id"]) == {"ew-sp500-1999-2021"}
    benchmark = manifest["benchmarks"]["EW-SP500"]
    assert benchmark["description"] == "equal-weighted average of the 5 tickers, computed by the builder"
    assert (benchmark["first"], benchmark["last"], benchmark["base"]) == ("2020-01-02", "2020-01-08", 100.0)
