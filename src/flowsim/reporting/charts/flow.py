"""Flow charts of one scenario: cumulative flow, each go-live's lead time, weekly
throughput, and the age of the onboardings still open at the end."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from flowsim.model.calendar import DAYS_PER_WEEK, WEEKS_PER_QUARTER
from flowsim.reporting.charts._lead_times import _percentile_lines, _went_live
from flowsim.reporting.charts.base import (
    ChartFigure,
    _customers,
    _horizon_weeks,
    _legend_above,
    _mean_over_reps,
    _note,
    _replications,
    _reps_text,
    _scenario,
    _series,
    _shade_warmup,
    _warmup_weeks,
    _weeks,
    scenario_colours,
)
from flowsim.reporting.charts.featured import _labelled
from flowsim.storage import StudyResults

_CFD_BANDS: dict[str, list[tuple[str, str]]] = {
    # bottom to top: finished or gone, then in progress, then waiting
    "onboarding": [
        ("went live", "#2e7d32"),
        ("left while onboarding (churned)", "#8d6e63"),
        ("lost waiting to start", "#bdbdbd"),
        ("onboarding", "#42a5f5"),
        ("signed, waiting to start", "#ffb74d"),
    ],
    "tickets": [
        ("closed", "#2e7d32"),
        ("dropped (customer churned)", "#bdbdbd"),
        ("open (incl. forgotten)", "#ef6c00"),
    ],
}


def cumulative_flow(
    study: StudyResults, kind: str = "onboarding", scenario: str | None = None
) -> Figure:
    """Cumulative flow diagram of one scenario: daily, by state, mean over replications.

    ``kind="onboarding"`` follows the customers signed during the run (the initial
    live customers are not in it).  The bands are stacked so that every boundary is
    a cumulative count that never falls: at the bottom the customers who went live,
    then those who left before going live (churned while onboarding, lost waiting to
    start), then those onboarding, then those signed and waiting; the top edge is
    the cumulative number signed.  The vertical distance between edges is the work
    in progress, the horizontal distance the time in the state.

    ``kind="tickets"``: tickets closed at the bottom, dropped ones (their customer
    left) above, open ones on top; the top edge is the cumulative tickets created,
    and the band between it and the closed curve is every ticket not closed.

    Parameters
    ----------
    study : StudyResults
    kind : {"onboarding", "tickets"}
    scenario : str, optional
        Default: the study's reference scenario.

    Returns
    -------
    Figure
        One axes; the warm-up is shaded.

    Examples
    --------
    >>> from flowsim.storage import read_study
    >>> study = read_study("results/slow_down_to_speed_up")  # doctest: +SKIP
    >>> cumulative_flow(study, "tickets", "wip[limit=4]").savefig("cfd.png")  # doctest: +SKIP
    """
    if kind not in _CFD_BANDS:
        raise ValueError(f"kind must be 'onboarding' or 'tickets', got {kind!r}")
    name = _scenario(study, scenario)
    rows = _series(study, name)
    if kind == "onboarding":
        m = _mean_over_reps(
            rows, ["signed", "went_live", "lost_deals", "onboarding", "signed_backlog"]
        )
        left = (
            m["signed"] - m["went_live"] - m["lost_deals"] - m["onboarding"] - m["signed_backlog"]
        ).clip(lower=0)
        layers = [m["went_live"], left, m["lost_deals"], m["onboarding"], m["signed_backlog"]]
        top, top_label = m["signed"], "signed (cumulative arrivals)"
        ylabel = "customers signed since the start (cumulative count)"
        title = "Cumulative flow of new customers through onboarding"
    else:
        m = _mean_over_reps(rows, ["tickets_created", "tickets_closed", "tickets_open"])
        dropped = (m["tickets_created"] - m["tickets_closed"] - m["tickets_open"]).clip(lower=0)
        layers = [m["tickets_closed"], dropped, m["tickets_open"]]
        top, top_label = m["tickets_created"], "created (cumulative arrivals)"
        ylabel = "tickets since the start (cumulative count)"
        title = "Cumulative flow of support tickets"
    bands = _CFD_BANDS[kind]
    x = _weeks(m.index)
    fig = ChartFigure(figsize=(10, 5.5), layout="constrained")
    ax = fig.subplots()
    _shade_warmup(ax, _warmup_weeks(study, name))
    ax.stackplot(
        x,
        *[layer.to_numpy(dtype=float) for layer in layers],
        labels=[label for label, _ in bands],
        colors=[colour for _, colour in bands],
        alpha=0.9,
        lw=0,
    )
    ax.plot(x, top.to_numpy(dtype=float), color="black", lw=1.2, label=top_label)
    ax.set_xlim(0, x[-1] if len(x) else 1)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("time (weeks)")
    ax.set_ylabel(ylabel)
    ax.set_title(
        f"{title}\n{_labelled(study, name)}: mean of {_reps_text(_replications(study, name))}"
    )
    handles, labels = ax.get_legend_handles_labels()
    # Legend top to bottom as the bands are stacked.
    order = sorted(range(len(labels)), key=lambda i: _legend_rank(labels[i], bands, top_label))
    ax.legend([handles[i] for i in order], [labels[i] for i in order], loc="upper left")
    return fig


def _legend_rank(label: str, bands: list[tuple[str, str]], top_label: str) -> int:
    names = [b for b, _ in bands]
    if label == top_label:
        return -1
    if label in names:
        return len(names) - names.index(label)
    return 100


def lead_time_scatter(
    study: StudyResults,
    scenario: str | None = None,
    percentiles: Sequence[float] = (50, 85, 95),
) -> Figure:
    """Each go-live of one scenario: when it happened against its onboarding lead time.

    One dot per customer who went live, in every replication (lead time = go-live
    day - onboarding start day, in working days).  Go-lives during the warm-up are
    drawn hollow and grey; the percentile lines (``numpy.percentile``, labelled
    like ``85%: 63 days``) are computed over the go-lives after the warm-up, the
    ones the summary metrics count.  With no go-live the chart still renders, with
    the note "no customer went live".

    Parameters
    ----------
    study : StudyResults
    scenario : str, optional
        Default: the study's reference scenario.
    percentiles : sequence of float
        Percentiles to draw as horizontal lines.

    Returns
    -------
    Figure

    Examples
    --------
    >>> from flowsim.storage import read_study
    >>> study = read_study("results/slow_down_to_speed_up")  # doctest: +SKIP
    >>> fig = lead_time_scatter(study, "wip[limit=4]", percentiles=(50, 85))  # doctest: +SKIP
    """
    name = _scenario(study, scenario)
    live = _went_live(study, name)
    colour = scenario_colours(study.names)[name]
    warmup = _warmup_weeks(study, name)
    fig = ChartFigure(figsize=(10, 5.5), layout="constrained")
    ax = fig.subplots()
    _shade_warmup(ax, warmup)
    ax.set_xlim(0, _horizon_weeks(study, name))
    ax.set_xlabel("go-live date (weeks since the start)")
    ax.set_ylabel("onboarding lead time (working days)")
    n_reps = _replications(study, name)
    window = live[live["in_window"]]
    early = live[~live["in_window"]]
    counts = (
        f"{len(live)} go-lives in {_reps_text(n_reps)}; percentiles of the "
        f"{len(window)} after the warm-up"
        if len(live)
        else f"no go-live in {_reps_text(n_reps)}"
    )
    ax.set_title(f"Onboarding lead time of each go-live\n{_labelled(study, name)}\n{counts}")
    if live.empty:
        ax.set_ylim(0, 100)
        _note(ax, "no customer went live")
        return fig
    if not early.empty:
        ax.scatter(
            _weeks(early["live_day"]),
            early["lead_days"],
            s=22,
            facecolors="none",
            edgecolors="#8a8a8a",
            label="went live during the warm-up",
            zorder=3,
        )
    if not window.empty:
        ax.scatter(
            _weeks(window["live_day"]),
            window["lead_days"],
            s=22,
            color=colour,
            alpha=0.85,
            edgecolors="white",
            linewidths=0.4,
            label="went live after the warm-up",
            zorder=3,
        )
        _percentile_lines(ax, window["lead_days"].to_numpy(), percentiles)
    else:
        _note(ax, "no customer went live after the warm-up")
    ax.set_ylim(bottom=0)
    fig.legend(loc="outside right upper", fontsize=9)
    return fig


def throughput_run_chart(study: StudyResults, scenario: str | None = None) -> Figure:
    """Weekly throughput and work in progress of one scenario over time.

    Top: go-lives per week; middle: tickets closed (and created) per week -- both
    the week-on-week differences of the cumulative daily counts, mean over
    replications, with a 13-week (quarter) moving average; bottom: onboardings in
    progress and the lead's backlog (right axis), daily means.

    Parameters
    ----------
    study : StudyResults
    scenario : str, optional
        Default: the study's reference scenario.

    Returns
    -------
    Figure
        Three axes sharing the time axis (the bottom one with a twin y axis).

    Examples
    --------
    >>> from flowsim.storage import read_study
    >>> study = read_study("results/slow_down_to_speed_up")  # doctest: +SKIP
    >>> throughput_run_chart(study, "wip[limit=4]").savefig("throughput.png")  # doctest: +SKIP
    """
    name = _scenario(study, scenario)
    rows = _series(study, name)
    colour = scenario_colours(study.names)[name]
    warmup = _warmup_weeks(study, name)
    fig = ChartFigure(figsize=(10, 8), layout="constrained")
    ax_live, ax_tickets, ax_wip = fig.subplots(3, 1, sharex=True)
    for ax in (ax_live, ax_tickets, ax_wip):
        _shade_warmup(ax, warmup, label=ax is ax_live)

    golives = _weekly(rows, "went_live")
    _weekly_bars(ax_live, golives, colour, 0.55, "go-lives per week (mean over replications)")
    _moving_average(ax_live, golives, "black", "13-week moving average")
    ax_live.set_ylabel("go-lives\n(customers/week)")
    ax_live.set_ylim(bottom=0)
    _legend_above(ax_live)
    if not golives.any():
        _note(ax_live, "no customer went live")
    fig.suptitle(
        f"Throughput and work in progress\n{_labelled(study, name)}: mean of "
        f"{_reps_text(_replications(study, name))}"
    )

    closed = _weekly(rows, "tickets_closed")
    created = _weekly(rows, "tickets_created")
    _weekly_bars(ax_tickets, closed, "#2e7d32", 0.5, "tickets closed per week")
    _moving_average(ax_tickets, closed, "#1b5e20", "closed, 13-week moving average")
    _moving_average(ax_tickets, created, "#ef6c00", "created, 13-week moving average", "--")
    ax_tickets.set_ylabel("tickets\n(tickets/week)")
    ax_tickets.set_ylim(bottom=0)
    _legend_above(ax_tickets)

    wip = _mean_over_reps(rows, ["onboarding", "lead_backlog"])
    x = _weeks(wip.index)
    ax_wip.plot(x, wip["onboarding"], color="#1565c0", lw=1.6, label="onboardings in progress")
    ax_wip.set_ylabel("onboardings in progress\n(customers)", color="#1565c0")
    ax_wip.set_ylim(bottom=0)
    ax_wip.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax_backlog = ax_wip.twinx()
    ax_backlog.plot(
        x,
        wip["lead_backlog"],
        color="#b71c1c",
        lw=1.4,
        label="items in the lead's backlog (right axis)",
    )
    ax_backlog.set_ylabel("lead's backlog\n(items)", color="#b71c1c")
    ax_backlog.set_ylim(bottom=0)
    handles = [*ax_wip.get_legend_handles_labels()[0], *ax_backlog.get_legend_handles_labels()[0]]
    _legend_above(ax_wip, handles)
    ax_wip.set_xlabel("time (weeks)")
    ax_wip.set_xlim(0, _horizon_weeks(study, name))
    return fig


def _weekly(rows: pd.DataFrame, column: str) -> pd.Series:
    """Per week: the increase of a cumulative column, mean over replications.

    Indexed by the week's end (weeks since the start); only whole weeks.
    """
    ends = rows[np.isclose(rows["day"] % DAYS_PER_WEEK, 0)].sort_values(["replication", "day"])
    per_week = ends.groupby("replication")[column].diff()
    frame = pd.DataFrame({"day": ends["day"], "v": per_week}).dropna()
    mean = frame.groupby("day", sort=True)["v"].mean()
    mean.index = pd.Index(_weeks(mean.index))
    return mean


def _weekly_bars(ax: Axes, weekly: pd.Series, colour: str, alpha: float, label: str) -> None:
    """One bar per week, centred on the middle of the week."""
    ax.bar(weekly.index - 0.5, weekly.to_numpy(), width=0.9, color=colour, alpha=alpha, label=label)


def _moving_average(ax: Axes, weekly: pd.Series, colour: str, label: str, ls: str = "-") -> None:
    """The quarter's (13-week) moving average of a weekly series."""
    average = weekly.rolling(WEEKS_PER_QUARTER, min_periods=1).mean()
    ax.plot(weekly.index, average, color=colour, lw=1.5, ls=ls, label=label)


