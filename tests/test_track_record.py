"""The track-record engine (ratings.track_record, grades, firms) on hand-made histories and on the bundle.

Every expected figure is worked out here from the closes the test builds (or, for AAPL, reads from the
bundle on days worked out by hand in tests/hand_track_record.py), never taken from the engine's output.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hand_track_record import ACTIONS, FIRM, TICKER, barclays_aapl, wilson
from hypothesis import given, settings
from hypothesis import strategies as st

from ratings import track_record as tr
from ratings.dataset import Dataset
from ratings.firms import FIRM_ALIASES, canonical_firms
from ratings.grades import GRADE_STANCES, stance, unknown_grades
from ratings.schema import PRICES, UPGRADES, conform

# --- fixtures built in code -------------------------------------------------------------------


def closes(ticker: str, steps: dict[str, float], start: str = "2020-01-01", end: str = "2021-12-31") -> pd.DataFrame:
    """Weekday closes of `ticker` from `start` to `end`: each `steps` value holds from its day on."""
    days = pd.bdate_range(start, end)
    points = pd.Series(steps, dtype="float64").set_axis(pd.to_datetime(list(steps))).sort_index()
    values = points.reindex(points.index.union(days)).ffill().reindex(days)
    frame = pd.DataFrame({"ticker": ticker, "date": days, "close": values.to_numpy(), "currency": "USD"})
    return conform(frame.assign(source_id="test").dropna(subset=["close"]), PRICES)


def flat_benchmark(start: str = "2020-01-01", end: str = "2021-12-31") -> pd.DataFrame:
    return closes("B", {start: 100.0}, start, end)


def actions(*rows: tuple[str, str, str, str | None]) -> pd.DataFrame:
    """(ticker, firm, graded_at, grade) rows as UPGRADES."""
    frame = pd.DataFrame(rows, columns=["ticker", "firm", "graded_at", "to_grade"])
    return conform(frame.assign(action="main", source="Yahoo Finance"), UPGRADES)


def score(acts: pd.DataFrame, *series: pd.DataFrame, benchmark: str | None = "B", months: int = 12) -> pd.DataFrame:
    prices = pd.concat([*series, flat_benchmark()], ignore_index=True)
    return tr.score_calls(acts, prices, benchmark=benchmark, horizon_months=months)


def call(calls: pd.DataFrame, graded_at: str) -> pd.Series:
    rows = calls[calls["graded_at"] == graded_at]
    assert len(rows) == 1, graded_at
    return rows.iloc[0]


RISING = closes("T", {"2020-01-01": 100.0, "2020-03-02": 110.0, "2020-06-01": 130.0})

# --- the holding window -------------------------------------------------------------------------


def test_a_buy_then_a_hold_closes_the_buy_early() -> None:
    calls = score(
        actions(("T", "F1", "2020-01-06T14:00:00Z", "Buy"), ("T", "F1", "2020-03-02T14:00:00Z", "Hold")), RISING
    )
    buy, hold = call(calls, "2020-01-06T14:00:00Z"), call(calls, "2020-03-02T14:00:00Z")
    assert (buy["status"], buy["closed_by"]) == ("scored", "next action")
    assert (buy["entry_date"], buy["exit_date"]) == (pd.Timestamp("2020-01-06"), pd.Timestamp("2020-03-02"))
    assert buy["ticker_return"] == pytest.approx(110 / 100 - 1)  # left at the hold, not at the window's 130
    assert buy["success"]
    assert (hold["status"], bool(hold["scored"]), bool(hold["success"])) == ("hold", False, False)


@pytest.mark.parametrize(
    ("entry", "months", "exit_day", "exit_close"),
    [
        ("2020-01-06T14:00:00Z", 3, "2020-04-06", 110.0),
        ("2020-01-06T14:00:00Z", 6, "2020-07-06", 130.0),
        ("2020-01-06T14:00:00Z", 12, "2021-01-06", 130.0),
        # 2019-11-29 + 3 months is Saturday 2020-02-29: left at the last close before it.
        ("2019-11-29T14:00:00Z", 3, "2020-02-28", 100.0),
    ],
)
def test_without_a_next_action_a_call_runs_to_the_window_end(
    entry: str, months: int, exit_day: str, exit_close: float
) -> None:
    series = closes("T", {"2019-11-01": 100.0, "2020-03-02": 110.0, "2020-06-01": 130.0}, start="2019-11-01")
    bench = closes("B", {"2019-11-01": 100.0}, start="2019-11-01")
    calls = tr.score_calls(actions(("T", "F1", entry, "Outperform")), pd.concat([series, bench]), benchmark="B",
                           horizon_months=months)  # fmt: skip
    row = calls.iloc[0]
    assert (row["status"], row["closed_by"], row["exit_date"]) == ("scored", "window end", pd.Timestamp(exit_day))
    assert row["ticker_return"] == pytest.approx(exit_close / 100 - 1)
    assert row["horizon_months"] == months


@pytest.mark.parametrize(("months", "status"), [(3, "scored"), (6, "pending"), (12, "pending")])
def test_a_window_past_the_last_close_is_pending(months: int, status: str) -> None:
    short = closes("T", {"2020-01-01": 100.0, "2020-03-02": 110.0}, end="2020-06-30")
    row = score(actions(("T", "F1", "2020-01-06T14:00:00Z", "Buy")), short, months=months).iloc[0]
    assert row["status"] == status
    assert bool(row["scored"]) == (status == "scored")
    if status == "pending":  # never scored: no exit, no return, no success
        assert pd.isna(row["exit_date"]) and math.isnan(row["ticker_return"]) and not row["success"]


def test_a_next_action_after_the_last_close_leaves_the_call_pending() -> None:
    short = closes("T", {"2020-01-01": 100.0}, end="2020-06-30")
    calls = score(
        actions(("T", "F1", "2020-05-01T14:00:00Z", "Buy"), ("T", "F1", "2020-08-03T14:00:00Z", "Hold")), short
    )
    assert call(calls, "2020-05-01T14:00:00Z")["status"] == "pending"
    assert tr.status_counts(calls) == {"hold": 1, "pending": 1}


@pytest.mark.parametrize(
    ("graded_at", "entry_day"),
    [
        ("2020-01-06T20:59:00Z", "2020-01-06"),  # 15:59 in New York (EST): before the close
        ("2020-01-06T21:00:00Z", "2020-01-07"),  # 16:00 EST: the close has passed
        ("2020-07-06T19:59:00Z", "2020-07-06"),  # 15:59 EDT
        ("2020-07-06T20:00:00Z", "2020-07-07"),  # 16:00 EDT
        ("2020-01-07T03:00:00Z", "2020-01-07"),  # 22:00 on the 6th in New York
        ("2020-01-04T15:00:00Z", "2020-01-06"),  # a Saturday: Monday's close
        ("2020-01-10T22:00:00Z", "2020-01-13"),  # Friday after the close: Monday's
    ],
)
def test_a_call_is_entered_at_the_first_close_after_it(graded_at: str, entry_day: str) -> None:
    row = score(actions(("T", "F1", graded_at, "Buy")), RISING).iloc[0]
    assert row["entry_date"] == pd.Timestamp(entry_day)


@pytest.mark.parametrize(
    ("graded_at", "status"),
    [
        ("2019-12-01T14:00:00Z", "no price"),  # the first close (2020-01-01) is a month later
        ("2019-12-27T14:00:00Z", "scored"),  # five days before the first close: entered there
        ("2022-02-01T14:00:00Z", "no price"),  # after the last close
    ],
)
def test_a_call_without_a_close_within_a_week_has_no_price(graded_at: str, status: str) -> None:
    assert score(actions(("T", "F1", graded_at, "Buy")), RISING, months=3).iloc[0]["status"] == status


def test_a_ticker_without_closes_is_named_and_why_its_calls_have_no_price() -> None:
    acts = actions(("T", "F1", "2019-12-01T14:00:00Z", "Buy"), ("T", "F2", "2020-02-03T14:00:00Z", "Buy"),
                   ("T", "F1", "2022-02-01T14:00:00Z", "Buy"), ("X", "F1", "2020-02-03T14:00:00Z", "Buy"))  # fmt: skip
    calls = score(acts, RISING)
    assert tr.unpriced_tickers(calls) == ["X"]  # T has a priced call; X none
    assert tr.unpriced_breakdown(calls, pd.concat([RISING, flat_benchmark()])) == {
        tr.AFTER_PRICES: 1, tr.BEFORE_PRICES: 1, tr.NO_CLOSES: 1,
    }  # fmt: skip


def test_a_call_replaced_at_the_same_close_is_superseded() -> None:
    calls = score(
        actions(("T", "F1", "2020-01-06T13:00:00Z", "Buy"), ("T", "F1", "2020-01-06T14:00:00Z", "Buy")), RISING
    )
    assert call(calls, "2020-01-06T13:00:00Z")["status"] == "superseded"
    assert call(calls, "2020-01-06T14:00:00Z")["status"] == "scored"


@pytest.mark.parametrize(
    ("kind", "prices_close_after", "expected"),
    [("adjusted", 102.0, 102 / 100 - 1), ("as traded", 102.0, 102 / 400 - 1)],
)
def test_a_split_inside_a_window_is_not_a_loss_on_adjusted_closes(kind: str, prices_close_after: float,
                                                                   expected: float) -> None:  # fmt: skip
    """A 4:1 split on 2020-03-02: as traded the close falls from 400 to 102; adjusted it goes from 100 to 102."""
    adjusted = pd.concat(
        [closes("T", {"2020-01-01": 100.0, "2020-03-02": 102.0}), flat_benchmark().assign(ticker="EW-SP500")]
    )
    traded = closes("T", {"2020-01-01": 400.0, "2020-03-02": prices_close_after})
    dataset_closes, benchmark = tr.scoring_closes(adjusted if kind == "adjusted" else PRICES.empty(), traded)
    if kind == "as traded":  # without adjusted closes the daily ones are all there is, and there is no benchmark
        assert benchmark is None
        dataset_closes, benchmark = pd.concat([traded, flat_benchmark()]), "B"
    row = tr.score_calls(actions(("T", "F1", "2020-01-06T14:00:00Z", "Buy")), dataset_closes, benchmark=benchmark,
                         horizon_months=6).iloc[0]  # fmt: skip
    assert row["ticker_return"] == pytest.approx(expected)
    assert bool(row["success"]) == (kind == "adjusted")


@pytest.mark.parametrize(
    ("adjusted", "prices", "expected"),
    [
        (["AAPL", "EW-SP500"], ["AAPL", "SPY"], ("adjusted", "EW-SP500")),
        ([], ["AAPL", "SPY"], ("prices", "SPY")),
        ([], ["AAPL"], ("prices", None)),
    ],
)
def test_the_bundle_scores_on_adjusted_closes_and_a_store_on_its_own_with_spy(
    adjusted: list[str], prices: list[str], expected: tuple[str, str | None]
) -> None:
    frames = {
        "adjusted": pd.concat([closes(t, {"2020-01-01": 1.0}) for t in adjusted]) if adjusted else PRICES.empty(),
        "prices": pd.concat([closes(t, {"2020-01-01": 2.0}) for t in prices]),
    }
    chosen, benchmark = tr.scoring_closes(frames["adjusted"], frames["prices"])
    assert chosen is frames[expected[0]] and benchmark == expected[1]


# --- success, direction, benchmark --------------------------------------------------------------


@pytest.mark.parametrize(
    ("grade", "stock_after", "bench_after", "success", "call_excess"),
    [
        ("Buy", 110.0, 105.0, True, 0.10 - 0.05),
        ("Buy", 105.0, 110.0, False, 0.05 - 0.10),
        ("Underperform", 105.0, 110.0, True, 0.10 - 0.05),  # a sell that lagged the benchmark, though the stock rose
        ("Sell", 90.0, 85.0, False, -0.15 - -0.10),
        ("Buy", 100.0, 100.0, False, 0.0),  # level with the benchmark is not beating it
    ],
)
def test_a_call_succeeds_against_the_benchmark_in_its_direction(
    grade: str, stock_after: float, bench_after: float, success: bool, call_excess: float
) -> None:
    stock = closes("T", {"2020-01-01": 100.0, "2020-02-03": stock_after})
    bench = closes("B", {"2020-01-01": 100.0, "2020-02-03": bench_after})
    row = tr.score_calls(actions(("T", "F1", "2020-01-06T14:00:00Z", grade)), pd.concat([stock, bench]), benchmark="B",
                         horizon_months=3).iloc[0]  # fmt: skip
    assert row["benchmark_return"] == pytest.approx(bench_after / 100 - 1)
    assert row["excess_return"] == pytest.approx((stock_after - bench_after) / 100)
    assert row["call_excess"] == pytest.approx(call_excess)
    assert bool(row["success"]) is success


@pytest.mark.parametrize("benchmark", [None, "NOT-IN-THE-DATA"])
def test_without_benchmark_closes_nothing_is_scored(benchmark: str | None) -> None:
    calls = score(actions(("T", "F1", "2020-01-06T14:00:00Z", "Buy")), RISING, benchmark=benchmark, months=3)
    assert calls["status"].tolist() == ["no benchmark"]
    assert not calls["scored"].any()


# --- grade words and firm names -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        *((w, s) for s, words in GRADE_STANCES.items() for w in words),
        ("Equal-weight", "hold"), ("equal weight", "hold"), ("EQUAL_WEIGHT", "hold"), ("OUTPERFORM", "buy"),
        ("  Long-term  Buy ", "buy"), ("Sector  Underperform", "sell"), ("In Line", "hold"),
    ],
)  # fmt: skip
def test_grade_words_are_mapped_by_the_table(word: str, expected: str) -> None:
    assert stance(pd.Series([word])).tolist() == [expected]


@pytest.mark.parametrize("word", ["Tactical Buy", "Buy-ish", "Speculative Hold", "Not Rated", "5"])
def test_a_grade_word_not_in_the_table_is_named_and_never_guessed(word: str) -> None:
    acts = actions(("T", "F1", "2020-01-06T14:00:00Z", word), ("T", "F2", "2020-01-06T14:00:00Z", word),
                   ("T", "F3", "2020-01-06T14:00:00Z", "Buy"), ("T", "F4", "2020-01-06T14:00:00Z", None))  # fmt: skip
    calls = score(acts, RISING, months=3)
    assert unknown_grades(acts["to_grade"]) == {word: 2}
    assert sorted(calls["status"]) == ["no grade", "scored", "unknown grade", "unknown grade"]
    assert calls.loc[calls["status"] == "unknown grade", "stance"].isna().all()


def test_firm_name_variants_merge_only_by_the_list() -> None:
    names = pd.Series(["Cowen & Co.", "TD Cowen", "MORGAN STANLEY", "Morgan Stanley & Co", "Acme Research",
                       "Acme Research", "ACME  RESEARCH", "Credit Suisse", "UBS", "BGC FInancial", None])  # fmt: skip
    assert canonical_firms(names).tolist() == [
        "TD Cowen", "TD Cowen", "Morgan Stanley", "Morgan Stanley", "Acme Research", "Acme Research", "Acme Research",
        "Credit Suisse", "UBS", "BGC Financial", pd.NA,
    ]  # fmt: skip
    assert all(firm not in variants for firm, variants in FIRM_ALIASES.items())


def test_a_renamed_firms_next_action_closes_the_old_names_call() -> None:
    acts = actions(
        ("T", "Cowen & Co.", "2020-01-06T14:00:00Z", "Outperform"),
        ("T", "TD Cowen", "2020-03-02T14:00:00Z", "Market Perform"),
    )
    buy = call(score(acts, RISING), "2020-01-06T14:00:00Z")
    assert (buy["firm"], buy["firm_as_given"], buy["closed_by"]) == ("TD Cowen", "Cowen & Co.", "next action")
    assert buy["ticker_return"] == pytest.approx(0.10)


# --- the firms' record --------------------------------------------------------------------------


def scored_calls(firm: str, outcomes: list[bool], excess: list[float] | None = None) -> pd.DataFrame:
    """A firm's scored buy calls with these outcomes (a CALLS frame built by hand)."""
    excess = excess if excess is not None else [0.01 if ok else -0.01 for ok in outcomes]
    n = len(outcomes)
    frame = pd.DataFrame(
        {
            "ticker": "T", "firm": firm, "graded_at": [f"2020-01-{i % 28 + 1:02d}T14:00:00Z" for i in range(n)],
            "stance": "buy", "status": "scored", "scored": True, "success": outcomes, "call_excess": excess,
            "call_return": excess, "horizon_months": 12, "benchmark": "B", "source": "Yahoo Finance",
        }
    )  # fmt: skip
    return conform(frame, tr.CALLS)


