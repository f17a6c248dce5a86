"""The Track record page under ``streamlit.testing.v1.AppTest``: it runs, ranks, keeps its view in the address.

Expected figures come from tests/hand_track_record.py (Barclays on AAPL, by hand from the bundled closes)
and from the bundle's documented contents, never from the page's own output.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from hand_track_record import FIRM, barclays_aapl
from streamlit.testing.v1 import AppTest

from ratings import dashboard as ui
from ratings.dataset import Dataset
from ratings.formatting import percent

ROOT = Path(__file__).resolve().parent.parent
PAGE = "pages/track_record.py"
TIMEOUT = 60


def page(query: dict[str, str] | None = None) -> AppTest:
    """The app opened on the Track record page through a link (as a shared address opens it)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.query_params.update(query or {})
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def texts(at: AppTest, *kinds: str) -> str:
    kinds = kinds or ("title", "subheader", "markdown", "caption", "info", "warning")
    return "\n".join(unescape(str(el.value)) for kind in kinds for el in at.get(kind))


def test_the_page_runs_ranks_firms_and_draws_both_charts_with_their_downloads() -> None:
    at = page()
    assert not at.error
    assert at.title[0].value == "Track record: how good are the analysts?"
    firms = at.dataframe[0].value
    assert isinstance(firms, pd.DataFrame) and firms["rank"].tolist() == list(range(1, len(firms) + 1))
    assert len(at.get("plotly_chart")) == 2  # success rates, and the first firm's calls
    labels = [b.label for b in at.get("download_button")]
    for fmt in ["PNG", "SVG", "HTML"] if ui.static_export_available() else ["HTML"]:
        assert labels.count(fmt) == 2, labels
    assert sum("CSV" in label for label in labels) >= len(at.dataframe)
    assert any(e.label.startswith("By firm and ticker") for e in at.expander), "all tickers: the pairs too"


def test_a_link_opens_one_ticker_window_minimum_and_firm(bundle: Dataset) -> None:
    at = page({"ticker": "AAPL", "horizon": "12", "min_calls": "1", "firm": FIRM})
    assert at.selectbox(key="tr_ticker").value == "AAPL"
    assert at.number_input(key="tr_min_calls").value == 1
    assert at.selectbox(key="tr_firm").value == FIRM
    hand = barclays_aapl(bundle.adjusted_closes)
    row = at.dataframe[0].value.set_index("firm").loc[FIRM]
    assert (row["scored_calls"], row["successes"]) == (hand.calls, hand.successes)
    assert row["success_rate"] == pytest.approx(hand.rate * 100)  # the grid shows percents
    assert row["success_low"] == pytest.approx(hand.low * 100)
    calls = at.dataframe[1].value
    assert (calls["Outcome"] == "Success").sum() == hand.successes and (calls["Outcome"] == "Miss").sum() == 6
    assert (at.query_params["firm"], at.query_params["ticker"]) == (FIRM, "AAPL")


def test_changing_the_window_is_kept_in_the_address() -> None:
    at = page({"ticker": "AAPL"})
    at.radio(key="tr_horizon").set_value("6").run()
    assert not at.exception
    assert at.query_params["horizon"] == "6"
    assert "scored over 6 months" in texts(at, "caption")


@pytest.mark.parametrize(
    ("query", "said"),
    [({"horizon": "5"}, "horizon=5"), ({"ticker": "ZZZZ"}, "ticker=ZZZZ"), ({"min_calls": "many"}, "min_calls=many")],
)
def test_a_link_value_the_page_cannot_use_is_named(query: dict[str, str], said: str) -> None:
    at = page(query)
    assert any(said in unescape(w.value) for w in at.warning), [w.value for w in at.warning]
    assert at.dataframe, "the page still shows its ranking"


def test_the_page_says_what_was_not_scored_and_that_the_bundle_has_no_targets() -> None:
    at = page()
    shown = texts(at)
    for words in ("3,173 actions", "no price in the data", "after the last close", "no closes for ARMK",
                  "no price targets", "against EW-SP500", "2021-04-21"):  # fmt: skip
        assert words in shown, words
    published = at.table[0].value
    assert {"Bradshaw, Brown & Huang 2013", "Asquith, Mikhail & Au 2005"} <= set(published["Study"])
    assert {"38%", "64%", "about 15 points"} <= set(published["Published figure"])


def test_the_bias_aware_upside_stands_beside_the_implied_upside_and_is_no_forecast(bundle: Dataset) -> None:
    yahoo = bundle.consensus[(bundle.consensus["ticker"] == "AAPL") & (bundle.consensus["source"] == "Yahoo Finance")]
    newest = yahoo.sort_values("as_of").iloc[-1]  # the primary row: the one with a target, newest first
    implied = float(newest["target_mean"]) / float(newest["price"]) - 1
    shown = texts(page({"ticker": "AAPL"}), "markdown")
    assert f"implied upside {percent(implied)}" in shown
    assert "about 15 points" in shown and "not a forecast" in shown
