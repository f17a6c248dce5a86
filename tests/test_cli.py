"""The ``ratings`` command line: formats, the CSV contract, errors on stderr, exports, the dashboard launcher.

Most tests call :func:`ratings.cli.main` in-process (fast); one runs the installed console script.
Expected values come from the bundle itself (``load_bundle()``), except the issue's documented
acceptance figures for Ford.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import runpy
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from helpers import Run, number, parse_json

from ratings import bundle as bundle_module
from ratings import cli, export, paths, sources
from ratings.cli import commands
from ratings.core import primary_rows
from ratings.dataset import Dataset
from ratings.formatting import dataset_warnings, money, percent
from ratings.schema import CONSENSUS, CONSENSUS_HISTORY, CSV_COLUMNS, PRICES, UNIVERSE, FetchLogEntry, conform
from ratings.tickers import WATCHLIST

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def parse_csv(text: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    return list(reader)


def csv_header(text: str) -> list[str]:
    return next(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


def rows_of(fmt: str, text: str) -> list[dict[str, Any]]:
    """CSV or JSON output as records with None for unknown (CSV's empty cell)."""
    if fmt == "json":
        return parse_json(text)
    return [{k: (v if v != "" else None) for k, v in row.items()} for row in parse_csv(text)]


@pytest.fixture(autouse=True)
def shared_bundle(monkeypatch: pytest.MonkeyPatch, bundle: Dataset) -> None:
    """Load the bundle once per session rather than once per command (the CLI never mutates it).

    Reading from disk is still covered: by test_load_dataset_reads_the_bundle_by_default,
    test_missing_data_is_a_message_not_a_traceback and the console-script run.
    """
    serve_bundle(monkeypatch, bundle)


def serve_bundle(monkeypatch: pytest.MonkeyPatch, dataset: Dataset) -> None:
    """Make `dataset` what the bundle's loader returns (the command line reads the bundle through it)."""
    monkeypatch.setitem(sources.LOADERS, "bundle", lambda *_: dataset)


@pytest.fixture(scope="module")
def no_consensus(bundle: Dataset) -> list[str]:
    """Watchlist tickers the bundle has no consensus row for (the Hong Kong listings and BYDDF)."""
    covered = set(bundle.consensus["ticker"])
    return [t for t in WATCHLIST if t not in covered]


def latest_close(bundle: Dataset, ticker: str) -> tuple[float, str]:
    closes = bundle.prices_for(ticker).dropna(subset=["close"]).sort_values("date")
    last = closes.iloc[-1]
    return float(last["close"]), last["date"].strftime("%Y-%m-%d")


def tiny_dataset(
    source: str = "Yahoo Finance", name: str = "Test Corp", last_fetch: FetchLogEntry | None = None
) -> Dataset:
    """A dataset built in code: one ticker, one consensus row, one close."""
    consensus = conform(
        pd.DataFrame(
            {
                "ticker": ["TEST"],
                "source": [source],
                "as_of": ["2026-01-02"],
                "currency": ["USD"],
                "price": [10.0],
                "price_as_of": ["2026-01-02"],
                "target_mean": [12.0],
                "target_low": [8.0],
                "target_high": [15.0],
                "n_analysts": [5],
                "rating_mean": [2.0],
                "source_id": ["test-source"],
            }
        ),
        CONSENSUS,
    )
    prices = conform(
        pd.DataFrame(
            {
                "ticker": ["TEST"],
                "date": [pd.Timestamp("2026-01-02")],
                "close": [10.0],
                "currency": ["USD"],
                "source_id": ["test-prices"],
            }
        ),
        PRICES,
    )
    universe = conform(pd.DataFrame({"ticker": ["TEST"], "name": [name]}), UNIVERSE)
    return Dataset(
        consensus=consensus,
        history=CONSENSUS_HISTORY.empty(),
        prices=prices,
        universe=universe,
        sources={"test-source": {"provider": source, "as_of": "2026-01-02"}},
        kind="bundle" if last_fetch is None else "store",
        last_fetch=last_fetch,
    )


# ------------------------------------------------------------------------------------ table


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
@pytest.mark.parametrize("tickers", [["F"], ["F", "TSLA"], ["NVDA", "F", "1810.HK"]])
def test_table_lists_every_ticker_in_order(
    run: Callable[..., Run], bundle: Dataset, fmt: str, tickers: list[str]
) -> None:
    result = run("table", *tickers, "--format", fmt)
    assert result.code == 0
    expected = bundle.table(tickers)
    if fmt == "table":
        body = result.out.splitlines()[2 : 2 + len(expected)]
        assert [line.split()[0] for line in body] == list(expected["ticker"])
    else:
        rows = rows_of(fmt, result.out)
        assert [r["ticker"] for r in rows] == list(expected["ticker"])
        assert [r["source"] for r in rows] == [None if pd.isna(s) else s for s in expected["source"]]


@pytest.mark.parametrize("extra", [[], ["--primary"]])
@pytest.mark.parametrize("tickers", [["F"], ["1810.HK"], ["PSNY", "TSLA"]])
def test_csv_header_is_the_contract(run: Callable[..., Run], extra: list[str], tickers: list[str]) -> None:
    result = run("table", *tickers, "--format", "csv", *extra)
    assert result.code == 0
    assert csv_header(result.out) == list(CSV_COLUMNS)


@pytest.mark.parametrize("extra", [[], ["--primary"]])
def test_json_keys_are_the_contract_in_order(run: Callable[..., Run], extra: list[str]) -> None:
    result = run("table", "F", "TSLA", "1810.HK", "--format", "json", *extra)
    rows = parse_json(result.out)
    assert rows
    assert all(list(row) == list(CSV_COLUMNS) for row in rows)


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_f_rows_equal_the_bundles_consensus(run: Callable[..., Run], bundle: Dataset, fmt: str) -> None:
    rows = {r["source"]: r for r in rows_of(fmt, run("table", "F", "--format", fmt).out)}
    source_rows = bundle.consensus[bundle.consensus["ticker"] == "F"]
    assert set(rows) == set(source_rows["source"])
    for record in source_rows.to_dict("records"):
        shown = rows[record["source"]]
        assert shown["as_of"] == record["as_of"]
        for column in ("target_mean", "target_low", "target_high"):
            expected = None if pd.isna(record[column]) else pytest.approx(record[column])
            assert number(shown[column]) == expected, column
        for column in ("buy", "hold", "sell"):
            expected_count = None if pd.isna(record[column]) else int(record[column])
            assert (None if shown[column] is None else int(shown[column])) == expected_count, column
        if not pd.isna(record["n_analysts"]):
            assert int(shown["n_analysts"]) == int(record["n_analysts"])
        if pd.isna(record["price"]):  # priced from the latest bundled close, which the row names
            close, close_day = latest_close(bundle, "F")
            assert number(shown["price"]) == pytest.approx(close)
            assert shown["price_as_of"] == close_day
        else:
            assert number(shown["price"]) == pytest.approx(record["price"])
        if shown["target_mean"] is not None:
            assert number(shown["upside_mean"]) == pytest.approx(
                float(shown["target_mean"]) / float(shown["price"]) - 1
            )
        else:
            assert shown["upside_mean"] is None


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_f_acceptance_figures(run: Callable[..., Run], fmt: str) -> None:
    """The issue's reference figures: Yahoo 2026-07-02 and TipRanks for Ford, side by side."""
    rows = {r["source"]: r for r in rows_of(fmt, run("table", "F", "--format", fmt).out)}
    yahoo, tipranks = rows["Yahoo Finance"], rows["TipRanks"]
    assert (yahoo["consensus"], yahoo["as_of"]) == ("Hold", "2026-07-02")
    assert number(yahoo["target_mean"]) == pytest.approx(14.901)
    assert int(yahoo["n_analysts"]) == 20
    assert number(yahoo["price"]) == pytest.approx(13.405)
    assert number(yahoo["upside_mean"]) == pytest.approx(14.901 / 13.405 - 1)
    assert number(yahoo["upside_mean"]) == pytest.approx(0.1116, abs=5e-5)
    assert tipranks["consensus"] == "Hold"
    assert [int(tipranks[c]) for c in ("buy", "hold", "sell")] == [2, 11, 1]
    assert number(tipranks["target_mean"]) == pytest.approx(13.87)


@pytest.mark.parametrize("tickers", [["F"], ["F", "TSLA", "PSNY"], list(WATCHLIST)])
def test_primary_keeps_the_primary_row_of_each_ticker(
    run: Callable[..., Run], bundle: Dataset, tickers: list[str]
) -> None:
    rows = parse_json(run("table", *tickers, "--primary", "--format", "json").out)
    expected = primary_rows(bundle.table(tickers))
    assert [r["ticker"] for r in rows] == tickers
    assert [r["source"] for r in rows] == [None if pd.isna(s) else s for s in expected["source"]]


def test_without_primary_every_source_is_shown_primary_first(run: Callable[..., Run], bundle: Dataset) -> None:
    rows = parse_json(run("table", "F", "TSLA", "--format", "json").out)
    for ticker in ("F", "TSLA"):
        shown = [r["source"] for r in rows if r["ticker"] == ticker]
        in_bundle = bundle.consensus.loc[bundle.consensus["ticker"] == ticker, "source"]
        assert sorted(shown) == sorted(in_bundle)
        primary = primary_rows(bundle.table([ticker]))["source"].iloc[0]
        assert shown[0] == primary


def test_json_has_null_not_nan(run: Callable[..., Run], no_consensus: list[str]) -> None:
    result = run("table", "F", "PSNY", *no_consensus, "--format", "json")
    for token in ("NaN", "Infinity", "<NA>"):
        assert token not in result.out
    rows = parse_json(result.out)
    finviz = [r for r in rows if r["source"] == "finviz"]
    assert finviz and all(r["target_mean"] is None and r["upside_mean"] is None for r in finviz)


def test_csv_leaves_unknown_cells_empty(run: Callable[..., Run]) -> None:
    out = run("table", "PSNY", "--format", "csv").out
    assert "nan" not in out.lower()
    assert "<NA>" not in out
    (row,) = parse_csv(out)
    assert row["target_mean"] == row["upside_mean"] == row["upside_low"] == row["upside_high"] == ""


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_ticker_without_consensus_gets_a_row_and_a_note(
    run: Callable[..., Run], bundle: Dataset, no_consensus: list[str], fmt: str
) -> None:
    assert "1810.HK" in no_consensus  # the example; the bundle must agree
    result = run("table", "F", *no_consensus, "--format", fmt)
    assert result.code == 0
    for ticker in no_consensus:
        notes = [line for line in result.err_lines if ticker in line]
        assert len(notes) == 1
        assert "no analyst consensus" in notes[0]
    assert not any(line.startswith("ratings: F:") for line in result.err_lines)
    if fmt == "table":
        assert "No consensus in the data" in result.out
        return
    rows = {r["ticker"]: r for r in rows_of(fmt, result.out) if r["ticker"] in no_consensus}
    assert set(rows) == set(no_consensus)
    for ticker, row in rows.items():
        assert row["source"] is None and row["consensus"] is None
        assert row["upside_mean"] is None and row["upside_low"] is None and row["upside_high"] is None
        close, close_day = latest_close(bundle, ticker)
        assert number(row["price"]) == pytest.approx(close)
        assert row["price_as_of"] == close_day


def test_terminal_table_is_formatted_for_people(run: Callable[..., Run], bundle: Dataset) -> None:
    result = run("table", "F", "1810.HK")
    table = bundle.table(["F", "1810.HK"])
    yahoo = table[table["source"] == "Yahoo Finance"].iloc[0]
    hk = table[table["ticker"] == "1810.HK"].iloc[0]
    assert percent(yahoo["upside_mean"]) in result.out
    assert "+11.2%" in result.out and "$14.90" in result.out  # the documented figures, spelled out
    assert money(yahoo["target_mean"], yahoo["currency"]) in result.out
    assert money(hk["price"], hk["currency"]) in result.out  # HK$, not $
    header, rule = result.out.splitlines()[:2]
    assert header.split()[0] == "Ticker"
    assert set(rule.replace(" ", "")) == {"-"}


def test_terminal_footer_names_each_source_and_its_date(run: Callable[..., Run], bundle: Dataset) -> None:
    result = run("table", "F")
    footer = result.out.rstrip().splitlines()[-1]
    source_ids = bundle.consensus.loc[bundle.consensus["ticker"] == "F", "source_id"]
    for source_id in source_ids:
        info = bundle.sources[source_id]
        assert info["provider"] in footer
        assert str(info["as_of"]) in footer


# ----------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("bad", "shown", "reason"),
    [
        ("ZZZZ", "ZZZZ", "unknown ticker"),
        ("zzzz", "ZZZZ", "unknown ticker"),
        ("=1+1", "=1+1", "not a ticker symbol"),
        ("<b>", "<b>", "not a ticker symbol"),
        ("", "''", "empty"),
        ("   ", "''", "empty"),
    ],
)
@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_bad_ticker_is_named_on_stderr_and_the_others_still_shown(
    run: Callable[..., Run], bad: str, shown: str, reason: str, fmt: str
) -> None:
    result = run("table", bad, "F", "--format", fmt)
    assert result.code == 0
    assert len(result.err_lines) == 1
    assert result.err_lines[0].startswith(f"ratings: {shown}: ")
    assert reason in result.err_lines[0]
    if fmt != "table":
        rows = rows_of(fmt, result.out)
        assert {r["ticker"] for r in rows} == {"F"}
    if bad.strip():
        assert bad not in result.out


