"""Effect tests of the mechanisms: each moves its outcome the way MODEL.md says.

The issue "A model that stays honest under overload", item 3: for each mechanism, a
test that fails when the mechanism is broken.  Each test runs two settings of one
parameter on the same replication seeds (``SeedSequence(root).spawn(n)``): every
random stream is keyed by what it drives, so ticket *k* of customer *c*, customer
*c*'s project and signing time are the same under both (common random numbers) and
the paired differences isolate the parameter's effect.  Each test asserts the
direction the domain gives, with the 95% Student-t interval of the mean paired
difference lying wholly on that side of 0, and, where the mechanism makes it certain
on every sample path, that every pair goes that way.  No expected value is a number
read off a seeded run.

Each docstring names the mechanism, the domain's claim and why the configuration makes
the effect certain enough.  This module holds the flow of work (sales, onboarding,
tickets) and mechanisms 1-7 of MODEL.md, and the helpers the other effect modules
share: ``test_effects_customers.py`` (health, churn, revenue and net revenue
retention) and ``test_effects_levers.py`` (the policies of MODEL.md, platform
investment and hiring included).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import pytest

from conftest import TWO_CLASSES, deep_merge, reduced_params, t_interval, with_overrides
from flowsim.model import Params, Result, simulate
from flowsim.model.distributions import Constant

N_PAIRS = 8
"""Replication pairs per test: enough for a t-interval with 7 degrees of freedom; the
configurations are chosen so that the effects are many standard errors wide."""


# ================================================================ helpers (shared)
def paired_runs(
    a: Params, b: Params, *, root: int, n: int = N_PAIRS
) -> list[tuple[Result, Result]]:
    """``n`` pairs of runs of ``a`` and ``b``, pair *r* on replication seed *r* of ``root``."""
    seeds = np.random.SeedSequence(root).spawn(n)
    return [(simulate(a, seed=s), simulate(b, seed=s)) for s in seeds]


def values(
    pairs: list[tuple[Result, Result]], stat: Callable[[Result], float]
) -> tuple[np.ndarray, np.ndarray]:
    """``stat`` of each run: the ``a`` values and the ``b`` values, in pair order."""
    xa = np.array([float(stat(ra)) for ra, _ in pairs])
    xb = np.array([float(stat(rb)) for _, rb in pairs])
    return xa, xb


def assert_above(high: np.ndarray, low: np.ndarray, what: str, *, every_pair: bool = False) -> None:
    """``high`` exceeds ``low``, pair by pair: the 95% t-interval of the mean paired
    difference excludes 0 from above (and, with ``every_pair``, no pair goes the other way)."""
    high, low = np.asarray(high, dtype=float), np.asarray(low, dtype=float)
    assert np.isfinite(high).all() and np.isfinite(low).all(), f"{what}: {high} vs {low}"
    diff = high - low
    mean, lo, hi = t_interval(diff)
    assert lo > 0, (
        f"{what}: mean paired difference {mean:.4g}, 95% interval [{lo:.4g}, {hi:.4g}] "
        f"does not exclude 0; expected higher {high}, lower {low}"
    )
    if every_pair:
        assert (diff >= 0).all(), f"{what}: a pair goes the other way: {high} vs {low}"


def rows(result: Result, kind: str | None = None, event: str | None = None) -> pd.DataFrame:
    """Event-log rows of an item kind and/or event."""
    ev = result.events
    mask = np.ones(len(ev), dtype=bool)
    if kind is not None:
        mask &= (ev["kind"] == kind).to_numpy()
    if event is not None:
        mask &= (ev["event"] == event).to_numpy()
    return ev[mask]


def count(
    result: Result, kind: str | None = None, event: str | None = None, actor: str | None = None
) -> int:
    """Event-log rows of a kind, event and actor."""
    sel = rows(result, kind, event)
    if actor is not None:
        sel = sel[sel["actor"] == actor]
    return len(sel)


def hours(activity: str) -> Callable[[Result], float]:
    """The lead's hours on ``activity`` over the whole run."""
    return lambda r: r.lead_hours.get(activity, 0.0)


def on_task(result: Result) -> float:
    """The lead's hours on work of any kind: neither switching nor idle."""
    return sum(v for k, v in result.lead_hours.items() if k not in ("switching", "idle"))


def metric(name: str) -> Callable[[Result], float]:
    """A summary metric (the window after the warm-up)."""
    return lambda r: float(r.summary[name])


