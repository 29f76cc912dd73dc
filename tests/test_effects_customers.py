"""Effect tests of customer health, churn and revenue: each moves the way MODEL.md says.

The issue "A model that stays honest under overload", item 3.  Health and churn are
tested as in ``test_effects_mechanisms.py`` (whose helpers this module uses): two
settings of one parameter on the same replication seeds (common random numbers), the
direction asserted with the 95% t-interval of the mean paired difference.  Churn made
certain, and revenue and net revenue retention, are checked exactly: on the health log
of the run itself, and on small deterministic companies whose go-lives, revenue and
retention are computed by hand from the rules.  No expected value is a number read off
a seeded run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest

from conftest import WEEK_HOURS, reduced_params
from flowsim.model import Params, simulate
from test_effects_mechanisms import assert_above, baseline, paired_runs, rows, values

# ================================================================ health and churn
_PENALTIES: dict[str, tuple[str, dict[str, Any]]] = {
    # A ticket resolved after its target; tickets wait for ever, so none is abandoned.
    "ticket_resolved_late": ("ticket_late", {"tickets": {"abandon_after_days": None}}),
    # A ticket closed as stale after 5 days unstarted; no resolved ticket is late
    # (targets of 1,000 days).
    "ticket_abandoned": (
        "ticket_late",
        {
            "tickets": {
                "abandon_after_days": 5,
                "classes": {n: {"target_days": 1000} for n in ("urgent", "normal", "how_to")},
            }
        },
    ),
    # A broken promise (most are, in the story's company).
    "promise_broken": ("promise_broken", {}),
}


@pytest.mark.parametrize("case", list(_PENALTIES))
def test_health_penalties_lower_health(case: str) -> None:
    """Health: a ticket resolved after its target, or closed as stale, costs the customer
    ``health.ticket_late`` points; a broken promise costs ``promise_broken`` points.

    Claim: a larger penalty, lower health.  The story's company over 16 weeks with churn
    off (the same customers in both): the lead cannot keep up, so many tickets are late
    and most promises break; at 15 points a penalty customers end lower, and spend
    fewer days in green, than at 1 point.  Each route to a penalty is tested alone, so
    that any one of them ignoring its parameter fails its own case.
    """
    penalty, overrides = _PENALTIES[case]
    mild = baseline(16, churn={"enabled": False}, health={penalty: 1}, **overrides)
    harsh = baseline(16, churn={"enabled": False}, health={penalty: 15}, **overrides)
    pairs = paired_runs(mild, harsh, root=119)
    health = values(pairs, lambda r: r.customers["health"].mean())
    assert_above(health[0], health[1], f"mean health at the horizon ({case})")
    green = values(pairs, lambda r: r.timeseries["green"].mean())
    assert_above(green[0], green[1], f"mean customers in green ({case})")


def test_red_multiplier_raises_churn() -> None:
    """Churn: the monthly hazard is multiplied by ``red_multiplier`` after ``red_weeks``
    in red; each customer leaves when its cumulative hazard passes its own threshold.

    Claim: a higher red multiplier, more churn.  The story's company over 26 weeks with a
    5% monthly hazard: many customers go red, and each has the same threshold under
    both (drawn once), so a hazard that grows faster passes it sooner.
    """
    mild = baseline(26, churn={"monthly_hazard": 0.05, "red_multiplier": 1})
    harsh = baseline(26, churn={"monthly_hazard": 0.05, "red_multiplier": 8})
    pairs = paired_runs(mild, harsh, root=120)
    churned = values(pairs, lambda r: (r.customers["state"] == "churned").sum())
    assert_above(churned[1], churned[0], "customers churned")


def test_customers_give_up_onboardings_that_never_finish() -> None:
    """Churn: a customer still onboarding ``onboarding_gives_up_weeks`` after its start
    walks away.

    Claim: with a patience of 13 weeks rather than none, fewer customers are still
    onboarding at the end and less work is open.  The story's company over 40 weeks:
    it starts every signed customer at once and finishes almost none, so onboardings
    pile up unless customers give up; the hazard is off, so nothing else churns them.
    """
    patient = baseline(40, churn={"monthly_hazard": 0.0, "onboarding_gives_up_weeks": None})
    giving_up = baseline(40, churn={"monthly_hazard": 0.0, "onboarding_gives_up_weeks": 13})
    pairs = paired_runs(patient, giving_up, root=126)
    onboarding = values(pairs, lambda r: r.summary["onboarding_at_horizon"])
    assert_above(onboarding[0], onboarding[1], "customers still onboarding at the end")
    open_work = values(pairs, lambda r: r.timeseries["open_items"].iloc[-1])
    assert_above(open_work[0], open_work[1], "open work items at the end")
    gave_up = values(pairs, lambda r: r.summary["gave_up_onboarding"])
    assert (gave_up[0] == 0).all() and (gave_up[1] > 0).all()


@pytest.mark.parametrize("seed", [0, 1])
def test_red_long_enough_makes_churn_certain(seed: int) -> None:
    """Churn: when the red hazard reaches 1 a month (``monthly_hazard x red_multiplier``),
    a customer red for ``red_weeks`` leaves at the next weekly check, with certainty.

    A baseline hazard of 1e-6 a month (so, in practice, nobody leaves otherwise) times a
    multiplier of 1e6, and late tickets costing 15 points (so that live customers go red
    too): the customers who churn are exactly those the health log shows
    red, without a break, for at least ``red_weeks`` at a weekly check, and each leaves
    at the first such check.  The checks come after the week's recovery, which may lift
    a customer out of red at that instant: a spell must outlast the check.  Once gone,
    a customer raises no more tickets.
    """
    red_weeks = 3
    params = baseline(
        26,
        churn={"monthly_hazard": 1e-6, "red_multiplier": 1e6, "red_weeks": red_weeks},
        health={"ticket_late": 15},  # so that live customers, not only onboarding ones, go red
    )
    result = simulate(params, seed=seed)
    week = 5 * params.simulation.hours_per_day
    horizon = params.simulation.horizon_weeks * week
    bands = rows(result, "customer")
    bands = bands[bands["event"].isin(["green", "yellow", "red", "churned"])]
    expected: dict[int, float] = {}
    for cust, group in bands.groupby("entity"):
        events = list(zip(group["event"].astype(str), group["time"], strict=True))
        for k, (event, start) in enumerate(events):
            if event != "red":
                continue
            # The spell ends at the next change of band (or leaving, or the horizon).
            end = events[k + 1][1] if k + 1 < len(events) else horizon
            check = math.ceil((start + red_weeks * week) / week - 1e-9) * week
            if check < end or (k + 1 < len(events) and events[k + 1][0] == "churned"):
                expected[int(cust)] = check
                break
    churned = rows(result, "customer", "churned").set_index("entity")["time"]
    assert len(expected) > 0, "nobody stayed red long enough: the case proves nothing"
    assert sorted(churned.index) == sorted(expected)
    for cust, t in expected.items():
        assert churned[cust] == pytest.approx(t)
    # A customer who has left raises no more tickets (nor pings).
    left_live = rows(result, "customer", "churned")["actor"].astype(str) == "live"
    assert left_live.any(), "no live customer churned: the ticket check proves nothing"
    raised = rows(result, event="arrive")
    raised = raised[raised["kind"].isin(["ticket", "ping"]) & raised["customer"].isin(expected)]
    after = raised["time"] > raised["customer"].map(expected)
    assert not after.any(), f"{int(after.sum())} tickets or pings from customers who left"


# ================================================================ revenue
def _revenue_params(churn: Mapping[str, Any], weeks: float, warmup: float) -> Params:
    """A deterministic company: 3 customers live at the start, sales sign more; each
    project is one task of exactly 8 h that only the lead does, and he has nothing
    else to do (no tickets, no team) and works at speed 1: the customer goes live 8 h
    after the lead starts its task, in signing order."""
    return reduced_params(
        {
            "customers": {"initial_live": 3},
            "sales": {"new_customers_per_month": 3},
            "tickets": {"enabled": False},
            "onboarding": {
                "tasks": {"kind": "constant", "value": 1},
                "task_effort": {"kind": "constant", "value": 8},
                "lead_share": 1.0,
                "fee": 1_000,
            },
            "revenue": {"arr_per_customer": 52_000},
            "churn": churn,
        },
        horizon_weeks=weeks,
        warmup_weeks=warmup,
    )


def _go_live_by_hand(signed: np.ndarray) -> np.ndarray:
    """One server, 8 h per project, first come first served: live = max(signed, previous) + 8."""
    live = np.empty_like(signed)
    free = 0.0
    for k, t in enumerate(signed):
        free = max(t, free) + 8.0
        live[k] = free
    return live


def test_revenue_and_retention_by_hand_without_churn() -> None:
    """Revenue: ARR per customer from go-live (and the onboarding fee at onboarding start);
    net revenue retention is the share of the customers live at the window start who are
    still live at its end.

    Deterministic given the signing times (read from the customer records): each go-live
    is computed by hand from the one-server rule, and from it ARR at the horizon, the
    revenue earned in the window (ARR x time live in the window / 52 weeks, plus a fee
    per onboarding started in it) and, with nobody leaving, a retention of exactly 1.
    """
    params = _revenue_params({"enabled": False}, weeks=12, warmup=2)
    result = simulate(params, seed=7)
    hours_per_day = params.simulation.hours_per_day
    start, end = 2 * WEEK_HOURS, 12 * WEEK_HOURS
    year = 52 * WEEK_HOURS
    arr = 52_000.0
    c = result.customers.sort_values("customer")
    new = c[c["customer"] >= 3]
    assert len(new) >= 2, "too few signings for the case to say anything"
    signed = new["signed_day"].to_numpy() * hours_per_day
    live = _go_live_by_hand(signed)
    live = np.where(live <= end, live, np.nan)
    np.testing.assert_allclose(new["live_day"].to_numpy() * hours_per_day, live)
    live_times = np.concatenate([[0.0, 0.0, 0.0], live[~np.isnan(live)]])
    earned = arr * np.clip(end - np.maximum(live_times, start), 0, None).sum() / year
    fees = 1_000 * int(((signed >= start) & (signed <= end)).sum())
    s = result.summary
    assert s["live_customers_at_horizon"] == len(live_times)
    assert s["arr_at_horizon"] == pytest.approx(arr * len(live_times))
    assert s["cumulative_revenue"] == pytest.approx(earned + fees)
    assert s["net_revenue_retention"] == 1.0


def test_revenue_and_retention_by_hand_with_certain_churn() -> None:
    """Revenue stops when a customer leaves; net revenue retention counts who is left.

    The same deterministic company with a monthly churn hazard of 1 for live customers
    only: every customer leaves at the first weekly check after going live (the three
    initial ones at week 1), and earns ARR only while live.  The window starts at half a
    week, when the three initial customers are live: all leave, so retention is exactly
    0; the horizon (11.5 weeks) falls between checks, so a customer live after the
    last check is still live, and paying, at the end.
    """
    params = _revenue_params(
        {"enabled": True, "monthly_hazard": 1.0, "onboarding_can_churn": False},
        weeks=11.5,
        warmup=0.5,
    )
    result = simulate(params, seed=8)
    hours_per_day = params.simulation.hours_per_day
    week = WEEK_HOURS
    start, end = 0.5 * week, 11.5 * week
    year = 52 * week
    arr = 52_000.0
    c = result.customers.sort_values("customer")
    new = c[c["customer"] >= 3]
    signed = new["signed_day"].to_numpy() * hours_per_day
    live = _go_live_by_hand(signed)
    live = live[live <= end]
    assert len(live) >= 2, "too few go-lives for the case to say anything"
    live_times = np.concatenate([[0.0, 0.0, 0.0], live])
    left = np.ceil(live_times / week + 1e-9) * week  # the next weekly check after go-live
    left = np.where(left < end, left, end)
    earned = arr * np.clip(np.minimum(left, end) - np.maximum(live_times, start), 0, None).sum()
    fees = 1_000 * int(((signed >= start) & (signed <= end)).sum())
    still_live = int((left >= end).sum())
    s = result.summary
    assert s["live_customers_at_horizon"] == still_live
    assert s["arr_at_horizon"] == pytest.approx(arr * still_live)
    assert s["cumulative_revenue"] == pytest.approx(earned / year + fees)
    assert s["net_revenue_retention"] == 0.0
    churned = c[c["state"] == "churned"]
    np.testing.assert_allclose(
        np.sort(churned["left_day"].to_numpy() * hours_per_day), np.sort(left[left < end])
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_net_revenue_retention_matches_the_customer_records(seed: int) -> None:
    """Net revenue retention, recomputed from the customer records of a run with churn.

    The story's company with a 10% monthly hazard over 26 weeks: some of the customers
    live at the window start leave, some stay.  Retention is the share of those live at
    the window start (gone live by then, not yet left) still live at the end; revenue is
    ARR for the time each was live within the window.
    """
    params = baseline(26, warmup=4, churn={"monthly_hazard": 0.1})
    result = simulate(params, seed=seed)
    c = result.customers
    start, end = 4 * 5.0, 26 * 5.0  # days
    left = c["left_day"].where(c["state"] == "churned", end)
    at_start = c[(c["live_day"] <= start) & (left > start)]
    kept = int((at_start["state"] == "live").sum())
    assert 0 < kept < len(at_start), "nobody left, or everybody: the case proves nothing"
    assert result.summary["net_revenue_retention"] == pytest.approx(kept / len(at_start))
    live = c["live_day"].notna()
    overlap = (np.minimum(left, end) - np.maximum(c["live_day"], start)).clip(lower=0)
    earned = params.revenue.arr_per_customer * overlap[live].sum() / (52 * 5)
    assert result.summary["cumulative_revenue"] == pytest.approx(earned)
