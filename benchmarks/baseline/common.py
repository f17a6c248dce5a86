"""What every baseline page draws: one dataframe and one Plotly chart of bundled consensus rows."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import plotly.express as px
import streamlit as st

DATA = Path(__file__).resolve().parents[2] / "data" / "consensus.parquet"


def draw(title: str, rows: int) -> None:
    frame = pd.read_parquet(DATA, columns=["ticker", "source", "price", "target_mean", "n_analysts"]).head(rows)
    frame["upside"] = frame["target_mean"] / frame["price"] - 1
    st.title(title)
    st.dataframe(frame, hide_index=True)
    st.plotly_chart(px.scatter(frame, x="n_analysts", y="upside", hover_name="ticker"))
