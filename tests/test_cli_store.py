"""The command line on live data and the local store: ``ratings fetch``, ``table --source store|live``,
``history`` and ``changes`` (issue 3), offline.

``cli.main`` runs in-process with ``tests/fake_yahoo.py`` installed: yfinance's own parsing runs on
the recorded Yahoo responses in ``tests/payloads/yahoo/``. ``yahoo.fetch`` is wrapped (the ``wall``
fixture) so backoff never really waits and the wall clock is injected: a fetch "on 2021-02-01"
serves the February 2021 recording and one "on 2025-02-24" the 2025 one. Every expected value is
read from those payload files (``recordings.py``), or derived from them through the documented
rules: label bands, upside = target / price - 1. The cache folder and every store live in
``tmp_path``.
"""

from __future__ import annotations

import csv
import io
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fake_yahoo import FakeYahoo, recorded
from helpers import Run, VirtualClock, number, parse_json
from postgres import PostgresServer
from recordings import AAPL_2021, DAY_2025, GOOG_2021, TARGET_KEYS, current_counts, module, payload

from ratings import cli
from ratings.bundle import load_bundle
from ratings.changes import CHANGES, changes
from ratings.core import HISTORY_CLOSE_MAX_AGE, label_from_rating_mean
from ratings.formatting import money
from ratings.schema import COUNT_COLUMNS, CSV_COLUMNS
from ratings.sources import load
from ratings.store import Store
from ratings.tickers import NOT_A_SYMBOL
from ratings.yahoo import LiveResult

STAMP = "%Y-%m-%dT%H:%M:%SZ"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
GRADE_KINDS = {"up": "upgrade", "down": "downgrade", "init": "initiation"}


# ---------------------------------------------------------------------------------------------
# Expected values, from the payload files (recordings.py) and the documented rules


def quote_currency(symbol: str) -> str | None:
    """The 2025 quote currency as recorded (v7 quote, else summaryDetail); None where neither was recorded."""
    data = recorded(symbol)
    for source in (data.quote or {}, data.modules.get("summaryDetail") or {}):
        if source.get("currency"):
            return str(source["currency"])
    return None


def label(rating_mean: float) -> str:
    return str(label_from_rating_mean(pd.Series([rating_mean])).iloc[0])


def graded_actions(symbol: str, after: datetime, year: str = "2025") -> set[tuple[Any, ...]]:
    """The recorded rating changes graded after `after`: (ticker, day, kind, firm, from, to)."""
    found = set()
    for row in module(symbol, "upgradeDowngradeHistory", year)["history"]:
        graded = datetime.fromtimestamp(row["epochGradeDate"], UTC)
        kind = GRADE_KINDS.get(row["action"])
        if kind and row["firm"].strip() and graded.replace(microsecond=0) > after:
            found.add((symbol, graded.date().isoformat(), kind, row["firm"], row["fromGrade"] or None, row["toGrade"]))
    return found


# ---------------------------------------------------------------------------------------------
# Running the command line


def parse_csv(text: str) -> list[dict[str, str | None]]:
    return [{k: (v if v != "" else None) for k, v in row.items()} for row in csv.DictReader(io.StringIO(text))]


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "s.sqlite"


def fetch_argv(store: Path | str, *tickers: str, extra: tuple[str, ...] = ()) -> list[str]:
    # --rate 0: the fake answers at once; the rate limiter itself is tested in test_live.py.
    return ["fetch", *tickers, "--store", str(store), "--rate", "0", *extra]


# ---------------------------------------------------------------------------------------------
# Done when: fetch, then the table from the store


def test_fetch_stores_the_recorded_consensus_and_table_reads_it_back(
    fake: FakeYahoo, wall: VirtualClock, store: Path, run: Callable[..., Run]
) -> None:
    fetched = run(*fetch_argv(store, "AAPL", "AMZN", "GOOG"))
    assert fetched.code == 0, fetched.err
    with Store.open(store, create=False) as opened:
        latest = opened.latest().set_index("ticker")
    assert sorted(latest.index) == ["AAPL", "AMZN", "GOOG"]
    for symbol in ("AAPL", "AMZN", "GOOG"):
        financial = module(symbol, "financialData")
        row = latest.loc[symbol]
        for column, key in TARGET_KEYS.items():
            assert row[column] == pytest.approx(financial[key])
        assert {c: row[c] for c in COUNT_COLUMNS} == current_counts(symbol)
        assert row["n_analysts"] == financial["numberOfAnalystOpinions"]
        assert row["rating_mean"] == pytest.approx(financial["recommendationMean"])
        assert row["price"] == pytest.approx(financial["currentPrice"])
        assert row["as_of"] == DAY_2025.date().isoformat()

    shown = run("table", "AAPL", "--source", "store", "--store", store, "--format", "csv")
    assert shown.code == 0, shown.err
    assert next(csv.reader(io.StringIO(shown.out))) == list(CSV_COLUMNS)
    (record,) = parse_csv(shown.out)
    financial = module("AAPL", "financialData")
    price = financial["currentPrice"]
    assert record["ticker"] == "AAPL" and record["source"] == "Yahoo Finance"
    assert record["as_of"] == record["price_as_of"] == DAY_2025.date().isoformat()
    assert number(record["price"]) == pytest.approx(price)
    for column, key in TARGET_KEYS.items():
        assert number(record[column]) == pytest.approx(financial[key])
    for kind, key in (("mean", "targetMeanPrice"), ("low", "targetLowPrice"), ("high", "targetHighPrice")):
        assert number(record[f"upside_{kind}"]) == pytest.approx(financial[key] / price - 1)
    assert {c: int(record[c] or -1) for c in COUNT_COLUMNS} == current_counts("AAPL")
    assert int(record["n_analysts"] or -1) == financial["numberOfAnalystOpinions"]
    assert number(record["rating_mean"]) == pytest.approx(financial["recommendationMean"])
    assert record["consensus"] == label(financial["recommendationMean"])
    quote = payload("2025-quote-AAPL.json")["quoteResponse"]["result"][0]
    assert record["currency"] == quote["currency"]