def test_unknown_ticker_message_is_exact(run: Callable[..., Run]) -> None:
    result = run("table", "ZZZZ", "TSLA")
    assert result.err_lines == ["ratings: ZZZZ: unknown ticker: not in the data"]


@pytest.mark.parametrize("bad", [["ZZZZ"], ["=1+1"], ["<b>"], [""], ["ZZZZ", "<b>", "QQQQQQ"]])
@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_no_ticker_left_exits_one_with_nothing_on_stdout(run: Callable[..., Run], bad: list[str], fmt: str) -> None:
    result = run("table", *bad, "--format", fmt)
    assert result.code == 1
    assert result.out == ""
    assert len(result.err_lines) == len(bad) + 1  # one per bad ticker, then "no ticker to show"
    assert all(line.startswith("ratings: ") for line in result.err_lines)


def test_control_characters_in_user_text_are_escaped(run: Callable[..., Run]) -> None:
    result = run("table", "\x1b[31mX", "F")
    assert result.code == 0
    assert "\x1b" not in result.err
    assert "\\x1b" in result.err


@pytest.mark.parametrize("column", ["name", "source"])
def test_control_characters_from_the_data_never_reach_the_terminal(
    run: Callable[..., Run], monkeypatch: pytest.MonkeyPatch, column: str
) -> None:
    hostile = "\x1b]0;owned\x07\x1b[31mEvil"  # a window-title change and a colour, as a data provider might send
    serve_bundle(monkeypatch, tiny_dataset(**{column: hostile}))
    result = run("table", "TEST")
    assert result.code == 0
    assert "\x1b" not in result.out and "\x07" not in result.out
    assert "\\x1b[31mEvil" in result.out  # shown escaped, not dropped


