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
from ratings.dataset import DataError, Dataset
from ratings.schema import CONSENSUS, CONSENSUS_HISTORY, PRICES, UNIVERSE, validate
from ratings.tickers import WATCHLIST

DATA = paths.PROJECT_ROOT / "data"
MANIFEST = json.loads((DATA / "manifest.json").read_text())


@pytest.mark.parametrize(
    ("name", "schema"),
    [
        ("consensus.parquet", CONSENSUS),
        ("consensus_history.parquet", CONSENSUS_HISTORY),
        ("prices.parquet", PRICES),
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
    size = sum(p.stat().st_size for p in DATA.iterdir())
    assert size < 5 * 1024 * 1024


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
