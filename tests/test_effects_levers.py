"""Effect tests of the levers: each policy of MODEL.md "Policies" does what it says.

The issue "A model that stays honest under overload", item 3: for each lever, a test
that fails when the lever is broken.  As in ``test_effects_mechanisms.py`` (whose
helpers this module uses), each test runs the lever's two settings on the same
replication seeds (common random numbers: every random stream is keyed by what it
drives), and asserts the direction the domain gives with the 95% t-interval of the mean
paired difference, and, where the lever makes it certain on every path, pair by pair.
Platform investment and hiring are levers with mechanisms of their own (the steps of
improvement; ramp-up and mentoring): their mechanism tests are here too.  No expected
value is a number read off a seeded run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from conftest import TWO_CLASSES, deep_merge, item_times, reduced_params
from flowsim.model import Params, Result
from test_effects_mechanisms import (
    assert_above,
    baseline,
    count,
    first_starts,
    hours,
    metric,
    onboarding_params,
    paired_runs,
    rows,
    values,
)


# ================================================================ intake
def test_intake_wip_limit_caps_onboardings_and_loses_deals() -> None:
    """Intake ``wip_limit``: at most ``limit`` customers onboard at once; the rest wait in
    a signed backlog, in order, and start as places free up; one whose patience runs out
    is a lost deal.

    Claim: fewer concurrent onboardings, and lost deals.  Onboarding alone with 4
    signings a month of projects of 8-12 tasks: accepting all, onboardings pile up; with
    a limit of 2 and two weeks' patience (exponential), the backlog overflows and deals
    are lost, which never happens when every deal starts at once.  Projects go live
    within weeks, so some of the waiting customers start as places free up.
    """
    base = {
        "sales": {"new_customers_per_month": 4},
        "onboarding": {"tasks": {"kind": "integers", "low": 8, "high": 12}},
    }
    intake = {
        "policy": "wip_limit",
        "limit": 2,
        "patience_weeks": {"kind": "exponential", "mean": 2},
    }
    open_door = onboarding_params(base)
    capped = onboarding_params(deep_merge(base, {"intake": intake}))
    pairs = paired_runs(open_door, capped, root=201)
    peak = values(pairs, lambda r: r.timeseries["onboarding"].max())
    assert (peak[1] <= 2).all(), "more onboardings than the intake limit"
    level = values(pairs, lambda r: r.timeseries["onboarding"].mean())
    assert_above(level[0], level[1], "mean customers onboarding", every_pair=True)
    # Customers who waited in the signed backlog start when a place frees up.
    waited = values(
        pairs, lambda r: (r.customers["onboarding_day"] > r.customers["signed_day"]).sum()
    )
    assert (waited[0] == 0).all(), "a customer waited with every signed customer accepted"
    assert (waited[1] > 0).all(), "no customer started after waiting in the signed backlog"
    lost = values(pairs, lambda r: count(r, "customer", "lost"))
    assert (lost[0] == 0).all(), "a deal lost with every signed customer accepted"
    assert (lost[1] > 0).all(), "no deal lost behind a limit of 2 at 4 signings a month"


def test_fixed_rate_intake_starts_at_most_the_rate() -> None:
    """Intake ``fixed_rate``: ``starts_per_month`` onboarding starts from the signed
    backlog, at regular times.

    Claim: starts at most at the rate.  4 signings a month against 1 start a month over
    26 weeks (about 6 months): at most one start per whole month elapsed, and fewer
    starts than accepting every signed customer, on every path (the same signings).
    """
    demand = {"sales": {"new_customers_per_month": 4}}
    open_door = baseline(26, **demand)
    metered = baseline(26, **demand, intake={"policy": "fixed_rate", "starts_per_month": 1})
    pairs = paired_runs(open_door, metered, root=202)
    starts = values(pairs, lambda r: count(r, "customer", "onboarding"))
    months = 26 * 5 / 21
    assert (starts[1] <= np.floor(months)).all(), f"more starts than {months:.1f} months allow"
    assert_above(starts[0], starts[1], "onboarding starts", every_pair=True)


# ================================================================ lead WIP limit
def test_lead_wip_limit_means_fewer_items_started_and_juggled() -> None:
    """Lead WIP limit: he may start a new item only while fewer than ``wip_limit`` are
    started and unfinished.

    Claim: fewer items started at once, and fewer juggled.  The story's company over 26
    weeks, where without a limit preemptions and the newest-first list leave him with
    many started items; a limit of 2 holds him to 2 (interrupts still preempt, but
    only his backlog work counts against it).
    """
    free = baseline(26)
    limited = baseline(26, lead={"wip_limit": 2})
    pairs = paired_runs(free, limited, root=203)
    started = values(pairs, lambda r: r.timeseries["lead_started"].mean())
    assert (values(pairs, lambda r: r.timeseries["lead_started"].max())[1] <= 2).all()
    assert_above(started[0], started[1], "mean items started and unfinished", every_pair=True)
    juggled = values(pairs, lambda r: r.timeseries["lead_juggling"].mean())
    assert_above(juggled[0], juggled[1], "mean items juggled")


# ================================================================ prioritisation
def _priority_params(policy: str) -> Params:
    """The reduced model with urgent (30%) and normal tickets, all the lead's, at load
    0.85, interrupts off (so an urgent ticket waits in his backlog, where only the
    prioritisation policy decides when he takes it)."""
    return reduced_params(
        {"lead": {"prioritisation": {"policy": policy}}},
        classes=TWO_CLASSES,
        tickets_per_week=34,
        horizon_weeks=40,
    )


def test_urgent_first_resolves_urgent_tickets_faster_than_fifo() -> None:
    """Prioritisation ``urgent_first``: urgent tickets (and escalated, resurfaced items)
    first, then first come first served.

    Claim: urgent tickets are resolved faster than under FIFO.  The same tickets (load
    0.85, so a queue forms) under both; under FIFO an urgent ticket waits behind every
    ticket that arrived before it, under ``urgent_first`` only behind urgent ones.
    The normal tickets pay for it (the same work, the same server).
    """
    pairs = paired_runs(_priority_params("fifo"), _priority_params("urgent_first"), root=204)
    urgent = values(pairs, metric("ticket_urgent_mean_days"))
    assert_above(urgent[0], urgent[1], "urgent ticket resolution days")
    normal = values(pairs, metric("ticket_normal_mean_days"))
    assert_above(normal[1], normal[0], "normal ticket resolution days")


def test_expedite_lane_resolves_urgent_tickets_faster_than_fifo() -> None:
    """Prioritisation ``classes_of_service``: an expedite lane for urgent items, at most
    ``expedite_limit`` at once, then dated items by due time, then FIFO.

    Claim: urgent tickets go through the expedite lane faster than under FIFO.  The same
    tickets under both; with no promises, the lane is the only thing that puts an
    urgent ticket ahead of an older normal one.
    """
    pairs = paired_runs(_priority_params("fifo"), _priority_params("classes_of_service"), root=205)
    urgent = values(pairs, metric("ticket_urgent_mean_days"))
    assert_above(urgent[0], urgent[1], "urgent ticket resolution days")


# ================================================================ commitments
def _promise_params(policy: str) -> Params:
    """Onboarding alone (the lead far from saturated) with weekly calls that make dated
    promises on open tasks, under the commitment policy ``policy``."""
    return onboarding_params(
        {
            "status_calls": {"enabled": True},
            "commitments": {"enabled": True, "policy": policy},
        }
    )


def test_forecast_commitments_keep_more_promises() -> None:
    """Commitments ``forecast``: the due time is the 85th percentile of recent lead times
    (never before the end of today), against "end of today".

    Claim: a larger share of promises kept.  A task takes the lead and the contractors
    days (specs, work, review), so promising it for tonight mostly fails; a quote from
    how long such tasks have recently taken is met about as often as its percentile
    says.  The same calls and promises on the same tasks in both.
    """
    pairs = paired_runs(_promise_params("end_of_today"), _promise_params("forecast"), root=206)
    made = values(pairs, metric("promises_made"))
    assert (made[0] > 0).all() and (made[1] > 0).all(), "no promises made"
    kept = values(pairs, metric("promises_kept_share"))
    assert_above(kept[1], kept[0], "share of promises kept")


def test_no_dated_promises_means_no_escalations() -> None:
    """Commitments ``none``: no dated promises, so none can break and nobody escalates.

    Claim: no escalations, and the lead's escalation hours vanish.  The story's company
    over 20 weeks, where under the mixed policy most promises break and escalations
    follow.
    """
    pairs = paired_runs(baseline(20), baseline(20, commitments={"policy": "none"}), root=207)
    promised = values(pairs, lambda r: count(r, event="promised"))
    assert (promised[1] == 0).all(), "a promise made under the policy none"
    escalations = values(pairs, lambda r: count(r, "escalation", "arrive"))
    assert (escalations[1] == 0).all(), "an escalation with no promises"
    assert_above(escalations[0], escalations[1], "escalations", every_pair=True)
    esc_hours = values(pairs, hours("escalations"))
    assert_above(esc_hours[0], esc_hours[1], "lead hours on escalations", every_pair=True)


# ================================================================ status calls
def test_calls_without_the_lead_cost_him_fewer_hours() -> None:
    """Status calls ``lead_attends: when_needed``: someone else runs the call; he joins
    one in five (``when_needed_probability``).

    Claim: fewer of his hours in calls.  The story's company over 20 weeks: every
    onboarding customer's weekly call takes an hour of his when he always attends; the
    same calls, with the same draws of whether he is needed, take a fifth as many.
    """
    always = baseline(20)
    needed = baseline(20, status_calls={"lead_attends": "when_needed"})
    pairs = paired_runs(always, needed, root=208)
    calls = values(pairs, hours("calls"))
    assert_above(calls[0], calls[1], "lead hours in calls", every_pair=True)


# ================================================================ shielding
def test_office_hours_batch_interrupts_into_fewer_preemptions() -> None:
    """Shielding ``office_hours``: interrupts wait for a daily slot and are handled there
    in one batch (scheduled meetings still happen at their time).

    Claim: fewer preemptions, and interrupts handled in batches.  The story's company
    over 20 weeks without calls and hires (meetings bypass the office hour), so every
    preemption happens at a batch: at most one a day, against one per urgent ticket or
    ping that finds him at work; and no ping is answered before the office hour that
    follows its arrival.
    """
    quiet = {"status_calls": {"enabled": False}}
    immediate = baseline(20, **quiet)
    office = baseline(20, **quiet, interrupts={"shielding": "office_hours"})
    pairs = paired_runs(immediate, office, root=209)
    preempts = values(pairs, lambda r: count(r, event="preempt"))
    assert (preempts[1] <= 20 * 5).all(), "more than one batch of preemptions a day"
    assert_above(preempts[0], preempts[1], "preemptions", every_pair=True)

    # In batches: no ping is started before the first office hour after it arrived.
    for _, result in pairs:
        day = result.params.simulation.hours_per_day
        slot = result.params.interrupts.office_hour
        pings = item_times(result.events, "ping").dropna(subset=["start"])
        assert len(pings) > 0, "no ping answered under office hours"
        next_slot = slot + day * np.ceil((pings["arrive"] - slot) / day - 1e-12)
        assert (pings["start"] >= next_slot - 1e-9).all(), "a ping answered outside office hours"


def test_triage_answers_pings_without_the_lead() -> None:
    """Shielding ``triage``: a support person screens interrupts first and answers
    ``triage_resolves`` of the pings without the lead.

    Claim: pings answered by support, fewer answered by the lead.  The story's company
    with a support person in both runs (so that only the shielding differs) over 20
    weeks: the same pings arrive; under ``immediate`` each goes to the lead, under
    ``triage`` about 40% are answered by support.
    """
    support = {"team": {"support": 1}}
    immediate = baseline(20, **support)
    triage = baseline(20, **support, interrupts={"shielding": "triage"})
    pairs = paired_runs(immediate, triage, root=210)
    by_support = values(pairs, lambda r: count(r, "ping", "done", actor="support"))
    assert (by_support[0] == 0).all(), "support answered a ping without triage"
    assert (by_support[1] > 0).all(), "support answered no ping under triage"
    by_lead = values(pairs, lambda r: count(r, "ping", "done", actor="lead"))
    assert_above(by_lead[0], by_lead[1], "pings answered by the lead")


def test_no_direct_access_means_no_pings() -> None:
    """Shielding: customers' direct access to the lead on or off.

    Claim: off, no pings, and fewer of his hours on tickets and pings.  The reduced
    model's one customer pings him 10 times a week when it has direct access; he is far
    from saturated (load 0.5 from tickets), so his hours on tickets and pings are what
    they ask for, and without the pings they are the tickets' alone.
    """
    access: dict[str, Any] = {"customers": 1, "pings_per_week": 10}
    on = reduced_params(
        {"interrupts": {"direct_access": {"enabled": True, **access}}}, horizon_weeks=20
    )
    off = reduced_params(
        {"interrupts": {"direct_access": {"enabled": False, **access}}}, horizon_weeks=20
    )
    pairs = paired_runs(on, off, root=211)
    pings = values(pairs, lambda r: count(r, "ping", "arrive"))
    assert (pings[1] == 0).all(), "a ping without direct access"
    assert (pings[0] > 0).all(), "no ping with direct access"
    ticket_hours = values(pairs, hours("tickets"))
    assert_above(ticket_hours[0], ticket_hours[1], "lead hours on tickets and pings")


# ================================================================ platform investment
def platform_params(cuts: bool, overrides: Mapping[str, Any] | None = None) -> Params:
    """Onboarding (two signings a month) and tickets (one a week from each of 5 initial
    and every new live customer; 70% of them, and half the tasks, need the lead), three
    contractors, and protected platform time of a quarter of his week in both settings:
    with ``cuts`` the investment has its effects (a step every 4 h, 2.5 a week), without
    them it has none, so the two differ only in what the investment buys, not in the
    time it takes.  The lead (30 h a week left, about 20 h of it needed) is not
    saturated, so his ticket hours are what the tickets that need him ask for."""
    platform: dict[str, Any] = {"enabled": True, "share_of_week": 0.25, "hours_per_step": 4}
    if not cuts:
        platform |= {"lead_share_cut": 0.0, "overhead_cut": 0.0, "defect_cut": 0.0}
    base = {
        "customers": {"initial_live": 5},
        "sales": {"new_customers_per_month": 2},
        "tickets": {
            "enabled": True,
            "per_customer_per_week": 1,
            "classes": {"normal": {"lead_share": 0.7}},
        },
        "team": {"contractors": 3},
        "platform": platform,
    }
    return onboarding_params(deep_merge(base, overrides or {}), weeks=30)


def test_platform_investment_moves_work_off_the_lead() -> None:
    """Platform investment: every ``hours_per_step`` hours invested cuts every lead-required
    share by ``lead_share_cut`` (down to ``lead_share_floor``).

    Claim: over time, less of the work needs the lead: more is delegated, and he spends
    fewer hours on tickets late in the run.  Both settings invest the same protected
    time; with the cuts, the shares reach the 20% floor within ten weeks, so in weeks
    10-30 the share of tickets and of onboarding tasks he starts himself is lower, and
    so are his ticket hours, than without the cuts (70% and 50% throughout).
    """
    pairs = paired_runs(platform_params(False), platform_params(True), root=121)

    def lead_share(kind: str) -> Callable[[Result], float]:
        def share(r: Result) -> float:
            first = first_starts(r, kind, (10, 30))
            assert len(first) > 0, f"no {kind} started in weeks 10-30"
            return float((first["actor"] == "lead").mean())

        return share

    tickets = values(pairs, lead_share("ticket"))
    assert_above(tickets[0], tickets[1], "share of tickets the lead starts, weeks 10-30")
    tasks = values(pairs, lead_share("task"))
    assert_above(tasks[0], tasks[1], "share of onboarding tasks the lead starts, weeks 10-30")

    def late_ticket_hours(r: Result) -> float:
        ts = r.timeseries.set_index("day")["lead_tickets_hours"]
        return float(ts.iloc[-1] - ts.loc[50])

    late = values(pairs, late_ticket_hours)
    assert_above(late[0], late[1], "lead hours on tickets, weeks 10-30")


def test_platform_investment_cuts_spec_and_review_overhead() -> None:
    """Platform investment: each step also cuts the spec and review overhead by
    ``overhead_cut`` (relative, down to ``overhead_floor`` of its start).

    Claim: fewer lead hours per delegated task.  Every task delegated (no lead share to
    cut), the same protected time in both, the lead far from saturated so he does
    every spec and review: the same tasks cost him less with the cuts.
    """
    over = {"onboarding": {"lead_share": 0.0}}
    pairs = paired_runs(platform_params(False, over), platform_params(True, over), root=122)
    spec_review = values(pairs, hours("specs_reviews"))
    assert_above(spec_review[0], spec_review[1], "lead hours on specs and reviews")


def test_platform_investment_cuts_defects() -> None:
    """Platform investment: each step also cuts the defect chance by ``defect_cut``
    (relative).

    Claim: fewer defects.  Quality under pressure on, with a 30% defect chance on every
    finished ticket and task (none from the backlog), the same protected time in both:
    with the cuts the chance falls to about a quarter of it within ten weeks, so fewer
    of the same work items come back as defects.
    """
    quality = {
        "quality": {
            "enabled": True,
            "base_defect_probability": 0.3,
            "per_backlog_item": 0.0,
            "max_defect_probability": 1.0,
        }
    }
    pairs = paired_runs(platform_params(False, quality), platform_params(True, quality), root=127)
    defects = values(pairs, metric("defects"))
    assert_above(defects[0], defects[1], "defects")


def test_platform_investment_lowers_the_lead_share_late_in_the_run() -> None:
    """Platform investment: a protected share of his week that, step by step, lowers the
    shares of work that need the lead (and the spec/review overhead).

    Claim: over time, more work delegated and fewer lead hours on tickets late in the
    run.  The company of ``platform_params`` (the lead not saturated, so his ticket
    hours are what the tickets that need him ask for), with no investment against a
    quarter of his week invested: by week 10 the shares are at their floor, so in weeks
    10-30 he starts a smaller share of the tickets and spends fewer hours on them.
    """
    off = platform_params(False, {"platform": {"enabled": False}})
    on = platform_params(True)
    pairs = paired_runs(off, on, root=212)

    def lead_ticket_share(r: Result) -> float:
        first = first_starts(r, "ticket", (10, 30))
        assert len(first) > 0, "no ticket started in weeks 10-30"
        return float((first["actor"] == "lead").mean())

    share = values(pairs, lead_ticket_share)
    assert_above(share[0], share[1], "share of tickets the lead starts, weeks 10-30")

    def late_ticket_hours(r: Result) -> float:
        ts = r.timeseries.set_index("day")["lead_tickets_hours"]
        return float(ts.iloc[-1] - ts.loc[50])

    late = values(pairs, late_ticket_hours)
    assert_above(late[0], late[1], "lead hours on tickets, weeks 10-30")


# ================================================================ hiring
def _hire_params(hiring: Mapping[str, Any]) -> Params:
    """The reduced model with no team and one engineer hired at week 0; the customer's
    tickets (60 h of work a week) need no lead, so they all go to the hire, who is never
    short of work: what he resolves is what his productivity allows."""
    return reduced_params(
        {"hiring": {"plan": [{"role": "engineer", "at_week": 0}], **hiring}},
        classes={
            "normal": {
                "share": 1.0,
                "effort": {"kind": "exponential", "mean": 1.0},
                "lead_share": 0.0,
                "target_days": 5,
            }
        },
        tickets_per_week=60,
        horizon_weeks=8,
    )


def test_ramping_hire_resolves_less_early_on() -> None:
    """Hiring: a new hire's productivity ramps from ``ramp_start`` to 1 over ``ramp_weeks``
    (Brooks; Abdel-Hamid & Madnick's assimilation delay).

    Claim: a ramping hire's early output is lower than a ramped one's.  The same tickets
    in the same order, the hire saturated from the first day: ramping over 16 weeks from
    25% (about 30% on average over the first 4 weeks) against fully productive at once
    (``ramp_weeks: 0``); the ramping hire resolves fewer in the first 4 weeks, on every
    path, since a slower server of the same queue never finishes more.
    """
    ramping = _hire_params({"ramp_weeks": 16, "ramp_start": 0.25})
    ramped = _hire_params({"ramp_weeks": 0})
    pairs = paired_runs(ramping, ramped, root=123)

    def early_output(r: Result) -> int:
        done = rows(r, "ticket", "done")
        return int(((done["actor"] == "engineer1") & (done["time"] < 4 * 40)).sum())

    output = values(pairs, early_output)
    assert_above(output[1], output[0], "tickets the hire resolves in weeks 0-4", every_pair=True)


def test_mentoring_costs_the_lead_hours() -> None:
    """Hiring: each ramping hire costs the lead ``mentoring_hours_per_week`` of mentoring
    (Brooks's law: training overhead on experienced staff).

    Claim: more mentoring per hire, more of the lead's hours mentoring.  The same hire,
    ramping over the whole 8-week run, with 1 against 6 hours a week; the mentoring is a
    scheduled daily session, so he gives it whatever else he has.
    """
    light = _hire_params({"mentoring_hours_per_week": 1})
    heavy = _hire_params({"mentoring_hours_per_week": 6})
    pairs = paired_runs(light, heavy, root=124)
    mentoring = values(pairs, hours("mentoring"))
    assert (mentoring[0] > 0).all(), "no mentoring for a ramping hire"
    assert_above(mentoring[1], mentoring[0], "lead hours mentoring", every_pair=True)


def test_support_hire_takes_how_to_tickets_off_the_lead() -> None:
    """Hiring a support person: she takes every how-to ticket (and those that need no
    live access) without the lead.

    Claim: how-to tickets off the lead.  The story's company over 20 weeks, with a
    support hire at week 0 against none: the same tickets arrive; without her the lead
    starts most how-to tickets, with her none at all.
    """
    hire: dict[str, Any] = {"plan": [{"role": "support", "at_week": 0}]}
    pairs = paired_runs(baseline(20), baseline(20, hiring=hire), root=213)

    def lead_how_to(r: Result) -> int:
        ev = r.events
        how_to = rows(r, "ticket", "arrive")
        how_to = set(how_to.loc[how_to["actor"] == "how_to", "entity"])
        starts = ev[(ev["kind"] == "ticket") & (ev["event"] == "start")]
        return int((starts["entity"].isin(how_to) & (starts["actor"] == "lead")).sum())

    by_lead = values(pairs, lead_how_to)
    assert (by_lead[1] == 0).all(), "the lead started a how-to ticket with support hired"
    assert_above(by_lead[0], by_lead[1], "how-to tickets the lead starts", every_pair=True)
    by_support = values(pairs, lambda r: count(r, "ticket", "done", actor="support1"))
    assert (by_support[1] > 0).all(), "the support hire resolved no ticket"
