"""A bar chart as plain SVG shapes, computed on the server (the CSP allows no script)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

WIDTH, HEIGHT, AXIS = 600, 160, 20  # viewBox units; AXIS is the strip under the bars


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    day: date
    pence: int


@dataclass(frozen=True, slots=True)
class BarChart:
    bars: list[Bar]
    peak_pence: int
    width: int = WIDTH
    height: int = HEIGHT
    axis: int = AXIS


def bar_chart(points: Sequence[tuple[date, int]]) -> BarChart:
    """One bar per day, heights proportional to the day's amount (negative days draw as zero);
    the tallest bar fills the plot area."""
    peak = max((max(p, 0) for _, p in points), default=0)
    plot = HEIGHT - AXIS
    slot = WIDTH / max(len(points), 1)
    bars = []
    for n, (day, pence) in enumerate(points):
        tall = 0.0 if peak == 0 else plot * max(pence, 0) / peak
        bars.append(
            Bar(
                round(n * slot + 1, 2),
                round(plot - tall, 2),
                round(slot - 2, 2),
                round(tall, 2),
                day,
                pence,
            )
        )
    return BarChart(bars, peak)
