"""Shared pieces of the Streamlit pages: loading, safe text, downloads, provenance captions.

It lives beside ``app.py`` (not in ``pages/``, not in ``ratings/``) because Streamlit puts the
main script's folder on ``sys.path`` both under ``streamlit run app.py`` and under ``AppTest``,
and ``ratings`` must not depend on Streamlit.

Every text that comes from a user or from data goes through :func:`md` before it reaches a
Streamlit element that renders Markdown (``st.markdown``, ``st.caption``, ``st.warning``, ...):
Streamlit renders no raw HTML there, but Markdown links, emphasis and ``$...$`` (LaTeX) would
still change what the reader sees.
"""

from __future__ import annotations

import inspect
import re
import textwrap
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from ratings import export, st_cache
from ratings.charts import source_caption
from ratings.dataset import DataError, Dataset
from ratings.formatting import (
    MISSING,
    age_text,
    count,
    dataset_label,
    dated,
    kind_name,
    label_text,
    money,
    money_range,
    percent,
    staleness_lines,
    utc_minute,
)
from ratings.store import StoreError
from ratings.tickers import WATCHLIST, ParsedTickers, parse_tickers
from ratings.yahoo import LiveResult

OVERVIEW = "pages/overview.py"
TICKER = "pages/ticker.py"
COMPARE = "pages/compare.py"
METHODOLOGY = "pages/methodology.py"
CHANGES = "pages/changes.py"

#: Session-state key of the watchlist text (Overview and Changes edit it; Compare offers it as a universe).
WATCHLIST_KEY = "watchlist"
#: Query parameter that carries the watchlist in a shared link (on every page that uses the watchlist).
WATCHLIST_PARAM = "tickers"

#: Session-state key and query parameter of the data source; its choices in words.
SOURCE_KEY = "data_source"
SOURCE_PARAM = "source"
SOURCE_LABELS: dict[str, str] = {"bundle": "Bundled snapshot", "store": "Local store", "live": "Live (Yahoo)"}
REFRESH_KEY = "refresh"

#: Query parameters every page keeps; any other belongs to one page and leaves the address on a page switch.
SHARED_PARAMS = (SOURCE_PARAM, WATCHLIST_PARAM)

# Session-state keys of what app.py worked out in this run, and of the session's last refresh.
_RUN_SOURCE = "_run_source"
_RUN_DATASET = "_run_dataset"
_LAST_REFRESH = "_last_refresh"
_REFRESH_REQUESTED = "_refresh_requested"
_PAGE_SHOWN = "_page_shown"
_SHARED_VALUES = "_shared_params"

MIME = {"png": "image/png", "svg": "image/svg+xml", "html": "text/html", "csv": "text/csv"}

T = TypeVar("T")

# Everything Markdown (CommonMark + GFM + Streamlit's $ LaTeX and :emoji:/:material: shortcodes)
# might interpret. Backslash-escaping an ASCII punctuation character is always allowed.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:&=^\"'])")


def md(text: object) -> str:
    """`text` as literal Markdown: every character that could format, link or run LaTeX is escaped."""
    plain = " ".join(str(text).split())  # no newlines: a line break could start a heading or list
    return _MARKDOWN_SPECIAL.sub(r"\\\1", plain)


