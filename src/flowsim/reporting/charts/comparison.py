"""Scenarios against the reference: the forest plot of paired differences."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from flowsim.model.catalogue import describe_metric
from flowsim.reporting.charts.base import (
    ChartFigure,
    NotApplicable,
    _money,
    _note,
    _tick_name,
    scenario_colours,
)
from flowsim.storage import StudyResults


def forest_plot(study: StudyResults, metrics: Sequence[str] | None = None) -> Figure:
    """Paired differences from the reference scenario, with 95% CIs, one panel per metric.

    From ``study.differences``: for each scenario but the reference, the mean of the
    paired (same-seed) differences and its interval, coloured by scenario; a filled
    marker means the interval excludes zero, a hollow one that it does not (or
    that there is no interval).  Shares are shown in percentage points, money with
    k/M.  "n/a" marks a difference that is undefined (e.g. a lead time with no
    go-live).

    Parameters
    ----------
    study : StudyResults
    metrics : sequence of str, optional
        Default: the study's metrics (``study.metrics``).

    Returns
    -------
    Figure
        One axes per metric (unused grid cells are hidden).

    Examples
    --------
    >>> from flowsim.storage import read_study
    >>> study = read_study("results/slow_down_to_speed_up")  # doctest: +SKIP
    >>> forest_plot(study, ["go_lives_per_quarter", "arr_at_horizon"])  # doctest: +SKIP
    """
    chosen = list(study.metrics if metrics is None else metrics)
    names = [n for n in study.names if n != study.reference]
    diffs = study.differences
    if not names or diffs.empty or not chosen:
        raise NotApplicable("nothing to compare: the study has no scenario besides the reference")
    unknown = [m for m in chosen if m not in set(diffs["metric"])]
    if unknown:
        raise ValueError(f"no paired differences for metric(s) {', '.join(unknown)}")
    colours = scenario_colours(study.names)
    ncols = min(4, len(chosen))
    nrows = math.ceil(len(chosen) / ncols)
    fig = ChartFigure(
        figsize=(2.9 * ncols + 1.6, 1.4 + nrows * (1.2 + 0.34 * len(names))),
        layout="constrained",
    )
    axes = fig.subplots(nrows, ncols, sharey=True, squeeze=False)
    y = np.arange(len(names))[::-1].astype(float)
    for ax, metric in zip(axes.flat, chosen, strict=False):
        meaning, unit = describe_metric(metric)
        scale = 100.0 if unit == "share" else 1.0
        unit_text = "percentage points" if unit == "share" else unit or "value"
        rows = diffs[diffs["metric"] == metric].set_index("scenario").reindex(names)
        ax.axvline(0, color="#333333", lw=1, zorder=1)
        ax.set_title(f"{metric}\n{textwrap.fill(meaning, 34)}", fontsize=9)
        ax.set_xlabel(f"difference ({unit_text})", fontsize=9)
        if rows["diff"].isna().all():
            ax.set_xlim(-1, 1)
            ax.set_xticks([0.0])
            _note(
                ax,
                f"undefined for every scenario:\nno value in {study.reference!r}\n"
                "in some replication\n(e.g. no go-live)",
                small=True,
            )
            continue
        for yi, name in zip(y, names, strict=True):
            d, lo, hi = (float(rows.at[name, c]) * scale for c in ("diff", "ci_low", "ci_high"))
            if math.isnan(d):
                ax.text(
                    0,
                    yi,
                    "n/a",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="#777777",
                    bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "lw": 0},
                )
                continue
            has_ci = not (math.isnan(lo) or math.isnan(hi))
            significant = has_ci and (lo > 0 or hi < 0)
            xerr = np.array([[d - lo], [hi - d]]) if has_ci else None
            ax.errorbar(
                [d],
                [yi],
                xerr=xerr,
                fmt="o",
                color=colours[name],
                ms=6,
                mfc=colours[name] if significant else "white",
                mew=1.5,
                elinewidth=1.6,
                capsize=3,
                label=name,
            )
        if unit.startswith("currency"):
            ax.xaxis.set_major_formatter(FuncFormatter(_money))
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4, symmetric=False))
        ax.tick_params(axis="x", labelsize=8)
        ax.grid(axis="x", color="#eeeeee")
        _pad_around_zero(ax)
    for ax in list(axes.flat)[len(chosen) :]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_yticks(y, [_tick_name(n) for n in names])
        ax.set_ylim(-0.6, len(names) - 0.4)
    fig.suptitle(
        f"Difference from {study.reference!r} per scenario, paired by replication: "
        "mean and 95% CI\n(filled: the interval excludes zero; hollow: too wide to call)",
        fontsize=11,
    )
    return fig


def _pad_around_zero(ax: Axes) -> None:
    """Keep zero inside the x range, with a little room either side."""
    low, high = ax.get_xlim()
    low, high = min(low, 0.0), max(high, 0.0)
    pad = 0.08 * (high - low or 1.0)
    ax.set_xlim(low - pad, high + pad)
