"""What a replication shows of the targets' observables: summary metrics, or a daily
series summarised over the steady-state window."""

from __future__ import annotations

import numpy as np
import pandas as pd

from flowsim.config.calibration import Target
from flowsim.model.calendar import DAYS_PER_WEEK
from flowsim.model.params import Params
from flowsim.model.results import Result, simulate


def series_stat(days: np.ndarray, values: np.ndarray, stat: str) -> float:
    """A statistic of a daily series: mean, last, min, max, or least-squares trend per week."""
    if not len(values):
        return float("nan")
    if stat == "mean":
        return float(np.mean(values))
    if stat == "last":
        return float(values[-1])
    if stat == "min":
        return float(np.min(values))
    if stat == "max":
        return float(np.max(values))
    if len(values) < 2:
        return float("nan")
    slope = np.polyfit(days, values, 1)[0]  # per day
    return float(slope * DAYS_PER_WEEK)


def observables(result: Result, targets: list[Target]) -> dict[str, float]:
    """Each target's observable in one replication, by target name."""
    ts: pd.DataFrame = result.timeseries
    warmup_days = result.params.simulation.warmup_weeks * DAYS_PER_WEEK
    inside = ts[ts["day"] >= warmup_days]
    days = inside["day"].to_numpy(dtype=float)
    out = {}
    for t in targets:
        if t.metric is not None:
            out[t.name] = float(result.summary[t.metric])
        else:
            assert t.series is not None
            out[t.name] = series_stat(days, inside[t.series].to_numpy(dtype=float), t.stat)
    out["unstable"] = float(result.summary["unstable"])
    return out


def observe(
    params: Params, seed: np.random.SeedSequence, targets: list[Target]
) -> dict[str, float]:
    """One replication for a worker: run it and return only the observables."""
    return observables(simulate(params, seed=seed), targets)
