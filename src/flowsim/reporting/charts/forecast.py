"""Charts of a forecast (each customer's go-live dates, the go-lives to come) and of a
backtest (the forecast against what happened)."""

from __future__ import annotations

import io
import math
from pathlib import Path

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from flowsim.forecast.backtest import Backtest
from flowsim.forecast.run import Forecast
from flowsim.forecast.summary import end_dates
from flowsim.reporting.charts.base import ChartFigure, scenario_colours
from flowsim.storage import write_bytes


def save_figure(fig: Figure, path: Path, dpi: int = 100) -> None:
    """Write ``fig`` as a PNG, atomically."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    write_bytes(path, buffer.getvalue())


def _dates(fc: Forecast, days: np.ndarray) -> np.ndarray:
    return np.array([fc.date(d) for d in days], dtype="datetime64[D]")


def golive_dates(ax: Axes, fc: Forecast, colours: dict[str, str]) -> None:
    """Each customer onboarding or signed at the start: its go-live date at 50% (dot),
    to 85% (thick) and to 95% (thin), one line per scenario; an arrow where the
    percentile is beyond the horizon."""
    table = end_dates(fc, "customer")
    names = list(dict.fromkeys(table["name"]))
    k = len(fc.scenarios)
    step = 0.8 / max(k, 1)
    end = fc.date(fc.horizon_days)
    for i, name in enumerate(names):
        for j, scenario in enumerate(fc.scenarios):
            row = table[(table["name"] == name) & (table["scenario"] == scenario)].iloc[0]
            y = i + (j - (k - 1) / 2) * step
            colour = colours[scenario]
            p50, p85, p95 = (row[f"p{q}_day"] for q in (50, 85, 95))
            x50, x85, x95 = (end if math.isinf(v) else fc.date(v) for v in (p50, p85, p95))
            ax.plot([x85, x95], [y, y], color=colour, lw=1.2)
            ax.plot([x50, x85], [y, y], color=colour, lw=4, solid_capstyle="butt")
            ax.plot([x50], [y], "o", color="white", mec=colour, ms=6, zorder=3)
            if math.isinf(p95):
                ax.annotate(
                    "",
                    xy=(end, y),
                    xytext=(-12, 0),
                    textcoords="offset points",
                    arrowprops={"arrowstyle": "->", "color": colour},
                )
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.axvline(np.datetime64(fc.state.as_of, "D"), color="#888", lw=0.8)  # type: ignore[arg-type]
    ax.set_title(
        "Each customer onboarding or signed at the start: go-live date at 50% (dot), "
        "85% (thick: a realistic promise), 95% (thin); one line per scenario, colours below",
        loc="left",
        fontsize=9.5,
    )
    ax.grid(axis="x", alpha=0.3)


def goes_live(ax: Axes, fc: Forecast, colours: dict[str, str], by_day: float | None) -> None:
    """Go-lives since the start: the median over replications and its 10-90% band."""
    daily = fc.daily
    for scenario in fc.scenarios:
        rows = daily[daily["scenario"] == scenario]
        wide = rows.pivot(index="day", columns="replication", values="went_live")
        days = wide.index.to_numpy(dtype=float)
        x = _dates(fc, days)
        lo, mid, hi = np.percentile(wide.to_numpy(dtype=float), [10, 50, 90], axis=1)
        colour = colours[scenario]
        ax.fill_between(x, lo, hi, color=colour, alpha=0.15, step="post")
        ax.step(x, mid, where="post", color=colour, lw=2, label=scenario)
    if by_day is not None:
        ax.axvline(fc.date(by_day), color="#444", ls="--", lw=1)  # type: ignore[arg-type]
        ax.annotate(
            f"by {fc.date(by_day)}",
            (fc.date(by_day), 0),
            xytext=(3, 3),
            textcoords="offset points",
            fontsize=8,
            color="#444",
        )
    ax.set_title(
        "Go-lives from the start (the customers onboarding then and those signed since): "
        "median and 10-90% of replications",
        loc="left",
        fontsize=9.5,
    )
    ax.set_ylabel("customers gone live")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", frameon=False, fontsize=8)


def forecast_figure(fc: Forecast, by_day: float | None = None) -> Figure:
    """The forecast on one page: go-live dates per customer, and go-lives to come."""
    colours = scenario_colours(fc.scenarios)
    n = max(1, len(fc.state.onboarding) + len(fc.state.signed))
    fig = ChartFigure(
        figsize=(11, 2.2 + 0.45 * n * max(1, len(fc.scenarios)) ** 0.5 + 3.2), layout="constrained"
    )
    top, bottom = fig.subplots(2, 1, height_ratios=[max(1.5, 0.5 * n), 3])
    if n and not end_dates(fc, "customer").empty:
        golive_dates(top, fc, colours)
    else:
        top.set_axis_off()
        top.text(0.5, 0.5, "no customer onboarding or signed at the start", ha="center")
    goes_live(bottom, fc, colours, by_day)
    for ax in (top, bottom):
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(mdates.AutoDateLocator()))
    fig.suptitle(
        f"Forecast from the open work of {fc.state.as_of} ({fc.replications} replications "
        "each, common random numbers)",
        fontsize=11,
    )
    return fig


def backtest_figure(bt: Backtest) -> Figure:
    """The forecast from the cutoff against what happened: tickets closed each week, the
    go-lives since the cutoff, and each item open at the cutoff."""
    fc, scores = bt.forecast, bt.scores
    weekly = scores.weekly
    items = scores.items.sort_values("p50_day", kind="stable")
    fig = ChartFigure(figsize=(11, 7.5 + 0.22 * len(items)), layout="constrained")
    top, middle, bottom = fig.subplots(
        3, 1, height_ratios=[3, 2.4, max(2.0, 0.22 * len(items) + 0.8)]
    )
    x = np.array([fc.date(5 * (w - 1)) for w in weekly["week"]], dtype="datetime64[D]")
    _bands(top, x, weekly, "tickets_closed", "tickets closed in the week")
    _golives(middle, fc, scores.golives)
    _item_intervals(bottom, fc, items)
    for ax in (top, middle, bottom):
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(mdates.AutoDateLocator()))
    fig.suptitle(
        f"Backtest from {bt.cutoff.date()}: the forecast ({fc.replications} replications) "
        "against what happened",
        fontsize=11,
    )
    fig.legend(*top.get_legend_handles_labels(), loc="outside lower center", ncols=4, frameon=False)
    return fig


def _forecast_bands(
    ax: Axes, x: np.ndarray, frame: pd.DataFrame, prefix: str, where: str, label: str
) -> None:
    """The forecast's 85% and 50% bands and median (columns ``<prefix>p7_5`` ...)."""
    for lo, hi, colour, text in (
        ("p7_5", "p92_5", "#90caf9", "85% of the forecast"),
        ("p25", "p75", "#1e88e5", "50% of the forecast"),
    ):
        ax.fill_between(
            x,
            frame[prefix + lo],
            frame[prefix + hi],
            step=where,  # type: ignore[arg-type]
            color=colour,
            alpha=0.45,
            label=text,
        )
    ax.step(x, frame[prefix + "p50"], where=where, color="#0d47a1", lw=1, label="median")  # type: ignore[arg-type]
    ax.set_ylabel(label)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)


