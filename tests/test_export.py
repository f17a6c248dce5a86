"""Exports: PNG/SVG through one kaleido server, offline HTML, formula-safe CSV, file names."""

from __future__ import annotations

import csv
import io
import re
import struct
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.offline
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ratings import charts, export
from ratings.dataset import Dataset
from ratings.schema import CSV_COLUMNS

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

browser = pytest.mark.browser
needs_chrome = pytest.mark.skipif(
    export.find_chrome() is None,
    reason="no Chrome/Chromium found (install it, e.g. `apt install chromium`, or set BROWSER_PATH)",
)


@pytest.fixture
def small_figure() -> go.Figure:
    fig = go.Figure(go.Scatter(x=[1, 2, 3], y=[3, 1, 2], name="test"))
    fig.update_layout(height=300)
    return fig


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which follows the signature."""
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


# --- PNG / SVG (Chromium) -------------------------------------------------------------------------


@browser
@needs_chrome
@pytest.mark.parametrize(("width", "height", "scale"), [(600, 300, 1), (800, 450, 2), (500, None, 1.5)])
def test_png_has_the_requested_size(small_figure: go.Figure, width: int, height: int | None, scale: float) -> None:
    data = export.figure_bytes(small_figure, "png", width=width, height=height, scale=scale)
    expected_height = height if height is not None else small_figure.layout.height
    assert png_size(data) == (round(width * scale), round(expected_height * scale))


@browser
@needs_chrome
def test_a_tall_png_is_scaled_down_to_what_the_browser_can_draw() -> None:
    tall = go.Figure(go.Bar(x=[1, 2], y=["a", "b"], orientation="h"), layout={"height": 22_000})
    data = export.figure_bytes(tall, "png", width=1200, scale=3)  # 66,000 px asked: Chromium draws nothing
    width, height = png_size(data)
    assert max(width, height) <= export.MAX_PNG_SIDE
    assert height / width == pytest.approx(22_000 / 1200, rel=0.01)


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_an_answer_that_is_no_image_is_an_error_not_a_file(monkeypatch: pytest.MonkeyPatch, fmt: str) -> None:
    monkeypatch.setattr(export._server, "render", lambda fig, opts, timeout: b"u\xabZ")
    with pytest.raises(export.ExportFailed, match=f"no {fmt.upper()} image"):
        export.figure_bytes(go.Figure(), fmt)


@browser
@needs_chrome
def test_svg_is_xml_with_an_svg_root(small_figure: go.Figure) -> None:
    root = ET.fromstring(export.figure_bytes(small_figure, "svg", width=640, scale=3))  # noqa: S314 our own output
    assert root.tag.endswith("svg")
    assert (root.get("width"), root.get("height")) == ("640", str(small_figure.layout.height)), "vector: no scale"


@browser
@needs_chrome
def test_svg_of_hostile_text_has_no_script_element(watchlist_table: pd.DataFrame) -> None:
    table = watchlist_table.copy()
    table["name"] = "<script>alert(1)</script>"
    table["source"] = table["source"].where(table["source"].isna(), "<script>alert(2)</script>")
    root = ET.fromstring(export.figure_bytes(charts.upside_chart(table), "svg"))  # noqa: S314 our own output
    tags = {element.tag.rsplit("}", 1)[-1] for element in root.iter()}
    assert "script" not in tags
    assert "<script>alert(2)</script>" in "".join(root.itertext()), "the text is shown, as text"


def chart_figure(kind: str, bundle: Dataset, table: pd.DataFrame) -> go.Figure:
    if kind == "upside":
        return charts.upside_chart(table)
    if kind == "price":
        return charts.price_target_chart(table, prices=bundle.prices_for("F"), history=bundle.history, ticker="F")
    if kind == "ratings":
        return charts.rating_breakdown_chart(table[table["ticker"] == "F"])
    if kind == "top_bottom":
        return charts.top_bottom_chart(bundle.table())
    return charts.upside_scatter(bundle.table())


@browser
@needs_chrome
@pytest.mark.parametrize("kind", ["upside", "price", "ratings", "top_bottom", "scatter"])
def test_every_chart_exports_to_png_with_its_own_height(
    bundle: Dataset, watchlist_table: pd.DataFrame, kind: str
) -> None:
    fig = chart_figure(kind, bundle, watchlist_table)
    data = export.figure_bytes(fig, "png", width=900, scale=1)
    assert png_size(data) == (900, fig.layout.height)


@browser
@needs_chrome
def test_concurrent_exports_each_get_their_own_image(small_figure: go.Figure) -> None:
    # Streamlit renders sessions in threads; kaleido's server answers in queue order.
    widths = [300 + 40 * i for i in range(8)]
    results: dict[int, tuple[int, int]] = {}
    errors: list[BaseException] = []

    def render(width: int) -> None:
        try:
            results[width] = png_size(export.figure_bytes(small_figure, "png", width=width, scale=1))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=render, args=(w,)) for w in widths]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors
    assert results == {w: (w, small_figure.layout.height) for w in widths}


@browser
@needs_chrome
def test_one_browser_serves_many_exports(small_figure: go.Figure) -> None:
    export.figure_bytes(small_figure, "png", width=300, scale=1)  # the server is up after this
    start = time.perf_counter()
    for _ in range(5):
        export.figure_bytes(small_figure, "svg", width=300)
    assert (time.perf_counter() - start) / 5 < 1.5, "no new browser per export"


# --- without Chrome -------------------------------------------------------------------------------


@pytest.fixture
def no_chrome(monkeypatch: pytest.MonkeyPatch) -> None:
    import kaleido

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the kaleido server must not start without a browser")

    monkeypatch.setattr(export, "find_chrome", lambda: None)
    monkeypatch.setattr(kaleido, "start_sync_server", refuse)
    monkeypatch.setattr(kaleido, "calc_fig_sync", refuse)


@pytest.mark.parametrize("fmt", export.STATIC_FORMATS)
def test_static_export_without_chrome_raises_at_once(no_chrome: None, small_figure: go.Figure, fmt: str) -> None:
    start = time.perf_counter()
    with pytest.raises(export.ExportUnavailable) as caught:
        export.figure_bytes(small_figure, fmt)
    assert time.perf_counter() - start < 2
    message = str(caught.value)
    assert "Chromium" in message and "apt install chromium" in message and "HTML and CSV" in message
    assert not export.static_export_available()


def test_html_and_csv_work_without_chrome(no_chrome: None, small_figure: go.Figure, tmp_path: Path) -> None:
    assert b"<html" in export.figure_bytes(small_figure, "html")
    assert export.write_csv(pd.DataFrame({"a": [1]}), tmp_path / "a.csv").read_bytes() == b"a\r\n1\r\n"


@pytest.fixture
def fake_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """A 'browser' whose render never answers; released at teardown."""
    import kaleido

    release = threading.Event()

    def hang(*args: Any, **kwargs: Any) -> bytes:
        release.wait(30)
        return b""

    monkeypatch.setattr(export, "find_chrome", lambda: "/usr/bin/true")
    monkeypatch.setattr(export._server, "failure", None)  # restored after the test
    monkeypatch.setattr(kaleido, "start_sync_server", lambda *a, **k: None)
    monkeypatch.setattr(kaleido, "calc_fig_sync", hang)
    yield release
    release.set()


def test_a_dead_server_thread_fails_fast_instead_of_hanging(
    fake_server: threading.Event, monkeypatch: pytest.MonkeyPatch, small_figure: go.Figure
) -> None:
    monkeypatch.setattr(export, "_server_thread_alive", lambda: False)
    start = time.perf_counter()
    with pytest.raises(export.ExportUnavailable, match="could not be started"):
        export.figure_bytes(small_figure, "png")
    assert time.perf_counter() - start < 5
    assert not export.static_export_available()
    with pytest.raises(export.ExportUnavailable):
        export.figure_bytes(small_figure, "svg")


def test_a_silent_browser_times_out_and_is_not_reused(
    fake_server: threading.Event, monkeypatch: pytest.MonkeyPatch, small_figure: go.Figure
) -> None:
    monkeypatch.setattr(export, "_server_thread_alive", lambda: True)
    monkeypatch.setattr(export, "RENDER_TIMEOUT", 0.5)
    with pytest.raises(export.ExportUnavailable, match="did not answer"):
        export.figure_bytes(small_figure, "png")
    fake_server.set()  # a late answer must not be handed to the next caller
    start = time.perf_counter()
    with pytest.raises(export.ExportUnavailable, match="did not answer"):
        export.figure_bytes(small_figure, "png")
    assert time.perf_counter() - start < 1


@pytest.mark.parametrize("value", ["", "/nonexistent/chromium"])
def test_find_chrome_rejects_a_browser_path_that_is_no_program(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str
) -> None:
    from choreographer.browsers import chromium

    not_a_program = tmp_path / "chromium"
    not_a_program.write_text("not a program")
    path = value or str(not_a_program)
    monkeypatch.setattr(chromium.Chromium, "find_browser", classmethod(lambda cls, **kw: path))
    export.find_chrome.cache_clear()
    try:
        assert export.find_chrome() is None
    finally:
        export.find_chrome.cache_clear()


def test_find_chrome_is_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    from choreographer.browsers import chromium

    calls: list[int] = []

    def counting(cls: Any, **kwargs: Any) -> str | None:
        calls.append(1)
        return None

    monkeypatch.setattr(chromium.Chromium, "find_browser", classmethod(counting))
    export.find_chrome.cache_clear()
    try:
        export.find_chrome()
        export.find_chrome()
        assert len(calls) == 1
    finally:
        export.find_chrome.cache_clear()


def test_unknown_format_is_refused(small_figure: go.Figure) -> None:
    with pytest.raises(ValueError, match="gif"):
        export.figure_bytes(small_figure, "gif")


# --- HTML -----------------------------------------------------------------------------------------


def test_html_is_standalone_and_offline(watchlist_table: pd.DataFrame) -> None:
    html = export.figure_bytes(charts.upside_chart(watchlist_table), "html").decode("utf-8")
    assert html.lstrip().lower().startswith(("<!doctype html", "<html"))
    assert plotly.offline.get_plotlyjs()[:2000] in html, "plotly.js is embedded"
    sources = re.findall(r"<script[^>]*\bsrc\s*=\s*[\"']?([^\"' >]+)", html, flags=re.IGNORECASE)
    assert sources == [], f"scripts loaded from elsewhere: {sources}"
    assert not re.search(r"<script[^>]*cdn\.plot\.ly", html)
    assert "Yahoo Finance" in html and "TipRanks" in html


@pytest.mark.parametrize("fmt", ["HTML", ".html", "html"])
def test_format_names_are_forgiving(small_figure: go.Figure, fmt: str) -> None:
    assert b"<html" in export.figure_bytes(small_figure, fmt)


# --- CSV ------------------------------------------------------------------------------------------


# The public contract as the README and the issue write it, spelled out: not the code's own constant.
CONTRACT = [
    "ticker",
    "source",
    "as_of",
    "currency",
    "price",
    "price_as_of",
    "target_mean",
    "target_median",
    "target_low",
    "target_high",
    "n_analysts",
    "strong_buy",
    "buy",
    "hold",
    "sell",
    "strong_sell",
    "rating_mean",
    "consensus",
    "upside_mean",
    "upside_low",
    "upside_high",
]


def test_contract_frame_is_the_public_columns_in_order(watchlist_table: pd.DataFrame) -> None:
    frame = export.contract_frame(watchlist_table)
    assert list(frame.columns) == CONTRACT == list(CSV_COLUMNS)
    assert len(frame) == len(watchlist_table)


def test_the_readme_documents_the_same_contract() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    assert ", ".join(CONTRACT[:9]) in " ".join(readme.split())


def test_contract_frame_names_missing_columns() -> None:
    with pytest.raises(ValueError, match="upside_mean"):
        export.contract_frame(pd.DataFrame({"ticker": ["F"]}))


def test_csv_round_trips(watchlist_table: pd.DataFrame) -> None:
    frame = export.contract_frame(watchlist_table)
    back = pd.read_csv(io.BytesIO(export.csv_bytes(frame)), dtype={"as_of": str, "price_as_of": str})
    assert list(back.columns) == list(CSV_COLUMNS)
    assert len(back) == len(frame)
    for column in CSV_COLUMNS:
        original = frame[column]
        if pd.api.types.is_numeric_dtype(original):
            expected = original.astype("Float64").astype(float).to_numpy()
            assert np.allclose(back[column].to_numpy(float), expected, equal_nan=True, rtol=0, atol=0), column
        else:
            expected_text = original.astype(object).where(original.notna(), None).tolist()
            got = back[column].astype(object).where(back[column].notna(), None).tolist()
            assert got == expected_text, column


def test_csv_unknown_is_an_empty_cell(watchlist_table: pd.DataFrame) -> None:
    frame = export.contract_frame(watchlist_table)
    rows = list(csv.DictReader(io.StringIO(export.csv_bytes(frame).decode("utf-8"))))
    for record, (_, original) in zip(rows, frame.iterrows(), strict=True):
        for column in CSV_COLUMNS:
            if pd.isna(original[column]):
                assert record[column] == "", (record["ticker"], column)
            else:
                assert record[column] != ""
    no_consensus = [r for r in rows if r["ticker"] == "1810.HK"]
    assert no_consensus and no_consensus[0]["upside_mean"] == ""


def test_csv_keeps_negative_upside_a_number(watchlist_table: pd.DataFrame) -> None:
    frame = export.contract_frame(watchlist_table)
    negative = frame[frame["upside_low"] < 0]
    assert not negative.empty
    rows = list(csv.DictReader(io.StringIO(export.csv_bytes(frame).decode("utf-8"))))
    for index, row in negative.iterrows():
        cell = rows[int(index)]["upside_low"]  # type: ignore[call-overload]
        assert not cell.startswith("'")
        assert float(cell) == row["upside_low"]


FORMULAS = [
    "=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "\t=x", "\r=x", '=HYPERLINK("http://x")',
    # after white space an import may trim, and full-width forms some spreadsheets fold to ASCII
    " =1+1", "  +SUM(A1)", "\n=1+1", "\u00a0=1+1", "\u3000@x", "\uff1d1+1", "\uff0b1", "\uff0d1", "\uff20x",
]  # fmt: skip


def read_cells(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))


@pytest.mark.parametrize("payload", FORMULAS)
@pytest.mark.parametrize("dtype", ["string", "object", "category"])
def test_csv_neutralises_formulas_in_text(payload: str, dtype: str) -> None:
    frame = pd.DataFrame({"name": [payload, "Ford"], "upside": [-0.18, 0.1]})
    frame["name"] = frame["name"].astype(dtype)
    cells = read_cells(export.csv_bytes(frame))
    assert cells[0]["name"] == "'" + payload
    assert cells[1]["name"] == "Ford"
    assert [float(c["upside"]) for c in cells] == [-0.18, 0.1]


@pytest.mark.parametrize(
    "safe", ["Ford", "F", "1810.HK", "a=b", "2026", "", " Ford", "a =b", "Macy's", "text ＝ later"]
)
def test_csv_leaves_safe_text_alone(safe: str) -> None:
    frame = pd.DataFrame({"name": pd.Series([safe, "x"], dtype="string")})
    assert read_cells(export.csv_bytes(frame))[0]["name"] == safe


def test_csv_numbers_in_a_mixed_column_stay_numbers() -> None:
    frame = pd.DataFrame({"mixed": pd.Series([-0.5, "=1+1", None], dtype=object)})
    cells = [c["mixed"] for c in read_cells(export.csv_bytes(frame))]
    assert cells == ["-0.5", "'=1+1", ""]


def test_csv_headers_are_neutralised_too() -> None:
    frame = pd.DataFrame({"=HYPERLINK(1)": [1], " @x": [2], "ok": [3]})
    header = export.csv_bytes(frame).decode("utf-8").splitlines()[0]
    assert header == "'=HYPERLINK(1),' @x,ok"


def test_csv_is_utf8_without_bom() -> None:
    data = export.csv_bytes(pd.DataFrame({"name": ["Société Générale — €"]}))
    assert not data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8") == "name\r\nSociété Générale — €\r\n"


@pytest.mark.parametrize("breaker", ["a\rb", "a\nb", "a\r\nb", 'say "hi", then'])
def test_csv_line_breaks_inside_a_cell_do_not_split_the_row(breaker: str) -> None:
    frame = pd.DataFrame({"name": [breaker, "next"], "n": [1, 2]})
    cells = read_cells(export.csv_bytes(frame))
    assert [(c["name"], c["n"]) for c in cells] == [(breaker, "1"), ("next", "2")]


# --- file names -----------------------------------------------------------------------------------


EXPORT_DAY = date(2026, 12, 2)  # the day a file without a data date is dated with


@pytest.mark.parametrize(
    ("kind", "tickers", "as_of", "ext", "expected"),
    [
        ("upside", ["F", "TSLA", "NVDA"], "2026-07-02", "png", "upside_F-TSLA-NVDA_2026-07-02.png"),
        ("upside", [f"T{i}" for i in range(503)], "2026-07-02", "png", "upside_T0-T1-T2-T3-T4+498_2026-07-02.png"),
        ("upside", list("ABCDE"), "2026-07-02", "svg", "upside_A-B-C-D-E_2026-07-02.svg"),
        ("upside", list("ABCDEF"), "2026-07-02", "svg", "upside_A-B-C-D-E+1_2026-07-02.svg"),
        ("price-targets", ["1810.HK"], "2026-07-02", "html", "price-targets_1810.HK_2026-07-02.html"),
        ("consensus", ["BRK-B", "F"], None, "csv", "consensus_BRK-B-F_2026-12-02.csv"),  # dated on export
        ("consensus", ["F", "F", "TSLA"], "2026", ".CSV", "consensus_F-TSLA_2026.csv"),
        ("upside", ["^GSPC", "EURUSD=X"], "2026-07-02", "png", "upside__GSPC-EURUSD_X_2026-07-02.png"),
        ("upside", ["../../etc/passwd"], None, "png", "upside_.._.._etc_passwd_2026-12-02.png"),
        ("upside", [], "2026-07-02", "png", "upside_2026-07-02.png"),
        ("my chart", ["F"], "2026-07-02", "png", "my_chart_F_2026-07-02.png"),
    ],
)
def test_export_filename(kind: str, tickers: list[str], as_of: str | None, ext: str, expected: str) -> None:
    assert export.export_filename(kind, tickers, as_of, ext, today=EXPORT_DAY) == expected


def test_export_filename_names_the_universe_and_the_filters() -> None:
    name = export.export_filename(
        "top-bottom", ["XOM", "CVX", "COP", "EOG", "SLB", "OXY"], "2026-07-02", "png", scope=["sp500", "Energy", "Buy"]
    )
    assert name == "top-bottom_sp500_Energy_Buy_XOM-CVX-COP-EOG-SLB+1_2026-07-02.png"


def test_a_long_export_filename_keeps_its_date() -> None:
    name = export.export_filename("compare", ["A"], "2026-07-02", "csv", scope=["x" * 300])
    assert name.endswith("_2026-07-02.csv") and len(name.encode()) <= 160


@given(
    kind=st.text(max_size=20),
    tickers=st.lists(st.text(max_size=300), max_size=10),
    as_of=st.none() | st.text(max_size=12),
    ext=st.sampled_from(["png", "svg", "html", "csv"]),
    scope=st.lists(st.text(max_size=50), max_size=4),
)
def test_export_filename_is_always_a_plain_file_name(
    kind: str, tickers: list[str], as_of: str | None, ext: str, scope: list[str]
) -> None:
    name = export.export_filename(kind, tickers, as_of, ext, scope=scope, today=EXPORT_DAY)
    assert re.fullmatch(r"[A-Za-z0-9._+-]+", name)
    assert not name.startswith(".")
    assert name.endswith("." + ext)
    assert Path(name).name == name
    assert len(name.encode()) <= 160  # within any file system's 255 bytes a name


def test_bundle_as_of_is_the_latest_full_day(watchlist_table: pd.DataFrame) -> None:
    days = [d for d in watchlist_table["as_of"].dropna() if re.fullmatch(r"\d{4}-\d{2}-\d{2}", d)]
    assert export.bundle_as_of(watchlist_table) == max(days)
    assert "2026" in set(watchlist_table["as_of"].dropna()), "a year-only date is in the table and ignored"


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (["2026"], None),
        ([None, None], None),
        ([], None),
        (["2025-08-21", "2026", "2026-07-02"], "2026-07-02"),
    ],
)
def test_bundle_as_of_edges(as_of: list[str | None], expected: str | None) -> None:
    assert export.bundle_as_of(pd.DataFrame({"as_of": pd.Series(as_of, dtype="string")})) == expected


def test_bundle_as_of_without_the_column() -> None:
    assert export.bundle_as_of(pd.DataFrame()) is None


# --- writers --------------------------------------------------------------------------------------


def test_write_figure_and_csv_create_folders(tmp_path: Path, small_figure: go.Figure) -> None:
    html_path = export.write_figure(small_figure, tmp_path / "a" / "b" / "chart.html", "html")
    written = html_path.read_text("utf-8")
    assert "<html" in written and plotly.offline.get_plotlyjs()[:2000] in written
    frame = pd.DataFrame({"ticker": ["F"], "upside_mean": [0.1116]})
    csv_path = export.write_csv(frame, tmp_path / "c" / "table.csv")
    assert csv_path.read_bytes() == export.csv_bytes(frame)


@browser
@needs_chrome
def test_write_figure_png(tmp_path: Path, small_figure: go.Figure) -> None:
    path = export.write_figure(small_figure, tmp_path / "x.png", "png", width=400, scale=1)
    assert png_size(path.read_bytes()) == (400, small_figure.layout.height)
