"""Charts of analysts' track record: firms' success rates with their 95% intervals, and one firm's calls
marked on a ticker's price.

:func:`success_rate_chart` takes a ``FIRM_RECORD`` frame as :func:`ratings.track_record.firm_record`
ranked it; :func:`calls_chart` a ``CALLS`` frame as :func:`ratings.track_record.score_calls` scored it,
with the closes it was scored on. Neither computes a figure: they draw what they are given. The caller
names the closes' source and dates in `note`, which becomes the figure's caption.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..formatting import call_cells, count, interval_text, percent, rate_text
from ..schema import PRICES, conform
from ..track_record import BUY, CALLS, FIRM_RECORD, SCORED, SELL
from . import style
from .style import NO_LABEL_COLOR, escape, escaped

#: Okabe-Ito: a success and a miss stay apart with the common colour-vision deficiencies; shape tells the stance.
SUCCESS_COLOR, MISS_COLOR, INTERVAL_COLOR = "#0072B2", "#D55E00", "#56B4E9"
STANCE_SYMBOLS: dict[str, str] = {BUY: "triangle-up", "hold": "circle", SELL: "triangle-down"}
ROW_HEIGHT = 26


def success_rate_chart(firms: pd.DataFrame, *, note: str, title: str | None = None) -> go.Figure:
    """Each firm's success rate (a dot) and its Wilson 95% interval (a bar), best rank on top, calls beside."""
    rows = conform(firms, FIRM_RECORD).sort_values("rank", kind="stable")
    fig = go.Figure()
    labels = [f"{escape(f)} ({count(n)})" for f, n in zip(rows["firm"], rows["scored_calls"], strict=True)]
    fig.add_trace(
        go.Scatter(
            name="Success rate, with its 95% interval",
            mode="markers",
            x=rows["success_rate"].to_numpy(float),
            y=labels,
            marker=dict(color=SUCCESS_COLOR, size=9),
            error_x=dict(
                type="data",
                symmetric=False,
                array=(rows["success_high"] - rows["success_rate"]).to_numpy(float),
                arrayminus=(rows["success_rate"] - rows["success_low"]).to_numpy(float),
                color=INTERVAL_COLOR,
                thickness=3,
                width=0,
            ),
            customdata=np.column_stack(
                [
                    escaped(rows["firm"]),
                    [f"{count(k)} of {count(n)}" for k, n in zip(rows["successes"], rows["scored_calls"], strict=True)],
                    [interval_text(lo, hi) for lo, hi in zip(rows["success_low"], rows["success_high"], strict=True)],
                    [percent(v) for v in rows["mean_excess"]],
                    [count(r) for r in rows["rank"]],
                ]
            )
            if len(rows)
            else None,
            hovertemplate="<b>#%{customdata[4]} %{customdata[0]}</b><br>%{customdata[1]} calls beat the benchmark"
            " (%{x:.0%})<br>95% interval %{customdata[2]}<br>mean excess return %{customdata[3]}<extra></extra>",
            meta="success_rate",
        )
    )
    fig.add_vline(x=0.5, line=dict(color=NO_LABEL_COLOR, dash="dot", width=1))
    fig.update_xaxes(
        range=[0, 1.02], tickformat=".0%", title_text="Share of calls that<br>beat the benchmark"
    )  # two lines: a phone leaves the plot narrow
    fig.update_yaxes(autorange="reversed", type="category", automargin=True)
    if rows.empty:
        style.add_note(fig, "No firm has enough scored calls")
    best = rows.iloc[0] if len(rows) else None
    summary = (
        f"{len(rows):,} firms ranked by the lower bound of their interval; first {best['firm']}: "
        f"{rate_text(best['success_rate'])} of {count(best['scored_calls'])} calls "
        f"({interval_text(best['success_low'], best['success_high'])})."
        if best is not None
        else "No firm has enough scored calls."
    )
    return style.finish(
        fig,
        title=escape(title) if title is not None else "Analysts' success rate, by firm",
        subtitle="Dot: share of scored calls that beat the benchmark (a sell: that lagged it); bar: its 95% "
        "interval; (n): scored calls. Ranked by the interval's lower bound.",
        caption=note,
        height=max(220, ROW_HEIGHT * len(rows) + 60),
        summary=summary,
    )


