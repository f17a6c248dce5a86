"""``ratings estimates`` (issue 10) and the estimates ``ratings fetch`` stores, offline.

``cli.main`` runs in-process with ``tests/fake_yahoo.py`` installed and the wall clock injected
(``wall``): a fetch happens "on 2025-02-24", the day of the recordings. Expected values are read
from the recorded ``earningsTrend`` and ``earningsHistory`` files (``recordings.module``), or
worked out from them by the documented formulas (``ratings/estimates.py``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fake_yahoo import FakeYahoo
from helpers import Run, VirtualClock, number, parse_json
from recordings import DAY_2025, module

from ratings.estimates import ESTIMATES_CSV_COLUMNS
from ratings.store import Store

pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword:DeprecationWarning")  # inside yfinance 1.7

STAMP = DAY_2025.strftime("%Y-%m-%dT%H:%M:%SZ")
README = Path(__file__).resolve().parent.parent / "README.md"
#: The public contract as the README and the issue write it, spelled out: not the code's own constant.
CONTRACT = (
    "ticker", "horizon", "end_date", "currency", "eps_mean", "eps_low", "eps_high", "eps_analysts", "eps_year_ago",
    "eps_growth", "revenue_mean", "revenue_low", "revenue_high", "revenue_analysts", "revenue_year_ago",
    "revenue_growth", "eps_current", "eps_7d_ago", "eps_30d_ago", "eps_60d_ago", "eps_90d_ago", "up_7d", "down_7d",
    "up_30d", "down_30d", "revision_30d", "revision_90d", "net_revisions_30d", "eps_dispersion", "revenue_dispersion",
    "beat_rate", "beats", "beat_quarters", "observed_at",
)  # fmt: skip
HORIZONS = {"0q": "this_quarter", "+1q": "next_quarter", "0y": "this_year", "+1y": "next_year"}


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "s.sqlite"


def fetch(run: Callable[..., Run], store: Path, *tickers: str) -> Run:
    return run("fetch", *tickers, "--store", store, "--rate", "0")


def parse_csv(text: str) -> list[dict[str, str | None]]:
    return [{k: (v if v != "" else None) for k, v in row.items()} for row in csv.DictReader(io.StringIO(text))]


def raw(value: dict[str, Any]) -> Any:
    return value.get("raw")


@pytest.fixture
def fetched(fake: FakeYahoo, wall: VirtualClock, store: Path, run: Callable[..., Run]) -> Path:
    """AAPL, AMZN, GOOG, CRON and the ETF HISU-U.TO fetched into `store`."""
    assert fetch(run, store, "AAPL", "AMZN", "GOOG", "CRON", "HISU-U.TO").code == 0
    return store


# ---------------------------------------------------------------------------------------------
# ratings fetch stores the analysis tab


def test_fetch_stores_estimate_snapshots_and_names_the_404_symbol(
    fake: FakeYahoo, wall: VirtualClock, store: Path, run: Callable[..., Run]
) -> None:
    result = fetch(run, store, "AAPL", "AMZN", "GOOG", "HISU-U.TO")
    assert result.code == 0
    assert result.out_lines[-1].startswith("3 fetched, 1 without analyst coverage, 0 failed.")
    (said,) = [line for line in result.err_lines if "no estimates" in line]
    assert said.startswith("ratings: HISU-U.TO: warning: no estimates: Yahoo has none for HISU-U.TO")
    with Store(store, create=False) as opened:
        estimates, surprises = opened.estimates(), opened.surprises()
    for symbol in ("AAPL", "AMZN", "GOOG"):
        periods = [p["period"] for p in module(symbol, "earningsTrend")["trend"]]
        assert estimates.loc[estimates["ticker"] == symbol, "period"].tolist() == periods
        quarters = [q["quarter"]["fmt"] for q in module(symbol, "earningsHistory")["history"]]
        assert surprises.loc[surprises["ticker"] == symbol, "quarter"].tolist() == quarters
    assert set(estimates["observed_at"]) == {STAMP}  # one dated snapshot: this fetch
    assert "HISU-U.TO" not in set(estimates["ticker"])


# ---------------------------------------------------------------------------------------------
# The CSV contract


def test_the_csv_contract(fetched: Path, run: Callable[..., Run]) -> None:
    result = run("estimates", "AAPL", "CRON", "--store", fetched, "--format", "csv")
    assert result.code == 0 and result.err == ""
    header = result.out.splitlines()[0].split(",")
    assert tuple(header) == CONTRACT == ESTIMATES_CSV_COLUMNS
    records = parse_csv(result.out)
    assert [(r["ticker"], r["horizon"]) for r in records] == [
        (s, HORIZONS[p]) for s in ("AAPL", "CRON") for p in ("0q", "+1q", "0y", "+1y")
    ]
    periods = {p["period"]: p for p in module("AAPL", "earningsTrend")["trend"]}
    first = records[0]
    now = periods["0q"]
    eps, trend, revisions = now["earningsEstimate"], now["epsTrend"], now["epsRevisions"]
    assert (first["end_date"], first["currency"], first["observed_at"]) == (now["endDate"], "USD", STAMP)
    assert number(first["eps_mean"]) == pytest.approx(raw(eps["avg"]))
    assert int(first["eps_analysts"] or -1) == raw(eps["numberOfAnalysts"])
    assert number(first["revenue_mean"]) == pytest.approx(raw(now["revenueEstimate"]["avg"]))
    assert number(first["eps_growth"]) == pytest.approx(raw(eps["growth"]))  # a fraction, not a percent
    # The derived figures, by their formulas over the recorded values.
    ago30, ago90 = raw(trend["30daysAgo"]), raw(trend["90daysAgo"])
    assert number(first["revision_30d"]) == pytest.approx((raw(trend["current"]) - ago30) / abs(ago30))
    assert number(first["revision_90d"]) == pytest.approx((raw(trend["current"]) - ago90) / abs(ago90))
    up, down = raw(revisions["upLast30days"]), raw(revisions["downLast30days"])
    assert number(first["net_revisions_30d"]) == pytest.approx((up - down) / raw(eps["numberOfAnalysts"]))
    assert number(first["eps_dispersion"]) == pytest.approx((raw(eps["high"]) - raw(eps["low"])) / raw(eps["avg"]))
    history = module("AAPL", "earningsHistory")["history"]
    beats = sum(raw(q["epsActual"]) > raw(q["epsEstimate"]) for q in history)
    assert (int(first["beats"] or -1), int(first["beat_quarters"] or -1)) == (beats, len(history))
    assert number(first["beat_rate"]) == pytest.approx(beats / len(history))
    # CRON's this quarter: no EPS analyst (Yahoo's zeros): empty cells, never 0; its revenue is there.
    cron = records[4]
    assert all(cron[c] is None for c in ("eps_mean", "eps_low", "eps_high", "eps_analysts", "eps_current", "up_30d"))
    assert cron["revision_30d"] is None and cron["eps_dispersion"] is None
    cron_now = module("CRON", "earningsTrend")["trend"][0]["revenueEstimate"]
    assert number(cron["revenue_mean"]) == pytest.approx(raw(cron_now["avg"])) and cron["currency"] == "CAD"
    assert not any(cell.startswith("'") for line in result.out.splitlines() for cell in line.split(","))


def test_the_readme_writes_the_contract() -> None:
    text = README.read_text(encoding="utf-8")
    block = text.split("Its CSV (and JSON) columns are a public\ncontract too, in this order:", 1)[1]
    written = block.split("```", 2)[1]
    assert tuple(c.strip() for c in written.replace("\n", " ").split(",")) == CONTRACT


def test_json_has_the_contracts_keys_and_null_for_unknown(fetched: Path, run: Callable[..., Run]) -> None:
    result = run("estimates", "CRON", "--store", fetched, "--format", "json")
    assert result.code == 0
    records = parse_json(result.out)
    assert [list(r) for r in records] == [list(CONTRACT)] * 4
    assert records[0]["eps_mean"] is None and records[0]["horizon"] == "this_quarter"
    assert records[2]["eps_mean"] == pytest.approx(
        raw(module("CRON", "earningsTrend")["trend"][2]["earningsEstimate"]["avg"])
    )


# ---------------------------------------------------------------------------------------------
# The terminal, and what is not there


def test_the_terminal_view_names_the_currency_and_the_quarters(
    fake: FakeYahoo, wall: VirtualClock, store: Path, run: Callable[..., Run]
) -> None:
    fake.quote_from_price("BEKE")  # quoted in USD, its estimates in CNY (both recorded)
    assert fetch(run, store, "AAPL", "BEKE").code == 0
    result = run("estimates", "AAPL", "BEKE", "--store", store)
    assert result.code == 0 and result.err == ""
    lines = result.out_lines
    assert lines[0] == "AAPL (Apple Inc.): estimates in USD, fetched 2025-02-24 09:35 UTC"
    (beke,) = [line for line in lines if line.startswith("BEKE")]
    assert "estimates in CNY, the company's reporting currency (its price is in USD)" in beke
    assert (
        "Earnings surprises: beat the EPS estimate in 4 of 4 reported quarters (100.0%, 2024-03-31 to 2024-12-31)."
        in lines
    )
    assert any(line.startswith("This quarter (to 2025-03-31)") and "$1.61" in line for line in lines)
    assert any(line.startswith("This quarter (to 2024-12-31)") and "CN¥2.02" in line for line in lines)
    assert lines[-1].startswith("Revision: the mean EPS estimate's move")


def test_a_ticker_without_estimates_is_named_and_the_others_shown(fetched: Path, run: Callable[..., Run]) -> None:
    result = run("estimates", "HISU-U.TO", "AAPL", "--store", fetched, "--format", "csv")
    assert result.code == 0
    assert result.err_lines == [
        "ratings: HISU-U.TO: the local store has no estimates for it (Yahoo: no analyst coverage)"
    ]
    assert {r["ticker"] for r in parse_csv(result.out)} == {"AAPL"}


def test_nothing_to_show_exits_1(fetched: Path, run: Callable[..., Run]) -> None:
    result = run("estimates", "HISU-U.TO", "--store", fetched)
    assert result.code == 1 and result.out == ""
    assert result.err_lines[-1] == "ratings: nothing to show: no estimates for HISU-U.TO in the local store"


def test_the_bundle_has_no_estimates_yet(run: Callable[..., Run]) -> None:
    result = run("estimates", "F")
    assert result.code == 1 and result.out == ""
    assert "ratings: F: the bundled snapshot has no estimates for it" in result.err_lines


def test_an_unknown_ticker_is_named_and_the_others_shown(fetched: Path, run: Callable[..., Run]) -> None:
    result = run("estimates", "AAPL", "NOPE", "b@d", "--store", fetched, "--format", "json")
    assert result.code == 0
    assert {r["ticker"] for r in parse_json(result.out)} == {"AAPL"}
    assert len(result.err_lines) == 2 and all(line.startswith("ratings: ") for line in result.err_lines)


def test_source_live_fetches_then_shows(
    fake: FakeYahoo, wall: VirtualClock, store: Path, run: Callable[..., Run]
) -> None:
    result = run("estimates", "GOOG", "--source", "live", "--store", store, "--rate", "0", "--format", "csv")
    assert result.code == 0
    records = parse_csv(result.out)
    assert [number(r["eps_mean"]) for r in records] == pytest.approx(
        [raw(p["earningsEstimate"]["avg"]) for p in module("GOOG", "earningsTrend")["trend"]]
    )


def test_a_store_that_is_not_ours_is_a_usage_error(tmp_path: Path, run: Callable[..., Run]) -> None:
    bogus = tmp_path / "notes.sqlite"
    bogus.write_text("not a database")
    result = run("estimates", "AAPL", "--store", bogus)
    assert result.code == 2 and bogus.read_text() == "not a database"
