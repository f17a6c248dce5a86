"""What moved between snapshots (ratings/changes.py), on frames built in code and on the bundle.

Expected values are derived from the inputs: labels through the core's documented bands
(:func:`ratings.core.label_from_rating_mean`), moves as ``after / before - 1``, texts through
:func:`ratings.formatting.money`. The bundle test uses the figures the issue documents. Most tests
read the frame as people get it, its targets worded by :func:`ratings.formatting.worded_changes`;
one checks that the frame itself carries numbers only.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest

from ratings import changes as changes_module
from ratings.bundle import load_bundle
from ratings.changes import CHANGES, TARGET_TOLERANCE
from ratings.core import label_from_rating_mean
from ratings.formatting import MISSING, money, worded_changes
from ratings.schema import CONSENSUS_HISTORY, UPGRADES, conform, validate

DAY1 = "2026-03-02T14:00:00Z"
DAY2 = "2026-03-09T15:30:00Z"
DAY3 = "2026-03-16T09:10:00Z"


def changes(*args: Any, **kwargs: Any) -> pd.DataFrame:
    """:func:`ratings.changes.changes`, its target moves worded as every caller shows them."""
    return worded_changes(changes_module.changes(*args, **kwargs))


def snapshot(ticker: str, observed_at: str, *, source: str = "Yahoo Finance", **values: Any) -> dict[str, Any]:
    """One consensus snapshot; unspecified figures stay unknown."""
    row: dict[str, Any] = {
        "ticker": ticker,
        "source": source,
        "source_id": values.pop("source_id", source.lower().replace(" ", "-")),
        "as_of": observed_at[:10],
        "observed_at": observed_at,
        "currency": "USD",
    }
    return row | values


def history(*rows: dict[str, Any]) -> pd.DataFrame:
    return conform(pd.DataFrame(list(rows)), CONSENSUS_HISTORY)


def action(ticker: str, graded_at: str, firm: str, what: str, **values: Any) -> dict[str, Any]:
    return {"ticker": ticker, "graded_at": graded_at, "firm": firm, "action": what, "source": "Yahoo Finance"} | values


def upgrades(*rows: dict[str, Any]) -> pd.DataFrame:
    return conform(pd.DataFrame(list(rows)), UPGRADES)


def label(rating_mean: float) -> str:
    return str(label_from_rating_mean(pd.Series([rating_mean])).iloc[0])


def kinds(frame: pd.DataFrame) -> list[str]:
    return frame["kind"].tolist()


# ------------------------------------------------------------------------------ the consensus


@pytest.mark.parametrize(
    ("before", "after"),
    [(2.2, 2.8), (2.8, 2.2), (1.4, 1.6), (3.6, 3.4), (4.6, 1.0)],
)
def test_a_label_change_is_listed_with_both_labels(before: float, after: float) -> None:
    assert label(before) != label(after)  # the case is a change by the documented bands
    frame = changes(history(snapshot("A", DAY1, rating_mean=before), snapshot("A", DAY2, rating_mean=after)))
    assert kinds(frame) == ["label"]
    row = frame.iloc[0]
    assert (row["before"], row["after"]) == (label(before), label(after))
    assert (row["ticker"], row["date"], row["since"], row["source"]) == ("A", DAY2[:10], DAY1, "Yahoo Finance")
    assert pd.isna(row["firm"]) and pd.isna(row["change"])
    assert row[["target_before", "target_after", "currency"]].isna().all()  # a label has no target


@pytest.mark.parametrize(("before", "after"), [(2.0, 2.4), (2.6, 3.5), (1.0, 1.5)])
def test_a_move_within_one_band_is_no_label_change(before: float, after: float) -> None:
    assert label(before) == label(after)
    frame = changes(history(snapshot("A", DAY1, rating_mean=before), snapshot("A", DAY2, rating_mean=after)))
    assert frame.empty


def test_a_label_from_counts_changes_too() -> None:
    # No reported mean: the label comes from the counts (3 Buy -> 3 Sell), as the core computes it.
    first = snapshot("A", DAY1, buy=3, hold=0, sell=0)
    second = snapshot("A", DAY2, buy=0, hold=0, sell=3)
    frame = changes(history(first, second))
    assert kinds(frame) == ["label"]
    assert frame.iloc[0][["before", "after"]].tolist() == [label(2.0), label(4.0)]


@pytest.mark.parametrize(
    ("before", "after", "currency"),
    [(100.0, 110.0, "USD"), (110.0, 100.0, "USD"), (14.851, 14.901, "USD"), (1234.5, 1200.0, "GBp")],
)
def test_a_mean_target_move_is_a_raise_or_a_cut(before: float, after: float, currency: str) -> None:
    frame = changes(
        history(
            snapshot("A", DAY1, target_mean=before, currency=currency),
            snapshot("A", DAY2, target_mean=after, currency=currency),
        )
    )
    assert kinds(frame) == ["target raise" if after > before else "target cut"]
    row = frame.iloc[0]
    assert row["change"] == pytest.approx(after / before - 1)
    assert (row["before"], row["after"]) == (money(before, currency), money(after, currency))
    assert (row["target_before"], row["target_after"], row["currency"]) == (before, after, currency)
    assert row["since"] == DAY1 and row["date"] == DAY2[:10]


def test_the_frame_carries_target_moves_as_numbers_and_grades_as_the_firms_words() -> None:
    rows = history(snapshot("A", DAY1, target_mean=100.0), snapshot("A", DAY2, target_mean=110.0))
    grade = action("A", "2026-03-05T12:00:00Z", "Firm", "up", from_grade="Hold", to_grade="Buy")
    frame = changes_module.changes(rows, upgrades(grade)).set_index("kind")
    assert frame.loc["target raise", ["target_before", "target_after"]].tolist() == [100.0, 110.0]
    assert frame.loc["target raise", ["before", "after"]].isna().all()  # worded by ratings.formatting
    assert frame.loc["upgrade", ["before", "after"]].tolist() == ["Hold", "Buy"]


@pytest.mark.parametrize("relative", [0.0, 1e-9, -1e-7, TARGET_TOLERANCE / 2, -TARGET_TOLERANCE / 2])
def test_float_noise_is_not_a_move(relative: float) -> None:
    before = 252.22575
    frame = changes(
        history(snapshot("A", DAY1, target_mean=before), snapshot("A", DAY2, target_mean=before * (1 + relative)))
    )
    assert frame.empty


@pytest.mark.parametrize("relative", [TARGET_TOLERANCE * 2, -TARGET_TOLERANCE * 2])
def test_a_move_just_above_the_tolerance_counts(relative: float) -> None:
    frame = changes(
        history(snapshot("A", DAY1, target_mean=200.0), snapshot("A", DAY2, target_mean=200 * (1 + relative)))
    )
    assert kinds(frame) == ["target raise" if relative > 0 else "target cut"]


@pytest.mark.parametrize(
    ("before", "after"),
    [(0.0, 120.0), (120.0, 0.0), (0.0, 0.0), (-5.0, 120.0), (float("nan"), 120.0), (120.0, float("nan"))],
)
def test_a_zero_or_unknown_target_is_no_move(before: float, after: float) -> None:
    frame = changes(history(snapshot("A", DAY1, target_mean=before), snapshot("A", DAY2, target_mean=after)))
    assert frame.empty
    validate(frame, CHANGES)


def test_targets_in_two_different_units_are_not_compared() -> None:
    # Pence then pounds: 1,000p -> £10.50 is not a 99% cut.
    frame = changes(
        history(
            snapshot("VOD.L", DAY1, target_mean=1000.0, currency="GBp"),
            snapshot("VOD.L", DAY2, target_mean=10.5, currency="GBP"),
        )
    )
    assert frame.empty


@pytest.mark.parametrize("n_upgrades", [0, 2])
def test_one_snapshot_has_nothing_to_compare(n_upgrades: int) -> None:
    actions = upgrades(*[action("A", f"2026-03-0{3 + i}T10:00:00Z", f"Firm {i}", "up") for i in range(n_upgrades)])
    frame = changes(history(snapshot("A", DAY1, target_mean=10.0, rating_mean=2.0)), actions)
    assert frame.empty
    validate(frame, CHANGES)
    assert list(frame.columns) == CHANGES.names


def test_no_history_at_all_is_an_empty_frame_of_the_schema() -> None:
    frame = changes(history(snapshot("A", DAY1)).iloc[0:0])
    assert frame.empty and list(frame.columns) == CHANGES.names


def test_the_latest_is_compared_with_the_one_just_before() -> None:
    frame = changes(
        history(
            snapshot("A", DAY1, target_mean=100.0),
            snapshot("A", DAY2, target_mean=120.0),
            snapshot("A", DAY3, target_mean=90.0),
        )
    )
    assert kinds(frame) == ["target cut"]
    assert frame.iloc[0]["change"] == pytest.approx(90 / 120 - 1)
    assert frame.iloc[0]["since"] == DAY2


def test_input_order_does_not_matter() -> None:
    rows = [snapshot("A", DAY3, target_mean=90.0), snapshot("A", DAY1, target_mean=100.0)]
    frame = changes(history(*rows))
    assert frame.iloc[0]["change"] == pytest.approx(90 / 100 - 1)


# --------------------------------------------------------------------------------- since a day

THREE_DAYS = (
    snapshot("A", DAY1, target_mean=100.0),
    snapshot("A", DAY2, target_mean=120.0),
    snapshot("A", DAY3, target_mean=90.0),
)


@pytest.mark.parametrize(
    ("since", "baseline"),
    [
        (DAY1[:10], 100.0),  # the day of the first snapshot: measured from it
        ("2026-03-05", 100.0),  # between two snapshots: the last one on or before the day
        (DAY2[:10], 120.0),
        ("2026-03-12", 120.0),
        (DAY2, 120.0),  # a timestamp works too
        ("2026-03-09 15:30:00", 120.0),  # naive: UTC
        ("2026-03-09T17:30:00+02:00", 120.0),  # DAY2 itself, written in another zone
        ("2026-03-09T16:30:00+02:00", 100.0),  # an hour before DAY2, though its text sorts after
    ],
)
def test_since_measures_from_the_last_snapshot_on_or_before_that_day(since: str, baseline: float) -> None:
    frame = changes(history(*THREE_DAYS), since=since)
    assert kinds(frame) == ["target cut"]
    assert frame.iloc[0]["change"] == pytest.approx(90.0 / baseline - 1)
    assert frame.iloc[0]["before"] == money(baseline, "USD")


@pytest.mark.parametrize("since", ["2026-03-01", DAY3[:10], "2026-04-01"])
def test_since_without_an_earlier_snapshot_lists_nothing(since: str) -> None:
    # Before the first snapshot there is no baseline; on or after the latest, nothing is newer.
    assert changes(history(*THREE_DAYS), since=since).empty


def test_since_a_day_takes_the_last_snapshot_of_that_day() -> None:
    morning, evening = "2026-03-02T08:00:00Z", "2026-03-02T20:00:00Z"
    rows = (
        snapshot("A", morning, target_mean=100.0),
        snapshot("A", evening, target_mean=104.0),
        snapshot("A", DAY3, target_mean=110.0),
    )
    frame = changes(conform(pd.DataFrame(list(rows)), CONSENSUS_HISTORY), since="2026-03-02")
    assert frame.iloc[0]["change"] == pytest.approx(110 / 104 - 1)
    assert frame.iloc[0]["since"] == evening


# ---------------------------------------------------------------------------- analysts' actions

ACTION_CASES = [
    ({"what": "up", "from_grade": "Hold", "to_grade": "Buy"}, "upgrade", "Hold", "Buy"),
    ({"what": "down", "from_grade": "Buy", "to_grade": "Sell"}, "downgrade", "Buy", "Sell"),
    ({"what": "init", "to_grade": "Overweight"}, "initiation", None, "Overweight"),
    (
        {"what": "main", "price_target_action": "Raises", "prior_price_target": 200.0, "current_price_target": 230.0},
        "target raise",
        money(200.0, "USD"),
        money(230.0, "USD"),
    ),
    (
        {"what": "reit", "price_target_action": "Lowers", "prior_price_target": 250.0, "current_price_target": 210.0},
        "target cut",
        money(250.0, "USD"),
        money(210.0, "USD"),
    ),
]


def _two_snapshots(ticker: str = "A") -> pd.DataFrame:
    return history(snapshot(ticker, DAY1, target_mean=100.0), snapshot(ticker, DAY2, target_mean=100.0))


@pytest.mark.parametrize(("values", "kind", "before", "after"), ACTION_CASES)
def test_an_action_after_the_previous_snapshot_is_listed(
    values: dict[str, Any], kind: str, before: str | None, after: str
) -> None:
    values = dict(values)
    graded = "2026-03-05T12:00:00Z"
    frame = changes(_two_snapshots(), upgrades(action("A", graded, "Some Firm", values.pop("what"), **values)))
    assert kinds(frame) == [kind]
    row = frame.iloc[0]
    assert (row["date"], row["firm"], row["since"]) == (graded[:10], "Some Firm", DAY1)
    assert (None if pd.isna(row["before"]) else row["before"]) == before
    assert row["after"] == after
    prior, current = values.get("prior_price_target"), values.get("current_price_target")
    if prior and current:
        assert row["change"] == pytest.approx(current / prior - 1)
    else:
        assert pd.isna(row["change"])


@pytest.mark.parametrize(
    ("since", "listed"),
    [
        (None, ["2026-03-04", "2026-03-06"]),  # from the previous snapshot (DAY1)
        (DAY1[:10], ["2026-03-04", "2026-03-06"]),  # the baseline snapshot is of that very day
        ("2026-03-05", ["2026-03-06"]),  # the baseline is DAY1, but the day asked for is later
    ],
)
def test_actions_since_a_day_are_the_ones_from_that_day_on(since: str | None, listed: list[str]) -> None:
    actions = upgrades(
        *(action("A", f"{day}T12:00:00Z", f"Firm {day}", "up", from_grade="Hold", to_grade="Buy")
          for day in ("2026-03-04", "2026-03-06"))
    )  # fmt: skip
    frame = changes(_two_snapshots(), actions, since=since)
    grades = frame[frame["kind"] == "upgrade"]
    assert sorted(grades["date"]) == listed
    assert (grades["since"] >= (since or "")).all()  # each measured from no earlier than the day asked


@pytest.mark.parametrize(("values", "kind", "before", "after"), ACTION_CASES)
@pytest.mark.parametrize("graded", ["2026-02-20T12:00:00Z", DAY1])
def test_an_action_before_the_previous_snapshot_is_old_news(
    values: dict[str, Any], kind: str, before: str | None, after: str, graded: str
) -> None:
    values = dict(values)
    frame = changes(_two_snapshots(), upgrades(action("A", graded, "Some Firm", values.pop("what"), **values)))
    assert frame.empty


@pytest.mark.parametrize(
    "values",
    [
        {"price_target_action": "Maintains", "prior_price_target": 200.0, "current_price_target": 200.0},
        {"price_target_action": None},
        {},
    ],
)
@pytest.mark.parametrize("what", ["main", "reit"])
def test_a_maintained_rating_without_a_target_move_is_no_change(values: dict[str, Any], what: str) -> None:
    frame = changes(_two_snapshots(), upgrades(action("A", "2026-03-05T12:00:00Z", "Firm", what, **values)))
    assert frame.empty


@pytest.mark.parametrize(("prior", "current"), [(0.0, 240.0), (240.0, 0.0), (0.0, 0.0)])
def test_a_zero_analyst_target_is_none_never_inf(prior: float, current: float) -> None:
    row = action(
        "A",
        "2026-03-05T12:00:00Z",
        "Firm",
        "up",
        from_grade="Hold",
        to_grade="Buy",
        prior_price_target=prior,
        current_price_target=current,
    )
    frame = changes(_two_snapshots(), upgrades(row))
    assert kinds(frame) == ["upgrade"]
    assert pd.isna(frame.iloc[0]["change"])
    assert not frame["change"].isin([math.inf, -math.inf]).any()


def test_a_target_action_with_a_zero_prior_shows_no_prior() -> None:
    row = action(
        "A",
        "2026-03-05T12:00:00Z",
        "Firm",
        "main",
        price_target_action="Raises",
        prior_price_target=0.0,
        current_price_target=240.0,
    )
    frame = changes(_two_snapshots(), upgrades(row))
    assert frame.iloc[0][["before", "after"]].tolist() == [MISSING, money(240.0, "USD")]
    assert pd.isna(frame.iloc[0]["change"])


def test_analysts_targets_are_in_the_tickers_quote_currency() -> None:
    rows = history(
        snapshot("VOD.L", DAY1, target_mean=100.0, currency="GBp"),
        snapshot("VOD.L", DAY2, target_mean=100.0, currency="GBp"),
    )
    move = action(
        "VOD.L",
        "2026-03-05T12:00:00Z",
        "Firm",
        "main",
        price_target_action="Raises",
        prior_price_target=90.0,
        current_price_target=95.0,
    )
    frame = changes(rows, upgrades(move))
    assert frame.iloc[0][["before", "after"]].tolist() == [money(90.0, "GBp"), money(95.0, "GBp")]


def test_analysts_targets_take_the_unit_of_their_own_sources_snapshots() -> None:
    # TipRanks in pounds sorts before Yahoo in pence: Yahoo's analysts still quote in pence.
    rows = history(
        snapshot("VOD.L", DAY1, source="TipRanks", target_mean=1.0, currency="GBP"),
        snapshot("VOD.L", DAY2, source="TipRanks", target_mean=1.0, currency="GBP"),
        snapshot("VOD.L", DAY1, target_mean=100.0, currency="GBp"),
        snapshot("VOD.L", DAY2, target_mean=100.0, currency="GBp"),
    )
    move = action(
        "VOD.L",
        "2026-03-05T12:00:00Z",
        "Barclays",
        "main",
        price_target_action="Raises",
        prior_price_target=90.0,
        current_price_target=110.0,
    )
    frame = changes(rows, upgrades(move))
    assert frame.iloc[0][["before", "after"]].tolist() == [money(90.0, "GBp"), money(110.0, "GBp")]
    assert frame.iloc[0][["target_before", "target_after", "currency"]].tolist() == [90.0, 110.0, "GBp"]
    # An action of a source without snapshots of its own has no known unit: a bare number, no symbol.
    other = changes(rows, upgrades(move | {"source": "Elsewhere"}))
    assert other.iloc[0][["before", "after"]].tolist() == [money(90.0, None), money(110.0, None)]


def test_a_ticker_with_one_snapshot_lists_no_actions_but_others_do() -> None:
    rows = pd.concat([_two_snapshots("A"), history(snapshot("B", DAY1))], ignore_index=True)
    acts = upgrades(
        action("A", "2026-03-05T12:00:00Z", "Firm", "up", from_grade="Hold", to_grade="Buy"),
        action("B", "2026-03-05T12:00:00Z", "Firm", "down", from_grade="Buy", to_grade="Hold"),
    )
    frame = changes(rows, acts)
    assert frame["ticker"].tolist() == ["A"]


# ------------------------------------------------------------------------- many tickers, sources


def test_several_sources_are_each_compared_with_their_own_previous_snapshot() -> None:
    rows = history(
        snapshot("A", DAY1, target_mean=100.0, rating_mean=2.0),
        snapshot("A", DAY2, target_mean=110.0, rating_mean=2.0),
        snapshot("A", DAY1, source="TipRanks", target_mean=50.0, rating_mean=2.0),
        snapshot("A", DAY2, source="TipRanks", target_mean=50.0, rating_mean=3.0),
        snapshot("A", DAY2, source="finviz", rating_mean=4.0),  # one snapshot: nothing to compare
    )
    frame = changes(rows)
    found = {(r["source"], r["kind"]) for r in frame.to_dict("records")}
    assert found == {("Yahoo Finance", "target raise"), ("TipRanks", "label")}
    tipranks = frame[frame["source"] == "TipRanks"].iloc[0]
    assert (tipranks["before"], tipranks["after"]) == (label(2.0), label(3.0))


def test_one_publisher_in_two_files_is_one_history() -> None:
    rows = history(
        snapshot("A", DAY1, target_mean=100.0, source_id="yahoo-file-1"),
        snapshot("A", DAY2, target_mean=90.0, source_id="yahoo-file-2"),
    )
    assert kinds(changes(rows)) == ["target cut"]


def test_tickers_filter_and_newest_first() -> None:
    rows = history(
        snapshot("A", DAY1, target_mean=100.0),
        snapshot("A", DAY2, target_mean=110.0),
        snapshot("B", DAY1, target_mean=100.0),
        snapshot("B", DAY3, target_mean=80.0),
        snapshot("C", DAY1, target_mean=100.0),
        snapshot("C", DAY3, target_mean=105.0),
    )
    acts = upgrades(action("C", "2026-03-03T10:00:00Z", "Firm", "init", to_grade="Buy"))
    everything = changes(rows, acts)
    validate(everything, CHANGES)
    assert everything["date"].tolist() == sorted(everything["date"], reverse=True)
    assert set(everything["ticker"]) == {"A", "B", "C"}
    # Same day: by ticker.
    assert everything[everything["date"] == DAY3[:10]]["ticker"].tolist() == ["B", "C"]
    only = changes(rows, acts, tickers=["C"])
    assert set(only["ticker"]) == {"C"} and sorted(kinds(only)) == ["initiation", "target raise"]
    assert changes(rows, acts, tickers=["Z"]).empty


# ---------------------------------------------------------------------------------- the bundle


def test_the_bundle_since_june_29() -> None:
    """The issue's figures: F's mean target 14.851 -> 14.901 is a raise; TSLA 421.1561 -> 397.87274 a cut."""
    bundle = load_bundle()
    frame = changes(bundle.history, bundle.upgrades, tickers=["F", "TSLA"], since="2026-06-29")
    validate(frame, CHANGES)
    by_ticker = {r["ticker"]: r for r in frame.to_dict("records")}
    assert set(by_ticker) == {"F", "TSLA"}
    for ticker, (before, after, kind) in {
        "F": (14.851, 14.901, "target raise"),
        "TSLA": (421.1561, 397.87274, "target cut"),
    }.items():
        row = by_ticker[ticker]
        assert row["kind"] == kind and row["source"] == "Yahoo Finance"
        assert row["change"] == pytest.approx(after / before - 1)
        assert (row["before"], row["after"]) == (money(before, "USD"), money(after, "USD"))
        assert row["since"].startswith("2026-06-29")
