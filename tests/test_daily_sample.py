"""The daily sample: the company's levels read once where nothing can change them.

Each day's sample reads the levels of the work flow, and the company's levels around
it (customers, team, forgetting, the lead's switching).  Where
``Company.company_levels_can_change`` says nothing in the run can move the latter (a
company reduced to its ticket queue), they are read once and shared by every day.
These tests pin both sides of that shortcut:

* in configs where it applies, with every other mechanism on in turn, the series are
  exactly those of the same run sampled in full every day;
* each thing that can move the company's levels is seen: switched on alone, the
  shortcut does not apply, and freezing the levels would have given other series
  (so no clause of the check is idle).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest

from conftest import TWO_CLASSES, reduced_params
from flowsim.model.catalogue import COMPANY_SERIES, FLOW_SERIES, LEAD_ACTIVITIES, SERIES
from flowsim.model.company import Company
from flowsim.model.params import Params
from flowsim.model.state import OpenItem, OpenOnboarding, SignedCustomer, StartState

# Half of each class could go to someone besides the lead, where there is someone.
_SHARED_CLASSES = {name: {**c, "lead_share": 0.5} for name, c in TWO_CLASSES.items()}


def _params(overrides: dict[str, Any]) -> Params:
    return reduced_params(overrides, classes=_SHARED_CLASSES, tickets_per_week=30, horizon_weeks=30)


def _series(
    params: Params,
    monkeypatch: pytest.MonkeyPatch,
    can_change: bool | None,
    state: StartState | None = None,
) -> pd.DataFrame:
    """The run's daily series; ``can_change`` overrides the company's own answer."""
    with monkeypatch.context() as m:
        if can_change is not None:
            m.setattr(Company, "company_levels_can_change", lambda self: can_change)
        company = Company(params, 7, state)
        company.run()
    return company.timeseries()


def test_the_sample_layout_covers_the_catalogue_once() -> None:
    hours = [f"lead_{a}_hours" for a in LEAD_ACTIVITIES]
    assert sorted([*FLOW_SERIES, *COMPANY_SERIES, *hours]) == sorted(SERIES)
    assert len({*FLOW_SERIES, *COMPANY_SERIES}) == len(FLOW_SERIES) + len(COMPANY_SERIES)


FIXED = {
    "the bare queue": {},
    "interrupts": {"interrupts": {"enabled": True}},
    "direct access": {
        "interrupts": {
            "direct_access": {
                "enabled": True,
                "customers": 1,
                "pings_per_week": 4,
                "effort": {"kind": "exponential", "mean": 0.5},
            }
        }
    },
    "calls and promises": {
        "status_calls": {"enabled": True},
        "commitments": {"enabled": True, "policy": "forecast"},
    },
    "quality and platform": {
        "quality": {"enabled": True},
        "platform": {"enabled": True, "share_of_week": 0.1},
    },
    "top-n list, WIP limit": {
        "lead": {"wip_limit": 2, "prioritisation": {"policy": "top_n"}},
    },
    "stale tickets": {"tickets": {"abandon_after_days": 5}},
}


@pytest.mark.parametrize("overrides", FIXED.values(), ids=FIXED.keys())
def test_levels_read_once_give_the_series_read_every_day(
    overrides: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    params = _params(overrides)
    assert not Company(params, 7).company_levels_can_change(), "the shortcut is not taken"
    shortcut = _series(params, monkeypatch, None)
    daily = _series(params, monkeypatch, True)
    pd.testing.assert_frame_equal(shortcut, daily, check_exact=True)


MOVING = {
    "sales": {"sales": {"new_customers_per_month": 4}},
    "a contractor": {"team": {"contractors": 1}},
    "a hire": {"hiring": {"plan": [{"role": "contractor", "count": 1, "at_week": 2}]}},
    "forgetting": {
        "lead": {"prioritisation": {"policy": "top_n", "top_n": 3}},
        "forgetting": {"enabled": True},
    },
    "switching costs": {"context_switching": {"enabled": True}},
    # A yellow customer turns green with tickets resolved on time.
    "health": {"health": {"enabled": True, "initial": 65, "ticket_on_time": 10}},
    "churn": {"churn": {"enabled": True, "monthly_hazard": 0.9}},
    "a customer onboarding at the start": {},
    # Started at the next slot of a fixed-rate intake: nobody is onboarding at first.
    "a customer signed at the start": {"intake": {"policy": "fixed_rate", "starts_per_month": 2}},
}
STATES = {
    "a customer onboarding at the start": StartState(
        as_of=dt.date(2026, 1, 5),
        live=("a",),
        onboarding=(OpenOnboarding("b", 5, 0, (OpenItem("T1", "task", 1),), tasks_left=1),),
    ),
    "a customer signed at the start": StartState(
        as_of=dt.date(2026, 1, 5), live=("a",), signed=(SignedCustomer("b", 2),)
    ),
}


@pytest.mark.parametrize("name", MOVING)
def test_each_thing_that_moves_the_company_levels_is_seen(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    params, state = _params(MOVING[name]), STATES.get(name)
    assert Company(params, 7, state).company_levels_can_change()
    daily = _series(params, monkeypatch, None, state)
    frozen = _series(params, monkeypatch, False, state)
    moved = [c for c in COMPANY_SERIES if not daily[c].equals(frozen[c])]
    assert moved, f"{name}: the company's levels never moved; the test proves nothing"
