"""Scheduled fetches of a whole universe: spread under a daily budget, resumable, one at a time per store.

A scheduled run (``ratings fetch --universe sp500``, or ``--from-file PATH``, from cron or a systemd
timer) asks Yahoo only for what the store does not have today, in batches of :data:`BATCH_SIZE`
tickers, each one :func:`ratings.refresh.refresh` (one transaction with its fetch-log entry):

* **Progress is the store itself.** A ticker is *done today* when it has a snapshot observed since
  today's UTC midnight, or today's fetch log says Yahoo answered "no analyst coverage". A run that is
  killed, interrupted or rate-limited loses at most the batch in flight (never committed, so never half
  written); the next run starts from what is not done, in the universe's order, and never fetches a
  done ticker again the same day. Nothing else is recorded, so nothing can disagree with the data.
* **The daily budget** (:data:`DEFAULT_DAILY_BUDGET` tickers a UTC day) counts every ticker the fetch
  log shows asked today, by any fetch of this store: what is left is what this run may ask. Yahoo
  publishes no limit and yfinance documents none; users report HTTP 429 after roughly 950 to 1,500
  tickers fetched in one burst from one address, and each ticker costs about eight requests here (four
  quote-summary, two chart, one quote, one statistics), so 600 a day keeps well under that and still
  covers the S&P 500 (503 tickers) in one run: about 40 minutes at the loader's 2 requests a second.
* **Rate limited**: the first batch in which Yahoo answers HTTP 429 (after the loader's own retries)
  ends the run: asking on would only spend requests. The tickers it did not get stay to do.
* **Failures**: a ticker that fails :data:`GIVE_UP_AFTER` times in one day (not counting rate limits)
  is left until tomorrow, so a symbol Yahoo cannot answer does not eat the budget of every run.
* **One at a time**: the run holds the store's fetch lock (:meth:`ratings.store.Store.fetch_lock`: an
  advisory lock on PostgreSQL, an ``flock`` beside a SQLite file); a second scheduler finds it held and
  does nothing. Both locks die with their process, so a killed run leaves none behind.

:func:`run` returns a :class:`ScheduleOutcome`; the command line turns its ``status`` into an exit code
(``ratings.cli``'s docstring lists them).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from .paths import StoreTarget
from .schema import NO_COVERAGE_REASON, FetchLogEntry
from .store import Store

if TYPE_CHECKING:  # the live loader (and yfinance) is imported only when a run fetches
    from . import yahoo
    from .refresh import RefreshOutcome

#: Tickers a scheduled run may ask of Yahoo per UTC day (every fetch of the store counts), by default.
DEFAULT_DAILY_BUDGET = 600
#: Tickers per refresh (one store transaction): what a killed run can lose, at most.
BATCH_SIZE = 25
#: Failures of one ticker in one UTC day after which it waits until tomorrow.
GIVE_UP_AFTER = 3

Status = Literal["complete", "budget_spent", "rate_limited", "failures", "nothing_fetched", "locked"]


def utc_clock() -> datetime:
    return datetime.now(UTC)


#: The wall clock that says which day it is; the same clock must date the fetches (tests replace both).
clock: Callable[[], datetime] = utc_clock


@dataclass(frozen=True)
class Plan:
    """Where a universe stands today: done, given up, to fetch within the budget, and left for tomorrow."""

    universe: tuple[str, ...]
    done: frozenset[str]
    given_up: tuple[str, ...]
    todo: tuple[str, ...]
    beyond_budget: tuple[str, ...]
    asked_today: int
    budget: int

    @property
    def pending(self) -> tuple[str, ...]:
        return self.todo + self.beyond_budget


@dataclass(frozen=True)
class ScheduleOutcome:
    """What one scheduled run did: the plan it found, each batch's refresh, and the plan it left."""

    status: Status
    before: Plan | None
    after: Plan | None
    batches: tuple[RefreshOutcome, ...] = field(default=())

    @property
    def fetched(self) -> int:
        return sum(len(b.batch.fetched) + len(b.batch.no_coverage) for b in self.batches)

    @property
    def failures(self) -> dict[str, str]:
        return {ticker: reason for b in self.batches for ticker, reason in b.failures.items()}