def test_csv_neutralises_formulas_from_the_data(run: Callable[..., Run], monkeypatch: pytest.MonkeyPatch) -> None:
    hostile = '=HYPERLINK("http://example.invalid","x")'
    serve_bundle(monkeypatch, tiny_dataset(source=hostile))
    result = run("table", "TEST", "--format", "csv")
    assert result.code == 0
    (row,) = parse_csv(result.out)
    assert not row["source"].startswith(FORMULA_STARTS)
    assert "HYPERLINK" in row["source"]  # neutralised, not dropped


def test_load_warnings_go_to_stderr_and_stdout_stays_parseable(
    run: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    failed = FetchLogEntry("2026-01-02T10:00:00Z", "2026-01-02T10:01:00Z", ("TEST",), 0, 0, 1, {"TEST": "rate limited"})
    dataset = tiny_dataset(last_fetch=failed)
    serve_bundle(monkeypatch, dataset)
    result = run("table", "TEST", "--format", "json")
    assert result.code == 0
    (warning,) = dataset_warnings(dataset)
    assert "rate limited (TEST)" in warning
    assert result.err_lines == [f"ratings: warning: {warning}"]
    assert [r["ticker"] for r in parse_json(result.out)] == ["TEST"]


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("target_mean", float("nan"), None),
        ("target_mean", float("inf"), None),
        ("target_mean", 14.901, 14.901),
        ("n_analysts", pd.NA, None),
        ("n_analysts", 20, 20),
        ("consensus", pd.NA, None),
        ("consensus", "Hold", "Hold"),
    ],
)
def test_json_records_turn_every_missing_into_null(column: str, value: Any, expected: Any) -> None:
    table = pd.DataFrame({name: [None] for name in CSV_COLUMNS})
    table[column] = pd.Series([value], dtype={"n_analysts": "Int64", "consensus": "string"}.get(column, "float64"))
    (record,) = cli.records(table)
    assert list(record) == list(CSV_COLUMNS)
    assert record[column] == expected
    assert json.loads(cli.json_text(table))[0][column] == expected