def md_list(values: Iterable[object]) -> str:
    """'F, TSLA and NVDA', each escaped."""
    items = [md(v) for v in values]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def run_through_app(*own_params: str) -> None:
    """Make sure this page runs inside app.py's navigation; call first thing on every page, with the
    query parameters the page owns (Compare's ``universe``, the Ticker page's ``ticker``...).

    Streamlit starts in its legacy mode when a ``pages/`` folder sits beside the main script, and
    leaves it only once ``st.navigation`` has been called. Until then, a first visit straight to
    a shared link such as ``/ticker?ticker=F`` runs the page alone: no app.py, so no wide layout,
    no page titles, no data note. Leave that mode and rerun, so app.py serves the same URL.

    The shared parameters (:data:`SHARED_PARAMS`) are on every page's address, so that any page's
    link carries the watchlist: Streamlit's navigation drops the query string on a page switch, and
    they are put back as the session last had them. After the session's first page, the address keeps
    only those and this page's own: another page's ``?universe=`` would otherwise linger after a page
    switch. The first page keeps them all: they come from the link that opened the session.
    """
    _leave_legacy_mode()
    for name in SHARED_PARAMS:
        value = shared_param(name)
        if value is not None and name not in st.query_params:
            st.query_params[name] = value
    if st.session_state.get(_PAGE_SHOWN):
        keep = {*SHARED_PARAMS, *own_params}
        for name in [n for n in st.query_params if n not in keep]:
            del st.query_params[name]
    st.session_state[_PAGE_SHOWN] = True


def _leave_legacy_mode() -> None:
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # Streamlit moved it: the worst case is the legacy look, not an error
        return
    if getattr(PagesManager, "uses_pages_directory", None):
        PagesManager.uses_pages_directory = False
        st.rerun()


def link_warning(param: str, value: str, problem: str, instead: str) -> None:
    """Say that a shared link's ``?param=value`` could not be used as it is, and what is shown instead.

    Call it where the link's value seeds a widget (inside :func:`seed_widget`'s `initial`): that
    happens once a session, so the user's own later changes never bring the warning back.
    """
    st.warning(md(f"The link's {param}={value[:40]} {problem}: {instead}."), icon=":material/warning:")


# --- the data source -----------------------------------------------------------------------------


def source_choice() -> str:
    """The sidebar's data-source choice (app.py draws it on every run), kept in ``?source=``."""
    shared = st.query_params.get(SOURCE_PARAM)
    if shared is not None and shared not in SOURCE_LABELS and SOURCE_KEY not in st.session_state:
        st.warning(
            f"Unknown data source {md(shared)} in the link; showing the bundled snapshot.", icon=":material/warning:"
        )
    seed_widget(SOURCE_KEY, lambda: shared if shared in SOURCE_LABELS else "bundle")
    kind = st.sidebar.radio(
        "Data source",
        list(SOURCE_LABELS),
        format_func=SOURCE_LABELS.__getitem__,
        key=SOURCE_KEY,
        help="Bundled snapshot: real data shipped with the project, works offline. Local store: what "
        "`ratings fetch` or the Refresh button stored, with its history. Live: the local store, refreshed "
        "from Yahoo Finance on demand.",
    )
    set_query_param(SOURCE_PARAM, None if kind == "bundle" else kind)
    return str(kind)


def data_name(data: Dataset | st_cache.Source) -> str:
    """'the bundled snapshot' or 'the local store', for sentences."""
    return kind_name(data.kind)


def no_store_message(src: st_cache.Source) -> str:
    text = (
        f"There is no local store yet at {md(src.location)}. Fill it from the command line with "
        "`ratings fetch TICKER...` (for example `ratings fetch F TSLA NVDA`)"
    )
    if src.kind == "live":
        tickers = md_list(watchlist_tickers()) or "empty"
        return text + f", or press **Refresh from Yahoo** in the sidebar to fetch the watchlist ({tickers}) now."
    return text + ", or choose **Live (Yahoo)** as the data source and press **Refresh from Yahoo**."


def open_dataset(kind: str) -> Dataset | None:
    """app.py: load the chosen source for this run, or show why not (never a traceback) and return None.

    A missing store is explained (st.info); a store that cannot be read (corrupt, not ours, newer
    schema) is an st.error naming the file, which is left untouched.
    """
    src = st_cache.source(kind)
    st.session_state[_RUN_SOURCE] = src
    st.session_state[_RUN_DATASET] = None
    if src.from_store and not src.path.exists():
        st.info(no_store_message(src), icon=":material/info:")
        return None
    try:
        data = st_cache.dataset(src)
    except StoreError as exc:
        st.error(
            f"The local store {md(src.location)} cannot be read, so nothing is shown and the file is left "
            f"as it is. {md(exc)}. Move it away, or point the `RATINGS_STORE` environment variable at another file.",
            icon=":material/error:",
        )
        return None
    except DataError as exc:
        st.error(f"The data could not be loaded. {md(exc)}")
        return None
    st.session_state[_RUN_DATASET] = data
    return data


