"""Little's law on the event log: L = lambda W, per queue (MODEL.md, "Validation").

The sample-path form (Little 1961; Stidham 1974; El-Taha & Stidham, *Sample-Path
Analysis of Queueing Systems*, ch. 1) holds exactly on any finite window
[a, b] of any run, stable or not, once its boundary terms are kept:

    integral_a^b N(t) dt  =  sum over items arriving in [a, b) of (min(leave, b) - enter)
                           + sum over items present at a of (min(leave, b) - a)

i.e. L_T = lambda_T * W_T + carry_in / T, where W_T counts an item still open at
b for the time it has spent so far (that is how items still open at the end of
the window are handled; dropping them would understate W in an overloaded run).
The left side is computed by integrating the count curve N(t) =
#entered - #left built from *sorted* event times, the right side from per-item
pairs, so the two agree only if every item's events pair up with non-negative
durations.  Against the model's own counters (the daily ``tickets_open`` and
``onboarding`` samples, the time-weighted ``lead_backlog_mean``) the log must
agree exactly too.

In a long run of a *stable* system the boundary terms are O(1/T), so the
textbook L = lambda W with full sojourn times also holds, within those terms.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import WEEK_HOURS, reduced_params, with_overrides
from flowsim.model import Params, Result, simulate


def count_integral(enter: np.ndarray, leave: np.ndarray, a: float, b: float) -> float:
    """Integral over [a, b] of N(t) = #{enter <= t} - #{leave <= t}, from sorted event times."""
    left = leave[np.isfinite(leave)]
    n0 = int((enter <= a).sum() - (left <= a).sum())
    times = np.concatenate([enter[(enter > a) & (enter < b)], left[(left > a) & (left < b)]])
    steps = np.concatenate(
        [np.ones(((enter > a) & (enter < b)).sum()), -np.ones(((left > a) & (left < b)).sum())]
    )
    order = np.argsort(times, kind="stable")
    times, steps = times[order], steps[order]
    levels = n0 + np.concatenate([[0.0], np.cumsum(steps)])
    edges = np.concatenate([[a], times, [b]])
    return float(np.sum(levels * np.diff(edges)))


def count_at(enter: np.ndarray, leave: np.ndarray, t: np.ndarray) -> np.ndarray:
    """N(t) at each sample time, counting events at t itself (the model samples after them)."""
    left = np.sort(leave[np.isfinite(leave)])
    return np.searchsorted(np.sort(enter), t, side="right") - np.searchsorted(left, t, side="right")


def little_terms(enter: np.ndarray, leave: np.ndarray, a: float, b: float) -> dict[str, float]:
    """The sample-path Little quantities on [a, b]; ``leave`` is +inf for items still open."""
    T = b - a
    inside = (enter >= a) & (enter < b)
    carried = (enter < a) & (leave > a)
    clipped = np.minimum(leave, b)
    n_arrivals = int(inside.sum())
    return {
        "L": count_integral(enter, leave, a, b) / T,
        "lam": n_arrivals / T,
        "W_window": float((clipped[inside] - enter[inside]).mean()) if n_arrivals else 0.0,
        "carry_in": float((clipped[carried] - a).sum()) / T,
        "open_at_end": int((inside & (leave > b)).sum()),
        "arrivals": n_arrivals,
    }