def test_python_dash_m_runs_the_same_main(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["ratings", "table", "ZZZZ"])
    with pytest.raises(SystemExit) as exited:
        runpy.run_module("ratings", run_name="__main__")
    assert exited.value.code == 1
    assert "ratings: ZZZZ: unknown ticker" in capsys.readouterr().err


def test_load_dataset_reads_the_bundle_by_default(monkeypatch: pytest.MonkeyPatch, bundle: Dataset) -> None:
    monkeypatch.setitem(sources.LOADERS, "bundle", lambda *_: bundle_module.load_bundle())
    args = cli.build_parser().parse_args(["table", "F"])
    assert cli.chosen_source(args) == "bundle"
    dataset = cli.load_dataset(args)
    assert dataset.known_tickers == bundle.known_tickers


def test_missing_data_is_a_message_not_a_traceback(
    run: Callable[..., Run], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sources.LOADERS, "bundle", lambda *_: bundle_module.load_bundle())
    monkeypatch.setenv(paths.DATA_DIR_ENV, str(tmp_path))
    result = run("table", "F")
    assert result.code == 1
    assert len(result.err_lines) == 1
    assert result.err_lines[0].startswith("ratings: ")
    assert str(tmp_path) in result.err_lines[0]
    assert "Traceback" not in result.err


