"""Ticker: one ticker in depth: price history with targets, the consensus breakdown, every source."""

from __future__ import annotations

import streamlit as st

import ui
from ratings import st_cache
from ratings.charts import price_target_chart, rating_breakdown_chart
from ratings.core import COVERAGE_NONE, COVERAGE_RATING, COVERAGE_TARGETS, primary_rows
from ratings.export import bundle_as_of
from ratings.formatting import MISSING, count, dated, label_text, money, percent
from ratings.tickers import WATCHLIST, parse_tickers

TICKER_KEY = "ticker"
QUERY_PARAM = "ticker"


def main() -> None:
    ui.run_through_app()
    dataset = ui.load_dataset()
    if dataset is None:
        return
    known = dataset.known_tickers
    # The watchlist first, then every other ticker alphabetically.
    options = [t for t in WATCHLIST if t in known] + sorted(known - set(WATCHLIST))
    names = dict(zip(dataset.universe["ticker"], dataset.universe["name"].fillna(""), strict=True))

    shared = st.query_params.get(QUERY_PARAM)
    parsed = parse_tickers(shared or "", known=known)
    if shared and parsed.invalid and TICKER_KEY not in st.session_state:
        st.warning(
            f"{ui.md(shared)} is not in the data ({ui.md(next(iter(parsed.invalid.values())))}); "
            f"showing {ui.md(options[0])} instead.",
            icon=":material/warning:",
        )
    ui.seed_widget(TICKER_KEY, lambda: parsed.valid[0] if parsed.valid else options[0])

    ticker = st.columns([2, 3])[0].selectbox(
        "Ticker",
        options,
        key=TICKER_KEY,
        format_func=lambda t: f"{t} — {names[t]}" if names.get(t) else t,
        help="Type to search by symbol or name.",
    )
    ui.remember(TICKER_KEY)
    ui.set_query_param(QUERY_PARAM, ticker)

    table = st_cache.table((ticker,))
    primary = primary_rows(table).to_dict("records")[0]
    as_of = bundle_as_of(table)
    name = names.get(ticker) or ""
    st.title(f"{ui.md(ticker)} · {ui.md(name)}" if name else ui.md(ticker))

    coverage = set(table["coverage"])
    if coverage == {COVERAGE_NONE}:
        st.info(f"The bundled snapshot has no analyst consensus for {ui.md(ticker)}.", icon=":material/info:")
    elif COVERAGE_TARGETS not in coverage and COVERAGE_RATING in coverage:
        st.info(
            f"{ui.md(ticker)} has a rating only ({ui.md(label_text(primary))} from {ui.md(primary['source'])}, "
            f"{ui.md(dated(primary['as_of']))}): the data has no price targets for it, so no upside.",
            icon=":material/info:",
        )

    has_consensus = coverage != {COVERAGE_NONE}
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

    prices = st_cache.prices(ticker)
    st.subheader("Price and targets")
    if prices.empty:
        st.info(f"The bundled snapshot has no prices for {ui.md(ticker)}.", icon=":material/info:")
    else:
        history = st_cache.history(ticker)
        ui.chart(
            price_target_chart(prices, table, history if not history.empty else None, ticker=ticker),
            kind="price-targets", tickers=[ticker], as_of=as_of, key="ticker-price",
        )  # fmt: skip
        first, last = prices["date"].min(), prices["date"].max()
        st.caption(
            f"Prices {first:%Y-%m-%d} to {last:%Y-%m-%d} from "
            + "; ".join(ui.md(s) for s in ui.price_sources(dataset, [ticker]))
            + "."
        )

    st.subheader("Every source side by side")
    st.dataframe(ui.sources_table(table), hide_index=True, height=ui.table_height(len(table)))
    ui.csv_button(ui.consensus_csv(table), kind="sources", tickers=[ticker], as_of=as_of, key="ticker-sources")

    if has_consensus:
        st.subheader("Consensus breakdown")
        ui.chart(rating_breakdown_chart(table), kind="ratings", tickers=[ticker], as_of=as_of, key="ticker-ratings")
    ui.static_export_note()
    ui.provenance_caption(table, dataset)


main()
