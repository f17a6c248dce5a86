"""Exports: figures to PNG, SVG or standalone HTML, tables to CSV, and their file names.

PNG and SVG are drawn by kaleido in a local Chrome/Chromium. One kaleido server (one browser)
is started per process on the first static export and reused: starting a browser per export
would cost seconds each time. HTML embeds plotly.js, so it works offline and without Chrome.
"""

from __future__ import annotations

import functools
import os
import re
import threading
from collections.abc import Sequence
from datetime import UTC, date, datetime
from io import StringIO
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from .schema import CSV_COLUMNS, day_mask

FORMATS: tuple[str, ...] = ("png", "svg", "html")
STATIC_FORMATS: tuple[str, ...] = ("png", "svg")

#: Seconds to wait for one image before giving up on the browser (the first one includes its start).
RENDER_TIMEOUT = 90.0
MAX_TICKERS_IN_NAME = 5

# OWASP CSV injection: a spreadsheet treats a cell starting with = + - @ TAB or CR as a formula;
# so are these after leading white space (an import may trim it), and their full-width forms.
_FORMULA = re.compile(r"[\t\r]|\s*[=+\-@\uff1d\uff0b\uff0d\uff20]")
_MAX_STEM = 150  # file systems allow 255 bytes a name
_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._+-]")


class ExportUnavailable(RuntimeError):
    """PNG/SVG export is not possible here (no Chrome/Chromium, or it failed); HTML and CSV still work."""

    def __init__(self, detail: str | None = None) -> None:
        message = (
            "PNG and SVG export needs Chrome or Chromium"
            + (f": {detail}" if detail else ", and none was found on this computer")
            + ". Install it (e.g. `apt install chromium`) or point $BROWSER_PATH at it."
            " HTML and CSV downloads still work."
        )
        super().__init__(message)


class ExportFailed(RuntimeError):
    """The browser answered, but not with an image (one too large to draw, say)."""


# Chromium draws nothing past about 65,000 pixels a side: stay well within it.
MAX_PNG_SIDE = 32_000
_SIGNATURES = {"png": b"\x89PNG\r\n\x1a\n", "svg": b"<svg"}


@functools.cache
def find_chrome() -> str | None:
    """Path of the Chrome/Chromium kaleido would use (honours $BROWSER_PATH), or None. Cached."""
    try:
        from choreographer.browsers.chromium import Chromium

        path = Chromium.find_browser(skip_local=False)
    except Exception:  # a broken choreographer install means "no browser", not a crash
        return None
    # $BROWSER_PATH is returned as given, even when nothing is there: check it is a program.
    if path and os.path.isfile(path) and os.access(path, os.X_OK):
        return str(path)
    return None


def static_export_available() -> bool:
    """True when PNG/SVG export can work: a browser was found and the server has not failed."""
    return find_chrome() is not None and _server.failure is None


class _KaleidoServer:
    """The one kaleido sync server of this process, started lazily and used by one caller at a time.

    kaleido's sync server answers requests in queue order, so two threads rendering at once
    (two Streamlit sessions) could receive each other's images: a lock serialises them. If the
    server thread dies (the browser would not start) a call would wait forever, so each call runs
    in a helper thread that is abandoned after a timeout or as soon as the server thread is dead.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.failure: str | None = None

    def render(self, fig: go.Figure, opts: dict[str, Any], timeout: float) -> bytes:
        import kaleido

        chrome = find_chrome()
        if chrome is None:
            raise ExportUnavailable()
        with self.lock:
            if self.failure is not None:
                raise ExportUnavailable(self.failure)
            # mathjax=False: kaleido would otherwise load MathJax from a CDN; nothing here may use
            # the network, and no chart uses LaTeX.
            kaleido.start_sync_server(silence_warnings=True, path=chrome, mathjax=False)
            outcome: list[Any] = []

            def call() -> None:
                try:
                    outcome.append(kaleido.calc_fig_sync(fig, opts=opts))
                except BaseException as exc:  # handed to the caller below
                    outcome.append(exc)

            worker = threading.Thread(target=call, name="ratings-kaleido-call", daemon=True)
            worker.start()
            waited = 0.0
            while worker.is_alive() and waited < timeout:
                worker.join(0.1)
                waited += 0.1
                if worker.is_alive() and not _server_thread_alive():
                    self.failure = "the browser could not be started (see the log for kaleido's error)"
                    raise ExportUnavailable(self.failure)
            if worker.is_alive():
                # The abandoned request may still answer later and would be paired with the next
                # one: the server cannot be trusted again in this process.
                self.failure = f"the browser did not answer within {timeout:.0f} seconds"
                raise ExportUnavailable(self.failure)
        result = outcome[0]
        if isinstance(result, BaseException):
            raise result
        return bytes(result)


def _server_thread_alive() -> bool:
    """Whether kaleido's server thread still runs (private API: assume alive if it moved)."""
    import kaleido

    thread = getattr(getattr(kaleido, "_global_server", None), "_thread", None)
    return thread is None or bool(thread.is_alive())


_server = _KaleidoServer()


