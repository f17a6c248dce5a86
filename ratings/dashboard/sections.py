"""A page in tabs of which only the open one runs and is drawn.

The browser's drawing is most of a page switch (every Plotly chart and data grid costs it tens of
milliseconds to lay out), so a long page shows its first section and draws another only when its
tab is opened. Which tab is open is remembered across page switches and carried by the address
(``?section=history``), so a shared link opens the same view.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import streamlit as st

from .links import link_choice
from .state import remember, seed_widget, set_query_param


@dataclass(frozen=True)
class Sections:
    """The tabs of one page: which is open, and each one's container by its address name."""

    open: str
    containers: Mapping[str, st.delta_generator.DeltaGenerator]

    def __getitem__(self, name: str) -> st.delta_generator.DeltaGenerator:
        return self.containers[name]


def sections(titles: Mapping[str, str], *, key: str, param: str) -> Sections:
    """Tabs titled by `titles`' values, named in the address by its keys (the first is the default).

    Only the open tab's content should be drawn: ``if shown.open == "history": with shown["history"]: ...``.
    Switching tabs reruns the page, which is quick: every frame and figure comes from the caches.
    """
    names = list(titles)
    by_title = {title: name for name, title in titles.items()}
    seed_widget(key, lambda: titles[link_choice(param, names, names[0], f"the {titles[names[0]]} tab is open")])
    if st.session_state[key] not in by_title:  # a remembered tab this page no longer has
        st.session_state[key] = titles[names[0]]
    tabs = st.tabs(list(titles.values()), key=key, on_change="rerun")
    remember(key)
    open_name = by_title.get(st.session_state[key], names[0])
    set_query_param(param, None if open_name == names[0] else open_name)
    return Sections(open_name, dict(zip(names, tabs, strict=True)))
