"""Golden master: the same config and seed give the same run as when the masters were taken.

A restructuring of the model must not change what it does.  Each config below
(the baseline, the advisor's package and reduced configs that between them reach
every policy and mechanism branch) is run once, and a SHA-256 digest of every output
(event log, daily time series, summary, customers, conservation counts, the lead's
hours) is compared with the digest stored in ``golden_master.json``.

Regenerate the masters only for a deliberate change of behaviour, and say so in the
commit: ``python tests/test_golden_master.py --write``.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from conftest import reduced_params
from flowsim.config import load_config
from flowsim.model import Params, Result, simulate

ROOT = Path(__file__).resolve().parent.parent
MASTERS = Path(__file__).with_name("golden_master.json")
SEED = 20261123

_CLASSES = {
    "urgent": {
        "share": 0.2,
        "effort": {"kind": "exponential", "mean": 1.5},
        "lead_share": 0.8,
        "target_days": 1,
    },
    "normal": {
        "share": 0.5,
        "effort": {"kind": "lognormal", "mean": 3, "cv": 1.0},
        "lead_share": 0.6,
        "target_days": 5,
    },
    "how_to": {
        "share": 0.3,
        "effort": {"kind": "exponential", "mean": 0.5},
        "lead_share": 0.5,
        "target_days": 2,
    },
}


def _configs() -> dict[str, Params]:
    base = str(ROOT / "configs" / "baseline.yaml")
    advisor = str(ROOT / "configs" / "policies" / "advisor.yaml")
    return {
        "baseline": load_config(base),
        "advisor": load_config(base, [advisor]),
        # The queue with pings from a customer with direct access, interrupts off.
        "reduced_pings": reduced_params(
            {
                "interrupts": {
                    "direct_access": {
                        "customers": 1,
                        "pings_per_week": 4,
                        "effort": {"kind": "exponential", "mean": 0.5},
                    }
                }
            },
            tickets_per_week=25,
            horizon_weeks=60,
        ),
        # A team behind a triage person, hires by week and by trigger, urgent first,
        # forecast promises, written updates, defects, platform time, a fixed intake.
        "reduced_team": reduced_params(
            {
                "lead": {"prioritisation": {"policy": "urgent_first"}},
                "interrupts": {"enabled": True, "shielding": "triage"},
                "team": {"contractors": 2, "engineers": 1, "support": 1},
                "hiring": {
                    "plan": [
                        {"role": "contractor", "count": 1, "at_week": 10},
                        {"role": "engineer", "count": 1, "when_backlog_above": 15},
                    ]
                },
                "sales": {"new_customers_per_month": 2},
                "intake": {"policy": "fixed_rate", "starts_per_month": 1.5},
                "customers": {"initial_live": 4},
                "status_calls": {"enabled": True, "format": "written"},
                "commitments": {"enabled": True, "policy": "forecast"},
                "quality": {"enabled": True},
                "platform": {"enabled": True, "share_of_week": 0.1},
                "health": {"enabled": True},
                "churn": {"enabled": True, "monthly_hazard": 0.05},
                "context_switching": {"enabled": True},
            },
            classes=_CLASSES,
            tickets_per_week=2,
            horizon_weeks=60,
        ),
        # Oldest first under a lead WIP limit, calls he joins when needed, office hours,
        # an intake WIP limit with patience, promises for tomorrow.
        "reduced_office": reduced_params(
            {
                "lead": {"wip_limit": 2, "prioritisation": {"policy": "oldest_first"}},
                "interrupts": {
                    "enabled": True,
                    "shielding": "office_hours",
                    "office_hour": 5,
                    "resume_cost_hours": 0.25,
                    "direct_access": {"enabled": True, "customers": 2},
                },
                "team": {"contractors": 1},
                "sales": {"new_customers_per_month": 3},
                "intake": {"policy": "wip_limit", "limit": 2},
                "customers": {"initial_live": 5},
                "status_calls": {"enabled": True, "lead_attends": "when_needed"},
                "commitments": {"enabled": True, "policy": "tomorrow"},
                "health": {"enabled": True},
                "churn": {"enabled": True},
                "context_switching": {"enabled": True},
            },
            classes=_CLASSES,
            tickets_per_week=1.5,
            horizon_weeks=60,
        ),
        # FIFO with preemption, ramping hires with mentoring, end-of-today promises.
        "reduced_fifo": reduced_params(
            {
                "interrupts": {"enabled": True},
                "team": {"contractors": 1},
                "hiring": {"plan": [{"role": "contractor", "count": 2, "at_week": 5}]},
                "sales": {"new_customers_per_month": 1},
                "customers": {"initial_live": 3},
                "status_calls": {"enabled": True},
                "commitments": {"enabled": True, "policy": "end_of_today"},
                "health": {"enabled": True},
                "churn": {"enabled": True},
                "context_switching": {"enabled": True},
            },
            classes=_CLASSES,
            tickets_per_week=2,
            horizon_weeks=60,
        ),
        # The daily list in oldest order, forgetting tickets only, under pressure.
        "reduced_list": reduced_params(
            {
                "lead": {"prioritisation": {"policy": "top_n", "top_n": 5, "list_order": "oldest"}},
                "interrupts": {"enabled": True},
                "team": {"contractors": 2},
                "sales": {"new_customers_per_month": 2},
                "customers": {"initial_live": 8},
                "status_calls": {"enabled": True},
                "commitments": {"enabled": True, "policy": "this_week"},
                "forgetting": {"enabled": True, "applies_to": ["ticket"]},
                "quality": {"enabled": True},
                "health": {"enabled": True},
                "churn": {"enabled": True},
                "context_switching": {"enabled": True},
                "onboarding": {"parallel_tasks": None, "fee": 10000},
            },
            classes=_CLASSES,
            tickets_per_week=1,
            horizon_weeks=60,
        ),
        # Classes of service with a narrow expedite lane, without the event log.
        "reduced_cos_nolog": reduced_params(
            {
                "simulation": {"event_log": False},
                "lead": {"prioritisation": {"policy": "classes_of_service", "expedite_limit": 1}},
                "interrupts": {"enabled": True},
                "team": {"contractors": 2},
                "sales": {"new_customers_per_month": 2},
                "customers": {"initial_live": 6},
                "status_calls": {"enabled": True},
                "commitments": {"enabled": True, "policy": "mixed"},
                "health": {"enabled": True},
                "churn": {"enabled": True},
            },
            classes=_CLASSES,
            tickets_per_week=1,
            horizon_weeks=60,
        ),
    }


def _frame_digest(frame: pd.DataFrame) -> str:
    """Digest of a frame's column names, dtypes, categories and values, byte for byte."""
    h = hashlib.sha256()
    h.update(repr(list(frame.columns)).encode())
    for name in frame.columns:
        col = frame[name]
        h.update(f"{name}:{col.dtype}".encode())
        if isinstance(col.dtype, pd.CategoricalDtype):
            h.update(repr(list(col.cat.categories)).encode())
            h.update(col.cat.codes.to_numpy().tobytes())
        elif pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype):
            h.update(np.ascontiguousarray(col.to_numpy()).tobytes())
        else:  # strings and objects: by value, not by the address of the objects
            h.update("\0".join(map(repr, col.tolist())).encode())
    return h.hexdigest()