def test_two_lucky_calls_rank_below_sixty_of_a_hundred() -> None:
    calls = pd.concat([scored_calls("Lucky", [True, True]), scored_calls("Steady", [True] * 60 + [False] * 40)])
    record = tr.firm_record(calls, min_calls=1)
    assert record["firm"].tolist() == ["Steady", "Lucky"] and record["rank"].tolist() == [1, 2]
    lucky = record.set_index("firm").loc["Lucky"]
    assert lucky["success_rate"] == 1.0  # the higher rate, ranked lower: its interval is wide
    assert (lucky["success_low"], lucky["success_high"]) == pytest.approx(wilson(2, 2))
    assert record.set_index("firm").loc["Steady", "success_low"] == pytest.approx(wilson(60, 100)[0])
    assert tr.firm_record(calls, min_calls=3)["firm"].tolist() == ["Steady"]


def test_a_firms_record_counts_its_calls_and_excess_returns() -> None:
    calls = scored_calls("F1", [True, False, True], excess=[0.10, -0.02, 0.04])
    row = tr.firm_record(calls, min_calls=1).iloc[0]
    assert (row["scored_calls"], row["successes"], row["buy_calls"], row["sell_calls"]) == (3, 2, 3, 0)
    assert row["mean_excess"] == pytest.approx((0.10 - 0.02 + 0.04) / 3)
    assert row["median_excess"] == pytest.approx(0.04)
    assert list(tr.firm_record(calls).columns) == list(tr.FIRM_CSV_COLUMNS)


