"""Customers and revenue over time: the health mix with churn, and ARR per scenario."""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from flowsim.reporting.charts.base import (
    ChartFigure,
    _mean_ci,
    _mean_over_reps,
    _money,
    _replications,
    _reps_text,
    _scenario,
    _scenario_list,
    _series,
    _shade_warmup,
    _warmup_weeks,
    _weeks,
    scenario_colours,
)
from flowsim.storage import StudyResults


def health_mix(study: StudyResults, scenario: str | None = None) -> Figure:
    """Customer health over time: green, yellow and red counts, and cumulative churn.

    Stacked areas of the active customers (live or onboarding) by health band, mean
    over replications per day; the customers who have left (churned) since the
    start, cumulative, on the right axis.

    Parameters
    ----------
    study : StudyResults
    scenario : str, optional
        Default: the study's reference scenario.

    Returns
    -------
    Figure
        One axes and its twin.

    Examples
    --------
    >>> from flowsim.storage import read_study
    >>> study = read_study("results/slow_down_to_speed_up")  # doctest: +SKIP
    >>> health_mix(study, "wip[limit=4]").savefig("health.png")  # doctest: +SKIP
    """
    name = _scenario(study, scenario)
    rows = _series(study, name)
    m = _mean_over_reps(rows, ["green", "yellow", "red", "churned"])
    x = _weeks(m.index)
    fig = ChartFigure(figsize=(10, 5.5), layout="constrained")
    ax = fig.subplots()
    _shade_warmup(ax, _warmup_weeks(study, name))
    ax.stackplot(
        x,
        m["green"].to_numpy(dtype=float),
        m["yellow"].to_numpy(dtype=float),
        m["red"].to_numpy(dtype=float),
        labels=["green (healthy)", "yellow (at risk)", "red (unhappy)"],
        colors=["#66bb6a", "#fdd835", "#e53935"],
        alpha=0.85,
        lw=0,
    )
    ax.set_ylabel("active customers (live or onboarding)")
    ax.set_xlabel("time (weeks)")
    ax.set_xlim(0, x[-1] if len(x) else 1)
    ax.set_ylim(bottom=0)
    churn = ax.twinx()
    churn.plot(x, m["churned"], color="black", lw=1.8, label="churned since the start (right axis)")
    churn.set_ylabel("customers churned, cumulative (customers)")
    churn.set_ylim(bottom=0, top=max(1.0, float(m["churned"].max()) * 1.1))
    ax.set_title(
        f"Customer health mix and churn: {name} (mean of {_reps_text(_replications(study, name))})"
    )
    handles = [*ax.get_legend_handles_labels()[0], *churn.get_legend_handles_labels()[0]]
    fig.legend(handles=handles, loc="outside lower center", ncols=3, fontsize=9)
    return fig


def arr_over_time(study: StudyResults, scenarios: Sequence[str] | None = None) -> Figure:
    """Annual recurring revenue over time per scenario, mean with a 95% CI band.

    The band is the Student-t interval across replications, day by day (as
    :func:`flowsim.stats.mean_ci`); with one replication there is no band.

    Parameters
    ----------
    study : StudyResults
    scenarios : sequence of str, optional
        Default: every scenario.

    Returns
    -------
    Figure
        One line and one band (a ``PolyCollection``) per scenario.

    Examples
    --------
    >>> from flowsim.storage import read_study
    >>> study = read_study("results/slow_down_to_speed_up")  # doctest: +SKIP
    >>> arr_over_time(study, ["unlimited", "wip[limit=4]"]).savefig("arr.png")  # doctest: +SKIP
    """
    names = _scenario_list(study, scenarios)
    colours = scenario_colours(study.names)
    fig = ChartFigure(figsize=(11, 5.5), layout="constrained")
    ax = fig.subplots()
    _shade_warmup(ax, max(_warmup_weeks(study, n) for n in names))
    cis = {name: _mean_ci(_series(study, name), "day", "arr") for name in names}
    end = max(float(_weeks(ci.index)[-1]) for ci in cis.values())
    for name, ci in cis.items():  # every band first, so no band hides a line
        ax.fill_between(
            _weeks(ci.index),
            ci["low"].to_numpy(dtype=float),
            ci["high"].to_numpy(dtype=float),
            color=colours[name],
            alpha=0.13,
            lw=0,
            label="_nolegend_",
        )
    for name, ci in cis.items():
        ax.plot(
            _weeks(ci.index),
            ci["mean"].to_numpy(dtype=float),
            color=colours[name],
            lw=1.6,
            label=name,
        )
    ax.set_xlim(0, end)
    ax.yaxis.set_major_formatter(FuncFormatter(_money))
    ax.set_xlabel("time (weeks)")
    ax.set_ylabel("ARR (currency/year)")
    reps = _replications(study, names[0])
    ax.set_title(f"Annual recurring revenue over time: mean and 95% CI across {_reps_text(reps)}")
    fig.legend(
        loc="outside right upper",
        fontsize=9,
        title="scenario\n(line: mean; band: 95% CI)",
        title_fontsize=9,
    )
    return fig