def test_the_fetch_summary_names_every_ticker(
    fake: FakeYahoo, wall: VirtualClock, store: Path, run: Callable[..., Run]
) -> None:
    result = run(*fetch_argv(store, "AAPL", "AMZN", "GOOG"))
    lines = result.out_lines
    assert lines[-1] == f"3 fetched, 0 without analyst coverage, 0 failed. Stored 3 new snapshots in {store}."
    rows = {line.split()[0]: line for line in lines[:-1]}
    assert set(rows) == {"AAPL", "AMZN", "GOOG"}
    for symbol, line in rows.items():
        financial = module(symbol, "financialData")
        assert line.split()[1] == "fetched"
        assert f"{financial['numberOfAnalystOpinions']} analysts" in line
        assert money(financial["targetMeanPrice"], None) in line
    # Progress, one line per ticker on stderr (not a terminal here), counting up.
    progress = [line for line in result.err_lines if line.split()[1].count("/") == 1]
    assert [line.split()[1] for line in progress] == ["1/3", "2/3", "3/3"]
    assert sorted(line.split()[2] for line in progress) == ["AAPL", "AMZN", "GOOG"]


# ---------------------------------------------------------------------------------------------
# Done when: a batch with failures keeps the good tickers and loses nothing


def test_a_mixed_batch_stores_the_good_names_each_failure_and_exits_zero(
    fake: FakeYahoo, wall: VirtualClock, store: Path, run: Callable[..., Run]
) -> None:
    fake.no_fundamentals("SPY")  # HTTP 404 "No fundamentals data found"
    fake.serve_as("RL", "AAPL")
    fake.fail("RL", "status", status=429)  # rate limited, forever
    fake.serve_as("BAD", "AAPL")
    fake.fail("BAD", "malformed")
    result = run(*fetch_argv(store, "AAPL", "SPY", "RL", "BAD", "GOOG"))
    assert result.code == 0, result.err

    with Store.open(store, create=False) as opened:
        assert sorted(opened.latest()["ticker"]) == ["AAPL", "GOOG"]
        (entry,) = opened.fetch_log()
    assert (entry.ok, entry.no_coverage, entry.failed) == (2, 1, 2)
    assert entry.reasons["RL"] == "rate limited by Yahoo (HTTP 429) after 4 attempts"
    assert entry.reasons["BAD"].startswith("malformed response from Yahoo (quote summary)")
    assert entry.reasons["SPY"] == "no analyst coverage (Yahoo: No fundamentals data found for symbol: SPY)"

    # Failures on stderr, each with its reason (the same as the fetch log's).
    for symbol in ("RL", "BAD"):
        assert f"ratings: {symbol}: failed: {entry.reasons[symbol]}" in result.err_lines
        assert symbol not in [line.split()[0] for line in result.out_lines]
    # The summary on stdout: fetched and no-coverage tickers with their reasons, and the counts.
    rows = {line.split()[0]: line for line in result.out_lines[:-1]}
    assert set(rows) == {"AAPL", "SPY", "GOOG"}
    assert entry.reasons["SPY"] in rows["SPY"] and "no analyst coverage" in rows["SPY"]
    assert result.out_lines[-1].startswith("2 fetched, 1 without analyst coverage, 2 failed. Stored 2 new snapshots")


@pytest.mark.parametrize("fmt", ["csv", "json", "table"])
def test_a_ticker_the_store_knows_nothing_of_is_nothing_to_show(
    fake: FakeYahoo, wall: VirtualClock, store: Path, run: Callable[..., Run], fmt: str
) -> None:
    assert run(*fetch_argv(store, "AAPL")).code == 0
    # F was never fetched: no consensus, no price. Alone it is nothing to show: exit 1, stdout empty.
    alone = run("table", "F", "--store", store, "--format", fmt)
    assert alone.code == 1 and alone.out == ""
    assert alone.err_lines == [
        "ratings: F: the local store has no analyst consensus and no price for it",
        "ratings: nothing to show: no data for F in the local store (fetch them with `ratings fetch TICKER...`)",
    ]
    # Beside a ticker with data it is named, and the rest is shown.
    mixed = run("table", "AAPL", "F", "--store", store, "--format", fmt)
    assert mixed.code == 0 and "AAPL" in mixed.out
    assert mixed.err_lines == ["ratings: F: the local store has no analyst consensus and no price for it"]


