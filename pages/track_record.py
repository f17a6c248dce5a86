"""Track record: how good are the analysts? Every firm's calls scored against what the stock did next, the
firms ranked with their sample sizes and 95% intervals, one firm's calls on a price chart, and price targets
checked against the prices that followed where the data has them."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import streamlit as st

from ratings import dashboard as ui
from ratings import targets as tg
from ratings import track_record as tr
from ratings.charts import calls_chart, success_rate_chart
from ratings.core import primary_rows
from ratings.dashboard import cache
from ratings.dataset import Dataset
from ratings.formatting import (
    CALL_COLUMNS,
    bias_aware_text,
    call_cells,
    horizon_text,
    no_targets_text,
    published_table,
    scoring_text,
    status_lines,
    target_text,
)
from ratings.grades import unknown_grades

TICKER, HORIZON, MIN_CALLS, FIRM, CHART_TICKER = "tr_ticker", "tr_horizon", "tr_min_calls", "tr_firm", "tr_chart_ticker"
PARAMS = {TICKER: "ticker", HORIZON: "horizon", MIN_CALLS: "min_calls", FIRM: "firm"}
ALL = "all"
MOST_MIN_CALLS = 100

PERCENT_COLUMNS = ("success_rate", "success_low", "success_high", "mean_excess", "median_excess", "mean_return")
GRID = {
    "rank": st.column_config.NumberColumn("Rank", format="%d", help="By the lower bound of the 95% interval"),
    "firm": st.column_config.TextColumn("Firm"),
    "tickers": st.column_config.TextColumn("Tickers"),
    "scored_calls": st.column_config.NumberColumn("Scored calls", format="%d"),
    "successes": st.column_config.NumberColumn("Successes", format="%d"),
    "success_rate": st.column_config.NumberColumn("Success rate", format="%.0f%%"),
    "success_low": st.column_config.NumberColumn("95% interval from", format="%.0f%%", help="Wilson score interval"),
    "success_high": st.column_config.NumberColumn("to", format="%.0f%%"),
    "mean_excess": st.column_config.NumberColumn(
        "Mean excess", format="%+.1f%%", help="Over the benchmark, in the call's direction (a sell's is negated)"
    ),
    "median_excess": st.column_config.NumberColumn("Median excess", format="%+.1f%%"),
    "buy_calls": st.column_config.NumberColumn("Buy-type", format="%d"),
    "sell_calls": st.column_config.NumberColumn("Sell-type", format="%d"),
    "pending": st.column_config.NumberColumn("Pending", format="%d", help="Windows not closed by the last close"),
    "first_call": st.column_config.TextColumn("First call"),
    "last_call": st.column_config.TextColumn("Last call"),
}


def percent_grid(frame: pd.DataFrame, columns: Mapping[str, object]) -> pd.DataFrame:
    """`columns` of `frame`, fractions as percents: the grid formats and sorts the numbers itself."""
    grid = frame[[c for c in columns if c in frame.columns]].copy()
    shown = [c for c in PERCENT_COLUMNS if c in grid.columns]
    grid[shown] = grid[shown] * 100
    return grid


def main() -> None:
    ui.run_through_app(*PARAMS.values())
    dataset = ui.load_dataset()
    if dataset is None:
        return
    st.title("Track record: how good are the analysts?")
    st.markdown(
        "Every buy- or sell-type call of a research firm, scored against what the stock then did beside a "
        "benchmark; the firms ranked so that two lucky calls do not top the list, each with its number of "
        "calls and a 95% interval. The rules are on the Methodology page (`ratings.track_record`)."
    )
    where = ui.data_name(dataset)
    rated = sorted(set(dataset.upgrades["ticker"].dropna()))
    if not rated:
        st.info(
            f"{where.capitalize()} holds no analysts' actions, so there is no call to score.", icon=":material/info:"
        )
        return
    names = dict(zip(dataset.universe["ticker"], dataset.universe["name"].fillna(""), strict=True))
    options = [ALL, *rated]
    horizons = {str(h): horizon_text(h) for h in tr.HORIZONS}
    ui.seed_widget(TICKER, lambda: ui.link_choice(PARAMS[TICKER], options, ALL, "showing all tickers instead"))
    ui.seed_widget(HORIZON, lambda: ui.link_choice(PARAMS[HORIZON], horizons, "12", "showing 12 months instead"))
    ui.seed_widget(
        MIN_CALLS,
        lambda: ui.link_int(PARAMS[MIN_CALLS], tr.DEFAULT_MIN_CALLS, 1, MOST_MIN_CALLS, "using {} calls instead"),
    )
    left, middle, right = st.columns([3, 3, 2])
    ticker = left.selectbox(
        "Ticker", options, key=TICKER,
        format_func=lambda t: "All tickers" if t == ALL else f"{t} — {names[t]}" if names.get(t) else t,
    )  # fmt: skip
    horizon = middle.radio("Window", list(horizons), format_func=horizons.__getitem__, key=HORIZON, horizontal=True)
    min_calls = int(right.number_input("Minimum scored calls", 1, MOST_MIN_CALLS, step=1, key=MIN_CALLS))
    for key in (TICKER, HORIZON, MIN_CALLS):
        ui.remember(key)
    ui.set_query_param(PARAMS[TICKER], ticker if ticker != ALL else None)
    ui.set_query_param(PARAMS[HORIZON], horizon if horizon != "12" else None)
    ui.set_query_param(PARAMS[MIN_CALLS], str(min_calls) if min_calls != tr.DEFAULT_MIN_CALLS else None)

    actions = dataset.upgrades if ticker == ALL else dataset.upgrades[dataset.upgrades["ticker"] == ticker]
    closes, benchmark = tr.scoring_closes(dataset.adjusted_closes, dataset.prices)
    calls = tr.score_calls(actions, closes, benchmark=benchmark, horizon_months=int(horizon))
    used = closes[closes["ticker"].isin([*calls["ticker"].unique(), benchmark])]
    as_of = f"{used['date'].max():%Y-%m-%d}" if not used.empty else None
    note = scoring_text(int(horizon), benchmark, used["date"].min(), used["date"].max(), sources_text(dataset, used))
    scope = [ticker if ticker != ALL else "all-tickers", f"{horizon}m", f"min{min_calls}calls"]
    st.caption(ui.md(note))
    lines = status_lines(
        tr.status_counts(calls), tr.unpriced_breakdown(calls, closes), unknown_grades(actions["to_grade"])
    )
    st.markdown("\n".join(f"- {ui.md(line)}" for line in lines))
    if unpriced := tr.unpriced_tickers(calls):
        st.info(
            f"{where.capitalize()} has no closes for {ui.md_list(unpriced)} over their calls' dates: none of their "
            "calls can be scored.",
            icon=":material/info:",
        )
    if benchmark is None:
        st.warning(f"{where.capitalize()} has no benchmark closes (EW-SP500 or SPY): no call is scored.")

    firms = tr.firm_record(calls, min_calls=min_calls)
    st.subheader("Firms ranked")
    if firms.empty:
        st.info(f"No firm has {min_calls:,} scored calls here: lower the minimum.", icon=":material/info:")
    else:
        st.dataframe(percent_grid(firms, GRID), hide_index=True, column_config=GRID,
                     height=ui.table_height(len(firms), most=12))  # fmt: skip
        st.caption(
            "Ranked by the lower bound of the Wilson 95% interval of the success rate, then by more calls: "
            "the firm's true rate lies above it with about 97.5% confidence, so a firm needs many calls to rank high."
        )
        shown = sorted(set(calls.loc[calls["scored"], "ticker"]))
        ui.csv_button(firms[list(tr.FIRM_CSV_COLUMNS)], kind="track-record", tickers=shown, as_of=as_of,
                      key="track-record-firms", scope=scope)  # fmt: skip
        st.subheader("Success rate with its 95% interval")
        ui.chart(success_rate_chart(firms, note=note), kind="success-rate", tickers=shown, as_of=as_of,
                 key="track-record-rates", scope=scope)  # fmt: skip
        if ticker == ALL:
            pairs = tr.firm_ticker_record(calls, min_calls=min_calls)
            with st.expander(f"By firm and ticker ({len(pairs):,} pairs with {min_calls:,} scored calls or more)"):
                st.dataframe(percent_grid(pairs, GRID), hide_index=True, column_config=GRID,
                             height=ui.table_height(len(pairs), most=12))  # fmt: skip
                ui.csv_button(pairs[list(tr.FIRM_CSV_COLUMNS)], kind="track-record-pairs", tickers=shown, as_of=as_of,
                              key="track-record-pairs", scope=scope)  # fmt: skip
        firm_section(firms, calls, closes, note, as_of)

    ticker_section(calls, as_of, scope)
    targets_section(dataset, calls, closes, ticker, where)
    ui.static_export_note()


def sources_text(dataset: Dataset, used: pd.DataFrame) -> str:
    """'Alpha Vantage, as of 2021-04-21; ...': each source of the closes used, with its date."""
    parts = []
    for source_id in used["source_id"].dropna().unique():
        meta = dataset.sources.get(str(source_id), {})
        parts.append(f"{meta.get('provider') or source_id}, as of {meta.get('as_of') or 'an unknown date'}")
    return "; ".join(parts) or "no closes"


def firm_section(firms: pd.DataFrame, calls: pd.DataFrame, closes: pd.DataFrame, note: str, as_of: str | None) -> None:
    """One firm's calls: on a price chart, marked, and as a table."""
    st.subheader("A firm's calls")
    ranked = firms["firm"].tolist()
    ui.seed_widget(FIRM, lambda: ui.link_choice(PARAMS[FIRM], ranked, ranked[0], f"showing {ranked[0]} instead"))
    if st.session_state[FIRM] not in ranked:  # a firm remembered from another ticker or window
        st.session_state[FIRM] = ranked[0]
    left, right = st.columns([3, 2])
    firm = left.selectbox("Firm", ranked, key=FIRM, format_func=lambda f: f"#{ranked.index(f) + 1} {f}")
    ui.remember(FIRM)
    ui.set_query_param(PARAMS[FIRM], firm if firm != ranked[0] else None)
    own = calls[(calls["firm"] == firm) & calls["entry_date"].notna()]
    choices = own["ticker"].value_counts().index.tolist()
    if st.session_state.get(CHART_TICKER) not in choices:
        st.session_state[CHART_TICKER] = choices[0]
    chart_ticker = right.selectbox("Its calls on", choices, key=CHART_TICKER) if len(choices) > 1 else choices[0]
    ui.chart(calls_chart(calls, closes, firm=firm, ticker=chart_ticker, note=note), kind="calls",
             tickers=[chart_ticker], as_of=as_of, key="track-record-calls", scope=[firm])  # fmt: skip
    rows = calls[calls["firm"] == firm].sort_values("graded_at", ascending=False)
    table = pd.DataFrame(call_cells(rows.to_dict("records")), columns=list(CALL_COLUMNS))
    st.dataframe(table, hide_index=True, height=ui.table_height(len(table), most=12))
    ui.csv_button(rows, kind="calls", tickers=sorted(set(rows["ticker"])), as_of=as_of, key="track-record-calls",
                  scope=[firm], label="Calls as CSV")  # fmt: skip


