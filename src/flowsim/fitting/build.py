"""From observables to a config: what is estimated directly from the table, and what
must be fitted by simulation (the targets and free parameters of ``flowsim calibrate``).

A tracker shows when work was raised, started and finished, and who held it, never
how many hours it took: rates, shares and counts are read off the table and written
straight into the config; efforts are fitted so that the simulated cycle times,
throughput and open work match the observed ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from flowsim.config.calibration import FreeParam, FreeSpec, Target, TargetsSpec
from flowsim.data.items import CLASSES
from flowsim.fitting.observed import Observed
from flowsim.model.params import Params

EFFORT_SPAN = 8.0
"""A fitted effort mean is searched from the base config's value / 8 to its value * 8."""
MIN_RELATIVE_SD = 0.1
"""A target's sd is at least 10% of its value (the calibration's default): the model is
a model, and a target pinned tighter than that would outweigh the others."""
CHECK_WEIGHT = 1e-6
"""Weight of a check: an observable set directly, simulated to see that it comes back,
which takes (almost) no part in the fit."""


@dataclass(frozen=True)
class Estimate:
    """A config value read off the table, with the observable it comes from."""

    key: str
    value: Any
    observable: str
    note: str


def _round(x: float) -> float:
    return float(f"{x:.3g}")


def direct_estimates(obs: Observed, base: Params) -> list[Estimate]:
    """The config values the table gives directly (only those it has data for)."""
    out: list[Estimate] = []

    def have(name: str, least: int = 1) -> bool:
        row = obs.get(name)
        return row is not None and math.isfinite(float(row["value"])) and int(row["n"]) >= least

    def take(key: str, name: str, note: str, value: Any = None) -> None:
        row = obs.get(name)
        assert row is not None
        v = _round(float(row["value"])) if value is None else value
        if isinstance(v, float) and math.isfinite(row["low"]) and value is None:
            note += f"; 95% CI {_round(row['low']):g}-{_round(row['high']):g}"
        out.append(Estimate(key, v, name, note))

    if have("tickets_per_customer_per_week"):
        take(
            "tickets.per_customer_per_week",
            "tickets_per_customer_per_week",
            "tickets per live customer-week" + _moved(obs),
        )
    present = [c for c in CLASSES if c in base.tickets.classes]
    if present and all(have(f"ticket_{c}_share") for c in present):
        raw = {c: obs.value(f"ticket_{c}_share") for c in present}
        total = sum(raw.values())
        if total > 0:
            shares = {c: round(v / total, 3) for c, v in raw.items()}
            shares[present[-1]] = round(1 - sum(shares[c] for c in present[:-1]), 3)
            for c in present:
                take(
                    f"tickets.classes.{c}.share",
                    f"ticket_{c}_share",
                    f"share of tickets classed {c}",
                    shares[c],
                )
    if obs.lead is not None:
        for c in present:
            if have(f"ticket_{c}_lead_share"):
                take(
                    f"tickets.classes.{c}.lead_share",
                    f"ticket_{c}_lead_share",
                    f"share of {c} tickets assigned to {obs.lead}",
                )
        if have("onboarding_lead_share"):
            take(
                "onboarding.lead_share",
                "onboarding_lead_share",
                f"share of onboarding tasks assigned to {obs.lead}",
            )
    if have("team_developers", 0):
        for key, name, who in (
            (
                "team.contractors",
                "team_developers",
                "developers (assignees holding onboarding work)",
            ),
            ("team.support", "team_support", "support (assignees holding only tickets)"),
        ):
            row = obs.get(name)
            assert row is not None
            take(key, name, f"{who}: {row['note']}", int(row["value"]))
    if have("onboardings_started_per_month"):
        take(
            "sales.new_customers_per_month",
            "onboardings_started_per_month",
            "onboardings begun per month (every signed customer starts at once)",
        )
    row = obs.get("onboarding_tasks_per_customer")
    if row is not None:
        low, high = round(float(row["low"])), round(float(row["high"]))
        take(
            "onboarding.tasks",
            "onboarding_tasks_per_customer",
            f"tasks of the {int(row['n'])} finished onboarding(s), from fewest to most",
            {"kind": "integers", "low": low, "high": high},
        )
    if have("churn_monthly_hazard", 0):
        take(
            "churn.monthly_hazard",
            "churn_monthly_hazard",
            "customers gone silent per "
            "live customer-month (the model raises it further for customers in red health)",
        )
    if have("live_customers_at_start", 0):
        take(
            "customers.initial_live",
            "live_customers_at_start",
            "customers live when the table starts",
            int(obs.value("live_customers_at_start")),
        )
    return out


def _moved(obs: Observed) -> str:
    moved = obs.change_points.get("ticket_arrivals")
    return f", since the arrival rate moved on {moved[-1]:%Y-%m-%d}" if moved else ""


def _sd(row: Any) -> float:
    value, low, high = float(row["value"]), float(row["low"]), float(row["high"])
    floor = MIN_RELATIVE_SD * abs(value)
    if math.isfinite(low) and math.isfinite(high):
        return max((high - low) / 3.92, floor, 1e-6)
    return max(abs(value) / 2, 1e-6)  # an interval open above: a weak target


