"""Shared helpers for the model's tests: reduced configs, replications and event-log views.

The *reduced* model switches every mechanism of MODEL.md off (context switching,
interrupts and direct access, status calls, promises, forgetting, quality, health,
churn, sales), keeps one live customer raising Poisson tickets of a single class
with exponential effort, and gives the lead 40 hours in a 5 x 8-hour week, so he
works at speed 1: a ticket of effort ``e`` hours occupies him ``e`` clock hours.
What is left is a textbook single-server queue that the analytic tests perturb
one switch at a time.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from flowsim.config import dump_yaml
from flowsim.model import Params, Result, simulate

HOURS_PER_DAY = 8.0
WEEK_HOURS = 5 * HOURS_PER_DAY

_REDUCED: dict[str, Any] = {
    "name": "reduced",
    "description": "every mechanism off: a textbook queue of tickets in front of the lead",
    "simulation": {"horizon_weeks": 200, "warmup_weeks": 20, "hours_per_day": HOURS_PER_DAY},
    "lead": {
        "capacity_hours_per_week": WEEK_HOURS,
        "wip_limit": None,
        "prioritisation": {"policy": "fifo"},
    },
    "context_switching": {"enabled": False},
    "interrupts": {
        "enabled": False,
        "resume_cost_hours": 0,
        "direct_access": {"enabled": False, "customers": 0},
    },
    "team": {"contractors": 0, "engineers": 0, "support": 0, "hours_per_week": WEEK_HOURS},
    "hiring": {"plan": []},
    "sales": {"new_customers_per_month": 0},
    "tickets": {
        "enabled": True,
        "per_customer_per_week": 20,
        "abandon_after_days": None,
        "classes": {
            "normal": {
                "share": 1.0,
                "effort": {"kind": "exponential", "mean": 1.0},
                "lead_share": 1.0,
                "target_days": 5,
            }
        },
    },
    "status_calls": {"enabled": False},
    "commitments": {"enabled": False, "policy": "none"},
    "forgetting": {"enabled": False},
    "quality": {"enabled": False},
    "health": {"enabled": False},
    "churn": {"enabled": False},
    "customers": {"initial_live": 1},
    "platform": {"enabled": False},
}


def deep_merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``over`` into a copy of ``base``: mappings key by key, anything else replaces.

    As in the config loader, a mapping whose ``kind`` differs from the one it lands
    on is another distribution and replaces it whole.
    """
    out = copy.deepcopy(base)
    for key, value in over.items():
        old = out.get(key)
        if (
            isinstance(value, Mapping)
            and isinstance(old, dict)
            and value.get("kind", old.get("kind")) == old.get("kind")
        ):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


# Urgent and normal tickets, both exponential with mean 1 h and all for the lead.
TWO_CLASSES = {
    "urgent": {
        "share": 0.3,
        "effort": {"kind": "exponential", "mean": 1.0},
        "lead_share": 1.0,
        "target_days": 1,
    },
    "normal": {
        "share": 0.7,
        "effort": {"kind": "exponential", "mean": 1.0},
        "lead_share": 1.0,
        "target_days": 5,
    },
}


def reduced_params(
    overrides: Mapping[str, Any] | None = None,
    *,
    classes: Mapping[str, Any] | None = None,
    tickets_per_week: float | None = None,
    horizon_weeks: float | None = None,
    warmup_weeks: float | None = None,
) -> Params:
    """The reduced model (every mechanism off), with nested ``overrides`` deep-merged in.

    Parameters
    ----------
    overrides : mapping, optional
        Nested config keys by alias, e.g. ``{"team": {"contractors": 2}}``.
    classes : mapping, optional
        Replaces the ticket classes whole (a merge would keep the default class).
    tickets_per_week : float, optional
        Tickets per week from the single live customer (the arrival rate times 40 h).
    horizon_weeks, warmup_weeks : float, optional
        Shortcuts for ``simulation.horizon_weeks`` / ``simulation.warmup_weeks``; a
        horizon without a warm-up gets the default 20 weeks or a tenth of it, if shorter.
    """
    data = deep_merge(_REDUCED, overrides or {})
    if classes is not None:
        data["tickets"]["classes"] = copy.deepcopy(dict(classes))
    if tickets_per_week is not None:
        data["tickets"]["per_customer_per_week"] = tickets_per_week
    if horizon_weeks is not None:
        data["simulation"]["horizon_weeks"] = horizon_weeks
        if warmup_weeks is None:
            warmup_weeks = min(data["simulation"]["warmup_weeks"], horizon_weeks / 10)
    if warmup_weeks is not None:
        data["simulation"]["warmup_weeks"] = warmup_weeks
    return Params.model_validate(data)


def with_overrides(params: Params, overrides: Mapping[str, Any]) -> Params:
    """A copy of ``params`` with nested ``overrides`` (by alias) deep-merged in, re-validated."""
    data = params.model_dump(by_alias=True)
    return Params.model_validate(deep_merge(data, overrides))


