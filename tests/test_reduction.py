"""When the model is a textbook queue: the reduction is read off the mechanisms' own switches.

``mm1_time_in_system_days`` gives the M/M/1 formula only when every mechanism that
shapes the lead's ticket queue is switched off.  Each mechanism says whether it does
(``Mechanism.shapes_ticket_queue``); the tests hold those claims against the model:
switching on, in the reduced config, a mechanism that claims not to shape the queue
leaves every ticket's arrival, start and end exactly where they were, and switching
on one that does makes the reduction refuse.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from conftest import item_times, reduced_params
from flowsim.model import simulate
from flowsim.model.mechanisms import MECHANISMS
from flowsim.model.reduction import mechanisms_shaping_the_queue, mm1_time_in_system_days

# The smallest change to the reduced config that switches each mechanism on.
SWITCH_ON: dict[str, dict[str, Any]] = {
    "SalesMechanism": {"sales": {"new_customers_per_month": 2}},
    "OnboardingMechanism": {},  # no switch of its own: it works for customers sales signs
    "TicketsMechanism": {},  # the queue's arrivals, on in the reduced config
    "ContextSwitchingMechanism": {"context_switching": {"enabled": True}},
    "InterruptsMechanism": {"interrupts": {"enabled": True}},
    "DirectAccessMechanism": {
        "interrupts": {"direct_access": {"enabled": True, "customers": 1, "pings_per_week": 3}}
    },
    "StatusCallsMechanism": {"status_calls": {"enabled": True}},
    "PromisesMechanism": {"commitments": {"enabled": True, "policy": "mixed"}},
    "ForgettingMechanism": {"forgetting": {"enabled": True}},
    "QualityMechanism": {"quality": {"enabled": True}},
    "HealthMechanism": {"health": {"enabled": True}},
    "ChurnMechanism": {"churn": {"enabled": True, "monthly_hazard": 0.2}},
    "PlatformMechanism": {"platform": {"enabled": True}},
    "HiringMechanism": {"hiring": {"plan": [{"role": "contractor", "at_week": 1}]}},
}


def test_every_mechanism_has_a_switch_here() -> None:
    assert set(SWITCH_ON) == {m.__name__ for m in MECHANISMS}


def test_the_reduced_config_is_mm1() -> None:
    params = reduced_params(tickets_per_week=20)
    assert mechanisms_shaping_the_queue(params) == []
    assert mm1_time_in_system_days(params) == pytest.approx(1 / (1 - 0.5) / 8)


def _tickets(overrides: dict[str, Any]) -> pd.DataFrame:
    params = reduced_params(overrides, tickets_per_week=20, horizon_weeks=30)
    return item_times(simulate(params, seed=5).events)


@pytest.mark.parametrize(
    "mechanism", [m for m in MECHANISMS if not m.shapes_ticket_queue], ids=lambda m: m.__name__
)
def test_a_mechanism_that_claims_not_to_shape_the_queue_does_not(mechanism: type) -> None:
    overrides = SWITCH_ON[mechanism.__name__]
    assert mm1_time_in_system_days(reduced_params(overrides)) is not None
    pd.testing.assert_frame_equal(_tickets(overrides), _tickets({}))


@pytest.mark.parametrize(
    "mechanism", [m for m in MECHANISMS if m.shapes_ticket_queue], ids=lambda m: m.__name__
)
def test_a_mechanism_that_shapes_the_queue_stops_the_reduction(mechanism: type) -> None:
    params = reduced_params(SWITCH_ON[mechanism.__name__])
    assert mechanisms_shaping_the_queue(params) == [mechanism.__name__]
    assert mm1_time_in_system_days(params) is None


@pytest.mark.parametrize(
    "overrides",
    [
        {"team": {"contractors": 1}},
        {"lead": {"prioritisation": {"policy": "urgent_first"}}},
        {"tickets": {"classes": {"normal": {"effort": {"kind": "constant", "value": 1}}}}},
        {"tickets": {"classes": {"normal": {"lead_share": 0.5}}}},
        {"tickets": {"per_customer_per_week": 60}},  # rho > 1: no steady state
        {"tickets": {"abandon_after_days": 40}},  # stale tickets closed: reneging
    ],
    ids=["team", "not_fifo", "not_exponential", "not_all_lead", "unstable", "reneging"],
)
def test_what_else_stops_the_reduction(overrides: dict[str, Any]) -> None:
    assert mm1_time_in_system_days(reduced_params(overrides)) is None
