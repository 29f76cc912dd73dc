"""Where capacity goes: the lead's week by activity, and contractors' and engineers' time."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from flowsim.model.catalogue import LEAD_ACTIVITIES
from flowsim.reporting.charts.base import (
    ChartFigure,
    NotApplicable,
    _config,
    _scenario_list,
    _tick_name,
)
from flowsim.storage import StudyResults

ACTIVITY_COLOURS: dict[str, str] = {
    "onboarding": "#2e7d32",
    "tickets": "#1f77b4",
    "calls": "#ff7f0e",
    "specs_reviews": "#9467bd",
    "mentoring": "#e377c2",
    "platform": "#17becf",
    "switching": "#bcbd22",
    "escalations": "#d62728",
    "idle": "#d0d0d0",
}
"""One colour per activity of the lead's week, in ``LEAD_ACTIVITIES`` order."""

ACTIVITY_LABELS: dict[str, str] = {
    "onboarding": "onboarding work",
    "tickets": "tickets",
    "calls": "status calls",
    "specs_reviews": "specs and reviews",
    "mentoring": "mentoring",
    "platform": "platform",
    "switching": "context switching",
    "escalations": "escalations",
    "idle": "idle",
}
"""How each activity of the lead's week is named in legends."""


def _stacked_bars(
    ax: Axes,
    y: np.ndarray,
    parts: list[tuple[str, np.ndarray, str, str]],
    min_label: float,
    fmt: str,
) -> np.ndarray:
    """Horizontal stacked bars, one (label, widths, colour, text colour) part after
    another, each segment of at least ``min_label`` carrying its value; returns the
    bars' total lengths."""
    left = np.zeros(len(y))
    for label, width, colour, text_colour in parts:
        ax.barh(
            y,
            width,
            left=left,
            height=0.72,
            color=colour,
            label=label,
            edgecolor="white",
            linewidth=0.5,
        )
        for yi, x0, w in zip(y, left, width, strict=True):
            if w >= min_label:
                ax.text(
                    x0 + w / 2,
                    yi,
                    fmt.format(w),
                    ha="center",
                    va="center",
                    fontsize=8,
                    color=text_colour,
                )
        left = left + width
    return left


def lead_week(study: StudyResults, scenarios: Sequence[str] | None = None) -> Figure:
    """The lead's week by activity: one stacked bar per scenario.

    Each segment is the mean over replications of ``lead_<activity>_hours_per_week``
    (hours per week after the warm-up), activities in the fixed order of
    ``LEAD_ACTIVITIES`` with the fixed colours of :data:`ACTIVITY_COLOURS`; a bar
    adds up to the lead's capacity, drawn as a black tick per scenario.  Segments of
    3 hours or more carry their value.

    Parameters
    ----------
    study : StudyResults
    scenarios : sequence of str, optional
        Default: every scenario, in study order (top to bottom).

    Returns
    -------
    Figure

    Examples
    --------
    >>> from flowsim.storage import read_study
    >>> study = read_study("results/slow_down_to_speed_up")  # doctest: +SKIP
    >>> lead_week(study, ["baseline", "wip[limit=4]"]).savefig("lead_week.png")  # doctest: +SKIP
    """
    names = _scenario_list(study, scenarios)
    columns = [f"lead_{a}_hours_per_week" for a in LEAD_ACTIVITIES]
    missing = [c for c in columns if c not in study.per_rep.columns]
    if missing:
        raise NotApplicable(f"the study has no lead hours ({', '.join(missing)})")
    rows = study.per_rep[study.per_rep["scenario"].isin(names)]
    means = rows.groupby("scenario")[columns].mean().reindex(names)
    y = np.arange(len(names))[::-1].astype(float)

    fig = ChartFigure(figsize=(11, 1.5 + 0.55 * len(names)), layout="constrained")
    ax = fig.subplots()
    dark = ("onboarding", "tickets", "specs_reviews", "escalations")
    left = _stacked_bars(
        ax,
        y,
        [
            (
                ACTIVITY_LABELS[a],
                means[c].fillna(0).to_numpy(dtype=float),
                ACTIVITY_COLOURS[a],
                "white" if a in dark else "black",
            )
            for a, c in zip(LEAD_ACTIVITIES, columns, strict=True)
        ],
        min_label=3,
        fmt="{:.0f}",
    )
    capacity = np.array(
        [
            float(_config(study, n).get("lead", {}).get("capacity_hours_per_week", math.nan))
            for n in names
        ]
    )
    ax.vlines(capacity, y - 0.45, y + 0.45, color="black", lw=2.2, label="capacity (hours/week)")
    ax.set_yticks(y, [_tick_name(n) for n in names])
    ax.set_xlabel("lead's hours per week (hours/week, mean over replications, after warm-up)")
    ax.set_xlim(0, np.nanmax([*left, *capacity, 1.0]) * 1.03)
    ax.set_title("Where the lead's week goes, by activity")
    handles, labels = ax.get_legend_handles_labels()
    order = [labels.index(ACTIVITY_LABELS[a]) for a in LEAD_ACTIVITIES]
    order.append(labels.index("capacity (hours/week)"))
    fig.legend(
        [handles[i] for i in order],
        [labels[i] for i in order],
        loc="outside right upper",
        fontsize=9,
        title="activity",
        title_fontsize=9,
    )
    return fig


