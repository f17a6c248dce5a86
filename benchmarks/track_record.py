"""Benchmark: the track-record engine against a plain pandas ``merge_asof`` baseline, on the bundle and on
100,000 synthetic actions.

    python benchmarks/track_record.py [--actions 100000] [--tickers 100] [--repeat 3]

Both score every action by the same rules (entry at the first close after it, exit at the window's end or
the firm's next action, the benchmark over the same days, pending until the window closes), in the same
run on the same frames: the baseline with one ``pd.merge_asof`` per lookup, the engine with sorted-array
lookups (``ratings.track_record.CloseSeries``). The printed figures are the engine's time over the
baseline's (target: at most 2) and the bundle's time (target: under 1 s). The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from ratings import track_record as tr
from ratings.bundle import load_bundle
from ratings.firms import canonical_firms
from ratings.grades import GRADE_STANCES, stance
from ratings.schema import PRICES, UPGRADES, conform

TARGET_RATIO, TARGET_BUNDLE_SECONDS = 2.0, 1.0


def synthetic(n_actions: int, n_tickers: int, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Random-walk closes 2000-2020 for `n_tickers` and a benchmark, and `n_actions` actions on them."""
    rng = np.random.default_rng(seed)
    days = pd.bdate_range("2000-01-03", "2020-12-31")
    names = [f"T{i:03d}" for i in range(n_tickers)] + ["EW-SP500"]
    walks = 100 * np.exp(np.cumsum(rng.normal(0.0003, 0.02, (len(names), len(days))), axis=1))
    closes = pd.DataFrame(
        {"ticker": np.repeat(names, len(days)), "date": np.tile(days, len(names)), "close": walks.ravel()}
    ).assign(currency="USD", source_id="synthetic")
    seconds = rng.integers(
        pd.Timestamp("2000-01-01").value // 10**9, pd.Timestamp("2021-06-30").value // 10**9, n_actions
    )
    words = [w for ws in GRADE_STANCES.values() for w in ws] + ["Tactical Buy"]  # one word the table lacks
    actions = pd.DataFrame(
        {
            "ticker": rng.choice(names[:-1], n_actions),
            "firm": rng.choice([f"Firm {i}" for i in range(150)], n_actions),
            "graded_at": pd.to_datetime(seconds, unit="s").strftime("%Y-%m-%dT%H:%M:%SZ"),
            "action": "main",
            "to_grade": rng.choice(words, n_actions),
            "source": "synthetic",
        }
    )
    return conform(actions.drop_duplicates(["ticker", "graded_at", "firm"]), UPGRADES), conform(closes, PRICES)


def engine(actions: pd.DataFrame, closes: pd.DataFrame, benchmark: str) -> pd.DataFrame:
    return tr.score_calls(actions, closes, benchmark=benchmark)


def merge_asof_baseline(actions: pd.DataFrame, closes: pd.DataFrame, benchmark: str, months: int = 12) -> pd.DataFrame:
    """The same rules with one ``pd.merge_asof`` per lookup: the baseline."""
    a = actions[["ticker", "firm", "graded_at", "to_grade"]].assign(firm=lambda f: canonical_firms(f["firm"]))
    a = a.sort_values(["ticker", "firm", "graded_at"]).reset_index(drop=True)
    a["stance"] = stance(a["to_grade"])
    local = pd.to_datetime(a["graded_at"], utc=True, format="ISO8601").dt.tz_convert("America/New_York")
    a["day"] = (
        local.dt.tz_localize(None).dt.normalize() + pd.to_timedelta((local.dt.hour >= 16).astype(int), "D")
    ).astype("datetime64[ns]")
    c = (
        closes.loc[closes["close"] > 0, ["ticker", "date", "close"]]
        .astype({"date": "datetime64[ns]"})
        .sort_values("date")
    )

    def lookup(frame: pd.DataFrame, on: str, direction: str, tickers: str = "ticker") -> pd.DataFrame:
        left = frame[[on, tickers]].rename(columns={tickers: "ticker"}).reset_index().dropna(subset=[on])
        found = pd.merge_asof(left.sort_values(on), c.assign(found=c["date"]), left_on=on, right_on="date",
                              by="ticker", direction=direction)  # type: ignore[arg-type]  # fmt: skip
        return found.set_index("index")[["found", "close"]].reindex(frame.index)

    first = lookup(a, "day", "forward")
    a["first"], a["first_close"] = first["found"], first["close"]
    entered = (a["first"] - a["day"]) <= pd.Timedelta(days=tr.MAX_ENTRY_GAP_DAYS)
    a["entry"], a["entry_close"] = a["first"].where(entered), a["first_close"].where(entered)
    same = ((a["ticker"].shift(-1) == a["ticker"]) & (a["firm"].shift(-1) == a["firm"])).fillna(False).astype(bool)
    a["next_day"], a["next_first"] = a["day"].shift(-1).where(same), a["first"].shift(-1).where(same)
    a["end"] = a["entry"] + pd.DateOffset(months=months)
    last = a["ticker"].map(c.groupby("ticker")["date"].max())
    by_next = same & (a["next_day"] <= a["end"]).fillna(False)
    at_end = lookup(a.assign(end=a["end"].where(~by_next & (last >= a["end"]))), "end", "backward")
    a["exit"] = a["next_first"].where(by_next, at_end["found"])
    superseded = a["entry"].notna() & by_next & (a["next_first"] == a["entry"])
    a["exit"] = a["exit"].where(~superseded)
    a["exit_close"] = lookup(a, "exit", "backward")["close"]
    bench = a.assign(bench=pd.Series(benchmark, index=a.index, dtype="string"))
    b_entry, b_exit = lookup(bench, "entry", "backward", "bench"), lookup(bench, "exit", "backward", "bench")
    a["ticker_return"] = a["exit_close"] / a["entry_close"] - 1
    a["excess_return"] = a["ticker_return"] - (b_exit["close"] / b_entry["close"] - 1)
    a["status"] = np.select(
        [a["to_grade"].isna(), a["stance"].isna(), (a["stance"] == "hold").fillna(False), a["entry"].isna(), superseded,
         a["exit"].isna(), a["excess_return"].isna()],
        list(tr.STATUSES[:-1]), default=tr.SCORED,
    )  # fmt: skip
    return a


