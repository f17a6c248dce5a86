"""Fetching a batch of tickers: the result cache first, then worker threads, each ticker retried with backoff.

The batch keeps to its time budget, stops at the next wait or request on Ctrl-C, and cuts short once
Yahoo looks unreachable: one ticker spent all its attempts on failures to reach the host and no
request of the batch has had an answer.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from datetime import UTC, datetime

import pandas as pd

from ..tickers import NOT_A_SYMBOL, is_valid_symbol, normalize
from .boundary import (
    Attempt,
    Stopped,
    first_line,
    forget_yfinance_responses,
    is_isin,
    point_yfinance_cache,
    set_attempt,
)
from .cache import ResultCache
from .errors import Failure, Problem
from .models import FRAME_SCHEMAS, Frames, LiveBatch, LiveConfig, LiveResult, ProgressCallback
from .parse import assemble
from .ticker import fetch_once


def fetch(
    tickers: Sequence[str],
    *,
    config: LiveConfig | None = None,
    refresh: bool = False,
    on_progress: ProgressCallback | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] | None = None,
    rng: random.Random | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> LiveBatch:
    """Fetch analyst data for `tickers` from Yahoo; see :mod:`ratings.yahoo` for the behaviour.

    `on_progress(done, total, result)` is called on the calling thread after each ticker (cache
    hits and malformed symbols included). `clock`, `sleep` and `rng` drive the backoff, the rate
    limiter and the time budget; tests inject them so nothing really waits for seconds. Without
    `sleep`, waits are real and cut short when the batch stops: on Ctrl-C (or a progress callback
    that raises) the workers give up at their next wait or request instead of finishing their retries.
    `now` is the wall clock: it dates each answer (``observed_at``, the snapshot's ``as_of``, the
    trend's months) and ages the result cache, so a test can fetch "on" two different days.
    A naive datetime from it is taken as UTC.
    """
    config = config or LiveConfig()
    rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
    started = clock()
    deadline = started + config.budget_s
    cache_root = config.resolved_cache_dir()
    result_cache = ResultCache(cache_root / "live", config, now) if config.cache_ttl_s > 0 else None

    symbols = _unique_symbols([tickers] if isinstance(tickers, str) else tickers)
    total = len(symbols)
    results: dict[str, LiveResult] = {}
    frames: dict[str, Frames] = {}
    done = 0

    def finish(symbol: str, result: LiveResult, data: Frames | None) -> None:
        nonlocal done
        results[symbol] = result
        if data is not None:
            frames[symbol] = data
        done += 1
        if on_progress is not None:
            on_progress(done, total, result)

    pending: list[str] = []
    for symbol in symbols:
        problem = _symbol_problem(symbol)
        if problem:
            finish(symbol, LiveResult(symbol, "failed", problem), None)
            continue
        hit = None if refresh or result_cache is None else result_cache.load(symbol)
        if hit is not None:
            finish(symbol, hit[0], hit[1])
        else:
            pending.append(symbol)

    if pending:
        point_yfinance_cache(cache_root / "yfinance")
        forget_yfinance_responses()
        runner = _Runner(config, deadline, clock, sleep, rng, result_cache, now)
        workers = min(config.max_workers, len(pending))
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ratings-live")
        try:
            futures: dict[Future[tuple[LiveResult, Frames | None]], str] = {
                pool.submit(runner.run, symbol): symbol for symbol in pending
            }
            for future in as_completed(futures):
                result, data = future.result()
                finish(futures[future], result, data)
        except BaseException:  # KeyboardInterrupt included
            runner.stop.set()
            raise
        finally:
            # If the caller's progress callback raised (a closed browser tab), drop what has not started.
            pool.shutdown(wait=True, cancel_futures=True)

    def combined(name: str) -> pd.DataFrame:
        return assemble([frames[s][name] for s in symbols if s in frames], FRAME_SCHEMAS[name])

    return LiveBatch(
        results=tuple(results[s] for s in symbols),
        snapshots=combined("snapshots"),
        trend=combined("trend"),
        upgrades=combined("upgrades"),
        prices=combined("prices"),
        names=combined("names"),
        elapsed_s=clock() - started,
        estimates=combined("estimates"),
        eps_trend=combined("eps_trend"),
        eps_revisions=combined("eps_revisions"),
        surprises=combined("surprises"),
    )


def _unique_symbols(tickers: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for raw in tickers:
        symbol = normalize(str(raw))
        if symbol:
            seen.setdefault(symbol, None)
    return list(seen)


def _symbol_problem(symbol: str) -> str:
    if not is_valid_symbol(symbol):
        return NOT_A_SYMBOL
    if is_isin(symbol):
        # yf.Ticker would look an ISIN up through Yahoo's search, outside this loader's control.
        return "an ISIN, not a ticker symbol: use Yahoo's symbol (AAPL, VOD.L, 1810.HK)"
    return ""


def _unreadable(frames: Frames) -> str | None:
    """Why one ticker's frames would not convert to their schemas (and so would sink the batch), or None."""
    for name, columns in frames.items():
        if columns:
            try:
                assemble([columns], FRAME_SCHEMAS[name])
            except (TypeError, ValueError, OverflowError) as exc:
                return f"{name}: {type(exc).__name__}: {first_line(str(exc))}"
    return None


class _Runner:
    """Fetches one ticker with retries; shared by the worker threads of one batch."""

    def __init__(
        self,
        config: LiveConfig,
        deadline: float,
        clock: Callable[[], float],
        sleep: Callable[[float], None] | None,
        rng: random.Random,
        result_cache: ResultCache | None,
        now: Callable[[], datetime],
    ) -> None:
        self.config = config
        self.deadline = deadline
        self.clock = clock
        self.stop = threading.Event()
        # A real wait ends early when the batch stops; an injected one (a test's clock) is instant anyway.
        self.sleep: Callable[[float], object] = sleep or self.stop.wait
        self.rng = rng
        self.rng_lock = threading.Lock()
        self.result_cache = result_cache
        self.now = now
        # Whether any request of the batch got an HTTP answer, and why Yahoo looks unreachable.
        self.answered = False
        self.unreachable: str | None = None

    def _yahoo_unreachable(self) -> bool:
        return self.unreachable is not None and not self.answered

    def pause(self, seconds: float) -> None:
        """Wait `seconds` (a backoff, the rate limiter); raise :class:`Stopped` once the batch is stopped."""
        if not self.stop.is_set():
            self.sleep(seconds)
        if self.stop.is_set():
            raise Stopped("the batch was stopped")

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with "equal jitter": between half and all of base * 2^(attempt-1), capped."""
        ceiling = min(self.config.backoff_cap_s, self.config.backoff_base_s * 2 ** (attempt - 1))
        with self.rng_lock:
            return ceiling / 2 + self.rng.uniform(0, ceiling / 2)

    def run(self, symbol: str) -> tuple[LiveResult, Frames | None]:
        started = self.clock()
        try:
            return self._run(symbol, started)
        except Stopped:  # nobody waits for this result any more; it only has to end soon
            return self._failed(symbol, "stopped before it finished", 0, started), None

    def _run(self, symbol: str, started: float) -> tuple[LiveResult, Frames | None]:
        attempts = 0
        last: Problem | None = None
        if self._yahoo_unreachable():
            # The tickers that tried say why Yahoo could not be reached; these say only that they were not tried.
            return self._failed(symbol, "not tried: Yahoo was unreachable for the tickers before it", 0, started), None
        while attempts < self.config.max_attempts and self.clock() < self.deadline:
            attempts += 1
            if attempts > 1:
                forget_yfinance_responses()
            attempt = Attempt(
                self.deadline, self.clock, self.pause, self.config.requests_per_second or None, stop=self.stop
            )
            set_attempt(attempt)
            try:
                outcome = fetch_once(
                    symbol, attempt, self.config, final_try=attempts == self.config.max_attempts, now=self.now
                )
            except Failure as failure:
                last = failure.problem
                if last.kind == "budget":
                    break
                gave_up = attempts == self.config.max_attempts or (last.host_unreachable and self._yahoo_unreachable())
                if not last.transient or gave_up:
                    if last.host_unreachable and not self.answered and self.unreachable is None:
                        self.unreachable = last.reason  # a benign race: either ticker's reason will do
                    suffix = f" after {attempts} attempts" if last.transient and attempts > 1 else ""
                    return self._failed(symbol, last.reason + suffix, attempts, started), None
                delay = self.backoff(attempts)
                if self.clock() + delay >= self.deadline:
                    break
                self.pause(delay)
                continue
            finally:
                set_attempt(None)
                if any(exchange.status is not None for exchange in attempt.exchanges):
                    self.answered = True
            if self.stop.is_set():  # yfinance may have swallowed the Stopped of a request
                raise Stopped("the batch was stopped")
            if (unreadable := _unreadable(outcome.frames)) is not None:
                # This ticker's answer, not the batch, fails; and it is not cached.
                return self._failed(symbol, f"malformed response from Yahoo: {unreadable}", attempts, started), None
            result = LiveResult(
                symbol,
                outcome.status,
                outcome.reason,
                attempts=attempts,
                elapsed_s=self.clock() - started,
                warnings=outcome.warnings,
                observed_at=outcome.observed_at,
            )
            if self.result_cache is not None:
                self.result_cache.store(symbol, result, outcome.frames)
            return result, outcome.frames
        reason = "time budget exhausted"
        if last is not None and last.kind != "budget":
            reason += f" (last error: {last.reason})"
        return self._failed(symbol, reason, attempts, started), None

    def _failed(self, symbol: str, reason: str, attempts: int, started: float) -> LiveResult:
        return LiveResult(symbol, "failed", reason, attempts=attempts, elapsed_s=self.clock() - started)
