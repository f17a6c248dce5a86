"""Compare: implied upside across any set of tickers, up to the whole S&P 500 universe."""

from __future__ import annotations

from typing import Literal

import pandas as pd
import streamlit as st

from ratings import dashboard as ui
from ratings.charts import top_bottom_chart, upside_scatter
from ratings.core import LABELS, primary_rows
from ratings.dashboard import cache
from ratings.export import bundle_as_of
from ratings.formatting import MISSING, rounded_for_display
from ratings.tickers import WATCHLIST, parse_tickers

UNIVERSES = {
    "sp500": "S&P 500",
    "watchlist": "Watchlist",
    "all": "All covered tickers",
    "custom": "Custom list",
}
XAxis = Literal["n_analysts", "target_dispersion"]
X_AXES: dict[XAxis, str] = {"n_analysts": "Number of analysts", "target_dispersion": "Target dispersion"}
TOP_N = (3, 25, 10)  # slider min, max, default
#: The page's tabs (only the open one is drawn), by their name in the address (``?section=scatter``).
SECTIONS = {"table": "Table", "ranking": "Top and bottom", "scatter": "Upside scatter"}
SECTION_KEY = "compare_section"
SECTION_PARAM = "section"

# widget key -> query parameter. The custom list has its own (``?list=``): ``?tickers=`` is the
# watchlist on every page, and this page leaves it alone.
UNIVERSE, CUSTOM, SECTORS, MIN_ANALYSTS, CONSENSUS, TOP, X_AXIS = (
    "compare_universe", "compare_custom", "compare_sectors", "compare_min_analysts",
    "compare_consensus", "compare_top_n", "compare_x",
)  # fmt: skip
PARAMS = {
    UNIVERSE: "universe", CUSTOM: "list", SECTORS: "sector", MIN_ANALYSTS: "min_analysts",
    CONSENSUS: "consensus", TOP: "n", X_AXIS: "x",
}  # fmt: skip

#: Fractions shown as percents: the grid gets them times 100 and still sorts them as numbers.
PERCENT_COLUMNS = ("upside_mean", "upside_low", "upside_high", "target_dispersion")

COLUMNS = {
    "ticker": st.column_config.TextColumn("Ticker"),
    "name": st.column_config.TextColumn("Name"),
    "sector": st.column_config.TextColumn("Sector"),
    "consensus": st.column_config.TextColumn("Consensus"),
    "rating_mean": st.column_config.NumberColumn("Rating (1–5)", format="%.2f", help="1 Strong Buy … 5 Strong Sell"),
    "n_analysts": st.column_config.NumberColumn("Analysts", format="%d"),
    "price": st.column_config.NumberColumn("Price", format="%,.2f"),
    "currency": st.column_config.TextColumn("Currency"),
    "target_mean": st.column_config.NumberColumn("Mean target", format="%,.2f"),
    "upside_mean": st.column_config.NumberColumn("Upside", format="%+.1f%%", help="Mean target / price − 1"),
    "upside_low": st.column_config.NumberColumn("Upside (low)", format="%+.1f%%", help="Lowest target / price − 1"),
    "upside_high": st.column_config.NumberColumn("Upside (high)", format="%+.1f%%", help="Highest target / price − 1"),
    "target_dispersion": st.column_config.NumberColumn(
        "Dispersion", format="%.1f%%", help="(Highest − lowest target) / mean target"
    ),
    "source": st.column_config.TextColumn("Source"),
    "as_of": st.column_config.TextColumn("As of"),
}


def watchlist(known: frozenset[str]) -> list[str]:
    """The watchlist as edited in this session (the sidebar box), else the link's, else the default."""
    text = ui.remembered(ui.WATCHLIST_KEY)
    return parse_tickers(text if isinstance(text, str) else ui.initial_watchlist(), known=known).valid