def short(params: Params, horizon_weeks: float, warmup_weeks: float = 1) -> Params:
    """``params`` with a shorter horizon (and warm-up), for fast runs."""
    return with_overrides(
        params, {"simulation": {"horizon_weeks": horizon_weeks, "warmup_weeks": warmup_weeks}}
    )


# ---------------------------------------------------------------- replications and intervals
def replication_seeds(root: int, replications: int) -> list[np.random.SeedSequence]:
    """Independent replication seeds, as the runner makes them (``SeedSequence.spawn``)."""
    return np.random.SeedSequence(root).spawn(replications)


def replicate(
    params: Params, root: int, replications: int, statistic: Callable[[Result], Any]
) -> list[Any]:
    """``statistic`` of each of ``replications`` independent runs of ``params``."""
    return [statistic(simulate(params, seed=s)) for s in replication_seeds(root, replications)]


def t_interval(values: Iterable[float], level: float = 0.95) -> tuple[float, float, float]:
    """Mean and two-sided Student-t confidence interval of i.i.d. replication values.

    Returns ``(mean, low, high)``.  The replications are independent by
    construction (spawned seed sequences), so the across-replication t-interval
    is the standard one (Law, *Simulation Modeling and Analysis*, sec. 9.4).
    """
    x = np.asarray(list(values), dtype=float)
    n = len(x)
    assert n >= 2, "an interval needs at least two replications"
    mean = float(x.mean())
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * x.std(ddof=1) / np.sqrt(n))
    return mean, mean - half, mean + half


def assert_in_interval(
    analytic: float, values: Iterable[float], level: float, slack: float = 0.0, what: str = ""
) -> None:
    """Assert ``analytic`` lies in the ``level`` t-interval of ``values``, widened by ``slack``.

    ``slack`` is a relative allowance (a share of ``analytic``) for a known,
    bounded bias such as the warm-up; tests that use it say why.
    """
    mean, low, high = t_interval(values, level)
    pad = slack * abs(analytic)
    assert low - pad <= analytic <= high + pad, (
        f"{what}: analytic {analytic:.4f} outside the {level:.0%} interval "
        f"[{low:.4f}, {high:.4f}] (+/- {pad:.4f} slack) of the replication mean {mean:.4f}"
    )


# ---------------------------------------------------------------- event-log views
def item_times(events: pd.DataFrame, kind: str = "ticket") -> pd.DataFrame:
    """One row per item of ``kind``: ``arrive``, first ``start``, ``done`` times and class.

    Columns: ``arrive``, ``start``, ``done`` (NaN when it never happened) and
    ``cls`` (the arrive row's actor, the ticket class for tickets).
    """
    ev = events[events["kind"] == kind]
    arrive = ev[ev["event"] == "arrive"].set_index("entity")
    out = pd.DataFrame(
        {"arrive": arrive["time"], "cls": arrive["actor"].astype(str)}, index=arrive.index
    )
    for name in ("start", "done"):
        rows = ev[ev["event"] == name].groupby("entity")["time"].min()
        out[name] = rows.reindex(out.index)
    return out


def sojourns(
    result: Result, arrive_from: float, arrive_until: float, kind: str = "ticket"
) -> pd.DataFrame:
    """Items of ``kind`` that arrived in ``[arrive_from, arrive_until)`` clock hours.

    Adds ``system`` (done - arrive) and ``wait`` (first start - arrive).  Every such
    item must be done by the horizon: callers leave a tail long enough that an
    unfinished item would itself signal a fault (or a hopeless queue).
    """
    times = item_times(result.events, kind)
    sel = times[(times["arrive"] >= arrive_from) & (times["arrive"] < arrive_until)].copy()
    assert sel["done"].notna().all(), (
        f"{int(sel['done'].isna().sum())} {kind}s that arrived before {arrive_until} h "
        "are not done by the horizon"
    )
    sel["system"] = sel["done"] - sel["arrive"]
    sel["wait"] = sel["start"] - sel["arrive"]
    return sel


def last_events(events: pd.DataFrame) -> pd.DataFrame:
    """The last logged event of each work item (entities >= 0 that are not customers)."""
    ev = events[(events["entity"] >= 0) & (events["kind"] != "customer")]
    return ev.groupby("entity", sort=True).tail(1).set_index("entity")


@pytest.fixture(scope="session")
def baseline_long() -> Result:
    """One long run of the default ``Params()`` (104 weeks), shared by several test files."""
    return simulate(Params(), seed=np.random.SeedSequence(20240611))


