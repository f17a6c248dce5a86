"""Baseline page c."""

from common import draw

draw("Page c", 120)
