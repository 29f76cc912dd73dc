"""Flow charts of a tracker's own work items (the table ``flowsim import`` writes), and
their numbers: one panel per kind, times in calendar days (UTC) up to the data's end.

Cycle times run from the start of work to done where the start is known, else from
creation (:func:`cycle_times`); their percentiles are Kaplan-Meier estimates
(:func:`flowsim.stats.product_limit`) with the open items censored at their age so far
(:func:`cycle_stats`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from flowsim.data.items import KINDS, TIMES
from flowsim.reporting.charts.base import BASELINE_GREY, ChartFigure, _note, scenario_colours
from flowsim.reporting.charts.flow import _CFD_BANDS
from flowsim.stats import product_limit

DAY = pd.Timedelta(days=1)
PERCENTILES: tuple[float, ...] = (50, 85, 95)
KM_NOTE = "percentiles by Kaplan-Meier, open items censored"
KIND_COLOURS = scenario_colours(list(KINDS))
"""One colour per kind, the same whichever kinds a table holds."""
_FLOW = dict(_CFD_BANDS["onboarding"])
STAGE_COLOURS = {"done": _FLOW["went live"], "in progress": _FLOW["onboarding"]}
STAGE_COLOURS["waiting"] = _FLOW["signed, waiting to start"]
"""The simulated cumulative flow's colours for finished, in progress and waiting work."""
_LINE_STYLES = {50.0: ("#1b5e20", "--"), 85.0: ("#e65100", "-."), 95.0: ("#b71c1c", ":")}
# A survival curve computed in floating point may sit a hair above a level it has in
# fact reached (0.15000000000000002 for 3/20): levels are read with this tolerance.
_TOLERANCE = 1e-9
End: TypeAlias = pd.Timestamp | str | None


# ---------------------------------------------------------------- the numbers
def data_end(items: pd.DataFrame, end: End = None) -> pd.Timestamp:
    """``end`` in UTC, or by default the latest time in the table (created, started, done)."""
    if end is not None:
        stamp = pd.Timestamp(end)
        return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    times = pd.concat([items[c].dropna() for c in TIMES])
    return pd.Timestamp(times.max()) if len(times) else pd.Timestamp(0, tz="UTC")


def kinds_of(items: pd.DataFrame) -> list[str]:
    """The kinds the table holds, in the order of :data:`~flowsim.data.items.KINDS`."""
    present = {str(k) for k in items["kind"].dropna().unique()}
    return [k for k in KINDS if k in present] + sorted(present - set(KINDS))


def clock_of(items: pd.DataFrame) -> dict[str, str]:
    """Where each kind's clock starts: ``start`` if at least half its done items have a
    known start, else ``created``; with none done, ``start`` if any item has started."""
    clocks = {}
    for kind in kinds_of(items):
        rows = items[items["kind"] == kind]
        done, started = rows["done"].notna(), rows["started"].notna()
        known = 2 * int((done & started).sum()) >= int(done.sum()) if done.any() else started.any()
        clocks[kind] = "start" if known else "created"
    return clocks


def cycle_times(items: pd.DataFrame, end: End = None) -> pd.DataFrame:
    """Each item's cycle time (done) or age (open) in days, on its kind's clock.

    On the ``start`` clock (:func:`clock_of`) a done item counts from its start where
    known, else from its creation, and an open item in progress from its start; an
    item still waiting has not started, so it is left out of the kind's percentiles
    (its age since creation is kept for the ageing chart).  On the ``created`` clock
    every item counts from its creation (lead times), every open item censored.

    Columns: ``kind``; ``days`` to ``done``, or to the data's end while open (never
    negative); ``done`` (False: censored); ``from_start``; ``at`` (the done time);
    ``stage`` (``done``, ``in progress`` or ``waiting``); ``clock``; ``estimate``
    (counts in the kind's percentiles).
    """
    stop_at = data_end(items, end)
    clock = items["kind"].astype(object).map(clock_of(items))
    started = items["started"].notna()
    from_start = started & (clock == "start")
    origin = items["started"].where(from_start, items["created"])
    done = items["done"].notna()
    days = ((items["done"].where(done, stop_at) - origin) / DAY).astype(float).clip(lower=0)
    stage = np.select([done.to_numpy(), started.to_numpy()], ["done", "in progress"], "waiting")
    return pd.DataFrame(
        {
            "kind": items["kind"].astype(object),
            "days": days,
            "done": done,
            "from_start": from_start,
            "at": items["done"],
            "stage": stage,
            "clock": clock,
            "estimate": (clock == "created") | (stage != "waiting"),
        },
        index=items.index,
    )