def days_to_live(result: Result, started_before_weeks: float) -> float:
    """Mean working days from onboarding start to go-live, over the customers that started
    onboarding before ``started_before_weeks``; one not live by the horizon counts up to
    the horizon (a restricted mean: a later go-live, or none, never lowers it)."""
    c = result.customers
    sel = c[c["onboarding_day"] < started_before_weeks * 5]
    assert len(sel) > 0, "no customer started onboarding: the statistic would be empty"
    end_day = result.params.simulation.horizon_weeks * 5
    return float((sel["live_day"].fillna(end_day) - sel["onboarding_day"]).mean())


def first_starts(result: Result, kind: str, weeks: tuple[float, float]) -> pd.DataFrame:
    """The first ``start`` row of each item of ``kind`` first started within ``weeks``."""
    week = 5 * result.params.simulation.hours_per_day
    first = rows(result, kind, "start").groupby("entity").head(1)
    return first[(first["time"] >= weeks[0] * week) & (first["time"] < weeks[1] * week)]


def baseline(weeks: float = 26, warmup: float = 2, **overrides: Any) -> Params:
    """The default parameters (the story's company) for ``weeks`` weeks, with overrides."""
    return with_overrides(
        Params(), {"simulation": {"horizon_weeks": weeks, "warmup_weeks": warmup}, **overrides}
    )


def onboarding_params(
    overrides: Mapping[str, Any] | None = None, *, weeks: float = 40, warmup: float = 4
) -> Params:
    """Onboarding alone, with room to spare: the reduced model (every mechanism off, the
    lead at 40 h a week) with no tickets and no initial customers; sales sign 2 customers
    a month, each a project of 4-6 tasks of 8 h on average (exponential), half needing
    the lead, half delegated to two contractors behind his specs and reviews.  The lead
    needs about 12 h a week of his 40: projects go live within weeks, so a parameter that
    lengthens them shows in the go-live times rather than in a queue that never drains."""
    base = {
        "sales": {"new_customers_per_month": 2},
        "customers": {"initial_live": 0},
        "tickets": {"enabled": False},
        "team": {"contractors": 2},
        "onboarding": {
            "tasks": {"kind": "integers", "low": 4, "high": 6},
            "task_effort": {"kind": "exponential", "mean": 8},
            "lead_share": 0.5,
        },
    }
    return reduced_params(
        deep_merge(base, overrides or {}), horizon_weeks=weeks, warmup_weeks=warmup
    )


def busy_lead_params(
    overrides: Mapping[str, Any] | None = None, *, tickets_per_week: float = 48, weeks: float = 20
) -> Params:
    """A saturated lead: one customer's tickets (30% urgent, 1 h each on average, all his)
    at ``tickets_per_week`` against his 40 hours (load 1.2 by default), urgent ones
    preempting him at once, under the CEO's newest-first daily list, so a preempted item
    is outranked by newer ones and he ends up with several started at once.  He is
    never idle for long: whatever switching costs comes out of his hours on task."""
    base = {
        "interrupts": {"enabled": True, "shielding": "immediate", "resume_cost_hours": 0},
        "lead": {"prioritisation": {"policy": "top_n", "list_order": "newest"}},
    }
    return reduced_params(
        deep_merge(base, overrides or {}),
        classes=TWO_CLASSES,
        tickets_per_week=tickets_per_week,
        horizon_weeks=weeks,
    )


# ================================================================ sales and onboarding
def test_sales_rate_brings_more_onboarding_customers() -> None:
    """Sales: signed customers arrive as a Poisson stream of ``new_customers_per_month``.

    Claim: more signings, more customers onboarding.  Certain on every path: the sales
    stream's gaps are the same standard exponentials scaled by the mean gap, so at 3 a
    month customer *k* signs at a third of the time it signs at 1 a month; under
    ``accept_all`` each starts onboarding as it signs, so by the horizon at least as
    many have started, and over 26 weeks (about 6 expected at 1 a month) more.
    """
    slow = onboarding_params({"sales": {"new_customers_per_month": 1}}, weeks=26)
    fast = onboarding_params({"sales": {"new_customers_per_month": 3}}, weeks=26)
    pairs = paired_runs(slow, fast, root=101)
    started = values(pairs, lambda r: r.customers["onboarding_day"].notna().sum())
    assert_above(started[1], started[0], "customers started onboarding", every_pair=True)
    level = values(pairs, lambda r: r.timeseries["onboarding"].mean())
    assert_above(level[1], level[0], "mean customers onboarding")


