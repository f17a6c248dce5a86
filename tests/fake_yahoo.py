"""A fake Yahoo Finance at yfinance's HTTP layer, serving recorded responses. No network, ever.

yfinance sends every request through ``curl_cffi.requests.Session.request``. :class:`FakeYahoo`
replaces that method (and, as a tripwire, ``curl_cffi.Curl.perform``) and answers from the recorded
responses in ``tests/payloads/yahoo/`` (see its README), so yfinance's own parsing runs on real
Yahoo bodies:

* ``fc.yahoo.com`` and ``/v1/test/getcrumb``: a non-empty text answer (the crumb handshake);
* ``v10/finance/quoteSummary/{SYMBOL}?modules=a,b``: the recorded module bodies of that symbol
  merged into one answer; a module not recorded for it (or recorded as Yahoo's 404) is absent, as Yahoo
  does; when none of the asked modules is there, Yahoo's HTTP 404 "No fundamentals data found for any of
  the summaryTypes=a,b"; a symbol without any recorded module answers HTTP 404 "No fundamentals data
  found for symbol: S" (as ETFs and crypto do);
* ``v7/finance/quote?symbols=S`` and ``v8/finance/chart/{SYMBOL}`` (any range, ``history()`` first
  asks ``range=1d`` for the time zone): the recorded body, else HTTP 404 with Yahoo's error body;
* the key-statistics time series ``.info`` also asks for: an empty (HTTP 200) answer;
* anything else at Yahoo: HTTP 404 with Yahoo's error body, recorded as unexpected in the log;
  any other host: :class:`NetworkBlocked` is raised.

Scenarios per symbol: :meth:`FakeYahoo.recorded_in` (the February 2021 recording of AAPL or GOOG
instead of the 2025 one: a second fetch "on another day" with real data), :meth:`FakeYahoo.serve_as`
(recorded data under another symbol; ``FakeYahoo(any_symbol_as="AAPL")`` does it for every symbol without
a recorded consensus (MSFT's chart alone is not one), so a whole universe such as the S&P 500 answers),
:meth:`~FakeYahoo.no_fundamentals`, :meth:`~FakeYahoo.pence_quoted`, :meth:`~FakeYahoo.empty_trend`,
:meth:`~FakeYahoo.with_price_targets`, :meth:`~FakeYahoo.without_modules` (a symbol's answer less some
modules: no estimates), :meth:`~FakeYahoo.quote_from_price` (a v7 quote made of the recorded ``price``
module), and :meth:`~FakeYahoo.fail` (HTTP status N times or forever,
network error, malformed or truncated JSON); :attr:`~FakeYahoo.offline` makes every host unresolvable,
as with no network at all. ``latency_s`` makes every request sleep (the benchmark),
and every request is logged (:meth:`~FakeYahoo.count`, :attr:`~FakeYahoo.max_in_flight`).

Use it as a context manager (``with FakeYahoo() as fake: ...``) or, in tests, through the
``fake`` fixture (``conftest.py``). Import it as ``fake_yahoo`` (pytest puts ``tests/`` on ``sys.path``;
scripts insert it themselves).

Recorded symbols: AAPL (all modules, v7 quote, v8 chart), AMZN and GOOG (financialData, price,
recommendationTrend, upgradeDowngradeHistory, earningsTrend, earningsHistory), BEKE (quoted in USD,
its estimates in CNY) and CRON (periods no EPS analyst covers) with those modules and quoteType,
HISU-U.TO (an ETF: price and quoteType only, Yahoo's 404 for every analyst module), MSFT (chart only).
In 2021 (:data:`RECORDED_2021`):
AAPL (financialData, price, recommendationTrend, upgradeDowngradeHistory) and GOOG (the same but
price); no quote or chart, which the fake then answers with HTTP 404, as for AMZN and GOOG.
"""

from __future__ import annotations

import copy
import http.cookiejar
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

import curl_cffi
from curl_cffi import requests as curl_requests
from curl_cffi.requests import exceptions as curl_exceptions
from curl_cffi.requests.headers import Headers

