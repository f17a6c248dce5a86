"""The watchlist: the sidebar's box (drawn on every run, on every page), and what it parses to.

The box is drawn by app.py before anything that can stop a run (no store yet, a store that cannot be
read): a widget that is left out of one run and drawn again in the next shows an empty box in the
browser while the server still holds its value (streamlit/streamlit#5620), and the next keystroke
would then replace the whole list.
"""

from __future__ import annotations

import streamlit as st

from ..dataset import Dataset
from ..tickers import WATCHLIST, ParsedTickers, parse_tickers
from .state import WATCHLIST_KEY, WATCHLIST_PARAM, remember, remembered, seed_widget, set_query_param, shared_param


def initial_watchlist() -> str:
    """The watchlist of a shared link (``?tickers=F,TSLA``), else the default one."""
    shared = shared_param(WATCHLIST_PARAM)
    return ", ".join(WATCHLIST) if shared is None else shared.replace(",", ", ")


def watchlist_box() -> None:
    """app.py, on every run: the sidebar's watchlist box, seeded from the link or the session."""
    seed_widget(WATCHLIST_KEY, initial_watchlist)
    st.sidebar.text_input(
        "Watchlist",
        key=WATCHLIST_KEY,
        help="Tickers separated by commas or spaces, as Yahoo spells them: F, BRK-B, 1810.HK. "
        "The page address keeps the list, so a link shares this view.",
        placeholder="F, TSLA, NVDA",
    )
    remember(WATCHLIST_KEY)


def watchlist_input(data: Dataset) -> ParsedTickers:
    """What the watchlist box parses to with `data`, kept in the address (``?tickers=``).

    With the bundle a ticker must be in the data; with the store any well-formed symbol is kept,
    so that a refresh can fetch it.
    """
    text = remembered(WATCHLIST_KEY)
    parsed = parse_tickers(
        text if isinstance(text, str) else initial_watchlist(),
        known=data.known_tickers if data.kind == "bundle" else None,
    )
    set_query_param(WATCHLIST_PARAM, ",".join(parsed.valid))
    return parsed


def watchlist_tickers() -> list[str]:
    """The watchlist as last edited in this session (on any page), else the link's, else the default."""
    text = remembered(WATCHLIST_KEY)
    return parse_tickers(text if isinstance(text, str) else initial_watchlist()).valid