@pytest.mark.parametrize(
    ("error", "code"),
    [(KeyboardInterrupt(), 130), (RuntimeError("boom"), 1), (PermissionError(13, "Permission denied", "/x"), 2)],
)
def test_failures_become_one_line_and_an_exit_code(
    run: Callable[..., Run], monkeypatch: pytest.MonkeyPatch, error: BaseException, code: int
) -> None:
    def fail(args: object) -> Dataset:
        raise error

    monkeypatch.setattr(commands, "load_dataset", fail)
    result = run("table", "F")
    assert result.code == code
    assert len(result.err_lines) == 1
    assert result.err_lines[0].startswith("ratings: ")
    assert "Traceback" not in result.err
    assert result.out == ""


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["table"],
        ["frobnicate"],
        ["table", "F", "--format", "xml"],
        ["table", "F", "--source", "internet"],
        ["export", "F"],
        ["export", "F", "--out", "x", "--format", "gif"],
        ["dashboard", "--port", "0"],
        ["dashboard", "--port", "http"],
    ],
)
def test_usage_errors_exit_two(run: Callable[..., Run], argv: list[str]) -> None:
    result = run(*argv)
    assert result.code == 2
    assert "usage:" in result.err
    assert result.out == ""


@pytest.mark.parametrize("argv", [["--help"], ["table", "--help"], ["export", "--help"], ["--version"]])
def test_help_and_version_exit_zero(run: Callable[..., Run], argv: list[str]) -> None:
    result = run(*argv)
    assert result.code == 0
    assert result.out.startswith(("usage:", "ratings "))