@pytest.mark.parametrize(("kind", "status"), [("status", 429), ("malformed", 0), ("network", 0)])
def test_a_failed_fetch_loses_no_earlier_snapshot(
    fake: FakeYahoo, wall: VirtualClock, store: Path, run: Callable[..., Run], kind: Any, status: int
) -> None:
    assert run(*fetch_argv(store, "AAPL", "GOOG")).code == 0
    with Store.open(store) as opened:
        kept = {name: getattr(opened, name)() for name in ("snapshots", "history", "trend", "upgrades", "prices")}
    first_table = run("table", "AAPL", "GOOG", "--source", "store", "--store", store, "--format", "json")

    for symbol in ("AAPL", "GOOG"):
        fake.fail(symbol, kind, status=status or 429)
    wall.now = DAY_2025 + timedelta(days=1)
    again = run(*fetch_argv(store, "AAPL", "GOOG", extra=("--force",)))
    assert again.code == 1
    assert again.err_lines[-1] == "ratings: nothing was fetched: every ticker failed (the store keeps what it had)"

    with Store.open(store) as opened:
        for name, frame in kept.items():
            pd.testing.assert_frame_equal(getattr(opened, name)(), frame)
        newest, _ = opened.fetch_log()
    assert newest.failed == 2
    # The table still shows the first fetch's numbers, with the failed refresh named on stderr.
    later_table = run("table", "AAPL", "GOOG", "--source", "store", "--store", store, "--format", "json")
    assert later_table.code == 0 and parse_json(later_table.out) == parse_json(first_table.out)
    (note,) = [line for line in later_table.err_lines if "The last fetch" in line]
    assert "failed for 2 of 2 tickers" in note
    # Reasons grouped: each ticker named once, after its reason.
    assert note.count("AAPL") == 1 and note.count("GOOG") == 1
    if kind == "status":
        assert "rate limited by Yahoo (HTTP 429) after 4 attempts (AAPL, GOOG)" in note
    for record in parse_json(later_table.out):
        financial = module(record["ticker"], "financialData")
        assert record["target_mean"] == pytest.approx(financial["targetMeanPrice"])


@pytest.mark.parametrize(("kind", "status"), [("status", 429), ("status", 503), ("truncated", 0)])
def test_when_every_ticker_fails_the_exit_code_is_one(
    fake: FakeYahoo, wall: VirtualClock, store: Path, run: Callable[..., Run], kind: Any, status: int
) -> None:
    for symbol in ("AAPL", "AMZN"):
        fake.fail(symbol, kind, status=status or 429)
    result = run(*fetch_argv(store, "AAPL", "AMZN"))
    assert result.code == 1
    assert result.out_lines == [f"0 fetched, 0 without analyst coverage, 2 failed. Nothing stored in {store} "
                                "(the attempt is in its fetch log)."]  # fmt: skip
    with Store.open(store, create=False) as opened:
        assert opened.snapshots().empty
        (entry,) = opened.fetch_log()
    for symbol in ("AAPL", "AMZN"):
        assert f"ratings: {symbol}: failed: {entry.reasons[symbol]}" in result.err_lines
    assert "Traceback" not in result.err


def test_an_answer_without_coverage_is_not_a_failure(
    fake: FakeYahoo, wall: VirtualClock, store: Path, run: Callable[..., Run]
) -> None:
    fake.no_fundamentals("SPY")
    result = run(*fetch_argv(store, "SPY"))
    assert result.code == 0
    assert result.out_lines[-1].startswith("0 fetched, 1 without analyst coverage, 0 failed.")


# ---------------------------------------------------------------------------------------------
# Bad store files: one line, exit 2, the file untouched, Yahoo never asked


def _not_sqlite(path: Path) -> None:
    path.write_text("ticker,target\nAAPL,250\n")


def _foreign_sqlite(path: Path) -> None:
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("CREATE TABLE recipes (name TEXT)")
        conn.execute("INSERT INTO recipes VALUES ('bread')")
    conn.close()


def _truncated_sqlite(path: Path) -> None:
    _foreign_sqlite(path)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("CREATE TABLE filler (x BLOB)")
        conn.executemany("INSERT INTO filler VALUES (?)", [(b"x" * 3000,) for _ in range(20)])
    conn.close()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 5000])


STORE_COMMANDS = [
    ["fetch", "AAPL", "--rate", "0"],
    ["table", "AAPL", "--source", "store"],
    ["table", "AAPL", "--source", "live", "--rate", "0"],
    ["history", "AAPL", "--source", "store"],
    ["changes", "AAPL", "--source", "store"],
]


@pytest.mark.parametrize("spoil", [_not_sqlite, _foreign_sqlite, _truncated_sqlite])
@pytest.mark.parametrize("argv", STORE_COMMANDS, ids=[" ".join(a[:3]) for a in STORE_COMMANDS])
def test_a_store_that_is_not_ours_is_refused_untouched(
    fake: FakeYahoo,
    wall: VirtualClock,
    tmp_path: Path,
    run: Callable[..., Run],
    spoil: Callable[[Path], None],
    argv: list[str],
) -> None:
    path = tmp_path / "not-a-store.sqlite"
    spoil(path)
    before = path.read_bytes()
    result = run(*argv, "--store", path)
    assert result.code == 2
    assert result.out == ""
    assert len(result.err_lines) == 1 and result.err_lines[0].startswith("ratings: ")
    assert str(path) in result.err_lines[0] and "Traceback" not in result.err
    assert path.read_bytes() == before
    assert fake.log == []


@pytest.mark.parametrize("command", ["table", "history", "changes"])
def test_reading_a_store_that_does_not_exist_says_to_fetch_first(
    tmp_path: Path, run: Callable[..., Run], command: str
) -> None:
    path = tmp_path / "nowhere.sqlite"
    result = run(command, "AAPL", "--source", "store", "--store", path)
    assert result.code == 1 and result.out == ""
    assert result.err_lines == [f"ratings: no store at {path}: run `ratings fetch TICKER...` first"]
    assert not path.exists()


