"""Scheduled fetches of a universe (ratings/schedule.py, ``ratings fetch --universe/--from-file``), offline.

On both backends (``target``: a SQLite file, or a database of the PostgreSQL server this module starts):
the daily budget, resuming without refetching what is done today, stopping at Yahoo's first 429, giving
up on a ticker that keeps failing, the fetch lock (held, and released by a killed process), and the exit
codes a cron job acts on. Every request goes to ``tests/fake_yahoo.py``; ``yahoo.fetch`` and the
schedule's day both run on the ``wall`` fixture's clock.

The end-to-end case, ``ratings fetch --universe sp500`` on PostgreSQL killed halfway (SIGTERM, then
SIGKILL) and restarted, runs the command line in processes of its own (``tests/fake_cli.py``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fake_yahoo import FakeYahoo
from helpers import Run, VirtualClock
from postgres import PostgresServer, look

from ratings import refresh as refresh_module
from ratings import schedule
from ratings.bundle import load_bundle
from ratings.cli.fetching import EXIT_TERMINATED, SCHEDULE_EXIT_CODES
from ratings.schema import utc_text
from ratings.store import Store
from ratings.yahoo import LiveConfig

ROOT = Path(__file__).resolve().parent.parent
CONFIG = LiveConfig(requests_per_second=None, max_attempts=2, backoff_base_s=0.0)
UNIVERSE = [f"U{i:02d}" for i in range(8)]


@pytest.fixture
def day(wall: VirtualClock, monkeypatch: pytest.MonkeyPatch) -> VirtualClock:
    """The schedule's day and the fetch log's times on the same clock as the fetches' answers (one clock, as in
    production)."""
    monkeypatch.setattr(schedule, "clock", wall.wall_clock)
    monkeypatch.setattr(refresh_module, "utc_now", lambda: utc_text(wall.now))
    return wall


@pytest.fixture
def universe(fake: FakeYahoo) -> list[str]:
    for symbol in UNIVERSE:
        fake.serve_as(symbol, "AAPL")
    return list(UNIVERSE)


def snapshots_per_ticker(target: str | Path, since: str) -> dict[str, int]:
    rows = look(target, "SELECT ticker, count(*) FROM snapshots WHERE observed_at >= ? GROUP BY ticker", (since,))
    return {str(ticker): int(n) for ticker, n in rows}


def scheduled(universe: list[str], target: str | Path, **options: Any) -> schedule.ScheduleOutcome:
    return schedule.run(universe, store_path=target, config=CONFIG, **({"batch_size": 3} | options))


# --- budget and resume --------------------------------------------------------------------------------


def test_a_run_stops_at_the_daily_budget_and_the_next_day_goes_on(
    fake: FakeYahoo, day: VirtualClock, universe: list[str], target: str | Path
) -> None:
    first = scheduled(universe, target, budget=5)
    assert first.status == "budget_spent" and first.fetched == 5
    assert first.before is not None and first.before.todo == tuple(universe[:5])  # the universe's order
    assert first.after is not None and first.after.beyond_budget == tuple(universe[5:])
    asked = fake.count("quoteSummary")
    again = scheduled(universe, target, budget=5)  # the same day: the budget is spent, Yahoo is not asked
    assert again.status == "budget_spent" and again.fetched == 0 and fake.count("quoteSummary") == asked

    day.now += timedelta(days=1)  # a new day: a new budget; yesterday's snapshots are not today's
    third = scheduled(universe, target, budget=5, force=True)
    assert third.status == "budget_spent" and third.fetched == 5
    assert snapshots_per_ticker(target, schedule.day_start(day.now)) == dict.fromkeys(universe[:5], 1)


def test_a_second_run_the_same_day_fetches_only_what_is_not_done(
    fake: FakeYahoo, day: VirtualClock, universe: list[str], target: str | Path
) -> None:
    assert scheduled(universe[:3], target, budget=100).status == "complete"
    fake.reset_log()
    outcome = scheduled(universe, target, budget=100)
    assert outcome.status == "complete" and outcome.fetched == 5
    assert outcome.after is not None and outcome.after.done == frozenset(universe)
    assert {r.symbol for r in fake.log if r.endpoint == "quoteSummary"} == set(universe[3:])  # never the done ones
    assert snapshots_per_ticker(target, schedule.day_start(day.now)) == dict.fromkeys(universe, 1)


def test_no_coverage_today_counts_as_done(fake: FakeYahoo, day: VirtualClock, target: str | Path) -> None:
    fake.no_fundamentals("SPY")
    fake.serve_as("U00", "AAPL")
    assert scheduled(["SPY", "U00"], target, budget=100).status == "complete"
    fake.reset_log()
    assert scheduled(["SPY", "U00"], target, budget=100).fetched == 0 and fake.log == []


def test_a_rate_limit_stops_the_run_and_the_next_one_resumes(
    fake: FakeYahoo, day: VirtualClock, universe: list[str], target: str | Path
) -> None:
    fake.fail(universe[4], "status", status=429)  # in the second batch of three
    first = scheduled(universe, target, budget=100)
    assert first.status == "rate_limited" and len(first.batches) == 2  # stopped: no third batch asked
    assert first.fetched == 5 and "rate limited" in first.failures[universe[4]]
    assert first.after is not None and first.after.todo == (universe[4], *universe[6:])
    fake.faults.clear()
    fake.reset_log()
    second = scheduled(universe, target, budget=100)
    assert second.status == "complete"
    assert {r.symbol for r in fake.log if r.endpoint == "quoteSummary"} == {universe[4], *universe[6:]}
    assert snapshots_per_ticker(target, schedule.day_start(day.now)) == dict.fromkeys(universe, 1)


def test_a_ticker_that_keeps_failing_waits_until_tomorrow(
    fake: FakeYahoo, day: VirtualClock, universe: list[str], target: str | Path
) -> None:
    fake.fail(universe[0], "malformed")  # forever
    for _ in range(schedule.GIVE_UP_AFTER):
        outcome = scheduled(universe[:2], target, budget=100)
    assert outcome.status == "failures" and outcome.after is not None
    assert outcome.after.given_up == (universe[0],) and outcome.after.todo == ()
    fake.reset_log()
    assert scheduled(universe[:2], target, budget=100).fetched == 0 and fake.log == []


# --- the fetch lock -----------------------------------------------------------------------------------


def test_a_second_scheduler_finds_the_lock_held_and_does_nothing(
    fake: FakeYahoo, day: VirtualClock, universe: list[str], target: str | Path
) -> None:
    with Store(target) as holder, holder.fetch_lock() as taken:
        assert taken
        outcome = scheduled(universe, target, budget=100)
        assert outcome.status == "locked" and outcome.batches == () and fake.log == []
    assert scheduled(universe, target, budget=100).status == "complete"  # released with the block


HOLDER = """
import sys
from ratings.store import Store
with Store(sys.argv[1]) as store, store.fetch_lock() as taken:
    print("held" if taken else "not taken", flush=True)
    sys.stdin.read()  # until killed
