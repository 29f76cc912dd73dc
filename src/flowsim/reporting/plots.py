"""Charts of a study's results folder (see :func:`flowsim.storage.read_study`).

Every chart is a function of a :class:`~flowsim.storage.StudyResults` that returns a
:class:`matplotlib.figure.Figure` (a :class:`ChartFigure`, which also shows itself
as a PNG in Jupyter).  Figures are built directly, never through ``pyplot``: no
global state, no interactive backend, nothing to close; ``fig.savefig(path)``
renders with Agg.  Each scenario keeps one colour in every chart
(:func:`scenario_colours`), time axes are in weeks (5 working days), and every
quantity computed from replications is a mean over them (with a Student-t 95%
interval where a band is drawn).

Charts of one scenario default to the study's reference scenario.  A chart that does
not apply to a study (no sweep, no MSER-5 pilot, no daily series) raises
:class:`NotApplicable`, a ``ValueError``; :func:`study_figures` skips those.
"""

from __future__ import annotations

import io
import math
import re
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter
from scipy import stats as sps

from flowsim.model.catalogue import LEAD_ACTIVITIES, describe_metric
from flowsim.storage import StudyResults

__all__ = [
    "ACTIVITY_COLOURS",
    "ChartFigure",
    "NotApplicable",
    "ageing_wip",
    "arr_over_time",
    "contractor_time",
    "cumulative_flow",
    "forest_plot",
    "health_mix",
    "lead_time_scatter",
    "lead_week",
    "scenario_colours",
    "study_figures",
    "sweep_curve",
    "throughput_run_chart",
    "warmup_plot",
]

DAYS_PER_WEEK = 5
WEEKS_PER_QUARTER = 13
LEVEL = 0.95


class NotApplicable(ValueError):
    """The chart does not apply to this study (e.g. no sweep, no warm-up pilot)."""


class ChartFigure(Figure):
    """A :class:`~matplotlib.figure.Figure` that Jupyter shows as a PNG without pyplot.

    A figure made without ``pyplot`` has no inline-backend display hook, so a
    notebook cell ending in ``lead_week(study)`` would show only its text repr;
    ``_repr_png_`` renders it with Agg instead.  (Where the inline backend is active,
    its own formatter is used, as for any figure.)
    """

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()


# ---------------------------------------------------------------- colours
BASELINE_GREY = "#4d4d4d"
# Hue families of the sequential maps used for sweeps, and the qualitative colours
# (tab10 without grey) of those families: a standalone scenario never takes the hue
# of a sweep drawn in the same study.
_SWEEP_MAPS = ("Blues", "Oranges", "Greens", "Purples", "Reds")
_QUALITATIVE = {
    "#1f77b4": "Blues",
    "#ff7f0e": "Oranges",
    "#2ca02c": "Greens",
    "#d62728": "Reds",
    "#9467bd": "Purples",
    "#8c564b": "",
    "#e377c2": "",
    "#bcbd22": "",
    "#17becf": "",
}
_EXTRA = ("#393b79", "#8c6d31", "#843c39", "#7b4173", "#637939", "#3182bd", "#e6550d")

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

_SWEEP_NAME = re.compile(r"^(?P<prefix>[^\[\]]+)\[(?P<key>[^=\[\],]+)=(?P<value>[^\[\],]+)\]$")


@dataclass(frozen=True)
class _SweepPoint:
    prefix: str
    key: str
    value: float
    name: str


def _parse_sweep(name: str) -> _SweepPoint | None:
    """``wip[limit=3]`` -> (wip, limit, 3.0); None for other names or non-numeric values."""
    match = _SWEEP_NAME.match(name)
    if match is None:
        return None
    try:
        value = float(match["value"])
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    return _SweepPoint(match["prefix"], match["key"], value, name)


