"""Invariants over random valid configurations (hypothesis).

Whatever the policies and parameters, a run must satisfy:

* time never runs backwards: the event log is in time order, so every entity's
  rows are non-decreasing, and no item is done (or started) before it arrives;
* health scores stay in [0, 100], and the daily health mix counts exactly the
  active (onboarding + live) customers;
* the lead's hours by activity add up to his capacity over the horizon:
  ``sum(lead_hours) == horizon_hours * capacity_hours_per_week / week_hours``, and
  the summary's hours per week over the window add up to ``capacity_hours_per_week``;
* work is conserved (see ``conftest.assert_conserved``);
* every level of the time series is non-negative, shares lie in [0, 1] (busy plus
  blocked too), and the lead's efficiency lies in (0, 1];
* a lead WIP limit is never exceeded.

Configurations are short (8-20 weeks) so that each example runs in well under a
second.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import assert_conserved, deep_merge
from flowsim.model import Params, Result, simulate

PRIORITISATION = ["fifo", "urgent_first", "top_n", "oldest_first", "classes_of_service"]
INTAKE = ["accept_all", "wip_limit", "fixed_rate"]
COMMITMENTS = ["end_of_today", "tomorrow", "this_week", "mixed", "forecast", "none"]
SHIELDING = ["immediate", "office_hours", "triage"]


@st.composite
def configs(draw: st.DrawFn) -> dict[str, Any]:
    """A random valid config: key parameters and every policy name, short horizon."""
    horizon = draw(st.integers(8, 20))
    shielding = draw(st.sampled_from(SHIELDING))
    hires = draw(
        st.lists(
            st.one_of(
                st.builds(
                    lambda role, week: {"role": role, "at_week": week},
                    st.sampled_from(["contractor", "engineer", "support"]),
                    st.integers(0, horizon),
                ),
                st.builds(
                    lambda role, n: {"role": role, "when_backlog_above": n},
                    st.sampled_from(["contractor", "engineer", "support"]),
                    st.integers(0, 60),
                ),
            ),
            max_size=2,
        )
    )
    support = draw(st.integers(0, 1))
    if shielding == "triage" and support == 0 and not any(h["role"] == "support" for h in hires):
        support = 1  # triage needs a support person (a config rule, checked by Params)
    return {
        "simulation": {
            "horizon_weeks": horizon,
            "warmup_weeks": draw(st.integers(0, 3)),
            "hours_per_day": draw(st.sampled_from([7.0, 8.0, 9.0])),
        },
        "lead": {
            "capacity_hours_per_week": draw(st.sampled_from([30.0, 40.0, 45.0, 55.0])),
            "wip_limit": draw(st.one_of(st.none(), st.integers(1, 5))),
            "prioritisation": {
                "policy": draw(st.sampled_from(PRIORITISATION)),
                "top_n": draw(st.integers(1, 12)),
                "list_order": draw(st.sampled_from(["newest", "oldest"])),
                "expedite_limit": draw(st.integers(1, 3)),
            },
        },
        "context_switching": {"enabled": draw(st.booleans())},
        "interrupts": {
            "enabled": draw(st.booleans()),
            "shielding": shielding,
            "resume_cost_hours": draw(st.sampled_from([0.0, 0.25, 0.5])),
            "direct_access": {"enabled": draw(st.booleans())},
        },
        "team": {"contractors": draw(st.integers(0, 3)), "support": support},
        "hiring": {"plan": hires},
        "sales": {"new_customers_per_month": draw(st.sampled_from([0.0, 1.0, 2.0, 4.0]))},
        "intake": {
            "policy": draw(st.sampled_from(INTAKE)),
            "limit": draw(st.integers(1, 5)),
            "starts_per_month": draw(st.sampled_from([0.5, 1.0, 3.0])),
        },
        "tickets": {"per_customer_per_week": draw(st.sampled_from([0.0, 0.5, 1.0, 2.0]))},
        "status_calls": {
            "enabled": draw(st.booleans()),
            "format": draw(st.sampled_from(["call", "written"])),
            "lead_attends": draw(st.sampled_from(["always", "when_needed", "never"])),
        },
        "commitments": {"policy": draw(st.sampled_from(COMMITMENTS))},
        "forgetting": {"daily_probability": draw(st.sampled_from([0.0, 0.05, 0.3]))},
        "quality": {"enabled": draw(st.booleans())},
        "churn": {"monthly_hazard": draw(st.sampled_from([0.0, 0.01, 0.2]))},
        "customers": {"initial_live": draw(st.integers(0, 25))},
        "platform": {
            "enabled": draw(st.booleans()),
            "share_of_week": draw(st.sampled_from([0.1, 0.2, 0.5])),
        },
    }


def check_invariants(result: Result) -> None:
    p = result.params
    ev = result.events
    # Time order: the log is appended as the clock advances.
    times = ev["time"].to_numpy()
    assert np.all(np.diff(times) >= 0), "the event log goes back in time"
    assert (
        times.min(initial=0.0) >= 0
        and times.max(initial=0.0)
        <= p.simulation.horizon_weeks * (5 * p.simulation.hours_per_day) + 1e-9
    )
    work = ev[(ev["entity"] >= 0) & (ev["kind"] != "customer")]
    arrive = work[work["event"] == "arrive"].set_index("entity")["time"]
    for name in ("start", "done", "dropped", "forgotten"):
        rows = work[work["event"] == name]
        assert np.all(rows["time"].to_numpy() >= arrive.loc[rows["entity"]].to_numpy()), (
            f"{name} before arrive"
        )

    cust = result.customers
    assert cust["health"].between(0, 100).all()
    for a, b in (
        ("signed_day", "onboarding_day"),
        ("onboarding_day", "live_day"),
        ("signed_day", "left_day"),
    ):
        both = cust[[a, b]].dropna()
        assert (both[b] >= both[a] - 1e-12).all(), f"{b} before {a}"

    week_hours = 5 * p.simulation.hours_per_day
    expected = p.simulation.horizon_weeks * week_hours * p.lead.capacity_hours_per_week / week_hours
    assert sum(result.lead_hours.values()) == pytest.approx(expected, rel=1e-9)
    assert all(v >= -1e-9 for v in result.lead_hours.values())

    # The same over the steady-state window alone (the summary's accounting).
    per_week = [
        v
        for k, v in result.summary.items()
        if k.startswith("lead_") and k.endswith("_hours_per_week")
    ]
    assert sum(per_week) == pytest.approx(p.lead.capacity_hours_per_week, rel=1e-9)

    assert_conserved(result)

    ts = result.timeseries
    levels = ts.drop(columns=["day"])
    assert (levels >= 0).all().all(), levels.min()
    assert ((ts["lead_efficiency"] > 0) & (ts["lead_efficiency"] <= 1)).all()
    assert (ts["green"] + ts["yellow"] + ts["red"] == ts["onboarding"] + ts["live"]).all()
    if p.lead.wip_limit is not None:
        assert (ts["lead_started"] <= p.lead.wip_limit).all()

    s = result.summary
    for share in (
        "lead_utilisation",
        "contractor_busy_share",
        "contractor_blocked_share",
        "promises_kept_share",
    ):
        if np.isfinite(s[share]):
            assert -1e-9 <= s[share] <= 1 + 1e-9, (share, s[share])
    if np.isfinite(s["contractor_busy_share"]):
        # Blocked time is idle time, so it never overlaps busy time.
        assert s["contractor_busy_share"] + s["contractor_blocked_share"] <= 1 + 1e-9
    assert s["promises_kept"] + s["promises_broken"] <= s["promises_made"]
    n_promised = int((ev["event"] == "promised").sum())
    n_resolved = int(ev["event"].isin(["promise_kept", "promise_broken"]).sum())
    assert n_resolved <= n_promised


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(config=configs(), seed=st.integers(0, 2**32 - 1))
def test_invariants_hold_for_random_configs(config: dict[str, Any], seed: int) -> None:
    """Each example: a random valid config and seed; every invariant of the module docstring."""
    params = Params.model_validate(deep_merge(Params().model_dump(by_alias=True), config))
    check_invariants(simulate(params, seed=seed))


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=configs(), seed=st.integers(0, 2**32 - 1))
def test_invariants_hold_for_random_configs_many(config: dict[str, Any], seed: int) -> None:
    """The same invariants, many more (non-derandomised) examples."""
    params = Params.model_validate(deep_merge(Params().model_dump(by_alias=True), config))
    check_invariants(simulate(params, seed=seed))
