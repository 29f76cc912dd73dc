"""Unit tests of the team (:mod:`flowsim.model.team`), built alone.

MODEL.md's sixth mechanism is blocked helpers: contractors who wait on specs and
reviews the lead puts behind customer fires, measured as their *blocked* share.
These tests build :class:`WorkQueue`, :class:`Worker` and :class:`TeamAtWork` on a
bare ``simpy.Environment`` (with small stubs for the worker's callbacks, or a real
:class:`Ledger` and :class:`EventLog`) and pin:

* a work queue hands out items by rank, then arrival, skipping items no longer
  waiting, and wakes the idle worker who has waited longest when work arrives;
* a worker's productivity ramps linearly from ``ramp_start`` to 1 over
  ``ramp_hours``, and an item takes ``remaining / (speed * productivity)`` hours;
* ``finish`` is called with the item and the worker's name, ``book`` with the busy
  stretch, ``on_idle`` on running out of work and on being woken;
* blocked time counts only while a developer is idle *and* delegated work waits on
  a gate (``gate``/``ungate``), never for support people;
* ``role_overhead`` mixes engineer and contractor overhead, and ``metrics`` gives
  busy and blocked shares and the team's cost on a hand-checked case.
"""

from __future__ import annotations

import pytest
import simpy

from flowsim.model.clock import at
from flowsim.model.entities import Item
from flowsim.model.eventlog import EventLog
from flowsim.model.ledger import Ledger
from flowsim.model.recorder import Window
from flowsim.model.team import RANK_TASK, RANK_TICKET, Team, TeamAtWork, Worker, WorkQueue


def item(id: int, arrived: float, effort: float = 1.0, kind: str = "task") -> Item:
    """An item numbered ``id`` that arrived at ``arrived``, made as the model makes them."""
    ledger = Ledger(simpy.Environment(initial_time=arrived), EventLog(False))
    ledger.created = id
    return ledger.new(kind, None, effort)


class Stubs:
    """A worker's callbacks, recording what they were called with."""

    def __init__(self, env: simpy.Environment) -> None:
        self.env = env
        self.idle: list[tuple[str, bool, float]] = []
        self.booked: list[tuple[str, float, float]] = []
        self.finished: list[tuple[int, str, float]] = []

    def on_idle(self, worker: Worker, idle: bool) -> None:
        self.idle.append((worker.name, idle, self.env.now))

    def book(self, role: str, t0: float, t1: float) -> None:
        self.booked.append((role, t0, t1))

    def finish(self, item: Item, name: str) -> None:
        self.finished.append((item.id, name, self.env.now))


def worker(
    env: simpy.Environment,
    queue: WorkQueue,
    stubs: Stubs,
    name: str = "contractor1",
    joined: float = 0.0,
    speed: float = 1.0,
    ramp_start: float = 1.0,
    ramp_hours: float = 0.0,
) -> Worker:
    log = EventLog(True)
    return Worker(
        env,
        name.rstrip("0123456789"),
        name,
        [queue],
        joined,
        speed,
        ramp_start,
        ramp_hours,
        Ledger(env, log),
        log,
        stubs.on_idle,
        stubs.book,
        stubs.finish,
    )


# ---------------------------------------------------------------- the queue
def test_work_queue_hands_out_by_rank_then_arrival() -> None:
    q = WorkQueue()
    q.put(item(0, 5.0), RANK_TASK)
    q.put(item(1, 9.0), RANK_TICKET)
    q.put(item(2, 1.0), RANK_TASK)
    q.put(item(3, 2.0), RANK_TICKET)
    q.put(item(4, 1.0), RANK_TASK)  # ties with item 2: the one put first
    assert len(q) == 5
    assert [q.get().id for _ in range(5)] == [3, 1, 2, 4, 0]  # type: ignore[union-attr]
    assert q.get() is None


def test_work_queue_skips_items_no_longer_waiting() -> None:
    q = WorkQueue()
    items = [item(i, float(i)) for i in range(3)]
    for it in items:
        q.put(it, RANK_TASK)
    items[0].state = "dropped"  # its customer churned
    items[1].state = "done"  # triaged away meanwhile
    assert q.get() is items[2]
    assert q.get() is None