def test_bigger_projects_go_live_later() -> None:
    """Onboarding: a project of ``onboarding.tasks`` tasks goes live when every one is done.

    Claim: more tasks, later go-lives.  The same customers sign at the same times under
    both (the sales stream); their projects have 2-3 tasks against 10-12, released three
    at a time, with the lead and the contractors far from saturated: a project four
    times as long takes longer to finish.  Measured as the mean days from onboarding
    start to go-live of the customers who started in the first 20 weeks (censored at
    the horizon).
    """
    small = onboarding_params({"onboarding": {"tasks": {"kind": "integers", "low": 2, "high": 3}}})
    big = onboarding_params({"onboarding": {"tasks": {"kind": "integers", "low": 10, "high": 12}}})
    pairs = paired_runs(small, big, root=102)
    lead_time = values(pairs, lambda r: days_to_live(r, 20))
    assert_above(lead_time[1], lead_time[0], "days from onboarding start to go-live")


def test_rework_lengthens_onboarding_and_adds_reviews() -> None:
    """Blocked helpers / rework: a review sends delegated work back with
    ``team.rework_probability``, for ``rework_share`` of its effort and another review.

    Claim: more rework, more review hours for the lead and later go-lives.  Every task
    is delegated (``lead_share: 0``), so every task is reviewed; each review's outcome
    is a fixed uniform per task and round (common random numbers), so a task sent back
    at 0% is never sent back, and at 60% it is sent back whenever its draw is below
    0.6: extra rounds of contractor work and of the lead's review, on every path.
    """
    base = {"onboarding": {"lead_share": 0.0}, "team": {"rework_share": 0.5}}
    none = onboarding_params(deep_merge(base, {"team": {"rework_probability": 0.0}}))
    much = onboarding_params(deep_merge(base, {"team": {"rework_probability": 0.6}}))
    pairs = paired_runs(none, much, root=103)
    rework = values(pairs, lambda r: count(r, event="rework"))
    assert (rework[0] == 0).all(), "rework without a rework probability"
    assert_above(rework[1], rework[0], "rework rounds", every_pair=True)
    reviews = values(pairs, lambda r: count(r, "review", "done"))
    assert_above(reviews[1], reviews[0], "reviews done", every_pair=True)
    spec_review = values(pairs, hours("specs_reviews"))
    assert_above(spec_review[1], spec_review[0], "lead hours on specs and reviews")
    lead_time = values(pairs, lambda r: days_to_live(r, 20))
    assert_above(lead_time[1], lead_time[0], "days from onboarding start to go-live")


def test_rework_share_adds_contractor_work() -> None:
    """Rework: a task sent back needs ``team.rework_share`` of its effort again.

    Claim: bigger rework rounds, more contractor work and later go-lives.  Every task
    delegated, 60% of reviews sending work back (the same reviews under both, by common
    random numbers): at 100% of the effort each round costs the contractors ten times
    what it costs at 10%, and the project waits for it.
    """
    base = {"onboarding": {"lead_share": 0.0}, "team": {"rework_probability": 0.6}}
    small = onboarding_params(deep_merge(base, {"team": {"rework_share": 0.1}}))
    large = onboarding_params(deep_merge(base, {"team": {"rework_share": 1.0}}))
    pairs = paired_runs(small, large, root=126)
    busy = values(pairs, metric("contractor_busy_share"))
    assert_above(busy[1], busy[0], "contractors' busy share")
    lead_time = values(pairs, lambda r: days_to_live(r, 20))
    assert_above(lead_time[1], lead_time[0], "days from onboarding start to go-live")


@pytest.mark.parametrize("share", ["spec_share", "review_share"])
def test_spec_and_review_shares_cost_the_lead_and_delay_go_lives(share: str) -> None:
    """Blocked helpers: a delegated task needs a spec (``spec_share`` of its effort, in
    lead hours) before it starts and a review (``review_share``) after.

    Claim: a larger share, more lead hours on specs and reviews and later go-lives.
    Every task is delegated, the lead has nothing else to do and is far from saturated,
    so he does every spec and review that arrives: his hours on them are the shares
    times the same task efforts (common random numbers), and each task waits longer on
    the lead, so its project goes live later.  Each share is varied alone (0.1 against
    0.6), so that a share that is ignored fails its own case.
    """
    base = {"onboarding": {"lead_share": 0.0}, "team": {"spec_share": 0.1, "review_share": 0.1}}
    low = onboarding_params(base)
    high = onboarding_params(deep_merge(base, {"team": {share: 0.6}}))
    pairs = paired_runs(low, high, root=104)
    spec_review = values(pairs, hours("specs_reviews"))
    assert_above(spec_review[1], spec_review[0], f"lead hours on specs and reviews ({share})")
    lead_time = values(pairs, lambda r: days_to_live(r, 20))
    assert_above(lead_time[1], lead_time[0], f"days from onboarding start to go-live ({share})")


