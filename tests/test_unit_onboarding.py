"""Unit tests of ``mechanisms/onboarding.py``: one customer's project, without the company.

What is pinned, and why:

* ``begin`` draws the project (number of tasks, efforts, lead need, rework draws) from the
  customer's own ``Source.ONBOARDING`` stream, so customer c's project is the same under
  every policy and whatever other customers do (common random numbers).
* At most ``parallel_tasks`` tasks are open at once; each done task releases the next.
* A task whose ``lead_u`` is below the lead share goes to the lead; a delegable one first
  needs a spec of effort x ``spec_share`` x overhead (the developers' role overhead times
  the platform multiplier) that gates it, and reaches the dev queue only when the spec is
  done.  A developer's finished task waits for a review, which sends it back for rework
  (``rework_share`` of its effort) when the task's rework draw is below
  ``rework_probability``, and otherwise completes it.
* The customer goes live when every task and ask is done: state, ``live`` row, golives
  record, counts, and the ``on_live`` hooks.  ``add_ask`` adds work that go-live waits
  for.  Dropping a spec or review frees its gate.
* ``metrics``: go-lives in the window and lead-time percentiles, on a hand-made record.

Built directly with a real ``simpy.Environment``, ``Calendar``, ``Ledger``/``EventLog``,
``CustomerBase``, ``PlatformEffects`` and ``Streams``; the lead is a stub recording what he
is given, the team a stub counting gates and recording its dev queue.  Work is "done" by
``ledger.complete`` with the ledger's handlers wired as the company wires them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from flowsim.model.calendar import Calendar
from flowsim.model.customers import CustomerBase
from flowsim.model.distributions import IntegerUniform, lognormal
from flowsim.model.effects import PlatformEffects
from flowsim.model.entities import Customer, Item
from flowsim.model.eventlog import EventLog
from flowsim.model.ledger import Ledger
from flowsim.model.mechanisms.onboarding import Onboarding, OnboardingMechanism
from flowsim.model.recorder import Window
from flowsim.model.streams import Streams
from flowsim.model.team import RANK_TASK, Team

CAL = Calendar(8.0)


class LeadStub:
    """Records what the lead is given; the test does the work (``ledger.complete``)."""

    def __init__(self) -> None:
        self.assigned: list[Item] = []
        self.interrupted: list[Item] = []

    def assign(self, item: Item) -> None:
        self.assigned.append(item)

    def interrupt(self, item: Item) -> None:
        self.interrupted.append(item)


class DevQueue:
    def __init__(self) -> None:
        self.puts: list[tuple[Item, float]] = []

    def put(self, item: Item, rank: float) -> None:
        self.puts.append((item, rank))

    @property
    def items(self) -> list[Item]:
        return [item for item, _ in self.puts]


class TeamStub:
    """Developers or none, a role overhead, and a count of gated items."""

    def __init__(self, has_dev: bool, overhead: float | None) -> None:
        self.has_dev = has_dev
        self.overhead = overhead
        self.dev_queue = DevQueue()
        self.n_gated = 0

    def gate(self) -> None:
        self.n_gated += 1

    def ungate(self) -> None:
        self.n_gated -= 1

    def role_overhead(self) -> float | None:
        return self.overhead


class FixedU:
    """A generator whose every uniform draw is ``u`` (to set an ask's lead need)."""

    def __init__(self, u: float) -> None:
        self.u = u

    def random(self, size: int | None = None) -> Any:
        return self.u if size is None else np.full(size, self.u)


@dataclass
class Rig:
    env: simpy.Environment
    log: EventLog
    ledger: Ledger
    lead: LeadStub
    team: TeamStub
    customers: CustomerBase
    effects: PlatformEffects
    mech: OnboardingMechanism
    live: list[Customer] = field(default_factory=list)
    started: list[Customer] = field(default_factory=list)
    work_done: list[Item] = field(default_factory=list)

    def sign(self) -> Customer:
        return self.customers.new()

    def rows(self, event: str) -> list[tuple[float, int, str]]:
        df = self.log.frame(CAL.day)
        df = df[df["event"] == event]
        return list(
            zip(df["time"].tolist(), df["entity"].tolist(), df["kind"].tolist(), strict=True)
        )


def build(
    *,
    tasks: int | tuple[int, int] = 5,
    lead_share: float = 0.6,
    parallel: int | None = 3,
    spec_share: float = 0.2,
    review_share: float = 0.1,
    rework_probability: float = 0.25,
    rework_share: float = 0.3,
    has_dev: bool = True,
    role_overhead: float | None = None,
    seed: int = 0,
) -> Rig:
    low, high = (tasks, tasks) if isinstance(tasks, int) else tasks
    env = simpy.Environment()
    log = EventLog(True)
    ledger = Ledger(env, log)
    streams = Streams(seed)
    customers = CustomerBase(env, streams, 75.0, lambda _h: "green")
    effects = PlatformEffects(lead_share, {})
    lead = LeadStub()
    team = TeamStub(has_dev, role_overhead)
    config = Onboarding(
        tasks=IntegerUniform(low=low, high=high),
        task_effort=lognormal(12, 1.0),
        lead_share=lead_share,
        parallel_tasks=parallel,
    )
    team_config = Team(
        spec_share=spec_share,
        review_share=review_share,
        rework_probability=rework_probability,
        rework_share=rework_share,
    )
    mech = OnboardingMechanism(
        config, team_config, CAL, env, ledger, log, lead, team, customers, effects, streams
    )
    # The ledger's handlers, as the company wires them.
    ledger.on_done.update(
        task=mech.work_done, ask=mech.work_done, spec=mech.spec_done, review=mech.review_done
    )
    ledger.on_drop.append(mech.dropped)
    rig = Rig(env, log, ledger, lead, team, customers, effects, mech)
    mech.on_live.append(rig.live.append)
    mech.on_started.append(rig.started.append)
    mech.on_work_done.append(rig.work_done.append)
    return rig


def project(cust: Customer) -> list[tuple[float, float, list[float]]]:
    """The customer's whole project: released tasks (open, in order), then pending ones."""
    released = [(t.effort, t.lead_u, list(t.rework_u)) for t in cust.work.values()]
    return released + [(e, u, list(r)) for e, u, r in cust.pending_tasks]


def open_tasks(rig: Rig) -> list[Item]:
    return [i for i in rig.lead.assigned if i.kind == "task" and i.state == "waiting"]


# ---------------------------------------------------------------- the project
@settings(deadline=None, max_examples=30)
@given(seed=st.integers(0, 2**32 - 1))
def test_the_project_is_drawn_from_the_customers_own_stream(seed: int) -> None:
    """Customer 1's project is the same whether or not customer 0 began first, and whatever
    the release and routing policy; another seed gives another project."""
    alone = build(tasks=(4, 9), seed=seed, parallel=2, lead_share=1.0)
    c0, c1 = alone.sign(), alone.sign()
    alone.mech.begin(c1)

    crowded = build(tasks=(4, 9), seed=seed, parallel=None, lead_share=0.3)
    d0, d1 = crowded.sign(), crowded.sign()
    crowded.mech.begin(d0)
    crowded.mech.begin(d1)

    mine = project(c1)
    assert 4 <= len(mine) <= 9
    assert c1.unfinished == len(mine)
    assert project(d1) == mine
    assert c0.state == "signed"  # only customer 1 began in the first run

    other = build(tasks=(4, 9), seed=seed + 1, parallel=2, lead_share=1.0)
    other.sign()
    e1 = other.sign()
    other.mech.begin(e1)
    assert [e for e, _, _ in project(e1)] != [e for e, _, _ in mine]


def test_begin_starts_the_onboarding() -> None:
    rig = build(tasks=4, lead_share=1.0)
    rig.env.run(until=10)
    cust = rig.sign()
    rig.mech.begin(cust)
    assert cust.state == "onboarding" and cust.onboarding_at == 10.0
    assert rig.customers.n_onboarding == 1
    assert cust.id in rig.customers.active
    assert rig.started == [cust]
    assert rig.rows("onboarding") == [(10.0, cust.id, "customer")]
    # Every task counts its request from the onboarding start, even one released later.
    rig.env.run(until=30)
    rig.ledger.complete(rig.lead.assigned[0], "lead")
    later = rig.lead.assigned[-1]
    assert later.arrived == 30.0 and later.origin == 10.0


@settings(deadline=None, max_examples=60)
@given(
    n=st.integers(1, 10),
    parallel=st.one_of(st.none(), st.integers(1, 5)),
    data=st.data(),
)
def test_at_most_parallel_tasks_are_open_and_each_done_task_releases_the_next(
    n: int, parallel: int | None, data: st.DataObject
) -> None:
    rig = build(tasks=n, parallel=parallel, lead_share=1.0)
    cust = rig.sign()
    rig.mech.begin(cust)
    cap = n if parallel is None else parallel
    done = 0
    while True:
        released = [i for i in rig.lead.assigned if i.kind == "task"]
        assert len(released) == min(n, cap + done)
        assert len(open_tasks(rig)) == cust.open_tasks <= cap
        if not open_tasks(rig):
            break
        assert cust.state == "onboarding"
        task = data.draw(st.sampled_from(open_tasks(rig)))
        rig.ledger.complete(task, "lead")
        done += 1
    assert done == n
    assert cust.state == "live"


# ---------------------------------------------------------------- routing, specs, reviews
def test_a_task_goes_to_the_lead_when_its_lead_draw_is_below_the_share_else_behind_a_spec() -> None:
    rig = build(tasks=12, parallel=None, lead_share=0.5, spec_share=0.2, role_overhead=0.5)
    rig.effects.overhead_mult = 0.8  # platform investment has cut the overhead
    cust = rig.sign()
    rig.mech.begin(cust)
    tasks = list(cust.work.values())
    lead_tasks = [t for t in tasks if t.lead_u < 0.5]
    delegable = [t for t in tasks if t.lead_u >= 0.5]
    assert lead_tasks and delegable  # the seed gives both kinds
    specs = [i for i in rig.lead.assigned if i.kind == "spec"]
    assert [i for i in rig.lead.assigned if i.kind == "task"] == lead_tasks
    assert [s.parent for s in specs] == delegable
    for spec in specs:
        task = spec.parent
        assert task is not None and task.gate is spec
        # effort x spec_share x (role overhead x platform multiplier)
        assert spec.effort == pytest.approx(task.effort * 0.2 * 0.5 * 0.8)
        assert spec.customer is cust and spec.origin == task.origin
    assert rig.team.n_gated == len(delegable)
    assert rig.team.dev_queue.puts == []  # nothing reaches a developer before its spec


@settings(deadline=None, max_examples=100)
@given(u=st.floats(0, 1, exclude_max=True), share=st.floats(0, 1))
def test_an_ask_needs_the_lead_exactly_when_its_draw_is_below_the_share(
    u: float, share: float
) -> None:
    rig = build(tasks=1, lead_share=1.0)
    cust = rig.sign()
    rig.mech.begin(cust)
    rig.effects.onboarding_lead_share = share
    rig.lead.assigned.clear()
    rig.mech.add_ask(cust, FixedU(u), 4.0)
    (given_to_lead,) = rig.lead.assigned
    if u < share:
        assert given_to_lead.kind == "ask"
        assert rig.team.n_gated == 0
    else:
        assert given_to_lead.kind == "spec" and given_to_lead.parent is not None
        assert given_to_lead.parent.kind == "ask"
        assert rig.team.n_gated == 1


def test_without_developers_or_without_spec_overhead_delegable_work_is_not_gated() -> None:
    # No developers: the lead does it himself.
    solo = build(tasks=3, parallel=None, lead_share=0.0, has_dev=False)
    cust = solo.sign()
    solo.mech.begin(cust)
    assert [i.kind for i in solo.lead.assigned] == ["task"] * 3
    assert solo.team.n_gated == 0
    # A spec share of zero: straight to the dev queue, ranked as a task.
    nospec = build(tasks=3, parallel=None, lead_share=0.0, spec_share=0.0)
    cust = nospec.sign()
    nospec.mech.begin(cust)
    assert nospec.lead.assigned == []
    assert nospec.team.dev_queue.puts == [(t, RANK_TASK) for t in cust.work.values()]
    assert nospec.team.n_gated == 0


def test_spec_then_developer_then_review_with_rework_then_done() -> None:
    rig = build(
        tasks=2,
        parallel=1,
        lead_share=0.0,
        review_share=0.1,
        rework_probability=0.25,
        rework_share=0.3,
        role_overhead=0.5,
    )
    cust = rig.sign()
    rig.mech.begin(cust)
    (spec,) = rig.lead.assigned
    task = spec.parent
    assert task is not None and task.kind == "task"
    assert rig.team.n_gated == 1

    rig.ledger.complete(spec, "lead")
    assert rig.team.n_gated == 0 and task.gate is None
    assert rig.team.dev_queue.puts == [(task, RANK_TASK)]

    # A developer finishes it: it waits for the lead's review and is not done.
    task.rework_u = [0.1, 0.9, 0.9]  # the first review fails (0.1 < 0.25), the second passes
    task.state = "active"
    rig.env.run(until=5)
    rig.mech.finished(task, "contractor1")
    assert task.state == "waiting"
    (review,) = rig.lead.assigned[1:]
    assert review.kind == "review" and review.parent is task and task.gate is review
    assert review.effort == pytest.approx(task.effort * 0.1 * 0.5)
    assert rig.team.n_gated == 1
    assert rig.rows("review_wait") == [(5.0, task.id, "task")]

    rig.ledger.complete(review, "lead")
    assert rig.team.n_gated == 0
    assert task.state == "waiting" and task.reviews == 1
    assert task.remaining == pytest.approx(task.effort * 0.3)
    assert rig.team.dev_queue.items == [task, task]
    assert rig.rows("rework") == [(5.0, task.id, "task")]
    assert cust.open_tasks == 1 and len(cust.pending_tasks) == 1  # nothing released yet

    task.state = "active"
    rig.mech.finished(task, "contractor1")
    review2 = rig.lead.assigned[2]
    rig.ledger.complete(review2, "lead")
    assert task.state == "done" and task.reviews == 2
    assert rig.work_done == [task]
    # The second task is released, behind its own spec.
    assert rig.lead.assigned[3].kind == "spec" and rig.lead.assigned[3].parent is not task


@settings(deadline=None, max_examples=100)
@given(u=st.floats(0, 1, exclude_max=True), p=st.floats(0, 1, exclude_max=True))
def test_a_review_sends_work_back_exactly_when_the_rework_draw_is_below_the_probability(
    u: float, p: float
) -> None:
    rig = build(tasks=1, lead_share=0.0, spec_share=0.0, rework_probability=p)
    cust = rig.sign()
    rig.mech.begin(cust)
    (task,) = cust.work.values()
    task.rework_u = [u]
    task.state = "active"
    rig.mech.finished(task, "contractor1")
    (review,) = rig.lead.assigned
    rig.ledger.complete(review, "lead")
    if u < p:
        assert task.state == "waiting" and cust.state == "onboarding"
        assert rig.team.dev_queue.items[-1] is task
    else:
        assert task.state == "done" and cust.state == "live"


def test_a_finished_item_that_is_not_project_work_is_simply_done() -> None:
    rig = build(tasks=1, lead_share=1.0)
    ticket = rig.ledger.new("ticket", None, 1.0, "normal")
    ticket.state = "active"
    rig.mech.finished(ticket, "contractor1")
    assert ticket.state == "done"
    assert rig.lead.assigned == [] and rig.team.n_gated == 0


# ---------------------------------------------------------------- go-live
def test_the_customer_goes_live_when_every_task_and_ask_is_done() -> None:
    rig = build(tasks=3, parallel=None, lead_share=1.0)
    cust = rig.sign()  # signed at 0, starts onboarding at 8
    rig.env.run(until=8)
    rig.mech.begin(cust)
    rig.env.run(until=20)
    rig.mech.add_ask(cust, FixedU(0.0), 2.5)
    ask = rig.lead.assigned[-1]
    assert ask.kind == "ask" and ask.effort == 2.5 and ask.origin == 8.0
    assert cust.unfinished == 4 and cust.open_tasks == 3  # an ask takes no task place
    for task in [i for i in rig.lead.assigned if i.kind == "task"]:
        rig.ledger.complete(task, "lead")
    assert cust.state == "onboarding"  # the ask is still open
    assert rig.live == []

    rig.env.run(until=50)
    rig.ledger.complete(ask, "lead")
    assert cust.state == "live" and cust.live_at == 50.0
    assert rig.live == [cust]
    assert rig.customers.n_onboarding == 0 and rig.customers.live == 1
    assert rig.mech.golives.rows == [(cust.id, 0.0, 8.0, 50.0)]
    assert rig.rows("live") == [(50.0, cust.id, "customer")]
    assert len(rig.work_done) == 4


def test_an_ask_takes_no_task_place() -> None:
    """Asks join the project but not the piecemeal release: closing one frees no place."""
    rig = build(tasks=3, parallel=1, lead_share=1.0)
    cust = rig.sign()
    rig.mech.begin(cust)
    rig.mech.add_ask(cust, FixedU(0.0), 1.0)
    ask = rig.lead.assigned[-1]
    rig.ledger.complete(ask, "lead")
    assert [i.kind for i in rig.lead.assigned] == ["task", "ask"]
    assert cust.open_tasks == 1 and cust.unfinished == 3


def test_a_project_without_tasks_goes_live_at_once() -> None:
    rig = build(tasks=0)
    rig.env.run(until=3)
    cust = rig.sign()
    rig.mech.begin(cust)
    assert cust.state == "live" and cust.live_at == 3.0
    assert rig.live == [cust]
    assert rig.started == []  # no project, so no status calls to start
    assert rig.customers.n_onboarding == 0


# ---------------------------------------------------------------- drops
@pytest.mark.parametrize("gate_kind", ["spec", "review"])
def test_dropping_a_spec_or_review_frees_its_gate(gate_kind: str) -> None:
    rig = build(tasks=1, lead_share=0.0, spec_share=0.2)
    cust = rig.sign()
    rig.mech.begin(cust)
    (spec,) = rig.lead.assigned
    if gate_kind == "review":
        rig.ledger.complete(spec, "lead")
        task = spec.parent
        assert task is not None
        task.state = "active"
        rig.mech.finished(task, "contractor1")
    gate = rig.lead.assigned[-1]
    assert gate.kind == gate_kind and rig.team.n_gated == 1
    rig.ledger.drop(gate, "churn")
    assert rig.team.n_gated == 0


def test_dropping_a_task_takes_it_out_of_the_open_work() -> None:
    rig = build(tasks=3, parallel=2, lead_share=1.0)
    cust = rig.sign()
    rig.mech.begin(cust)
    task = rig.lead.assigned[0]
    rig.ledger.drop(task, "churn")
    assert task.id not in cust.work
    assert cust.open_tasks == 1


# ---------------------------------------------------------------- metrics
def test_metrics_on_a_hand_made_record() -> None:
    rig = build()
    day = CAL.day
    window = Window(10 * day, 10 * day + 26 * CAL.week)  # a 26-week window
    # (customer, signed, onboarding start, live) in hours; lead times 10..50 days.
    for k, lead_days in enumerate([10, 20, 30, 40, 50]):
        onb = 12 * day
        rig.mech.golives.append((k, onb - 4 * day, onb, onb + lead_days * day))
    rig.mech.golives.append((9, 0.0, 0.0, 5 * day))  # live before the window: left out
    # Two onboardings still open at the end of the window.
    for since_days in (100, 60):
        cust = rig.sign()
        cust.state = "onboarding"
        cust.onboarding_at = window.end - since_days * day
    m = rig.mech.metrics(window)
    assert m["go_lives"] == 5
    assert m["go_lives_per_quarter"] == pytest.approx(5 / 26 * 13)
    assert m["onboarding_lead_time_p50_days"] == pytest.approx(30)
    assert m["onboarding_lead_time_p85_days"] == pytest.approx(44)  # 40 + 0.4 x 10
    assert m["onboarding_lead_time_p95_days"] == pytest.approx(48)
    assert m["signed_to_live_p85_days"] == pytest.approx(48)  # 4 days more, each
    assert m["open_onboarding_age_p50_days"] == pytest.approx(80)


def test_metrics_without_go_lives_are_nan() -> None:
    m = build().mech.metrics(Window(0, CAL.quarter))
    assert m["go_lives"] == 0
    assert math.isnan(m["onboarding_lead_time_p50_days"])
    assert math.isnan(m["open_onboarding_age_p50_days"])
