"""Conservation of work (MODEL.md, "Validation").

Everything that arrives is done, in progress, waiting, forgotten (and counted) or
dropped with a reason; nothing vanishes.  Checked three ways on the baseline and
on policy variants:

1. the model's own counters: ``arrived == waiting + active + forgotten + done + dropped``
   and the dropped items' reasons add up to ``dropped``;
2. the event log, independently: each work item has exactly one ``arrive`` row,
   first; replaying its state-changing rows gives one final state per item, and the
   count of items per final state equals the model's counters;
3. no state-changing row follows a terminal one (``done`` or ``dropped``), and
   every ``dropped`` row names its reason.
"""

from __future__ import annotations

from typing import Any

import pytest

from conftest import STATES, assert_conserved, reduced_params, with_overrides, work_rows
from flowsim.model import Params, Result, simulate

VARIANTS: dict[str, dict[str, Any]] = {
    "baseline": {},
    "fifo": {"lead": {"prioritisation": {"policy": "fifo"}}},
    "urgent_first": {"lead": {"prioritisation": {"policy": "urgent_first"}}},
    "oldest_first": {"lead": {"prioritisation": {"policy": "oldest_first"}}},
    "classes_of_service": {"lead": {"prioritisation": {"policy": "classes_of_service"}}},
    "top_n_oldest": {"lead": {"prioritisation": {"top_n": 3, "list_order": "oldest"}}},
    "intake_wip": {"intake": {"policy": "wip_limit", "limit": 2}},
    "intake_fixed_rate": {"intake": {"policy": "fixed_rate", "starts_per_month": 1}},
    "lead_wip": {"lead": {"wip_limit": 2}},
    "office_hours": {"interrupts": {"shielding": "office_hours"}},
    "triage": {"interrupts": {"shielding": "triage"}, "team": {"support": 1}},
    "forecast": {"commitments": {"policy": "forecast"}},
    "no_promises": {"commitments": {"policy": "none"}},
    "platform": {"platform": {"enabled": True}},
    "hiring": {
        "hiring": {
            "plan": [
                {"role": "engineer", "at_week": 2},
                {"role": "support", "when_backlog_above": 30},
            ]
        }
    },
    "quality": {"quality": {"enabled": True}},
    "written_status": {"status_calls": {"format": "written"}},
    "high_churn": {"churn": {"monthly_hazard": 0.3}},
    "no_contractors": {"team": {"contractors": 0}},
}


@pytest.mark.parametrize("name", list(VARIANTS))
def test_work_is_conserved(name: str) -> None:
    """The baseline and policy variants (52 weeks): counters and event log agree."""
    params = with_overrides(
        Params(), {"simulation": {"horizon_weeks": 52, "warmup_weeks": 4}, **VARIANTS[name]}
    )
    result = simulate(params, seed=17)
    assert_conserved(result)


def test_baseline_long_run_is_conserved(baseline_long: Result) -> None:
    """The 104-week baseline: a long run with churn, forgetting and broken promises."""
    counts = assert_conserved(baseline_long)
    # The checks above are not vacuous here: the run ends with work in every state but
    # ``active``, which holds at most the lead's item plus one per team member.
    assert counts["done"] > 0 and counts["waiting"] > 0
    assert counts["forgotten"] + counts["dropped"] > 0
    assert counts["active"] <= 1 + baseline_long.params.team.contractors


def test_high_churn_drops_with_reason() -> None:
    """When customers leave, their open items are dropped, with the reason ``churned``."""
    params = with_overrides(
        Params(),
        {"simulation": {"horizon_weeks": 26, "warmup_weeks": 1}, "churn": {"monthly_hazard": 0.5}},
    )
    result = simulate(params, seed=5)
    assert_conserved(result)
    assert result.conservation.get("dropped_churned", 0) > 0
    churned = set(result.customers.loc[result.customers["state"] == "churned", "customer"])
    dropped = work_rows(result.events).query("event == 'dropped'")
    assert set(dropped["customer"]) <= churned


def test_reduced_model_finishes_everything() -> None:
    """Reduced model, light load: nothing is dropped or forgotten; all but the last few done."""
    result = simulate(reduced_params(tickets_per_week=10, horizon_weeks=50), seed=2)
    counts = assert_conserved(result)
    assert counts["dropped"] == 0 and counts["forgotten"] == 0
    assert counts["done"] >= counts["waiting"] + counts["active"]


def test_conservation_without_event_log() -> None:
    """The counters balance even when the event log is switched off (long studies)."""
    params = with_overrides(
        Params(), {"simulation": {"horizon_weeks": 30, "warmup_weeks": 2, "event_log": False}}
    )
    result = simulate(params, seed=9)
    cons = result.conservation
    assert result.events.empty
    assert cons["arrived"] == sum(cons[s] for s in STATES)
    # Same seed with the log on: the log changes nothing about the run.
    logged = simulate(with_overrides(params, {"simulation": {"event_log": True}}), seed=9)
    assert logged.conservation == cons