def _target(
    obs: Observed,
    name: str,
    observable: str,
    metric: str | None = None,
    series: str | None = None,
    stat: str = "mean",
    weight: float = 1.0,
) -> Target | None:
    row = obs.get(observable)
    if row is None or not math.isfinite(float(row["value"])):
        return None
    return Target.model_validate(
        {
            "name": name,
            "metric": metric,
            "series": series,
            "stat": stat,
            "value": float(row["value"]),
            "sd": _sd(row),
            "weight": weight,
            "source": f"{observable} = {float(row['value']):.3g} from the table "
            f"(n={int(row['n'])})",
        }
    )


def targets_spec(
    obs: Observed,
    base: Params,
    *,
    horizon_weeks: float,
    warmup_weeks: float,
    replications: int = 4,
    confirm: int = 20,
    seed: int = 2026,
) -> TargetsSpec:
    """The observables the simulation must reproduce (weight 1) and the checks of what
    was set directly (weight ~0)."""
    targets: list[Target | None] = []
    for c in CLASSES:
        if c in base.tickets.classes:
            targets.append(
                _target(obs, f"{c}_p85", f"ticket_{c}_p85_days", metric=f"ticket_{c}_p85_days")
            )
    targets.append(
        _target(obs, "closed_per_week", "tickets_closed_per_week", metric="tickets_closed_per_week")
    )
    targets.append(_target(obs, "open_tickets", "tickets_open_mean", series="tickets_open"))
    targets.append(
        _target(
            obs,
            "onboarding_p50",
            "onboarding_lead_time_p50_days",
            metric="onboarding_lead_time_p50_days",
        )
    )
    targets.append(
        _target(
            obs,
            "onboarding_task_p85",
            "onboarding_task_p85_days",
            metric="onboarding_task_p85_days",
        )
    )
    targets.append(_target(obs, "go_lives", "go_lives_per_quarter", metric="go_lives_per_quarter"))
    targets.append(
        _target(
            obs,
            "check_raised_per_week",
            "ticket_arrivals_per_week",
            series="tickets_created",
            stat="trend_per_week",
            weight=CHECK_WEIGHT,
        )
    )
    targets.append(
        _target(obs, "check_live", "live_customers_mean", series="live", weight=CHECK_WEIGHT)
    )
    kept = [t for t in targets if t is not None]
    return TargetsSpec.model_validate(
        {
            "name": "company",
            "description": "fitted to a tracker's table of work items by flowsim fit",
            "horizon_weeks": horizon_weeks,
            "warmup_weeks": warmup_weeks,
            "replications": replications,
            "confirm_replications": confirm,
            "stability_weeks": None,
            "seed": seed,
            "startup_trials": 8,
            "targets": [t.model_dump() for t in kept],
        }
    )


def is_check(target: Target) -> bool:
    return target.weight <= CHECK_WEIGHT


def free_spec(
    obs: Observed, base: Params, targets: TargetsSpec, only: list[str] | None = None
) -> FreeSpec:
    """What the fit moves: the effort of each ticket class with a cycle-time target, the
    onboarding task effort if onboardings are targeted, and the lead's shares if the
    table does not name him."""
    names = {t.name for t in targets.targets}
    free: list[FreeParam] = []

    def effort(key: str, dist: Any, why: str) -> None:
        mean = getattr(dist, "mean", None)
        if dist.kind not in ("lognormal", "exponential") or not mean:
            return
        free.append(
            FreeParam(
                key=key,
                low=_round(mean / EFFORT_SPAN),
                high=_round(mean * EFFORT_SPAN),
                log=True,
                source=f"base value {mean:g} h, searched /{EFFORT_SPAN:g} to "
                f"*{EFFORT_SPAN:g}; {why}",
            )
        )

    for c, cls in base.tickets.classes.items():
        if f"{c}_p85" in names:
            effort(
                f"tickets.classes.{c}.effort.mean", cls.effort, f"moves the {c} tickets' cycle time"
            )
            if obs.lead is None:
                free.append(
                    FreeParam(
                        key=f"tickets.classes.{c}.lead_share",
                        low=0.0,
                        high=1.0,
                        source="no assignee names the lead",
                    )
                )
    if "onboarding_p50" in names or "onboarding_task_p85" in names:
        effort(
            "onboarding.task_effort.mean",
            base.onboarding.task_effort,
            "moves the onboarding lead time",
        )
        if obs.lead is None:
            free.append(
                FreeParam(
                    key="onboarding.lead_share",
                    low=0.0,
                    high=1.0,
                    source="no assignee names the lead",
                )
            )
    if only is not None:
        unknown = sorted(set(only) - {f.key for f in free})
        if unknown:
            from flowsim.fitting.observed import FitError

            raise FitError(
                f"cannot fit {', '.join(unknown)}: free keys are "
                f"{', '.join(f.key for f in free) or 'none'}"
            )
        free = [f for f in free if f.key in only]
    if not free:
        from flowsim.fitting.observed import FitError

        raise FitError("the table supports no target that an effort could be fitted to")
    return FreeSpec(free=free)
