"""The dashboard: ``streamlit run app.py``. Pages live in ``pages/``; this file only wires them up."""

from __future__ import annotations

import streamlit as st

import ui

st.set_page_config(page_title="Analyst ratings", page_icon=":material/monitoring:", layout="wide")

page = st.navigation(
    [
        st.Page(ui.OVERVIEW, title="Overview", icon=":material/table_chart:", default=True),
        st.Page(ui.TICKER, title="Ticker", icon=":material/query_stats:"),
        st.Page(ui.COMPARE, title="Compare", icon=":material/compare_arrows:"),
        st.Page(ui.METHODOLOGY, title="Methodology", icon=":material/menu_book:"),
    ]
)

dataset = ui.load_dataset()
if dataset is None:
    st.stop()  # the error is on screen; no page can work without data

page.run()

with st.sidebar:
    st.divider()
    st.caption(f"**Data:** {ui.md(dataset.label)}. Every figure names its source and date.")
    for warning in dataset.warnings:
        st.caption(f"⚠️ {ui.md(warning)}")