def test_idle_workers_wake_when_work_arrives_longest_idle_first() -> None:
    env = simpy.Environment()
    q = WorkQueue()
    stubs = Stubs(env)
    first = worker(env, q, stubs, "contractor1")
    env.run(until=1.0)
    worker(env, q, stubs, "contractor2")
    env.run(until=2.0)
    assert [w.name for w in q.idle] == [first.name, "contractor2"]
    at(env, 3.0, lambda: q.put(item(0, 3.0, effort=2.0), RANK_TASK))
    at(env, 4.0, lambda: q.put(item(1, 4.0, effort=2.0), RANK_TASK))
    env.run(until=10.0)
    assert stubs.finished == [(0, "contractor1", 5.0), (1, "contractor2", 6.0)]
    assert stubs.idle == [
        ("contractor1", True, 0.0),
        ("contractor2", True, 1.0),
        ("contractor1", False, 3.0),
        ("contractor2", False, 4.0),
        ("contractor1", True, 5.0),
        ("contractor2", True, 6.0),
    ]


def test_a_busy_worker_takes_queued_work_when_done_without_idling() -> None:
    env = simpy.Environment()
    q = WorkQueue()
    stubs = Stubs(env)
    q.put(item(0, 0.0, effort=2.0), RANK_TASK)
    q.put(item(1, 0.0, effort=1.0, kind="ticket"), RANK_TICKET)
    worker(env, q, stubs, "engineer1", speed=0.5)
    env.run(until=20.0)
    # Speed 0.5: the 1-hour ticket takes 2 clock hours, then the 2-hour task 4.
    assert stubs.finished == [(1, "engineer1", 2.0), (0, "engineer1", 6.0)]
    assert stubs.booked == [("engineer", 0.0, 2.0), ("engineer", 2.0, 6.0)]
    assert stubs.idle == [("engineer1", True, 6.0)]


# ---------------------------------------------------------------- a worker
def test_a_ramping_hire_goes_from_ramp_start_to_full_productivity() -> None:
    env = simpy.Environment()
    w = worker(env, WorkQueue(), Stubs(env), joined=10.0, ramp_start=0.25, ramp_hours=100.0)
    assert w.productivity(10.0) == 0.25
    assert w.productivity(60.0) == pytest.approx(0.625)
    assert w.productivity(110.0) == 1.0
    assert w.productivity(500.0) == 1.0
    assert w.ramping(109.0) and not w.ramping(110.0)
    full = worker(env, WorkQueue(), Stubs(env), ramp_start=0.25, ramp_hours=0.0)
    assert full.productivity(0.0) == 1.0 and not full.ramping(0.0)


def test_an_item_takes_effort_over_speed_times_productivity_at_its_start() -> None:
    env = simpy.Environment()
    q = WorkQueue()
    stubs = Stubs(env)
    worker(env, q, stubs, "engineer1", joined=0.0, speed=2.0, ramp_start=0.2, ramp_hours=10.0)
    at(env, 5.0, lambda: q.put(item(7, 5.0, effort=3.0), RANK_TASK))
    env.run(until=20.0)
    # At 5 h he is at 0.2 + 0.8 * 0.5 = 0.6: 3 / (2 * 0.6) = 2.5 clock hours.
    assert stubs.finished == [(7, "engineer1", pytest.approx(7.5))]
    assert stubs.booked == [("engineer", 5.0, pytest.approx(7.5))]


def test_a_worker_logs_its_start_under_its_name_and_leaves_the_end_to_finish() -> None:
    env = simpy.Environment()
    q = WorkQueue()
    stubs = Stubs(env)
    w = worker(env, q, stubs, "support1")
    task = item(0, 0.0, effort=1.0)
    q.put(task, RANK_TICKET)
    seen: list[tuple[str, int | None]] = []
    at(env, 0.5, lambda: seen.append((task.state, None if w.item is None else w.item.id)))
    env.run(until=3.0)
    assert seen == [("active", 0)]
    # ``finish`` decides what the end means (completion, or a review first).
    assert stubs.finished == [(0, "support1", 1.0)]
    assert task.remaining == 0.0 and task.state == "active" and w.item is None
    df = w.log.frame(8.0)
    assert df[["entity", "event", "actor"]].astype(str).values.tolist() == [
        ["0", "start", "support1"]
    ]


def test_split_segment_books_busy_time_up_to_now_and_carries_on() -> None:
    env = simpy.Environment()
    q = WorkQueue()
    stubs = Stubs(env)
    w = worker(env, q, stubs)
    q.put(item(0, 0.0, effort=4.0), RANK_TASK)
    at(env, 1.5, w.split_segment)
    env.run(until=10.0)
    assert stubs.booked == [("contractor", 0.0, 1.5), ("contractor", 1.5, 4.0)]
    w.split_segment()  # idle: nothing to book
    assert len(stubs.booked) == 2


