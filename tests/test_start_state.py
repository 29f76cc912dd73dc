"""Starting a run from a company's open work, and forecasting from it.

The start is checked against arithmetic nobody here wrote (a lead clearing a queue of
known work at his capacity), against conservation of work, for determinism and common
random numbers, and for its effect in the direction the domain says: open work at the
start competes for the lead, so more of it delays the go-lives.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from conftest import assert_conserved, reduced_params, with_overrides
from flowsim.config.loader import load_config
from flowsim.forecast import forecast
from flowsim.forecast.summary import counts_table, day_percentiles, end_dates
from flowsim.model import simulate
from flowsim.model.state import OpenItem, OpenOnboarding, SignedCustomer, StartState
from flowsim.model.streams import replication_seeds

AS_OF = dt.date(2026, 1, 5)
CONSTANT_4H = {
    "normal": {
        "share": 1.0,
        "effort": {"kind": "constant", "value": 4.0},
        "lead_share": 1.0,
        "target_days": 5,
    }
}


def tickets_state(n: int, age: float = 3.0) -> StartState:
    return StartState(
        as_of=AS_OF,
        live=("a", "b"),
        tickets=tuple(OpenItem(f"T{k}", "ticket", age, "normal", "a") for k in range(n)),
    )


def test_a_queue_of_known_work_clears_at_the_leads_capacity() -> None:
    """Ten open 4 h tickets, no arrivals, a lead of 8 h a day working first come first
    served: the k-th is done after 4k hours, the last on day 5, nothing else happens."""
    params = reduced_params(
        classes=CONSTANT_4H, tickets_per_week=0, horizon_weeks=4, warmup_weeks=0
    )
    result = simulate(params, 1, tickets_state(10))
    out = result.outcomes
    assert out is not None
    assert list(out["end"]) == ["done"] * 10
    np.testing.assert_allclose(sorted(out["day"]), [0.5 * (k + 1) for k in range(10)])
    # Their ages count in their resolution time: 3 days old at the start.
    closed = result.summary["ticket_resolution_mean_days"]
    assert closed == pytest.approx(3 + np.mean([0.5 * (k + 1) for k in range(10)]))
    assert_conserved(result)


def test_work_of_the_state_is_conserved_in_the_full_model() -> None:
    params = with_overrides(
        load_config("configs/baseline.yaml"),
        {"simulation": {"horizon_weeks": 20, "warmup_weeks": 0}},
    )
    result = simulate(params, 3, story_state())
    assert_conserved(result)
    out = result.outcomes
    assert out is not None
    assert set(out["name"]) == {"syc", "yew", "new", "T1", "T2", "A1", "T3", *TICKET_IDS}


TICKET_IDS = [f"K{k}" for k in range(12)]


def story_state(tickets: int = 12, tasks_left: int | None = 9) -> StartState:
    return StartState(
        as_of=AS_OF,
        live=tuple(f"c{i}" for i in range(18)),
        onboarding=(
            OpenOnboarding(
                "syc",
                60,
                6,
                (
                    OpenItem("T1", "task", 10, started=True),
                    OpenItem("T2", "task", 3),
                    OpenItem("A1", "ask", 2),
                ),
            ),
            OpenOnboarding("yew", 20, 0, (OpenItem("T3", "task", 15),), tasks_left=tasks_left),
        ),
        tickets=tuple(
            OpenItem(f"K{k}", "ticket", 5 + k, "normal", f"c{k}") for k in range(tickets)
        ),
        signed=(SignedCustomer("new", 2),),
    )


def test_same_state_and_seed_give_the_same_run() -> None:
    params = with_overrides(
        load_config("configs/baseline.yaml"),
        {"simulation": {"horizon_weeks": 10, "warmup_weeks": 0}},
    )
    a = simulate(params, 7, story_state())
    b = simulate(params, 7, story_state())
    pd.testing.assert_frame_equal(a.events, b.events)
    assert a.outcomes is not None and b.outcomes is not None
    pd.testing.assert_frame_equal(a.outcomes, b.outcomes)


def test_a_project_with_nothing_left_goes_live_at_once() -> None:
    params = reduced_params(horizon_weeks=2)
    state = StartState(as_of=AS_OF, onboarding=(OpenOnboarding("done", 40, 12, (), tasks_left=0),))
    out = simulate(params, 1, state).outcomes
    assert out is not None
    row = out.set_index("name").loc["done"]
    assert row["end"] == "live" and row["day"] == 0


def test_a_project_is_never_smaller_than_what_is_known_of_it() -> None:
    """Tasks 8-15 a project: with 14 done and 1 open, at most one more is to come, so the
    customer goes live after at most two tasks' work (in every replication)."""
    from flowsim.model.start import project_size

    params = reduced_params()
    rng = np.random.default_rng(1)
    sizes = {project_size(rng, params, 15, None) for _ in range(200)}
    assert sizes == {0}  # 15 is the most a project has
    sizes = {project_size(rng, params, 14, None) for _ in range(200)}
    assert sizes == {0, 1}
    assert project_size(rng, params, 30, None) == 0  # larger than any: nothing more
    assert project_size(rng, params, 3, 4) == 4  # as the state says