# ================================================================ tickets
def test_ticket_rate_adds_lead_ticket_hours() -> None:
    """Tickets: each live customer raises Poisson tickets at ``per_customer_per_week``.

    Claim: more tickets, more of the lead's hours on tickets.  The reduced model (one
    customer, every ticket his, load 0.25 against 0.5): ticket *k* has the same effort
    under both and its arrival gap is the same exponential scaled by the mean gap, so at
    twice the rate twice as many tickets arrive, and he resolves nearly all of them.
    """
    slow = reduced_params(tickets_per_week=10, horizon_weeks=20)
    fast = reduced_params(tickets_per_week=20, horizon_weeks=20)
    pairs = paired_runs(slow, fast, root=105)
    created = values(pairs, lambda r: count(r, "ticket", "arrive"))
    assert_above(created[1], created[0], "tickets raised", every_pair=True)
    ticket_hours = values(pairs, hours("tickets"))
    assert_above(ticket_hours[1], ticket_hours[0], "lead hours on tickets")


def test_stale_tickets_are_abandoned_sooner() -> None:
    """Tickets: one nobody has started within ``abandon_after_days`` is closed as stale.

    Claim: a shorter limit, more tickets abandoned.  A saturated lead (load 1.2, the
    newest-first daily list, so old tickets wait): the tickets and their order are the
    same under both; at 3 days far more of them pass the limit unstarted than at 30.
    """
    long = busy_lead_params({"tickets": {"abandon_after_days": 30}}, weeks=26)
    short = busy_lead_params({"tickets": {"abandon_after_days": 3}}, weeks=26)
    pairs = paired_runs(long, short, root=106)
    abandoned = values(pairs, lambda r: r.conservation.get("dropped_abandoned", 0))
    assert_above(abandoned[1], abandoned[0], "tickets abandoned")


# ================================================================ 2. context switching
def test_context_switching_takes_hours_off_task() -> None:
    """Mechanism 2, context switching: the lead works at Weinberg's efficiency for the
    number of items he juggles; the share lost is booked as switching.

    Claim: switching on, more hours lost to switching and fewer on task.  The lead is
    saturated (load 1.2, urgent preemptions under a newest-first list, so he juggles
    several items): he is busy almost all the time in both, so every hour switching
    takes is an hour off task, and he resolves fewer of the same tickets.  Off, he
    books no switching at all.
    """
    off = busy_lead_params({"context_switching": {"enabled": False}})
    on = busy_lead_params({"context_switching": {"enabled": True}})
    assert_switching_costs_work(paired_runs(off, on, root=107), "context switching off")


def assert_switching_costs_work(pairs: list[tuple[Result, Result]], without: str) -> None:
    """The first run of each pair books no switching, the second books more in every
    pair, spends fewer hours on task and (time lost is work not done) resolves fewer of
    the same tickets."""
    switching = values(pairs, hours("switching"))
    assert (switching[0] == 0).all(), f"switching hours with {without}"
    assert_above(switching[1], switching[0], "lead hours switching", every_pair=True)
    task = values(pairs, on_task)
    assert_above(task[0], task[1], "lead hours on task")
    resolved = values(pairs, lambda r: count(r, "ticket", "done"))
    assert_above(resolved[0], resolved[1], "tickets resolved")