@dataclass(frozen=True)
class CycleStats:
    """Cycle-time percentiles (days) of a group of items: ``km`` by Kaplan-Meier (inf
    if not reached while many items are open, NaN with none done) with its interval
    ``low``, ``high``; ``naive`` of the done items alone (inverted empirical
    distribution: the Kaplan-Meier percentile when nothing is open)."""

    done: int
    censored: int
    km: dict[float, float]
    low: dict[float, float]
    high: dict[float, float]
    naive: dict[float, float]
    longest: float


def cycle_stats(
    days: Sequence[float] | np.ndarray | pd.Series,
    done: Sequence[bool] | np.ndarray | pd.Series,
    percentiles: Sequence[float] = PERCENTILES,
    level: float = 0.95,
) -> CycleStats:
    """Kaplan-Meier and naive percentiles of cycle times, the open items censored.

    ``days`` is each item's cycle time (done) or age so far (open); ``done`` says
    which.  The ``p``-th percentile is the first time at which the Kaplan-Meier
    survival curve (:func:`flowsim.stats.product_limit`) falls to ``1 - p/100`` or below, infinite
    if it never does; the interval at ``level`` reads the same off the curve's
    exponential Greenwood bounds.

    >>> s = cycle_stats([2, 3, 5, 7, 9], [True, False, True, False, True])
    >>> s.km[50], s.naive[50]
    (9.0, 5.0)
    """
    x, observed = np.asarray(days, dtype=float), np.asarray(done, dtype=bool)
    n_done, longest = int(observed.sum()), float(x.max()) if len(x) else math.nan
    if n_done == 0:
        nothing = {float(q): math.nan for q in percentiles}
        return CycleStats(0, len(x), nothing, nothing, nothing, nothing, longest)
    curve, low, high = product_limit(x, observed, level)

    def when(survival: np.ndarray) -> dict[float, float]:
        return {float(q): _first_below(curve.index, survival, 1 - q / 100) for q in percentiles}

    return CycleStats(
        done=n_done,
        censored=len(x) - n_done,
        km=when(curve.to_numpy()),
        low=when(low),  # the lower curve falls first: the lower bound in time
        high=when(high),
        naive={
            float(q): float(np.percentile(x[observed], q, method="inverted_cdf"))
            for q in percentiles
        },
        longest=longest,
    )


def _first_below(times: pd.Index, survival: np.ndarray, level: float) -> float:
    """The first time the curve is at or below ``level`` (rounding aside); inf if never."""
    below = np.flatnonzero(survival <= level + _TOLERANCE)
    return float(times[below[0]]) if len(below) else math.inf


def _naive_utc(times: pd.Series) -> pd.Series:
    return times.dt.tz_convert("UTC").dt.tz_localize(None)


def cfd_counts(items: pd.DataFrame, end: End = None, kind: str | None = None) -> pd.DataFrame:
    """Cumulative flow: per day (UTC), at its end, how many items had arrived (been
    created), were waiting (not started), in progress (started, not done) and done.

    One row per day from the first item created to the data's end; ``waiting +
    in_progress + done == arrived`` every day.  An item whose start is unknown goes
    from waiting straight to done.  ``kind`` keeps one kind.
    """
    stop = data_end(items, end)
    if kind is not None:
        items = items[items["kind"] == kind]
    columns = ["arrived", "waiting", "in_progress", "done"]
    if items.empty:
        return pd.DataFrame(columns=columns, dtype="int64")
    first = pd.Timestamp(items["created"].min())
    days = pd.date_range(first.normalize(), max(stop, first).normalize(), freq="D")
    days = days.tz_localize(None)
    edges = (days + DAY).to_numpy("M8[ns]")

    def upto(times: pd.Series) -> np.ndarray:
        return np.searchsorted(np.sort(_naive_utc(times.dropna()).to_numpy("M8[ns]")), edges)

    arrived, done = upto(items["created"]), upto(items["done"])
    in_progress = upto(items["started"]) - upto(items.loc[items["started"].notna(), "done"])
    waiting = arrived - done - in_progress
    frame = pd.DataFrame(
        dict(zip(columns, (arrived, waiting, in_progress, done), strict=True)), index=days
    )
    frame.index.name = "day"
    return frame


def _monday(times: pd.Series) -> pd.Series:
    day = _naive_utc(times).dt.normalize()
    return day - pd.to_timedelta(day.dt.day_of_week, unit="D")


