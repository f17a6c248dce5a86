"""Overview (the default page): the watchlist's consensus and implied upside, one row per source."""

from __future__ import annotations

import streamlit as st

from ratings import dashboard as ui
from ratings.charts import upside_chart
from ratings.core import coverage_partition
from ratings.dashboard import cache
from ratings.export import bundle_as_of
from ratings.formatting import display_table, utc_minute
from ratings.tickers import WATCHLIST


def main() -> None:
    ui.run_through_app()  # its only parameters are the shared ones (?tickers=, ?source=)
    dataset = ui.load_dataset()
    if dataset is None:
        return
    st.title("Analyst consensus")
    st.caption("Wall Street analyst ratings and the upside implied by their price targets (target / price − 1).")

    parsed = ui.watchlist_input(dataset)
    if parsed.invalid:
        named = "; ".join(f"{ui.md(raw)} ({ui.md(reason)})" for raw, reason in parsed.invalid.items())
        st.warning(f"Not shown: {named}.", icon=":material/warning:")
    if not parsed.valid:
        st.info(
            "The watchlist is empty. Type tickers into the sidebar, for example "
            + ui.md(", ".join(WATCHLIST[:3]))
            + ".",
            icon=":material/info:",
        )
        return

    table = cache.table(tuple(parsed.valid), ui.source())
    as_of = bundle_as_of(table)

    shown = display_table(table)
    # The figures an investor compares first, then their source and date, within one screen width;
    # the ticker stays in view while the rest scrolls.
    first = ["Ticker", "Name", "Consensus", "Analysts", "Price", "Mean target", "Upside", "Source", "As of"]
    st.dataframe(
        shown,
        hide_index=True,
        column_order=[*first, *(c for c in shown.columns if c not in first)],
        column_config={
            "Ticker": st.column_config.TextColumn(width=75, pinned=True),
            "Name": st.column_config.TextColumn(width=140),
            "Price": st.column_config.TextColumn(width=95),  # HK$1,234.50 whole
        },
        height=ui.table_height(len(shown)),
    )
    ui.csv_button(ui.consensus_csv(table), kind="consensus", tickers=parsed.valid, as_of=as_of, key="overview")

    coverage = coverage_partition(table)
    uncovered = coverage.none
    # Yahoo's own "no analyst coverage" (an ETF, say) is an answer: no point in fetching again.
    shown_tickers = set(table["ticker"])
    answered = {t: when for t, when in dataset.no_coverage.items() if t in shown_tickers}
    if answered:
        latest = utc_minute(max(answered.values()))
        if without := [t for t in answered if t in uncovered]:
            st.info(
                f"Yahoo answered that there is no analyst coverage for {ui.md_list(without)} "
                f"(latest fetch {ui.md(latest)}).",
                icon=":material/info:",
            )
        if older := [t for t in answered if t not in uncovered]:
            st.info(
                f"Yahoo's latest answer for {ui.md_list(older)} ({ui.md(latest)}) had no analyst coverage: the "
                "consensus shown is the last one it gave (see its As of).",
                icon=":material/info:",
            )
    none = [t for t in uncovered if t not in answered]
    if none:
        hint = {
            "store": " Fetch them with `ratings fetch`, or with the Refresh button of the Live (Yahoo) source.",
            "live": " Press Refresh from Yahoo in the sidebar to fetch them (Yahoo may have none).",
        }.get(dataset.kind, "")
        st.info(
            f"{ui.data_name(dataset).capitalize()} has no analyst consensus for {ui.md_list(none)}.{hint}",
            icon=":material/info:",
        )
    if coverage.rating_only:
        st.info(
            f"{ui.md_list(coverage.rating_only)}: a rating only, no price targets in the data, so no upside.",
            icon=":material/info:",
        )

    st.subheader("Implied upside")
    ui.chart(upside_chart(table), kind="upside", tickers=parsed.valid, as_of=as_of, key="overview-upside")
    ui.static_export_note()
    ui.provenance_caption(table, dataset)


main()