def test_the_record_by_ticker_separates_buy_and_sell_calls() -> None:
    stock = closes("T", {"2020-01-01": 100.0, "2020-02-03": 110.0})
    acts = actions(("T", "F1", "2020-01-06T14:00:00Z", "Buy"), ("T", "F2", "2020-01-06T14:00:00Z", "Sell"))
    record = tr.ticker_record(score(acts, stock, months=3)).set_index("calls")
    assert record.loc[["buy", "sell", "all"], "successes"].tolist() == [1, 0, 1]
    assert record.loc[["buy", "sell", "all"], "scored_calls"].tolist() == [1, 1, 2]


@settings(max_examples=200, deadline=None)
@given(n=st.integers(1, 5000), data=st.data())
def test_the_interval_contains_the_rate_and_stays_within_0_and_1(n: int, data: st.DataObject) -> None:
    k = data.draw(st.integers(0, n))
    low, high = tr.wilson_interval(np.array([k]), np.array([n]))
    assert 0 <= low[0] <= k / n + 1e-12 and k / n - 1e-12 <= high[0] <= 1
    assert (low[0], high[0]) == pytest.approx(wilson(k, n))


@settings(max_examples=60, deadline=None)
@given(outcomes=st.lists(st.booleans(), min_size=1, max_size=40))
def test_one_more_success_never_lowers_a_firms_rate_or_its_lower_bound(outcomes: list[bool]) -> None:
    before = tr.firm_record(scored_calls("F1", outcomes), min_calls=1).iloc[0]
    after = tr.firm_record(scored_calls("F1", [*outcomes, True]), min_calls=1).iloc[0]
    assert after["success_rate"] >= before["success_rate"]
    assert after["success_low"] >= before["success_low"] - 1e-12


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_the_score_does_not_depend_on_the_order_of_the_actions(seed: int) -> None:
    acts = actions(*[("T", f"F{i % 3}", f"2020-{1 + i // 4:02d}-{6 + i % 4:02d}T14:00:00Z", g)
                     for i, g in enumerate(["Buy", "Hold", "Sell", "Buy", "Overweight", "Neutral"] * 2)])  # fmt: skip
    shuffled = acts.sample(frac=1, random_state=seed)
    keys = ["firm", "graded_at"]
    one, two = (score(a, RISING).sort_values(keys).reset_index(drop=True) for a in (acts, shuffled))
    pd.testing.assert_frame_equal(one, two)