# ---------------------------------------------------------------- the team
def team_at_work(
    config: Team | None = None, week: float = 40.0
) -> tuple[simpy.Environment, TeamAtWork]:
    env = simpy.Environment()
    log = EventLog(True)
    return env, TeamAtWork(env, config or Team(), week, Ledger(env, log), log)


def test_add_names_members_by_role_and_logs_them_joining() -> None:
    env, team = team_at_work(Team(hours_per_week=30), week=40.0)
    names = [team.add(role).name for role in ("contractor", "engineer", "contractor", "support")]
    assert names == ["contractor1", "engineer1", "contractor2", "support1"]
    assert [w.speed for w in team.workers] == [0.75] * 4
    assert team.n_dev.value == 3 and team.n_support == 1
    assert team.has_dev and team.has_support
    dev_queues = [team.dev_queue, team.support_queue]
    support_queues = [team.triage_queue, team.support_queue]
    assert [w.queues for w in team.workers] == [dev_queues] * 3 + [support_queues]
    df = team.log.frame(8.0)
    assert df[["entity", "kind", "event", "actor", "customer"]].astype(str).values.tolist() == [
        ["-1", "contractor", "joined", "contractor1", "-1"],
        ["-1", "engineer", "joined", "engineer1", "-1"],
        ["-1", "contractor", "joined", "contractor2", "-1"],
        ["-1", "support", "joined", "support1", "-1"],
    ]


def test_team_finish_defaults_to_completion_in_the_ledger_under_the_workers_name() -> None:
    env, team = team_at_work()
    team.add("contractor")
    task = team.ledger.new("task", None, 2.0)
    done: list[tuple[int, str, float]] = []
    team.ledger.on_done["task"] = lambda it, actor: done.append((it.id, actor, env.now))
    team.dev_queue.put(task, RANK_TASK)
    env.run(until=5.0)
    assert done == [(task.id, "contractor1", 2.0)]
    assert task.state == "done"


def test_role_overhead_mixes_engineer_and_contractor_overhead() -> None:
    _, team = team_at_work(Team(engineer_overhead_factor=0.5))
    assert team.role_overhead() is None
    team.add("support")
    assert team.role_overhead() is None  # support people take no delegated tasks
    team.add("contractor")
    assert team.role_overhead() == 1.0
    team.add("engineer")
    assert team.role_overhead() == 0.75
    team.add("engineer")
    assert team.role_overhead() == pytest.approx((1.0 + 0.5 + 0.5) / 3)


def test_blocked_only_while_a_developer_is_idle_and_work_waits_on_a_gate() -> None:
    env, team = team_at_work()
    team.add("contractor")
    team.add("support")  # an idle support person is never "blocked"
    trace: list[tuple[float, float]] = []

    def look() -> None:
        trace.append((env.now, team.blocked.value))

    at(env, 0.5, look)  # idle, nothing gated: waiting for work, not blocked
    at(env, 1.0, team.gate)  # a delegated task waits on the lead's spec
    at(env, 1.0, look)
    task = team.ledger.new("task", None, 2.0)
    at(env, 2.0, lambda: team.dev_queue.put(task, RANK_TASK))  # busy 2-4
    at(env, 3.0, look)  # busy: not blocked, gate or not
    at(env, 4.5, look)  # idle again, still gated
    at(env, 5.0, team.ungate)
    at(env, 5.0, look)
    env.run(until=6.0)
    assert trace == [(0.5, 0.0), (1.0, 1.0), (3.0, 0.0), (4.5, 1.0), (5.0, 0.0)]
    assert team.idle_dev.value == 1  # the support person is not counted


def test_blocked_is_the_smaller_of_idle_developers_and_gated_items() -> None:
    env, team = team_at_work()
    for _ in range(3):
        team.add("contractor")
    env.run(until=1.0)
    team.gate()
    assert team.blocked.value == 1  # one gated item blocks one of three idle developers
    team.gate()
    team.gate()
    team.gate()
    assert team.blocked.value == 3  # four gated items, but only three developers
    team.ungate()
    team.ungate()
    assert team.blocked.value == 2


