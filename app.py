"""The dashboard: ``streamlit run app.py``. Pages live in ``pages/``; this file only wires them up."""

from __future__ import annotations

import streamlit as st

from ratings import dashboard as ui
from ratings.formatting import dataset_label

# A local file: a Material icon as favicon is fetched from fonts.gstatic.com, and nothing may leave the machine.
st.set_page_config(page_title="Analyst ratings", page_icon=ui.FAVICON, layout="wide")

page = st.navigation(
    [
        st.Page(ui.OVERVIEW, title="Overview", icon=":material/table_chart:", default=True),
        st.Page(ui.TICKER, title="Ticker", icon=":material/query_stats:"),
        st.Page(ui.CHANGES, title="Changes", icon=":material/change_history:"),
        st.Page(ui.COMPARE, title="Compare", icon=":material/compare_arrows:"),
        st.Page("pages/track_record.py", title="Track record", icon=":material/leaderboard:"),
        st.Page(ui.METHODOLOGY, title="Methodology", icon=":material/menu_book:"),
    ]
)

kind = ui.source_choice()
ui.watchlist_box()  # on every run, before anything can stop it: see ratings/dashboard/watchlist.py
if kind == "live":
    ui.refresh_controls()  # before loading: a refresh's data is what this run shows

dataset = ui.open_dataset(kind)
if dataset is None:
    st.stop()  # the reason is on screen; no page can work without data

ui.staleness_banner(dataset)
page.run()

with st.sidebar:
    st.divider()
    note = f"**Data:** {ui.md(dataset_label(dataset))}."
    if fresh := ui.freshness_text(dataset):
        note += f" {ui.md(fresh)}."
    # What went wrong is said once, in the page's banner (ui.staleness_banner), not again here.
    st.caption(note + " Every figure names its source and date.")