@pytest.mark.parametrize("seed", [0, 1])
def test_switching_slows_the_work_itself(seed: int) -> None:
    """Mechanism 2: switching is time lost, not only time booked: an item takes its
    effort divided by his efficiency to finish.

    Every ticket of the saturated lead costs exactly 1 hour (constant efforts), so the
    ticket hours he books on task are the work done: one hour per resolved ticket, plus
    less than an hour for each ticket started and unfinished at the horizon.  Were the
    clock to run at full speed while a share of it is booked as switching, he would
    resolve tickets he has not spent an hour on.
    """
    one_hour = {"kind": "constant", "value": 1.0}
    params = with_overrides(
        busy_lead_params({"context_switching": {"enabled": True}}),
        {"tickets": {"classes": {"urgent": {"effort": one_hour}, "normal": {"effort": one_hour}}}},
    )
    assert all(c.effort == Constant(value=1.0) for c in params.tickets.classes.values())
    result = simulate(params, seed=seed)
    assert result.lead_hours["switching"] > 0, "no switching: the case proves nothing"
    tickets = rows(result, "ticket")
    done = set(tickets.loc[tickets["event"] == "done", "entity"])
    started = set(tickets.loc[tickets["event"] == "start", "entity"])
    booked = result.lead_hours["tickets"]
    assert len(done) - 1e-6 <= booked <= len(done) + len(started - done) + 1e-6, (
        f"{booked:.2f} ticket hours on task for {len(done)} resolved and "
        f"{len(started - done)} unfinished tickets of 1 hour each"
    )


def test_longer_switching_window_means_more_switching() -> None:
    """Mechanism 2: an unfinished item counts as juggled for ``window_days`` after he last
    touched it.

    Claim: a longer window, more items juggled at once, lower efficiency, more switching.
    The same saturated lead; a quarter of a day against ten days: with the short window
    only what he touched in the last two hours counts, with the long one everything
    preempted or outranked in the last two weeks does.
    """
    short = busy_lead_params({"context_switching": {"enabled": True, "window_days": 0.25}})
    long = busy_lead_params({"context_switching": {"enabled": True, "window_days": 10}})
    pairs = paired_runs(short, long, root=108)
    juggling = values(pairs, lambda r: r.timeseries["lead_juggling"].mean())
    assert_above(juggling[1], juggling[0], "mean items juggled")
    switching = values(pairs, hours("switching"))
    assert_above(switching[1], switching[0], "lead hours switching")


# ================================================================ 3. interrupts
def test_resume_cost_takes_hours_off_task() -> None:
    """Mechanism 3, interrupts: after a run of interrupts the lead pays
    ``resume_cost_hours`` to get back into his started work (booked as switching).

    Claim: a higher resume cost, fewer hours on task.  Context switching off, so that
    the resume cost is the only switching; the saturated lead has started work to
    return to after nearly every urgent ticket, and no idle time to absorb the cost:
    at 0 h he books no switching, at 0.5 h he books half an hour per return, and
    resolves fewer of the same tickets.
    """
    free = busy_lead_params({"context_switching": {"enabled": False}})
    costly = busy_lead_params(
        {"context_switching": {"enabled": False}, "interrupts": {"resume_cost_hours": 0.5}}
    )
    assert_switching_costs_work(paired_runs(free, costly, root=109), "no resume cost")


def test_direct_access_pings_add_lead_hours() -> None:
    """Mechanism 3: customers with direct access ping the lead (``pings_per_week`` each,
    ``effort`` hours per ping, booked with tickets).

    Claim: more pings, more of his hours on tickets and pings.  The reduced model's one
    customer has direct access and pings 2 or 10 times a week; ping *k* has the same
    effort under both and its gap is the same exponential scaled, so five times as many
    pings arrive, and the lead (load 0.5 from tickets) answers them all.
    """
    base = {"interrupts": {"direct_access": {"enabled": True, "customers": 1}}}
    few = reduced_params(
        deep_merge(base, {"interrupts": {"direct_access": {"pings_per_week": 2}}}),
        horizon_weeks=20,
    )
    many = reduced_params(
        deep_merge(base, {"interrupts": {"direct_access": {"pings_per_week": 10}}}),
        horizon_weeks=20,
    )
    pairs = paired_runs(few, many, root=110)
    pings = values(pairs, lambda r: count(r, "ping", "done", actor="lead"))
    assert (pings[0] > 0).all(), "no pings from a customer with direct access"
    assert_above(pings[1], pings[0], "pings answered by the lead", every_pair=True)
    ticket_hours = values(pairs, hours("tickets"))
    assert_above(ticket_hours[1], ticket_hours[0], "lead hours on tickets and pings")


def test_shorter_interrupt_patience_lapses_more() -> None:
    """People bound their own overload: an interrupt that waits longer than
    ``interrupts.patience_days`` for the lead is triaged; a ping, escalation or meeting
    lapses (dropped, counted).

    Claim: shorter patience, more lapsed.  The story's company (overloaded: interrupts
    queue behind calls and fires) over 26 weeks; half a day against five days.
    """
    patient = baseline(26, interrupts={"patience_days": 5})
    impatient = baseline(26, interrupts={"patience_days": 0.5})
    pairs = paired_runs(patient, impatient, root=111)
    lapsed = values(pairs, lambda r: r.conservation.get("dropped_lapsed", 0))
    assert_above(lapsed[1], lapsed[0], "interrupts lapsed")