def ticker_section(calls: pd.DataFrame, as_of: str | None, scope: list[str]) -> None:
    """All firms' calls together, by ticker: how the consensus's buy and sell calls fared."""
    st.subheader("How the consensus's calls fared, by ticker")
    record = tr.ticker_record(calls)
    if record.empty:
        st.info("No scored call here yet.", icon=":material/info:")
        return
    columns = {"ticker": st.column_config.TextColumn("Ticker"), "calls": st.column_config.TextColumn("Calls")}
    columns |= {k: v for k, v in GRID.items() if k not in ("rank", "firm", "tickers")}
    st.dataframe(percent_grid(record, columns), hide_index=True, column_config=columns,
                 height=ui.table_height(len(record), most=12))  # fmt: skip
    ui.csv_button(record, kind="ticker-record", tickers=sorted(set(record["ticker"])), as_of=as_of,
                  key="track-record-tickers", scope=scope)  # fmt: skip


def targets_section(dataset: Dataset, calls: pd.DataFrame, closes: pd.DataFrame, ticker: str, where: str) -> None:
    """Price targets against the prices that followed, where the data has them; the published figures; the
    bias-aware upside of the chosen ticker."""
    st.subheader("Price targets against the prices that followed")
    targets = tg.check_targets(calls, closes)
    if targets.empty:
        st.info(ui.md(no_targets_text(where)), icon=":material/info:")
    else:
        st.markdown(ui.md(target_text(tg.target_record(targets).iloc[0].to_dict())))
        by_firm = tg.target_record(targets, by=("firm",))
        st.dataframe(by_firm, hide_index=True, height=ui.table_height(len(by_firm), most=10))
        ui.csv_button(targets, kind="targets", tickers=sorted(set(targets["ticker"])), as_of=None,
                      key="track-record-targets")  # fmt: skip
    st.caption("Published figures, quoted as their studies give them (no sample sizes or intervals):")
    st.table(published_table())
    if ticker == ALL:
        st.caption("Choose one ticker to see its implied upside beside the historical gap of targets.")
        return
    st.subheader("Bias-aware upside")
    rows = primary_rows(cache.table((ticker,), ui.source()))
    implied = (
        float(rows["upside_mean"].iloc[0]) if not rows.empty and pd.notna(rows["upside_mean"].iloc[0]) else float("nan")
    )
    st.markdown(ui.md(bias_aware_text(tg.bias_aware_upside(implied, targets, ticker), ticker)))
    if not rows.empty and pd.notna(rows["upside_mean"].iloc[0]):
        st.caption(ui.md(f"Implied upside from {rows['source'].iloc[0]}, {rows['as_of'].iloc[0]}."))


main()
