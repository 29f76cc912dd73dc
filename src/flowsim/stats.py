"""Statistics across replications: means with confidence intervals, paired differences."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as sps


@dataclass(frozen=True)
class Estimate:
    """A mean over replications with its two-sided confidence interval."""

    mean: float
    half_width: float
    n: int
    level: float = 0.95

    @property
    def low(self) -> float:
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        return self.mean + self.half_width


def mean_ci(values: np.ndarray | pd.Series | list[float], level: float = 0.95) -> Estimate:
    """Mean and Student-t confidence interval of independent replication values.

    NaN values (a metric undefined in some replication, e.g. a lead time with no
    go-live) are left out; the count says how many remain.
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return Estimate(math.nan, math.nan, 0, level)
    mean = float(x.mean())
    if n == 1:
        return Estimate(mean, math.nan, 1, level)
    sd = float(x.std(ddof=1))
    half = float(sps.t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)
    return Estimate(mean, half, n, level)


def summarise_replications(per_rep: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """One row per metric: mean, CI bounds, half-width and the number of replications.

    ``per_rep`` has one row per replication and one column per metric; non-numeric
    columns are ignored.
    """
    rows = []
    for metric in per_rep.select_dtypes("number").columns:
        if metric == "replication":
            continue
        est = mean_ci(per_rep[metric], level)
        rows.append(
            {
                "metric": metric,
                "mean": est.mean,
                "ci_low": est.low,
                "ci_high": est.high,
                "half_width": est.half_width,
                "n": est.n,
            }
        )
    return pd.DataFrame(rows)
