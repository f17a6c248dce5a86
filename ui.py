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
from functools import partial
from typing import Any, TypeVar

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from ratings import export, st_cache
from ratings.charts import source_caption
from ratings.data import DataError, Dataset
from ratings.formatting import MISSING, count, dated, label_text, money, money_range, percent

OVERVIEW = "pages/overview.py"
TICKER = "pages/ticker.py"
COMPARE = "pages/compare.py"
METHODOLOGY = "pages/methodology.py"

#: Session-state key of the Overview's watchlist text (the Compare page offers it as a universe).
WATCHLIST_KEY = "watchlist"

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


def run_through_app() -> None:
    """Make sure this page runs inside app.py's navigation; call first thing on every page.

    Streamlit starts in its legacy mode when a ``pages/`` folder sits beside the main script, and
    leaves it only once ``st.navigation`` has been called. Until then, a first visit straight to
    a shared link such as ``/ticker?ticker=F`` runs the page alone: no app.py, so no wide layout,
    no page titles, no data note. Leave that mode and rerun, so app.py serves the same URL.
    """
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # Streamlit moved it: the worst case is the legacy look, not an error
        return
    if getattr(PagesManager, "uses_pages_directory", None):
        PagesManager.uses_pages_directory = False
        st.rerun()


def load_dataset() -> Dataset | None:
    """The cached dataset, or None after showing why it could not be loaded (never a traceback)."""
    try:
        return st_cache.dataset()
    except DataError as exc:
        st.error(f"The data could not be loaded. {md(exc)}")
        return None


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


def set_query_param(name: str, value: str | list[str] | None) -> None:
    """Write one query parameter (None or an empty list removes it); only when it changes."""
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
        parts.append("Bundled closes: " + "; ".join(md(s) for s in price_sources(dataset, closes)) + ".")
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