def ageing_wip(study: StudyResults, scenario: str | None = None) -> Figure:
    """Onboardings still open at the end of each replication, by age, against history.

    Each dot is one customer still onboarding at the horizon, at its age (horizon
    - onboarding start, in working days), one column per replication.  The
    horizontal lines and coloured bands are the 50th, 85th and 95th percentiles of
    the lead times of the onboardings completed after the warm-up (pooled over
    replications, as in :func:`lead_time_scatter`): a dot above the 85% line is
    older than 85% of the onboardings that ever finished.

    Parameters
    ----------
    study : StudyResults
    scenario : str, optional
        Default: the study's reference scenario.

    Returns
    -------
    Figure

    Examples
    --------
    >>> from flowsim.storage import read_study
    >>> study = read_study("results/slow_down_to_speed_up")  # doctest: +SKIP
    >>> ageing_wip(study, "unlimited").savefig("ageing.png")  # doctest: +SKIP
    """
    name = _scenario(study, scenario)
    cust = _customers(study, name)
    horizon_days = _horizon_weeks(study, name) * DAYS_PER_WEEK
    open_now = cust[(cust["state"] == "onboarding") & cust["onboarding_day"].notna()]
    ages = horizon_days - open_now["onboarding_day"].to_numpy(dtype=float)
    reps = open_now["replication"].to_numpy(dtype=float)
    done = _went_live(study, name)
    done = done[done["in_window"]]
    n_reps = _replications(study, name)
    colour = scenario_colours(study.names)[name]

    fig = ChartFigure(figsize=(10, 5.5), layout="constrained")
    ax = fig.subplots()
    ax.set_xlabel("replication (each dot: one onboarding still open at the end)")
    ax.set_ylabel("age at the end of the run (working days)")
    history = (
        f"percentiles of the lead times of the {len(done)} completed after the warm-up"
        if len(done)
        else "none completed after the warm-up: no lead times to compare with"
    )
    ax.set_title(
        f"Ageing work in progress\n{_labelled(study, name)}\n{len(ages)} onboardings open "
        f"at the end of {_reps_text(n_reps)}\n{history}"
    )
    ax.set_xlim(-0.6, max(n_reps, 1) - 0.4)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if len(ages):
        jitter = np.random.default_rng(0).uniform(-0.22, 0.22, len(ages))
        ax.scatter(
            reps + jitter,
            ages,
            s=30,
            color=colour,
            edgecolors="black",
            linewidths=0.5,
            label="open onboarding",
            zorder=4,
        )
    if not done.empty:
        _percentile_lines(ax, done["lead_days"].to_numpy(), (50, 85, 95), bands=True)
    ax.set_ylim(bottom=0)
    if not len(ages):
        _note(ax, "no onboarding open at the end")
    if ax.get_legend_handles_labels()[0]:
        fig.legend(loc="outside right upper", fontsize=9)
    return fig
