"""Text on its way into Streamlit's Markdown: user and data text escaped, our own docstrings converted.

Every text that comes from a user or from data goes through :func:`md` before it reaches a
Streamlit element that renders Markdown (``st.markdown``, ``st.caption``, ``st.warning``, ...):
Streamlit renders no raw HTML there, but Markdown links, emphasis and ``$...$`` (LaTeX) would
still change what the reader sees.
"""

from __future__ import annotations

import inspect
import re
import textwrap
from collections.abc import Iterable

# Everything Markdown (CommonMark + GFM + Streamlit's $ LaTeX and :emoji:/:material: shortcodes)
# might interpret. Backslash-escaping an ASCII punctuation character is always allowed.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:&=^\"'])")


def md(text: object) -> str:
    """`text` as literal Markdown: every character that could format, link or run LaTeX is escaped."""
    plain = " ".join(str(text).split())  # no newlines: a line break could start a heading or list
    return _MARKDOWN_SPECIAL.sub(r"\\\1", plain)


def md_list(values: Iterable[object]) -> str:
    """'F, TSLA and NVDA', each escaped."""
    items = [md(v) for v in values]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def rst_to_markdown(doc: str | None) -> list[tuple[str, str]]:
    """Split a module docstring into (heading, Markdown body) sections; the intro has heading ''.

    Understands what ``ratings.core``'s docstring uses: definition-list sections (a heading line,
    then an indented body), ``::`` literal blocks and ``inline literals``. The text is ours, not
    a user's, so it is rendered as Markdown; ``$`` is still escaped so prices never turn to LaTeX.
    """
    lines = inspect.cleandoc(doc or "").splitlines()
    sections: list[tuple[str, list[str]]] = [("", [])]
    for i, line in enumerate(lines):
        following = lines[i + 1] if i + 1 < len(lines) else ""
        is_heading = line and not line[0].isspace() and following.startswith(" ")
        if is_heading:
            sections.append((line.strip(), []))
        else:
            sections[-1][1].append(line)
    out: list[tuple[str, str]] = []
    for heading, body in sections:
        text = _literal_blocks(textwrap.dedent("\n".join(body)).strip())
        text = re.sub(r"``(.+?)``", r"`\1`", text).replace("$", r"\$")
        if heading or text:
            out.append((heading, text))
    return out


def _literal_blocks(text: str) -> str:
    """RST ``::`` + indented block -> ':' + fenced code block."""
    out: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.rstrip().endswith("::"):
            out.append(line.rstrip()[:-1])
            block: list[str] = []
            i += 1
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith(" ")):
                block.append(lines[i])
                i += 1
            out += ["", "```text", textwrap.dedent("\n".join(block)).strip("\n"), "```", ""]
            continue
        out.append(line)
        i += 1
    return "\n".join(out)
