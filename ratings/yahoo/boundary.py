"""The HTTP boundary, and every touch of yfinance's and curl_cffi's internals: the only module importing either.

yfinance sends every request through one session, here :class:`_YahooSession`: it waits on the
process-wide rate limiter, enforces the time budget, and records each exchange (endpoint, status,
Yahoo's error text, whether the body is JSON) in the :class:`Attempt` of the thread that asked. Set-up
lives here too: where yfinance keeps its caches, forgetting the responses it keeps in memory, the
shared session, yfinance's ISIN test, and the one request for the analysis tab through yfinance's own
quoteSummary fetcher.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import yfinance as yf
from curl_cffi import requests as curl_requests
from yfinance.exceptions import YFRateLimitError

# yfinance reports what it swallows through logging; here those errors are data (LiveResult), so keep
# them off stderr unless the application configures logging itself.
logging.getLogger("yfinance").addHandler(logging.NullHandler())
# yfinance 1.7 calls pandas APIs that pandas 3 deprecates (inplace=...): its business, not our users'.
warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"yfinance(\.|$)")
warnings.filterwarnings("ignore", category=FutureWarning, module=r"yfinance(\.|$)")

#: What yfinance raises once Yahoo has answered HTTP 429 (after its own second try).
RateLimited = YFRateLimitError
#: What a request that got no answer raises: curl's errors (which are OSErrors, too).
NETWORK_ERRORS = (curl_requests.exceptions.RequestException, OSError)
#: The endpoints that carry data (the others are the cookie and crumb handshake).
DATA_ENDPOINTS = frozenset({"quoteSummary", "quote", "chart", "timeseries"})


class BudgetExhausted(Exception):
    """The batch's time budget ran out (deliberately not an OSError: yfinance retries those)."""


class Stopped(Exception):
    """The batch was stopped (Ctrl-C): a worker gives up at its next wait or request."""


@dataclass
class Exchange:
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
class Attempt:
    """Per ticker and attempt: what the session saw, and the limits it must respect."""

    deadline: float
    clock: Callable[[], float]
    sleep: Callable[[float], None]
    rate: float | None
    stop: threading.Event | None = None
    exchanges: list[Exchange] = field(default_factory=list)
    budget_exhausted: bool = False

    def remaining(self) -> float:
        return self.deadline - self.clock()

    def before_request(self) -> float:
        """Wait for the rate limiter; return the time left, or raise if the budget is spent."""
        if self.stop is not None and self.stop.is_set():
            raise Stopped("the batch was stopped")
        if self.remaining() <= 0:
            self.budget_exhausted = True
            raise BudgetExhausted("time budget exhausted")
        if self.rate:
            wait = _LIMITER.reserve(self.rate, self.clock)
            if wait >= self.remaining():
                _LIMITER.cancel()
                self.budget_exhausted = True
                raise BudgetExhausted("time budget exhausted")
            if wait > 0:
                self.sleep(wait)
        return self.remaining()


# yfinance gives its session no context: the attempt a request belongs to is the one of the asking thread.
_LOCAL = threading.local()


def set_attempt(attempt: Attempt | None) -> None:
    """Record this thread's requests in `attempt` from now on (None: stop recording)."""
    _LOCAL.attempt = attempt


def _current_attempt() -> Attempt | None:
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
            exchange.detail, exchange.host_unreachable = network_failure(exc)
            attempt.exchanges.append(exchange)
            raise
        exchange.status = int(response.status_code)
        if exchange.endpoint in DATA_ENDPOINTS:
            _inspect_body(exchange, response)
        attempt.exchanges.append(exchange)
        return response


def _describe_request(url: str, params: object) -> Exchange:
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
    return Exchange(endpoint, key, modules=query.get("modules", ""))


def _inspect_body(exchange: Exchange, response: Any) -> None:
    content = response.content or b""
    try:
        body = json.loads(content)
    except ValueError as exc:
        if exchange.status is not None and exchange.status < 400:
            exchange.malformed = f"{type(exc).__name__}: {exc} ({len(content)} bytes)"
        else:
            exchange.detail = first_line(content[:200].decode("utf-8", "replace"))
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


def first_line(text: str) -> str:
    """The first line of `text`, at most 200 characters: enough of an error message for a reason."""
    return text.strip().splitlines()[0][:200] if text.strip() else ""


# curl_cffi: "Failed to perform, curl: (6) Could not resolve host: x. See https://curl.se/... for more details."
_CURL_ERROR = re.compile(r"curl: \((\d+)\) (.+?)\.?(?: See https?://\S+ first for more details\.?)?$")


# curl's "could not resolve proxy", "could not resolve host", "could not connect": the host, not one request.
_UNREACHABLE_CURL_CODES = frozenset({"5", "6", "7"})


def network_failure(exc: BaseException) -> tuple[str, bool]:
    """A network failure in plain words ('Could not resolve host: x (curl error 6)'), and whether it
    says the host itself cannot be reached."""
    whole = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    # Matched on the whole line: cut first, curl's "See https://... for more details" would be left half.
    if match := _CURL_ERROR.search(whole):
        return f"{match.group(2)[:200]} (curl error {match.group(1)})", match.group(1) in _UNREACHABLE_CURL_CODES
    text = first_line(whole)
    return (f"{type(exc).__name__}: {text}" if text else type(exc).__name__), False


# ---------------------------------------------------------------------------------------------
# yfinance set-up

_YF_SETUP_LOCK = threading.Lock()
_yf_cache_dir: Path | None = None
_session: _YahooSession | None = None


def point_yfinance_cache(folder: Path) -> None:
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


def forget_yfinance_responses() -> None:
    """Drop the responses yfinance keeps in memory (time zone, key statistics), failed ones included:
    a retry must ask Yahoo again rather than replay a cached 503."""
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


def yahoo_ticker(symbol: str) -> Any:
    """yfinance's ``Ticker`` for `symbol`, asking Yahoo through the shared session."""
    return yf.Ticker(symbol, session=_yahoo_session())


#: The quoteSummary modules of Yahoo's analysis tab, asked for together.
ANALYSIS_MODULES = ("earningsTrend", "earningsHistory")


def analysis_answer(ticker: Any) -> dict[str, Any] | None:
    """Yahoo's answer for the analysis tab (:data:`ANALYSIS_MODULES`) in ONE quoteSummary request.

    yfinance's public properties would ask twice (``earnings_estimate``, ``revenue_estimate``,
    ``eps_trend`` and ``eps_revisions`` share an ``earningsTrend`` request, ``earnings_history`` makes
    its own) and drop each period's end date; so this asks yfinance's own quoteSummary fetcher (its
    crumb, cookies and this session) for both modules at once, and :mod:`.analysis` parses the raw
    answer. None when Yahoo answered an HTTP error, which yfinance logs and swallows (the exchange
    records it).
    """
    fetcher = getattr(getattr(ticker, "_analysis", None), "_fetch", None)
    if not callable(fetcher):  # a yfinance that moved its internals: say so rather than guess
        raise RuntimeError("this yfinance has no quoteSummary fetcher (Ticker._analysis._fetch)")
    answer = fetcher(list(ANALYSIS_MODULES))
    return answer if isinstance(answer, dict) else None


def is_isin(symbol: str) -> bool:
    """Whether yfinance takes `symbol` for an ISIN (which it would look up through Yahoo's search)."""
    test = getattr(yf.utils, "is_isin", None)
    return bool(callable(test) and test(symbol))
