"""The baseline of benchmarks/interaction.py: a bare Streamlit app with the dashboard's shape and nothing else.

Three small pages in st.navigation, each one Plotly chart and one dataframe read from a Parquet file of
the bundle, served with the same flags as the dashboard. What the dashboard costs beyond this is its own.
"""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="Baseline", layout="wide")
page = st.navigation([st.Page(f"page_{name}.py", title=name.title(), default=name == "a") for name in "abc"])
st.sidebar.text_input("Watchlist", value="F, TSLA, NVDA", key="watchlist")
page.run()