# ================================================================ 1. status calls
def _calls_params(call_hours: float) -> Params:
    """Four projects at a time, the lead alone: sales sign 6 customers a month, far more
    than he can onboard, and intake keeps four onboarding (the rest wait, patiently);
    every task is his, and each onboarding customer has a weekly call he attends at its
    time (interrupts on, no resume cost, no limit on his call hours)."""
    return onboarding_params(
        {
            "sales": {"new_customers_per_month": 6},
            "intake": {
                "policy": "wip_limit",
                "limit": 4,
                "patience_weeks": {"kind": "constant", "value": 100},
            },
            "team": {"contractors": 0},
            "onboarding": {"lead_share": 1.0},
            "interrupts": {"enabled": True, "shielding": "immediate", "resume_cost_hours": 0},
            "status_calls": {
                "enabled": True,
                "lead_max_hours_per_week": None,
                "call_hours": call_hours,
            },
        }
    )


def test_longer_status_calls_take_lead_hours_and_cut_go_lives() -> None:
    """Mechanism 1, status-call load: each onboarding customer's weekly call costs the
    lead ``call_hours``.

    Claim: longer calls, more of his hours in calls and fewer go-lives.  Four customers
    onboard at any time and every task is the lead's, so he is the whole capacity of
    onboarding and is never short of project work: four calls a week take 2 h of his 40
    at half an hour a call and 16 h at four hours, and the projects (the same ones, in
    the same order) get what is left, so fewer go live in the window.
    """
    pairs = paired_runs(_calls_params(0.5), _calls_params(4), root=112)
    calls = values(pairs, hours("calls"))
    assert_above(calls[1], calls[0], "lead hours in calls", every_pair=True)
    onboarding = values(pairs, hours("onboarding"))
    assert_above(onboarding[0], onboarding[1], "lead hours on onboarding tasks")
    go_lives = values(pairs, metric("go_lives"))
    assert_above(go_lives[0], go_lives[1], "go-lives in the window")


def test_lead_call_limit_moves_calls_off_him() -> None:
    """Mechanism 1, bounded: the lead attends at most ``lead_max_hours_per_week`` of
    calls a calendar week; the week's other calls run without him (counted).

    Claim: a lower limit, fewer of his hours in calls and more calls without him.  The
    story's company over 26 weeks: onboardings pile up (every signed customer starts at
    once and few go live), so their weekly calls soon exceed 4 hours a week, and a
    limit of 4 binds where one of 20 binds rarely.
    """
    loose = baseline(26, status_calls={"lead_max_hours_per_week": 20})
    tight = baseline(26, status_calls={"lead_max_hours_per_week": 4})
    pairs = paired_runs(loose, tight, root=113)
    calls = values(pairs, hours("calls"))
    assert_above(calls[0], calls[1], "lead hours in calls")
    without = values(pairs, metric("calls_without_lead"))
    assert_above(without[1], without[0], "calls run without the lead")


# ================================================================ 4. broken promises
def test_fewer_breaks_before_escalating_means_more_escalations() -> None:
    """Mechanism 4, broken promises: after ``escalate_after_breaks`` broken promises on
    one item the customer escalates, once (an interrupt of the lead).

    Claim: a customer who escalates at the first break escalates more than one who
    waits for the third.  The story's company (most promises are broken) over 20 weeks:
    with 1, every item's first break is an escalation; with 3, only items whose
    promises are broken three times at successive calls.
    """
    patient = baseline(20, commitments={"escalate_after_breaks": 3})
    quick = baseline(20, commitments={"escalate_after_breaks": 1})
    pairs = paired_runs(patient, quick, root=114)
    escalations = values(pairs, lambda r: count(r, "escalation", "arrive"))
    assert_above(escalations[1], escalations[0], "escalations")
    esc_hours = values(pairs, hours("escalations"))
    assert_above(esc_hours[1], esc_hours[0], "lead hours on escalations")


