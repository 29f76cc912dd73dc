"""Statistics across replications: the t-interval and the per-metric summary."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from flowsim.stats import mean_ci, summarise_replications


def test_mean_ci_matches_scipy_t_interval():
    x = np.array([3.1, 2.7, 4.0, 3.3, 2.9, 3.8])
    est = mean_ci(x)
    low, high = sps.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=sps.sem(x))
    assert est.mean == pytest.approx(x.mean())
    assert est.low == pytest.approx(low)
    assert est.high == pytest.approx(high)
    assert est.n == 6


def test_mean_ci_drops_nan_and_handles_tiny_samples():
    est = mean_ci([1.0, float("nan"), 3.0])
    assert est.n == 2 and est.mean == 2.0
    single = mean_ci([5.0])
    assert single.mean == 5.0 and math.isnan(single.half_width)
    empty = mean_ci([float("nan")])
    assert empty.n == 0 and math.isnan(empty.mean)


def test_interval_covers_true_mean_about_95_percent_of_the_time():
    """Coverage of the t-interval on normal samples (the property the runner relies on)."""
    rng = np.random.default_rng(7)
    trials = 2000
    hits = 0
    for _ in range(trials):
        est = mean_ci(rng.normal(10.0, 2.0, 8))
        hits += est.low <= 10.0 <= est.high
    assert abs(hits / trials - 0.95) < 0.015


def test_summarise_replications_one_row_per_numeric_metric():
    per_rep = pd.DataFrame(
        {"replication": [0, 1, 2], "a": [1.0, 2.0, 3.0], "label": ["x", "y", "z"]}
    )
    table = summarise_replications(per_rep)
    assert list(table["metric"]) == ["a"]
    row = table.iloc[0]
    assert row["mean"] == 2.0 and row["n"] == 3 and row["ci_low"] < 2.0 < row["ci_high"]