def source() -> st_cache.Source:
    """The data source of this run (as app.py opened it)."""
    src = st.session_state.get(_RUN_SOURCE)
    return src if isinstance(src, st_cache.Source) else st_cache.source()


def load_dataset() -> Dataset | None:
    """The dataset app.py opened in this run; None if it could not (app.py has said why)."""
    data = st.session_state.get(_RUN_DATASET)
    return data if isinstance(data, Dataset) else None


def freshness_text(data: Dataset) -> str:
    """'Newest data 3 h old (fetched 2026-11-24 14:03 UTC)' for store data; '' for the bundle."""
    if data.kind == "bundle":
        return ""
    newest = data.newest_fetch()
    if newest is None:
        return "Nothing fetched yet"
    return f"Newest data {age_text(newest, datetime.now(UTC))} (fetched {utc_minute(newest)})"


# --- the watchlist -------------------------------------------------------------------------------


def initial_watchlist() -> str:
    """The watchlist of a shared link (``?tickers=F,TSLA``), else the default one."""
    shared = shared_param(WATCHLIST_PARAM)
    return ", ".join(WATCHLIST) if shared is None else shared.replace(",", ", ")


def watchlist_input(data: Dataset) -> ParsedTickers:
    """The sidebar's watchlist box (shared by the pages that show it) and what it parses to.

    With the bundle a ticker must be in the data; with the store any well-formed symbol is kept,
    so that a refresh can fetch it.
    """
    seed_widget(WATCHLIST_KEY, initial_watchlist)
    text = st.sidebar.text_input(
        "Watchlist",
        key=WATCHLIST_KEY,
        help="Tickers separated by commas or spaces, as Yahoo spells them: F, BRK-B, 1810.HK. "
        "The page address keeps the list, so a link shares this view.",
        placeholder="F, TSLA, NVDA",
    )
    remember(WATCHLIST_KEY)
    parsed = parse_tickers(text, known=data.known_tickers if data.kind == "bundle" else None)
    set_query_param(WATCHLIST_PARAM, ",".join(parsed.valid))
    return parsed


def watchlist_tickers() -> list[str]:
    """The watchlist as last edited in this session (on any page), else the link's, else the default."""
    text = remembered(WATCHLIST_KEY)
    return parse_tickers(text if isinstance(text, str) else initial_watchlist()).valid


# --- refresh and staleness -----------------------------------------------------------------------


def refresh_controls() -> None:
    """Live source: the sidebar's Refresh button; a click fetches the watchlist with a progress bar.

    Runs before the page, so the page then reads what the refresh stored. The outcome is kept in
    the session for the staleness banner; the store keeps every earlier snapshot, so a failure
    never takes data away.
    """
    tickers = watchlist_tickers()
    # A callback, not the button's return value: the click survives a rerun that happens before
    # this line (run_through_app's, for one), and is consumed exactly once below.
    st.sidebar.button(
        "Refresh from Yahoo",
        key=REFRESH_KEY,
        icon=":material/refresh:",
        on_click=_request_refresh,
        disabled=not tickers,
        help=f"Fetch the watchlist ({len(tickers)} tickers) from Yahoo Finance now and add it to the local store."
        if tickers
        else "The watchlist is empty.",
    )
    if st.session_state.pop(_REFRESH_REQUESTED, False) and tickers:
        run_refresh(tickers)
    last = st.session_state.get(_LAST_REFRESH)
    if isinstance(last, dict):
        st.sidebar.caption(md(f"Last refresh {utc_minute(last['finished_at'])}: {last['summary']}."))


