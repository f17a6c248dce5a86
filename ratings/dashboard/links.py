"""What a shared link asks for: typed values read from the address, and a warning for each that cannot be used.

Each reader is a widget's seed (:func:`ratings.dashboard.state.seed_widget`), so it runs once a
session: the user's own later changes never bring a warning back. A value that cannot be used
is named, with what is shown instead; it never breaks the page.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date

import streamlit as st

from ..tickers import parse_tickers
from .markdown import md


def link_warning(param: str, value: str, problem: str, instead: str) -> None:
    """Say that a shared link's ``?param=value`` could not be used as it is, and what is shown instead."""
    st.warning(md(f"The link's {param}={value[:40]} {problem}: {instead}."), icon=":material/warning:")


def link_text(param: str) -> str | None:
    """The link's ``?param=`` as it is; None when absent or empty."""
    return st.query_params.get(param) or None


def link_choice(param: str, choices: Iterable[str], default: str, instead: str) -> str:
    """One of `choices` (a radio's options) from the link, else `default`."""
    value = link_text(param)
    if value is None:
        return default
    if value in choices:
        return value
    link_warning(param, value, f"is not one of {', '.join(choices)}", instead)
    return default


def link_subset(param: str, options: Collection[str], problem: tuple[str, str], everything: str) -> list[str]:
    """The link's values (``?sector=A&sector=B``) that are among `options`; the others are named.

    `problem` says what is wrong with one unknown value, and with several.
    """
    values = st.query_params.get_all(param)
    kept = [v for v in values if v in options]
    unknown = [v for v in values if v not in options]
    if unknown:
        instead = f"showing only {', '.join(kept)} instead" if kept else f"showing {everything} instead"
        link_warning(param, ", ".join(unknown), problem[len(unknown) > 1], instead)
    return kept


def link_int(param: str, default: int, low: int, high: int, instead: str) -> int:
    """A whole number from the link within `low`..`high`, else `default` (or the nearest bound).

    `instead` is formatted with the number used (``"showing the top {} instead"``).
    """
    value = link_text(param)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        link_warning(param, value, "is not a whole number", instead.format(default))
        return default
    used = min(max(number, low), high)
    if used != number:
        link_warning(param, value, f"is outside {low} to {high}", instead.format(used))
    return used


def link_day(param: str, instead: str) -> date | None:
    """The day of the link (``?since=2026-06-29``), if it is one."""
    value = link_text(param)
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        link_warning(param, value, "is not a day (YYYY-MM-DD)", instead)
        return None


def link_ticker(param: str, known: frozenset[str], default: str) -> str:
    """The one ticker of the link (``?ticker=F``), else `default`; what of the link is not shown is named."""
    value = link_text(param)
    if value is None:
        return default
    parsed = parse_tickers(value, known=known)
    shown = parsed.valid[0] if parsed.valid else default
    dropped = {**parsed.invalid, **dict.fromkeys(parsed.valid[1:], "this page shows one ticker at a time")}
    if dropped:
        named = "; ".join(f"{md(raw)} ({md(reason)})" for raw, reason in dropped.items())
        st.warning(f"Not shown from the link: {named}. Showing {md(shown)} instead.", icon=":material/warning:")
    return shown
