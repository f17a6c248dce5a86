"""State that survives page switches and is shared through the address: widget values and query parameters.

Streamlit forgets a widget's state when a run does not draw it (another page is open), and its
navigation empties the address on a page switch; these helpers put both back as the session last
had them, so that a shared link opens the same view and a page switch loses nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st

#: The pages, as app.py's navigation and st.page_link name them.
OVERVIEW = "pages/overview.py"
TICKER = "pages/ticker.py"
COMPARE = "pages/compare.py"
METHODOLOGY = "pages/methodology.py"
CHANGES = "pages/changes.py"

#: Session-state key of the watchlist text (the sidebar box on every page; Compare offers it as a universe).
WATCHLIST_KEY = "watchlist"
#: Query parameter that carries the watchlist in a shared link (on every page that uses the watchlist).
WATCHLIST_PARAM = "tickers"
#: Session-state key and query parameter of the data source.
SOURCE_KEY = "data_source"
SOURCE_PARAM = "source"
#: Query parameters every page keeps; any other belongs to one page and leaves the address on a page switch.
SHARED_PARAMS = (SOURCE_PARAM, WATCHLIST_PARAM)

_PAGE_SHOWN = "_page_shown"
_SHARED_VALUES = "_shared_params"

T = TypeVar("T")


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