"""


def test_a_killed_process_leaves_no_lock_behind(target: str | Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(target)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with Store(target) as store:
            with store.fetch_lock() as taken:
                assert not taken  # another process has it
            holder.kill()
            holder.wait(timeout=30)
            with store.fetch_lock() as taken:  # the kernel (flock) or the server (session ended) dropped it
                assert taken
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.wait(timeout=30)


# --- the command line -----------------------------------------------------------------------------------


def schedule_argv(target: str | Path, tickers_file: Path, *extra: str) -> list[str]:
    return ["fetch", "--from-file", str(tickers_file), "--store", str(target), "--rate", "0", *extra]


@pytest.fixture
def tickers_file(tmp_path: Path, universe: list[str]) -> Path:
    path = tmp_path / "universe.txt"
    lines = [f"{t}, " if i % 2 else f"{t}  # a note" for i, t in enumerate(universe)]  # commas, comments
    path.write_text("# my universe\n" + "\n".join(lines) + "\n")
    return path


def test_the_exit_codes_say_what_a_cron_job_should_do(
    fake: FakeYahoo, day: VirtualClock, target: str | Path, tickers_file: Path, run: Callable[..., Run]
) -> None:
    spent = run(*schedule_argv(target, tickers_file, "--daily-budget", "5"))
    assert spent.code == SCHEDULE_EXIT_CODES["budget_spent"] == 3, spent.err
    assert "fetched 5 now" in spent.out and "3 wait for tomorrow" in spent.out
    assert "8 tickers, 0 done today, 5 to fetch now, 3 beyond today's budget" in spent.err

    done = run(*schedule_argv(target, tickers_file, "--daily-budget", "100"))
    assert done.code == 0 and "8 of 8 done today (complete for today)" in done.out

    with Store(target) as holder, holder.fetch_lock():
        locked = run(*schedule_argv(target, tickers_file))
    assert locked.code == SCHEDULE_EXIT_CODES["locked"] == 4 and "holds the fetch lock" in locked.out

    day.now += timedelta(days=1)
    fake.fail(UNIVERSE[1], "status", status=429)
    limited = run(*schedule_argv(target, tickers_file, "--force"))
    assert limited.code == SCHEDULE_EXIT_CODES["rate_limited"] == 75
    assert "rate-limited" in limited.out and f"{UNIVERSE[1]}: failed: rate limited" in limited.err


def test_every_ticker_failing_exits_one_and_a_few_exit_five(
    fake: FakeYahoo, day: VirtualClock, target: str | Path, tickers_file: Path, run: Callable[..., Run]
) -> None:
    fake.fail(UNIVERSE[2], "malformed")
    some = run(*schedule_argv(target, tickers_file))
    assert some.code == SCHEDULE_EXIT_CODES["failures"] == 5 and f"{UNIVERSE[2]}: failed" in some.err
    for symbol in UNIVERSE:
        fake.fail(symbol, "network")
    day.now += timedelta(days=1)
    assert run(*schedule_argv(target, tickers_file, "--force")).code == SCHEDULE_EXIT_CODES["nothing_fetched"] == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["fetch", "AAPL", "--universe", "sp500"], "not both"),
        (["fetch", "--from-file", "{missing}"], "cannot read the ticker file"),
        (["fetch", "--from-file", "{empty}"], "no ticker in"),
        (["fetch", "--universe", "sp500", "--from-file", "{empty}"], "not allowed with"),
        (["fetch", "--universe", "nasdaq"], "invalid choice"),
        (["fetch", "--universe", "sp500", "--daily-budget", "-1"], "must be 0 or more"),
    ],
)
def test_bad_schedule_options_are_usage_errors(
    fake: FakeYahoo, tmp_path: Path, run: Callable[..., Run], argv: list[str], message: str
) -> None:
    (tmp_path / "empty.txt").write_text("# nothing here\n\n")
    given = [a.format(missing=tmp_path / "nope.txt", empty=tmp_path / "empty.txt") for a in argv]
    result = run(*given, "--store", tmp_path / "s.sqlite")
    assert result.code == 2 and message in result.err and fake.log == []
    assert not (tmp_path / "s.sqlite").exists()


# --- the S&P 500 on PostgreSQL, killed halfway and restarted ---------------------------------------------


def test_the_sp500_killed_halfway_and_restarted_ends_with_every_ticker_once_today(
    pg_server: PostgresServer, tmp_path: Path
) -> None:
    url = pg_server.database()
    sp500 = [str(t) for t in load_bundle().universe.query("in_sp500")["ticker"]]
    command = [sys.executable, str(ROOT / "tests" / "fake_cli.py"), "fetch", "--universe", "sp500", "--store", url]
    command += ["--rate", "0", "--workers", "8"]
    env = {**os.environ, "RATINGS_CACHE_DIR": str(tmp_path / "cache")}

    def run_until(stop_after: int, how: signal.Signals) -> int:
        """Start a run; once its progress has passed `stop_after` tickers, send it `how`; its exit code."""
        process = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
        try:
            assert process.stderr is not None
            for line in process.stderr:  # "ratings: 120/400 ABC fetched", one per ticker: no sleep, no guess
                words = line.split()
                if len(words) > 1 and "/" in words[1] and int(words[1].split("/")[0]) >= stop_after:
                    process.send_signal(how)
                    break
            process.stderr.read()
            return process.wait(timeout=300)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()

    assert run_until(120, signal.SIGTERM) == EXIT_TERMINATED
    kept = look(url, "SELECT ticker, observed_at FROM snapshots")
    assert 100 <= len(kept) < len(sp500)  # the finished batches, and not the one in flight
    assert run_until(150, signal.SIGKILL) == -signal.SIGKILL

    finished = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600, check=False)
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert f"{len(sp500)} of {len(sp500)} done today (complete for today)" in finished.stdout

    rows = look(
        url, "SELECT ticker, count(*), count(DISTINCT substr(observed_at, 1, 10)) FROM snapshots GROUP BY ticker"
    )
    assert {t for t, _, _ in rows} == set(sp500)  # every ticker...
    assert all(n == 1 and days == 1 for _, n, days in rows)  # ...stored once, on one day
    assert set(kept) <= set(look(url, "SELECT ticker, observed_at FROM snapshots"))  # nothing stored was lost
    logged = [t for (tickers,) in look(url, "SELECT tickers FROM fetch_log") for t in json.loads(tickers)]
    assert len(logged) == len(set(logged)) == len(sp500)  # no ticker asked twice: the killed batches were never logged