def ticket_intervals(events: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per ticket: (arrive time, time it left the system: done or dropped; inf if open)."""
    ev = events[events["kind"] == "ticket"]
    enter = ev[ev["event"] == "arrive"].groupby("entity")["time"].first()
    leave = (
        ev[ev["event"].isin(["done", "dropped"])]
        .groupby("entity")["time"]
        .first()
        .reindex(enter.index)
        .fillna(np.inf)
    )
    return enter.to_numpy(), leave.to_numpy()


def onboarding_intervals(result: Result) -> tuple[np.ndarray, np.ndarray]:
    """Per customer who started onboarding: (start, go-live or leaving time; inf if open)."""
    cust = result.customers
    day = result.params.simulation.hours_per_day
    started = cust[cust["onboarding_day"].notna()]
    # Initial customers are live from time 0 and never onboard: skip them.
    started = started[~((started["onboarding_day"] == 0) & (started["live_day"] == 0))]
    enter = started["onboarding_day"].to_numpy() * day
    end = started["live_day"].where(started["live_day"].notna(), started["left_day"])
    leave = (end.to_numpy() * day).astype(float)
    return enter, np.where(np.isnan(leave), np.inf, leave)


def assert_sample_path_little(enter: np.ndarray, leave: np.ndarray, a: float, b: float) -> dict:
    """L_T = lambda_T W_T + carry_in / T, to rounding error."""
    terms = little_terms(enter, leave, a, b)
    rhs = terms["lam"] * terms["W_window"] + terms["carry_in"]
    assert terms["L"] == pytest.approx(rhs, rel=1e-9, abs=1e-9), terms
    return terms


# ---------------------------------------------------------------- the baseline
def test_baseline_tickets_sample_path_little(baseline_long: Result) -> None:
    """Default ``Params()``, 104 weeks, window = warm-up to horizon: Little for tickets.

    The baseline is overloaded (its ticket queue grows), so many tickets are still
    open at the horizon; they count for their time in the window.
    """
    p = baseline_long.params.simulation
    a, b = p.warmup_weeks * WEEK_HOURS, p.horizon_weeks * WEEK_HOURS
    enter, leave = ticket_intervals(baseline_long.events)
    assert np.all(leave >= enter), "a ticket left before it arrived"
    terms = assert_sample_path_little(enter, leave, a, b)
    assert terms["arrivals"] > 100
    assert terms["open_at_end"] > 0  # so the handling of open items is exercised
    # Also on sub-windows (a quarter each): the identity is not an artefact of one window.
    for q in range(int(p.warmup_weeks), int(p.horizon_weeks) - 13, 13):
        assert_sample_path_little(enter, leave, q * WEEK_HOURS, (q + 13) * WEEK_HOURS)
    assert terms["L"] > 0


def test_baseline_ticket_count_matches_model_counter(baseline_long: Result) -> None:
    """The model's daily ``tickets_open`` equals arrivals minus departures in the log."""
    enter, leave = ticket_intervals(baseline_long.events)
    ts = baseline_long.timeseries
    t = ts["day"].to_numpy() * baseline_long.params.simulation.hours_per_day
    np.testing.assert_array_equal(count_at(enter, leave, t), ts["tickets_open"].to_numpy())


def test_baseline_onboarding_little(baseline_long: Result) -> None:
    """Customers onboarding form a queue too: Little on (onboarding start, go-live / leave).

    Also the daily ``onboarding`` count of the time series equals the count from the
    customers table at every sample.
    """
    p = baseline_long.params.simulation
    enter, leave = onboarding_intervals(baseline_long)
    assert np.all(leave >= enter)
    a, b = p.warmup_weeks * WEEK_HOURS, p.horizon_weeks * WEEK_HOURS
    assert_sample_path_little(enter, leave, a, b)
    ts = baseline_long.timeseries
    t = ts["day"].to_numpy() * p.hours_per_day
    np.testing.assert_array_equal(count_at(enter, leave, t), ts["onboarding"].to_numpy())


# ---------------------------------------------------------------- the reduced model
@pytest.fixture(scope="module")
def reduced_long() -> Result:
    """The reduced model at rho = 0.8 (M/M/1, lambda = 0.8/h, mean effort 1 h) for 600 weeks."""
    return simulate(reduced_params(tickets_per_week=32, horizon_weeks=600), seed=11)


def test_reduced_little_with_full_sojourns(reduced_long: Result) -> None:
    """Stable M/M/1: L = lambda W with *full* sojourn times, within the boundary terms.

    Window [warm-up, horizon - 5 weeks], so every ticket arriving in it is done by
    the horizon and W is its true sojourn.  The exact identity is
    L T = lambda T W - sum_{arrived inside} (leave - b)^+ + carry_in T, so the textbook
    form may differ from L by at most (carry_in T + overshoot) / T.  The test checks
    that inequality and that the bound is itself small (under 0.5% of L: a window of
    ~23,000 h against sojourns of a few hours), so the statement is not vacuous.
    """
    p = reduced_long.params.simulation
    a, b = p.warmup_weeks * WEEK_HOURS, (p.horizon_weeks - 5) * WEEK_HOURS
    enter, leave = ticket_intervals(reduced_long.events)
    terms = assert_sample_path_little(enter, leave, a, b)
    inside = (enter >= a) & (enter < b)
    assert np.isfinite(leave[inside]).all()
    W = float((leave[inside] - enter[inside]).mean())
    overshoot = float(np.clip(leave[inside] - b, 0, None).sum()) / (b - a)
    bound = terms["carry_in"] + overshoot
    assert bound < 0.005 * terms["L"]
    assert abs(terms["L"] - terms["lam"] * W) <= bound + 1e-9


def test_reduced_backlog_level_matches_log(reduced_long: Result) -> None:
    """With interrupts off and one queue, the lead's backlog is every open ticket.

    The model's time-weighted ``lead_backlog_mean`` (its own Level recorder, over the
    steady-state window) must equal L integrated from the event log.
    """
    p = reduced_long.params.simulation
    a, b = p.warmup_weeks * WEEK_HOURS, p.horizon_weeks * WEEK_HOURS
    enter, leave = ticket_intervals(reduced_long.events)
    L = count_integral(enter, leave, a, b) / (b - a)
    assert reduced_long.summary["lead_backlog_mean"] == pytest.approx(L, rel=1e-9)


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"lead": {"prioritisation": {"policy": "fifo"}}}, id="fifo"),
        pytest.param({"interrupts": {"shielding": "office_hours"}}, id="office_hours"),
        pytest.param({"intake": {"policy": "wip_limit", "limit": 2}}, id="intake_wip"),
        pytest.param({"lead": {"wip_limit": 2}}, id="lead_wip"),
    ],
)
def test_policy_variants_little(overrides: dict) -> None:
    """Sample-path Little for tickets and onboardings under other policies (52 weeks)."""
    params = with_overrides(Params(), {"simulation": {"horizon_weeks": 52}, **overrides})
    result = simulate(params, seed=3)
    a, b = params.simulation.warmup_weeks * WEEK_HOURS, 52 * WEEK_HOURS
    enter, leave = ticket_intervals(result.events)
    assert_sample_path_little(enter, leave, a, b)
    enter, leave = onboarding_intervals(result)
    assert_sample_path_little(enter, leave, a, b)
