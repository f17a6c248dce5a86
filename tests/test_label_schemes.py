"""The same counts labelled by Yahoo's bands, TipRanks' 3 points and MarketBeat's 4 points (ratings.label_schemes).

Every mean is written out here from the counts with the schemes' documented scores, every label from the
documented cut points; the bundle's rows are checked the same way.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ratings import label_schemes as ls
from ratings.dataset import Dataset
from ratings.schema import COUNT_COLUMNS

NA = None


def counts(*rows: tuple[int | None, ...]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(COUNT_COLUMNS)).astype("Int64")


def by_hand(sb: int | None, b: int | None, h: int | None, s: int | None, ss: int | None) -> tuple[str, str, str]:
    """The three labels, from the documented scores and cut points (an unreported count is left out)."""
    n = {k: v for k, v in zip(COUNT_COLUMNS, (sb, b, h, s, ss), strict=True) if v is not None}
    total = sum(n.values())
    if total == 0:
        return ("", "", "")
    yahoo = (
        sum(
            v * w
            for v, w in zip(
                n.values(), [dict(zip(COUNT_COLUMNS, (1, 2, 3, 4, 5), strict=True))[k] for k in n], strict=True
            )
        )
        / total
    )
    tipranks = (1 * (n.get("strong_buy", 0) + n.get("buy", 0)) + 2 * n.get("hold", 0)
                + 3 * (n.get("sell", 0) + n.get("strong_sell", 0))) / total  # fmt: skip
    marketbeat = (4 * n.get("strong_buy", 0) + 3 * n.get("buy", 0) + 2 * n.get("hold", 0)
                  + 1 * (n.get("sell", 0) + n.get("strong_sell", 0))) / total  # fmt: skip
    y = next(
        label
        for edge, label in ((1.5, "Strong Buy"), (2.5, "Buy"), (3.5, "Hold"), (4.5, "Sell"), (5.0, "Strong Sell"))
        if yahoo <= edge
    )
    t = "Buy" if tipranks <= 1.5 else "Hold" if tipranks <= 2.5 else "Sell"
    m = "Strong Buy" if marketbeat >= 3.5 else "Buy" if marketbeat >= 2.5 else "Hold" if marketbeat >= 1.5 else "Sell"
    return (y, t, m)


@pytest.mark.parametrize(
    ("row", "labels", "flips"),
    [
        ((1, 0, 2, 0, 0), ("Buy", "Hold", "Buy"), True),  # the docstring's first example
        ((3, 0, 0, 0, 2), ("Hold", "Hold", "Buy"), True),  # its second: a Strong Sell scores as a Sell on MarketBeat
        ((NA, 2, 11, 1, NA), ("Hold", "Hold", "Hold"), False),  # Ford on TipRanks: Hold, as TipRanks says
        ((0, 2, 2, 0, 0), ("Buy", "Buy", "Buy"), False),  # halfway: the more positive label, in all three
        ((0, 0, 1, 1, 0), ("Hold", "Hold", "Hold"), False),
        ((0, 0, 1, 0, 1), ("Sell", "Hold", "Hold"), True),
        ((0, 0, 0, 0, 3), ("Strong Sell", "Sell", "Sell"), False),
        ((4, 0, 0, 0, 0), ("Strong Buy", "Buy", "Strong Buy"), False),
    ],
)
def test_the_three_schemes_label_the_same_counts(
    row: tuple[int | None, ...], labels: tuple[str, str, str], flips: bool
) -> None:
    assert by_hand(*row) == labels  # the expectation is the documented rule's
    got = ls.scheme_labels(counts(row)).iloc[0]
    assert (got["yahoo"], got["tipranks"], got["marketbeat"]) == labels
    assert bool(got["flips"]) is flips


def test_counts_of_zero_have_no_label_and_do_not_flip() -> None:
    got = ls.scheme_labels(counts((0, 0, 0, 0, 0), (NA, NA, NA, NA, NA))).astype(object)
    assert got[["yahoo", "tipranks", "marketbeat"]].isna().all().all() and not got["flips"].any()


def test_the_means_follow_each_schemes_scores() -> None:
    got = ls.scheme_labels(counts((NA, 2, 11, 1, NA))).iloc[0]
    assert got["yahoo_mean"] == pytest.approx((2 * 2 + 11 * 3 + 1 * 4) / 14)
    assert got["tipranks_mean"] == pytest.approx((2 * 1 + 11 * 2 + 1 * 3) / 14)
    assert got["marketbeat_mean"] == pytest.approx((2 * 3 + 11 * 2 + 1 * 1) / 14)


@settings(deadline=None)  # a loaded machine must not fail it: the property, not the time, is tested
@given(row=st.tuples(*[st.integers(0, 30)] * 5), k=st.integers(2, 9))
def test_scaling_every_count_leaves_the_labels_as_they_were(row: tuple[int, ...], k: int) -> None:
    one, many = ls.scheme_labels(counts(row, tuple(v * k for v in row))).astype(object).to_dict("records")
    for scheme in ls.SCHEMES:
        assert (pd.isna(one[scheme]) and pd.isna(many[scheme])) or one[scheme] == many[scheme]
        assert math.isclose(one[f"{scheme}_mean"], many[f"{scheme}_mean"]) or math.isnan(one[f"{scheme}_mean"])


@pytest.mark.parametrize("frame", ["consensus", "trend"])
def test_the_bundles_counts_are_labelled_as_the_rules_say_and_none_flips(bundle: Dataset, frame: str) -> None:
    rows = getattr(bundle, frame)
    rows = rows[rows[list(COUNT_COLUMNS)].notna().any(axis=1)]
    assert not rows.empty
    got = ls.scheme_labels(rows)
    for values, (_, labelled) in zip(rows[list(COUNT_COLUMNS)].astype(object).itertuples(index=False),
                                     got.iterrows(), strict=True):  # fmt: skip
        hand = by_hand(*[None if pd.isna(v) else int(v) for v in values])
        assert (labelled["yahoo"], labelled["tipranks"], labelled["marketbeat"]) == hand
    assert ls.flips(rows).empty


def test_every_scheme_names_its_source() -> None:
    assert ls.SCHEME_TABLE["scheme"].tolist() == ["Yahoo Finance", "TipRanks", "MarketBeat"]
    assert ls.SCHEME_TABLE["source"].str.len().min() > 20


def test_the_methodology_table_words_each_schemes_label_and_mean() -> None:
    from ratings.formatting import label_schemes_table

    table = label_schemes_table(counts((1, 0, 2, 0, 0), (NA, 2, 11, 1, NA)))
    assert table.to_dict("records") == [
        {"Counts": "1 Strong Buy · 0 Buy · 2 Hold · 0 Sell · 0 Strong Sell", "Yahoo Finance": "Buy · 2.33 of 5",
         "TipRanks": "Hold · 1.67 of 3", "MarketBeat": "Buy · 2.67 of 4", "Label flips": "yes"},
        {"Counts": "2 Buy · 11 Hold · 1 Sell", "Yahoo Finance": "Hold · 2.93 of 5", "TipRanks": "Hold · 1.93 of 3",
         "MarketBeat": "Hold · 2.07 of 4", "Label flips": "no"},
    ]  # fmt: skip