def test_the_default_store_follows_the_environment(
    fake: FakeYahoo, wall: VirtualClock, tmp_path: Path, run: Callable[..., Run]
) -> None:
    result = run("fetch", "AAPL", "--rate", "0")
    assert result.code == 0
    default = tmp_path / "default-store.sqlite"
    assert str(default) in result.out_lines[-1]
    with Store.open(default, create=False) as opened:
        assert opened.latest()["ticker"].tolist() == ["AAPL"]


# ---------------------------------------------------------------------------------------------
# Tickers and options


def test_malformed_symbols_are_named_and_the_rest_fetched(
    fake: FakeYahoo, wall: VirtualClock, store: Path, run: Callable[..., Run]
) -> None:
    result = run(*fetch_argv(store, "AAPL", "$AAPL", "aapl"))
    assert result.code == 0
    assert result.err_lines[0] == f"ratings: $AAPL: {NOT_A_SYMBOL}"
    assert [line.split()[0] for line in result.out_lines[:-1]] == ["AAPL"]  # 'aapl' is the same ticker


def test_no_usable_symbol_fetches_nothing_and_creates_no_store(
    fake: FakeYahoo, wall: VirtualClock, store: Path, run: Callable[..., Run]
) -> None:
    result = run(*fetch_argv(store, "$AAPL", "WAY-TOO-LONG-SYMBOL"))
    assert result.code == 1
    assert result.err_lines[-1] == "ratings: no ticker to fetch"
    assert not store.exists() and fake.log == []


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ([], {}),
        (["--workers", "8"], {"max_workers": 8}),
        (["--rate", "0"], {"requests_per_second": None}),
        (["--rate", "0.5"], {"requests_per_second": 0.5}),
        (["--budget", "30"], {"budget_s": 30.0}),
        (
            ["--workers", "2", "--rate", "3", "--budget", "9.5"],
            {"max_workers": 2, "requests_per_second": 3.0, "budget_s": 9.5},
        ),
    ],
)
def test_fetch_options_reach_the_live_loader(
    fake: FakeYahoo,
    wall: VirtualClock,
    store: Path,
    run: Callable[..., Run],
    options: list[str],
    expected: dict[str, Any],
) -> None:
    result = run("fetch", "AAPL", "--store", store, *options)
    assert result.code == 0, result.err
    (config,) = wall.configs
    assert config is not None
    # The documented defaults (README: 4 tickers at once, 2 requests/s, a 120 s budget), spelled out.
    defaults = {"max_workers": 4, "requests_per_second": 2.0, "budget_s": 120.0}
    for name, default in defaults.items():
        assert getattr(config, name) == expected.get(name, default), name


@pytest.mark.parametrize(
    "argv",
    [
        ["fetch"],
        ["fetch", "AAPL", "--workers", "0"],
        ["fetch", "AAPL", "--workers", "two"],
        ["fetch", "AAPL", "--rate", "-1"],
        ["fetch", "AAPL", "--rate", "nan"],
        ["fetch", "AAPL", "--budget", "0"],
        ["fetch", "AAPL", "--budget", "inf"],
        ["history"],
        ["history", "F", "TSLA"],
        ["history", "F", "--format", "xml"],
        ["changes", "F", "--since", "yesterday"],
        ["changes", "F", "--since", "2026-02-30"],
        ["table", "F", "--source", "cloud"],
    ],
)
def test_usage_errors_exit_two(fake: FakeYahoo, run: Callable[..., Run], argv: list[str]) -> None:
    result = run(*argv)
    assert result.code == 2 and "usage:" in result.err and result.out == ""
    assert fake.log == []


@pytest.mark.parametrize("command", ["fetch", "history", "changes"])
def test_help_exits_zero(run: Callable[..., Run], command: str) -> None:
    result = run(command, "--help")
    assert result.code == 0 and result.out.startswith("usage:")
    assert "--store" in result.out


# ---------------------------------------------------------------------------------------------
# The result cache and --force, on the command line


def test_a_second_fetch_the_same_day_comes_from_the_cache_unless_forced(
    fake: FakeYahoo, wall: VirtualClock, store: Path, run: Callable[..., Run]
) -> None:
    run(*fetch_argv(store, "AAPL"))
    fake.reset_log()
    wall.now = DAY_2025 + timedelta(minutes=2)
    cached = run(*fetch_argv(store, "AAPL"))
    assert cached.code == 0 and fake.log == []
    assert f"(from the cache: fetched {DAY_2025.strftime(STAMP)})" in cached.out_lines[0]
    assert cached.out_lines[-1].endswith(f"Stored 0 new snapshots in {store} (1 already there).")
    assert "AAPL fetched (cached)" in cached.err

    forced = run(*fetch_argv(store, "AAPL", extra=("--force",)))
    assert forced.code == 0 and fake.count("quoteSummary", symbol="AAPL") > 0
    assert forced.out_lines[-1].endswith(f"Stored 1 new snapshot in {store}.")
    with Store.open(store) as opened:
        assert opened.snapshots()["observed_at"].tolist() == [
            DAY_2025.strftime(STAMP),
            (DAY_2025 + timedelta(minutes=2)).strftime(STAMP),
        ]


# ---------------------------------------------------------------------------------------------
# --source live