def _request_refresh() -> None:
    st.session_state[_REFRESH_REQUESTED] = True


def run_refresh(tickers: list[str]) -> None:
    total = len(tickers)
    bar = st.progress(0.0, text=md(f"Refreshing {total} tickers from Yahoo Finance…"))

    def on_progress(done: int, total: int, result: LiveResult) -> None:
        bar.progress(done / max(total, 1), text=md(f"{done} of {total}: {result.describe()}"))

    try:
        outcome = st_cache.refresh(tickers, on_progress=on_progress)
    except StoreError as exc:
        bar.empty()
        st.error(f"Nothing was fetched: {md(exc)}. The file is left as it is.", icon=":material/error:")
        return
    summary = outcome.batch.summary()
    st.session_state[_LAST_REFRESH] = {
        "tickers": [r.ticker for r in outcome.batch.results],
        "failures": outcome.failures,
        "started_at": outcome.started_at,
        "finished_at": outcome.finished_at,
        "summary": summary,
    }
    bar.progress(1.0, text=md(f"Refreshed {total} tickers at {utc_minute(outcome.finished_at)}: {summary}."))
    if outcome.batch.no_coverage:
        st.info(
            "No analyst coverage on Yahoo: " + "; ".join(md(r.describe()) for r in outcome.batch.no_coverage) + ".",
            icon=":material/info:",
        )
    # Fetched, but with a part missing (a price history Yahoo would not send, a unit left unknown): say which.
    gaps = [f"{r.ticker}: {w}" for r in outcome.batch.results if r.status != "failed" for w in r.warnings]
    if gaps:
        st.info("Fetched with gaps: " + "; ".join(md(gap) for gap in gaps) + ".", icon=":material/info:")


def staleness_banner(data: Dataset) -> None:
    """After a refresh in this session failed for some tickers: how old their data is, and why."""
    last = st.session_state.get(_LAST_REFRESH)
    if data.kind == "bundle" or not isinstance(last, dict) or not last["failures"]:
        return
    observed = data.history.dropna(subset=["observed_at"]).groupby("ticker")["observed_at"].max()
    lines = staleness_lines(
        last["failures"],
        attempted=len(last["tickers"]),
        refreshed_at=last["started_at"],
        data_from={str(t): str(v) for t, v in observed.items()},
        now=datetime.now(UTC),
    )
    if lines:
        st.warning("  \n".join(md(line) for line in lines), icon=":material/history:")


# --- state that survives page switches and is shared through the URL ---------------------------


def seed_widget(key: str, initial: Callable[[], T]) -> None:
    """Give widget `key` its remembered value, or `initial()` the first time in this session.

    Streamlit forgets a widget's state when a run does not draw it (another page is open), so
    pages call :func:`remember` after drawing the widget and this restores the value on return.
    `initial` typically reads ``st.query_params`` so that a shared link opens the same view.
    """
    if key not in st.session_state:
        saved = f"_saved_{key}"
        st.session_state[key] = st.session_state[saved] if saved in st.session_state else initial()


def remember(key: str) -> None:
    st.session_state[f"_saved_{key}"] = st.session_state[key]


def remembered(key: str) -> Any:
    """The last value of widget `key` in this session, even while another page is open; None if never set."""
    return st.session_state.get(key, st.session_state.get(f"_saved_{key}"))


def shared_param(name: str) -> str | None:
    """A parameter every page shares (:data:`SHARED_PARAMS`): the address's value, else the one the
    address last had in this session (a page switch in the browser empties the address)."""
    values = st.session_state.setdefault(_SHARED_VALUES, {})
    if name in st.query_params:
        values[name] = st.query_params[name]
    return values.get(name)


