"""Customers and revenue over time: the health mix with churn, and ARR per scenario."""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patheffects import Normal, withStroke
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
    _spread,
    _warmup_weeks,
    _weeks,
    scenario_colours,
)
from flowsim.reporting.charts.featured import _best, _labelled, scenario_role
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
        f"Customer health mix and churn\n{_labelled(study, name)}: "
        f"mean of {_reps_text(_replications(study, name))}"
    )
    handles = [*ax.get_legend_handles_labels()[0], *churn.get_legend_handles_labels()[0]]
    fig.legend(handles=handles, loc="outside lower center", ncols=3, fontsize=9)
    return fig


def arr_over_time(study: StudyResults, scenarios: Sequence[str] | None = None) -> Figure:
    """Annual recurring revenue over time per scenario, mean with a 95% CI band.

    The band is the Student-t interval across replications, day by day (as
    :func:`flowsim.stats.mean_ci`); with one replication there is no band.  With more
    than three scenarios, the reference and the best (see
    :func:`~flowsim.reporting.charts.featured.scenario_role`) stand out: thick lines in
    their colours with their bands, drawn over the others, which are thin and muted
    with faint bands.  Each line is named at its right end, in the margin (labels
    nudged apart where lines end close together), and in the legend below.

    Parameters
    ----------
    study : StudyResults
    scenarios : sequence of str, optional
        Default: every scenario.

    Returns
    -------
    Figure
        One line and one band (a ``PolyCollection``) per scenario, in the order of
        ``scenarios``.

    Examples
    --------
    >>> from flowsim.storage import read_study
    >>> study = read_study("results/slow_down_to_speed_up")  # doctest: +SKIP
    >>> arr_over_time(study, ["unlimited", "wip[limit=4]"]).savefig("arr.png")  # doctest: +SKIP
    """
    names = _scenario_list(study, scenarios)
    colours = scenario_colours(study.names)
    strong = _highlighted(study, names)
    fig = ChartFigure(figsize=(11, 6.5), layout="constrained")
    ax = fig.subplots()
    _shade_warmup(ax, max(_warmup_weeks(study, n) for n in names))
    cis = {name: _mean_ci(_series(study, name), "day", "arr") for name in names}
    end = max(float(_weeks(ci.index)[-1]) for ci in cis.values())
    # Highlighted scenarios above the others, the reference on top of all.
    depth = {name: 10 - strong.index(name) if name in strong else 3 for name in names}
    for name, ci in cis.items():
        ax.fill_between(
            _weeks(ci.index),
            ci["low"].to_numpy(dtype=float),
            ci["high"].to_numpy(dtype=float),
            color=colours[name],
            alpha=0.2 if name in strong else 0.04,
            lw=0,
            label="_nolegend_",
            zorder=depth[name] - 0.5 if name in strong else 1,
        )
    for name, ci in cis.items():
        width = 2.6 if name in strong else 1.1
        ax.plot(
            _weeks(ci.index),
            ci["mean"].to_numpy(dtype=float),
            color=colours[name],
            lw=width,
            alpha=1.0 if name in strong else 0.6,
            label=name,
            zorder=depth[name],
            path_effects=[withStroke(linewidth=width + 2.2, foreground="white"), Normal()]
            if name in strong
            else None,
        )
    ax.set_xlim(0, end)
    ax.yaxis.set_major_formatter(FuncFormatter(_money))
    ax.set_xlabel("time (weeks)")
    ax.set_ylabel("ARR (currency/year)")
    reps = _replications(study, names[0])
    ax.set_title(f"Annual recurring revenue over time: mean and 95% CI across {_reps_text(reps)}")
    key = "scenario (line: mean over replications; band: 95% CI)"
    if len(strong) < len(names):
        stand_out = ", ".join(_labelled(study, n) for n in strong)
        key += f"\nthick, with bands: {stand_out}; thin: the others"
    fig.legend(
        handles=[ln for ln in ax.get_lines() if not str(ln.get_label()).startswith("_")],
        loc="outside lower center",
        ncols=min(len(names), 4),
        fontsize=8.5,
        frameon=False,
        title=key,
        title_fontsize=8.5,
    )
    ends = {name: float(ci["mean"].dropna().iloc[-1]) for name, ci in cis.items()}
    _end_labels(ax, fig, ends, colours, strong, study)
    return fig


def _highlighted(study: StudyResults, names: list[str]) -> list[str]:
    """The scenarios to make stand out, reference first: every one when there are at
    most three, else the reference and the best of those drawn (every one if neither
    is drawn)."""
    if len(names) <= 3:
        return list(names)
    best = _best(study)
    chosen = [study.reference, *([best.scenario] if best is not None else [])]
    return [n for n in chosen if n in names] or list(names)


def _end_labels(
    ax: Axes,
    fig: Figure,
    ends: dict[str, float],
    colours: dict[str, str],
    strong: list[str],
    study: StudyResults,
) -> None:
    """Each line's name and last value in the margin right of the axes, at the line's
    end, nudged apart so that no two overlap; a thin leader joins a moved label to its
    line."""
    ax.set_ylim(*ax.get_ylim())  # the labels must not rescale the axes
    fig.draw_without_rendering()  # the axes' height in pixels, once laid out
    low, high = ax.get_ylim()
    pixels = max(ax.get_window_extent().height, 1.0)
    gap = (high - low) * (8.5 * 1.3 * fig.dpi / 72) / pixels
    names = list(ends)
    placed = _spread([ends[n] for n in names], gap, low, high)
    for name, y in zip(names, placed, strict=True):
        role = scenario_role(study, name)
        suffix = f" ({role})" if role else ""  # "(lowest ...)", never a bare "best"
        text = f"{name}{suffix}: {_money(ends[name])}"
        ax.annotate(
            text,
            xy=(1.0, ends[name]),
            xycoords=ax.get_yaxis_transform(),
            xytext=(1.04, y),
            textcoords=ax.get_yaxis_transform(),
            ha="left",
            va="center",
            fontsize=8.5,
            color=colours[name],
            fontweight="bold" if name in strong else "normal",
            annotation_clip=False,
            arrowprops={
                "arrowstyle": "-",
                "color": colours[name],
                "lw": 0.7,
                "shrinkA": 0,
                "shrinkB": 1,
                "relpos": (0.0, 0.5),  # to the label's left edge, never across its text
            },
        )