# ================================================================ 5. forgetting
def _forgetting_params(overrides: Mapping[str, Any]) -> Params:
    """The reduced model under the CEO's daily list of one item, load 0.5: each morning
    most of the waiting tickets are off the list and may be forgotten; a forgotten one
    comes back as urgent work of twice its effort (the default), so that even if every
    ticket were forgotten the load would stay below 1 and no run can run away."""
    base = {
        "lead": {"prioritisation": {"policy": "top_n", "top_n": 1}},
        "forgetting": {"enabled": True, "effort_multiplier": 2},
    }
    return reduced_params(deep_merge(base, overrides), tickets_per_week=20, horizon_weeks=30)


def lead_hours_by_item(result: Result) -> pd.Series:
    """The lead's hours on each item he worked on, from the event log: the clock time from
    each of his ``start`` rows to the item's next ``preempt`` or ``done`` row.  Valid only
    where clock time is work time: speed 1 (40 h in a 40-hour week) and no switching."""
    p = result.params
    assert not p.context_switching.enabled, "with switching, clock time is not work time"
    assert p.lead.capacity_hours_per_week == 5 * p.simulation.hours_per_day, "speed is not 1"
    ev = result.events
    ev = ev[ev["event"].isin(["start", "preempt", "done"]) & (ev["entity"] >= 0)]
    ev = ev.sort_values(["entity", "time"], kind="stable")
    ends = ev.groupby("entity")["time"].shift(-1)
    by_lead = (ev["event"] == "start") & (ev["actor"] == "lead")
    segments = (ends - ev["time"])[by_lead]
    horizon = p.simulation.horizon_weeks * 5 * p.simulation.hours_per_day
    segments = segments.fillna(horizon - ev.loc[by_lead, "time"])  # in hand at the end
    return segments.groupby(ev.loc[by_lead, "entity"]).sum()


def test_forgetting_more_items_costs_more_urgent_hours() -> None:
    """Mechanism 5, forgetting: under the daily list an unstarted item off it is forgotten
    with ``daily_probability`` and resurfaces as urgent work of ``effort_multiplier``
    times its effort.

    Claim: a higher probability, more items forgotten and more hours of urgent work, each
    resurfaced item costing more than the original.  The same tickets under both (2%
    against 30% a day); the lead (load 0.5, no switching, speed 1, so his hours on an
    item are its clock time in his hands) resolves nearly everything.  Which items are
    forgotten does not depend on their effort, so at 30% a day a resurfaced ticket
    costs him, on average, about twice what an ordinary one does.
    """
    rare = _forgetting_params({"forgetting": {"daily_probability": 0.02}})
    often = _forgetting_params({"forgetting": {"daily_probability": 0.3}})
    pairs = paired_runs(rare, often, root=115)
    forgotten = values(pairs, lambda r: count(r, event="forgotten"))
    assert_above(forgotten[1], forgotten[0], "items forgotten")

    def resurfaced_items(r: Result) -> pd.Index:
        return pd.Index(rows(r, event="resurfaced")["entity"].unique())

    def urgent_hours(r: Result) -> float:
        per_item = lead_hours_by_item(r)
        return float(per_item[per_item.index.isin(resurfaced_items(r))].sum())

    urgent = values(pairs, urgent_hours)
    assert_above(urgent[1], urgent[0], "lead hours on resurfaced (urgent) items")

    def extra_cost(r: Result) -> float:
        per_item = lead_hours_by_item(r)
        again = per_item.index.isin(resurfaced_items(r))
        assert again.sum() > 0 and (~again).sum() > 0
        return float(per_item[again].mean() - per_item[~again].mean())

    extra = np.array([extra_cost(r) for _, r in pairs])
    assert_above(extra, np.zeros_like(extra), "hours of a resurfaced item over an ordinary one")


def test_forgotten_items_resurfacing_as_interrupts_preempt() -> None:
    """Mechanism 5: a forgotten item resurfaces at the front of the backlog
    (``resurface_to: backlog``) or as an interrupt through the shielding policy.

    Claim: as interrupts, more preemptions.  Interrupts on, ``immediate`` shielding and
    no other urgent work (one class of normal tickets), so with ``backlog`` nothing
    ever preempts the lead, and with ``interrupt`` every resurfaced item that finds him
    at work does.
    """
    base = {
        "forgetting": {"daily_probability": 0.2},
        "interrupts": {"enabled": True, "shielding": "immediate", "resume_cost_hours": 0},
    }
    to_backlog = _forgetting_params(deep_merge(base, {"forgetting": {"resurface_to": "backlog"}}))
    to_interrupt = _forgetting_params(
        deep_merge(base, {"forgetting": {"resurface_to": "interrupt"}})
    )
    pairs = paired_runs(to_backlog, to_interrupt, root=116)
    preempts = values(pairs, lambda r: count(r, event="preempt"))
    assert (preempts[0] == 0).all(), "a preemption with nothing that interrupts"
    assert_above(preempts[1], preempts[0], "preemptions", every_pair=True)