PAYLOAD_DIR = Path(__file__).resolve().parent / "payloads" / "yahoo"
#: Yahoo's analysis tab: EPS and revenue estimates, and the earnings history.
ANALYSIS_MODULES = ("earningsTrend", "earningsHistory")
#: The recorded files this fake serves: (file, symbol, endpoint, quoteSummary module or "").
RECORDED: tuple[tuple[str, str, str, str], ...] = (
    *(
        (f"2025-quoteSummary-{module}-AAPL.json", "AAPL", "quoteSummary", module)
        for module in (
            "financialData",
            "price",
            "quoteType",
            "recommendationTrend",
            "summaryDetail",
            "upgradeDowngradeHistory",
        )
    ),
    ("2025-quote-AAPL.json", "AAPL", "quote", ""),
    ("2025-chart-AAPL.json", "AAPL", "chart", ""),
    *(
        (f"2025-quoteSummary-{module}-{symbol}.json", symbol, "quoteSummary", module)
        for symbol in ("AAPL", "AMZN", "GOOG")
        for module in ANALYSIS_MODULES
    ),
    *(
        (f"2025-quoteSummary-{module}-{symbol}.json", symbol, "quoteSummary", module)
        for symbol in ("AMZN", "GOOG")
        for module in ("financialData", "price", "recommendationTrend", "upgradeDowngradeHistory")
    ),
    # Recorded the same day (2025-02-24); HISU-U.TO's analyst modules are Yahoo's 404 answers.
    *(
        (f"2025-quoteSummary-{module}-{symbol}.json", symbol, "quoteSummary", module)
        for symbol in ("BEKE", "CRON", "HISU-U.TO")
        for module in (
            "financialData",
            "price",
            "quoteType",
            "recommendationTrend",
            "upgradeDowngradeHistory",
            *ANALYSIS_MODULES,
        )
    ),
    ("2024-chart-MSFT-1d-20bars.json", "MSFT", "chart", ""),
)
#: The February 2021 recordings (AAPL on 2021-02-01, GOOG on 2021-02-15), same layout as RECORDED.
RECORDED_2021: tuple[tuple[str, str, str, str], ...] = (
    *(
        (f"2021-quoteSummary-{module}-AAPL.json", "AAPL", "quoteSummary", module)
        for module in ("financialData", "price", "recommendationTrend", "upgradeDowngradeHistory")
    ),
    *(
        (f"2021-quoteSummary-{module}-GOOG.json", "GOOG", "quoteSummary", module)
        for module in ("financialData", "recommendationTrend", "upgradeDowngradeHistory")
    ),
)
#: Every recording by the year it was made ("2025" also holds the 2024 MSFT chart).
RECORDINGS: dict[str, tuple[tuple[str, str, str, str], ...]] = {"2025": RECORDED, "2021": RECORDED_2021}

#: Endpoints a symbol's faults apply to unless told otherwise: the ones that carry its data.
DATA_ENDPOINTS = frozenset({"quoteSummary", "quote", "chart"})
CRUMB = "fake-crumb-0123456789"
JSON_TYPE = "application/json;charset=utf-8"

Endpoint = Literal["cookie", "crumb", "consent", "quoteSummary", "quote", "chart", "timeseries", "other"]


class NetworkBlocked(RuntimeError):
    """Something tried to leave the machine while the fake was installed."""


def no_fundamentals_body(symbol: str) -> dict[str, Any]:
    """Yahoo's real answer (HTTP 404) for a symbol without analyst data: ETFs, crypto."""
    description = f"No fundamentals data found for symbol: {symbol}"
    return {"quoteSummary": {"result": None, "error": {"code": "Not Found", "description": description}}}


def not_found_body(root: str, description: str) -> dict[str, Any]:
    return {root: {"result": None, "error": {"code": "Not Found", "description": description}}}


@dataclass
class SymbolData:
    """What the fake knows of one symbol: quoteSummary modules, the v7 quote item and the chart result."""

    modules: dict[str, Any] = field(default_factory=dict)
    quote: dict[str, Any] | None = None
    chart: dict[str, Any] | None = None

    def renamed(self, symbol: str) -> SymbolData:
        """A deep copy whose symbol fields say `symbol`."""
        data = copy.deepcopy(self)
        for body in (data.modules.get("price"), data.modules.get("quoteType"), data.quote):
            if isinstance(body, dict) and "symbol" in body:
                body["symbol"] = symbol
        if data.chart is not None:
            data.chart.setdefault("meta", {})["symbol"] = symbol
        return data


@dataclass
class Fault:
    """How requests for a symbol fail: ``times`` failures (None = forever), then normal answers."""

    kind: Literal["status", "network", "malformed", "truncated"]
    status: int = 429
    times: int | None = None
    endpoints: frozenset[str] = DATA_ENDPOINTS
    served: int = 0
    module: str | None = None  # only the quoteSummary requests that ask for this module

    def applies(self, endpoint: str, modules: tuple[str, ...] = ()) -> bool:
        if self.module is not None and self.module not in modules:
            return False
        return endpoint in self.endpoints and (self.times is None or self.served < self.times)