# ---------------------------------------------------------------- conservation of work
STATES = ("waiting", "active", "forgotten", "done", "dropped")
# Rows that change an item's state, and the state they leave it in.  Promise rows
# (``promised``, ``promise_kept``, ``promise_broken``) do not change the state.
STATE_OF_EVENT = {
    "arrive": "waiting",
    "preempt": "waiting",
    "review_wait": "waiting",
    "rework": "waiting",
    "resurfaced": "waiting",
    "start": "active",
    "forgotten": "forgotten",
    "done": "done",
    "dropped": "dropped",
}
TERMINAL = {"done", "dropped"}


def work_rows(events: pd.DataFrame) -> pd.DataFrame:
    """Rows of work items (not customers, not people joining)."""
    return events[(events["entity"] >= 0) & (events["kind"] != "customer")]


def assert_conserved(result: Result) -> dict[str, int]:
    """Conservation of work, from the model's counters and, independently, the event log.

    1. ``arrived == waiting + active + forgotten + done + dropped`` and the reasons
       of the dropped items add up to ``dropped``;
    2. each work item has exactly one ``arrive`` row, first; replaying its
       state-changing rows gives one final state per item, and the items per final
       state equal the model's counters;
    3. no state-changing row follows ``done`` or ``dropped``, and every ``dropped``
       row names its reason.

    Returns the per-state counts read from the log.
    """
    cons = result.conservation
    assert cons["arrived"] == sum(cons[s] for s in STATES), cons
    assert all(cons[s] >= 0 for s in STATES), cons
    reasons = {k: v for k, v in cons.items() if k.startswith("dropped_")}
    assert sum(reasons.values()) == cons["dropped"], cons

    rows = work_rows(result.events)
    arrivals = rows[rows["event"] == "arrive"]
    assert arrivals["entity"].is_unique, "an item arrived twice"
    assert len(arrivals) == cons["arrived"]
    first = rows.groupby("entity", sort=True).head(1)
    assert (first["event"] == "arrive").all(), "an item has a row before its arrival"

    changes = rows[rows["event"].isin(list(STATE_OF_EVENT))]
    final = last_events(changes)["event"].astype(str).map(STATE_OF_EVENT)
    assert len(final) == cons["arrived"]
    from_log = final.value_counts().reindex(list(STATES), fill_value=0).to_dict()
    assert from_log == {s: cons[s] for s in STATES}

    # Nothing happens to an item after it is done or dropped.
    terminal = changes[changes["event"].isin(list(TERMINAL))]
    assert terminal["entity"].is_unique, "an item finished twice (or finished and was dropped)"
    last_pos = changes.reset_index().groupby("entity")["index"].max()
    end_pos = terminal.reset_index().set_index("entity")["index"]
    assert (last_pos.loc[end_pos.index] == end_pos).all(), "a state change after done/dropped"

    dropped = rows[rows["event"] == "dropped"]
    assert (dropped["actor"].astype(str).str.len() > 0).all(), "a drop without a reason"
    log_reasons = dropped["actor"].astype(str).value_counts().to_dict()
    assert log_reasons == {k.removeprefix("dropped_"): v for k, v in reasons.items() if v}
    return from_log


MIXED_STUDY = """
name: mixed
description: one scenario that settles, one that does not
base: {base}
replications: 3
seed: 2
metrics: [tickets_closed_per_week, ticket_resolution_mean_days]
scenarios:
  - name: light
  - name: overloaded
    set: {{tickets.per_customer_per_week: 60}}
"""


def write_mixed_study(root: Path) -> Path:
    """An experiment file in ``root`` whose ``light`` scenario settles and whose
    ``overloaded`` one does not: every mechanism off, the lead half busy with tickets,
    or asked for 1.5 times his week; 3 replications of 40 weeks, 4 of them warm-up."""
    base = root / "light.yaml"
    params = reduced_params(tickets_per_week=20, horizon_weeks=40, warmup_weeks=4)
    base.write_text(dump_yaml(params), encoding="utf-8")
    spec = root / "mixed.yaml"
    spec.write_text(MIXED_STUDY.format(base=base.as_posix()), encoding="utf-8")
    return spec


SMALL_STUDY = """
name: small
description: three scenarios for the study tests
base: {configs}/baseline.yaml
replications: 3
seed: 7
horizon_weeks: {horizon}
warmup_weeks: {warmup}
metrics: [go_lives, ticket_resolution_mean_days]
scenarios:
  - name: baseline
  - name: advisor
    overlays: [{configs}/policies/advisor.yaml]
sweeps:
  - name: wip
    set: {{intake.policy: wip_limit}}
    grid: {{intake.limit: [1]}}
"""


def write_small_study(folder: Path, warmup: str = "1", horizon: int = 8) -> Path:
    """An experiment file in ``folder``: the baseline, the advisor's levers and a WIP
    limit of 1, three replications of ``horizon`` weeks (``warmup`` as the file says it)."""
    configs = (Path(__file__).resolve().parents[1] / "configs").as_posix()
    path = folder / "small.yaml"
    path.write_text(
        SMALL_STUDY.format(configs=configs, warmup=warmup, horizon=horizon), encoding="utf-8"
    )
    return path