# ----------------------------------------------------------------------------------- export


def expected_export_names(bundle: Dataset, tickers: list[str], fmt: str) -> set[str]:
    as_of = export.bundle_as_of(bundle.table(tickers))
    if fmt == "csv":
        return {export.export_filename("consensus", tickers, as_of, "csv")}
    return {export.export_filename("upside", tickers, as_of, fmt)} | {
        export.export_filename("price-targets", [t], as_of, fmt) for t in tickers
    }


@pytest.mark.parametrize("tickers", [["F"], ["F", "TSLA", "1810.HK"]])
def test_export_csv_writes_the_contract(
    run: Callable[..., Run], bundle: Dataset, tmp_path: Path, tickers: list[str]
) -> None:
    out = tmp_path / "new" / "folder"  # created on demand
    result = run("export", *tickers, "--out", str(out), "--format", "csv")
    assert result.code == 0
    assert {p.name for p in out.iterdir()} == expected_export_names(bundle, tickers, "csv")
    assert [Path(line) for line in result.out.splitlines()] == list(out.iterdir())
    text = next(out.iterdir()).read_text(encoding="utf-8-sig")
    assert csv_header(text) == list(CSV_COLUMNS)
    assert [r["ticker"] for r in parse_csv(text)] == list(bundle.table(tickers)["ticker"])


@pytest.mark.parametrize("tickers", [["F"], ["TSLA", "1810.HK"]])
def test_export_html_writes_one_chart_per_ticker_and_the_upside_chart(
    run: Callable[..., Run], bundle: Dataset, tmp_path: Path, tickers: list[str]
) -> None:
    result = run("export", *tickers, "--out", str(tmp_path), "--format", "html")
    assert result.code == 0, result.err
    names = expected_export_names(bundle, tickers, "html")
    assert {p.name for p in tmp_path.iterdir()} == names
    assert {Path(line).name for line in result.out.splitlines()} == names
    for path in tmp_path.iterdir():
        page = path.read_text(encoding="utf-8")
        assert "<html" in page.lower()
        assert "Plotly.newPlot" in page
        # Standalone: plotly.js is embedded, no script is fetched from a CDN.
        assert re.search(r"<script[^>]*\bsrc=[\"']?https?:", page) is None


def test_export_skips_bad_tickers_and_exports_the_rest(
    run: Callable[..., Run], bundle: Dataset, tmp_path: Path
) -> None:
    result = run("export", "F", "ZZZZ", "--out", str(tmp_path), "--format", "html")
    assert result.code == 0
    assert result.err_lines == ["ratings: ZZZZ: unknown ticker: not in the data"]
    assert {p.name for p in tmp_path.iterdir()} == expected_export_names(bundle, ["F"], "html")