def test_an_unknown_ticket_class_is_refused() -> None:
    params = reduced_params()
    state = StartState(as_of=AS_OF, tickets=(OpenItem("X", "ticket", 1, "urgent"),))
    with pytest.raises(ValueError, match="class 'urgent' is not one of the config's"):
        simulate(params, 1, state)


def _short_baseline(weeks: float = 26) -> object:
    return with_overrides(
        load_config("configs/baseline.yaml"),
        {"simulation": {"horizon_weeks": weeks, "warmup_weeks": 0}},
    )


def test_more_open_work_at_the_start_delays_the_go_lives() -> None:
    """The mechanism: the state's open tickets compete for the lead with the onboarding
    projects.  On paired replications (the same seeds), forty more open tickets at the
    start make the state's customers go live later on average."""
    params = _short_baseline()
    light, heavy = [], []
    for seed in replication_seeds(11, 24):
        for n, store in ((0, light), (40, heavy)):
            out = simulate(params, seed, story_state(tickets=n)).outcomes
            assert out is not None
            rows = out[(out["kind"] == "customer") & out["name"].isin(["syc", "yew"])]
            store.append(float(np.nanmean(rows["day"].fillna(26 * 5))))
    diff = np.array(heavy) - np.array(light)
    assert diff.mean() > 0
    half = 2.07 * diff.std(ddof=1) / np.sqrt(len(diff))  # t(23), 95%
    assert diff.mean() - half > 0, (diff.mean(), half)


def test_scenarios_meet_the_same_open_work() -> None:
    """Common random numbers: two scenarios with the same parameters give the same
    outcomes in every replication, so their paired difference is exactly zero."""
    params = _short_baseline(8)
    fc = forecast({"a": params, "b": params}, story_state(), replications=6, workers=1)
    a = fc.outcomes[fc.outcomes["scenario"] == "a"].drop(columns="scenario").reset_index(drop=True)
    b = fc.outcomes[fc.outcomes["scenario"] == "b"].drop(columns="scenario").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    counts = counts_table(fc, 20).set_index(["count", "scenario"])
    assert counts.loc[("went_live", "b"), "diff"] == 0
    assert counts.loc[("went_live", "b"), "diff_high"] == 0


def test_a_forecast_is_the_same_on_one_worker_or_two() -> None:
    params = _short_baseline(8)
    one = forecast({"x": params}, story_state(), replications=4, workers=1)
    two = forecast({"x": params}, story_state(), replications=4, workers=2)
    pd.testing.assert_frame_equal(one.outcomes, two.outcomes)
    pd.testing.assert_frame_equal(one.daily, two.daily)


def test_more_capacity_brings_the_go_live_dates_forward() -> None:
    """A policy's effect on the forecast, paired: a lead with half as much again time
    gets the state's customers live sooner (median date)."""
    params = _short_baseline(26)
    more = with_overrides(params, {"lead": {"capacity_hours_per_week": 67.5}})
    fc = forecast(
        {"as is": params, "more": more}, story_state(tickets=30), replications=30, workers=1
    )
    table = end_dates(fc).set_index(["name", "scenario"])
    for name in ("syc", "yew"):
        assert table.loc[(name, "more"), "p50_day"] < table.loc[(name, "as is"), "p50_day"]


def test_a_date_percentile_counts_the_never_as_beyond_the_horizon() -> None:
    days = np.array([1.0, 2.0, np.nan, np.nan])
    p50, p85, p95 = day_percentiles(days)
    assert p50 == 2.0 and np.isinf(p85) and np.isinf(p95)


def test_a_backtest_of_the_true_model_is_calibrated_week_by_week() -> None:
    """Data made by the model itself, forecast from the open work at a cutoff with the
    very config that made it: the tickets closed each week fall inside the forecast's
    85% band in most weeks and inside its 50% band in about half (over three companies,
    39 weeks).  Weeks counted on another calendar than the model's, or bands of the
    wrong scale, would fail it."""
    from flowsim.fitting.synthetic import items_from_result
    from flowsim.forecast.backtest import backtest

    params = load_config(
        "configs/baseline.yaml", (), ["simulation.horizon_weeks=40", "simulation.warmup_weeks=0"]
    )
    inside = {"50%": 0, "85%": 0}
    weeks = 0
    for seed in (1, 2, 3):
        items = items_from_result(simulate(params, seed), "2025-01-06")
        bt = backtest(items, "2025-07-07", config=params, replications=60, seed=100 + seed)
        cal = bt.scores.calibration
        rows = cal[cal["outcome"] == "tickets closed per week"].set_index("interval")
        for label in inside:
            inside[label] += int(rows.loc[label, "inside"])
        weeks += int(rows.loc["50%", "scored"])
    assert weeks == 39
    assert inside["85%"] / weeks >= 0.7, inside
    assert 0.3 <= inside["50%"] / weeks <= 0.75, inside
