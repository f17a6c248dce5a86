"""Ticker: one ticker in depth: price with targets, every source, the consensus breakdown, and, where
the data has them, Yahoo's recommendation trend, the consensus history and analysts' actions."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ratings import dashboard as ui
from ratings.charts import history_chart, price_target_chart, rating_breakdown_chart, trend_chart
from ratings.core import coverage_partition, primary_rows
from ratings.dashboard import cache
from ratings.dataset import Dataset
from ratings.export import bundle_as_of
from ratings.formatting import MISSING, count, dated, label_text, money, percent, upgrades_table

TICKER_KEY = "ticker"
#: Wide enough for every header and figure whole ("Low – high target", "⚠ 2026-07-02 · 5 months ago").
SOURCE_COLUMN_WIDTHS = {
    "Source": 110, "Primary": 64, "As of": 190, "Consensus": 110, "Upside (mean)": 104, "Mean target": 100,
    "Median target": 110, "Upside (median)": 118, "Analysts": 72, "Ratings": 260, "Low – high target": 170,
    "Upside (low to high)": 170, "Price used": 230,
}  # fmt: skip
QUERY_PARAM = "ticker"
#: The page's tabs (only the open one is drawn), by their name in the address (``?section=history``).
SECTIONS = {"prices": "Price and targets", "ratings": "Ratings", "history": "History", "actions": "Analysts' actions"}
SECTION_KEY = "ticker_section"
SECTION_PARAM = "section"


def main() -> None:
    ui.run_through_app(QUERY_PARAM, SECTION_PARAM)
    dataset = ui.load_dataset()
    if dataset is None:
        return
    known = dataset.known_tickers
    # The watchlist first, then the tickers with a consensus in the data, then every other one.
    watched = [t for t in ui.watchlist_tickers() if t in known]
    covered = set(dataset.consensus["ticker"].dropna())
    rest = known - set(watched)
    options = watched + sorted(rest & covered) + sorted(rest - covered)
    default = next((t for t in options if t in covered), options[0])
    names = dict(zip(dataset.universe["ticker"], dataset.universe["name"].fillna(""), strict=True))

    ui.seed_widget(TICKER_KEY, lambda: ui.link_ticker(QUERY_PARAM, known, default))

    ticker = st.columns([2, 3])[0].selectbox(
        "Ticker",
        options,
        key=TICKER_KEY,
        format_func=lambda t: f"{t} — {names[t]}" if names.get(t) else t,
        help="Type to search by symbol or name.",
    )
    ui.remember(TICKER_KEY)
    ui.set_query_param(QUERY_PARAM, ticker)

    src = ui.source()
    table = cache.table((ticker,), src)
    primary = primary_rows(table).to_dict("records")[0]
    as_of = bundle_as_of(table)
    name = names.get(ticker) or ""
    st.title(f"{ui.md(ticker)} · {ui.md(name)}" if name else ui.md(ticker))

    coverage = coverage_partition(table)
    if coverage.none:
        st.info(
            f"{ui.data_name(dataset).capitalize()} has no analyst consensus for {ui.md(ticker)}.",
            icon=":material/info:",
        )
    elif coverage.rating_only:
        st.info(
            f"{ui.md(ticker)} has a rating only ({ui.md(label_text(primary))} from {ui.md(primary['source'])}, "
            f"{ui.md(dated(primary['as_of']))}): the data has no price targets for it, so no upside.",
            icon=":material/info:",
        )

    has_consensus = not coverage.none
    if has_consensus:
        label = primary["consensus"]
        columns = st.columns(4)
        columns[0].metric("Consensus", label if isinstance(label, str) else MISSING, help=ui.md(label_text(primary)))
        columns[1].metric(
            "Mean target",
            money(primary["target_mean"], primary["currency"]),
            help=ui.md(f"{primary['source']}, {dated(primary['as_of'])}"),
        )
        columns[2].metric(
            "Implied upside",
            percent(primary["upside_mean"]),
            help=ui.md(f"Mean target / price − 1, with the price {ui.price_used(primary)}"),
        )
        columns[3].metric("Analysts", count(primary["n_analysts"]))

    shown = ui.sections(SECTIONS, key=SECTION_KEY, param=SECTION_PARAM)
    with shown[shown.open]:
        if shown.open == "prices":
            prices_section(dataset, table, ticker, src, as_of)
        elif shown.open == "ratings":
            if has_consensus:
                st.subheader("Consensus breakdown")
                ui.chart(rating_breakdown_chart, table, kind="ratings", tickers=[ticker], as_of=as_of,
                         key="ticker-ratings")  # fmt: skip
            trend_section(dataset, ticker)
        elif shown.open == "history":
            history_section(dataset, ticker, cache.history(ticker, src), src)
        else:
            upgrades_section(dataset, ticker, primary.get("currency"))
    ui.static_export_note()
    ui.provenance_caption(table, dataset)


def prices_section(dataset: Dataset, table: pd.DataFrame, ticker: str, src: cache.Source, as_of: str | None) -> None:
    """The price history with every source's targets, and the sources side by side."""
    prices = cache.prices(ticker, src)
    history = cache.history(ticker, src)
    st.subheader("Price and targets")
    if prices.empty:
        st.info(f"{ui.data_name(dataset).capitalize()} has no prices for {ui.md(ticker)}.", icon=":material/info:")
    else:
        ui.chart(
            price_target_chart, table, prices=prices, history=history if not history.empty else None, ticker=ticker,
            kind="price-targets", tickers=[ticker], as_of=as_of, key="ticker-price",
        )  # fmt: skip
        first, last = prices["date"].min(), prices["date"].max()
        st.caption(
            f"Prices {first:%Y-%m-%d} to {last:%Y-%m-%d} from "
            + "; ".join(ui.md(s) for s in ui.price_sources(dataset, [ticker]))
            + "."
        )

    st.subheader("Every source side by side")
    ui.table(
        ui.sources_table(table, dataset.kind),
        what=f"{ticker}'s sources side by side",
        height=ui.table_height(len(table)),
        column_config={name: st.column_config.TextColumn(width=w) for name, w in SOURCE_COLUMN_WIDTHS.items()},
    )
    ui.csv_button(ui.consensus_csv(table), kind="sources", tickers=[ticker], as_of=as_of, key="ticker-sources")


