"""The warm-up MSER-5 chose: the pilot series and where it was truncated."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from flowsim.model.calendar import DAYS_PER_WEEK
from flowsim.model.catalogue import series_unit
from flowsim.reporting.charts.base import ChartFigure, NotApplicable, _weeks
from flowsim.storage import StudyResults


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
        ax.set_ylabel(f"{column.replace('_', ' ')} ({series_unit(column) or 'value'})")
        ax.set_xlim(0, x[-1] if len(x) else 1)
        ax.legend(loc="best", fontsize=9)
    axes[-1].set_xlabel("time (weeks)")
    ref = study.reference
    axes[0].set_title(
        f"Warm-up chosen by MSER-5 on a pilot of the reference scenario ({ref}): "
        f"{truncation / DAYS_PER_WEEK:g} weeks"
    )
    return fig
