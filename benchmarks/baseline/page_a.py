"""Baseline page a."""

from common import draw

draw("Page a", 20)