def digests(result: Result) -> dict[str, Any]:
    """Digests of every output of a run, and row counts to help read a mismatch."""
    summary = result.summary.to_frame().T
    return {
        "events": _frame_digest(result.events),
        "timeseries": _frame_digest(result.timeseries),
        "summary": _frame_digest(summary),
        "customers": _frame_digest(result.customers),
        "conservation": hashlib.sha256(
            json.dumps(result.conservation, sort_keys=True).encode()
        ).hexdigest(),
        "lead_hours": hashlib.sha256(
            json.dumps({k: v.hex() for k, v in result.lead_hours.items()}, sort_keys=True).encode()
        ).hexdigest(),
        "rows": {"events": len(result.events), "timeseries": len(result.timeseries)},
    }


@pytest.mark.parametrize("name", list(_configs()))
def test_same_run_as_the_golden_master(name: str) -> None:
    masters = json.loads(MASTERS.read_text(encoding="utf-8"))
    got = digests(simulate(_configs()[name], seed=SEED))
    assert got == masters[name]


def main(argv: list[str]) -> int:
    if argv != ["--write"]:
        print(__doc__)
        return 2
    masters = {name: digests(simulate(p, seed=SEED)) for name, p in _configs().items()}
    MASTERS.write_text(json.dumps(masters, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {MASTERS}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    sys.exit(main(sys.argv[1:]))