def _sweeps(names: Sequence[str]) -> dict[str, list[_SweepPoint]]:
    """Sweep prefix -> its points sorted by value, prefixes in order of first appearance."""
    groups: dict[str, list[_SweepPoint]] = {}
    for name in names:
        point = _parse_sweep(name)
        if point is not None:
            groups.setdefault(point.prefix, []).append(point)
    return {prefix: sorted(points, key=lambda p: p.value) for prefix, points in groups.items()}


def scenario_colours(names: list[str]) -> dict[str, str]:
    """A colour (hex string) per scenario, the same in every chart of a study.

    ``baseline`` is dark grey.  The members of a numeric sweep (names like
    ``wip[limit=3]``, two or more values) get shades of one sequential colour map,
    light to dark with the swept value, so the order of the sweep reads off the
    colour; every other scenario gets a distinct qualitative colour whose hue no
    sweep uses.  The result depends only on the list, so every chart of a study
    (which all call this with ``study.names``) agrees.

    Parameters
    ----------
    names : list of str
        Scenario names, in study order.

    Returns
    -------
    dict of str to str
        Scenario name -> colour as ``#rrggbb``.

    Examples
    --------
    >>> colours = scenario_colours(["baseline", "advisor", "wip[limit=1]", "wip[limit=4]"])
    >>> colours["baseline"]
    '#4d4d4d'
    >>> colours["wip[limit=1]"] != colours["wip[limit=4]"]
    True
    """
    sweeps = {p: pts for p, pts in _sweeps(names).items() if len(pts) >= 2}
    colours: dict[str, str] = {}
    used_maps: list[str] = []
    for i, (_, points) in enumerate(sweeps.items()):
        cmap_name = _SWEEP_MAPS[i % len(_SWEEP_MAPS)]
        used_maps.append(cmap_name)
        cmap = colormaps[cmap_name]
        shades = np.linspace(0.4, 0.95, len(points))
        for point, shade in zip(points, shades, strict=True):
            colours.setdefault(point.name, to_hex(cmap(float(shade))))
    palette = [c for c, family in _QUALITATIVE.items() if family not in used_maps]
    palette += list(_EXTRA)
    k = 0
    for name in names:
        if name in colours:
            continue
        if name == "baseline":
            colours[name] = BASELINE_GREY
        else:
            colours[name] = palette[k % len(palette)]
            k += 1
    return {name: colours[name] for name in names}


# ---------------------------------------------------------------- shared helpers
def _scenario(study: StudyResults, scenario: str | None) -> str:
    name = study.reference if scenario is None else scenario
    if name not in study.names:
        raise ValueError(f"unknown scenario {name!r}; the study has {', '.join(study.names)}")
    return name


def _scenario_list(study: StudyResults, scenarios: Sequence[str] | None) -> list[str]:
    if scenarios is None:
        return list(study.names)
    names = list(scenarios)
    unknown = [n for n in names if n not in study.names]
    if unknown:
        raise ValueError(
            f"unknown scenario(s) {', '.join(unknown)}; the study has {', '.join(study.names)}"
        )
    if not names:
        raise ValueError("no scenarios to draw")
    return names


def _config(study: StudyResults, scenario: str) -> dict[str, Any]:
    for s in study.manifest["scenarios"]:
        if s["name"] == scenario:
            config: dict[str, Any] = s.get("resolved_config", {})
            return config
    return {}


def _simulation(study: StudyResults, scenario: str, key: str, default: float) -> float:
    value = _config(study, scenario).get("simulation", {}).get(key)
    return default if value is None else float(value)


def _warmup_weeks(study: StudyResults, scenario: str) -> float:
    return _simulation(study, scenario, "warmup_weeks", 0.0)


def _horizon_weeks(study: StudyResults, scenario: str) -> float:
    default = float(study.timeseries["day"].max() + 1) / DAYS_PER_WEEK
    return _simulation(study, scenario, "horizon_weeks", default)


def _replications(study: StudyResults, scenario: str) -> int:
    return int((study.per_rep["scenario"] == scenario).sum())


def _reps_text(n: int) -> str:
    return f"{n} replication{'s' if n != 1 else ''}"


