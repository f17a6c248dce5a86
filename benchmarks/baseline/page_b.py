"""Baseline page b."""

from common import draw

draw("Page b", 60)