def test_table_from_live_fetches_then_prints_only_data_on_stdout(
    fake: FakeYahoo, wall: VirtualClock, store: Path, run: Callable[..., Run]
) -> None:
    result = run("table", "AAPL", "GOOG", "--source", "live", "--store", store, "--rate", "0", "--format", "csv")
    assert result.code == 0, result.err
    records = parse_csv(result.out)
    assert [r["ticker"] for r in records] == ["AAPL", "GOOG"]
    for record in records:
        financial = module(str(record["ticker"]), "financialData")
        assert number(record["target_mean"]) == pytest.approx(financial["targetMeanPrice"])
        assert number(record["upside_mean"]) == pytest.approx(
            financial["targetMeanPrice"] / financial["currentPrice"] - 1
        )
    # Progress and the fetch summary went to stderr, each line a `ratings:` message.
    assert all(line.startswith("ratings: ") for line in result.err_lines)
    assert any(
        line.startswith("ratings: 2 fetched, 0 without analyst coverage, 0 failed.") for line in result.err_lines
    )


def test_live_keeps_showing_the_store_when_the_refresh_fails(
    fake: FakeYahoo, wall: VirtualClock, store: Path, run: Callable[..., Run]
) -> None:
    run(*fetch_argv(store, "AAPL"))
    fake.fail("AAPL", "status", status=429)
    wall.now = DAY_2025 + timedelta(days=1)
    result = run("table", "AAPL", "--source", "live", "--store", store, "--rate", "0", "--force", "--format", "json")
    assert result.code == 0
    (record,) = parse_json(result.out)
    assert record["as_of"] == DAY_2025.date().isoformat()  # the last good snapshot
    assert record["target_mean"] == pytest.approx(module("AAPL", "financialData")["targetMeanPrice"])
    assert "ratings: warning: nothing could be fetched; showing what the store already holds" in result.err_lines


# ---------------------------------------------------------------------------------------------
# Two days: history and changes


@pytest.fixture
def two_days(fake: FakeYahoo, wall: VirtualClock, store: Path, run: Callable[..., Run]) -> Path:
    """AAPL fetched on 2021-02-01, GOOG on 2021-02-15 (their 2021 recordings), both on 2025-02-24."""
    for symbol, day in (("AAPL", AAPL_2021), ("GOOG", GOOG_2021)):
        wall.now = day
        fake.recorded_in("2021", symbol)
        assert run(*fetch_argv(store, symbol)).code == 0
    wall.now = DAY_2025
    for symbol in ("AAPL", "GOOG"):
        fake.recorded_in("2025", symbol)
    second = run(*fetch_argv(store, "AAPL", "GOOG"))
    assert second.code == 0 and "(from the cache" not in second.out  # four years later: asked again
    return store


@pytest.mark.parametrize("fmt", ["csv", "json"])
@pytest.mark.parametrize(("symbol", "first_day"), [("AAPL", AAPL_2021), ("GOOG", GOOG_2021)])
def test_history_shows_both_days_with_their_recorded_values(
    two_days: Path, run: Callable[..., Run], fmt: str, symbol: str, first_day: datetime
) -> None:
    result = run("history", symbol, "--source", "store", "--store", two_days, "--format", fmt)
    assert result.code == 0, result.err
    rows = parse_json(result.out) if fmt == "json" else parse_csv(result.out)
    if fmt == "csv":
        assert next(csv.reader(io.StringIO(result.out))) == list(cli.HISTORY_COLUMNS)
    else:
        assert all(list(r) == list(cli.HISTORY_COLUMNS) for r in rows)
    assert [r["as_of"] for r in rows] == [first_day.date().isoformat(), DAY_2025.date().isoformat()]
    assert [r["observed_at"] for r in rows] == [first_day.strftime(STAMP), DAY_2025.strftime(STAMP)]
    for row, year in zip(rows, ("2021", "2025"), strict=True):
        financial = module(symbol, "financialData", year)
        assert row["ticker"] == symbol and row["source"] == "Yahoo Finance"
        assert number(row["target_mean"]) == pytest.approx(financial["targetMeanPrice"])
        assert number(row["target_low"]) == pytest.approx(financial["targetLowPrice"])
        assert number(row["target_high"]) == pytest.approx(financial["targetHighPrice"])
        assert number(row["price"]) == pytest.approx(financial["currentPrice"])
        assert number(row["rating_mean"]) == pytest.approx(financial["recommendationMean"])
        assert row["consensus"] == label(financial["recommendationMean"])
        assert int(row["n_analysts"]) == financial["numberOfAnalystOpinions"]
        assert {c: int(row[c]) for c in COUNT_COLUMNS} == current_counts(symbol, year)
        assert number(row["upside_mean"]) == pytest.approx(financial["targetMeanPrice"] / financial["currentPrice"] - 1)
    # 2021 has no recorded quote or chart: the currency stays unknown (null), never guessed.
    assert rows[0]["currency"] is None and rows[1]["currency"] == quote_currency(symbol)


@pytest.mark.parametrize(
    "argv",
    [["history", "AAPL", "--format", "csv"], ["table", "AAPL", "--format", "csv"], ["changes", "AAPL", "GOOG"]],
    ids=["history", "table", "changes"],
)
def test_a_store_named_on_the_command_line_is_read_without_source_store(
    two_days: Path, run: Callable[..., Run], argv: list[str]
) -> None:
    implied = run(*argv, "--store", two_days)
    explicit = run(*argv, "--source", "store", "--store", two_days)
    assert implied.code == explicit.code == 0, implied.err
    assert implied.out == explicit.out and "AAPL" in implied.out
    # Without --store the bundle is read, and it has no AAPL.
    bundled = run(*argv)
    assert bundled.out != implied.out