def weekly_counts(items: pd.DataFrame, column: str = "done", end: End = None) -> pd.DataFrame:
    """Items per calendar week (Monday to Sunday, UTC) by kind, counted at ``column``.

    One row per week, indexed by its Monday (naive UTC), from the week of the first
    item created to the week of the data's end, weeks without any item as zeros; one
    column per kind (:func:`kinds_of`).
    """
    kinds = kinds_of(items)
    if items.empty:
        return pd.DataFrame(columns=kinds, dtype="int64")
    first = items["created"].min()
    bounds = _monday(pd.Series([first, max(data_end(items, end), first)]))
    weeks = pd.date_range(bounds.iloc[0], bounds.iloc[1], freq="7D", name="week")
    rows = items[items[column].notna()]
    frame = pd.DataFrame({"week": _monday(rows[column]), "kind": rows["kind"].astype(object)})
    counts = frame.groupby(["week", "kind"]).size().unstack("kind")
    return counts.reindex(index=weeks, columns=kinds).fillna(0).astype("int64")


# ---------------------------------------------------------------- drawing helpers
def _panels(
    items: pd.DataFrame, title: str, height: float, across: bool = False
) -> tuple[Figure, list[Axes], list[str]]:
    """A figure with one panel per kind (stacked, sharing the time axis, or side by
    side); a table without items gets a figure saying so and no panels."""
    kinds = kinds_of(items)
    n = len(kinds)
    size = (min(max(4.2 * n + 1.5, 10), 14), 6) if across else (11, height * max(n, 1) + 1.4)
    fig = ChartFigure(figsize=size, layout=ConstrainedLayoutEngine(w_pad=0.1))  # margin labels
    if not n:
        ax = fig.subplots()
        ax.set_axis_off()
        _note(ax, "no work items in the table")
        fig.suptitle(f"{title}: no work items")
        return fig, [], []
    shape = (1, n) if across else (n, 1)
    axes = fig.subplots(*shape, sharex=not across, squeeze=False).ravel().tolist()
    return fig, axes, kinds


def _panel_title(ax: Axes, kind: str, text: str) -> None:
    colour = KIND_COLOURS.get(kind, BASELINE_GREY)
    ax.set_title(f"{kind}: {text}", loc="left", fontsize=10, color=colour)


def _date_axis(ax: Axes) -> None:
    locator = AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))


def _legend_below(fig: Figure, handles: Sequence[Artist]) -> None:
    """One row of legend under the panels, clear of the titles and of the data."""
    fig.legend(handles=handles, loc="outside lower center", ncols=4, fontsize=9, frameon=False)


def _margin_text(ax: Axes, y: float, text: str, colour: str = "black") -> None:
    """A label in the margin right of the axes, at height ``y`` (data units)."""
    where: dict[str, Any] = {"transform": ax.get_yaxis_transform(), "ha": "left", "va": "center"}
    ax.text(1.01, y, text, fontsize=8.5, color=colour, clip_on=False, **where)


def _days_text(value: float) -> str:
    return f"{value:.1f}" if value < 10 else f"{value:.0f}"


def _reference_lines(ax: Axes, stats: CycleStats, top: float) -> None:
    """The Kaplan-Meier percentiles as lines across the panel, labelled in the right
    margin (never over the data), nudged apart where close; y from 0 to above both
    ``top`` and the highest line.  A percentile not reached is said at the top."""
    finite = [v for v in stats.km.values() if math.isfinite(v)]
    high = max([top, *finite]) * 1.1 or 1.0
    ax.set_ylim(0, high)
    labels = []
    for q, value in stats.km.items():
        colour, style = _LINE_STYLES.get(q, (BASELINE_GREY, "--"))
        if math.isfinite(value):
            ax.axhline(value, color=colour, ls=style, lw=1.5, zorder=2)
            labels.append((value, f"{q:g}%: {_days_text(value)} d", colour))
        elif not math.isnan(value):
            labels.append((high, f"{q:g}%: not reached\n(> {_days_text(stats.longest)} d)", colour))
    previous = -math.inf
    for value, text, colour in sorted(labels):
        previous = max(value, previous + 0.075 * high)
        _margin_text(ax, previous, text, colour)


def _kind_stats(times: pd.DataFrame, kind: str) -> CycleStats:
    rows = times[(times["kind"] == kind) & times["estimate"]]
    return cycle_stats(rows["days"], rows["done"])


def _span(items: pd.DataFrame, end: pd.Timestamp) -> str:
    first, last = items["created"].min(), items["created"].max()
    return (
        f"{len(items)} items created {first:%Y-%m-%d} to {last:%Y-%m-%d}; data end {end:%Y-%m-%d}"
    )


def _none_done(items: pd.DataFrame) -> str:
    return "" if items["done"].notna().any() else "; no item done yet"


