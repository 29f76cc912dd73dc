"""Charts of a calibration's search: the objective over the trials, and each parameter's
fitted value with its profile range."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter, ScalarFormatter

from flowsim.calibration.search import PROFILE_DELTA
from flowsim.config.calibration import FreeParam
from flowsim.reporting.charts.base import ChartFigure


def search_progress(trials: pd.DataFrame) -> Figure:
    """The objective of every candidate in the order tried, and the best so far.

    The objective is ``sum(weight * z**2)`` over the targets (plus priors): log scale,
    since the first, random candidates can be orders of magnitude off.
    """
    fig = ChartFigure(figsize=(9, 4.2), layout="constrained")
    ax = fig.add_subplot()
    x = trials["trial"].to_numpy(dtype=float)
    y = np.maximum(trials["objective"].to_numpy(dtype=float), 1e-3)
    ax.scatter(x, y, s=14, color="#90a4ae", label="candidate")
    ax.step(x, np.minimum.accumulate(y), where="post", color="#1565c0", lw=2, label="best so far")
    ax.set_yscale("log")
    ax.set_xlabel("candidate (in the order tried)")
    ax.set_ylabel("objective: sum of weight × z² (log)")
    best = float(np.min(y))
    ax.set_title(f"Calibration search: best objective {best:.3g} after {len(trials)} candidates")
    ax.legend(loc="upper right", frameon=False)
    ax.grid(alpha=0.3)
    return fig


def parameter_fits(
    trials: pd.DataFrame,
    free: list[FreeParam],
    best: dict[str, float],
    ranges: dict[str, tuple[float, float]],
) -> Figure:
    """For each free parameter: every candidate's value against its objective, the fitted
    value, and its profile range (the candidates within ``PROFILE_DELTA`` of the best)."""
    n = len(free)
    cols = min(3, n)
    rows = math.ceil(n / cols)
    fig = ChartFigure(figsize=(4.2 * cols, 3.4 * rows + 0.6), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    y = np.maximum(trials["objective"].to_numpy(dtype=float), 1e-3)
    threshold = float(np.min(y)) + PROFILE_DELTA
    for ax, f in zip(axes, free, strict=False):
        x = trials[f.key].to_numpy(dtype=float)
        near = y <= threshold
        ax.scatter(x[~near], y[~near], s=10, color="#b0bec5")
        ax.scatter(x[near], y[near], s=16, color="#1565c0", label=f"within {PROFILE_DELTA} of best")
        lo, hi = ranges[f.key]
        ax.axvspan(lo, hi, color="#1565c0", alpha=0.12, lw=0)
        ax.axvline(best[f.key], color="#c62828", lw=1.5, label=f"fitted {best[f.key]:g}")
        ax.axhline(threshold, color="#616161", lw=0.8, ls="--")
        ax.set_xlim(f.low, f.high)
        if f.log:
            ax.set_xscale("log")
            ax.xaxis.set_major_formatter(ScalarFormatter())
            ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_yscale("log")
        ax.set_title(f"{f.key}\nfitted {best[f.key]:g}, range {lo:.3g}–{hi:.3g}", fontsize=9)
        ax.set_ylabel("objective (log)", fontsize=8)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, frameon=False, loc="upper right")
    for ax in axes[n:]:
        ax.set_visible(False)
    fig.suptitle("Fitted values: candidates by objective; shaded, the approximate 95% range")
    return fig
