"""Data in words for people, one kind of text a module; every name is importable from here.

* :mod:`~ratings.formatting.values`: single values: money with its currency symbol, percentages,
  counts with thousands separators, dates (a year-only date says so), ages; an em dash for unknown;
* :mod:`~ratings.formatting.tables`: the text cells every view builds (dashboard and terminal
  alike), the overview's table, analysts' actions, what moved (target moves worded in their currency);
* :mod:`~ratings.formatting.status`: a dataset's name, label and load warnings; a stale refresh;
* :mod:`~ratings.formatting.estimates`: analysts' estimates: periods, EPS and revenue in their
  currency, revisions, earnings surprises, beat rates;
* :mod:`~ratings.formatting.track_record`: analysts' track record: success rates with their intervals,
  each call's outcome, what was not scored and why, price targets checked, the bias-aware upside.

The layers below return numbers and records; only this package turns them into sentences.
"""

from __future__ import annotations

from . import estimates, status, tables, track_record, values
from .estimates import *  # noqa: F403
from .status import *  # noqa: F403 - the package's names are its modules' public names
from .tables import *  # noqa: F403
from .track_record import *  # noqa: F403
from .values import *  # noqa: F403

__all__ = [*values.__all__, *tables.__all__, *status.__all__, *estimates.__all__, *track_record.__all__]