# --- the bundle ----------------------------------------------------------------------------------


def test_barclays_aapl_record_from_the_bundle_matches_the_hand_computation(bundle: Dataset) -> None:
    recorded = bundle.upgrades[(bundle.upgrades["ticker"] == TICKER) & (bundle.upgrades["firm"] == FIRM)]
    first = recorded.sort_values("graded_at").head(len(ACTIONS))
    assert list(zip(first["graded_at"], first["to_grade"], strict=True)) == list(ACTIONS)
    hand = barclays_aapl(bundle.adjusted_closes)
    assert (hand.calls, hand.successes) == (8, 2)

    closes_, benchmark = tr.scoring_closes(bundle.adjusted_closes, bundle.prices)
    calls = tr.score_calls(bundle.upgrades[bundle.upgrades["ticker"] == TICKER], closes_, benchmark=benchmark)
    row = tr.firm_record(calls, min_calls=1).set_index("firm").loc[FIRM]
    assert (row["scored_calls"], row["successes"], row["benchmark"]) == (hand.calls, hand.successes, "EW-SP500")
    assert (row["success_rate"], row["success_low"], row["success_high"]) == pytest.approx(
        (hand.rate, hand.low, hand.high)
    )
    assert (row["mean_excess"], row["median_excess"]) == pytest.approx((hand.mean_excess, hand.median_excess))