def main() -> None:
    ui.run_through_app(*PARAMS.values(), SECTION_PARAM)
    dataset = ui.load_dataset()
    if dataset is None:
        return
    st.title("Compare implied upside")
    sidebar = st.sidebar

    # The store holds the tickers someone fetched, not the S&P 500: start from all of them there.
    default_universe = "sp500" if dataset.kind == "bundle" else "all"
    using_default = f"using {UNIVERSES[default_universe]} instead"
    ui.seed_widget(UNIVERSE, lambda: ui.link_choice(PARAMS[UNIVERSE], UNIVERSES, default_universe, using_default))
    universe = sidebar.radio("Tickers", list(UNIVERSES), format_func=UNIVERSES.__getitem__, key=UNIVERSE)
    ui.remember(UNIVERSE)

    tickers: list[str] | None
    if universe == "sp500":
        tickers = dataset.sp500()
    elif universe == "watchlist":
        tickers = watchlist(dataset.known_tickers)
    elif universe == "custom":
        ui.seed_widget(CUSTOM, lambda: (ui.link_text(PARAMS[CUSTOM]) or ", ".join(WATCHLIST)).replace(",", ", "))
        text = sidebar.text_area("Custom list", key=CUSTOM, help="Tickers separated by commas or spaces.")
        ui.remember(CUSTOM)
        parsed = parse_tickers(text, known=dataset.known_tickers)
        if parsed.invalid:
            named = "; ".join(f"{ui.md(raw)} ({ui.md(reason)})" for raw, reason in parsed.invalid.items())
            st.warning(f"Not shown: {named}.", icon=":material/warning:")
        tickers = parsed.valid
    else:
        tickers = None  # every ticker with a consensus row

    ui.set_query_param(PARAMS[UNIVERSE], universe)
    ui.set_query_param(PARAMS[CUSTOM], ",".join(tickers) if universe == "custom" and tickers else None)
    if tickers == []:
        st.info("No tickers to compare: add some to the list in the sidebar.", icon=":material/info:")
        return

    rows = primary_rows(cache.table(tuple(tickers) if tickers is not None else None, ui.source()))
    sectors_by_ticker = dataset.universe.set_index("ticker")["sector"]
    rows["sector"] = rows["ticker"].map(sectors_by_ticker).astype("string")

    sector_options = sorted(rows["sector"].dropna().unique())
    not_a_sector = ("is not a sector of these tickers", "are not sectors of these tickers")
    ui.seed_widget(SECTORS, lambda: ui.link_subset(PARAMS[SECTORS], sector_options, not_a_sector, "all sectors"))
    # A sector remembered from another universe may not exist in this one.
    st.session_state[SECTORS] = [s for s in st.session_state[SECTORS] if s in sector_options]
    sectors = sidebar.multiselect(
        "Sector", sector_options, key=SECTORS, placeholder="All sectors",
        help="GICS sectors for S&P 500 members, finviz's sectors otherwise.",
    )  # fmt: skip
    ui.remember(SECTORS)

    most = int(rows["n_analysts"].max()) if rows["n_analysts"].notna().any() else 0
    ui.seed_widget(
        MIN_ANALYSTS, lambda: ui.link_int(PARAMS[MIN_ANALYSTS], 0, 0, most, "using a minimum of {} analysts instead")
    )
    st.session_state[MIN_ANALYSTS] = min(int(st.session_state[MIN_ANALYSTS]), most)
    min_analysts = sidebar.number_input("Minimum number of analysts", 0, max(most, 0), step=1, key=MIN_ANALYSTS)
    ui.remember(MIN_ANALYSTS)

    not_a_label = (f"is not a consensus label ({', '.join(LABELS)})", f"are not consensus labels ({', '.join(LABELS)})")
    ui.seed_widget(CONSENSUS, lambda: ui.link_subset(PARAMS[CONSENSUS], LABELS, not_a_label, "any consensus"))
    labels = sidebar.multiselect("Consensus", list(LABELS), key=CONSENSUS, placeholder="Any consensus")
    ui.remember(CONSENSUS)

    ui.seed_widget(
        TOP, lambda: ui.link_int(PARAMS[TOP], TOP_N[2], TOP_N[0], TOP_N[1], "showing the top and bottom {} instead")
    )
    top_n = sidebar.slider("Top and bottom N", TOP_N[0], TOP_N[1], key=TOP)
    ui.remember(TOP)

    against = f"plotting upside against {X_AXES['n_analysts'].lower()} instead"
    ui.seed_widget(X_AXIS, lambda: ui.link_choice(PARAMS[X_AXIS], X_AXES, "n_analysts", against))
    x_axis = sidebar.radio("Scatter: upside against", list(X_AXES), format_func=X_AXES.__getitem__, key=X_AXIS)
    ui.remember(X_AXIS)

    ui.set_query_param(PARAMS[SECTORS], list(sectors))
    ui.set_query_param(PARAMS[MIN_ANALYSTS], str(min_analysts) if min_analysts else None)
    ui.set_query_param(PARAMS[CONSENSUS], list(labels))
    ui.set_query_param(PARAMS[TOP], str(top_n) if top_n != TOP_N[2] else None)
    ui.set_query_param(PARAMS[X_AXIS], x_axis if x_axis != "n_analysts" else None)

    shown = filter_rows(rows, sectors=sectors, min_analysts=int(min_analysts), labels=labels)
    shown = shown.sort_values("upside_mean", ascending=False, na_position="last", kind="stable")
    with_upside = int(shown["upside_mean"].notna().sum())
    st.caption(
        f"{len(shown):,} of {len(rows):,} tickers match the filters; {with_upside:,} of them have a price "
        "target and a price, hence an implied upside. One row per ticker: its primary source."
    )
    if rows.empty or rows["coverage"].eq("none").all():
        st.info(
            f"{ui.data_name(dataset).capitalize()} holds no consensus for these tickers yet.", icon=":material/info:"
        )
        return
    if shown.empty:
        st.info("No ticker matches these filters.", icon=":material/info:")
        return

    as_of = bundle_as_of(shown)
    names = shown["ticker"].tolist()
    # The universe and the filters, in the file names of the exports.
    scope = [universe, *sectors, *([f"min{min_analysts}analysts"] if min_analysts else []), *labels]
    tabs = ui.sections(SECTIONS, key=SECTION_KEY, param=SECTION_PARAM)
    with tabs[tabs.open]:
        if tabs.open == "table":
            table_section(shown, as_of=as_of, scope=scope)
        elif not with_upside:
            st.info("None of these tickers has an implied upside (a price target and a price): nothing to chart.",
                    icon=":material/info:")  # fmt: skip
        elif tabs.open == "ranking":
            # What the chart shows: the top and bottom N, or all of them when there are no more than 2N.
            st.subheader(
                f"Top and bottom {top_n}" if with_upside > 2 * top_n else f"All {with_upside:,} with an upside"
            )
            ranked = shown[shown["upside_mean"].notna()]
            top = pd.concat([ranked.head(top_n), ranked.tail(top_n)]).drop_duplicates("ticker")["ticker"].tolist()
            ui.chart(top_bottom_chart, shown, n=top_n, kind="top-bottom", tickers=top, as_of=as_of, key="compare-top",
                     scope=scope)  # fmt: skip
        else:
            st.subheader(f"Upside against {X_AXES[x_axis].lower()}")
            ui.chart(upside_scatter, shown, x=x_axis, kind="scatter", tickers=names, as_of=as_of,
                     key="compare-scatter", scope=scope)  # fmt: skip
    ui.static_export_note()
    ui.provenance_caption(shown, dataset)