def trend_section(dataset: Dataset, ticker: str) -> None:
    """Yahoo's recommendation trend by month, or a line saying the data has none for this ticker."""
    trend = dataset.trend_for(ticker)
    st.subheader("Recommendation trend")
    if trend.empty:
        st.info(f"{ui.data_name(dataset).capitalize()} has no recommendation trend for {ui.md(ticker)}.",
                icon=":material/info:")  # fmt: skip
        return
    fetched = str(trend["observed_at"].max())
    ui.chart(trend_chart, trend, kind="trend", tickers=[ticker], as_of=fetched[:10], key="ticker-trend")


def history_section(dataset: Dataset, ticker: str, history: pd.DataFrame, src: cache.Source) -> None:
    """The consensus over time: label, mean target and upside, one line per source."""
    st.subheader("Consensus history")
    if history.empty:
        st.info(
            f"No history for {ui.md(ticker)}: {ui.data_name(dataset)} holds no dated snapshots of its consensus."
            + (" Each fetch adds one; fetch it again on another day." if dataset.kind != "bundle" else ""),
            icon=":material/info:",
        )
        return
    days = history["as_of"].dropna()
    newest = str(days.max()) if not days.empty else None
    ui.chart(history_chart, cache.history_metrics(ticker, src), kind="history", tickers=[ticker], as_of=newest,
             key="ticker-history")  # fmt: skip
    if len(history) == 1:
        st.caption("One snapshot so far: the history grows with every fetch on another day.")
    ui.csv_button(history, kind="history", tickers=[ticker], as_of=newest, key="ticker-history", label="History as CSV")


def upgrades_section(dataset: Dataset, ticker: str, currency: object) -> None:
    """Analysts' upgrades, downgrades and target changes, newest first, or a line saying there are none."""
    actions = dataset.upgrades_for(ticker)
    st.subheader("Upgrades and downgrades")
    if actions.empty:
        st.info(f"{ui.data_name(dataset).capitalize()} has no analyst actions for {ui.md(ticker)}.",
                icon=":material/info:")  # fmt: skip
        return
    shown = upgrades_table(actions, currency)
    newest = str(actions["graded_at"].max())[:10]
    ui.table(shown, what=f"Analysts' actions on {ticker}, newest first", height=ui.table_height(len(shown), most=12))
    unit = ui.md(currency if isinstance(currency, str) else "the quote currency")
    targets = (
        f"Price targets in {unit}; — where Yahoo gives none."
        if "Price target" in shown.columns
        else "These actions carry no price targets (Yahoo sends them only from 2025 on)."
    )
    st.caption(f"{len(shown):,} actions reported by Yahoo Finance, newest {ui.md(newest)}. {targets}")
    ui.csv_button(actions, kind="upgrades", tickers=[ticker], as_of=newest, key="ticker-upgrades",
                  label="Actions as CSV")  # fmt: skip


main()