def day_start(moment: datetime) -> str:
    """Midnight UTC of `moment`'s day, in the store's timestamp spelling (text order is time order)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT00:00:00Z")


def is_rate_limited(reason: str) -> bool:
    from .yahoo import RATE_LIMITED_REASON

    return RATE_LIMITED_REASON in reason


def plan(store: Store, universe: Sequence[str], *, budget: int, now: datetime) -> Plan:
    """Today's plan for `universe` from what the store holds (see the module docstring for the rules)."""
    since = day_start(now)
    wanted = tuple(dict.fromkeys(universe))
    with store.consistent_read():
        observed = store.observed_since(since)
        today: list[FetchLogEntry] = store.fetch_log(limit=None, since=since)
    no_coverage = {t for entry in today for t, reason in entry.reasons.items() if reason.startswith(NO_COVERAGE_REASON)}
    done = frozenset((observed | no_coverage) & set(wanted))
    failures = Counter(
        t
        for entry in today
        for t, reason in entry.reasons.items()
        if not reason.startswith(NO_COVERAGE_REASON) and not is_rate_limited(reason)
    )
    given_up = tuple(t for t in wanted if t not in done and failures[t] >= GIVE_UP_AFTER)
    pending = [t for t in wanted if t not in done and t not in set(given_up)]
    asked = sum(len(entry.tickers) for entry in today)
    room = max(0, budget - asked)
    return Plan(wanted, done, given_up, tuple(pending[:room]), tuple(pending[room:]), asked, budget)


def chunks(tickers: Sequence[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(tickers), size):
        yield list(tickers[start : start + size])


def run(
    universe: Sequence[str],
    *,
    store_path: StoreTarget | None = None,
    config: yahoo.LiveConfig | None = None,
    budget: int = DEFAULT_DAILY_BUDGET,
    batch_size: int = BATCH_SIZE,
    force: bool = False,
    on_plan: Callable[[Plan], None] | None = None,
    on_progress: yahoo.ProgressCallback | None = None,
) -> ScheduleOutcome:
    """Fetch what `universe` lacks today into the store, batch by batch, within the daily `budget`.

    Raises :class:`ratings.store.StoreError` (before any request) for a store that is not usable.
    `on_plan` hears the plan before the first request; `on_progress` each ticker, as ``refresh`` says it.
    """
    from .refresh import refresh

    if budget < 0 or batch_size < 1:
        raise ValueError("the budget must be >= 0 and the batch size >= 1")
    with Store.open(store_path) as store, store.fetch_lock() as taken:
        if not taken:
            return ScheduleOutcome("locked", None, None)
        before = plan(store, universe, budget=budget, now=clock())
        if on_plan is not None:
            on_plan(before)
        done: list[RefreshOutcome] = []
        stopped = False
        for batch in chunks(before.todo, batch_size):
            outcome = refresh(batch, store=store, config=config, force=force, on_progress=on_progress)
            done.append(outcome)
            if any(is_rate_limited(reason) for reason in outcome.failures.values()):
                stopped = True
                break
        after = plan(store, universe, budget=budget, now=clock())
    return ScheduleOutcome(_status(after, done, rate_limited=stopped), before, after, tuple(done))


def _status(after: Plan, batches: Sequence[RefreshOutcome], *, rate_limited: bool) -> Status:
    if rate_limited:
        return "rate_limited"
    if batches and not any(b.anything_fetched for b in batches) and not after.done:
        return "nothing_fetched"  # not one ticker of the universe answered today: no network?
    if after.beyond_budget:
        return "budget_spent"
    if after.todo or after.given_up:
        return "failures"
    return "complete"
