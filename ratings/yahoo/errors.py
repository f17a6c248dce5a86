"""What went wrong in one step of a ticker's fetch, as :class:`Problem` s, most severe first.

The exchanges the boundary recorded come first (yfinance swallows many errors, and its exception
after a bad answer is only that answer's consequence); the exception yfinance raised is classified
when no exchange explains it. A problem is transient (retry) or not (fail, or name the missing part).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, get_args

from .boundary import (
    DATA_ENDPOINTS,
    NETWORK_ERRORS,
    Attempt,
    BudgetExhausted,
    Exchange,
    RateLimited,
    first_line,
    network_failure,
)

_TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
#: How a ticker's reason begins (or, after a spent budget, says its last error) when Yahoo rate-limited it:
#: a scheduled fetch stops at the first such ticker rather than spend more requests.
RATE_LIMITED_REASON = "rate limited by Yahoo (HTTP 429)"
_NO_FUNDAMENTALS = "No fundamentals data found"

#: What can go wrong, most severe first: the order in which one step's problems are reported.
ProblemKind = Literal["budget", "rate_limit", "network", "server", "malformed", "not_found", "refused", "unexpected"]
_SEVERITY = get_args(ProblemKind)
_ENDPOINT_NAMES = {
    "quoteSummary": "quote summary",
    "quote": "quote",
    "chart": "price chart",
    "timeseries": "key statistics",
}


@dataclass(frozen=True)
class Problem:
    kind: ProblemKind
    reason: str
    endpoint: str = ""
    host_unreachable: bool = False

    @property
    def transient(self) -> bool:
        return self.kind in ("rate_limit", "network", "server")

    @property
    def no_fundamentals(self) -> bool:
        """quoteSummary's HTTP 404 "No fundamentals data found" (ETFs, crypto): no coverage, not an error."""
        return self.kind == "not_found" and _NO_FUNDAMENTALS.lower() in self.reason.lower()


class Failure(Exception):
    """The problem that fails (or retries) one attempt at a ticker."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.reason)
        self.problem = problem


def problems(attempt: Attempt, start: int, exc: BaseException | None) -> list[Problem]:
    """Everything that went wrong in one step (the exchanges since `start`), most severe first."""
    found: list[Problem] = []
    if attempt.budget_exhausted:
        found.append(Problem("budget", "time budget exhausted"))
    for exchange in _final_exchanges(attempt.exchanges[start:]):
        if exchange.endpoint in DATA_ENDPOINTS and (problem := _exchange_problem(exchange)) is not None:
            found.append(problem)
    if exc is not None:
        problem = _exception_problem(exc)
        # yfinance's exception after a bad answer is that answer's consequence: report the answer.
        if problem.kind in ("budget", "rate_limit") or not found:
            found.append(problem)
    return sorted(found, key=lambda p: _SEVERITY.index(p.kind))


def without_empty_module(found: list[Problem]) -> list[Problem]:
    """`found` less yfinance's YFDataException, which it raises when a module is absent or empty (no
    trend, no upgrade history): for those parts that is an empty answer, not an error."""
    return [p for p in found if not (p.kind == "unexpected" and "YFDataException" in p.reason)]


def _final_exchanges(exchanges: Iterable[Exchange]) -> list[Exchange]:
    # yfinance asks again (with its other cookie strategy) after an HTTP error: the last answer counts.
    last: dict[str, Exchange] = {}
    for exchange in exchanges:
        last.pop(exchange.key, None)
        last[exchange.key] = exchange
    return list(last.values())


def _exchange_problem(exchange: Exchange) -> Problem | None:
    where = _ENDPOINT_NAMES.get(exchange.endpoint, exchange.endpoint)
    if exchange.network_error:
        reason = f"network error: {exchange.detail}"
        return Problem("network", reason, exchange.endpoint, host_unreachable=exchange.host_unreachable)
    if exchange.malformed:
        reason = f"malformed response from Yahoo ({where}): {exchange.malformed}"
        return Problem("malformed", reason, exchange.endpoint)
    status = exchange.status or 0
    if status == 429:
        return Problem("rate_limit", RATE_LIMITED_REASON, exchange.endpoint)
    if status in _TRANSIENT_STATUSES:
        return Problem("server", f"Yahoo server error (HTTP {status}, {where})", exchange.endpoint)
    if status == 404:
        return Problem("not_found", f"HTTP 404 from Yahoo ({where}): {exchange.detail}", exchange.endpoint)
    if status >= 400:
        return Problem("refused", f"HTTP {status} from Yahoo ({where}): {exchange.detail}", exchange.endpoint)
    return None


def _exception_problem(exc: BaseException) -> Problem:
    if isinstance(exc, BudgetExhausted):
        return Problem("budget", "time budget exhausted")
    if isinstance(exc, RateLimited):
        return Problem("rate_limit", RATE_LIMITED_REASON)
    if isinstance(exc, ValueError):  # json.JSONDecodeError and kin, raised by response.json()
        return Problem("malformed", f"malformed response from Yahoo: {type(exc).__name__}: {first_line(str(exc))}")
    if isinstance(exc, NETWORK_ERRORS):
        detail, unreachable = network_failure(exc)
        return Problem("network", f"network error: {detail}", host_unreachable=unreachable)
    return Problem("unexpected", f"unexpected error from yfinance: {type(exc).__name__}: {first_line(str(exc))}")