def best_of(func: Callable[[], pd.DataFrame], repeat: int) -> tuple[float, pd.DataFrame]:
    times, result = [], pd.DataFrame()
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return min(times), result


def same_results(fast: pd.DataFrame, slow: pd.DataFrame) -> bool:
    """The same status for every action and the same returns for every scored one."""
    keys = ["ticker", "firm", "graded_at"]
    one, two = fast.sort_values(keys).reset_index(drop=True), slow.sort_values(keys).reset_index(drop=True)
    scored = one["status"].to_numpy() == tr.SCORED
    return bool(
        (one["status"].to_numpy() == two["status"].to_numpy()).all()
        and np.allclose(one.loc[scored, "excess_return"], two.loc[scored, "excess_return"].to_numpy(float))
        and np.allclose(one.loc[scored, "ticker_return"], two.loc[scored, "ticker_return"].to_numpy(float))
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--actions", type=int, default=100_000)
    parser.add_argument("--tickers", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    bundle = load_bundle()
    closes, benchmark = tr.scoring_closes(bundle.adjusted_closes, bundle.prices)
    cases = {
        "bundle": (bundle.upgrades, closes, str(benchmark)),
        "synthetic": (*synthetic(args.actions, args.tickers), "EW-SP500"),
    }
    figures: dict[str, dict[str, float | int | bool]] = {}
    print(f"{'case':<11}{'actions':>9}{'engine':>11}{'merge_asof':>12}{'ratio':>8}  same results")
    for name, (acts, prices, bench) in cases.items():
        fast, got = best_of(lambda a=acts, p=prices, b=bench: engine(a, p, b), args.repeat)  # type: ignore[misc]
        slow, want = best_of(lambda a=acts, p=prices, b=bench: merge_asof_baseline(a, p, b), args.repeat)  # type: ignore[misc]
        same = same_results(got, want)
        figures[name] = {"actions": len(acts), "seconds": round(fast, 4), "baseline_seconds": round(slow, 4),
                         "ratio": round(fast / slow, 2), "same_results": same}  # fmt: skip
        print(f"{name:<11}{len(acts):>9,}{fast * 1000:>9.0f}ms{slow * 1000:>10.0f}ms{fast / slow:>8.2f}  {same}")
    ok = (
        all(f["ratio"] <= TARGET_RATIO for f in figures.values())
        and figures["bundle"]["seconds"] < TARGET_BUNDLE_SECONDS
    )
    print(
        f"targets: ratio <= {TARGET_RATIO} in both cases, bundle under {TARGET_BUNDLE_SECONDS:.0f} s: "
        + ("met" if ok else "MISSED")
    )
    print(
        json.dumps(
            {"bundle_actions": figures["bundle"]["actions"], "bundle_seconds": figures["bundle"]["seconds"],
             "bundle_ratio_vs_merge_asof": figures["bundle"]["ratio"],
             "synthetic_actions": figures["synthetic"]["actions"], "synthetic_seconds": figures["synthetic"]["seconds"],
             "synthetic_ratio_vs_merge_asof": figures["synthetic"]["ratio"], "target_ratio": TARGET_RATIO,
             "same_results": all(bool(f["same_results"]) for f in figures.values()), "targets_met": ok}
        )
    )  # fmt: skip


if __name__ == "__main__":
    main()