def test_history_for_people_has_one_line_per_snapshot(two_days: Path, run: Callable[..., Run]) -> None:
    result = run("history", "AAPL", "--source", "store", "--store", two_days)
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0].split()[:2] == ["As", "of"] and set(lines[1]) <= {"-", " "}
    body = lines[2 : lines.index("")]
    assert [line.split()[0] for line in body] == ["2021-02-01", "2025-02-24"]
    assert lines[-1].startswith("Upside = mean target / price - 1.")


def test_changes_list_what_moved_between_the_two_days(two_days: Path, run: Callable[..., Run]) -> None:
    result = run("changes", "AAPL", "GOOG", "--source", "store", "--store", two_days, "--format", "json")
    assert result.code == 0, result.err
    rows = parse_json(result.out)
    assert all(list(r) == CHANGES.names for r in rows)

    consensus = {(r["ticker"], r["kind"]): r for r in rows if r["firm"] is None}
    for symbol, first_day in (("AAPL", AAPL_2021), ("GOOG", GOOG_2021)):
        old, new = module(symbol, "financialData", "2021"), module(symbol, "financialData")
        before, after = old["targetMeanPrice"], new["targetMeanPrice"]
        kind = "target raise" if after > before else "target cut"
        move = consensus[(symbol, kind)]
        assert move["change"] == pytest.approx(after / before - 1)
        assert move["before"] == money(before, None)  # 2021: currency unknown (no quote recorded)
        assert move["after"] == money(after, quote_currency(symbol))
        assert move["date"] == DAY_2025.date().isoformat() and move["since"] == first_day.strftime(STAMP)
        old_label, new_label = label(old["recommendationMean"]), label(new["recommendationMean"])
        if old_label != new_label:
            assert (consensus[(symbol, "label")]["before"], consensus[(symbol, "label")]["after"]) == (
                old_label,
                new_label,
            )
        else:
            assert (symbol, "label") not in consensus
    # GOOG went from 1.5 (Strong Buy, the band's upper bound) to 1.6 (Buy): one real label change.
    assert (consensus[("GOOG", "label")]["before"], consensus[("GOOG", "label")]["after"]) == ("Strong Buy", "Buy")

    # Every analyst's upgrade, downgrade and initiation graded between the two fetches, and nothing else.
    actions = {
        (r["ticker"], r["date"], r["kind"], r["firm"], r["before"], r["after"]) for r in rows if r["firm"] is not None
    }
    expected = graded_actions("AAPL", AAPL_2021) | graded_actions("GOOG", GOOG_2021)
    assert actions == expected and len(expected) > 10
    assert [r["date"] for r in rows] == sorted((r["date"] for r in rows), reverse=True)


def test_the_changes_module_agrees_with_the_command(two_days: Path, run: Callable[..., Run]) -> None:
    dataset = load("store", store_path=two_days)
    frame = changes(dataset.history, dataset.upgrades, ["AAPL", "GOOG"])
    shown = parse_json(run("changes", "AAPL", "GOOG", "--source", "store", "--store", two_days, "--format", "json").out)
    assert len(shown) == len(frame)
    assert [r["kind"] for r in shown] == frame["kind"].tolist()


@pytest.mark.parametrize(
    ("since", "tickers"),
    [
        ("2021-02-01", {"AAPL"}),  # GOOG's first snapshot is later: no baseline for it
        ("2021-02-15", {"AAPL", "GOOG"}),
        ("2025-02-23", {"AAPL", "GOOG"}),
        ("2025-02-24", set()),  # the latest snapshots themselves: nothing newer
    ],
)
def test_changes_since_a_day(two_days: Path, run: Callable[..., Run], since: str, tickers: set[str]) -> None:
    result = run(
        "changes", "AAPL", "GOOG", "--source", "store", "--store", two_days, "--since", since, "--format", "csv"
    )
    assert result.code == 0
    rows = parse_csv(result.out)
    assert {r["ticker"] for r in rows} == tickers
    assert next(csv.reader(io.StringIO(result.out))) == CHANGES.names


def test_nothing_moved_is_said_on_stderr(two_days: Path, run: Callable[..., Run]) -> None:
    result = run("changes", "AAPL", "--source", "store", "--store", two_days, "--since", "2025-02-24")
    assert result.code == 0 and result.out == ""
    assert result.err_lines == ["ratings: nothing moved since 2025-02-24"]


def test_changes_for_people(two_days: Path, run: Callable[..., Run]) -> None:
    result = run("changes", "GOOG", "--source", "store", "--store", two_days)
    assert result.code == 0
    header, _rule, *body = result.out.splitlines()
    assert header.split() == ["Date", "Ticker", "Change", "Source", "Firm", "Before", "After", "Move", "Since"]
    assert any(" label change " in line and "Strong Buy" in line for line in body)


def test_one_snapshot_is_named_as_nothing_to_compare(
    fake: FakeYahoo, wall: VirtualClock, store: Path, run: Callable[..., Run]
) -> None:
    run(*fetch_argv(store, "AAPL"))
    result = run("changes", "AAPL", "--source", "store", "--store", store, "--format", "json")
    # Nothing could be compared: said, and exit 1 (a comparison that found no move exits 0).
    assert result.code == 1 and result.out == ""
    assert result.err_lines == [
        "ratings: AAPL: one snapshot only, nothing to compare it with yet",
        "ratings: nothing to compare: no ticker has a snapshot to compare with",
    ]