# ---------------------------------------------------------------- the charts
def items_cumulative_flow(items: pd.DataFrame, end: End = None) -> Figure:
    """Cumulative flow diagram of each kind: per day, done, in progress and waiting.

    Bands from the bottom: items done, started but not done, created but not started;
    the top edge is the cumulative arrivals.  The vertical distance between edges is
    the work in each state on a day, the horizontal distance roughly the time in it.
    """
    title = "Cumulative flow of work items"
    fig, axes, kinds = _panels(items, title, 2.6)
    stop = data_end(items, end)
    states = {"done": "done", "in_progress": "in progress", "waiting": "waiting"}
    for ax, kind in zip(axes, kinds, strict=True):
        flow = cfd_counts(items, stop, kind)
        labels = ["done", "in progress (started, not done)", "waiting (created, not started)"]
        colours = [STAGE_COLOURS[s] for s in states.values()]
        ax.stackplot(
            flow.index, *[flow[c] for c in states], labels=labels, colors=colours, alpha=0.9, lw=0
        )
        ax.plot(
            flow.index,
            flow["arrived"],
            color="black",
            lw=1.2,
            label="arrived (created, cumulative)",
        )
        last = flow.iloc[-1]
        counts = ", ".join(f"{last[c]} {s}" for c, s in states.items())
        _panel_title(ax, kind, f"{last['arrived']} arrived; at the end {counts}")
        ax.set_ylim(bottom=0)
        ax.set_ylabel("items (cumulative)")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        _date_axis(ax)
    if not kinds:
        return fig
    _legend_below(fig, axes[0].get_legend_handles_labels()[0][::-1])
    days = cfd_counts(items, stop).index
    axes[0].set_xlim(days[0], days[-1])
    axes[-1].set_xlabel("day (UTC)")
    unknown = int((items["done"].notna() & items["started"].isna()).sum())
    note = (
        f"\n{unknown} done items with no known start went from waiting straight to done"
        if unknown
        else ""
    )
    fig.suptitle(f"{title}, by kind{_none_done(items)}\n{_span(items, stop)}{note}", fontsize=11)
    return fig


def items_cycle_time_scatter(items: pd.DataFrame, end: End = None) -> Figure:
    """Each done item at its done date against its cycle time in days, by kind.

    Filled dots: from the start of work to done; hollow: from creation to done, where
    the start is unknown (:func:`cycle_times` says which clock each kind uses).  The
    50th, 85th and 95th percentile lines are Kaplan-Meier estimates with the open items
    censored at their age so far (:func:`cycle_stats`), labelled right of the panel.
    """
    title = f"Cycle time of each done item ({KM_NOTE})"
    fig, axes, kinds = _panels(items, title, 2.8)
    stop = data_end(items, end)
    times = cycle_times(items, stop)
    for ax, kind in zip(axes, kinds, strict=True):
        rows = times[times["kind"] == kind]
        done = rows[rows["done"]]
        stats = _kind_stats(times, kind)
        colour = KIND_COLOURS.get(kind, BASELINE_GREY)
        at, known = _naive_utc(done["at"]), done["from_start"].to_numpy()
        ax.scatter(at[known], done["days"][known], s=14, color=colour, alpha=0.7, lw=0, zorder=3)
        ax.scatter(
            at[~known],
            done["days"][~known],
            s=16,
            facecolors="none",
            edgecolors=colour,
            lw=0.8,
            zorder=3,
        )
        _reference_lines(ax, stats, float(done["days"].max()) if len(done) else 1.0)
        if done.empty:
            _note(ax, "no item done yet: no cycle times", small=True)
        waiting = int((rows["stage"] == "waiting").sum())
        if rows["clock"].iloc[0] == "start":
            text = f"{len(done)} done, {stats.censored} in progress (censored)"
            text += f", {waiting} waiting (not started: left out)" if waiting else ""
            if (~known).any():
                text += f"; {(~known).sum()} done with no known start: from creation (hollow)"
            ax.set_ylabel("cycle time (days)\nstart to done")
        else:
            text = f"{len(done)} done, {stats.censored} open (censored); start mostly unknown"
            ax.set_ylabel("lead time (days)\ncreated to done")
        _panel_title(ax, kind, text)
        _date_axis(ax)
    if not kinds:
        return fig
    axes[0].set_xlim(
        _naive_utc(items["created"]).min().floor("D"), stop.tz_localize(None).ceil("D")
    )
    dot: dict[str, Any] = {"ls": "", "marker": "o", "color": BASELINE_GREY}
    marks = [Line2D([], [], label="start to done", **dot)]
    marks.append(Line2D([], [], mfc="none", label="created to done (start unknown)", **dot))
    used = times.loc[times["done"], "from_start"]
    _legend_below(fig, [m for m, u in zip(marks, (used.any(), (~used).any()), strict=True) if u])
    axes[-1].set_xlabel("done date (UTC)")
    fig.suptitle(
        "Cycle time of each done item, by kind (calendar days: start to done where the start "
        f"is known, else created to done)\n{KM_NOTE} at their age on the data's end "
        f"({stop:%Y-%m-%d}){_none_done(items)}",
        fontsize=11,
    )
    return fig


