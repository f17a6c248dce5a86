"""The bundled snapshot in data/: schemas, manifest, provenance, and the acceptance figures."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from ratings import paths
from ratings.bundle import load_bundle
from ratings.changes import consensus_changes
from ratings.dataset import DataError, Dataset
from ratings.schema import CONSENSUS, CONSENSUS_HISTORY, PRICES, TREND, UNIVERSE, UPGRADES, validate
from ratings.tickers import WATCHLIST

DATA = paths.PROJECT_ROOT / "data"
MANIFEST = json.loads((DATA / "manifest.json").read_text())
#: Copies of the recorded Yahoo answers of 2025-02-24 that the figures below are read from (README.md there).
RECORDED = Path(__file__).parent / "payloads" / "bundle"
RECORDING = "yahoo-2025-02-24"
SUMMER = "yahoo-history-TSLA-NVDA-2026-07-24_2026-08-09"


def recorded(module: str, symbol: str) -> dict:
    return json.loads((RECORDED / f"quoteSummary-{module}-{symbol}.json").read_text())


def recorded_body(module: str, symbol: str) -> dict:
    return recorded(module, symbol)["body"]["quoteSummary"]["result"][0][module]


@pytest.mark.parametrize(
    ("name", "schema"),
    [
        ("consensus.parquet", CONSENSUS),
        ("consensus_history.parquet", CONSENSUS_HISTORY),
        ("trend.parquet", TREND),
        ("upgrades.parquet", UPGRADES),
        ("prices.parquet", PRICES),
        ("adjusted_prices.parquet", PRICES),
        ("universe.parquet", UNIVERSE),
    ],
)
def test_each_file_matches_its_schema_and_manifest(name: str, schema) -> None:
    path = DATA / name
    frame = pd.read_parquet(path)
    validate(frame, schema)  # the stored dtypes themselves, not a conformed copy
    entry = MANIFEST["files"][name]
    assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert entry["rows"] == len(frame)
    if "source_id" in frame:
        assert set(frame["source_id"].dropna()) <= set(MANIFEST["sources"])


@pytest.mark.parametrize("source_id", sorted(MANIFEST["sources"]))
def test_every_source_is_documented(source_id: str) -> None:
    source = MANIFEST["sources"][source_id]
    for key in ("title", "provider", "as_of", "terms", "repository", "commit"):
        assert key in source, f"{source_id} lacks {key}"
    assert source["title"] and source["provider"] and source["as_of"] and source["terms"]
    if source["repository"]:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+", source["repository"])
        assert re.fullmatch(r"[0-9a-f]{8,40}(\.\.[0-9a-f]{8,40})?", source["commit"])


def test_bundle_is_compact() -> None:
    # About 0.95 MB with the recorded trend and upgrades and the adjusted closes (0.22 MB): still well inside.
    size = sum(p.stat().st_size for p in DATA.iterdir())
    assert size < 5 * 1024 * 1024


def test_every_file_of_the_manifest_is_loaded(bundle: Dataset) -> None:
    assert set(MANIFEST["files"]) == {p.name for p in DATA.glob("*.parquet")}
    assert len(bundle.trend) == MANIFEST["files"]["trend.parquet"]["rows"]
    assert len(bundle.upgrades) == MANIFEST["files"]["upgrades.parquet"]["rows"]
    assert len(bundle.adjusted_closes) == MANIFEST["files"]["adjusted_prices.parquet"]["rows"]


def test_every_watchlist_ticker_has_prices_and_a_name(bundle: Dataset) -> None:
    assert set(WATCHLIST) <= set(bundle.prices["ticker"])
    names = bundle.universe.set_index("ticker")["name"]
    assert names.loc[list(WATCHLIST)].notna().all()


def test_sp500_universe(bundle: Dataset) -> None:
    members = bundle.sp500()
    assert len(members) == 503
    assert "BRK-B" in members and "BRK.B" not in members  # Yahoo's spelling
    sectors = bundle.universe.loc[bundle.universe["in_sp500"], "sector"]
    assert sectors.notna().all() and sectors.nunique() == 11  # the GICS sectors


def test_acceptance_figures_for_ford(bundle: Dataset) -> None:
    table = bundle.table(["F"]).set_index("source")
    yahoo, tipranks = table.loc["Yahoo Finance"], table.loc["TipRanks"]
    assert (yahoo["consensus"], yahoo["as_of"], yahoo["n_analysts"]) == ("Hold", "2026-07-02", 20)
    assert yahoo["target_mean"] == pytest.approx(14.90, abs=0.005)
    assert yahoo["price"] == pytest.approx(13.405)
    assert yahoo["upside_mean"] == pytest.approx(0.112, abs=0.0005)
    assert bool(yahoo["is_primary"])
    assert (tipranks["consensus"], tipranks["buy"], tipranks["hold"], tipranks["sell"]) == ("Hold", 2, 11, 1)
    assert tipranks["target_mean"] == pytest.approx(13.87)
    assert pd.isna(tipranks["strong_buy"]) and pd.isna(tipranks["strong_sell"])  # unknown, not zero
    # TipRanks quoted no price: the latest bundled close is used and named.
    last_close = bundle.prices_for("F").iloc[-1]
    assert tipranks["price"] == last_close["close"]
    assert tipranks["price_as_of"] == last_close["date"].strftime("%Y-%m-%d")
    assert tipranks["price_source"] == "close"


@pytest.mark.parametrize("ticker", ["1810.HK", "1211.HK", "BYDDF"])
def test_no_consensus_is_said_not_invented(bundle: Dataset, ticker: str) -> None:
    assert ticker not in set(bundle.consensus["ticker"])
    row = bundle.table([ticker]).iloc[0]
    assert row["coverage"] == "none"
    assert pd.isna(row["consensus"]) and pd.isna(row["upside_mean"]) and pd.isna(row["target_mean"])
    assert row["price"] > 0  # it still has a price from the bundled closes


@pytest.mark.parametrize(("ticker", "rating_mean", "label"), [("PSNY", 4.50, "Sell"), ("LOT", 3.00, "Hold")])
def test_psny_and_lot_have_only_a_finviz_rating(bundle: Dataset, ticker: str, rating_mean: float, label: str) -> None:
    table = bundle.table([ticker])
    assert table["source"].tolist() == ["finviz"]
    row = table.iloc[0]
    assert (row["rating_mean"], row["consensus"], row["coverage"]) == (rating_mean, label, "rating only")
    assert pd.isna(row["upside_mean"])


def test_our_bands_reproduce_every_label_the_sources_published(bundle: Dataset) -> None:
    table = bundle.table()
    both = table["source_label"].notna() & table["consensus"].notna()
    assert both.sum() > 1700
    disagree = table.loc[both & (table["consensus"] != table["source_label"]), ["ticker", "rating_mean"]]
    assert disagree.empty, disagree.head()


def test_history_holds_one_snapshot_per_ticker_and_day(bundle: Dataset) -> None:
    history = bundle.history_for("TSLA")
    assert history["as_of"].is_monotonic_increasing and history["as_of"].is_unique
    assert {"2026-06-29", "2026-07-02", "2026-08-08"} <= set(history["as_of"])


# --- Yahoo's answers recorded on 2025-02-24 ------------------------------------------------------


def test_aapl_on_2025_02_24_is_the_recorded_answer(bundle: Dataset) -> None:
    row = bundle.consensus.set_index(["ticker", "source_id"]).loc[("AAPL", RECORDING)]
    financial = recorded_body("financialData", "AAPL")
    assert (row["source"], row["as_of"], row["price_as_of"], row["currency"]) == (
        "Yahoo Finance", "2025-02-24", "2025-02-24", recorded_body("price", "AAPL")["currency"]
    )  # fmt: skip
    assert row["price"] == financial["currentPrice"] == 245.55
    assert row["target_median"] == financial["targetMedianPrice"] == 257.5
    assert row["target_mean"] == financial["targetMeanPrice"]
    assert (row["target_low"], row["target_high"]) == (financial["targetLowPrice"], financial["targetHighPrice"])
    assert row["n_analysts"] == financial["numberOfAnalystOpinions"] == 40
    assert row["rating_mean"] == financial["recommendationMean"] and row["source_label"] == "Buy"
    counts = [row[c] for c in ("strong_buy", "buy", "hold", "sell", "strong_sell")]
    assert counts == [7, 21, 14, 2, 2]  # recommendationTrend, period "0m"
    history = bundle.history_for("AAPL").set_index("source_id")
    assert history.loc[RECORDING, "observed_at"] == "2025-02-24T09:35:05Z"  # the financialData answer's Date


def test_aapl_trend_is_the_four_recorded_months(bundle: Dataset) -> None:
    trend = bundle.trend_for("AAPL").set_index("month")
    months = recorded_body("recommendationTrend", "AAPL")["trend"]
    assert trend.index.tolist() == ["2025-02", "2025-01", "2024-12", "2024-11"]
    assert trend["period"].tolist() == [m["period"] for m in months]
    assert trend["buy"].tolist() == [m["buy"] for m in months] == [21, 21, 24, 24]
    assert set(trend["observed_at"]) == {"2025-02-24T09:35:24Z"}  # the recommendationTrend answer's Date


def test_aapl_upgrades_are_every_recorded_action(bundle: Dataset) -> None:
    # Read by hand from quoteSummary-upgradeDowngradeHistory-AAPL.json (recorded 2025-02-24, not copied: 113 KB),
    # body.quoteSummary.result[0].upgradeDowngradeHistory.history: 968 actions, no two with the same
    # epochGradeDate, firm and action; the newest is epochGradeDate 1738352759, Citigroup, "main", Buy -> Buy;
    # the oldest 1347450660, Hudson Square, "main", fromGrade "" -> Buy. 49 "down" and 37 "up".
    actions = bundle.upgrades_for("AAPL")
    assert len(actions) == 968
    newest, oldest = actions.iloc[0], actions.iloc[-1]
    assert (newest["graded_at"], newest["firm"], newest["action"], newest["from_grade"], newest["to_grade"]) == (
        "2025-01-31T19:45:59Z", "Citigroup", "main", "Buy", "Buy"
    )  # fmt: skip
    assert (oldest["graded_at"], oldest["firm"], oldest["to_grade"]) == ("2012-09-12T11:51:00Z", "Hudson Square", "Buy")
    assert pd.isna(oldest["from_grade"])  # Yahoo's "": no previous grade
    assert (actions["action"] == "down").sum() == 49 and (actions["action"] == "up").sum() == 37
    assert actions[["prior_price_target", "current_price_target"]].isna().all().all()  # none recorded
    # GOOG's file has 659 actions, one of them (epochGradeDate 1342531980) with an empty firm: dropped.
    assert len(bundle.upgrades_for("GOOG")) == 658


def test_a_symbol_without_analyst_data_has_no_rows(bundle: Dataset) -> None:
    modules = ("financialData", "recommendationTrend", "upgradeDowngradeHistory")
    assert {recorded(m, "ADH")["status"] for m in modules} == {404}
    for frame in (bundle.consensus, bundle.history, bundle.trend, bundle.upgrades, bundle.universe):
        assert not {"ADH", "EURUSD=X", "ADA-USD"} & set(frame["ticker"])
    source = MANIFEST["sources"][RECORDING]
    assert len(source["symbols"]) == 22
    assert source["no_analyst_data"] == [
        "0P000071W8.TO", "ADA-USD", "ADH", "EURUSD=X", "GC=F", "HISU-U.TO", "WSKT.JK", "^VXAPL"
    ]  # fmt: skip
    assert "THYAO.IS" in source["no_upgrade_history"]  # upgradeDowngradeHistory answered 404
    assert recorded("upgradeDowngradeHistory", "THYAO.IS")["status"] == 404
    assert bundle.upgrades_for("THYAO.IS").empty and not bundle.trend_for("THYAO.IS").empty


def test_a_non_us_listing_is_in_its_quote_currency(bundle: Dataset) -> None:
    row = bundle.consensus.set_index(["ticker", "source_id"]).loc[("THYAO.IS", RECORDING)]
    assert recorded_body("financialData", "THYAO.IS")["financialCurrency"] == "USD"
    assert row["currency"] == recorded_body("price", "THYAO.IS")["currency"] == "TRY"
    names = bundle.universe.set_index("ticker")["name"]
    assert names["THYAO.IS"] == recorded_body("price", "THYAO.IS")["longName"]


def test_tsla_current_yahoo_row_is_its_newest_snapshot(bundle: Dataset) -> None:
    yahoo = bundle.consensus[(bundle.consensus["ticker"] == "TSLA") & (bundle.consensus["source"] == "Yahoo Finance")]
    assert len(yahoo) == 1
    row = yahoo.iloc[0]
    assert (row["source_id"], row["as_of"], row["target_mean"]) == (SUMMER, "2026-08-08", 397.87274)
    assert pd.isna(row["price"])  # that snapshot quoted no price: the table prices it from a close, and says so
    table = bundle.table(["TSLA"]).set_index("source")
    assert table.loc["Yahoo Finance", "price_source"] == "close" and bool(table.loc["Yahoo Finance", "is_primary"])
    newest = bundle.history_for("TSLA").iloc[-1]
    assert (newest["as_of"], newest["target_mean"]) == (row["as_of"], row["target_mean"])


def test_the_recording_stands_beside_the_newer_yahoo_row(bundle: Dataset) -> None:
    table = bundle.table(["AAPL"])
    yahoo = table[table["source"] == "Yahoo Finance"].set_index("source_id")
    assert sorted(yahoo.index) == ["yahoo-2025-02-24", "yahoo-2026-07-02"]
    assert bool(yahoo.loc["yahoo-2026-07-02", "is_primary"]) and not yahoo.loc[RECORDING, "is_primary"]


def test_recorded_tickers_have_a_later_snapshot_to_compare(bundle: Dataset) -> None:
    for ticker in ("AAPL", "ABBV", "AMZN", "ARMK", "BFLY", "EPAC", "GOOG"):  # recorded and in the 2026 file
        assert bundle.history_for(ticker)["as_of"].tolist() == ["2025-02-24", "2026-07-02"], ticker
    moves = consensus_changes(bundle.history_for("AAPL"))
    raise_ = moves[moves["kind"] == "target raise"].iloc[0]
    # 252.22575 (financialData's targetMeanPrice, 2025-02-24) to 315.09048 (the 2026-07-02 file).
    assert (raise_["target_before"], raise_["target_after"]) == (252.22575, 315.09048)
    assert raise_["since"] == "2025-02-24T09:35:05Z"


def test_ford_is_not_among_the_recorded_tickers(bundle: Dataset) -> None:
    assert "F" not in MANIFEST["sources"][RECORDING]["symbols"]
    assert bundle.trend_for("F").empty and bundle.upgrades_for("F").empty
    assert bundle.consensus.loc[bundle.consensus["ticker"] == "F", "target_median"].isna().all()


# --- adjusted closes for scoring analysts' calls ---------------------------------------------------


def test_adjusted_closes_are_only_for_tickers_with_upgrades_and_the_benchmark(bundle: Dataset) -> None:
    adjusted = bundle.adjusted_closes
    tickers = set(adjusted["ticker"])
    assert tickers == {"AAPL", "ABBV", "AMZN", "GOOG", "EW-SP500"}
    assert tickers - {"EW-SP500"} <= set(bundle.upgrades["ticker"])
    assert set(adjusted["currency"]) == {"USD"}
    assert set(adjusted["source_id"]) == {"sp500-daily-1999-2021", "ew-sp500-1999-2021"}
    aapl = adjusted[adjusted["ticker"] == "AAPL"]
    assert (aapl["date"].min(), aapl["date"].max()) == (pd.Timestamp("1999-11-01"), pd.Timestamp("2021-04-21"))
    assert not adjusted.duplicated(["ticker", "date"]).any() and (adjusted["close"] > 0).all()


def test_benchmark_starts_at_100_and_is_documented(bundle: Dataset) -> None:
    index = bundle.adjusted_closes[bundle.adjusted_closes["ticker"] == "EW-SP500"].sort_values("date")
    assert index["date"].iloc[0] == pd.Timestamp("1999-11-01") and index["close"].iloc[0] == 100.0
    assert index["date"].iloc[-1] == pd.Timestamp("2021-04-21") and index["date"].is_unique
    benchmark = MANIFEST["benchmarks"]["EW-SP500"]
    assert benchmark["description"] == "equal-weighted average of the 504 tickers, computed by the builder"
    assert benchmark["source_id"] == "ew-sp500-1999-2021" and benchmark["tickers"] == 504
    provenance = " ".join((DATA / "PROVENANCE.md").read_text().split())  # as read, not as wrapped
    assert f"`ew-sp500-1999-2021`): {benchmark['description']}." in provenance


# --- failures: clear messages, nothing silently wrong ----------------------------------------


@pytest.fixture
def bundle_copy(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DATA, target)
    return target


def test_missing_bundle_is_named(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"manifest\.json is missing"):
        load_bundle(tmp_path)


def test_edited_file_fails_its_hash(bundle_copy: Path) -> None:
    path = bundle_copy / "prices.parquet"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataError, match=r"prices\.parquet does not match its manifest hash"):
        load_bundle(bundle_copy)


def test_unreadable_parquet_is_named_even_without_hash_check(bundle_copy: Path) -> None:
    (bundle_copy / "universe.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(DataError, match=r"universe\.parquet is not valid universe data"):
        load_bundle(bundle_copy, verify=False)


def test_corrupt_manifest_is_named(bundle_copy: Path) -> None:
    (bundle_copy / "manifest.json").write_text("{ half a")
    with pytest.raises(DataError, match="unreadable"):
        load_bundle(bundle_copy)


def _without_hash(manifest: dict) -> dict:
    manifest["files"]["consensus.parquet"].pop("sha256")
    return manifest


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (lambda m: [], "not a manifest"),
        (lambda m: m | {"files": None}, "not a manifest"),
        (lambda m: m | {"sources": []}, "not a manifest"),
        (lambda m: {k: v for k, v in m.items() if k != "files"}, "not a manifest"),
        (_without_hash, r"no sha256 for consensus\.parquet"),
        (lambda m: m | {"files": m["files"] | {"prices.parquet": "x"}}, r"no sha256 for prices\.parquet"),
    ],
    ids=["a list", "files null", "sources a list", "no files", "a hash missing", "an entry not a table"],
)
def test_a_manifest_that_cannot_vouch_for_the_files_is_refused(bundle_copy: Path, spoil, message: str) -> None:
    path = bundle_copy / "manifest.json"
    path.write_text(json.dumps(spoil(json.loads(path.read_text()))))
    with pytest.raises(DataError, match=message):
        load_bundle(bundle_copy)


def test_an_edited_file_without_its_hash_is_not_loaded_unchecked(bundle_copy: Path) -> None:
    # The hole the check must not have: drop the hash, then edit the file it vouched for.
    path = bundle_copy / "manifest.json"
    path.write_text(json.dumps(_without_hash(json.loads(path.read_text()))))
    frame = pd.read_parquet(bundle_copy / "consensus.parquet")
    frame.loc[frame["ticker"] == "F", "target_mean"] = 999.0
    frame.to_parquet(bundle_copy / "consensus.parquet")
    with pytest.raises(DataError):
        load_bundle(bundle_copy)
    assert (load_bundle(bundle_copy, verify=False).consensus["target_mean"] == 999.0).any()  # verify=False trusts


def test_data_dir_can_be_moved_by_environment(bundle_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(paths.DATA_DIR_ENV, str(bundle_copy))
    assert paths.data_dir() == bundle_copy
    assert len(load_bundle().consensus) == MANIFEST["files"]["consensus.parquet"]["rows"]


def test_nothing_outside_the_builder_reads_the_shared_folder() -> None:
    root = paths.PROJECT_ROOT
    code = [*root.glob("ratings/**/*.py"), *root.glob("pages/**/*.py"), root / "app.py", *root.glob("tests/**/*.py")]
    offenders = [p for p in code if p.exists() and p != Path(__file__) and "../shared" in p.read_text()]
    assert offenders == []