def test_the_bundle_scores_its_calls_in_well_under_a_second(bundle: Dataset) -> None:
    """Not a timing test (benchmarks/track_record.py is): every action gets a status, and the tickers
    the manifest lists without adjusted closes are the ones named as unpriced."""
    closes_, benchmark = tr.scoring_closes(bundle.adjusted_closes, bundle.prices)
    calls = tr.score_calls(bundle.upgrades, closes_, benchmark=benchmark)
    assert len(calls) == len(bundle.upgrades) and set(calls["status"]) <= set(tr.STATUSES)
    assert tr.unpriced_tickers(calls) == ["ARMK", "BEKE", "BFLY", "CRON", "EPAC"]  # data/manifest.json
    # GOOG's closes start 2014-03-27 (PROVENANCE): its earlier calls have no price, none is scored.
    goog = calls[(calls["ticker"] == "GOOG") & (calls["graded_at"] < "2014-03-20")]
    assert not goog.empty and (goog.loc[goog["stance"] != "hold", "status"].isin(["no price", "unknown grade"])).all()


def test_the_methodology_text_names_the_grade_tables_size_and_renders_as_sections() -> None:
    from ratings.dashboard import rst_to_markdown

    words = sum(len(w) for w in GRADE_STANCES.values())
    assert f"a documented table of {words} words" in " ".join((tr.__doc__ or "").split())
    headings = [heading for heading, _ in rst_to_markdown(tr.__doc__) if heading]
    assert headings == ["What is scored", "The holding window", "Returns and success", "Success rate and its interval",
                        "Ranking"]  # fmt: skip


