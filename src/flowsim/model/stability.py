"""Did a run settle?  The trend of its open work over the steady-state window.

A run whose open work keeps growing has no steady state: every average over its
window depends on how long the window is.  ``open_work_trend`` fits the growth of
the daily count of open work items with a confidence interval, and ``unstable`` says
whether that growth is both real and large enough to matter.

The interval comes from batch means (Law, *Simulation Modeling and Analysis*,
sec. 9.5.3): the window's daily samples are cut into ``BATCHES`` consecutive batches,
whose means are far less autocorrelated than the days themselves, and the slope of
those means against time is fitted by least squares, with a Student-t interval on
``BATCHES - 2`` degrees of freedom.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

BATCHES = 10
T_975 = 2.306  # Student t, 97.5th percentile, 8 degrees of freedom (BATCHES - 2)
GROWTH_SHARE = 0.25
"""A run is unstable when its open work grows, over the window, by more than this share
of its mean level (and by more than MIN_GROWTH items), with an interval that excludes
no growth.  An assumption: a queue that a quarter of its own size piles onto within the
window is not one a person would call settled."""
MIN_GROWTH = 10.0


class Trend(NamedTuple):
    """Growth of a daily series over a window, per week, with its 95% interval."""

    per_week: float
    low: float
    high: float
    mean: float
    weeks: float

    @property
    def unstable(self) -> bool:
        growth = self.per_week * self.weeks
        return self.low > 0 and growth > max(GROWTH_SHARE * self.mean, MIN_GROWTH)


def trend(days: np.ndarray, values: np.ndarray, days_per_week: float) -> Trend:
    """The trend of ``values`` sampled on ``days`` (the window's days only), per week."""
    n = len(days)
    weeks = (days[-1] - days[0]) / days_per_week if n > 1 else 0.0
    mean = float(np.mean(values)) if n else math.nan
    if n < 2 * BATCHES:
        return Trend(math.nan, math.nan, math.nan, mean, weeks)
    size = n // BATCHES
    x = np.asarray(days[: size * BATCHES], dtype=float).reshape(BATCHES, size).mean(axis=1)
    y = np.asarray(values[: size * BATCHES], dtype=float).reshape(BATCHES, size).mean(axis=1)
    x = x / days_per_week
    dx = x - x.mean()
    slope = float(np.sum(dx * (y - y.mean())) / np.sum(dx * dx))
    residuals = y - (y.mean() + slope * dx)
    se = math.sqrt(float(np.sum(residuals**2)) / (BATCHES - 2) / float(np.sum(dx * dx)))
    return Trend(slope, slope - T_975 * se, slope + T_975 * se, mean, weeks)
