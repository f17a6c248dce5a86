"""Overview (the default page): the watchlist's consensus and implied upside, one row per source."""

from __future__ import annotations

import streamlit as st

from ratings import dashboard as ui
from ratings.charts import upside_chart
from ratings.core import coverage_partition
from ratings.dashboard import cache
from ratings.export import bundle_as_of
from ratings.formatting import OVERVIEW_DETAIL_COLUMNS, OVERVIEW_KEY_COLUMNS, STALE_MARK, utc_minute
from ratings.tickers import WATCHLIST

DETAILS_KEY = "overview_details"
#: Pixels per column: the first four (ticker, consensus, upside, mean target) fit a 400-pixel phone.
COLUMN_WIDTHS = {
    "Ticker": 70, "Consensus": 110, "Upside": 68, "Mean target": 92, "Analysts": 66, "Price": 100,
    "As of": 180, "Source": 110, "Name": 150, "Ratings": 190, "Median target": 104, "Upside (median)": 116,
    "Target range": 150, "Upside range": 140, "Price date": 180,
}  # fmt: skip


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

    shown = ui.overview_frame(table, dataset.kind)
    details = st.toggle("All columns", key=DETAILS_KEY, help="Name, rating counts, median target, ranges, price date.")
    # The key figures within one laptop screen, the first four within a phone's; the ticker stays in view.
    ui.table(
        shown,
        what="The watchlist's consensus, one row per ticker and source",
        column_order=[*OVERVIEW_KEY_COLUMNS, *(OVERVIEW_DETAIL_COLUMNS if details else ())],
        column_config={name: st.column_config.TextColumn(width=width) for name, width in COLUMN_WIDTHS.items()}
        | {"Ticker": st.column_config.TextColumn(width=COLUMN_WIDTHS["Ticker"], pinned=True)},
        height=ui.table_height(len(shown)),
    )
    if shown["As of"].str.startswith(STALE_MARK).any() or shown["Price date"].str.startswith(STALE_MARK).any():
        st.caption(ui.md(ui.stale_note(dataset.kind)))
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
    ui.chart(upside_chart, table, kind="upside", tickers=parsed.valid, as_of=as_of, key="overview-upside")
    ui.static_export_note()
    ui.provenance_caption(table, dataset)


main()
