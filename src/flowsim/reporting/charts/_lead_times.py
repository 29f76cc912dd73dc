"""Lead times of the customers who went live, and percentile lines to read them against:
what the lead-time scatter and the ageing-WIP chart (:mod:`.flow`) share."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from flowsim.model.calendar import DAYS_PER_WEEK
from flowsim.reporting.charts.base import _customers, _margin_label, _spread, _warmup_weeks
from flowsim.storage import StudyResults


def _percentile_label(q: float, value: float) -> str:
    """How a percentile line is labelled, e.g. ``85%: 63 days``."""
    return f"{q:g}%: {value:.0f} days"


def _went_live(study: StudyResults, scenario: str) -> pd.DataFrame:
    """Customers of ``scenario`` who went live during the run (not the initial live ones).

    Columns ``replication``, ``onboarding_day``, ``live_day``, ``lead_days``
    (working days from onboarding start to go-live) and ``in_window`` (went live
    after the warm-up, as the summary metrics count).
    """
    cust = _customers(study, scenario)
    done = cust[cust["live_day"].notna() & cust["onboarding_day"].notna()]
    done = done[done["live_day"] > 0]  # the initial customers were live at day 0
    warmup_days = _warmup_weeks(study, scenario) * DAYS_PER_WEEK
    return pd.DataFrame(
        {
            "replication": done["replication"].to_numpy(),
            "onboarding_day": done["onboarding_day"].to_numpy(dtype=float),
            "live_day": done["live_day"].to_numpy(dtype=float),
            "lead_days": (done["live_day"] - done["onboarding_day"]).to_numpy(dtype=float),
            "in_window": (done["live_day"] >= warmup_days).to_numpy(),
        }
    )


def _percentile_lines(
    ax: Axes, lead_days: np.ndarray, percentiles: Sequence[float], bands: bool = False
) -> None:
    """Horizontal lines at the percentiles of ``lead_days``, labelled in the margin right
    of the axes, outside the data (and in the legend); with ``bands``, the stretches
    between them shaded green to red.  The figure needs room on its right for the
    labels (a constrained layout makes it)."""
    styles = ("--", "-.", ":", (0, (5, 1, 1, 1)))
    colours = ("#1b5e20", "#e65100", "#b71c1c", "#4a148c")
    band_colours = ("#c8e6c9", "#fff9c4", "#ffe0b2", "#ffcdd2")
    lines = [
        (q, float(np.percentile(lead_days, q)), colours[i % 4], styles[i % 4])
        for i, q in enumerate(percentiles)
    ]
    if bands:
        edges = [0.0, *sorted(value for _, value, _, _ in lines)]
        for i, (low, high) in enumerate(zip(edges, edges[1:], strict=False)):
            ax.axhspan(low, high, color=band_colours[i % 4], lw=0, zorder=0)
    for q, value, colour, style in lines:
        label = _percentile_label(q, value)
        ax.axhline(value, ls=style, color=colour, lw=1.4, label=label, zorder=2)
    # Room above the highest line; the labels in the right margin, outside the data
    # area (they never cover a dot), nudged apart where lines are close.
    ax.relim()
    ax.autoscale_view()
    low, high = ax.get_ylim()
    low, high = min(low, 0.0), max(high, max(v for _, v, _, _ in lines) * 1.12)
    ax.set_ylim(low, high)
    values = [value for _, value, _, _ in lines]
    for (q, value, colour, _), y in zip(
        lines, _spread(values, 0.06 * (high - low), low, high), strict=True
    ):
        _margin_label(ax, y, _percentile_label(q, value), colour, size=9)