def items_throughput(items: pd.DataFrame, end: End = None) -> Figure:
    """Items done per calendar week (Monday to Sunday, UTC), by kind, with the median
    week as a dashed line labelled right of the panel."""
    title = "Throughput: items done per week"
    fig, axes, kinds = _panels(items, title, 2.2)
    stop = data_end(items, end)
    weekly = weekly_counts(items, "done", stop)
    for ax, kind in zip(axes, kinds, strict=True):
        counts = weekly[kind]
        median = float(counts.median())
        colour = KIND_COLOURS.get(kind, BASELINE_GREY)
        ax.bar(weekly.index + DAY * 3.5, counts, width=6, color=colour, alpha=0.8)
        ax.axhline(median, color="black", ls="--", lw=1.3, zorder=3)
        _margin_text(ax, median, f"median\n{median:g}/week")
        ax.set_ylim(0, max(float(counts.max()), 1.0) * 1.12)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("items / week")
        _panel_title(
            ax, kind, f"{counts.sum()} done in {len(counts)} weeks, mean {counts.mean():.2f}/week"
        )
        if not counts.any():
            _note(ax, "no item done yet", small=True)
        _date_axis(ax)
    if not kinds:
        return fig
    axes[0].set_xlim(weekly.index[0], weekly.index[-1] + 7 * DAY)
    axes[-1].set_xlabel("week (Monday to Sunday, UTC)")
    fig.suptitle(f"{title}, by kind{_none_done(items)}\n{_span(items, stop)}", fontsize=11)
    return fig


def items_ageing_wip(items: pd.DataFrame, end: End = None) -> Figure:
    """Each open item's age at the data's end, by kind and stage, against history.

    One panel per kind, one column per stage: waiting (age since creation) and in
    progress (age since the start, or since creation on the ``created`` clock).  The
    lines are the kind's Kaplan-Meier 50th, 85th and 95th cycle-time percentiles
    (:func:`cycle_stats`): an item above the 85% line is older than 85% of the kind's
    items were when they finished.
    """
    title = "Ageing work in progress"
    fig, axes, kinds = _panels(items, title, 0, across=True)
    stop = data_end(items, end)
    times = cycle_times(items, stop)
    rng = np.random.default_rng(0)
    stages = ("waiting", "in progress")
    for ax, kind in zip(axes, kinds, strict=True):
        rows = times[(times["kind"] == kind) & ~times["done"]]
        stats = _kind_stats(times, kind)
        for i, stage in enumerate(stages):
            ages = rows.loc[rows["stage"] == stage, "days"].to_numpy()
            jitter = rng.uniform(-0.18, 0.18, len(ages))
            ax.scatter(
                i + jitter,
                ages,
                s=34,
                color=STAGE_COLOURS[stage],
                edgecolors="black",
                lw=0.5,
                zorder=4,
            )
        _reference_lines(ax, stats, float(rows["days"].max()) if len(rows) else 1.0)
        counts = rows["stage"].value_counts()
        ax.set_xticks(range(len(stages)), [f"{s}\n({counts.get(s, 0)})" for s in stages])
        ax.set_xlim(-0.6, len(stages) - 0.4)
        history = f"{stats.done} done" if stats.done else "none done: no cycle times"
        clock = "; ages since creation" if rows["clock"].eq("created").any() else ""
        _panel_title(ax, kind, f"{len(rows)} open, {history}{clock}")
        if rows.empty:
            _note(ax, "no open item", small=True)
    if not kinds:
        return fig
    axes[0].set_ylabel("age at the data's end (days)")
    _legend_below(fig, [Patch(color=STAGE_COLOURS[s], label=s) for s in stages])
    n_open = int(items["done"].isna().sum())
    state = f"{n_open} open items" if n_open else "no open item at the data's end"
    fig.suptitle(
        f"{title} at the data's end ({stop:%Y-%m-%d}): {state}{_none_done(items)}\n"
        f"age since the start (in progress) or since creation (waiting)\nlines: {KM_NOTE}",
        fontsize=11,
    )
    return fig
