"""Refreshing from Yahoo (the Live source): the sidebar's button, the progress bar, and the staleness banner."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import streamlit as st

from ..dataset import Dataset
from ..formatting import staleness_lines, utc_minute
from ..schema import NO_COVERAGE_REASON
from ..store import StoreError
from . import cache
from .markdown import md
from .watchlist import watchlist_tickers

if TYPE_CHECKING:
    from ..yahoo import LiveResult

REFRESH_KEY = "refresh"
#: A ticker's outcome in the progress bar.
STATUS_WORDS = {"ok": "fetched", "no_coverage": "has no analyst coverage", "failed": "failed"}

# Session-state keys of the session's last refresh and of a click not yet acted on.
_LAST_REFRESH = "_last_refresh"
_REFRESH_REQUESTED = "_refresh_requested"


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
        # The ticker and its outcome only: why a ticker failed is said once, in the banner after the run.
        bar.progress(done / max(total, 1), text=md(f"{done} of {total}: {result.ticker} {STATUS_WORDS[result.status]}"))

    try:
        outcome = cache.refresh(tickers, on_progress=on_progress)
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
    """After a refresh that failed for some tickers (this session's, else the store's last fetch, which
    ``ratings fetch`` may have made): how old their data is, and why. The one place a failure is said."""
    if data.kind == "bundle":
        return
    last = st.session_state.get(_LAST_REFRESH)
    if isinstance(last, dict):
        failures, attempted, started = last["failures"], len(last["tickers"]), last["started_at"]
    elif data.last_fetch is not None:
        entry = data.last_fetch
        failures = {t: r for t, r in entry.reasons.items() if not r.startswith(NO_COVERAGE_REASON)}
        attempted, started = len(entry.tickers), entry.started_at
    else:
        return
    if not failures:
        return
    observed = data.history.dropna(subset=["observed_at"]).groupby("ticker")["observed_at"].max()
    lines = staleness_lines(
        failures,
        attempted=attempted,
        refreshed_at=started,
        data_from={str(t): str(v) for t, v in observed.items()},
        now=datetime.now(UTC),
    )
    if lines:
        st.warning("  \n".join(md(line) for line in lines), icon=":material/history:")
