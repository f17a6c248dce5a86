"""What moved since the previous snapshot: label changes, target raises and cuts, analysts' actions.

For every ticker and source, the latest snapshot is compared with the one before it (or with the
last one on or before a chosen day):

* ``label``: the consensus label changed (e.g. Hold -> Buy);
* ``target raise`` / ``target cut``: the mean price target moved (by more than rounding noise);

and every analyst action graded after the previous snapshot is listed:

* ``upgrade`` / ``downgrade`` / ``initiation`` of a firm's rating;
* ``target raise`` / ``target cut`` by one firm (Yahoo's priceTargetAction, with both targets),
  for actions that kept the rating (maintained or reiterated).

A ticker with a single snapshot has nothing to compare yet and contributes no consensus rows.
With ``since``, a ticker whose latest snapshot is itself on or before that day has not moved
since then either. A target of 0 (or less) is Yahoo's "none": unknown, never a move to or from 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .core import add_metrics
from .schema import CONSENSUS_HISTORY, UPGRADES, Schema, columns, conform, utc_text

CHANGES = Schema(
    "changes",
    columns(
        """
        ticker           text   Yahoo-style symbol
        date             text   ISO date of the change (snapshot as-of, or the analyst action's day)
        kind             text   'label', 'target raise', 'target cut', 'upgrade', 'downgrade' or 'initiation'
        source           text   who published it
        firm             text   the research firm, for an analyst's action; <NA> for the consensus
        before           text   the previous label or grade; <NA> for a target move (formatting words it)
        after            text   the new label or grade; <NA> for a target move (formatting words it)
        target_before    float  the previous price target, a number; NaN for a label or a grade alone
        target_after     float  the new price target, a number; NaN for a label or a grade alone
        currency         text   the unit of the targets (Yahoo's 'GBp' is pence); <NA> if unknown
        currency_before  text   the unit the previous target was quoted in; <NA> if that one is unknown
        change           float  relative change of a price target (after / before - 1); NaN otherwise
        since            text   ISO timestamp of the previous snapshot the change is measured from
        """
    ),
)

#: Relative moves of the mean target smaller than this are rounding noise, not a change.
TARGET_TOLERANCE = 5e-4

_ACTION_KINDS = {"up": "upgrade", "down": "downgrade", "init": "initiation"}
_TARGET_ACTIONS = {"raises": "target raise", "lowers": "target cut"}


def _since_text(since: str) -> str:
    """A day as given ('2026-06-30'); a moment as the snapshots write theirs ('2026-06-30T12:00:00Z',
    naive meaning UTC), so that comparing the texts compares the moments."""
    return since if len(since) <= len("YYYY-MM-DD") else utc_text(since)


def _previous_and_latest(history: pd.DataFrame, since: str | None = None) -> pd.DataFrame:
    """One row per ticker and source: the latest snapshot beside its baseline (suffix _prev).

    The baseline is the snapshot before the latest, or with `since` (an ISO date or timestamp) the
    last snapshot taken on or before it. Sources are compared by publisher, not by file: Yahoo's
    consensus recorded by two different files is one history.
    """
    rows = conform(history, CONSENSUS_HISTORY)
    for column in ("target_mean", "target_low", "target_high", "target_median"):
        rows[column] = rows[column].where(rows[column] > 0)  # Yahoo's 0 is "no target"
    rows = add_metrics(rows)
    rows["_when"] = rows["observed_at"].fillna(rows["as_of"])
    rows = rows[rows["_when"].notna() & rows["source"].notna()]
    rows = rows.sort_values(["ticker", "source", "_when"], kind="stable")
    keys = ["ticker", "source"]
    rank = rows.groupby(keys).cumcount(ascending=False)
    latest = rows[rank == 0]
    if since is None:
        baseline = rows[rank == 1]
    else:
        since = _since_text(since)
        # Compare dates with dates: "2026-06-30" covers every snapshot of that day. The baseline
        # may be the latest snapshot itself (nothing new since that day): such pairs are dropped.
        day = rows["_when"].str.slice(0, len(since))
        on_or_before = rows[(day <= since).fillna(False).astype(bool)].assign(_rank=rank)
        baseline = on_or_before.groupby(keys).tail(1)
        baseline = baseline[baseline["_rank"] > 0].drop(columns="_rank")
    return latest.merge(baseline, on=keys, how="inner", suffixes=("", "_prev"))


def consensus_changes(history: pd.DataFrame, since: str | None = None) -> pd.DataFrame:
    """Label changes and mean-target moves between each source's latest snapshot and its baseline."""
    pairs = _previous_and_latest(history, since)
    labels = pairs[
        pairs["consensus"].notna()
        & pairs["consensus_prev"].notna()
        & (pairs["consensus"] != pairs["consensus_prev"]).fillna(False)
    ]
    label_rows = pd.DataFrame(
        {
            "ticker": labels["ticker"],
            "date": labels["as_of"],
            "kind": "label",
            "source": labels["source"],
            "before": labels["consensus_prev"],
            "after": labels["consensus"],
            "since": labels["_when_prev"],
        }
    )
    # Targets in two known, different units (GBp then GBP) are not comparable: no move is computed.
    same_unit = pairs["currency"].isna() | pairs["currency_prev"].isna() | (pairs["currency"] == pairs["currency_prev"])
    move = (pairs["target_mean"] / pairs["target_mean_prev"] - 1).where(same_unit.fillna(True).astype(bool))
    moved = pairs[(move.abs() > TARGET_TOLERANCE).fillna(False)]
    moved_by = move[moved.index]
    target_rows = pd.DataFrame(
        {
            "ticker": moved["ticker"],
            "date": moved["as_of"],
            "kind": np.where(moved_by > 0, "target raise", "target cut"),
            "source": moved["source"],
            "target_before": moved["target_mean_prev"],
            "target_after": moved["target_mean"],
            "currency": moved["currency"].fillna(moved["currency_prev"]),
            "currency_before": moved["currency_prev"],
            "change": moved_by,
            "since": moved["_when_prev"],
        }
    )
    return pd.concat([label_rows, target_rows], ignore_index=True)


def analyst_actions(upgrades: pd.DataFrame, since: pd.Series, currency: pd.Series | None = None) -> pd.DataFrame:
    """Analysts' rating changes and target moves graded after each ticker's previous snapshot.

    `since` maps a ticker to the ISO timestamp of its previous snapshot; tickers without one are
    left out (nothing to compare with yet). `currency` maps (ticker, source) to the unit that
    source's snapshots quote in (Yahoo gives analysts' targets in its quote currency), for the
    before/after text: another source's unit could be pounds where Yahoo's is pence.
    """
    actions = conform(upgrades, UPGRADES)
    for column in ("prior_price_target", "current_price_target"):
        actions[column] = actions[column].where(actions[column] > 0)  # Yahoo's 0 is "no target"
    units = pd.Series(pd.NA, index=actions.index, dtype="string")
    if currency is not None and not currency.empty and not actions.empty:
        keys = pd.MultiIndex.from_frame(actions[["ticker", "source"]])
        units = pd.Series(currency.reindex(keys).to_numpy(), index=actions.index, dtype="string")
    # as text whatever `since` was built from (an empty Series maps to another dtype)
    actions = actions.assign(since=actions["ticker"].map(since).astype("string"), _currency=units)
    actions = actions[actions["since"].notna() & (actions["graded_at"] > actions["since"]).fillna(False)]
    grade_kind = actions["action"].str.lower().map(_ACTION_KINDS)
    target_kind = actions["price_target_action"].str.lower().map(_TARGET_ACTIONS)
    kind = grade_kind.fillna(target_kind)
    actions = actions.assign(kind=kind)[kind.notna()]
    is_grade = actions["kind"].isin(list(_ACTION_KINDS.values()))
    return pd.DataFrame(
        {
            "ticker": actions["ticker"],
            "date": actions["graded_at"].str.slice(0, 10),
            "kind": actions["kind"],
            "source": actions["source"],
            "firm": actions["firm"],
            "before": actions["from_grade"].where(is_grade),
            "after": actions["to_grade"].where(is_grade),
            "target_before": actions["prior_price_target"],
            "target_after": actions["current_price_target"],
            "currency": actions["_currency"],
            "currency_before": actions["_currency"],
            "change": actions["current_price_target"] / actions["prior_price_target"] - 1,
            "since": actions["since"],
        }
    )


def changes(
    history: pd.DataFrame,
    upgrades: pd.DataFrame | None = None,
    tickers: list[str] | None = None,
    since: str | None = None,
) -> pd.DataFrame:
    """Everything that moved (schema :data:`CHANGES`), newest first.

    Measured from the previous snapshot, or with `since` (an ISO date, or a timestamp) from the last
    snapshot on or before that day (or moment); analysts' actions are listed from the later of that
    snapshot and `since`.
    """
    if tickers is not None:
        history = history[history["ticker"].isin(tickers)]
        upgrades = upgrades[upgrades["ticker"].isin(tickers)] if upgrades is not None else None
    if history.empty:
        return CHANGES.empty()
    pairs = _previous_and_latest(history, since)
    parts = [consensus_changes(history, since)]
    if upgrades is not None and not upgrades.empty:
        currency = pairs.dropna(subset=["currency"]).groupby(["ticker", "source"])["currency"].first()
        start = pairs.groupby("ticker")["_when_prev"].min().astype("string")
        if since is not None:  # the baseline snapshot may be years before the day asked for
            moment = _since_text(since)
            start = start.where(start >= moment, moment)
        parts.append(analyst_actions(upgrades, start, currency))
    rows = conform(pd.concat(parts, ignore_index=True), CHANGES)
    return rows.sort_values(["date", "ticker"], ascending=[False, True], kind="stable").reset_index(drop=True)