def test_export_with_no_usable_ticker_writes_nothing(run: Callable[..., Run], tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run("export", "ZZZZ", "--out", str(out), "--format", "csv")
    assert result.code == 1
    assert not out.exists()


@pytest.mark.browser
@pytest.mark.parametrize(("fmt", "signature"), [("png", b"\x89PNG\r\n\x1a\n"), ("svg", b"<svg")], ids=["png", "svg"])
def test_export_static_images_with_chrome(
    run: Callable[..., Run], bundle: Dataset, tmp_path: Path, fmt: str, signature: bytes
) -> None:
    if not export.static_export_available():
        pytest.skip("no Chrome/Chromium for kaleido: PNG/SVG export cannot run here")
    result = run("export", "F", "TSLA", "--out", str(tmp_path), "--format", fmt)
    assert result.code == 0, result.err
    assert {p.name for p in tmp_path.iterdir()} == expected_export_names(bundle, ["F", "TSLA"], fmt)
    for path in tmp_path.iterdir():
        head = path.read_bytes()[:512]
        assert signature in head


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_export_without_chrome_says_what_to_do(
    run: Callable[..., Run], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fmt: str
) -> None:
    monkeypatch.setattr(export, "static_export_available", lambda: False)
    out = tmp_path / "out"
    result = run("export", "F", "--out", str(out), "--format", fmt)
    assert result.code == 2
    assert len(result.err_lines) == 1
    line = result.err_lines[0].lower()
    assert line.startswith("ratings: ")
    assert "chromium" in line and "--format html" in line and "csv" in line
    assert result.out == ""
    assert not out.exists()


@pytest.mark.parametrize(
    "failure", [export.ExportUnavailable("Chrome went away"), export.ExportFailed("the browser returned no PNG image")]
)
def test_export_failing_while_writing_is_a_message(
    run: Callable[..., Run], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, failure: Exception
) -> None:
    def no_browser(*args: object, **kwargs: object) -> Path:
        raise failure

    monkeypatch.setattr(export, "static_export_available", lambda: True)
    monkeypatch.setattr(export, "write_figure", no_browser)
    result = run("export", "F", "--out", str(tmp_path), "--format", "png")
    assert result.code == 2
    assert len(result.err_lines) == 1
    assert str(failure) in result.err_lines[0] and "--format html" in result.err_lines[0]


@pytest.mark.parametrize("fmt", ["csv", "html"])
@pytest.mark.parametrize("where", ["under_a_file", "is_a_file"])
def test_export_to_an_unwritable_path_is_a_message(
    run: Callable[..., Run], tmp_path: Path, fmt: str, where: str
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    out = blocker / "sub" if where == "under_a_file" else blocker
    result = run("export", "F", "--out", str(out), "--format", fmt)
    assert result.code == 2
    assert len(result.err_lines) == 1
    assert result.err_lines[0].startswith(f"ratings: cannot write to {out}: ")
    assert ("not a folder" if where == "is_a_file" else "Not a directory") in result.err_lines[0]
    assert "Traceback" not in result.err
    assert result.out == ""
    assert blocker.read_text() == "not a folder"


# -------------------------------------------------------------------------------- dashboard


@dataclass
class FakeExec:
    """Stands in for os.execv and os.chdir: records the program and the folder it would run in."""

    calls: list[tuple[str, list[str], Path]]
    cwd: Path | None = None

    def chdir(self, path: str | os.PathLike[str]) -> None:
        self.cwd = Path(path)

    def execv(self, program: str, argv: list[str]) -> None:
        assert self.cwd is not None, "execv before chdir: streamlit would not find pages/ and .streamlit/"
        self.calls.append((program, list(argv), self.cwd))


@pytest.fixture
def fake_exec(monkeypatch: pytest.MonkeyPatch) -> FakeExec:
    fake = FakeExec([])
    monkeypatch.setattr(commands.os, "execv", fake.execv)
    monkeypatch.setattr(commands.os, "chdir", fake.chdir)
    return fake


@pytest.fixture
def fake_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "app.py").write_text("# the app\n")
    monkeypatch.setattr(commands, "PROJECT_ROOT", tmp_path)
    return tmp_path


def test_cli_uses_the_projects_root() -> None:
    assert commands.PROJECT_ROOT == paths.PROJECT_ROOT


@pytest.mark.parametrize(("argv", "port_flags"), [([], []), (["--port", "8765"], ["--server.port", "8765"])])
def test_dashboard_becomes_streamlit_bound_to_localhost(
    run: Callable[..., Run], fake_exec: FakeExec, fake_root: Path, argv: list[str], port_flags: list[str]
) -> None:
    result = run("dashboard", *argv)
    assert result.code == 0
    (program, command, cwd), *more = fake_exec.calls
    assert more == []
    assert program == sys.executable
    assert command == [
        sys.executable, "-m", "streamlit", "run", str(fake_root / "app.py"),
        "--server.address", "localhost",
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        *port_flags,
    ]  # fmt: skip
    assert cwd == fake_root


def test_dashboard_on_a_port_in_use_says_so(run: Callable[..., Run], fake_exec: FakeExec, fake_root: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("localhost", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run("dashboard", "--port", port)
    assert result.code == 2 and fake_exec.calls == []
    assert result.err_lines == [f"ratings: port {port} is in use on localhost: choose another with --port"]


def test_dashboard_without_app_py_says_so(run: Callable[..., Run], fake_exec: FakeExec, fake_root: Path) -> None:
    (fake_root / "app.py").unlink()
    result = run("dashboard")
    assert result.code == 1
    assert fake_exec.calls == []
    assert len(result.err_lines) == 1
    assert "app.py" in result.err_lines[0] and str(fake_root) in result.err_lines[0]


def test_stopping_ratings_dashboard_stops_the_server(tmp_path: Path) -> None:
    """A service manager's SIGTERM to `ratings dashboard` must not leave a Streamlit server behind."""
    script = Path(sys.executable).parent / "ratings"
    if not script.exists():
        pytest.skip(f"{script} is not installed: run `pip install -e .`")
    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        port = probe.getsockname()[1]
    env = os.environ | {"RATINGS_CACHE_DIR": str(tmp_path / "cache"), "RATINGS_STORE": str(tmp_path / "s.sqlite")}
    server = subprocess.Popen(
        [str(script), "dashboard", "--port", str(port)], cwd=tmp_path, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,  # its own group, to clean up
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not _answers(port):
            assert server.poll() is None, f"ratings dashboard exited with {server.returncode}"
            assert time.monotonic() < deadline, "the dashboard did not come up within 60 s"
            time.sleep(0.25)
        server.terminate()
        server.wait(timeout=20)
        assert not _answers(port), "the Streamlit server outlived `ratings dashboard`"
    finally:
        with contextlib.suppress(ProcessLookupError):  # whatever is left of the group, a stray server included
            os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def test_a_closed_stdout_is_one_clear_line(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "ratings"
    if not script.exists():
        pytest.skip(f"{script} is not installed: run `pip install -e .`")
    completed = subprocess.run(
        ["sh", "-c", f'"{script}" table F --format csv >&-'], capture_output=True, text=True, check=False, timeout=120
    )
    assert completed.returncode == 2
    assert completed.stderr == "ratings: standard output is closed: there is nowhere to print\n"


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://localhost:{port}/_stcore/health", timeout=2) as response:
            return bool(response.read().strip() == b"ok")
    except (OSError, urllib.error.URLError):
        return False


# ---------------------------------------------------------------------------- entry point


def test_installed_console_script_prints_the_acceptance_csv(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "ratings"
    if not script.exists():
        pytest.skip(f"{script} is not installed: run `pip install -e .`")
    completed = subprocess.run(
        [str(script), "table", "F", "ZZZZ", "--format", "csv"],
        cwd=tmp_path,  # works from any folder
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr.strip() == "ratings: ZZZZ: unknown ticker: not in the data"
    rows = {r["source"]: r for r in parse_csv(completed.stdout)}
    assert csv_header(completed.stdout) == list(CSV_COLUMNS)
    assert float(rows["Yahoo Finance"]["target_mean"]) == pytest.approx(14.901)
    assert rows["TipRanks"]["consensus"] == "Hold"