def _outcome_colors(calls: pd.DataFrame) -> list[str]:
    scored = (calls["status"] == SCORED).to_numpy(bool)
    success = calls["success"].to_numpy(bool)
    return [
        SUCCESS_COLOR if s and w else MISS_COLOR if s else NO_LABEL_COLOR for s, w in zip(scored, success, strict=True)
    ]


def calls_chart(
    calls: pd.DataFrame, closes: pd.DataFrame, *, firm: str, ticker: str, note: str, title: str | None = None
) -> go.Figure:
    """`ticker`'s closes with `firm`'s calls on it marked where they were entered (shape: the stance;
    colour: success, miss or not scored) and a line to where each was left."""
    rows = conform(calls, CALLS)
    rows = rows[(rows["firm"] == firm).fillna(False) & (rows["ticker"] == ticker).fillna(False)]
    rows = rows[rows["entry_date"].notna()].sort_values("graded_at")
    prices = conform(closes, PRICES)
    prices = prices[(prices["ticker"] == ticker).fillna(False)].sort_values("date")
    if not rows.empty:
        start = rows["entry_date"].min() - pd.Timedelta(days=60)
        end = rows["exit_date"].max() if rows["exit_date"].notna().any() else rows["entry_date"].max()
        prices = prices[(prices["date"] >= start) & (prices["date"] <= end + pd.Timedelta(days=60))]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=prices["date"], y=prices["close"].to_numpy(float), mode="lines", name="Daily close (adjusted)",
            line=dict(color="#333", width=1.2), hovertemplate="%{x|%Y-%m-%d}: %{y:,.2f}<extra>close</extra>",
            meta="close",
        )
    )  # fmt: skip
    held = rows[rows["exit_date"].notna() & rows["stance"].isin([BUY, SELL]).fillna(False)]
    # One trace for every holding window: entry to exit, the windows apart by a gap (None).
    xs: np.ndarray = np.empty((len(held), 3), dtype=object)
    xs[:, 0], xs[:, 1] = held["entry_date"].to_numpy(object), held["exit_date"].to_numpy(object)
    ys = np.column_stack([held["entry_close"], held["exit_close"], np.full(len(held), np.nan)])
    fig.add_trace(
        go.Scatter(
            x=xs.ravel(), y=ys.ravel().astype(float), mode="lines", name="Held until", hoverinfo="skip",
            line=dict(color=INTERVAL_COLOR, width=3), meta="windows",
        )
    )  # fmt: skip
    words = pd.DataFrame(call_cells(rows.to_dict("records")), index=rows.index)
    for value, group in rows.groupby("stance", sort=False, dropna=False):
        stance = str(value) if isinstance(value, str) else ""
        known = bool(stance)
        hover = words.loc[group.index, ["Grade", "Outcome", "Return", "Excess"]].map(escape)
        fig.add_trace(
            go.Scatter(
                x=group["entry_date"],
                y=group["entry_close"].to_numpy(float),
                mode="markers",
                name=f"{stance.capitalize()}-type call" if known else "Call with a grade not in the table",
                marker=dict(symbol=STANCE_SYMBOLS.get(stance, "x"), size=11, color=_outcome_colors(group),
                            line=dict(color="white", width=1)),
                customdata=hover.to_numpy(dtype=object),
                hovertemplate="%{x|%Y-%m-%d}: %{customdata[0]}<br>%{customdata[1]}<br>return %{customdata[2]}, "
                "excess %{customdata[3]}<extra></extra>",
                meta=f"calls-{stance or 'unknown'}",
            )
        )  # fmt: skip
    if prices.empty:
        style.add_note(fig, f"No closes in the data for {escape(ticker)}")
    fig.update_yaxes(title_text="Adjusted close")
    scored = rows[rows["status"] == SCORED]
    summary = (
        f"{len(rows):,} calls by {firm} on {ticker} with a price; {len(scored):,} scored, "
        f"{int(scored['success'].sum()):,} of them successes."
    )
    return style.finish(
        fig,
        title=escape(title) if title is not None else f"{escape(ticker)}: calls by {escape(firm)}",
        subtitle="▲ buy-type, ● hold-type, ▼ sell-type call where it was entered; blue: success, orange: miss, "
        "grey: not scored or pending; line: held until the window's end or the firm's next action.",
        caption=note,
        height=420,
        summary=summary,
    )