def test_since_before_the_first_snapshot_is_named_not_reported_as_no_move(run: Callable[..., Run]) -> None:
    first = load_bundle().history_for("F")["as_of"].min()
    result = run("changes", "F", "--since", "1900-01-01")
    assert result.code == 1 and result.out == ""
    assert result.err_lines == [
        f"ratings: F: no snapshot on or before 1900-01-01 (the first is of {first})",
        "ratings: nothing to compare: no ticker has a snapshot to compare with",
    ]


def test_history_names_the_tickers_it_does_not_show(run: Callable[..., Run]) -> None:
    result = run("history", "F,TSLA", "--format", "csv")
    assert result.code == 0 and {r["ticker"] for r in parse_csv(result.out)} == {"F"}
    assert result.err_lines == ["ratings: history shows one ticker at a time: showing F, not TSLA"]


def test_changes_csv_cannot_carry_formulas(
    fake: FakeYahoo, wall: VirtualClock, store: Path, run: Callable[..., Run]
) -> None:
    # Test input, not market data: AAPL's 2025 responses under EVIL, plus one action whose texts
    # are spreadsheet formulas, graded between the two fetches.
    fake.serve_as("EVIL", "AAPL")
    wall.now = datetime(2025, 2, 5, tzinfo=UTC)
    run(*fetch_argv(store, "EVIL"))
    hostile: dict[str, Any] = {
        "epochGradeDate": int(datetime(2025, 2, 10, tzinfo=UTC).timestamp()),
        "firm": '=HYPERLINK("http://example.invalid","x")',
        "toGrade": "@SUM(A1)",
        "fromGrade": "-1+1",
        "action": "up",
    }
    fake.symbols["EVIL"].modules["upgradeDowngradeHistory"]["history"].insert(0, hostile)
    wall.now = DAY_2025
    run(*fetch_argv(store, "EVIL"))
    result = run("changes", "EVIL", "--source", "store", "--store", store, "--format", "csv")
    (row,) = [r for r in parse_csv(result.out) if r["kind"] == "upgrade"]
    assert row["firm"] == "'" + hostile["firm"]
    assert (row["before"], row["after"]) == ("'" + hostile["fromGrade"], "'" + hostile["toGrade"])
    for record in parse_csv(result.out):
        for value in record.values():
            assert value is None or not value.startswith(FORMULA_STARTS)
    as_json = parse_json(run("changes", "EVIL", "--source", "store", "--store", store, "--format", "json").out)
    assert [r["firm"] for r in as_json if r["kind"] == "upgrade"] == [hostile["firm"]]  # JSON keeps the text


# ---------------------------------------------------------------------------------------------
# history and changes on the bundle


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_history_of_the_bundle(run: Callable[..., Run], fmt: str) -> None:
    bundle = load_bundle()
    result = run("history", "F", "--format", fmt)
    assert result.code == 0, result.err
    rows = parse_json(result.out) if fmt == "json" else parse_csv(result.out)
    expected = bundle.history_for("F").sort_values("observed_at")
    assert [r["as_of"] for r in rows] == expected["as_of"].tolist()
    assert [number(r["target_mean"]) for r in rows] == pytest.approx(expected["target_mean"].tolist())
    assert [number(r["price"]) for r in rows] == pytest.approx(expected["price"].tolist())
    for row in rows:  # the bundle has no Strong Buy..Strong Sell counts for F's history: unknown, not 0
        assert all(row[c] is None for c in COUNT_COLUMNS)


def test_history_of_a_bundled_ticker_without_one(run: Callable[..., Run]) -> None:
    have = sorted(set(load_bundle().history["ticker"]))
    assert len(have) > 12  # 18 tickers: the message names the first 12
    result = run("history", "1810.HK")
    assert result.code == 1 and result.out == ""
    assert result.err_lines == [
        f"ratings: 1810.HK: no history in the bundled snapshot (it has history for {', '.join(have[:12])}…)"
    ]


def test_history_prices_a_snapshot_without_a_price_from_a_recent_close(run: Callable[..., Run]) -> None:
    bundle = load_bundle()
    rows = parse_json(run("history", "TSLA", "--format", "json").out)
    closes = bundle.prices_for("TSLA").dropna(subset=["close"]).sort_values("date")
    snapshots = bundle.history_for("TSLA")
    unpriced = set(snapshots.loc[snapshots["price"].isna(), "as_of"])
    assert unpriced  # the later TSLA snapshots quote no price
    stale = 0
    for row in rows:
        if row["as_of"] in unpriced:
            day = pd.Timestamp(row["as_of"])
            usable = closes[(closes["date"] <= day) & (closes["date"] >= day - HISTORY_CLOSE_MAX_AGE)]
            if usable.empty:  # no close within a week before: no price, no upside (as on the chart)
                assert row["price"] is None and row["price_as_of"] is None and row["upside_mean"] is None
                stale += 1
                continue
            last = usable.iloc[-1]
            assert row["price_source"] == "close"
            assert row["price"] == pytest.approx(last["close"])
            assert row["price_as_of"] == last["date"].strftime("%Y-%m-%d")
            assert row["upside_mean"] == pytest.approx(row["target_mean"] / last["close"] - 1)
        else:
            assert row["price_source"] == "source"
    assert stale, "the bundle's TSLA closes end 2026-07-02; its August snapshots have none within a week"


