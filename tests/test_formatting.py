"""Numbers formatted for people."""

from __future__ import annotations

import pandas as pd
import pytest

from ratings import formatting as fmt
from ratings.bundle import load_bundle

NAN = float("nan")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.1116, "+11.2%"),
        (-0.17941, "-17.9%"),
        (0.0, "+0.0%"),
        (12.5, "+1,250.0%"),
        (0.0125, "+1.3%"),  # halves round up, as money() rounds them
        (0.0135, "+1.4%"),
        (0.3125, "+31.3%"),
        (-0.0004, "+0.0%"),  # a rounded zero has no minus
        (-0.0, "+0.0%"),
        (NAN, "—"),
        (None, "—"),
        (pd.NA, "—"),
        (pd.NaT, "—"),
    ],
)
def test_percent(value: object, expected: str) -> None:
    assert fmt.percent(value) == expected


@pytest.mark.parametrize(
    ("value", "currency", "expected"),
    [
        (14.901, "USD", "$14.90"),
        (1507.7906, "USD", "$1,507.79"),
        (22.6, "HKD", "HK$22.60"),
        (1234.5, "GBp", "1,234.50p"),  # London quotes in pence
        (12.0, "GBP", "£12.00"),
        (3.0, "SEK", "3.00 SEK"),
        (3.0, pd.NA, "3.00"),
        (NAN, "USD", "—"),
        (float("inf"), "USD", "—"),
        (pd.NaT, "USD", "—"),
        (-3.0, "USD", "-$3.00"),  # the sign before the symbol
        (-1234.5, "GBP", "-£1,234.50"),
        (-1234.5, "GBp", "-1,234.50p"),
        (-0.001, "USD", "$0.00"),  # a rounded zero has no minus
        (5.0, "", "5.00"),  # no trailing space for an empty code
        (13.405, "USD", "$13.41"),  # the decimal the source wrote, rounded half up
    ],
)
def test_money(value: float, currency: object, expected: str) -> None:
    assert fmt.money(value, currency) == expected


def test_rounded_for_display_gives_a_grid_the_cents_of_the_text() -> None:
    values = pd.Series([13.405, 1507.7906, NAN, 0.125, 2.675, None], dtype="float64")
    shown = fmt.rounded_for_display(values)
    assert shown.dtype == "float64" and shown.index.equals(values.index)
    assert shown.isna().tolist() == values.isna().tolist()
    for value, number in zip(values.dropna(), shown.dropna(), strict=True):
        # What a grid's "%,.2f" prints of the rounded number is what money() writes of the raw one.
        assert f"{number:,.2f}" == fmt.money(value, None), value


@pytest.mark.parametrize(("value", "expected"), [(20, "20"), (12345, "12,345"), (pd.NA, "—"), (NAN, "—")])
def test_count(value: object, expected: str) -> None:
    assert fmt.count(value) == expected


def test_money_range_needs_both_ends() -> None:
    assert fmt.money_range(11, 20, "USD") == "$11.00 – $20.00"
    assert fmt.money_range(NAN, 20, "USD") == "—"


@pytest.mark.parametrize(
    ("as_of", "expected"), [("2026-07-02", "2026-07-02"), ("2026", "2026 (no day given)"), (pd.NA, "—")]
)
def test_dated(as_of: object, expected: str) -> None:
    assert fmt.dated(as_of) == expected


def test_label_text_for_every_kind_of_coverage() -> None:
    table = load_bundle().table(["F", "PSNY", "1810.HK"])
    texts = dict(
        zip(table["source"].fillna("none"), (fmt.label_text(r) for r in table.to_dict("records")), strict=False)
    )
    assert texts["TipRanks"] == "Hold (2.93 of 5; 2 Buy · 11 Hold · 1 Sell)"
    assert texts["Yahoo Finance"] == "Hold (2.71 of 5)"
    assert texts["none"] == "No consensus in the data"


def test_display_table_shows_every_row_with_source_and_date() -> None:
    table = load_bundle().table(["F", "1810.HK"])
    shown = fmt.display_table(table)
    assert len(shown) == len(table)
    ford = shown[shown["Source"] == "Yahoo Finance"].iloc[0]
    assert (ford["Upside"], ford["Mean target"], ford["Price"], ford["As of"]) == (
        "+11.2%",
        "$14.90",
        "$13.41",
        "2026-07-02",
    )
    tipranks = shown[shown["Source"] == "TipRanks"].iloc[0]
    assert tipranks["As of"] == "2026 (no day given)" and tipranks["Price date"].endswith("(close)")
    xiaomi = shown[shown["Ticker"] == "1810.HK"].iloc[0]
    assert xiaomi["Price"].startswith("HK$") and xiaomi["Upside"] == "—" and xiaomi["Source"] == "—"


