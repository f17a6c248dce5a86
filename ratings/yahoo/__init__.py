"""Live analyst data from Yahoo Finance, through yfinance. The only module that imports yfinance.

:func:`fetch` loads a batch of tickers and never lets one ticker sink the batch: every ticker ends
as a :class:`LiveResult` ("ok", "no_coverage" or "failed", with a human reason), and the good ones
come back as frames of the documented schemas (``SNAPSHOTS``, ``TREND``, ``UPGRADES``, ``PRICES``,
and :data:`NAMES`).

How it talks to Yahoo
    yfinance's public API does the requests and the parsing (``Ticker.info``, ``.recommendations``,
    ``.upgrades_downgrades``, ``.history``). yfinance sends every request through one session, which
    here is :class:`_YahooSession`: it waits on the rate limiter, enforces the time budget and records
    each exchange (endpoint, status, Yahoo's error text, whether the body is JSON) for the ticker
    being fetched on that thread. That record is how errors are classified, because yfinance
    (with its default ``hide_exceptions``) logs and swallows many of them: an HTTP 404 on
    quoteSummary becomes an empty frame, a broken chart body an empty history.

How errors are classified (per ticker, per attempt)
    * HTTP 429 (yfinance raises ``YFRateLimitError`` after its own second try), network errors and
      HTTP 408/5xx are transient: the ticker is retried with exponential backoff and jitter.
    * Yahoo unreachable: once one ticker has spent all its attempts on failures to reach the host
      (the name does not resolve, the connection is refused) and no request of the batch has had an
      answer, the tickers not yet started fail at once ("not tried") and those in flight stop
      retrying, instead of each waiting out its backoff. A reset or a timeout is not such a failure.
    * A body that is not JSON (malformed or truncated) is not retried: Yahoo sends the same again.
    * quoteSummary HTTP 404 "No fundamentals data found" (ETFs, crypto) is ``no_coverage``; so is a
      ticker whose answer has no price target, rating or trend.
    * The consensus (quoteSummary ``financialData``) is essential: without it the ticker fails. The
      quote endpoint (name, currency), the trend, the upgrades and the price history are not: once
      retries are spent, what is missing is named in ``LiveResult.warnings`` and the rest is kept.

Currency
    Each row carries Yahoo's *quote* currency (``info["currency"]``, else the chart's), never
    ``financialCurrency``: LSE tickers quote price and targets in pence (``GBp``) while their
    ``financialCurrency`` is ``GBP``. Values are stored as Yahoo quotes them, so a row's price and
    targets are always in the row's one unit. Unknown currency stays ``<NA>``.

Caching
    yfinance's own caches (time zones, cookies) live in ``<cache dir>/yfinance``. Successful results
    ("ok" and "no_coverage") are kept one JSON file per ticker in ``<cache dir>/live`` and served
    without any request for ``cache_ttl_s``, aged on the batch's wall clock (``fetch(now=...)``, the
    same clock that dates the answers); ``refresh=True`` bypasses them. Failures are never
    cached, and an unreadable cache file is ignored (and replaced by the next successful fetch).
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import re
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, quote, urlsplit

import pandas as pd
import yfinance as yf
from curl_cffi import requests as curl_requests
from yfinance.exceptions import YFRateLimitError

from ratings import paths
from ratings.core import YAHOO_KEY_LABELS
from ratings.schema import (
    COUNT_COLUMNS,
    NO_COVERAGE_REASON,
    PRICES,
    SNAPSHOTS,
    TEXT,
    TREND,
    UPGRADES,
    Column,
    Schema,
    conform,
)
from ratings.tickers import NOT_A_SYMBOL, is_valid_symbol, normalize

SOURCE = "Yahoo Finance"
SOURCE_ID = "yfinance"

#: Yahoo's recommendationKey in this project's words (shared with the bundle builder).
YAHOO_LABELS = YAHOO_KEY_LABELS

#: Name and quote currency of each live ticker.
NAMES = Schema(
    "names",
    (
        Column("ticker", TEXT, "Yahoo-style symbol"),
        Column("name", TEXT, "company name as Yahoo gives it; <NA> if it gave none"),
        Column("currency", TEXT, "Yahoo's quote currency ('GBp' means pence); <NA> if unknown"),
    ),
    key=("ticker",),
)

Status = Literal["ok", "no_coverage", "failed"]
_Columns = dict[str, list[Any]]  # one ticker's rows of one frame, column by column (JSON-ready)
_Frames = dict[str, _Columns]  # by frame name: snapshots, trend, upgrades, prices, names
ProgressCallback = Callable[[int, int, "LiveResult"], None]

_HISTORY_PERIODS = ("1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "ytd", "max")
_TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
_DATA_ENDPOINTS = frozenset({"quoteSummary", "quote", "chart", "timeseries"})
_NO_FUNDAMENTALS = "No fundamentals data found"
_CACHE_FORMAT = 1
_FRAME_SCHEMAS: dict[str, Schema] = {
    "snapshots": SNAPSHOTS,
    "trend": TREND,
    "upgrades": UPGRADES,
    "prices": PRICES,
    "names": NAMES,
}

# yfinance reports what it swallows through logging; here those errors are data (LiveResult), so keep
# them off stderr unless the application configures logging itself.
logging.getLogger("yfinance").addHandler(logging.NullHandler())
# yfinance 1.7 calls pandas APIs that pandas 3 deprecates (inplace=...): its business, not our users'.
warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"yfinance(\.|$)")
warnings.filterwarnings("ignore", category=FutureWarning, module=r"yfinance(\.|$)")


# ---------------------------------------------------------------------------------------------
# Public types


@dataclass(frozen=True)
class LiveConfig:
    """How a batch talks to Yahoo. The defaults are conservative: Yahoo rate-limits hard.

    ``requests_per_second`` of ``0`` or ``None`` turns the rate limit off; ``cache_ttl_s`` of ``0``
    turns the result cache off; ``cache_dir`` of ``None`` means :func:`ratings.paths.cache_dir`.
    """

    max_workers: int = 4
    requests_per_second: float | None = 2.0
    max_attempts: int = 4
    backoff_base_s: float = 1.0
    backoff_cap_s: float = 30.0
    budget_s: float = 120.0
    history_period: str = "1y"
    cache_dir: Path | None = None
    cache_ttl_s: float = 15 * 60.0

    def __post_init__(self) -> None:
        problems = []
        if self.max_workers < 1:
            problems.append("max_workers must be at least 1")
        if self.requests_per_second is not None and not self.requests_per_second >= 0:
            problems.append("requests_per_second must be >= 0 (or None for no limit)")
        if self.max_attempts < 1:
            problems.append("max_attempts must be at least 1")
        if not (self.backoff_base_s >= 0 and self.backoff_cap_s >= 0):
            problems.append("backoff delays must be >= 0")
        if not self.budget_s > 0:
            problems.append("budget_s must be > 0")
        if self.history_period not in _HISTORY_PERIODS:
            problems.append(f"history_period must be one of {', '.join(_HISTORY_PERIODS)}")
        if not self.cache_ttl_s >= 0:
            problems.append("cache_ttl_s must be >= 0")
        if problems:
            raise ValueError("; ".join(problems))

    def resolved_cache_dir(self) -> Path:
        return self.cache_dir if self.cache_dir is not None else paths.cache_dir()


@dataclass(frozen=True)
class LiveResult:
    """What became of one ticker. ``reason`` says why it is not "ok" (empty when it is)."""

    ticker: str
    status: Status
    reason: str = ""
    attempts: int = 0
    elapsed_s: float = 0.0
    warnings: tuple[str, ...] = ()
    from_cache: bool = False
    observed_at: str | None = None  # when Yahoo's answer was fetched (for a cache hit: originally)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def describe(self) -> str:
        """One line for people: ``AAPL: ok``, ``SPY: no analyst coverage (...)``."""
        text = f"{self.ticker}: {self.reason or self.status}"
        return text + (" (from cache)" if self.from_cache else "")


@dataclass(frozen=True, eq=False)
class LiveBatch:
    """Results of one :func:`fetch`, in the order the tickers were asked for, and their frames."""

    results: tuple[LiveResult, ...]
    snapshots: pd.DataFrame
    trend: pd.DataFrame
    upgrades: pd.DataFrame
    prices: pd.DataFrame
    names: pd.DataFrame
    elapsed_s: float = 0.0

    def result(self, ticker: str) -> LiveResult:
        for result in self.results:
            if result.ticker == ticker:
                return result
        raise KeyError(ticker)

    @property
    def fetched(self) -> tuple[LiveResult, ...]:
        return tuple(r for r in self.results if r.status == "ok")

    @property
    def no_coverage(self) -> tuple[LiveResult, ...]:
        return tuple(r for r in self.results if r.status == "no_coverage")

    @property
    def failed(self) -> tuple[LiveResult, ...]:
        return tuple(r for r in self.results if r.status == "failed")

    def summary(self) -> str:
        return (
            f"{len(self.fetched)} fetched, {len(self.no_coverage)} without analyst coverage, {len(self.failed)} failed"
        )


# ---------------------------------------------------------------------------------------------
# Entry point


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
    """Fetch analyst data for `tickers` from Yahoo; see the module docstring for the behaviour.

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
    result_cache = _ResultCache(cache_root / "live", config, now) if config.cache_ttl_s > 0 else None

    symbols = _unique_symbols([tickers] if isinstance(tickers, str) else tickers)
    total = len(symbols)
    results: dict[str, LiveResult] = {}
    frames: dict[str, _Frames] = {}
    done = 0

    def finish(symbol: str, result: LiveResult, data: _Frames | None) -> None:
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
        _point_yfinance_cache(cache_root / "yfinance")
        _forget_yfinance_responses()
        runner = _Runner(config, deadline, clock, sleep, rng, result_cache, now)
        workers = min(config.max_workers, len(pending))
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ratings-live")
        try:
            futures: dict[Future[tuple[LiveResult, _Frames | None]], str] = {
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
        return _assemble([frames[s][name] for s in symbols if s in frames], _FRAME_SCHEMAS[name])

    return LiveBatch(
        results=tuple(results[s] for s in symbols),
        snapshots=combined("snapshots"),
        trend=combined("trend"),
        upgrades=combined("upgrades"),
        prices=combined("prices"),
        names=combined("names"),
        elapsed_s=clock() - started,
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
    is_isin = getattr(yf.utils, "is_isin", None)
    if callable(is_isin) and is_isin(symbol):
        # yf.Ticker would look an ISIN up through Yahoo's search, outside this loader's control.
        return "an ISIN, not a ticker symbol: use Yahoo's symbol (AAPL, VOD.L, 1810.HK)"
    return ""


def _assemble(parts: list[_Columns], schema: Schema) -> pd.DataFrame:
    """One frame of `schema` from many tickers' columns (one conversion for the whole batch)."""
    merged: dict[str, list[Any]] = {name: [] for name in schema.names}
    for part in parts:
        length = len(next(iter(part.values()), []))
        for name, values in merged.items():
            values.extend(part.get(name) or [None] * length)
    frame = pd.DataFrame(merged)
    if "date" in frame.columns:
        frame["date"] = pd.to_datetime(frame["date"], format="%Y-%m-%d", errors="coerce")
        frame = frame[frame["date"].notna()].reset_index(drop=True)
    return conform(frame, schema)


def _unreadable(frames: _Frames) -> str | None:
    """Why one ticker's frames would not convert to their schemas (and so would sink the batch), or None."""
    for name, columns in frames.items():
        if columns:
            try:
                _assemble([columns], _FRAME_SCHEMAS[name])
            except (TypeError, ValueError, OverflowError) as exc:
                return f"{name}: {type(exc).__name__}: {_first_line(str(exc))}"
    return None


# ---------------------------------------------------------------------------------------------
# yfinance set-up

_YF_SETUP_LOCK = threading.Lock()
_yf_cache_dir: Path | None = None
_session: _YahooSession | None = None


def _point_yfinance_cache(folder: Path) -> None:
    """Make yfinance keep its time-zone and cookie caches in `folder`."""
    global _yf_cache_dir
    with _YF_SETUP_LOCK:
        if _yf_cache_dir == folder:
            return
        folder.mkdir(parents=True, exist_ok=True)
        yf.set_tz_cache_location(str(folder))
        # yfinance opens its SQLite caches lazily and then keeps them: drop any it already opened
        # (elsewhere) so the next lookup opens them in `folder`.
        for manager, attribute in (
            ("_TzCacheManager", "_tz_cache"),
            ("_CookieCacheManager", "_Cookie_cache"),
            ("_ISINCacheManager", "_isin_cache"),
        ):
            owner = getattr(yf.cache, manager, None)
            if owner is not None and hasattr(owner, attribute):
                setattr(owner, attribute, None)
        _yf_cache_dir = folder


def yfinance_cache_dir() -> Path | None:
    """Where yfinance keeps its caches now, as yfinance reports it (None before the first live fetch)."""
    if _yf_cache_dir is None:
        return None
    manager = getattr(yf.cache, "_TzDBManager", None)
    location = manager.get_location() if manager is not None else _yf_cache_dir
    return Path(location)


def _forget_yfinance_responses() -> None:
    # yfinance keeps some responses (time zone, key statistics) in an in-process LRU cache, failed
    # ones included; a retry must ask Yahoo again rather than replay a cached 503.
    cache_get = getattr(getattr(yf.data, "YfData", None), "cache_get", None)
    clear = getattr(cache_get, "cache_clear", None)
    if callable(clear):
        clear()


def _yahoo_session() -> _YahooSession:
    # One session for the process: yfinance keeps a single session (and crumb) anyway.
    global _session
    with _YF_SETUP_LOCK:
        if _session is None:
            _session = _YahooSession(impersonate="chrome")
        return _session


# ---------------------------------------------------------------------------------------------
# The HTTP boundary


class _BudgetExhausted(Exception):
    """The batch's time budget ran out (deliberately not an OSError: yfinance retries those)."""


class _Stopped(Exception):
    """The batch was stopped (Ctrl-C): a worker gives up at its next wait or request."""


@dataclass
class _Exchange:
    """One request as seen at the HTTP boundary."""

    endpoint: str  # quoteSummary, quote, chart, timeseries, crumb, cookie, consent, other
    key: str  # endpoint, path and parameters without the crumb: the same request twice has one key
    modules: str = ""
    status: int | None = None
    detail: str = ""  # Yahoo's error description, or the network error
    network_error: bool = False
    host_unreachable: bool = False  # the host did not resolve or refused the connection
    malformed: str = ""  # why a 2xx body is not JSON


@dataclass
class _Attempt:
    """Per ticker and attempt: what the session saw, and the limits it must respect."""

    deadline: float
    clock: Callable[[], float]
    sleep: Callable[[float], None]
    rate: float | None
    stop: threading.Event | None = None
    exchanges: list[_Exchange] = field(default_factory=list)
    budget_exhausted: bool = False

    def remaining(self) -> float:
        return self.deadline - self.clock()

    def before_request(self) -> float:
        """Wait for the rate limiter; return the time left, or raise if the budget is spent."""
        if self.stop is not None and self.stop.is_set():
            raise _Stopped("the batch was stopped")
        if self.remaining() <= 0:
            self.budget_exhausted = True
            raise _BudgetExhausted("time budget exhausted")
        if self.rate:
            wait = _LIMITER.reserve(self.rate, self.clock)
            if wait >= self.remaining():
                _LIMITER.cancel()
                self.budget_exhausted = True
                raise _BudgetExhausted("time budget exhausted")
            if wait > 0:
                self.sleep(wait)
        return self.remaining()


_LOCAL = threading.local()


def _current_attempt() -> _Attempt | None:
    return getattr(_LOCAL, "attempt", None)


class _TokenBucket:
    """Requests per second for the whole process (Yahoo limits per address, not per batch).

    A reservation scheme: each request takes a token, going into debt if there is none, and waits
    until its token would have arrived. The bucket holds one token, so requests are evenly spaced.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens = 1.0
        self._last = 0.0
        self._clock: Callable[[], float] | None = None

    def reserve(self, rate: float, clock: Callable[[], float]) -> float:
        with self._lock:
            now = clock()
            if clock is not self._clock or now < self._last:  # first use, or another clock (tests)
                self._clock, self._last, self._tokens = clock, now, 1.0
            self._tokens = min(1.0, self._tokens + (now - self._last) * rate)
            self._last = now
            self._tokens -= 1.0
            return 0.0 if self._tokens >= 0 else -self._tokens / rate

    def cancel(self) -> None:
        with self._lock:
            self._tokens = min(1.0, self._tokens + 1.0)


_LIMITER = _TokenBucket()


class _YahooSession(curl_requests.Session):
    """The session yfinance uses: rate limit, time budget and a record of every exchange."""

    def request(self, method: Any, url: str, *args: Any, **kwargs: Any) -> Any:
        attempt = _current_attempt()
        if attempt is None:
            return super().request(method, url, *args, **kwargs)
        remaining = attempt.before_request()
        timeout = kwargs.get("timeout")
        if isinstance(timeout, int | float):
            kwargs["timeout"] = max(0.1, min(float(timeout), remaining))  # no request outlives the budget
        exchange = _describe_request(url, kwargs.get("params"))
        try:
            response = super().request(method, url, *args, **kwargs)
        except Exception as exc:
            exchange.network_error = True
            exchange.detail, exchange.host_unreachable = _network_failure(exc)
            attempt.exchanges.append(exchange)
            raise
        exchange.status = int(response.status_code)
        if exchange.endpoint in _DATA_ENDPOINTS:
            _inspect_body(exchange, response)
        attempt.exchanges.append(exchange)
        return response


def _describe_request(url: str, params: object) -> _Exchange:
    parts = urlsplit(url)
    host, path = parts.hostname or "", parts.path
    query = dict(parse_qsl(parts.query))
    if isinstance(params, dict):
        query.update({str(k): str(v) for k, v in params.items()})
    query.pop("crumb", None)
    if host == "fc.yahoo.com":
        endpoint = "cookie"
    elif path.endswith("/v1/test/getcrumb"):
        endpoint = "crumb"
    elif "consent" in host or host.startswith("guce."):
        endpoint = "consent"
    elif "/finance/quoteSummary/" in path:
        endpoint = "quoteSummary"
    elif path.rstrip("/").endswith("/v7/finance/quote"):
        endpoint = "quote"
    elif "/finance/chart/" in path:
        endpoint = "chart"
    elif "/timeseries/" in path:
        endpoint = "timeseries"
    else:
        endpoint = "other"
    key = f"{endpoint} {host}{path}?" + "&".join(f"{k}={v}" for k, v in sorted(query.items()))
    return _Exchange(endpoint, key, modules=query.get("modules", ""))


def _inspect_body(exchange: _Exchange, response: Any) -> None:
    content = response.content or b""
    try:
        body = json.loads(content)
    except ValueError as exc:
        if exchange.status is not None and exchange.status < 400:
            exchange.malformed = f"{type(exc).__name__}: {exc} ({len(content)} bytes)"
        else:
            exchange.detail = _first_line(content[:200].decode("utf-8", "replace"))
        return
    if exchange.status is not None and exchange.status >= 400:
        exchange.detail = _yahoo_error(body) or f"HTTP {exchange.status}"


def _yahoo_error(body: object) -> str:
    """Yahoo's error description: ``{"quoteSummary": {"error": {"description": ...}}}`` and kin."""
    if isinstance(body, dict):
        for value in body.values():
            error = value.get("error") if isinstance(value, dict) else None
            if isinstance(error, dict):
                return str(error.get("description") or error.get("code") or "")
    return ""


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:200] if text.strip() else ""


# curl_cffi: "Failed to perform, curl: (6) Could not resolve host: x. See https://curl.se/... for more details."
_CURL_ERROR = re.compile(r"curl: \((\d+)\) (.+?)\.?(?: See https?://\S+ first for more details\.?)?$")


# curl's "could not resolve proxy", "could not resolve host", "could not connect": the host, not one request.
_UNREACHABLE_CURL_CODES = frozenset({"5", "6", "7"})


def _network_failure(exc: BaseException) -> tuple[str, bool]:
    """A network failure in plain words ('Could not resolve host: x (curl error 6)'), and whether it
    says the host itself cannot be reached."""
    text = _first_line(str(exc))
    if match := _CURL_ERROR.search(text):
        return f"{match.group(2)} (curl error {match.group(1)})", match.group(1) in _UNREACHABLE_CURL_CODES
    return (f"{type(exc).__name__}: {text}" if text else type(exc).__name__), False


# ---------------------------------------------------------------------------------------------
# Classifying what went wrong


@dataclass(frozen=True)
class _Problem:
    kind: Literal["budget", "rate_limit", "network", "server", "malformed", "not_found", "refused", "unexpected"]
    reason: str
    endpoint: str = ""
    host_unreachable: bool = False

    @property
    def transient(self) -> bool:
        return self.kind in ("rate_limit", "network", "server")

    @property
    def no_fundamentals(self) -> bool:
        return self.kind == "not_found" and _NO_FUNDAMENTALS.lower() in self.reason.lower()


_SEVERITY = ("budget", "rate_limit", "network", "server", "malformed", "not_found", "refused", "unexpected")
_ENDPOINT_NAMES = {
    "quoteSummary": "quote summary",
    "quote": "quote",
    "chart": "price chart",
    "timeseries": "key statistics",
}


class _Failure(Exception):
    def __init__(self, problem: _Problem) -> None:
        super().__init__(problem.reason)
        self.problem = problem


def _final_exchanges(exchanges: Iterable[_Exchange]) -> list[_Exchange]:
    # yfinance asks again (with its other cookie strategy) after an HTTP error: the last answer counts.
    last: dict[str, _Exchange] = {}
    for exchange in exchanges:
        last.pop(exchange.key, None)
        last[exchange.key] = exchange
    return list(last.values())


def _exchange_problem(exchange: _Exchange) -> _Problem | None:
    where = _ENDPOINT_NAMES.get(exchange.endpoint, exchange.endpoint)
    if exchange.network_error:
        reason = f"network error: {exchange.detail}"
        return _Problem("network", reason, exchange.endpoint, host_unreachable=exchange.host_unreachable)
    if exchange.malformed:
        reason = f"malformed response from Yahoo ({where}): {exchange.malformed}"
        return _Problem("malformed", reason, exchange.endpoint)
    status = exchange.status or 0
    if status == 429:
        return _Problem("rate_limit", "rate limited by Yahoo (HTTP 429)", exchange.endpoint)
    if status in _TRANSIENT_STATUSES:
        return _Problem("server", f"Yahoo server error (HTTP {status}, {where})", exchange.endpoint)
    if status == 404:
        return _Problem("not_found", f"HTTP 404 from Yahoo ({where}): {exchange.detail}", exchange.endpoint)
    if status >= 400:
        return _Problem("refused", f"HTTP {status} from Yahoo ({where}): {exchange.detail}", exchange.endpoint)
    return None


def _exception_problem(exc: BaseException) -> _Problem:
    if isinstance(exc, _BudgetExhausted):
        return _Problem("budget", "time budget exhausted")
    if isinstance(exc, YFRateLimitError):
        return _Problem("rate_limit", "rate limited by Yahoo (HTTP 429)")
    if isinstance(exc, ValueError):  # json.JSONDecodeError and kin, raised by response.json()
        return _Problem("malformed", f"malformed response from Yahoo: {type(exc).__name__}: {_first_line(str(exc))}")
    if isinstance(exc, curl_requests.exceptions.RequestException | OSError):  # curl's errors are OSErrors
        detail, unreachable = _network_failure(exc)
        return _Problem("network", f"network error: {detail}", host_unreachable=unreachable)
    return _Problem("unexpected", f"unexpected error from yfinance: {type(exc).__name__}: {_first_line(str(exc))}")


def _problems(attempt: _Attempt, start: int, exc: BaseException | None) -> list[_Problem]:
    """Everything that went wrong in one step (the exchanges since `start`), most severe first."""
    found: list[_Problem] = []
    if attempt.budget_exhausted:
        found.append(_Problem("budget", "time budget exhausted"))
    for exchange in _final_exchanges(attempt.exchanges[start:]):
        if exchange.endpoint in _DATA_ENDPOINTS and (problem := _exchange_problem(exchange)) is not None:
            found.append(problem)
    if exc is not None:
        problem = _exception_problem(exc)
        # yfinance's exception after a bad answer is that answer's consequence: report the answer.
        if problem.kind in ("budget", "rate_limit") or not found:
            found.append(problem)
    return sorted(found, key=lambda p: _SEVERITY.index(p.kind))


# ---------------------------------------------------------------------------------------------
# One ticker


@dataclass(frozen=True)
class _Outcome:
    status: Status
    reason: str
    warnings: tuple[str, ...]
    observed_at: str
    frames: _Frames


class _Runner:
    """Fetches one ticker with retries; shared by the worker threads of one batch."""

    def __init__(
        self,
        config: LiveConfig,
        deadline: float,
        clock: Callable[[], float],
        sleep: Callable[[float], None] | None,
        rng: random.Random,
        result_cache: _ResultCache | None,
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
        """Wait `seconds` (a backoff, the rate limiter); raise :class:`_Stopped` once the batch is stopped."""
        if not self.stop.is_set():
            self.sleep(seconds)
        if self.stop.is_set():
            raise _Stopped("the batch was stopped")

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with "equal jitter": between half and all of base * 2^(attempt-1), capped."""
        ceiling = min(self.config.backoff_cap_s, self.config.backoff_base_s * 2 ** (attempt - 1))
        with self.rng_lock:
            return ceiling / 2 + self.rng.uniform(0, ceiling / 2)

    def run(self, symbol: str) -> tuple[LiveResult, _Frames | None]:
        started = self.clock()
        try:
            return self._run(symbol, started)
        except _Stopped:  # nobody waits for this result any more; it only has to end soon
            return self._failed(symbol, "stopped before it finished", 0, started), None

    def _run(self, symbol: str, started: float) -> tuple[LiveResult, _Frames | None]:
        attempts = 0
        last: _Problem | None = None
        if self._yahoo_unreachable():
            return self._failed(symbol, f"not tried: Yahoo unreachable ({self.unreachable})", 0, started), None
        while attempts < self.config.max_attempts and self.clock() < self.deadline:
            attempts += 1
            if attempts > 1:
                _forget_yfinance_responses()
            attempt = _Attempt(
                self.deadline, self.clock, self.pause, self.config.requests_per_second or None, stop=self.stop
            )
            _LOCAL.attempt = attempt
            try:
                outcome = _fetch_once(
                    symbol, attempt, self.config, final_try=attempts == self.config.max_attempts, now=self.now
                )
            except _Failure as failure:
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
                _LOCAL.attempt = None
                if any(exchange.status is not None for exchange in attempt.exchanges):
                    self.answered = True
            if self.stop.is_set():  # yfinance may have swallowed the _Stopped of a request
                raise _Stopped("the batch was stopped")
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


def _step(attempt: _Attempt, call: Callable[[], Any]) -> tuple[Any, list[_Problem]]:
    start = len(attempt.exchanges)
    try:
        return call(), _problems(attempt, start, None)
    except Exception as exc:
        return None, _problems(attempt, start, exc)


def _utc(moment: datetime) -> datetime:
    """`moment` in UTC; a naive datetime is taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _fetch_once(
    symbol: str, attempt: _Attempt, config: LiveConfig, *, final_try: bool, now: Callable[[], datetime]
) -> _Outcome:
    """One attempt at one ticker. Raises :class:`_Failure` for what should fail (or retry) it."""
    observed = _utc(now()).replace(microsecond=0)
    observed_at = observed.strftime("%Y-%m-%dT%H:%M:%SZ")
    notes: list[str] = []
    ticker = yf.Ticker(symbol, session=_yahoo_session())

    def tolerate(problems: list[_Problem], what: str) -> None:
        # A part that is not essential: stop for the budget or a rate limit, retry a transient
        # error while attempts remain, otherwise name what is missing and carry on.
        if not problems:
            return
        worst = problems[0]
        if worst.kind in ("budget", "rate_limit") or (worst.transient and not final_try):
            raise _Failure(worst)
        notes.append(f"{what}: {worst.reason}")

    # 1. info: the consensus (quoteSummary financialData, ...) and the quote endpoint (name, currency).
    info, problems = _step(attempt, lambda: ticker.info)
    summary = [p for p in problems if p.endpoint == "quoteSummary" or not p.endpoint]
    coverage_missing = next((p for p in summary if p.no_fundamentals), None)
    essential = [p for p in summary if not p.no_fundamentals]
    if essential:
        raise _Failure(essential[0])
    if info is None and problems and all(p.endpoint == "timeseries" for p in problems):
        # Only the key-statistics request (which this loader does not use) broke after yfinance had
        # parsed the rest: it keeps that info, and asking again returns it without a request.
        info, _ = _step(attempt, lambda: ticker.info)
    if not isinstance(info, dict):
        raise _Failure(problems[0] if problems else _Problem("unexpected", "yfinance returned no info"))
    tolerate([p for p in problems if p not in summary and p.endpoint != "timeseries"], "quote (name, currency)")

    trend_rows: object = None
    upgrade_rows: object = None
    if coverage_missing is None:
        # 2. the recommendation trend; 3. upgrades and downgrades.
        trend_rows, problems = _step(attempt, lambda: ticker.recommendations)
        tolerate(_drop_empty_module(problems), "recommendation trend")
        upgrade_rows, problems = _step(attempt, lambda: ticker.upgrades_downgrades)
        tolerate(_drop_empty_module(problems), "upgrades and downgrades")

    # 4. daily closes; the chart's metadata also names the quote currency.
    history, problems = _step(
        attempt, lambda: ticker.history(period=config.history_period, auto_adjust=False, actions=False)
    )
    tolerate(problems, "price history")
    chart_meta = _chart_metadata(ticker) if isinstance(history, pd.DataFrame) else {}

    currency = _text(info.get("currency")) or _text(chart_meta.get("currency"))
    chart_currency = _text(chart_meta.get("currency")) or currency
    if currency and chart_currency != currency:
        notes.append(f"Yahoo quotes {symbol} in {currency} but its price history in {chart_currency}")
        if chart_currency and chart_currency.upper() == currency.upper():
            # GBP against GBp: pounds or pence, a factor of 100 either way. Unknown beats wrong.
            notes.append(f"{symbol}'s currency is left unknown: pounds or pence cannot be told apart")
            currency = chart_currency = None
    name_keys = ("longName", "shortName", "displayName")
    name = next((n for key in name_keys for source in (info, chart_meta) if (n := _text(source.get(key)))), None)
    trend = _trend_columns(symbol, trend_rows, observed, observed_at)
    snapshot = _snapshot_row(symbol, info, _current_counts(trend), observed_at, currency)
    low, high = snapshot["target_low"], snapshot["target_high"]
    if low is not None and high is not None and low > high:
        notes.append(f"Yahoo's lowest target ({low:g}) is above its highest ({high:g}): both left out")
        snapshot["target_low"] = snapshot["target_high"] = None
    frames: _Frames = {
        "snapshots": {key: [value] for key, value in snapshot.items()},
        "trend": trend,
        "upgrades": _upgrade_columns(symbol, upgrade_rows, observed),
        "prices": _price_columns(symbol, history, chart_currency),
        "names": {"ticker": [symbol], "name": [name], "currency": [currency]},
    }

    def outcome(status: Status, reason: str = "") -> _Outcome:
        return _Outcome(status, reason, tuple(notes), observed_at, frames)

    if coverage_missing is not None:
        frames["snapshots"], frames["trend"] = {}, {}
        detail = coverage_missing.reason.split(": ", 1)[-1]
        return outcome("no_coverage", f"{NO_COVERAGE_REASON} (Yahoo: {detail})")
    if not _has_consensus(snapshot):
        frames["snapshots"] = {}
        return outcome("no_coverage", f"{NO_COVERAGE_REASON} (Yahoo sent no price target, rating or trend)")
    if snapshot["price"] is None:
        notes.append("Yahoo sent no current price")
    if not currency:
        notes.append("quote currency unknown (Yahoo's quote and chart did not answer)")
    if not trend:
        notes.append("Yahoo sent no recommendation trend: Strong Buy..Strong Sell counts unknown")
    return outcome("ok")


def _drop_empty_module(problems: list[_Problem]) -> list[_Problem]:
    # yfinance raises YFDataException when a module is absent or empty (no trend, no upgrade
    # history): for those parts that is an empty answer, not an error.
    return [p for p in problems if not (p.kind == "unexpected" and "YFDataException" in p.reason)]


def _chart_metadata(ticker: Any) -> dict[str, Any]:
    try:
        metadata = ticker.history_metadata
        return {key: metadata[key] for key in ("currency", "longName", "shortName") if key in metadata}
    except Exception:
        return {}


# ---------------------------------------------------------------------------------------------
# Building the frames (as plain columns: cheap per ticker, JSON-ready for the cache; the batch
# converts them to typed frames once, in _assemble)


# Beyond these, a price or a count is a broken answer, not data: no share trades at a billion (in any
# unit, pence included), and no ticker has a hundred thousand analysts.
_MAX_PRICE = 1e9
_MAX_COUNT = 100_000


def _number(value: object) -> float | None:
    """A positive, finite, plausible number, else None: Yahoo's 0 (and absent) price or target means "none"."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and 0 < number < _MAX_PRICE else None


def _count(value: object) -> int | None:
    """A plausible whole number >= 0, else None."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    plausible = math.isfinite(number) and 0 <= number <= _MAX_COUNT and number.is_integer()
    return int(number) if plausible else None


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _snapshot_row(
    symbol: str, info: dict[str, Any], counts: dict[str, int | None], observed_at: str, currency: str | None
) -> dict[str, Any]:
    as_of = observed_at[:10]
    price = _number(info.get("currentPrice"))
    if price is None:
        price = _number(info.get("regularMarketPrice"))
    rating_mean = _number(info.get("recommendationMean"))
    key = _text(info.get("recommendationKey"))
    n_analysts = _count(info.get("numberOfAnalystOpinions"))
    return {
        "ticker": symbol,
        "source": SOURCE,
        "as_of": as_of,
        "currency": currency,
        "price": price,
        "price_as_of": as_of if price is not None else None,
        "target_mean": _number(info.get("targetMeanPrice")),
        "target_median": _number(info.get("targetMedianPrice")),
        "target_low": _number(info.get("targetLowPrice")),
        "target_high": _number(info.get("targetHighPrice")),
        "n_analysts": n_analysts or None,  # 0 analysts is "no coverage", not a count
        **counts,
        "rating_mean": rating_mean if rating_mean is not None and 1 <= rating_mean <= 5 else None,
        "source_label": YAHOO_LABELS.get(key.lower()) if key else None,
        "source_id": SOURCE_ID,
        "observed_at": observed_at,
    }


def _has_consensus(snapshot: dict[str, Any]) -> bool:
    fields = ("target_mean", "target_median", "target_low", "target_high", "rating_mean", "n_analysts", *COUNT_COLUMNS)
    return any(snapshot[f] is not None for f in fields)


_PERIOD = re.compile(r"^([+-]?\d+)m$")
_TREND_FIELDS = dict(zip(("strongBuy", "buy", "hold", "sell", "strongSell"), COUNT_COLUMNS, strict=True))


def _trend_columns(symbol: str, rows: object, observed: datetime, observed_at: str) -> _Columns:
    if not isinstance(rows, pd.DataFrame) or rows.empty or "period" not in rows.columns:
        return {}
    this_month = pd.Period(observed.strftime("%Y-%m"), freq="M")
    columns: _Columns = {name: [] for name in TREND.names}
    seen: set[str] = set()
    for row in rows.to_dict("records"):
        period = _text(row.get("period"))
        match = _PERIOD.match(period or "")
        counts = {ours: _count(row.get(theirs)) for theirs, ours in _TREND_FIELDS.items()}
        # A period whose counts are all zero (or absent) is Yahoo saying "no ratings": unknown, not 0.
        if period is None or period in seen or not any(counts.values()):
            continue
        seen.add(period)
        values = {
            "ticker": symbol,
            "period": period,
            "month": (this_month + int(match.group(1))).strftime("%Y-%m") if match else None,
            **counts,
            "observed_at": observed_at,
        }
        for name, value in values.items():
            columns[name].append(value)
    return columns if seen else {}


def _current_counts(trend: _Columns) -> dict[str, int | None]:
    periods = trend.get("period", [])
    if "0m" not in periods:
        return {c: None for c in COUNT_COLUMNS}
    row = periods.index("0m")
    return {c: trend[c][row] for c in COUNT_COLUMNS}


#: An analyst action dated before this (Yahoo's epoch 0, say) or after the fetch is a broken date.
_FIRST_GRADE = pd.Timestamp("1990-01-01")


def _upgrade_columns(symbol: str, rows: object, observed: datetime) -> _Columns:
    if not isinstance(rows, pd.DataFrame) or rows.empty:
        return {}
    when = pd.DatetimeIndex(pd.to_datetime(rows.index, errors="coerce"))
    if when.tz is not None:
        when = when.tz_convert("UTC").tz_localize(None)
    # A date in milliseconds read as seconds lands in the year 57000: dropped, like one without a date.
    latest = pd.Timestamp(observed).tz_convert("UTC").tz_localize(None) + pd.Timedelta(days=1)
    plausible = (when >= _FIRST_GRADE) & (when <= latest)
    graded = [t if ok else None for t, ok in zip(when.strftime("%Y-%m-%dT%H:%M:%SZ"), plausible, strict=True)]

    def column(name: str) -> list[Any]:
        return rows[name].tolist() if name in rows.columns else [None] * len(rows)

    columns: _Columns = {name: [] for name in UPGRADES.names}
    seen: set[tuple[str, str, str]] = set()
    for graded_at, firm, action, from_grade, to_grade, target_action, prior, current in zip(
        graded,
        column("Firm"),
        column("Action"),
        column("FromGrade"),
        column("ToGrade"),
        column("priceTargetAction"),
        column("priorPriceTarget"),
        column("currentPriceTarget"),
        strict=True,
    ):
        firm, action = _text(firm), _text(action)
        # A row without a date, firm or action records nothing that could be stored or shown: dropped.
        if graded_at is None or firm is None or action is None or (graded_at, firm, action) in seen:
            continue
        seen.add((graded_at, firm, action))
        values = {
            "ticker": symbol,
            "graded_at": graded_at,
            "firm": firm,
            "action": action,
            "from_grade": _text(from_grade),
            "to_grade": _text(to_grade),
            "price_target_action": _text(target_action),
            "prior_price_target": _number(prior),  # Yahoo's 0 means "no target"
            "current_price_target": _number(current),
            "source": SOURCE,
        }
        for name, value in values.items():
            columns[name].append(value)
    return columns if seen else {}


def _price_columns(symbol: str, history: object, currency: str | None) -> _Columns:
    if not isinstance(history, pd.DataFrame) or history.empty or "Close" not in history.columns:
        return {}
    dates = pd.DatetimeIndex(history.index)
    if dates.tz is not None:
        dates = dates.tz_localize(None)  # the exchange's own calendar day
    closes: dict[str, float] = {}  # by day; the last row of a day wins
    for day, close in zip(dates.strftime("%Y-%m-%d"), history["Close"].tolist(), strict=True):
        if (value := _number(close)) is not None:
            closes[day] = value
    if not closes:
        return {}
    return {
        "ticker": [symbol] * len(closes),
        "date": list(closes),
        "close": list(closes.values()),
        "currency": [currency] * len(closes),
        "source_id": [SOURCE_ID] * len(closes),
    }


# ---------------------------------------------------------------------------------------------
# The result cache


class _ResultCache:
    """One JSON file per ticker: its result, warnings and columns (read without building frames)."""

    def __init__(self, folder: Path, config: LiveConfig, now: Callable[[], datetime]) -> None:
        self.folder = folder
        self.ttl_s = config.cache_ttl_s
        self.history_period = config.history_period
        self.now = now  # the batch's wall clock: an entry is as old as that clock says

    def _timestamp(self) -> float:
        return _utc(self.now()).timestamp()

    def path(self, symbol: str) -> Path:
        return self.folder / f"{quote(symbol, safe='')}.json"

    def load(self, symbol: str) -> tuple[LiveResult, _Frames] | None:
        started = time.perf_counter()
        try:
            entry = json.loads(self.path(symbol).read_bytes())
            return self._decode(symbol, entry, started)
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return None  # absent, unreadable or not ours: fetch again (and overwrite it)

    def _decode(self, symbol: str, entry: dict[str, Any], started: float) -> tuple[LiveResult, _Frames] | None:
        if entry.get("format") != _CACHE_FORMAT or entry["ticker"] != symbol:
            return None
        if entry["status"] not in ("ok", "no_coverage") or entry["history_period"] != self.history_period:
            return None
        age = self._timestamp() - float(entry["fetched_at"])
        if not -60 <= age <= self.ttl_s:  # up to a minute "in the future" is clock skew; more is not ours
            return None
        frames: _Frames = {}
        for name, schema in _FRAME_SCHEMAS.items():
            columns = entry["frames"][name]
            if not isinstance(columns, dict) or not set(columns) <= set(schema.names):
                return None
            if not all(isinstance(v, list) for v in columns.values()) or len({len(v) for v in columns.values()}) > 1:
                return None
            frames[name] = columns
        result = LiveResult(
            symbol,
            entry["status"],
            str(entry["reason"]),
            attempts=0,
            elapsed_s=time.perf_counter() - started,
            warnings=tuple(str(w) for w in entry["warnings"]),
            from_cache=True,
            observed_at=str(entry["observed_at"]),
        )
        return result, frames

    def store(self, symbol: str, result: LiveResult, frames: _Frames) -> None:
        if result.status == "failed":
            return  # a failure is never cached: the next load asks Yahoo again
        entry = {
            "format": _CACHE_FORMAT,
            "ticker": symbol,
            "status": result.status,
            "reason": result.reason,
            "warnings": list(result.warnings),
            "observed_at": result.observed_at,
            "fetched_at": self._timestamp(),
            "history_period": self.history_period,
            "frames": {name: frames.get(name, {}) for name in _FRAME_SCHEMAS},
        }
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            text = json.dumps(entry, allow_nan=False, separators=(",", ":"))
            # Write then rename, so a reader never sees half a file.
            handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=".json")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(temporary, self.path(symbol))
        except (OSError, ValueError):
            return  # a cache that cannot be written only costs a refetch