@dataclass(frozen=True)
class LoggedRequest:
    endpoint: str
    symbol: str | None
    url: str
    status: int | None  # None when the fake raised (network error)
    outcome: str  # "recorded", "derived", "unrecorded", "fault: ...", "unexpected", "handshake"
    modules: tuple[str, ...]
    thread: str
    started: float
    ended: float


def load_recorded(payload_dir: Path = PAYLOAD_DIR, year: str = "2025") -> dict[str, SymbolData]:
    """The responses recorded in `year` (a key of :data:`RECORDINGS`), by symbol."""
    symbols: dict[str, SymbolData] = {}
    for filename, symbol, endpoint, module in RECORDINGS[year]:
        recording = json.loads((payload_dir / filename).read_text(encoding="utf-8"))
        body = recording["body"]
        data = symbols.setdefault(symbol, SymbolData())
        if recording["status"] != 200:  # Yahoo's 404 "No fundamentals data found": the module is absent
            continue
        if endpoint == "quoteSummary":
            data.modules[module] = body["quoteSummary"]["result"][0][module]
        elif endpoint == "quote":
            data.quote = body["quoteResponse"]["result"][0]
        else:
            data.chart = body["chart"]["result"][0]
    return symbols


_RECORDED_CACHE: dict[str, dict[str, SymbolData]] = {}


def recorded(symbol: str, year: str = "2025") -> SymbolData:
    """A fresh copy of one symbol's data as recorded in `year` (tests read expected values from it)."""
    if year not in _RECORDED_CACHE:
        _RECORDED_CACHE[year] = load_recorded(year=year)
    return copy.deepcopy(_RECORDED_CACHE[year][symbol])