# ================================================================ 7. quality under pressure
def _quality_params(tickets_per_week: float, quality: Mapping[str, Any]) -> Params:
    """The reduced model with defects: a finished ticket comes back as a new one."""
    return reduced_params(
        {"quality": {"enabled": True, "max_defect_probability": 1.0, **quality}},
        tickets_per_week=tickets_per_week,
        horizon_weeks=20,
    )


def test_defects_add_tickets_for_the_lead() -> None:
    """Mechanism 7, quality under pressure: a finished item comes back as a defect (a new
    ticket) with a chance that grows with the lead's backlog.

    Claim: defects raise the ticket load.  Off against on (a 20% base chance) on the
    same tickets, load 0.5: every defect is one more ticket, all of them his.
    """
    off = reduced_params(tickets_per_week=20, horizon_weeks=20)
    on = _quality_params(20, {"base_defect_probability": 0.2})
    pairs = paired_runs(off, on, root=117)
    created = values(pairs, lambda r: count(r, "ticket", "arrive"))
    assert_above(created[1], created[0], "tickets raised", every_pair=True)
    ticket_hours = values(pairs, hours("tickets"))
    assert_above(ticket_hours[1], ticket_hours[0], "lead hours on tickets")


def test_defect_rate_grows_with_the_backlog() -> None:
    """Mechanism 7: the defect chance is ``base + per_backlog_item x backlog`` (capped).

    Claim: the larger the lead's backlog, the more of his finished work comes back.  The
    same chance formula (5% plus 2 points per backlog item) at load 0.4 against load 0.9:
    the busier lead has a longer backlog, so a larger share of his resolved tickets
    raise a defect.  Were the defect chance blind to the backlog, the shares would
    match (the same base chance at both loads).
    """
    quality = {"base_defect_probability": 0.05, "per_backlog_item": 0.02}
    light = _quality_params(16, quality)
    heavy = _quality_params(36, quality)
    pairs = paired_runs(light, heavy, root=118)

    def defect_share(r: Result) -> float:
        return float(r.summary["defects"]) / count(r, "ticket", "done")

    backlog = values(pairs, metric("lead_backlog_mean"))
    assert_above(backlog[1], backlog[0], "mean lead backlog")
    share = values(pairs, defect_share)
    assert_above(share[1], share[0], "defects per resolved ticket")


# ================================================================ 6. blocked helpers
def test_idle_developers_take_support_tickets_instead_of_waiting() -> None:
    """Blocked helpers: a developer with nothing specced takes a ticket that needs no lead
    access, when there is one, rather than wait on the lead.

    Claim: with such tickets to take, the contractors' blocked share is lower than when
    there are none.  The story's company (health and churn off, so that the customers
    are the same) with a support person and tickets that never need the lead, so they
    all go to the support queue and the lead's own work is the same in both runs; the
    other run has no tickets at all.  The support person cannot keep up with the
    tickets, so an idle contractor always finds one to take.
    """
    base: dict[str, Any] = {
        "health": {"enabled": False},
        "churn": {"enabled": False},
        "team": {"support": 1},
    }
    no_tickets = baseline(20, **base, tickets={"enabled": False})
    free_tickets = baseline(
        20,
        **base,
        tickets={
            "per_customer_per_week": 3,
            "classes": {name: {"lead_share": 0.0} for name in ("urgent", "normal", "how_to")},
        },
    )
    pairs = paired_runs(no_tickets, free_tickets, root=125)
    lead_tickets = values(pairs, lambda r: count(r, "ticket", "start", actor="lead"))
    assert (lead_tickets[1] == 0).all(), "a ticket that needs no lead reached him"

    def by_contractors(r: Result) -> int:
        starts = rows(r, "ticket", "start")["actor"].astype(str)
        return int(starts.str.startswith("contractor").sum())

    taken = values(pairs, by_contractors)
    assert (taken[1] > 0).all(), "no contractor took a ticket"
    blocked = values(pairs, metric("contractor_blocked_share"))
    assert_above(blocked[0], blocked[1], "contractors' blocked share")