def test_figure_cells_mark_a_price_from_a_close_in_the_column_asked_for() -> None:
    closed = {
        "consensus": "Buy", "rating_mean": 2.0, "coverage": "targets", "n_analysts": 12, "currency": "USD",
        "price": 10.0, "price_as_of": "2026-07-01", "price_source": "close",
        "target_mean": 12.5, "upside_mean": 0.25, "target_low": 9.0, "target_high": 15.0,
    }  # fmt: skip
    quoted = {**closed, "price_source": "source"}
    assert fmt.figure_texts(closed) == {
        "Consensus": "Buy (2.00 of 5)",
        "Analysts": "12",
        "Price": "$10.00",
        "Price date": "2026-07-01",
        "Mean target": "$12.50",
        "Upside": "+25.0%",
        "Target range": "$9.00 – $15.00",
    }
    overview = fmt.figure_cells([closed, quoted])
    assert list(overview) == list(fmt.FIGURE_COLUMNS)
    assert overview["Price date"] == ["2026-07-01 (close)", "2026-07-01"]
    assert overview["Price"] == ["$10.00", "$10.00"]
    history = fmt.figure_cells([closed, quoted], close_mark="Price")
    assert history["Price"] == ["$10.00 (close)", "$10.00"]
    assert history["Price date"] == ["2026-07-01", "2026-07-01"]


def test_change_cells_write_the_shared_fields_as_the_view_writes_a_cell() -> None:
    rows = [
        {"source": "Yahoo Finance", "firm": pd.NA, "before": "Hold", "after": "Buy", "change": NAN},
        {"source": "Yahoo Finance", "firm": "Acme", "before": "$10.00", "after": "", "change": 0.2},
    ]
    assert fmt.change_cells(rows) == {
        "source": ["Yahoo Finance", "Yahoo Finance"],
        "firm": ["—", "Acme"],
        "before": ["Hold", "$10.00"],
        "after": ["Buy", "—"],
        "change": ["—", "+20.0%"],
    }
    shouted = fmt.change_cells(rows, lambda value: "?" if pd.isna(value) else str(value).upper())
    assert (shouted["firm"], shouted["after"]) == (["?", "ACME"], ["BUY", ""])
    assert shouted["change"] == ["—", "+20.0%"]  # a move is a percentage whatever the view's text


@pytest.mark.parametrize(
    ("reasons", "expected"),
    [
        ({}, ""),
        ({"A": "x"}, "x (A)"),
        ({"A": "x", "B": "y", "C": "x"}, "x (A, C); y (B)"),
        ({"B": "y", "A": "x"}, "y (B); x (A)"),  # first seen first, not sorted
    ],
)
def test_reasons_text_names_each_reason_once(reasons: dict[str, str], expected: str) -> None:
    assert fmt.reasons_text(reasons) == expected


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (0, "today"),
        (1, "yesterday"),
        (2, "2 days ago"),
        (13, "13 days ago"),
        (14, "2 weeks ago"),
        (60, "2 months ago"),
        (153, "5 months ago"),  # the bundle's 2026-07-02 on 2026-12-02
        (466, "15 months ago"),  # finviz's 2025-08-21 on 2026-12-02
        (1016, "3 years ago"),  # BYDDF's last close, 2024-02-20, seen on 2026-12-02
        (-3, "dated in the future"),
        (NAN, ""),
    ],
)
def test_ago_text(days: float, expected: str) -> None:
    assert fmt.ago_text(days) == expected


@pytest.mark.parametrize(
    ("value", "days", "stale", "expected"),
    [
        ("2026-07-02", 153, True, "⚠ 2026-07-02 · 5 months ago"),
        ("2026-12-01", 1, False, "2026-12-01 · yesterday"),
        ("2026", NAN, False, "2026 (no day given)"),
        (None, NAN, True, "—"),  # nothing to mark
    ],
)
def test_as_of_text_says_the_day_its_age_and_whether_it_is_stale(
    value: str | None, days: float, stale: bool, expected: str
) -> None:
    assert fmt.as_of_text(value, days, is_stale=stale) == expected


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"consensus": "Hold", "rating_mean": 2.714, "coverage": "targets"}, "Hold · 2.71"),
        ({"consensus": "Hold", "rating_mean": NAN, "buy": 2, "coverage": "targets"}, "Hold"),
        ({"consensus": pd.NA, "rating_mean": NAN, "coverage": "none"}, "No consensus in the data"),
        ({"consensus": pd.NA, "rating_mean": NAN, "coverage": "targets"}, "No rating"),
    ],
)
def test_label_short_fits_a_narrow_column(row: dict[str, object], expected: str) -> None:
    assert fmt.label_short(row) == expected


def test_the_overview_table_puts_the_key_figures_first_and_the_details_behind() -> None:
    table = load_bundle().table(["F", "BYDDF"])
    # As the page gives them: an age for a full day only, and those 153 days are past the bundle's threshold.
    days = pd.Series([153.0 if len(str(v)) == 10 else NAN for v in table["as_of"]])
    shown = fmt.overview_table(
        table, consensus_days=days, price_days=days, stale=days.notna(), stale_price=pd.Series([False] * len(table))
    )
    assert list(shown.columns) == [*fmt.OVERVIEW_KEY_COLUMNS, *fmt.OVERVIEW_DETAIL_COLUMNS]
    assert fmt.OVERVIEW_KEY_COLUMNS[:4] == ("Ticker", "Consensus", "Upside", "Mean target")
    tipranks = shown[(shown["Ticker"] == "F") & (shown["Source"] == "TipRanks")].iloc[0]
    assert tipranks["Ratings"] == "2 Buy · 11 Hold · 1 Sell" and tipranks["Price"].endswith(" (close)")
    assert tipranks["As of"] == "2026 (no day given)"  # a year has no age to mark
    byddf = shown[shown["Ticker"] == "BYDDF"].iloc[0]
    assert byddf["Consensus"] == "No consensus in the data" and byddf["Upside"] == "—"
