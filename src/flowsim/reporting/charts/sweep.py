"""A swept parameter against delivery, with Little's law and, where the model reduces to
it, the M/M/1 formula as references."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from flowsim.model.calendar import DAYS_PER_WEEK, WEEKS_PER_QUARTER
from flowsim.model.params import Params
from flowsim.model.reduction import mm1_time_in_system_days
from flowsim.reporting.charts.base import (
    ChartFigure,
    NotApplicable,
    _config,
    _mean_ci,
    _replications,
    _reps_text,
    _SweepPoint,
    _sweeps,
    scenario_colours,
)
from flowsim.storage import StudyResults


def _stat(study: StudyResults, scenario: str, metric: str) -> tuple[float, float, float]:
    """(mean, ci_low, ci_high) of a metric for a scenario, from ``study.scenarios``."""
    table = study.scenarios
    rows = table[(table["scenario"] == scenario) & (table["metric"] == metric)]
    if rows.empty:
        values = study.per_rep.loc[study.per_rep["scenario"] == scenario, metric]
        values = values.dropna()
        frame = pd.DataFrame({"k": 0, "v": values.to_numpy(dtype=float)})
        if frame.empty:
            return math.nan, math.nan, math.nan
        ci = _mean_ci(frame, "k", "v").iloc[0]
        return float(ci["mean"]), float(ci["low"]), float(ci["high"])
    row = rows.iloc[0]
    return float(row["mean"]), float(row["ci_low"]), float(row["ci_high"])


_KEY_LABELS = {
    "limit": "onboarding WIP limit (onboardings at once)",
    "wip_limit": "lead WIP limit (items at once)",
    "starts_per_month": "onboarding starts per month (customers/month)",
    "capacity_hours_per_week": "lead capacity (hours/week)",
    "contractors": "contractors (people)",
    "engineers": "engineers (people)",
    "support": "support staff (people)",
    "top_n": "items on the daily list (items)",
    "new_customers_per_month": "new customers signed per month (customers/month)",
    "share_of_week": "share of the lead's week on the platform (share)",
}


def _key_label(study: StudyResults, prefix: str, key: str) -> str:
    if key in _KEY_LABELS:
        return _KEY_LABELS[key]
    for sweep in study.manifest.get("experiment", {}).get("sweeps", []) or []:
        if sweep.get("name") == prefix:
            for full in sweep.get("grid", {}):
                if str(full).split(".")[-1] == key:
                    return f"{key.replace('_', ' ')} (value of {full})"
    return f"{key.replace('_', ' ')} (value of {key})"


def sweep_curve(study: StudyResults, sweep: str | None = None) -> Figure:
    """Go-lives per quarter and onboarding lead time against a swept parameter.

    The sweep's scenarios are those named ``<sweep>[<key>=<value>]`` with a numeric
    value (e.g. ``wip[limit=3]``).  Left: go-lives per quarter; right: onboarding
    lead time, 85th percentile (and, thinner, the median), both means with their
    95% CI bands from ``study.scenarios``.  The **knee** is the swept value with the
    highest mean go-lives per quarter (not a curvature estimate), marked with a
    star and a vertical line in both panels.  When the swept key is a WIP limit the
    right panel adds Little's law, W = L/λ: the mean lead time a full WIP of L (the
    limit) implies at the measured throughput λ (go-lives per working day), a
    reference for the mean, which for right-skewed lead times lies between the
    median and the 85th percentile.  The reference scenario, when it is not part of
    the sweep, is a dotted horizontal line.

    Parameters
    ----------
    study : StudyResults
    sweep : str, optional
        The sweep's name prefix; default: the first (in study order) with at least
        3 numeric points.

    Returns
    -------
    Figure
        Two axes; three when every point's config reduces to an M/M/1 queue
        (:func:`flowsim.model.reduction.mm1_time_in_system_days`): the measured mean
        ticket time in system against the formula W = 1/(μ-λ).

    Raises
    ------
    ValueError
        If the study has no such sweep (:class:`NotApplicable`).

    Examples
    --------
    >>> from flowsim.storage import read_study
    >>> study = read_study("results/slow_down_to_speed_up")  # doctest: +SKIP
    >>> sweep_curve(study, "wip").savefig("sweep.png")  # doctest: +SKIP
    """
    sweeps = _sweeps(study.names)
    if sweep is None:
        candidates = [p for p, pts in sweeps.items() if len(pts) >= 3]
        if not candidates:
            raise NotApplicable(
                "no sweep to draw: no scenario prefix has at least 3 scenarios named like "
                "'<sweep>[<key>=<number>]' (e.g. 'wip[limit=3]'); scenarios: "
                + ", ".join(study.names)
            )
        sweep = candidates[0]
    if sweep not in sweeps:
        raise NotApplicable(
            f"no scenario named like '{sweep}[<key>=<number>]'; sweeps in this study: "
            + (", ".join(sweeps) or "none")
        )
    points = sweeps[sweep]
    keys = {p.key for p in points}
    if len(keys) > 1:
        raise ValueError(f"sweep {sweep!r} mixes keys {sorted(keys)}; draw one key at a time")
    key = points[0].key
    x = np.array([p.value for p in points])
    colours = scenario_colours(study.names)
    line_colour = colours[points[len(points) // 2].name]
    golives = np.array([_stat(study, p.name, "go_lives_per_quarter") for p in points])
    p85 = np.array([_stat(study, p.name, "onboarding_lead_time_p85_days") for p in points])
    p50 = np.array([_stat(study, p.name, "onboarding_lead_time_p50_days") for p in points])

    mm1 = [_mm1_reference(_config(study, p.name)) for p in points]
    reduced = all(w is not None for w in mm1)
    fig = ChartFigure(figsize=(17 if reduced else 12, 5.2), layout="constrained")
    if reduced:
        ax_live, ax_lead, ax_mm1 = fig.subplots(1, 3, sharex=True)
        tickets = np.array([_stat(study, p.name, "ticket_resolution_mean_days") for p in points])
        _curve(ax_mm1, x, tickets, line_colour, "ticket time in system, mean", points, colours)
        ax_mm1.plot(
            x,
            mm1,
            color="black",
            ls="--",
            lw=1.4,
            marker="x",
            label="M/M/1: W = 1/(μ-λ)",
        )
        ax_mm1.set_ylabel("ticket time in system (working days)")
        ax_mm1.set_title("The model reduced to M/M/1, against the formula")
    else:
        ax_live, ax_lead = fig.subplots(1, 2, sharex=True)
    _curve(ax_live, x, golives, line_colour, "go-lives per quarter", points, colours)
    _curve(ax_lead, x, p85, line_colour, "lead time, 85th percentile", points, colours)
    _curve(ax_lead, x, p50, line_colour, "lead time, median", points, colours, thin=True)
    if "limit" in key.lower():
        rate = golives[:, 0] / (WEEKS_PER_QUARTER * DAYS_PER_WEEK)  # go-lives per working day
        with np.errstate(divide="ignore", invalid="ignore"):
            littles = np.where(rate > 0, x / rate, np.nan)
        ax_lead.plot(
            x, littles, color="black", ls="--", lw=1.4, marker="x", label="Little's law: L/λ"
        )
    ref = study.reference
    if ref not in {p.name for p in points} and ref in study.names:
        for ax, metric in (
            (ax_live, "go_lives_per_quarter"),
            (ax_lead, "onboarding_lead_time_p85_days"),
        ):
            value = _stat(study, ref, metric)[0]
            if not math.isnan(value):
                ax.axhline(
                    value,
                    color=colours[ref],
                    ls=":",
                    lw=1.6,
                    label=f"{ref} (reference)" + (", p85" if ax is ax_lead else ""),
                )
    if not np.all(np.isnan(golives[:, 0])):
        i = int(np.nanargmax(golives[:, 0]))
        label = f"knee: {key}={x[i]:g} (most go-lives per quarter)"
        ax_live.plot(
            [x[i]],
            [golives[i, 0]],
            marker="*",
            ms=18,
            color="#ffc107",
            markeredgecolor="black",
            ls="none",
            label=label,
            zorder=6,
        )
        for ax in (ax_live, ax_lead):
            ax.axvline(
                x[i],
                color="#757575",
                ls="--",
                lw=1,
                zorder=0,
                label="_knee" if ax is ax_live else "knee",
            )
    label = _key_label(study, sweep, key)
    for ax in fig.axes:
        ax.set_xlabel(label)
        ax.set_xticks(x, [f"{v:g}" for v in x])
        ax.set_ylim(bottom=0)
        ax.grid(color="#eeeeee")
        ax.legend(loc="best", fontsize=8)
    ax_live.set_ylabel("go-lives per quarter (customers/quarter)")
    ax_lead.set_ylabel("onboarding lead time (working days)")
    ax_live.set_title("Throughput: go-lives per quarter")
    ax_lead.set_title("Onboarding lead time")
    reps = _replications(study, points[0].name)
    fig.suptitle(
        f"Sweep '{sweep}': {label.split(' (')[0]} against delivery "
        f"(mean and 95% CI over {_reps_text(reps)})"
    )
    return fig


def _mm1_reference(config: dict[str, Any]) -> float | None:
    """Mean ticket time in system (working days) of the M/M/1 queue a scenario's resolved
    config reduces to; ``None`` when it does not reduce to one, when that queue is
    unstable, or when the manifest holds no config for the scenario."""
    if not config:
        return None
    return mm1_time_in_system_days(Params.model_validate(config))


def _curve(
    ax: Axes,
    x: np.ndarray,
    stats: np.ndarray,
    colour: str,
    label: str,
    points: list[_SweepPoint],
    colours: dict[str, str],
    thin: bool = False,
) -> None:
    """A mean line with its CI band, markers in each scenario's colour."""
    mean, low, high = stats[:, 0], stats[:, 1], stats[:, 2]
    ax.fill_between(
        x, low, high, color=colour, alpha=0.12 if thin else 0.25, lw=0, label=f"{label}, 95% CI"
    )
    ax.plot(
        x,
        mean,
        color=colour,
        lw=1.2 if thin else 2,
        ls=(0, (3, 1.5)) if thin else "-",
        label=label,
        zorder=3,
    )
    ax.scatter(
        x,
        mean,
        s=20 if thin else 45,
        c=[colours[p.name] for p in points],
        edgecolors="black",
        linewidths=0.6,
        zorder=4,
    )