def test_metrics_busy_and_blocked_shares_and_cost_on_a_hand_checked_case() -> None:
    """Speed 1, a year of 100 clock hours, window [2, 10] after a snapshot at 2.

    t=0 two contractors join (idle); t=1 a 3-hour task (busy 1-4); t=2 warm-up ends
    and a task waits on a gate; t=5 an engineer joins (idle); t=6 the gate opens.
    In the window: developer-hours 2*3 + 3*5 = 21; busy 2 (2-4); blocked: one idle
    developer against one gated item over 2-6 = 4; cost: the lead 150,000 * 8/100,
    two contractors 2 * 80,000 * 8/100 and the engineer 110,000 * 5/100.
    """
    config = Team(
        hours_per_week=40,
        contractor_annual_cost=80_000,
        engineer_annual_cost=110_000,
        support_annual_cost=60_000,
    )
    env, team = team_at_work(config, week=40.0)
    team.add("contractor")
    team.add("contractor")
    task = team.ledger.new("task", None, 3.0)
    at(env, 1.0, lambda: team.dev_queue.put(task, RANK_TASK))
    at(env, 2.0, lambda: team.snapshot(env.now))
    at(env, 2.0, team.gate)
    at(env, 5.0, lambda: team.add("engineer"))
    at(env, 6.0, team.ungate)
    env.run(until=10.0)
    team.split_segments()
    m = team.metrics(Window(2.0, 10.0), year=100.0, lead_annual_cost=150_000)
    assert m["contractor_busy_share"] == pytest.approx(2 / 21)
    assert m["contractor_blocked_share"] == pytest.approx(4 / 21)
    assert m["team_cost"] == pytest.approx(12_000 + 12_800 + 5_500)
    assert team.book.in_window == {"contractor": pytest.approx(2.0)}
    assert team.book.total == {"contractor": pytest.approx(3.0)}


def test_metrics_without_developers_are_nan_and_cost_the_lead_and_support() -> None:
    env, team = team_at_work(Team(support_annual_cost=60_000))
    team.add("support")
    env.run(until=10.0)
    m = team.metrics(Window(0.0, 10.0), year=100.0, lead_annual_cost=100_000)
    assert m["contractor_busy_share"] != m["contractor_busy_share"]  # NaN
    assert m["contractor_blocked_share"] != m["contractor_blocked_share"]
    assert m["team_cost"] == pytest.approx(10_000 + 6_000)


def test_in_hand_counts_active_items_in_workers_hands() -> None:
    env, team = team_at_work()
    team.add("contractor")
    team.add("engineer")
    for i in range(3):
        team.dev_queue.put(team.ledger.new("task", None, 2.0 + i), RANK_TASK)
    seen: list[int] = []
    for t in (1.0, 3.0, 4.5, 8.0):
        at(env, t, lambda: seen.append(team.in_hand()))
    env.run(until=9.0)
    # Items of 2, 3 and 4 hours: both busy until 2, then 3; one busy 3-6; none after.
    assert seen == [2, 2, 1, 0]


def test_an_idle_developer_takes_a_ticket_that_needs_no_lead_access() -> None:
    """MODEL.md: contractors may take tickets that need no lead access when they have
    nothing else; delegated work still comes first."""
    env, team = team_at_work(Team(hours_per_week=40), week=40.0)
    done: list[tuple[int, str, float]] = []
    for kind in ("task", "ticket"):
        team.ledger.on_done[kind] = lambda it, actor: done.append((it.id, actor, env.now))
    team.add("contractor")
    ticket = team.ledger.new("ticket", None, 2.0, "normal")
    env.run(until=1.0)  # the contractor is idle, waiting on both queues
    team.support_queue.put(ticket, RANK_TICKET)
    task, later_ticket = team.ledger.new("task", None, 1.0), team.ledger.new("ticket", None, 1.0)
    env.run(until=1.5)
    team.support_queue.put(later_ticket, RANK_TICKET)
    team.dev_queue.put(task, RANK_TASK)
    env.run(until=10.0)
    assert done == [
        (ticket.id, "contractor1", 3.0),
        (task.id, "contractor1", 4.0),
        (later_ticket.id, "contractor1", 5.0),
    ]
    assert all(q.idle.count(team.workers[0]) == 1 for q in (team.dev_queue, team.support_queue))


def test_support_screens_interrupts_before_taking_tickets() -> None:
    env, team = team_at_work()
    done: list[int] = []
    for kind in ("ticket", "triage"):
        team.ledger.on_done[kind] = lambda it, actor: done.append(it.id)
    ticket, triage = team.ledger.new("ticket", None, 1.0), team.ledger.new("triage", None, 0.1)
    team.support_queue.put(ticket, RANK_TICKET)
    team.triage_queue.put(triage, RANK_TICKET)
    team.add("support")
    env.run(until=5.0)
    assert done == [triage.id, ticket.id]
