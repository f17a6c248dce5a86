"""Methodology: how the numbers are computed, and where every source comes from."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ratings import core, firms, grades, label_schemes, targets, track_record
from ratings import dashboard as ui
from ratings.dashboard import cache
from ratings.export import bundle_as_of
from ratings.formatting import MISSING, dataset_label, dated, label_schemes_table, money, percent, published_table
from ratings.tickers import WATCHLIST


def bands() -> pd.DataFrame:
    """The label bands of the 1-5 scale, from the same constants the computation uses."""
    edges = core.BAND_EDGES
    return pd.DataFrame(
        {
            "Consensus": list(core.LABELS),
            "Rating mean": [
                f"{'from' if i == 0 else 'above'} {edges[i]:.1f} up to and including {edges[i + 1]:.1f}"
                for i in range(len(core.LABELS))
            ],
            "Score of one such rating": [str(core.COUNT_SCORES[c]) for c in core.COUNT_SCORES],
        }
    )


def sources_frame(sources: dict[str, dict[str, object]]) -> pd.DataFrame:
    fields = ("title", "provider", "as_of", "repository", "commit", "path", "terms", "caveat")
    return pd.DataFrame(
        [{"source_id": key, **{f: meta.get(f) for f in fields}} for key, meta in sources.items()],
        columns=["source_id", *fields],
    )


def coverage_frame(
    dataset_prices: pd.DataFrame, table: pd.DataFrame, where: str = "the bundled snapshot"
) -> pd.DataFrame:
    """What the data holds for each watchlist ticker: consensus sources and the span of its prices."""
    spans = dataset_prices.groupby("ticker")["date"].agg(["min", "max"])
    rows = []
    for ticker, group in table.groupby("ticker", sort=False):
        has = group[group["coverage"] != core.COVERAGE_NONE]
        span = spans.loc[ticker] if ticker in spans.index else None
        rows.append(
            {
                "Ticker": ticker,
                f"Consensus in {where}": "; ".join(
                    f"{r['source']} {dated(r['as_of'])}: {r['coverage']}" for r in has.to_dict("records")
                )
                or "none",
                "Daily prices": MISSING if span is None else f"{span['min']:%Y-%m-%d} to {span['max']:%Y-%m-%d}",
            }
        )
    return pd.DataFrame(rows)


def track_record_sections(consensus: pd.DataFrame) -> None:
    """The track record's, the target check's and the label schemes' rules, from their modules' documentation,
    with the tables the code reads (grade words, firm renames, label schemes) beside the text that cites them."""
    st.header("Analysts' track record")
    for module in (track_record, targets, label_schemes):
        for heading, body in ui.rst_to_markdown(module.__doc__):
            if not heading:
                continue
            st.subheader(heading)
            st.markdown(body)
            if heading == "What is scored":
                with st.expander("Grade words: buy, hold or sell"):
                    st.table(grades.grade_table())
                with st.expander("Firm renames merged"):
                    st.table(firms.alias_table())
            elif heading == "Published figures":
                st.table(published_table())
            elif heading == "Where the label flips":
                st.table(label_schemes.SCHEME_TABLE)
                st.table(label_schemes_table(label_schemes.example_counts()))
                flipped = label_schemes.flips(consensus)
                st.markdown(
                    "In the data shown, the three schemes agree on every ticker."
                    if flipped.empty
                    else f"In the data shown the label flips for {ui.md_list(flipped['ticker'].unique())}."
                )


def main() -> None:
    ui.run_through_app()
    dataset = ui.load_dataset()
    if dataset is None:
        return
    st.title("Methodology")
    st.markdown(
        "How the consensus label, the implied upside and the other figures are worked out, which source "
        "is shown first, and where every number comes from. The text below is the documentation of the "
        "code that computes them (`ratings.core`)."
    )
    for heading, body in ui.rst_to_markdown(core.__doc__):
        if not heading:
            continue  # the module's introduction speaks to programmers
        st.subheader(heading)
        st.markdown(body)
        if heading == "Consensus label":
            st.table(bands())
        if heading == "Implied upside":
            example = cache.table(("F",), ui.source())
            row = core.primary_rows(example).iloc[0] if not example.empty else None
            if row is not None and pd.notna(row["upside_mean"]):
                st.markdown(
                    ui.md(
                        f"Example: {row['ticker']} on {row['source']} ({dated(row['as_of'])}): mean target "
                        f"{money(row['target_mean'], row['currency'])} / price {money(row['price'], row['currency'])}"
                        f" − 1 = {percent(row['upside_mean'])}."
                    )
                )

    track_record_sections(dataset.consensus)

    st.subheader("Primary source")
    st.markdown(ui.md(core.PRIMARY_RULE))

    st.subheader("Data sources")
    st.markdown(
        "The sidebar's **Data source** chooses where every figure comes from:\n"
        "- **Bundled snapshot**: real data shipped with the project in `data/` (consensus as of a fixed "
        "day, a few days of history for some tickers); it works offline and never changes.\n"
        "- **Local store**: a SQLite file on this computer that keeps every fetch from Yahoo Finance as a "
        "dated snapshot, so it has a history, Yahoo's recommendation trend and analysts' upgrades and "
        "downgrades. `ratings fetch TICKER...` fills it; the `RATINGS_STORE` environment variable moves it.\n"
        "- **Live (Yahoo)**: the local store, refreshed from Yahoo Finance through yfinance when you press "
        "Refresh: the watchlist is fetched (rate-limited, with retries), appended to the store, and shown. "
        "When a refresh fails the last good data stays on screen with its age and the reason."
    )
    st.markdown(
        ui.md(f"Now showing: {dataset_label(dataset)}. Each source with its provider, as-of date, origin and terms:")
    )
    for source_id, meta in dataset.sources.items():
        origin = meta.get("repository")
        commit = meta.get("commit")
        lines = [
            f"**{ui.md(meta.get('title') or source_id)}**",
            f"Provider: {ui.md(meta.get('provider') or MISSING)} · as of {ui.md(dated(meta.get('as_of')))}"
            f" · id {ui.md(source_id)}",
            "Origin: "
            + (
                f"{ui.md(origin)} @ {ui.md(commit or 'unknown commit')}, {ui.md(meta.get('path') or '')}"
                if origin
                else f"fetched on this computer, kept in the local store {ui.md(meta.get('path'))}"
                if dataset.kind != "bundle" and meta.get("path")
                else "no repository (" + ui.md(meta.get("caveat") or "quoted figures") + ")"
            ),
            f"Terms: {ui.md(meta.get('terms') or MISSING)}",
        ]
        if meta.get("caveat") and origin:
            lines.append(f"Caveat: {ui.md(meta['caveat'])}")
        st.markdown("  \n".join(lines))
    ui.csv_button(
        sources_frame({k: dict(v) for k, v in dataset.sources.items()}),
        kind="sources", tickers=[], as_of=None, key="methodology-sources", label="Sources as CSV",
    )  # fmt: skip

    where = ui.data_name(dataset)
    st.subheader(f"What {where} does not have")
    watched = ui.watchlist_tickers() or list(WATCHLIST)
    table = cache.table(tuple(watched), ui.source())
    coverage = coverage_frame(dataset.prices, table, where)
    held = core.coverage_partition(table)
    notes = []
    if held.none:
        notes.append(f"No analyst consensus at all for {ui.md_list(held.none)}: the pages say so, with no numbers.")
    if held.rating_only:
        notes.append(f"A rating only, no price targets (so no upside), for {ui.md_list(held.rating_only)}.")
    consensus_day = bundle_as_of(table)
    last_close = dataset.prices[dataset.prices["ticker"].isin(watched)].groupby("ticker")["date"].max()
    stale = last_close[last_close < pd.Timestamp(consensus_day)] if consensus_day else last_close.iloc[:0]
    for ticker, day in stale.items():
        notes.append(
            f"Stale prices for {ui.md(ticker)}: its last {'bundled' if dataset.kind == 'bundle' else 'stored'} "
            f"close is {day:%Y-%m-%d}, before the "
            f"consensus date {ui.md(consensus_day)}."
        )
    if dataset.kind == "bundle":
        notes.append(
            "No snapshot has prices and consensus for the same day: a row without its own price uses the latest "
            "bundled close and says so."
        )
    notes.append("The watchlist's coverage:")
    st.markdown("\n".join(f"- {n}" for n in notes))
    ui.table(coverage, what="What the data holds for each watchlist ticker")
    ui.csv_button(coverage, kind="coverage", tickers=watched, as_of=None, key="methodology-coverage")


main()
