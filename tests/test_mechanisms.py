"""Mechanism tests: each asserts a behaviour that follows from a mechanism's definition.

MODEL.md, "Mechanisms through which WIP eats capacity" and "Policies".  Each test
switches one mechanism or policy and checks what its definition implies, in a
configuration where the implication is certain (often paired on the same seed,
since each random stream is keyed by what it drives), never a seeded number.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from conftest import TWO_CLASSES, item_times, reduced_params, with_overrides
from flowsim.config import load_config
from flowsim.model import Params, Result, simulate

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"


def baseline(weeks: float = 26, **overrides: Any) -> Params:
    """The default parameters for ``weeks`` weeks (2-week warm-up), with overrides."""
    return with_overrides(
        Params(), {"simulation": {"horizon_weeks": weeks, "warmup_weeks": 2}, **overrides}
    )


def rows(result: Result, kind: str | None = None, event: str | None = None) -> pd.DataFrame:
    ev = result.events
    mask = np.ones(len(ev), dtype=bool)
    if kind is not None:
        mask &= (ev["kind"] == kind).to_numpy()
    if event is not None:
        mask &= (ev["event"] == event).to_numpy()
    return ev[mask]


# ---------------------------------------------------------------- 2. context switching
# Two classes; urgent tickets preempt, and under a newest-first daily list a newer
# ticket outranks the preempted one, so the lead ends up with several started items.
_CS_CLASSES = TWO_CLASSES


def _cs_params(enabled: bool) -> Params:
    return reduced_params(
        {
            "interrupts": {"enabled": True, "shielding": "immediate", "resume_cost_hours": 0},
            "context_switching": {"enabled": enabled},
            "lead": {"prioritisation": {"policy": "top_n", "list_order": "newest"}},
        },
        classes=_CS_CLASSES,
        tickets_per_week=24,  # load 0.6
        horizon_weeks=40,
    )


def test_context_switching_follows_weinberg_table() -> None:
    """Each day the lead's efficiency is the table's value for the number of items he
    juggles (unfinished, worked on within the window)."""
    params = _cs_params(True)
    table = params.context_switching.efficiency
    ts = simulate(params, seed=4).timeseries
    k = ts["lead_juggling"].clip(lower=1, upper=len(table)).astype(int)
    np.testing.assert_allclose(ts["lead_efficiency"], np.asarray(table)[k - 1])
    assert (ts["lead_juggling"] >= 2).any(), "the scenario never juggles two items"


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_context_switching_costs_capacity(seed: int) -> None:
    """Paired on one seed (identical tickets), switching on vs off.

    Off: the lead works at full speed whenever he has work (no switching hours).  On:
    he loses the switching share.  With the same arrivals and efforts, a server that
    drains work at rate <= 1 always holds at least the work of one that drains at
    rate 1 whenever busy (a standard sample-path comparison), so he is idle no
    more, and completes no more ticket-hours, than with switching off.  At load 0.6
    he idles after nearly every busy spell, so the time switching took comes out of
    his idle time: strictly less idle.
    """
    on, off = simulate(_cs_params(True), seed=seed), simulate(_cs_params(False), seed=seed)
    assert off.lead_hours.get("switching", 0.0) == 0.0
    assert (off.timeseries["lead_efficiency"] == 1.0).all()
    switching = on.lead_hours.get("switching", 0.0)
    assert switching > 0
    assert on.lead_hours["idle"] < off.lead_hours["idle"]
    assert on.lead_hours["tickets"] <= off.lead_hours["tickets"] + 1e-6
    # Every hour is accounted for: what switching took came out of idle or ticket work.
    assert switching == pytest.approx(
        (off.lead_hours["idle"] - on.lead_hours["idle"])
        + (off.lead_hours["tickets"] - on.lead_hours["tickets"]),
        rel=1e-6,
    )


# ---------------------------------------------------------------- 5. forgetting
@pytest.mark.parametrize("policy", ["fifo", "urgent_first", "oldest_first", "classes_of_service"])
def test_no_forgetting_without_a_daily_list(policy: str) -> None:
    """Forgetting acts only under ``top_n``: other policies never forget anything."""
    result = simulate(baseline(lead={"prioritisation": {"policy": policy}}), seed=6)
    assert rows(result, event="forgotten").empty
    assert result.summary["items_forgotten"] == 0
    assert result.conservation["forgotten"] == 0


def test_forgetting_under_top_n() -> None:
    """Under ``top_n`` items are forgotten; only unstarted ones; they resurface as configured.

    * Switched off, nothing is forgotten (same seed).
    * A forgotten item had not been started since it arrived or last resurfaced.
    * It resurfaces after ``resurface_days`` working days (default 10-20, whole days).
    """
    on = simulate(baseline(), seed=6)
    off = simulate(baseline(forgetting={"enabled": False}), seed=6)
    assert rows(off, event="forgotten").empty
    forgotten = rows(on, event="forgotten")
    assert len(forgotten) > 0

    ev = on.events
    ev = ev[ev["entity"].isin(forgotten["entity"])]
    state_rows = ev[ev["event"].isin(["arrive", "start", "preempt", "resurfaced", "forgotten"])]
    previous = state_rows.groupby("entity")["event"].shift(1).astype(object)
    at_forget = previous[state_rows["event"] == "forgotten"]
    assert at_forget.isin(["arrive", "resurfaced"]).all(), at_forget.value_counts()

    day = on.params.simulation.hours_per_day
    lo, hi = 10, 20  # Forgetting.resurface_days default: integers 10..20
    for entity, group in ev.groupby("entity"):
        times = group.loc[group["event"].isin(["forgotten", "resurfaced"]), ["event", "time"]]
        pairs = list(zip(times["event"], times["time"], strict=True))
        for (e1, t1), (e2, t2) in zip(pairs, pairs[1:], strict=False):
            if e1 == "forgotten":
                assert e2 == "resurfaced", entity
                gap_days = (t2 - t1) / day
                assert gap_days == pytest.approx(round(gap_days))
                assert lo <= round(gap_days) <= hi


# ---------------------------------------------------------------- 4. promises
@pytest.mark.parametrize(
    "overrides",
    [{"commitments": {"policy": "none"}}, {"commitments": {"enabled": False}}],
    ids=["policy_none", "disabled"],
)
def test_no_promises_no_escalations(overrides: dict[str, Any]) -> None:
    """``commitments.policy: none`` (or off) makes no dated promises, so none break."""
    result = simulate(baseline(**overrides), seed=8)
    assert rows(result, event="promised").empty
    assert rows(result, kind="escalation").empty
    assert result.summary["promises_made"] == 0
    assert result.lead_hours.get("escalations", 0.0) == 0.0


def test_a_promise_broken_twice_becomes_one_escalation() -> None:
    """MODEL.md: a promise missed twice stops being re-promised and becomes one escalation.

    Due times fall on day boundaries and are checked there.  An item's first broken
    promise is made again at a later call; at its second break the customer escalates,
    once, at that instant, and the item is promised no more.  Escalations cost the lead
    hours.
    """
    result = simulate(baseline(), seed=8)
    broken = rows(result, event="promise_broken")
    breaks = broken.groupby("entity").size()
    assert breaks.max() == 2, "an item whose promise was broken twice was promised again"
    assert (breaks == 1).any() and (breaks == 2).any()
    second = broken[broken.groupby("entity").cumcount() == 1]
    escalations = rows(result, kind="escalation", event="arrive")
    key = ["time", "customer"]
    pd.testing.assert_frame_equal(
        second[key].sort_values(key).reset_index(drop=True),
        escalations[key].sort_values(key).reset_index(drop=True),
    )
    assert result.lead_hours["escalations"] > 0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_promises_resolve_against_their_due_time(seed: int) -> None:
    """``this_week``: a promise is due at the end of the week it was made in.

    Kept iff the item is done by then: every ``promise_kept`` row is the item's
    ``done`` instant, no later than the due time; every ``promise_broken`` row comes
    exactly at the due time (the daily check on the week boundary) with the item
    not done.  A light load (5 live customers, 2 h tasks) so that both happen.
    """
    result = simulate(
        baseline(
            26,
            commitments={"policy": "this_week"},
            lead={"prioritisation": {"policy": "classes_of_service"}},
            customers={"initial_live": 5},
            onboarding={"task_effort": {"kind": "exponential", "mean": 2}},
        ),
        seed=seed,
    )
    week = 5 * result.params.simulation.hours_per_day
    made = rows(result, event="promised")[["entity", "time"]].rename(columns={"time": "made"})
    outcomes = rows(result)[rows(result)["event"].isin(["promise_kept", "promise_broken"])]
    assert len(outcomes) <= len(made)
    if outcomes.empty:
        return
    outcomes = pd.merge_asof(
        outcomes.sort_values("time"),
        made.sort_values("made"),
        left_on="time",
        right_on="made",
        by="entity",
        allow_exact_matches=True,
    )
    assert outcomes["made"].notna().all(), "an outcome without a promise"
    due = (np.floor(outcomes["made"] / week + 1e-9) + 1) * week
    done = rows(result, event="done").set_index("entity")["time"]
    done_at = outcomes["entity"].map(done)
    kept = outcomes["event"] == "promise_kept"
    assert (outcomes.loc[kept, "time"] <= due[kept] + 1e-9).all()
    assert (done_at[kept] == outcomes.loc[kept, "time"]).all()
    assert np.allclose(outcomes.loc[~kept, "time"], due[~kept])
    assert not (done_at[~kept] <= outcomes.loc[~kept, "time"]).any()


# ---------------------------------------------------------------- churn
def test_churn_off_means_no_churn() -> None:
    """``churn.enabled: false``: nobody churns, however red the health (baseline is overloaded)."""
    result = simulate(baseline(52, churn={"enabled": False}), seed=2)
    assert rows(result, event="churned").empty
    assert result.summary["churned"] == 0
    assert not (result.customers["state"] == "churned").any()
    assert (result.timeseries["red"] > 0).any(), "no red customers: the test proves nothing"


def test_certain_churn_takes_everyone_at_the_first_weekly_check() -> None:
    """``monthly_hazard: 1`` makes leaving certain: every active customer churns at week 1."""
    params = baseline(4, churn={"monthly_hazard": 1.0}, sales={"new_customers_per_month": 0})
    result = simulate(params, seed=2)
    week = 5 * result.params.simulation.hours_per_day
    churned = rows(result, kind="customer", event="churned")
    assert len(churned) == result.params.customers.initial_live
    assert (churned["time"] == week).all()


# ---------------------------------------------------------------- platform investment
def _platform_params(enabled: bool) -> Params:
    return reduced_params(
        {
            "team": {"contractors": 3},
            "platform": {"enabled": enabled, "share_of_week": 0.5, "hours_per_step": 10},
        },
        classes={
            "normal": {
                "share": 1.0,
                "effort": {"kind": "exponential", "mean": 1.0},
                "lead_share": 0.7,
                "target_days": 5,
            }
        },
        tickets_per_week=20,
        horizon_weeks=40,
    )


def _lead_ticket_share(result: Result, weeks: tuple[float, float]) -> tuple[int, int]:
    week = 5 * result.params.simulation.hours_per_day
    starts = rows(result, kind="ticket", event="start")
    first = starts.groupby("entity").head(1)
    sel = first[(first["time"] >= weeks[0] * week) & (first["time"] < weeks[1] * week)]
    return int((sel["actor"] == "lead").sum()), len(sel)


def test_platform_investment_moves_work_off_the_lead() -> None:
    """Platform time is protected and, step by step, cuts the share of tickets needing him.

    * Platform hours ~ share_of_week x capacity each week (weekly items of 20 h,
      the last possibly unfinished).
    * Each 10 h step cuts the lead share by 2 points down to the 20% floor: 25 steps,
      reached after ~13 weeks, so in weeks 20-40 the share of tickets the lead starts
      must be 20% within binomial noise (4 sigma), while with the platform off it
      stays at 70%.
    * Hence his ticket hours fall relative to the same run without investment.
    """
    on, off = simulate(_platform_params(True), seed=12), simulate(_platform_params(False), seed=12)
    weekly = 0.5 * 40
    assert on.lead_hours["platform"] == pytest.approx(weekly * 39, abs=weekly)
    assert off.lead_hours.get("platform", 0.0) == 0.0

    for result, share in ((on, 0.2), (off, 0.7)):
        k, n = _lead_ticket_share(result, (20, 40))
        assert n > 100
        assert abs(k / n - share) <= 4 * math.sqrt(share * (1 - share) / n), (k, n, share)
    early_k, early_n = _lead_ticket_share(on, (0, 4))
    assert early_k / early_n > 0.5  # before the cuts add up
    assert on.lead_hours["tickets"] < off.lead_hours["tickets"]


# ---------------------------------------------------------------- hiring
def test_hire_costs_mentoring_hours() -> None:
    """A hire at week 0 costs ``mentoring_hours_per_week`` while ramping (Brooks's law).

    Mentoring comes in daily sessions of a fifth of the weekly hours, on each
    morning the hire is still ramping: about ``ramp_weeks x 5`` sessions (give or
    take the first morning, which may come before the hire joins).
    """
    hired = simulate(baseline(30, hiring={"plan": [{"role": "engineer", "at_week": 0}]}), seed=1)
    none = simulate(baseline(30), seed=1)
    h = hired.params.hiring
    daily = h.mentoring_hours_per_week / 5
    ramp_days = h.ramp_weeks * 5
    assert none.lead_hours.get("mentoring", 0.0) == 0.0
    sessions = rows(hired, kind="mentoring", event="arrive")
    assert ramp_days - 1 <= len(sessions) <= ramp_days
    assert hired.lead_hours["mentoring"] == pytest.approx(len(sessions) * daily)
    assert rows(hired, kind="engineer", event="joined")["time"].tolist() == [0.0]


def test_hire_triggered_by_backlog() -> None:
    """``when_backlog_above: n`` hires on the first morning the lead's backlog exceeds n."""
    n = 25
    result = simulate(
        baseline(
            30,
            hiring={"plan": [{"role": "contractor", "when_backlog_above": n}]},
            lead={"prioritisation": {"policy": "fifo"}},
        ),
        seed=1,
    )
    joined = rows(result, kind="contractor", event="joined")
    late = joined[joined["time"] > 0]
    assert len(late) == 1
    ts = result.timeseries
    day = result.params.simulation.hours_per_day
    first_day = ts.loc[ts["lead_backlog"] > n, "day"].min()
    # The daily check runs just before the daily sample; with fifo nothing (no daily
    # list, no forgetting) changes the backlog in between, so they see the same one.
    assert late["time"].iloc[0] == pytest.approx(first_day * day)


# ---------------------------------------------------------------- intake and WIP limits
def test_intake_wip_limit_caps_onboardings_and_loses_deals() -> None:
    """Intake ``wip_limit``: never more than ``limit`` onboardings; excess waits, then is lost.

    Demand far above what two onboardings can absorb (6 deals a month, patience
    2 weeks) must produce a signed backlog and lost deals; ``accept_all`` never
    loses a deal.
    """
    demand = {"sales": {"new_customers_per_month": 6}}
    capped = simulate(
        baseline(
            52,
            intake={
                "policy": "wip_limit",
                "limit": 2,
                "patience_weeks": {"kind": "exponential", "mean": 2},
            },
            **demand,
        ),
        seed=3,
    )
    ts = capped.timeseries
    assert ts["onboarding"].max() <= 2
    assert ts["onboarding"].max() == 2
    assert (ts["signed_backlog"] > 0).any()
    assert capped.summary["lost_deals"] > 0
    assert len(rows(capped, kind="customer", event="lost")) > 0
    open_all = simulate(baseline(52, **demand), seed=3)
    assert rows(open_all, kind="customer", event="lost").empty
    assert open_all.timeseries["onboarding"].max() > 2


def test_fixed_rate_intake_starts_at_most_the_rate() -> None:
    """Intake ``fixed_rate``: one start per 1/rate months, from the signed backlog."""
    result = simulate(
        baseline(
            52,
            intake={"policy": "fixed_rate", "starts_per_month": 1},
            sales={"new_customers_per_month": 4},
        ),
        seed=3,
    )
    starts = rows(result, kind="customer", event="onboarding")
    month = 21 * result.params.simulation.hours_per_day
    assert len(starts) <= result.params.simulation.horizon_weeks * 5 / 21
    assert np.allclose(np.mod(starts["time"].to_numpy() / month, 1.0), 0.0, atol=1e-9)


@pytest.mark.parametrize("limit", [1, 2, 3])
def test_lead_wip_limit_is_respected(limit: int) -> None:
    """Lead ``wip_limit``: his started items never exceed it, and the limit binds."""
    limited = simulate(baseline(26, lead={"wip_limit": limit}), seed=4)
    assert limited.timeseries["lead_started"].max() <= limit
    free = simulate(baseline(26), seed=4)
    assert free.timeseries["lead_started"].max() > limit


# ---------------------------------------------------------------- 3. interrupts and shielding
def test_office_hours_batch_interrupts() -> None:
    """``office_hours``: interrupts wait for the daily slot, so they preempt at most once a day.

    Without calls and hires (scheduled meetings bypass the office hour), every
    preemption happens at a batch, so there are at most as many as days, and fewer
    than with ``immediate``.  A ping is never started before the first office hour
    after it arrived.
    """
    quiet = {"status_calls": {"enabled": False}}
    office = simulate(baseline(26, interrupts={"shielding": "office_hours"}, **quiet), seed=5)
    immediate = simulate(baseline(26, **quiet), seed=5)
    n_office = len(rows(office, event="preempt"))
    n_immediate = len(rows(immediate, event="preempt"))
    assert n_office < n_immediate
    assert n_office <= 26 * 5

    p = office.params
    day, slot = p.simulation.hours_per_day, p.interrupts.office_hour
    pings = item_times(office.events, "ping").dropna(subset=["start"])
    assert len(pings) > 0
    next_slot = slot + day * np.ceil((pings["arrive"] - slot) / day - 1e-12)
    assert (pings["start"] >= next_slot - 1e-9).all()


def test_immediate_interrupts_preempt() -> None:
    """``immediate``: urgent tickets and pings preempt, so a started item is put back.
    With interrupts off only meetings, which happen at their time, still preempt."""
    on = simulate(baseline(26), seed=5)
    off = simulate(baseline(26, interrupts={"enabled": False}), seed=5)
    assert len(rows(on, event="preempt")) > 0
    preempted_at = set(rows(off, event="preempt")["time"])
    meetings_at = set(rows(off, kind="call", event="start")["time"])
    assert preempted_at and preempted_at <= meetings_at
    no_meetings = simulate(
        baseline(26, interrupts={"enabled": False}, status_calls={"enabled": False}), seed=5
    )
    assert rows(no_meetings, event="preempt").empty


def test_triage_screens_pings() -> None:
    """``triage``: a support person screens pings first and answers some without the lead."""
    result = simulate(baseline(26, interrupts={"shielding": "triage"}, team={"support": 1}), seed=5)
    assert len(rows(result, kind="triage", event="done")) > 0
    pings_done = rows(result, kind="ping", event="done")
    assert (pings_done["actor"] == "support").any()
    assert (pings_done["actor"] == "lead").any()


def test_direct_access_off_means_no_pings() -> None:
    """No direct access: no pings at all."""
    result = simulate(baseline(26, interrupts={"direct_access": {"enabled": False}}), seed=5)
    assert rows(result, kind="ping").empty


# ---------------------------------------------------------------- 1. status calls, 6. helpers
def test_calls_without_the_lead_cost_him_nothing() -> None:
    """``lead_attends: never``: onboarding customers still exist, but he spends 0 h on calls."""
    result = simulate(baseline(26, status_calls={"lead_attends": "never"}), seed=7)
    assert result.lead_hours.get("calls", 0.0) == 0.0
    assert result.timeseries["onboarding"].max() > 0
    always = simulate(baseline(26), seed=7)
    assert always.lead_hours["calls"] > 0


def test_no_gating_no_blocked_helpers() -> None:
    """With no spec and no review work, no contractor ever waits on the lead."""
    free = simulate(baseline(26, team={"spec_share": 0, "review_share": 0}), seed=7)
    assert free.summary["contractor_blocked_share"] == 0
    assert rows(free, kind="spec").empty and rows(free, kind="review").empty
    gated = simulate(baseline(26), seed=7)
    assert gated.summary["contractor_blocked_share"] > 0


def test_quality_off_means_no_defects() -> None:
    """Quality off: no defects at all; on, with a 50% defect chance, defects appear."""
    off = simulate(baseline(26), seed=7)
    assert off.summary["defects"] == 0
    on = simulate(
        baseline(
            26,
            quality={
                "enabled": True,
                "base_defect_probability": 0.5,
                "max_defect_probability": 1.0,
            },
        ),
        seed=7,
    )
    assert on.summary["defects"] > 0


# ---------------------------------------------------------------- shipped configs
def _shipped() -> list[tuple[Path, list[Path]]]:
    base = CONFIGS / "baseline.yaml"
    out = [(p, []) for p in sorted(CONFIGS.glob("*.yaml"))]
    out += [(base, [p]) for p in sorted((CONFIGS / "policies").glob("*.yaml"))]
    return out


def test_baseline_config_is_shipped() -> None:
    """MODEL.md promises ``configs/baseline.yaml``, and policy overlays to compare."""
    assert (CONFIGS / "baseline.yaml").is_file()
    assert list((CONFIGS / "policies").glob("*.yaml"))


@pytest.mark.parametrize(
    ("path", "overlays"),
    _shipped(),
    ids=lambda v: v.name if isinstance(v, Path) else "+".join(p.stem for p in v) or "base",
)
def test_shipped_config_validates_and_runs(path: Path, overlays: list[Path]) -> None:
    """Every shipped config (base files alone, policies over the baseline) runs 8 weeks."""
    params = load_config(
        path, overlays=overlays, sets=["simulation.horizon_weeks=8", "simulation.warmup_weeks=1"]
    )
    result = simulate(params, seed=1)
    cons = result.conservation
    assert cons["arrived"] > 0
    assert cons["arrived"] == sum(
        cons[s] for s in ("waiting", "active", "forgotten", "done", "dropped")
    )