class FakeYahoo:
    """The fake; see the module docstring."""

    def __init__(
        self, *, latency_s: float = 0.0, sleep: Callable[[float], None] = time.sleep, any_symbol_as: str | None = None
    ) -> None:
        self.latency_s = latency_s
        self._sleep = sleep
        #: A symbol without recordings is served this symbol's (renamed, like serve_as): a whole universe answers.
        self.any_symbol_as = any_symbol_as
        self.symbols: dict[str, SymbolData] = {s: recorded(s) for s in dict.fromkeys(r[1] for r in RECORDED)}
        self.derived: set[str] = set()
        self.faults: dict[str, Fault] = {}
        self.log: list[LoggedRequest] = []
        self.in_flight = 0
        self.max_in_flight = 0
        # No network at all: every request fails as curl does when DNS cannot resolve the host.
        self.offline = False
        self._lock = threading.Lock()
        self._saved: list[tuple[Any, str, Any]] = []

    # -- scenarios -------------------------------------------------------------------------

    def recorded_in(self, year: str, symbol: str) -> SymbolData:
        """Serve `symbol` from its `year` recording from now on ("2021" or "2025"), as Yahoo answered then.

        Real data both ways: with an injected wall clock, a fetch "on 2021-02-01" then one "on
        2025-02-24" stores two real snapshots of the same ticker. What `year` did not record (the
        2021 quote and chart) answers HTTP 404, as for any unrecorded endpoint.
        """
        data = recorded(symbol, year)
        self.symbols[symbol] = data
        self.derived.discard(symbol)
        return data

    def serve_as(self, symbol: str, like: str) -> SymbolData:
        """Serve `like`'s recorded responses under `symbol` (symbol fields changed; numbers not)."""
        data = self.symbols[like].renamed(symbol)
        self.symbols[symbol] = data
        self.derived.add(symbol)
        return data

    def no_fundamentals(self, symbol: str) -> None:
        """A symbol Yahoo has no analyst data for: quoteSummary answers HTTP 404 (ETFs, crypto)."""
        self.symbols[symbol] = SymbolData()
        self.derived.add(symbol)

    def pence_quoted(self, symbol: str = "PENCE.L") -> SymbolData:
        """An LSE-style ticker quoted in pence, DERIVED FROM AAPL's recorded responses.

        Test input, not market data: AAPL's bodies with the symbol changed, the quote currency
        ``GBp`` (summaryDetail, price, v7 quote, chart) and ``financialCurrency`` ``GBP``; the numbers
        are AAPL's, to be read as pence, which is how Yahoo quotes LSE prices and targets.
        """
        data = self.serve_as(symbol, "AAPL")
        for body in (data.modules.get("summaryDetail"), data.modules.get("price"), data.quote):
            if body is not None:
                body["currency"] = "GBp"
        data.modules["financialData"]["financialCurrency"] = "GBP"
        if data.quote is not None:
            data.quote["financialCurrency"] = "GBP"
        if data.chart is not None:
            data.chart["meta"]["currency"] = "GBp"
        return data

    def empty_trend(self, symbol: str, like: str = "AAPL") -> SymbolData:
        """`like`'s responses with an empty recommendation trend (test input)."""
        data = self.serve_as(symbol, like)
        data.modules["recommendationTrend"]["trend"] = []
        return data

    def with_price_targets(self, symbol: str, like: str = "AAPL") -> SymbolData:
        """`like`'s responses whose upgrade rows carry the 2025 price-target fields (test input).

        The recorded files predate these fields. Derived in code: the first rows get
        ``priceTargetAction``/``currentPriceTarget``/``priorPriceTarget``, including Yahoo's 0 for
        "no target", so the loader's handling of them can be tested.
        """
        data = self.serve_as(symbol, like)
        history = data.modules["upgradeDowngradeHistory"]["history"]
        variants = [
            ("Raises", 300.0, 275.0),
            ("Lowers", 200.0, 250.0),
            ("Maintains", 250.0, 250.0),
            ("Announces", 240.0, 0),  # a new target, no prior one
            ("", 0, 0),  # no target at all
        ]
        for row, (action, current, prior) in zip(history, variants, strict=False):
            row.update(priceTargetAction=action, currentPriceTarget=current, priorPriceTarget=prior)
        return data

    def without_modules(self, symbol: str, *modules: str, like: str = "AAPL") -> SymbolData:
        """`like`'s responses less the quoteSummary `modules` (test input): by default the analysis tab's
        two, which makes Yahoo answer that request with its 404, as for funds and many non-US listings."""
        data = self.serve_as(symbol, like)
        for module in modules or ANALYSIS_MODULES:
            data.modules.pop(module, None)
        return data

    def quote_from_price(self, symbol: str) -> SymbolData:
        """Give `symbol` a v7 quote made of its recorded quoteSummary ``price`` module (test input): the same
        fields (currency, names, regularMarketPrice), for a symbol whose v7 quote was not recorded."""
        data = self.symbols[symbol]
        data.quote = copy.deepcopy(data.modules["price"])
        self.derived.add(symbol)
        return data

    def fail(
        self,
        symbol: str,
        kind: Literal["status", "network", "malformed", "truncated"] = "status",
        *,
        status: int = 429,
        times: int | None = None,
        endpoints: Iterable[str] = DATA_ENDPOINTS,
        module: str | None = None,
    ) -> Fault:
        """Make `symbol`'s requests to `endpoints` fail `times` times (None: forever), then answer.

        With `module`, only the quoteSummary requests asking for that module fail (the analysis tab's
        ``earningsTrend``, say). One fault per symbol: this replaces any earlier one. ``status`` answers
        that HTTP status (429 with Yahoo's plain-text body); ``network`` raises curl_cffi's ConnectionError of a reset
        connection (transient: yfinance does not retry it, the loader does); ``malformed`` answers
        an HTML page with HTTP 200;
        ``truncated`` answers the first half of the real body.
        """
        fault = Fault(kind, status=status, times=times, endpoints=frozenset(endpoints), module=module)
        self.faults[symbol] = fault
        return fault

    # -- the log ---------------------------------------------------------------------------

    def count(
        self,
        endpoint: str | None = None,
        *,
        symbol: str | None = None,
        status: int | None = None,
        module: str | None = None,
    ) -> int:
        """Requests seen, filtered by endpoint, symbol, HTTP status and quoteSummary module."""
        with self._lock:
            return sum(
                1
                for r in self.log
                if (endpoint is None or r.endpoint == endpoint)
                and (symbol is None or r.symbol == symbol)
                and (status is None or r.status == status)
                and (module is None or module in r.modules)
            )

    def per_endpoint(self) -> Counter[str]:
        with self._lock:
            return Counter(r.endpoint for r in self.log)

    def unexpected(self) -> list[LoggedRequest]:
        with self._lock:
            return [r for r in self.log if r.outcome == "unexpected"]

    def reset_log(self) -> None:
        with self._lock:
            self.log.clear()
            self.max_in_flight = self.in_flight

    # -- installing ------------------------------------------------------------------------

    def install(self) -> FakeYahoo:
        fake = self

        def request(session: Any, method: str, url: str, params: Any = None, **kwargs: Any) -> Any:
            return fake.handle(method, url, params, session=session)

        def perform(curl: Any, *args: Any, **kwargs: Any) -> Any:
            raise NetworkBlocked("curl tried to reach the network while FakeYahoo was installed")

        self._patch(curl_requests.Session, "request", request)
        self._patch(curl_cffi.Curl, "perform", perform)
        return self

    def uninstall(self) -> None:
        while self._saved:
            owner, name, original = self._saved.pop()
            setattr(owner, name, original)

    def _patch(self, owner: Any, name: str, replacement: Any) -> None:
        self._saved.append((owner, name, owner.__dict__[name]))
        setattr(owner, name, replacement)

    def __enter__(self) -> FakeYahoo:
        return self.install()

    def __exit__(self, *exc_info: object) -> None:
        self.uninstall()

    # -- answering -------------------------------------------------------------------------

    def handle(self, method: str, url: str, params: Any = None, *, session: Any = None) -> curl_requests.Response:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if host != "yahoo.com" and not host.endswith(".yahoo.com"):
            raise NetworkBlocked(f"FakeYahoo refuses to pass a request to {host or url!r} through")
        query = dict(parse_qsl(parts.query))
        if isinstance(params, dict):
            query.update({str(k): str(v) for k, v in params.items() if v is not None})
        endpoint, symbol = _route(host, parts.path, query)
        modules = tuple(m for m in query.get("modules", "").split(",") if m)
        full_url = f"{parts.scheme}://{host}{parts.path}" + (f"?{urlencode(query)}" if query else "")

        started = time.perf_counter()
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        status: int | None = None
        outcome = "unexpected"
        try:
            if self.latency_s:
                self._sleep(self.latency_s)
            if self.offline:
                outcome = "fault: offline"
                raise curl_exceptions.DNSError(
                    f"Failed to perform, curl: (6) Could not resolve host: {host}. "
                    "See https://curl.se/libcurl/c/libcurl-errors.html first for more details."
                )
            fault = self._take_fault(symbol, endpoint, modules)
            if fault is not None and fault.kind == "network":
                outcome = "fault: network error"
                # A failure of this one request (the host is up): what a dropped connection looks like.
                raise curl_exceptions.ConnectionError(
                    "Failed to perform, curl: (56) Recv failure: Connection reset by peer. "
                    "See https://curl.se/libcurl/c/libcurl-errors.html first for more details."
                )
            status, body, content_type, outcome = self._answer(endpoint, symbol, modules)
            if endpoint == "cookie" and session is not None:
                _set_yahoo_cookie(session)
            if fault is not None:
                status, body, content_type, outcome = _apply_fault(fault, status, body, content_type)
            return _response(full_url, status, body, content_type)
        finally:
            ended = time.perf_counter()
            with self._lock:
                self.in_flight -= 1
                self.log.append(
                    LoggedRequest(
                        endpoint,
                        symbol,
                        full_url,
                        status,
                        outcome,
                        modules,
                        threading.current_thread().name,
                        started,
                        ended,
                    )
                )

    def _take_fault(self, symbol: str | None, endpoint: str, modules: tuple[str, ...]) -> Fault | None:
        with self._lock:
            fault = self.faults.get(symbol or "")
            if fault is None or not fault.applies(endpoint, modules):
                return None
            fault.served += 1
            return fault

    def _answer(self, endpoint: str, symbol: str | None, modules: tuple[str, ...]) -> tuple[int, bytes, str, str]:
        if symbol and self.any_symbol_as and endpoint in DATA_ENDPOINTS:
            with self._lock:  # a symbol without a recorded consensus, unless a scenario was set for it
                known = self.symbols.get(symbol)
                if symbol not in self.derived and (known is None or "financialData" not in known.modules):
                    self.serve_as(symbol, self.any_symbol_as)
        source = "derived" if symbol in self.derived else "recorded"
        data = self.symbols.get(symbol or "")
        if endpoint == "cookie":
            return 200, b"<html>ok</html>", "text/html", "handshake"
        if endpoint == "crumb":
            return 200, CRUMB.encode(), "text/plain", "handshake"
        if endpoint == "consent":
            # yfinance's other cookie strategy; no consent form here, so it falls back to the first.
            return 404, b"<html><body>Not Found</body></html>", "text/html", "handshake"
        if endpoint == "timeseries":
            return 200, _json({"timeseries": {"result": [], "error": None}}), JSON_TYPE, "empty"
        if endpoint == "quoteSummary" and symbol:
            if data is None or not data.modules:
                return 404, _json(no_fundamentals_body(symbol)), JSON_TYPE, source if data else "unrecorded"
            result = {m: data.modules[m] for m in modules if m in data.modules}
            if not result:  # Yahoo's answer when none of the asked modules exists for the symbol
                body = not_found_body(
                    "quoteSummary", f"No fundamentals data found for any of the summaryTypes={','.join(modules)}"
                )
                return 404, _json(body), JSON_TYPE, source
            return 200, _json({"quoteSummary": {"result": [result], "error": None}}), JSON_TYPE, source
        if endpoint == "quote" and symbol:
            if data is None or data.quote is None:
                body = not_found_body("finance", f"No quote recorded for symbol: {symbol}")
                return 404, _json(body), JSON_TYPE, "unrecorded"
            return 200, _json({"quoteResponse": {"result": [data.quote], "error": None}}), JSON_TYPE, source
        if endpoint == "chart" and symbol:
            if data is None or data.chart is None:
                body = not_found_body("chart", "No data found, symbol may be delisted")
                return 404, _json(body), JSON_TYPE, "unrecorded"
            return 200, _json({"chart": {"result": [data.chart], "error": None}}), JSON_TYPE, source
        body = not_found_body("finance", "HTTP 404 Not Found")
        return 404, _json(body), JSON_TYPE, "unexpected"


