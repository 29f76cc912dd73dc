"""Determinism and common random numbers (MODEL.md; STYLE.md practice 4).

* The same parameters and seed give the same run, bit for bit: events, time
  series, summary, customers, conservation counts and lead hours.  Also in a fresh
  process (a different ``PYTHONHASHSEED``) and after other runs in the same process,
  so no global or hash-order state leaks in.
* Different seeds give different runs.
* Common random numbers: each source of randomness has its own stream keyed by
  what it drives, so a policy change leaves the sales arrivals and each initial
  customer's ticket arrivals unchanged; paired comparisons rest on this.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
import pytest

from conftest import item_times, reduced_params, with_overrides
from flowsim.model import Params, Result, simulate

SHORT = {"simulation": {"horizon_weeks": 30, "warmup_weeks": 2}}


def short_baseline(**overrides: Any) -> Params:
    return with_overrides(Params(), {**SHORT, **overrides})


def assert_same_run(a: Result, b: Result) -> None:
    pd.testing.assert_frame_equal(a.events, b.events)
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries)
    pd.testing.assert_series_equal(a.summary, b.summary)
    pd.testing.assert_frame_equal(a.customers, b.customers)
    assert a.conservation == b.conservation
    assert a.lead_hours == b.lead_hours


def test_same_seed_same_run() -> None:
    """Two runs with the same int seed are identical in every output."""
    params = short_baseline()
    assert_same_run(simulate(params, seed=42), simulate(params, seed=42))


def test_same_seed_sequence_same_run() -> None:
    """Replication seeds (spawned ``SeedSequence`` children) reproduce too, rebuilt or reused."""
    params = short_baseline()
    first = np.random.SeedSequence(7).spawn(3)[2]
    again = np.random.SeedSequence(7).spawn(3)[2]
    assert_same_run(simulate(params, seed=first), simulate(params, seed=again))


def test_default_seed_is_the_config_seed() -> None:
    """``simulate(params)`` uses ``simulation.seed``."""
    params = short_baseline(simulation={"seed": 5})
    assert_same_run(simulate(params), simulate(params, seed=5))


def test_run_does_not_depend_on_earlier_runs() -> None:
    """A run after other runs in the same process equals a run on its own (no global state)."""
    params = short_baseline()
    alone = simulate(params, seed=3)
    simulate(short_baseline(lead={"prioritisation": {"policy": "fifo"}}), seed=99)
    simulate(reduced_params(horizon_weeks=10), seed=1)
    assert_same_run(alone, simulate(params, seed=3))


def _events_in_child(params_json: str, seed: int) -> pd.DataFrame:
    return simulate(Params.model_validate_json(params_json), seed=seed).events


def test_same_run_in_a_fresh_process() -> None:
    """A spawned process (new interpreter, new string-hash seed) gives the same event log."""
    params = short_baseline()
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        child = pool.submit(_events_in_child, params.model_dump_json(by_alias=True), 11).result()
    pd.testing.assert_frame_equal(child, simulate(params, seed=11).events)


@pytest.mark.parametrize("make", [short_baseline, lambda: reduced_params(horizon_weeks=30)])
def test_different_seeds_differ(make: Any) -> None:
    """Different seeds give different event logs and summaries."""
    params = make()
    a, b = simulate(params, seed=1), simulate(params, seed=2)
    assert not a.events.equals(b.events)
    times_a = a.events.loc[a.events["event"] == "arrive", "time"].to_numpy()
    times_b = b.events.loc[b.events["event"] == "arrive", "time"].to_numpy()
    n = min(len(times_a), len(times_b))
    assert n > 0 and not np.array_equal(times_a[:n], times_b[:n])
    assert not a.summary.equals(b.summary)


# ---------------------------------------------------------------- common random numbers
def signed_times(result: Result) -> np.ndarray:
    ev = result.events
    return ev.loc[(ev["kind"] == "customer") & (ev["event"] == "signed"), "time"].to_numpy()


def ticket_arrivals(result: Result, customer: int, before: float) -> np.ndarray:
    ev = result.events
    rows = ev[
        (ev["kind"] == "ticket")
        & (ev["event"] == "arrive")
        & (ev["customer"] == customer)
        & (ev["time"] < before)
    ]
    return rows["time"].to_numpy()


def churn_time(result: Result, customer: int) -> float:
    ev = result.events
    rows = ev[(ev["kind"] == "customer") & (ev["event"] == "churned") & (ev["entity"] == customer)]
    return float(rows["time"].min()) if len(rows) else float("inf")


POLICY_PAIRS = {
    "intake_wip_limit": {"intake": {"policy": "wip_limit", "limit": 2}},
    "fifo_vs_top_n": {"lead": {"prioritisation": {"policy": "fifo"}}},
    "lead_wip_limit": {"lead": {"wip_limit": 2}},
    "office_hours": {"interrupts": {"shielding": "office_hours"}},
    "platform": {"platform": {"enabled": True}},
}


@pytest.mark.parametrize("name", list(POLICY_PAIRS))
def test_policy_change_keeps_sales_and_ticket_arrivals(name: str) -> None:
    """Common random numbers: a policy change moves work, not what arrives.

    The ``signed`` times of sales are identical; so are the arrival times of the
    tickets of initial customers 0-4 up to the first time either run lost that
    customer (a churned customer raises no tickets, and churn depends on health,
    which the policy changes).  The runs themselves must differ, or the check
    would prove nothing.
    """
    base = short_baseline()
    policy = short_baseline(**POLICY_PAIRS[name])
    seed = np.random.SeedSequence(2024).spawn(1)[0]
    a, b = simulate(base, seed=seed), simulate(policy, seed=seed)
    assert not a.events.equals(b.events), "the policy changed nothing"
    np.testing.assert_array_equal(signed_times(a), signed_times(b))
    assert len(signed_times(a)) > 0
    compared = 0
    for customer in range(5):
        until = min(churn_time(a, customer), churn_time(b, customer))
        ta, tb = ticket_arrivals(a, customer, until), ticket_arrivals(b, customer, until)
        np.testing.assert_array_equal(ta, tb)
        compared += len(ta)
    assert compared >= 20


def test_reduced_model_tickets_are_common_across_policies() -> None:
    """In the reduced model every ticket arrives at the same time under fifo and top_n."""
    fifo = reduced_params(tickets_per_week=30, horizon_weeks=20)
    top_n = reduced_params(
        {"lead": {"prioritisation": {"policy": "top_n"}}}, tickets_per_week=30, horizon_weeks=20
    )
    a, b = simulate(fifo, seed=8), simulate(top_n, seed=8)
    np.testing.assert_array_equal(
        ticket_arrivals(a, 0, float("inf")), ticket_arrivals(b, 0, float("inf"))
    )


def test_ping_effort_independent_of_its_arrival_gap() -> None:
    """A ping's effort and its gap since the previous ping come from different streams.

    Customer 0 pings an otherwise idle lead, so each ping starts on arrival and its
    handling time is its effort: with exponential efforts, a shared stream would make
    gap and effort proportional (correlation 1).
    """
    params = reduced_params(
        {
            "tickets": {"enabled": False},
            "interrupts": {
                "enabled": True,
                "direct_access": {
                    "enabled": True,
                    "customers": 1,
                    "pings_per_week": 10,
                    "effort": {"kind": "exponential", "mean": 0.25},
                },
            },
        },
        horizon_weeks=52,
    )
    pings = item_times(simulate(params, seed=3).events, "ping").dropna()
    gap = pings["arrive"].diff().to_numpy()[1:]
    effort = (pings["done"] - pings["start"]).to_numpy()[1:]
    assert len(gap) > 300
    assert abs(np.corrcoef(gap, effort)[0, 1]) < 0.2
