"""Where every number comes from, on screen: provenance captions, the sources side by side, table sizes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
import streamlit as st

from .. import core
from ..charts import source_caption
from ..dataset import Dataset
from ..formatting import (
    MISSING,
    STALE_MARK,
    count,
    counts_text,
    dataset_label,
    dated,
    label_short,
    money,
    money_range,
    overview_table,
    percent,
)
from .markdown import md
from .source import freshness_text
from .state import METHODOLOGY


def overview_frame(table: pd.DataFrame, kind: str) -> pd.DataFrame:
    """The overview's table in words, each date with its age today and a mark where it is stale."""
    now = pd.Timestamp.now(tz="UTC")
    return overview_table(
        table,
        consensus_days=core.age_in_days(table["as_of"], now),
        price_days=core.age_in_days(table["price_as_of"], now),
        stale=core.stale(table["as_of"], now, core.STALE_AFTER[kind]),
        stale_price=core.stale(table["price_as_of"], now, core.STALE_PRICE_AFTER),
    )


def stale_note(kind: str) -> str:
    """What the stale mark means for `kind` of data."""
    return (
        f"{STALE_MARK} stale: a consensus more than {core.STALE_AFTER[kind].days} days old here, a price more than "
        f"{core.STALE_PRICE_AFTER.days} days old; analysts and prices may have moved since (see Methodology, Age)."
    )


def price_sources(dataset: Dataset, tickers: Iterable[str]) -> list[str]:
    """'title (as of …)' of each price series behind the given tickers' bundled closes."""
    ids = dataset.prices.loc[dataset.prices["ticker"].isin(list(tickers)), "source_id"].dropna().unique()
    return [describe_source(dataset.sources, str(i)) for i in sorted(ids)]


def describe_source(sources: Mapping[str, Mapping[str, Any]], source_id: str) -> str:
    meta = sources.get(source_id, {})
    title = meta.get("title") or source_id
    return f"{title} ({meta.get('provider') or 'unknown provider'}, as of {dated(meta.get('as_of'))})"


def provenance_caption(table: pd.DataFrame, dataset: Dataset) -> None:
    """Caption naming the source and as-of date of every number in `table`, and where to read more."""
    parts = [md(source_caption(table))]
    closes = table.loc[table["price_source"] == "close", "ticker"].dropna().unique()
    if len(closes):
        kind = "Bundled" if dataset.kind == "bundle" else "Stored"
        parts.append(f"{kind} closes: " + "; ".join(md(s) for s in price_sources(dataset, closes)) + ".")
    if dataset.kind != "bundle":
        fresh = freshness_text(dataset)
        parts.append(md(f"{dataset_label(dataset)}." + (f" {fresh}." if fresh else "")))
    st.caption(" ".join(parts))
    st.page_link(
        METHODOLOGY, label="How labels, upside and the primary source are worked out", icon=":material/menu_book:"
    )


# --- text for people ----------------------------------------------------------------------------


def price_used(row: Mapping[Any, Any]) -> str:
    """'$13.41, quoted 2026-07-02' (the source's own) or '$13.35, close of 2026-07-02' (bundled close)."""
    price = money(row.get("price"), row.get("currency"))
    if price == MISSING:
        return MISSING
    when = dated(row.get("price_as_of"))
    return f"{price}, close of {when}" if row.get("price_source") == "close" else f"{price}, quoted {when}"


def sources_table(table: pd.DataFrame, kind: str) -> pd.DataFrame:
    """One ticker's sources side by side, as text for people (the Ticker page): the figures first, then
    what they stand on; each as-of date with its age and the stale mark of `kind` of data."""
    rows = table.to_dict("records")
    ages = overview_frame(table, kind)["As of"].to_numpy()
    return pd.DataFrame(
        {
            "Source": table["source"].fillna(MISSING).to_numpy(),
            "Primary": ["yes" if r["is_primary"] else "" for r in rows],
            "As of": ages,
            "Consensus": [label_short(r) for r in rows],
            "Upside (mean)": [percent(r["upside_mean"]) for r in rows],
            "Mean target": [money(r["target_mean"], r["currency"]) for r in rows],
            "Median target": [money(r["target_median"], r["currency"]) for r in rows],
            "Upside (median)": [percent(r["upside_median"]) for r in rows],
            "Analysts": [count(r["n_analysts"]) for r in rows],
            "Ratings": [counts_text(r) or MISSING for r in rows],
            "Low – high target": [money_range(r["target_low"], r["target_high"], r["currency"]) for r in rows],
            "Upside (low to high)": [
                MISSING
                if percent(r["upside_low"]) == MISSING
                else f"{percent(r['upside_low'])} to {percent(r['upside_high'])}"
                for r in rows
            ],
            "Price used": [price_used(r) for r in rows],
        }
    )


def table_height(rows: int, *, most: int = 25) -> int:
    """Pixel height that shows `rows` rows of st.dataframe (up to `most`) without inner scrolling."""
    return 38 + 35 * min(max(rows, 1), most)