def _route(host: str, path: str, query: dict[str, str]) -> tuple[Endpoint, str | None]:
    if host == "fc.yahoo.com":
        return "cookie", None
    if path.endswith("/v1/test/getcrumb"):
        return "crumb", None
    if "consent" in host or host.startswith("guce."):
        return "consent", None
    segments = [s for s in path.split("/") if s]
    if "quoteSummary" in segments and segments[-1] != "quoteSummary":
        return "quoteSummary", segments[-1].upper()
    if path.rstrip("/").endswith("/v7/finance/quote"):
        return "quote", query.get("symbols", "").split(",")[0].upper() or None
    if "chart" in segments and segments[-1] != "chart":
        return "chart", segments[-1].upper()
    if "timeseries" in segments and segments[-1] != "timeseries":
        return "timeseries", segments[-1].upper()
    return "other", None


def _apply_fault(fault: Fault, status: int, body: bytes, content_type: str) -> tuple[int, bytes, str, str]:
    if fault.kind == "status":
        if fault.status == 429:
            return 429, b"Too Many Requests\r\n", "text/plain", "fault: HTTP 429"
        error = not_found_body("finance", "Internal Server Error")
        error["finance"]["error"]["code"] = str(fault.status)
        return fault.status, _json(error), JSON_TYPE, f"fault: HTTP {fault.status}"
    if fault.kind == "malformed":
        page = b"<!doctype html><html><body>Oops, something went wrong</body></html>"
        return 200, page, "text/html", "fault: malformed"
    # truncated: the real answer cut in half, as a dropped connection leaves it
    return 200, body[: max(1, len(body) // 2)], content_type, "fault: truncated"


def _set_yahoo_cookie(session: Any) -> None:
    """What Yahoo's ``Set-Cookie: A3=...; Domain=.yahoo.com`` does: yfinance keeps and reuses it.

    Without it yfinance would ask fc.yahoo.com again before every request.
    """
    expires = int(time.time()) + 365 * 24 * 3600
    cookie = http.cookiejar.Cookie(
        version=0, name="A3", value="fake-cookie", port=None, port_specified=False,
        domain=".yahoo.com", domain_specified=True, domain_initial_dot=True,
        path="/", path_specified=True, secure=True, expires=expires, discard=False,
        comment=None, comment_url=None, rest={}, rfc2109=False,
    )  # fmt: skip
    session.cookies.jar.set_cookie(cookie)


def _json(body: object) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def _response(url: str, status: int, content: bytes, content_type: str) -> curl_requests.Response:
    """A real curl_cffi Response, filled in as curl would."""
    response = curl_requests.Response()
    response.url = url
    response.status_code = status
    response.ok = status < 400
    response.reason = {200: "OK", 404: "Not Found", 429: "Too Many Requests"}.get(status, "Error")
    response.content = content
    response.headers = Headers({"content-type": content_type})
    return response
