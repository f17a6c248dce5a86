"""Live analyst data from Yahoo Finance, through yfinance.

:func:`fetch` loads a batch of tickers and never lets one ticker sink the batch: every ticker ends
as a :class:`LiveResult` ("ok", "no_coverage" or "failed", with a human reason), and the good ones
come back as frames of the documented schemas (``SNAPSHOTS``, ``TREND``, ``UPGRADES``, ``PRICES``
and ``NAMES``, and the analysis tab's ``ESTIMATES``, ``EPS_TREND``, ``EPS_REVISIONS`` and
``SURPRISES``, all in :mod:`ratings.schema`).

The modules, each importing only those above it:

* :mod:`.models`: the settings (:class:`LiveConfig`), results and batch a fetch takes and gives;
* :mod:`.boundary`: the HTTP boundary and every touch of yfinance's internals (the only importer of
  yfinance and curl_cffi);
* :mod:`.errors`: what went wrong, classified;
* :mod:`.parse`: Yahoo's answers as schema columns, through name maps from Yahoo's field names;
* :mod:`.analysis`: the analysis tab's answer (estimates, EPS trend and revisions, surprises) likewise;
* :mod:`.cache`: the result cache;
* :mod:`.ticker`: one attempt at one ticker (query, extract, transform);
* :mod:`.batch`: :func:`fetch`: workers, retries, budget, stop.

How it talks to Yahoo
    yfinance's public API does the requests and the parsing (``Ticker.info``, ``.recommendations``,
    ``.upgrades_downgrades``, ``.history``), except for the analysis tab: its public properties
    (``earnings_estimate``, ``revenue_estimate``, ``eps_trend``, ``eps_revisions``,
    ``earnings_history``) would make two requests and drop each period's end date, so one request
    asks yfinance's own quoteSummary fetcher for ``earningsTrend`` and ``earningsHistory`` together
    (:func:`.boundary.analysis_answer`) and :mod:`.analysis` parses the raw answer. That is one request
    per ticker more than the consensus alone, with the same session, rate limit, budget, retries and
    per-ticker errors; it is not made for a ticker whose consensus Yahoo answered "No fundamentals
    data found". yfinance sends every request through one session, which
    here rate-limits, enforces the time budget and records each exchange (endpoint, status, Yahoo's
    error text, whether the body is JSON) for the ticker being fetched on that thread. That record
    is how errors are classified, because yfinance (with its default ``hide_exceptions``) logs and
    swallows many of them: an HTTP 404 on quoteSummary becomes an empty frame, a broken chart body
    an empty history.

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
      quote endpoint (name, currency), the trend, the upgrades, the analysis tab and the price history
      are not: once retries are spent, what is missing is named in ``LiveResult.warnings`` and the
      rest is kept.
    * The analysis tab answered HTTP 404 (funds, crypto, many non-US listings), or answered without
      estimates, is "no estimates": a warning beginning ``no estimates``, never a failure.
    * A value Yahoo sends that is not plausible for its column (an impossible price, count or date;
      0 for "no target") is unknown, never stored as a number.

Currency
    Each row carries Yahoo's *quote* currency (``info["currency"]``, else the chart's), never
    ``financialCurrency``: LSE tickers quote price and targets in pence (``GBp``) while their
    ``financialCurrency`` is ``GBP``. Values are stored as Yahoo quotes them, so a row's price and
    targets are always in the row's one unit. Unknown currency stays ``<NA>``, and so does a quote in
    GBP against a price history in GBp (or the reverse): pounds or pence cannot be told apart.
    The analysis tab's rows carry the currency Yahoo names for the estimates (``earningsCurrency``
    and kin), the company's *financial* currency, which can differ from the quote currency (BEKE:
    CNY estimates, a USD quote); it is kept as it is, said in the warnings, and never converted.

Caching
    yfinance's own caches (time zones, cookies) live in ``<cache dir>/yfinance``. Successful results
    ("ok" and "no_coverage") are kept one JSON file per ticker in ``<cache dir>/live`` and served
    without any request for ``cache_ttl_s``, aged on the batch's wall clock (``fetch(now=...)``, the
    same clock that dates the answers); ``refresh=True`` bypasses them. Failures are never
    cached, and an unreadable cache file is ignored (and replaced by the next successful fetch).
"""

from __future__ import annotations

from .batch import fetch
from .boundary import yfinance_cache_dir
from .errors import RATE_LIMITED_REASON
from .models import LiveBatch, LiveConfig, LiveResult, ProgressCallback, Status
from .parse import SOURCE, SOURCE_ID, YAHOO_LABELS

__all__ = [
    "RATE_LIMITED_REASON",
    "SOURCE",
    "SOURCE_ID",
    "YAHOO_LABELS",
    "LiveBatch",
    "LiveConfig",
    "LiveResult",
    "ProgressCallback",
    "Status",
    "fetch",
    "yfinance_cache_dir",
]