def set_query_param(name: str, value: str | list[str] | None) -> None:
    """Write one query parameter (None or an empty list removes it); only when it changes."""
    if name in SHARED_PARAMS:  # what the next page puts back (None: nothing)
        st.session_state.setdefault(_SHARED_VALUES, {})[name] = value
    current: str | list[str] | None
    if isinstance(value, list):
        current = st.query_params.get_all(name) if name in st.query_params else []
        if current == value:
            return
        if value:
            st.query_params[name] = value
        elif name in st.query_params:
            del st.query_params[name]
        return
    current = st.query_params.get(name)
    if current == value:
        return
    if value is None:
        del st.query_params[name]
    else:
        st.query_params[name] = value


# --- downloads ----------------------------------------------------------------------------------


def static_export_available() -> bool:
    """Whether PNG/SVG can be made here: a Chrome/Chromium was found and has not failed."""
    return export.static_export_available()


def static_export_note() -> None:
    """One caption per page when PNG/SVG downloads are not offered."""
    if not static_export_available():
        st.caption(
            "PNG and SVG downloads need Chrome or Chromium, which was not found on this machine; "
            "HTML and CSV downloads work without it."
        )


def chart(fig: go.Figure, *, kind: str, tickers: Iterable[str], as_of: str | None, key: str) -> None:
    """Draw a chart with its PNG, SVG and HTML download buttons (files made only when clicked)."""
    # theme=None: the figure keeps its own template, so the screen matches the downloaded files.
    st.plotly_chart(fig, key=f"{key}-chart", theme=None, config={"displaylogo": False})
    formats = ("png", "svg", "html") if static_export_available() else ("html",)
    names = list(tickers)
    with st.container(horizontal=True, gap="small"):
        for fmt in formats:
            st.download_button(
                fmt.upper(),
                data=partial(export.figure_bytes, fig, fmt),
                file_name=export.export_filename(kind, names, as_of, fmt),
                mime=MIME[fmt],
                key=f"{key}-{fmt}",
                on_click="ignore",
                icon=":material/download:",
                help=f"Download this chart as {fmt.upper()}",
            )


def csv_button(
    frame: pd.DataFrame, *, kind: str, tickers: Iterable[str], as_of: str | None, key: str, label: str = "CSV"
) -> None:
    """A CSV download of `frame` (formula-safe, made only when clicked)."""
    st.download_button(
        label,
        data=partial(export.csv_bytes, frame),
        file_name=export.export_filename(kind, list(tickers), as_of, "csv"),
        mime=MIME["csv"],
        key=f"{key}-csv",
        on_click="ignore",
        icon=":material/download:",
        help="Download this table as CSV (numbers unformatted, upside as a fraction)",
    )


def consensus_csv(table: pd.DataFrame, extra: Iterable[str] = ("name",)) -> pd.DataFrame:
    """The public CSV columns of a consensus table, followed by `extra` columns such as the name."""
    frame = export.contract_frame(table)
    for column in extra:
        if column in table.columns and column not in frame.columns:
            frame[column] = table[column].to_numpy()
    return frame


# --- provenance ---------------------------------------------------------------------------------


def price_sources(dataset: Dataset, tickers: Iterable[str]) -> list[str]:
    """'title (as of …)' of each price series behind the given tickers' bundled closes."""
    ids = dataset.prices.loc[dataset.prices["ticker"].isin(list(tickers)), "source_id"].dropna().unique()
    return [describe_source(dataset.sources, str(i)) for i in sorted(ids)]


def describe_source(sources: Mapping[str, Mapping[str, Any]], source_id: str) -> str:
    meta = sources.get(source_id, {})
    title = meta.get("title") or source_id
    return f"{title} ({meta.get('provider') or 'unknown provider'}, as of {dated(meta.get('as_of'))})"