def contractor_time(study: StudyResults, scenarios: Sequence[str] | None = None) -> Figure:
    """Contractors' and engineers' time: working, blocked on the lead, otherwise idle.

    One bar per scenario summing to 100%: ``contractor_busy_share``,
    ``contractor_blocked_share`` (idle while a delegated task waits for the lead's
    spec or review) and the rest (idle with nothing to do), means over
    replications after the warm-up.  A scenario without contractors or engineers
    gets a note instead of a bar.

    Parameters
    ----------
    study : StudyResults
    scenarios : sequence of str, optional
        Default: every scenario, in study order (top to bottom).

    Returns
    -------
    Figure

    Examples
    --------
    >>> from flowsim.storage import read_study
    >>> study = read_study("results/slow_down_to_speed_up")  # doctest: +SKIP
    >>> contractor_time(study).savefig("contractors.png")  # doctest: +SKIP
    """
    names = _scenario_list(study, scenarios)
    columns = ["contractor_busy_share", "contractor_blocked_share"]
    if any(c not in study.per_rep.columns for c in columns):
        raise NotApplicable("the study has no contractor shares")
    rows = study.per_rep[study.per_rep["scenario"].isin(names)]
    means = rows.groupby("scenario")[columns].mean().reindex(names)
    busy = means["contractor_busy_share"].to_numpy(dtype=float)
    blocked = means["contractor_blocked_share"].to_numpy(dtype=float)
    other = np.clip(1 - busy - blocked, 0, None)
    y = np.arange(len(names))[::-1].astype(float)

    fig = ChartFigure(figsize=(11, 1.5 + 0.55 * len(names)), layout="constrained")
    ax = fig.subplots()
    parts = [
        ("working", np.nan_to_num(busy), "#2e7d32", "white"),
        (
            "blocked: waiting for the lead's spec or review",
            np.nan_to_num(blocked),
            "#d62728",
            "white",
        ),
        ("idle, nothing to do", np.nan_to_num(other), "#d0d0d0", "black"),
    ]
    _stacked_bars(ax, y, parts, min_label=0.06, fmt="{:.0%}")
    for yi, b in zip(y, busy, strict=True):
        if math.isnan(b):
            ax.text(
                0.01, yi, "no contractors or engineers", va="center", fontsize=9, color="#555555"
            )
    ax.set_yticks(y, [_tick_name(n) for n in names])
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("share of contractors' and engineers' time (%, mean over replications)")
    ax.set_title("Contractors and engineers: working, blocked on the lead, or idle")
    fig.legend(loc="outside lower center", ncols=3, fontsize=9)
    return fig
