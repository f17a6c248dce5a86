"""Changes: what moved across the watchlist since the previous snapshot, or since a chosen day."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from ratings import dashboard as ui
from ratings.charts import UPSIDE_FORMULA, source_caption
from ratings.dashboard import cache
from ratings.formatting import changes_table, worded_changes
from ratings.tickers import WATCHLIST

MODE_KEY, SINCE_KEY = "changes_mode", "changes_since"
OPENING_KEY = "_changes_opening"  # the day the page opened on by itself (None: the previous snapshots)
SINCE_PARAM = "since"
MODES = {
    "previous": "Each ticker's previous snapshot",
    "day": "The last snapshot on or before a day",
}


def snapshot_days(history: pd.DataFrame) -> list[date]:
    """The days (UTC) on which the given snapshots were taken, oldest first."""
    when = history["observed_at"].fillna(history["as_of"]).dropna().astype(str).str.slice(0, 10)
    days = pd.to_datetime(when, format="%Y-%m-%d", errors="coerce").dropna()
    return sorted({d.date() for d in days})


def shared_since() -> date | None:
    """The day of a shared link (``?since=2026-06-29``), if it is one."""
    return ui.link_day(SINCE_PARAM, "comparing with each ticker's previous snapshot instead")


def shared_since_within(days: list[date]) -> date | None:
    """The day of a shared link, moved onto the snapshot days (oldest first) if it lies outside them, which is said."""
    day = shared_since()
    if day is None:
        return None
    first, last = days[0], days[-1]
    if day < first:
        problem = f"is before the first snapshot ({first.isoformat()}), so no snapshot lies on or before it"
        ui.link_warning(SINCE_PARAM, day.isoformat(), problem, f"comparing since {first.isoformat()} instead")
        return first
    if day > last:
        problem = f"is after the last snapshot ({last.isoformat()})"
        ui.link_warning(SINCE_PARAM, day.isoformat(), problem, f"comparing since {last.isoformat()} instead")
        return last
    return day


def main() -> None:
    ui.run_through_app(SINCE_PARAM)
    dataset = ui.load_dataset()
    if dataset is None:
        return
    st.title("What changed")
    st.caption(
        "Across the watchlist: consensus label changes, mean price target raises and cuts, and analysts' "
        "upgrades, downgrades and target changes since the previous snapshot (or since a day), with dates."
    )
    # The sidebar's watchlist (a link carries it as ?tickers=).
    tickers = ui.watchlist_tickers()
    ui.set_query_param(ui.WATCHLIST_PARAM, ",".join(tickers))
    if not tickers:
        st.info(
            "The watchlist is empty. Add tickers in the sidebar, for example " + ui.md(", ".join(WATCHLIST[:3])) + ".",
            icon=":material/info:",
        )
        return

    history = dataset.history[dataset.history["ticker"].isin(tickers)]
    snapshots = history.groupby("ticker").size()
    with_history = [t for t in tickers if snapshots.get(t, 0) >= 2]
    without = [t for t in tickers if t not in with_history]
    if not with_history:
        st.info(
            f"No history to compare: {ui.data_name(dataset)} holds at most one snapshot of each watchlist "
            "ticker, and a change needs two."
            + (" Each fetch adds a snapshot; fetch again on another day." if dataset.kind != "bundle" else ""),
            icon=":material/info:",
        )
        return

    days = snapshot_days(history)
    src = ui.source()

    def first_view() -> date | None:
        """None (each ticker's previous snapshot) if anything moved since then, else the latest day since which
        something moved: a page that opens on "nothing moved" hides what did. Kept for the session."""
        if OPENING_KEY not in st.session_state:
            moved_lately = not cache.changes(tuple(with_history), None, src).empty
            later = (d for d in reversed(days[:-1]) if not cache.changes(tuple(with_history), d.isoformat(), src).empty)
            st.session_state[OPENING_KEY] = None if moved_lately else next(later, None)
        opened: date | None = st.session_state[OPENING_KEY]
        return opened

    # A link's own since= (even one that is no day: its warning promises the previous snapshots) decides.
    linked = ui.link_text(SINCE_PARAM) is not None
    ui.seed_widget(MODE_KEY, lambda: "day" if shared_since() or (not linked and first_view()) else "previous")
    mode = st.radio("Compare with", list(MODES), format_func=MODES.__getitem__, key=MODE_KEY, horizontal=True)
    ui.remember(MODE_KEY)
    since: date | None = None
    if mode == "day":
        previous = days[-2] if len(days) > 1 else days[0]
        ui.seed_widget(SINCE_KEY, lambda: shared_since_within(days) or first_view() or previous)
        # A day remembered from another data source may lie outside this one's snapshots.
        st.session_state[SINCE_KEY] = min(max(st.session_state[SINCE_KEY], days[0]), days[-1])
        since = st.columns([1, 3])[0].date_input(
            "Since",
            key=SINCE_KEY,
            min_value=days[0],
            max_value=days[-1],
            format="YYYY-MM-DD",
            help="Compare each ticker's latest snapshot with its last snapshot on or before this day; "
            "analysts' actions graded after that snapshot are listed too.",
        )
        ui.remember(SINCE_KEY)
    opened_on = st.session_state.get(OPENING_KEY)
    automatic = since is not None and since == opened_on and not shared_since()
    # The view the page chose by itself needs no address of its own: the same link opens on it again.
    ui.set_query_param(SINCE_PARAM, since.isoformat() if isinstance(since, date) and not automatic else None)

    since_text = since.isoformat() if isinstance(since, date) else None
    if automatic and isinstance(opened_on, date):
        st.caption(
            f"Nothing moved since each ticker's previous snapshot; this is the most recent period in which "
            f"something did: since {opened_on.isoformat()}."
        )
    moved = worded_changes(cache.changes(tuple(with_history), since_text, src))
    baseline = f"since {since.isoformat()}" if isinstance(since, date) else "since each ticker's previous snapshot"
    if moved.empty:
        hint = ""
        if since is None and len(days) > 2:
            # The latest two snapshots can agree while earlier ones differ: point at the longer view.
            hint = f" The snapshots go back to {days[0].isoformat()}: choose *{MODES['day']}* to look further back."
        st.info(f"Nothing moved for {ui.md_list(with_history)} {ui.md(baseline)}.{hint}", icon=":material/info:")
    else:
        shown = changes_table(moved)
        ui.table(shown, what="What moved, newest first", height=ui.table_height(len(shown)))
        newest = str(moved["date"].max())
        ui.csv_button(moved, kind="changes", tickers=with_history, as_of=newest, key="changes")
    notes = [
        f"Compared: {ui.md_list(with_history)}, {ui.md(baseline)}.",
        md_sources(history),
    ]
    if without:
        notes.append(f"No history (one snapshot or none) for {ui.md_list(without)}.")
    st.caption(" ".join(notes))


def md_sources(history: pd.DataFrame) -> str:
    """The sources and dates of the snapshots compared (the upside formula does not apply here)."""
    return ui.md(source_caption(history).replace(UPSIDE_FORMULA, "").strip())


main()