def provenance_caption(table: pd.DataFrame, dataset: Dataset) -> None:
    """Caption naming the source and as-of date of every number in `table`, and where to read more."""
    parts = [md(source_caption(table))]
    closes = table.loc[table["price_source"] == "close", "ticker"].dropna().unique()
    if len(closes):
        kind = "Bundled" if dataset.kind == "bundle" else "Stored"
        parts.append(f"{kind} closes: " + "; ".join(md(s) for s in price_sources(dataset, closes)) + ".")
    if dataset.kind != "bundle":
        parts.append(md(f"{dataset_label(dataset)}. {freshness_text(dataset)}."))
    st.caption(" ".join(parts))
    st.page_link(
        METHODOLOGY, label="How labels, upside and the primary source are worked out", icon=":material/menu_book:"
    )


# --- text for people ----------------------------------------------------------------------------


def price_used(row: Mapping[Any, Any]) -> str:
    """'$13.41, quoted 2026-07-02' (the source's own) or '$13.35, close of 2026-07-02' (bundled close)."""
    price = money(row.get("price"), row.get("currency"))
    if price == MISSING:
        return MISSING
    when = dated(row.get("price_as_of"))
    return f"{price}, close of {when}" if row.get("price_source") == "close" else f"{price}, quoted {when}"


def sources_table(table: pd.DataFrame) -> pd.DataFrame:
    """One ticker's sources side by side, as text for people (the Ticker page)."""
    rows = table.to_dict("records")
    return pd.DataFrame(
        {
            "Source": table["source"].fillna(MISSING).to_numpy(),
            "As of": [dated(r["as_of"]) for r in rows],
            "Primary": ["yes" if r["is_primary"] else "" for r in rows],
            "Consensus": [label_text(r) for r in rows],
            "Analysts": [count(r["n_analysts"]) for r in rows],
            "Price used": [price_used(r) for r in rows],
            "Mean target": [money(r["target_mean"], r["currency"]) for r in rows],
            "Low – high target": [money_range(r["target_low"], r["target_high"], r["currency"]) for r in rows],
            "Upside (mean)": [percent(r["upside_mean"]) for r in rows],
            "Upside (low to high)": [
                MISSING
                if percent(r["upside_low"]) == MISSING
                else f"{percent(r['upside_low'])} to {percent(r['upside_high'])}"
                for r in rows
            ],
        }
    )


def rst_to_markdown(doc: str | None) -> list[tuple[str, str]]:
    """Split a module docstring into (heading, Markdown body) sections; the intro has heading ''.

    Understands what ``ratings.core``'s docstring uses: definition-list sections (a heading line,
    then an indented body), ``::`` literal blocks and ``inline literals``. The text is ours, not
    a user's, so it is rendered as Markdown; ``$`` is still escaped so prices never turn to LaTeX.
    """
    lines = inspect.cleandoc(doc or "").splitlines()
    sections: list[tuple[str, list[str]]] = [("", [])]
    for i, line in enumerate(lines):
        following = lines[i + 1] if i + 1 < len(lines) else ""
        is_heading = line and not line[0].isspace() and following.startswith(" ")
        if is_heading:
            sections.append((line.strip(), []))
        else:
            sections[-1][1].append(line)
    out: list[tuple[str, str]] = []
    for heading, body in sections:
        text = _literal_blocks(textwrap.dedent("\n".join(body)).strip())
        text = re.sub(r"``(.+?)``", r"`\1`", text).replace("$", r"\$")
        if heading or text:
            out.append((heading, text))
    return out


def _literal_blocks(text: str) -> str:
    """RST ``::`` + indented block -> ':' + fenced code block."""
    out: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.rstrip().endswith("::"):
            out.append(line.rstrip()[:-1])
            block: list[str] = []
            i += 1
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith(" ")):
                block.append(lines[i])
                i += 1
            out += ["", "```text", textwrap.dedent("\n".join(block)).strip("\n"), "```", ""]
            continue
        out.append(line)
        i += 1
    return "\n".join(out)


def table_height(rows: int, *, most: int = 25) -> int:
    """Pixel height that shows `rows` rows of st.dataframe (up to `most`) without inner scrolling."""
    return 38 + 35 * min(max(rows, 1), most)
