"""Charts of a sensitivity study: what drives each metric (a tornado per metric), and
where each policy wins against the reference."""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from flowsim.model.catalogue import describe_metric
from flowsim.reporting.charts.base import ChartFigure

WIN, UNCALLED, LOSE = "#2e7d32", "#b0bec5", "#c62828"


def driver_bars(rows: pd.DataFrame, panels: str, title: str) -> Figure:
    """One panel per value of ``panels`` (``metric`` or ``scenario``): the assumptions'
    importance, largest on top, with 95% intervals."""
    names = list(dict.fromkeys(rows[panels]))
    cols = min(3, len(names))
    nrows = math.ceil(len(names) / cols)
    n_assumptions = rows["assumption"].nunique()
    fig = ChartFigure(
        figsize=(4.6 * cols, (0.32 * n_assumptions + 1.2) * nrows + 0.6), layout="constrained"
    )
    axes = fig.subplots(nrows, cols, squeeze=False).ravel()
    for ax, name in zip(axes, names, strict=False):
        mine = rows[rows[panels] == name].sort_values("importance")
        if mine["importance"].isna().all():
            ax.text(0.5, 0.5, "not measurable at every point", ha="center", va="center")
            ax.set_axis_off()
        else:
            y = np.arange(len(mine))
            ax.barh(
                y,
                mine["importance"],
                xerr=mine["importance_conf"],
                color="#1565c0",
                ecolor="#424242",
                capsize=2,
            )
            ax.set_yticks(y, mine["assumption"], fontsize=8)
            ax.set_xlim(left=0)
            ax.grid(axis="x", alpha=0.3)
            ax.tick_params(axis="x", labelsize=8)
        if panels == "metric":
            meaning, unit = describe_metric(name)
            # The catalogue's meaning alone can be cryptic ("kept / (kept + broken)").
            heading = f"{name}\n" + textwrap.fill(meaning + (f" ({unit})" if unit else ""), 42)
        else:
            heading = name
        ax.set_title(heading, fontsize=9)
    for ax in axes[len(names) :]:
        ax.set_visible(False)
    fig.suptitle(title, fontsize=11)
    return fig


def outcome_bars(shares: pd.DataFrame, rules: pd.DataFrame, metric: str, reference: str) -> Figure:
    """Per policy: the share of the assumption space where it wins, cannot be called, or
    loses against the reference on ``metric``, and the rule for where it wins."""
    mine = shares[shares["metric"] == metric].reset_index(drop=True)
    fig = ChartFigure(figsize=(11, 0.55 * len(mine) + 1.6), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(len(mine))[::-1]
    left = np.zeros(len(mine))
    for col, colour, label in (
        ("wins", WIN, "wins"),
        ("uncalled", UNCALLED, "cannot be called"),
        ("loses", LOSE, "loses"),
    ):
        values = mine[col].to_numpy(dtype=float)
        ax.barh(y, values, left=left, color=colour, label=label, height=0.7)
        left += values
    for k, r in mine.iterrows():
        where = rules[(rules["policy"] == r["policy"]) & (rules["metric"] == metric)]
        text = "; ".join(where["rule"].head(2))
        ax.text(1.02, y[k], textwrap.shorten(text, 70), va="center", fontsize=7.5, color="#37474f")
        if r["loses"] >= 0.06:
            ax.text(
                0.99, y[k], f"{r['loses']:.0%}", ha="right", va="center", fontsize=8,
                color="white", weight="bold",
            )  # fmt: skip
        if r["wins"] >= 0.06:
            ax.text(
                0.01,
                y[k],
                f"{r['wins']:.0%}",
                va="center",
                fontsize=8,
                color="white",
                weight="bold",
            )
    ax.set_yticks(y, mine["policy"], fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0], ["0%", "25%", "50%", "75%", "100%"])
    ax.set_xlabel(f"share of the assumption space (points), against {reference}")
    fig.legend(loc="outside lower center", ncol=3, frameon=False, fontsize=8)
    meaning, _ = describe_metric(metric)
    fig.suptitle(
        f"Where each policy wins on {meaning} (paired 95% CI); right: where it wins", fontsize=10
    )
    return fig