def _series(study: StudyResults, scenario: str) -> pd.DataFrame:
    """The daily rows of one scenario (every replication)."""
    ts = study.timeseries
    if ts.empty or "scenario" not in ts.columns:
        raise NotApplicable("the study has no daily time series")
    rows = ts[ts["scenario"] == scenario]
    if rows.empty:
        raise NotApplicable(f"no daily time series for scenario {scenario!r}")
    return rows


def _customers(study: StudyResults, scenario: str) -> pd.DataFrame:
    cust = study.customers
    if cust.empty or "scenario" not in cust.columns:
        raise NotApplicable("the study has no customer table (customers.parquet)")
    return cust[cust["scenario"] == scenario]


def _mean_over_reps(rows: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Mean of ``columns`` over replications, one row per day (indexed by day)."""
    return rows.groupby("day", sort=True)[list(columns)].mean()


def _mean_ci(rows: pd.DataFrame, by: str, column: str, level: float = LEVEL) -> pd.DataFrame:
    """Per value of ``by``: mean of ``column`` and its Student-t interval across rows.

    The vectorised form of :func:`flowsim.stats.mean_ci` (NaNs left out; fewer than
    two values give a NaN interval).
    """
    out = rows.groupby(by, sort=True)[column].agg(["mean", "std", "count"])
    n = out["count"].to_numpy(dtype=float)
    quantile = sps.t.ppf(0.5 + level / 2, np.maximum(n - 1, 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        half = np.where(n >= 2, quantile * out["std"].to_numpy() / np.sqrt(n), np.nan)
    out["low"] = out["mean"] - half
    out["high"] = out["mean"] + half
    return out


def _weeks(days: pd.Index | pd.Series | np.ndarray) -> np.ndarray:
    return np.asarray(days, dtype=float) / DAYS_PER_WEEK


def _shade_warmup(ax: Axes, weeks: float, label: bool = True) -> None:
    if weeks > 0:
        ax.axvspan(
            0,
            weeks,
            color="#9e9e9e",
            alpha=0.18,
            lw=0,
            label="warm-up (left out of the summaries)" if label else "_nolegend_",
            zorder=0,
        )


def _note(ax: Axes, text: str) -> None:
    """A message in the middle of an empty chart."""
    ax.text(
        0.5,
        0.5,
        text,
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=12,
        color="#555555",
        bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "#bbbbbb"},
    )


def _tick_name(name: str, width: int = 20) -> str:
    """A scenario name for an axis tick: long names break before a bracket or after an
    underscore, never inside a word."""
    if len(name) <= width:
        return name
    if "[" in name:
        head, _, tail = name.partition("[")
        return f"{head}\n[{tail}"
    lines = [""]
    for part in re.split(r"(?<=[_\-. ])", name):
        if lines[-1] and len(lines[-1]) + len(part) > width:
            lines.append("")
        lines[-1] += part
    return "\n".join(lines)


def _money(value: float, _pos: object = None) -> str:
    """800k, 1.25M: currency for an axis."""
    size = abs(value)
    if size >= 1e6:
        return f"{value / 1e6:.2f}".rstrip("0").rstrip(".") + "M"
    if size >= 1e3:
        return f"{value / 1e3:.0f}k"
    return f"{value:.0f}"


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
    """Horizontal lines at the percentiles of ``lead_days``, labelled at the right edge
    (and in the legend); with ``bands``, the stretches between them shaded green to red."""
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
    # Room above the highest line, and labels nudged apart where lines are close.
    ax.relim()
    ax.autoscale_view()
    low, high = ax.get_ylim()
    low, high = min(low, 0.0), max(high, max(v for _, v, _, _ in lines) * 1.12)
    ax.set_ylim(low, high)
    gap = 0.055 * (high - low)
    previous = -math.inf
    for q, value, colour, _ in sorted(lines, key=lambda line: line[1]):
        y = max(value, previous + gap)
        previous = y
        ax.text(
            0.995,
            y,
            _percentile_label(q, value),
            transform=ax.get_yaxis_transform(),
            ha="right",
            va="bottom",
            fontsize=9,
            color=colour,
            bbox={"boxstyle": "square,pad=0.15", "facecolor": "white", "alpha": 0.8, "lw": 0},
            zorder=5,
        )


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


# ---------------------------------------------------------------- flow charts
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
    ax.set_title(f"{title}\n{name}: mean of {_reps_text(_replications(study, name))}")
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
    ax.set_title(f"Onboarding lead time of each go-live: {name}\n{counts}")
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
    ax_live.bar(
        golives.index - 0.5,
        golives.to_numpy(),
        width=0.9,
        color=colour,
        alpha=0.55,
        label="go-lives per week (mean over replications)",
    )
    ax_live.plot(
        golives.index,
        golives.rolling(WEEKS_PER_QUARTER, min_periods=1).mean(),
        color="black",
        lw=1.5,
        label="13-week moving average",
    )
    ax_live.set_ylabel("go-lives\n(customers/week)")
    ax_live.set_ylim(bottom=0)
    _legend_above(ax_live)
    if not golives.any():
        _note(ax_live, "no customer went live")
    fig.suptitle(
        f"Throughput and work in progress: {name} (mean of "
        f"{_reps_text(_replications(study, name))})"
    )

    closed = _weekly(rows, "tickets_closed")
    created = _weekly(rows, "tickets_created")
    ax_tickets.bar(
        closed.index - 0.5,
        closed.to_numpy(),
        width=0.9,
        color="#2e7d32",
        alpha=0.5,
        label="tickets closed per week",
    )
    ax_tickets.plot(
        closed.index,
        closed.rolling(WEEKS_PER_QUARTER, min_periods=1).mean(),
        color="#1b5e20",
        lw=1.5,
        label="closed, 13-week moving average",
    )
    ax_tickets.plot(
        created.index,
        created.rolling(WEEKS_PER_QUARTER, min_periods=1).mean(),
        color="#ef6c00",
        lw=1.5,
        ls="--",
        label="created, 13-week moving average",
    )
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


def _legend_above(ax: Axes, handles: list[Any] | None = None) -> None:
    """A one-row legend just above an axes, clear of the data."""
    ax.legend(
        handles=handles if handles is not None else ax.get_legend_handles_labels()[0],
        loc="lower left",
        bbox_to_anchor=(0, 1.0),
        ncols=4,
        fontsize=8,
        frameon=False,
        borderaxespad=0.2,
    )


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
        f"Ageing work in progress: {name}\n{len(ages)} onboardings open at the end of "
        f"{_reps_text(n_reps)}\n{history}"
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


# ---------------------------------------------------------------- the lead and the team
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


# ---------------------------------------------------------------- customers and revenue
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


# ---------------------------------------------------------------- comparisons
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
            _note_small(
                ax,
                f"undefined for every scenario:\nno value in {study.reference!r}\n"
                "in some replication\n(e.g. no go-live)",
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


def _note_small(ax: Axes, text: str) -> None:
    ax.text(
        0.5,
        0.5,
        text,
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=8,
        color="#555555",
        bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "#ccc"},
    )


def _pad_around_zero(ax: Axes) -> None:
    """Keep zero inside the x range, with a little room either side."""
    low, high = ax.get_xlim()
    low, high = min(low, 0.0), max(high, 0.0)
    pad = 0.08 * (high - low or 1.0)
    ax.set_xlim(low - pad, high + pad)


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
        Two axes.

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

    mm1 = [mm1_time_in_system_days(_config(study, p.name)) for p in points]
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


def mm1_time_in_system_days(config: dict[str, Any]) -> float | None:
    """Mean time in system of the M/M/1 queue a config reduces to, in working days.

    A config reduces to M/M/1 when every mechanism that is not a plain queue is off
    (context switching, interrupts, calls, churn, quality, platform, sales, hiring),
    nobody but the lead works, he serves FIFO, and tickets come in one class with
    exponential effort that all need him. Then W = 1/(μ - λ), with λ the ticket rate
    of the live customers and μ his capacity over the mean effort. ``None`` when the
    config does not reduce to M/M/1 or the queue is unstable.
    """
    c = config
    if not c:
        return None
    classes = c["tickets"]["classes"]
    team = c["team"]
    if (
        c["context_switching"]["enabled"]
        or c["interrupts"]["enabled"]
        or c["status_calls"]["enabled"]
        or c["churn"]["enabled"]
        or c["quality"]["enabled"]
        or c["platform"]["enabled"]
        or c["sales"]["new_customers_per_month"] > 0
        or team["contractors"] + team["engineers"] + team["support"] > 0
        or c["hiring"]["plan"]
        or c["lead"]["prioritisation"]["policy"] != "fifo"
        or len(classes) != 1
    ):
        return None
    (only,) = classes.values()
    if only["effort"]["kind"] != "exponential" or only["lead_share"] < 1:
        return None
    week = 5 * c["simulation"]["hours_per_day"]
    lam = c["tickets"]["per_customer_per_week"] * c["customers"]["initial_live"] / week
    mu = c["lead"]["capacity_hours_per_week"] / week / only["effort"]["mean"]
    if lam >= mu:
        return None
    return 1 / (mu - lam) / c["simulation"]["hours_per_day"]


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


def warmup_plot(study: StudyResults) -> Figure:
    """The MSER-5 pilot series with the chosen warm-up truncation marked.

    ``study.warmup`` holds the daily series (mean of the pilot replications of the
    reference scenario) that MSER-5 chose the warm-up on, and the truncation day.
    The truncated stretch is shaded; the dashed line is the mean of what remains.

    Parameters
    ----------
    study : StudyResults

    Returns
    -------
    Figure
        One axes per pilot series.

    Raises
    ------
    ValueError
        If the study's warm-up was not chosen by MSER-5 (:class:`NotApplicable`).

    Examples
    --------
    >>> from flowsim.storage import read_study
    >>> study = read_study("results/slow_down_to_speed_up")  # doctest: +SKIP
    >>> warmup_plot(study).savefig("warmup.png")  # doctest: +SKIP
    """
    pilot = study.warmup
    if pilot is None or pilot.empty:
        raise NotApplicable("the study's warm-up was not chosen by MSER-5 (no warmup.csv)")
    series = [c for c in pilot.columns if c not in ("day", "truncation_day")]
    truncation = float(pilot["truncation_day"].iloc[0]) if "truncation_day" in pilot else 0.0
    x = _weeks(pilot["day"])
    fig = ChartFigure(figsize=(10, 1.5 + 3.5 * len(series)), layout="constrained")
    axes = fig.subplots(len(series), 1, squeeze=False)[:, 0]
    for ax, column in zip(axes, series, strict=True):
        values = pilot[column].to_numpy(dtype=float)
        ax.axvspan(
            0,
            truncation / DAYS_PER_WEEK,
            color="#9e9e9e",
            alpha=0.25,
            lw=0,
            label="truncated (warm-up)",
        )
        ax.plot(x, values, color="#1565c0", lw=1.3, label=f"{column} (pilot mean)")
        ax.axvline(
            truncation / DAYS_PER_WEEK,
            color="#b71c1c",
            lw=1.8,
            label=f"truncation: day {truncation:g} (week {truncation / DAYS_PER_WEEK:g})",
        )
        kept = values[pilot["day"].to_numpy(dtype=float) >= truncation]
        if len(kept):
            ax.axhline(
                float(np.mean(kept)), color="black", ls="--", lw=1, label="mean after truncation"
            )
        ax.set_ylabel(f"{column.replace('_', ' ')} ({_SERIES_UNITS.get(column, 'value')})")
        ax.set_xlim(0, x[-1] if len(x) else 1)
        ax.legend(loc="best", fontsize=9)
    axes[-1].set_xlabel("time (weeks)")
    ref = study.reference
    axes[0].set_title(
        f"Warm-up chosen by MSER-5 on a pilot of the reference scenario ({ref}): "
        f"{truncation / DAYS_PER_WEEK:g} weeks"
    )
    return fig


_SERIES_UNITS = {
    "onboarding": "customers",
    "signed_backlog": "customers",
    "live": "customers",
    "churned": "customers",
    "lost_deals": "customers",
    "lead_backlog": "items",
    "lead_started": "items",
    "team_queue": "items",
    "tickets_open": "tickets",
    "forgotten_open": "items",
    "green": "customers",
    "yellow": "customers",
    "red": "customers",
    "arr": "currency/year",
    "lead_efficiency": "share",
}


# ---------------------------------------------------------------- every chart
def best_scenario(study: StudyResults) -> str | None:
    """The scenario with the most go-lives per quarter (mean over replications), when
    it beats the reference: the one whose flow a reader of the report wants to see
    next to the reference's. ``None`` when the reference is best or nobody goes live."""
    if "go_lives_per_quarter" not in study.per_rep.columns:
        return None
    means = study.per_rep.groupby("scenario", sort=False)["go_lives_per_quarter"].mean()
    if means.empty or not means.max() > means.get(study.reference, -np.inf):
        return None
    return str(means.idxmax())


def study_figures(study: StudyResults) -> dict[str, Figure]:
    """Every chart that applies to a study, keyed by a short file-name-friendly name.

    Keys, in report order: ``sweep_curve`` (if the study has a sweep of at least 3
    values), ``forest``, ``lead_week``, ``contractors``, ``arr``, ``health``,
    ``cfd_onboarding``, ``cfd_tickets``, ``lead_time_scatter``, ``throughput``,
    ``ageing_wip`` (the single-scenario charts show the reference scenario); the
    same single-scenario charts for the scenario with the most go-lives per
    quarter, when that is not the reference, keyed ``<chart>__<scenario>`` (see
    :func:`best_scenario`); and ``warmup`` (if the warm-up was chosen by MSER-5).
    A chart that does not apply (:class:`NotApplicable`) is left out; any other
    error propagates.

    Parameters
    ----------
    study : StudyResults

    Returns
    -------
    dict of str to Figure

    Examples
    --------
    >>> from flowsim.storage import read_study
    >>> study = read_study("results/slow_down_to_speed_up")  # doctest: +SKIP
    >>> for name, fig in study_figures(study).items():  # doctest: +SKIP
    ...     fig.savefig(f"figures/{name}.png", dpi=110)
    """
    charts: list[tuple[str, Callable[[], Figure]]] = [
        ("sweep_curve", lambda: sweep_curve(study)),
        ("forest", lambda: forest_plot(study)),
        ("lead_week", lambda: lead_week(study)),
        ("contractors", lambda: contractor_time(study)),
        ("arr", lambda: arr_over_time(study)),
        ("health", lambda: health_mix(study)),
        ("cfd_onboarding", lambda: cumulative_flow(study, "onboarding")),
        ("cfd_tickets", lambda: cumulative_flow(study, "tickets")),
        ("lead_time_scatter", lambda: lead_time_scatter(study)),
        ("throughput", lambda: throughput_run_chart(study)),
        ("ageing_wip", lambda: ageing_wip(study)),
    ]
    best = best_scenario(study)
    if best is not None:
        tag = "__" + re.sub(r"[^A-Za-z0-9]+", "_", best).strip("_")
        charts += [
            ("health" + tag, lambda: health_mix(study, best)),
            ("cfd_onboarding" + tag, lambda: cumulative_flow(study, "onboarding", best)),
            ("lead_time_scatter" + tag, lambda: lead_time_scatter(study, best)),
            ("throughput" + tag, lambda: throughput_run_chart(study, best)),
            ("ageing_wip" + tag, lambda: ageing_wip(study, best)),
        ]
    charts.append(("warmup", lambda: warmup_plot(study)))
    figures: dict[str, Figure] = {}
    for key, build in charts:
        try:
            figures[key] = build()
        except NotApplicable:
            continue
    return figures