def table_section(shown: pd.DataFrame, *, as_of: str | None, scope: list[str]) -> None:
    """The tickers that match, highest upside first, and their CSV."""
    grid = shown[list(COLUMNS)].copy()
    grid[list(PERCENT_COLUMNS)] = grid[list(PERCENT_COLUMNS)] * 100
    for column in ("price", "target_mean"):  # the same cents as the other pages' text
        grid[column] = rounded_for_display(grid[column])
    ui.table(grid, what="The tickers that match, highest upside first", column_config=COLUMNS,
             height=ui.table_height(len(grid), most=12), placeholder=MISSING)  # fmt: skip
    ui.csv_button(ui.consensus_csv(shown, ("name", "sector")), kind="compare", tickers=shown["ticker"].tolist(),
                  as_of=as_of, key="compare", scope=scope)  # fmt: skip


def filter_rows(rows: pd.DataFrame, *, sectors: list[str], min_analysts: int, labels: list[str]) -> pd.DataFrame:
    keep = pd.Series(True, index=rows.index)
    if sectors:
        keep &= rows["sector"].isin(sectors).fillna(False)
    if min_analysts > 0:
        keep &= (rows["n_analysts"] >= min_analysts).fillna(False)
    if labels:
        keep &= rows["consensus"].isin(labels).fillna(False)
    return rows[keep]


main()
