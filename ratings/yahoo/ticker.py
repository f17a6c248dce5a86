"""One attempt at one ticker, in three steps: query yfinance, extract Yahoo's raw answers, transform them.

The query asks yfinance for each part with its own tolerance: the consensus (quoteSummary) is
essential, so its problems fail the attempt; for the quote, the trend, the upgrades, the analysis
tab (estimates and earnings history, one request) and the price history a transient problem retries
the attempt while attempts remain, then the missing part is named in the warnings and the rest is
kept. Yahoo's 404 for the analysis tab (funds, crypto, many non-US listings) is "no estimates": a
warning, not a failure. Then the transformed answer is judged: "ok", or "no_coverage" when Yahoo has
no fundamentals or sent no price target, rating or trend.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from ..schema import NO_COVERAGE_REASON, NO_ESTIMATES_REASON
from .analysis import extract_analysis, transform_analysis
from .boundary import Attempt, analysis_answer, yahoo_ticker
from .errors import Failure, Problem, problems, without_empty_module
from .models import FRAME_SCHEMAS, Frames, LiveConfig, Status, utc
from .parse import Parsed, extract, has_consensus, transform


@dataclass(frozen=True)
class Outcome:
    """What one attempt at a ticker made of Yahoo's answer."""

    status: Status
    reason: str
    warnings: tuple[str, ...]
    observed_at: str
    frames: Frames


@dataclass
class _Replies:
    """What yfinance answered for one ticker (its own objects), and what the query had to do without."""

    info: dict[str, Any]
    trend: object = None
    upgrades: object = None
    history: object = None
    analysis: dict[str, Any] | None = None  # Yahoo's raw answer for the analysis tab, when it answered
    chart: dict[str, Any] = field(default_factory=dict)
    no_coverage: Problem | None = None  # quoteSummary's "No fundamentals data found"
    notes: list[str] = field(default_factory=list)  # the parts that are missing, and why


def fetch_once(
    symbol: str, attempt: Attempt, config: LiveConfig, *, final_try: bool, now: Callable[[], datetime]
) -> Outcome:
    """One attempt at one ticker. Raises :class:`Failure` for what should fail (or retry) it."""
    observed = utc(now()).replace(microsecond=0)
    replies = _query(symbol, attempt, config.history_period, final_try=final_try)
    answers = extract(replies.info, replies.trend, replies.upgrades, replies.history, replies.chart)
    parsed = transform(symbol, answers, observed)
    parsed.frames.update({name: {} for name in FRAME_SCHEMAS if name not in parsed.frames})
    if replies.analysis is not None:
        quote_currency = parsed.snapshot["currency"]
        frames, notes = transform_analysis(
            symbol, extract_analysis(replies.analysis), parsed.observed_at, quote_currency
        )
        parsed.frames.update(frames)
        replies.notes.extend(notes)
    return _judge(parsed, replies)


def _query(symbol: str, attempt: Attempt, history_period: str, *, final_try: bool) -> _Replies:
    ticker = yahoo_ticker(symbol)
    notes: list[str] = []

    def tolerate(found: list[Problem], what: str) -> None:
        # A part that is not essential: stop for the budget or a rate limit, retry a transient
        # error while attempts remain, otherwise name what is missing and carry on.
        if not found:
            return
        worst = found[0]
        if worst.kind in ("budget", "rate_limit") or (worst.transient and not final_try):
            raise Failure(worst)
        notes.append(f"{what}: {worst.reason}")

    # 1. info: the consensus (quoteSummary financialData, ...) and the quote endpoint (name, currency).
    info, found = _step(attempt, lambda: ticker.info)
    summary = [p for p in found if p.endpoint == "quoteSummary" or not p.endpoint]
    no_coverage = next((p for p in summary if p.no_fundamentals), None)
    essential = [p for p in summary if not p.no_fundamentals]
    if essential:
        raise Failure(essential[0])
    if info is None and found and all(p.endpoint == "timeseries" for p in found):
        # Only the key-statistics request (which this loader does not use) broke after yfinance had
        # parsed the rest: it keeps that info, and asking again returns it without a request.
        info, _ = _step(attempt, lambda: ticker.info)
    if not isinstance(info, dict):
        raise Failure(found[0] if found else Problem("unexpected", "yfinance returned no info"))
    tolerate([p for p in found if p not in summary and p.endpoint != "timeseries"], "quote (name, currency)")
    replies = _Replies(info, no_coverage=no_coverage, notes=notes)

    if no_coverage is None:
        # 2. the recommendation trend; 3. upgrades and downgrades.
        replies.trend, found = _step(attempt, lambda: ticker.recommendations)
        tolerate(without_empty_module(found), "recommendation trend")
        replies.upgrades, found = _step(attempt, lambda: ticker.upgrades_downgrades)
        tolerate(without_empty_module(found), "upgrades and downgrades")
        # 4. the analysis tab: EPS and revenue estimates and the earnings history, in one request.
        replies.analysis, found = _step(attempt, lambda: analysis_answer(ticker))
        absent = next((p for p in found if p.no_fundamentals), None)
        if absent is not None:
            detail = absent.reason.split(": ", 1)[-1]
            notes.append(f"{NO_ESTIMATES_REASON}: Yahoo has none for {symbol} (Yahoo: {detail})")
        else:
            tolerate(found, "estimates")

    # 5. daily closes; the chart's metadata also names the quote currency.
    replies.history, found = _step(
        attempt, lambda: ticker.history(period=history_period, auto_adjust=False, actions=False)
    )
    tolerate(found, "price history")
    replies.chart = _chart_metadata(ticker) if isinstance(replies.history, pd.DataFrame) else {}
    return replies


def _step(attempt: Attempt, call: Callable[[], Any]) -> tuple[Any, list[Problem]]:
    """`call`'s answer (None if it raised) and the problems of the requests it made."""
    start = len(attempt.exchanges)
    try:
        return call(), problems(attempt, start, None)
    except Exception as exc:
        return None, problems(attempt, start, exc)


def _chart_metadata(ticker: Any) -> dict[str, Any]:
    try:
        metadata = ticker.history_metadata
        return {key: metadata[key] for key in ("currency", "longName", "shortName") if key in metadata}
    except Exception:
        return {}


def _judge(parsed: Parsed, replies: _Replies) -> Outcome:
    """The outcome of an attempt whose parts were all answered (or tolerated)."""
    frames, snapshot = parsed.frames, parsed.snapshot
    notes = [*replies.notes, *parsed.notes]

    def outcome(status: Status, reason: str = "") -> Outcome:
        return Outcome(status, reason, tuple(notes), parsed.observed_at, frames)

    if replies.no_coverage is not None:
        frames["snapshots"], frames["trend"] = {}, {}
        detail = replies.no_coverage.reason.split(": ", 1)[-1]
        return outcome("no_coverage", f"{NO_COVERAGE_REASON} (Yahoo: {detail})")
    if not has_consensus(snapshot):
        frames["snapshots"] = {}
        return outcome("no_coverage", f"{NO_COVERAGE_REASON} (Yahoo sent no price target, rating or trend)")
    if snapshot["price"] is None:
        notes.append("Yahoo sent no current price")
    if not snapshot["currency"]:
        notes.append("quote currency unknown (Yahoo's quote and chart did not answer)")
    if not frames["trend"]:
        notes.append("Yahoo sent no recommendation trend: Strong Buy..Strong Sell counts unknown")
    return outcome("ok")