def _bands(ax: Axes, x: np.ndarray, weekly: pd.DataFrame, count: str, label: str) -> None:
    _forecast_bands(ax, x, weekly, f"{count}_", "mid", label)
    ax.plot(x, weekly[count], "o", color="#d84315", ms=5, label="what happened")


def _golives(ax: Axes, fc: Forecast, golives: pd.DataFrame) -> None:
    x = np.array([fc.date(d) for d in golives["day"]], dtype="datetime64[D]")
    _forecast_bands(ax, x, golives, "", "post", "go-lives since the cutoff")
    ax.step(x, golives["went_live"], where="post", color="#d84315", lw=2, label="what happened")


def _item_intervals(ax: Axes, fc: Forecast, items: pd.DataFrame) -> None:
    """Each customer onboarding and item open at the cutoff: its forecast 50% and 85%
    intervals, and when it really ended (a cross: still open when the data end)."""
    end = fc.date(fc.horizon_days)
    for i, r in enumerate(items.itertuples(index=False)):
        lo85, hi85, lo50, hi50 = (
            end if math.isinf(v) else fc.date(v)
            for v in (
                r[items.columns.get_loc("low_85%")],
                r[items.columns.get_loc("high_85%")],
                r[items.columns.get_loc("low_50%")],
                r[items.columns.get_loc("high_50%")],
            )
        )
        ax.plot([lo85, hi85], [i, i], color="#90caf9", lw=5, solid_capstyle="butt")
        ax.plot([lo50, hi50], [i, i], color="#1e88e5", lw=5, solid_capstyle="butt")
        p50 = r[items.columns.get_loc("p50_day")]
        if math.isfinite(p50):
            ax.plot([fc.date(p50)], [i], "|", color="#0d47a1", ms=9, mew=2)
        if math.isnan(r.actual_day):
            ax.plot([end], [i], "x", color="#d84315", ms=6)
        else:
            ax.plot([fc.date(r.actual_day)], [i], "o", color="#d84315", ms=5)
    ax.set_yticks(
        range(len(items)), [f"{r.name} ({r.kind})" for r in items.itertuples()], fontsize=7
    )
    ax.invert_yaxis()
    ax.set_title(
        "Open at the cutoff: forecast 50% and 85% intervals, median (bar), and when it "
        "ended (x: still open when the data end)",
        loc="left",
        fontsize=9,
    )
    ax.grid(axis="x", alpha=0.3)
