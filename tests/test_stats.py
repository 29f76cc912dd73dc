"""Statistics across replications: the t-interval and the per-metric summary."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from flowsim.stats import mean_ci, scenario_table, summarise_replications


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


def test_scenario_table_carries_the_unstable_share_and_the_horizon_flags():
    """Each row carries its scenario's share of unstable replications; a metric that
    presumes a steady state is flagged in a scenario with any unstable replication."""
    per_rep = pd.DataFrame(
        {
            "scenario": ["a", "a", "b", "b"],
            "replication": [0, 1, 0, 1],
            "unstable": [0.0, 0.0, 1.0, 0.0],
            "go_lives": [1.0, 2.0, 3.0, 4.0],
            "ticket_resolution_mean_days": [1.0, 2.0, 30.0, 40.0],
            "ticket_urgent_mean_days": [0.5, 0.6, 9.0, 8.0],
        }
    )
    metrics = ["unstable", "go_lives", "ticket_resolution_mean_days", "ticket_urgent_mean_days"]
    table = scenario_table(per_rep, metrics).set_index(["scenario", "metric"])
    assert (table.loc["a", "unstable_share"] == 0).all()
    assert (table.loc["b", "unstable_share"] == 0.5).all()
    assert table.loc[("b", "unstable"), "mean"] == 0.5  # the same share, as a metric
    flagged = table.index[table["horizon_dependent"]].tolist()
    assert flagged == [("b", "ticket_resolution_mean_days"), ("b", "ticket_urgent_mean_days")]


def test_scenario_table_without_a_verdict_flags_nothing():
    per_rep = pd.DataFrame(
        {"scenario": ["a", "a"], "replication": [0, 1], "lead_backlog_mean": [1.0, 2.0]}
    )
    table = scenario_table(per_rep, ["lead_backlog_mean"])
    assert table["unstable_share"].isna().all() and not table["horizon_dependent"].any()
