"""What every chart family shares: the figure class, scenario colours, sweep names,
study accessors, means with CIs over replications, and small drawing helpers."""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from scipy import stats as sps

from flowsim.model.calendar import DAYS_PER_WEEK
from flowsim.storage import StudyResults

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


# ---------------------------------------------------------------- sweep names
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


# ---------------------------------------------------------------- study accessors
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
    """The scenario's resolved config as the manifest stores it; empty if it has none."""
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


# ---------------------------------------------------------------- means over replications
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


# ---------------------------------------------------------------- drawing
def _spread(values: Sequence[float], gap: float, low: float, high: float) -> list[float]:
    """Label positions near ``values`` (data units), each at least ``gap`` from the next,
    kept within ``[low, high]`` where there is room: overlapping labels are nudged
    apart symmetrically about their values' mean, never reordered.  Returned in the
    order of ``values``."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    # Clusters of labels closer than the gap, each centred on its values' mean.
    clusters: list[list[int]] = []
    for i in order:
        clusters.append([i])
        while len(clusters) > 1:
            last, before = clusters[-1], clusters[-2]
            if _cluster_bottom(before, values, gap) + len(before) * gap <= _cluster_bottom(
                last, values, gap
            ):
                break
            clusters[-2:] = [before + last]
    placed = [0.0] * len(values)
    for cluster in clusters:
        bottom = _cluster_bottom(cluster, values, gap)
        for k, i in enumerate(cluster):
            placed[i] = bottom + k * gap
    # Within the bounds where the whole stack fits: shift the top down, the bottom up.
    if len(values) and (high - low) >= gap * (len(values) - 1):
        ys = [placed[i] for i in order]
        ys[-1] = min(ys[-1], high)
        for k in range(len(ys) - 2, -1, -1):
            ys[k] = min(ys[k], ys[k + 1] - gap)
        ys[0] = max(ys[0], low)
        for k in range(1, len(ys)):
            ys[k] = max(ys[k], ys[k - 1] + gap)
        for k, i in enumerate(order):
            placed[i] = ys[k]
    return placed


def _cluster_bottom(cluster: list[int], values: Sequence[float], gap: float) -> float:
    mean = sum(values[i] for i in cluster) / len(cluster)
    return mean - gap * (len(cluster) - 1) / 2


def _margin_label(
    ax: Axes, y: float, text: str, colour: str, *, bold: bool = False, size: float = 8.5
) -> None:
    """A label in the margin right of the axes at height ``y`` (data units): outside
    the data area, so it never covers a point or a line."""
    ax.text(
        1.01,
        y,
        text,
        transform=ax.get_yaxis_transform(),
        ha="left",
        va="center",
        fontsize=size,
        color=colour,
        fontweight="bold" if bold else "normal",
        clip_on=False,
    )


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


def _note(ax: Axes, text: str, small: bool = False) -> None:
    """A message in the middle of an empty chart (``small`` for one panel of many)."""
    ax.text(
        0.5,
        0.5,
        text,
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=8 if small else 12,
        color="#555555",
        bbox={
            "boxstyle": "round",
            "facecolor": "white",
            "edgecolor": "#ccc" if small else "#bbbbbb",
        },
    )


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