def figure_bytes(
    fig: go.Figure,
    fmt: str,
    *,
    width: int = 1200,
    height: int | None = None,
    scale: float = 2,
) -> bytes:
    """The figure as PNG, SVG or standalone HTML bytes.

    `height` defaults to the figure's own layout height. `scale` multiplies the pixels of a PNG,
    lowered as needed to keep its longer side within :data:`MAX_PNG_SIDE` (a chart of hundreds
    of tickers is tall); an SVG is vector and keeps the figure's size. HTML ignores the size
    options: it is interactive and embeds plotly.js (no CDN). PNG/SVG raise
    :class:`ExportUnavailable` when no browser is available, before anything is started, and
    :class:`ExportFailed` when the browser's answer is not an image.
    """
    fmt = fmt.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(f"unknown figure format {fmt!r}; use one of {', '.join(FORMATS)}")
    if fmt == "html":
        return fig.to_html(include_plotlyjs=True, full_html=True, include_mathjax=False).encode("utf-8")
    if fmt == "png":
        longest = max(width, height or fig.layout.height or 500)
        scale = min(scale, MAX_PNG_SIDE / longest)
    opts: dict[str, Any] = {"format": fmt, "width": width, "scale": scale if fmt == "png" else 1}
    if height is not None:
        opts["height"] = height
    image = _server.render(fig, opts, RENDER_TIMEOUT)
    if _SIGNATURES[fmt] not in image[:512]:
        raise ExportFailed(f"the browser returned no {fmt.upper()} image ({len(image)} bytes); HTML export still works")
    return image


def _neutralise(values: pd.Series) -> pd.Series:
    """Prefix an apostrophe to text cells a spreadsheet would run as a formula; leave the rest alone."""
    if isinstance(values.dtype, pd.CategoricalDtype) or pd.api.types.is_object_dtype(values):
        # Mixed columns: only real strings are text; a float in an object column stays a number.
        return values.astype(object).map(lambda v: "'" + v if isinstance(v, str) and _FORMULA.match(v) else v)
    if pd.api.types.is_string_dtype(values):
        risky = values.str.match(_FORMULA.pattern).fillna(False).astype(bool)
        return values.mask(risky, "'" + values)
    return values


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV (RFC 4180, CRLF lines), no index; unknown values are empty cells; no cell runs as a formula.

    Numeric columns are written as numbers (an upside of -0.18 stays -0.18); in text columns a
    cell starting with = + - @ TAB or CR (also after white space, or full-width) gets a leading
    apostrophe (OWASP CSV injection).
    """
    safe = pd.DataFrame({name: _neutralise(frame[name]) for name in frame.columns}, index=frame.index)
    safe.columns = ["'" + str(c) if _FORMULA.match(str(c)) else str(c) for c in frame.columns]  # headers are text too
    buffer = StringIO()
    # CRLF as RFC 4180 says: Python's csv writer quotes a field containing any character of the
    # line terminator, so with CRLF a carriage return inside a cell is quoted rather than
    # splitting the row in a spreadsheet.
    safe.to_csv(buffer, index=False, na_rep="", lineterminator="\r\n")
    return buffer.getvalue().encode("utf-8")


def contract_frame(table: pd.DataFrame) -> pd.DataFrame:
    """The public CSV contract: :data:`ratings.schema.CSV_COLUMNS` in order (upside as fractions)."""
    missing = [c for c in CSV_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"the table lacks the CSV contract's columns {missing}")
    return table[list(CSV_COLUMNS)].reset_index(drop=True)


def _safe_part(text: str) -> str:
    return _UNSAFE_NAME_CHARS.sub("_", text)


def export_filename(
    kind: str,
    tickers: Sequence[str],
    as_of: str | None,
    ext: str,
    *,
    scope: Sequence[str] = (),
    today: date | None = None,
) -> str:
    """'upside_F-TSLA-NVDA_2026-07-02.png': what, which tickers, the date of the data.

    Over five tickers, the first five and how many more ('top-bottom_sp500_Energy_XOM-CVX-COP-EOG-SLB+17_...');
    `scope` names the universe and filters the tickers were chosen by. Every name is dated: the
    data's `as_of`, else the day of the export (`today`, by default today in UTC). Only letters,
    digits and '.', '_', '-', '+' survive; anything else becomes '_'.
    """
    unique = list(dict.fromkeys(str(t) for t in tickers if str(t)))
    parts = [kind, *(str(s) for s in scope if str(s))]
    if unique:
        more = len(unique) - MAX_TICKERS_IN_NAME
        parts.append("-".join(unique[:MAX_TICKERS_IN_NAME]) + (f"+{more}" if more > 0 else ""))
    parts.append(as_of or (today or datetime.now(UTC).date()).isoformat())
    # The date goes last and must survive the length cut: cut the middle, keep the day.
    stem = "_".join(_safe_part(p) for p in parts if p).lstrip(".")
    if len(stem) > _MAX_STEM:
        day = _safe_part(parts[-1])
        stem = stem[: _MAX_STEM - len(day) - 1].rstrip("_") + "_" + day
    stem = stem or "export"
    suffix = _safe_part(ext.lower().lstrip("."))
    return f"{stem}.{suffix}" if suffix else stem


def bundle_as_of(table: pd.DataFrame) -> str | None:
    """The latest day-precise ``as_of`` of `table` ('2026-07-02'); None when it has none."""
    if "as_of" not in table.columns or table.empty:
        return None
    dates = table["as_of"].dropna().astype(str)
    days = dates[day_mask(dates)]
    return str(days.max()) if not days.empty else None


def write_figure(fig: go.Figure, path: Path, fmt: str, **kw: Any) -> Path:
    """Write :func:`figure_bytes` to `path` (parent folders created); returns the path."""
    data = figure_bytes(fig, fmt, **kw)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """Write :func:`csv_bytes` to `path` (parent folders created); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(csv_bytes(frame))
    return path