@pytest.mark.parametrize("empty", ["actions", "closes", "both"])
def test_no_actions_or_no_closes_give_empty_records_not_errors(empty: str) -> None:
    acts = UPGRADES.empty() if empty in ("actions", "both") else actions(("T", "F1", "2020-01-06T14:00:00Z", "Buy"))
    prices = PRICES.empty() if empty in ("closes", "both") else RISING
    calls = tr.score_calls(acts, prices, benchmark=None)
    assert tr.firm_record(calls, min_calls=1).empty and tr.ticker_record(calls).empty
    assert set(calls["status"]) <= {"no price"}
    assert tr.unpriced_breakdown(calls, prices) == ({tr.NO_CLOSES: 1} if empty == "closes" else {})


def test_the_record_by_firm_and_ticker_has_a_row_for_each_pair() -> None:
    calls = pd.concat([scored_calls("F1", [True, True]), scored_calls("F1", [False]).assign(ticker="U"),
                       scored_calls("F2", [True])])  # fmt: skip
    pairs = tr.firm_ticker_record(calls, min_calls=1)
    # Ranked by the lower bound: 2 of 2, then 1 of 1, then 0 of 1.
    expected = [("F1", "T", 2), ("F2", "T", 1), ("F1", "U", 1)]
    assert list(zip(pairs["firm"], pairs["tickers"], pairs["scored_calls"], strict=True)) == expected
    assert pairs["rank"].tolist() == [1, 2, 3]