def test_changes_of_the_bundle_since_june_29(run: Callable[..., Run]) -> None:
    result = run("changes", "F", "TSLA", "1810.HK", "--since", "2026-06-29", "--format", "json")
    assert result.code == 0
    rows = {r["ticker"]: r for r in parse_json(result.out)}
    assert (rows["F"]["kind"], rows["TSLA"]["kind"]) == ("target raise", "target cut")
    # Machine output carries the numbers and their unit, beside the text for people.
    assert (rows["F"]["target_before"], rows["F"]["target_after"], rows["F"]["currency"]) == (14.851, 14.901, "USD")
    assert rows["F"]["change"] == pytest.approx(14.901 / 14.851 - 1)
    assert rows["TSLA"]["change"] == pytest.approx(397.87274 / 421.1561 - 1)
    assert "ratings: 1810.HK: no snapshot in the data, nothing to compare" in result.err_lines


# ---------------------------------------------------------------------------------------------
# The progress bar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def screen(text: str) -> list[str]:
    """What a terminal shows after `text`: '\\r' returns to the line's start and overwrites."""
    lines: list[str] = []
    for raw in text.split("\n"):
        shown = ""
        for part in raw.split("\r"):
            shown = part + shown[len(part) :]
        lines.append(shown)
    return lines


RESULTS = [
    LiveResult("BRK-B", "ok"),
    LiveResult("X", "failed", "rate limited"),
    LiveResult("SPY", "no_coverage", "no analyst coverage", from_cache=True),
    LiveResult("A", "ok"),
]


@pytest.mark.parametrize("count", [1, 2, 3, 4])
def test_the_progress_bar_redraws_one_line_on_a_terminal(count: int) -> None:
    terminal = Terminal()
    progress = cli.Progress(terminal, width=10)
    assert progress.tty
    progress.start(count)
    for done, result in enumerate(RESULTS[:count], start=1):
        progress(done, count, result)
    progress.close()
    text = terminal.getvalue()
    assert text.endswith("\n") and text.count("\n") == 1
    last = RESULTS[count - 1]
    status = {"ok": "fetched", "failed": "failed", "no_coverage": "no analyst coverage"}[last.status]
    expected = f"[{'#' * 10}] {count}/{count} {last.ticker} {status}" + (" (cached)" if last.from_cache else "")
    assert screen(text)[0].rstrip() == expected  # the longer earlier frames left nothing behind
    frames = text.rstrip("\n").split("\r")[1:]
    filled = [frame.count("#") for frame in frames]
    assert filled == sorted(filled) and filled[0] == 0 and len(frames) == count + 1


def test_the_progress_is_one_line_per_ticker_elsewhere() -> None:
    log = io.StringIO()
    progress = cli.Progress(log)
    assert not progress.tty
    progress.start(len(RESULTS))
    for done, result in enumerate(RESULTS, start=1):
        progress(done, len(RESULTS), result)
    progress.close()
    assert log.getvalue().splitlines() == [
        "ratings: 1/4 BRK-B fetched",
        "ratings: 2/4 X failed",
        "ratings: 3/4 SPY no analyst coverage (cached)",
        "ratings: 4/4 A fetched",
    ]


# ---------------------------------------------------------------------------------------------
# The same commands on a PostgreSQL store (a server this module starts: tests/postgres.py)


def test_fetch_table_and_history_on_a_postgresql_store(
    fake: FakeYahoo, wall: VirtualClock, pg_server: PostgresServer, run: Callable[..., Run]
) -> None:
    url = pg_server.database()
    fetched = run(*fetch_argv(url, "AAPL", "GOOG"))
    assert fetched.code == 0, fetched.err
    assert fetched.out_lines[-1].endswith(f"Stored 2 new snapshots in {url}.")
    shown = run("table", "AAPL", "GOOG", "--store", url, "--format", "csv")  # --store alone reads the store
    assert shown.code == 0, shown.err
    rows = {r["ticker"]: r for r in parse_csv(shown.out)}
    for symbol in ("AAPL", "GOOG"):
        assert number(rows[symbol]["target_mean"]) == pytest.approx(module(symbol, "financialData")["targetMeanPrice"])
    history = run("history", "AAPL", "--store", url, "--format", "json")
    assert history.code == 0 and [r["as_of"] for r in parse_json(history.out)] == [DAY_2025.date().isoformat()]


def test_an_empty_postgresql_database_says_to_fetch_first_and_a_foreign_one_is_refused_untouched(
    fake: FakeYahoo, pg_server: PostgresServer, run: Callable[..., Run]
) -> None:
    empty = pg_server.database()
    result = run("table", "AAPL", "--store", empty)
    assert result.code == 1 and result.err_lines == [
        f"ratings: no store at {empty}: run `ratings fetch TICKER...` first"
    ]
    foreign = pg_server.database()
    with pg_server.admin(foreign.rsplit("/", 1)[1]) as conn:
        conn.execute("CREATE TABLE recipes (name text)")
        conn.execute("INSERT INTO recipes VALUES ('bread')")
    for argv in (["table", "AAPL", "--store", foreign], fetch_argv(foreign, "AAPL")):
        refused = run(*argv)
        assert refused.code == 2 and "not an analyst-ratings store" in refused.err and refused.out == ""
    assert fake.log == []
    with pg_server.admin(foreign.rsplit("/", 1)[1]) as conn:
        assert conn.execute("SELECT * FROM recipes").fetchall() == [("bread",)]
        assert conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone() == (1,)
