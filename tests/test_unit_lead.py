"""Unit tests of :class:`flowsim.model.lead.LeadEngineer`, built alone.

The lead is the bottleneck of MODEL.md: where his week goes is the question the
model answers, so his work loop must spend time exactly as documented.  Each test
builds him on a bare ``simpy.Environment`` with a real backlog, :class:`Ledger` and
:class:`EventLog`, feeds him items by hand and reads the clock times at which they
start and end.  Pinned here:

* an item assigned while he is idle starts at once and is done ``effort / speed``
  clock hours later;
* an interrupt preempts backlog work, is handled first (interrupts in arrival
  order), then he pays the resume cost once, booked as ``switching``, before going
  back to his started work, which keeps the progress it had;
* scheduled kinds (call, mentoring, platform) jump to the front of the interrupt
  queue;
* context-switching efficiency slows backlog work with several items started and
  books the lost share as ``switching``; a WIP limit makes him finish started work
  before he starts more;
* his hours by activity add up to the elapsed clock time times his speed, over the
  whole run and over the window after a warm-up snapshot (a hypothesis property);
* ``compact_interrupts`` drops dead items in place and keeps the order;
* ``size.window_mean`` (his mean backlog) equals a hand-computed time-weighted mean.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from flowsim.model.backlog import Prioritisation, make_backlog
from flowsim.model.clock import at
from flowsim.model.entities import Item
from flowsim.model.eventlog import EventLog
from flowsim.model.lead import LeadEngineer
from flowsim.model.ledger import Ledger
from flowsim.model.recorder import Window


class Bench:
    """A lead on a bare environment, with a record of what he finished and when."""

    def __init__(
        self,
        policy: str = "fifo",
        speed: float = 1.0,
        efficiency: list[float] | None = None,
        resume_cost: float = 0.0,
        wip_limit: int | None = None,
        window: float = 40.0,
    ) -> None:
        self.env = env = simpy.Environment()
        self.log = EventLog(True)
        self.ledger = Ledger(env, self.log)
        self.lead = LeadEngineer(
            env,
            speed,
            make_backlog(Prioritisation(policy=policy, list_order="oldest")),
            efficiency or [1.0],
            window,
            resume_cost,
            wip_limit,
            self.ledger,
            self.log,
        )
        self.done: list[tuple[int, float]] = []
        record = self._record
        for kind in ("task", "ticket", "ping", "call", "mentoring", "platform", "escalation"):
            self.ledger.on_done[kind] = record

    def _record(self, item: Item, actor: str) -> None:
        assert actor == "lead"
        self.done.append((item.id, self.env.now))

    def new(self, kind: str = "task", effort: float = 1.0, cls: str = "") -> Item:
        return self.ledger.new(kind, None, effort, cls)

    def at(self, t: float, fn: Callable[[], Any]) -> None:
        at(self.env, t, fn)

    def run(self, until: float) -> None:
        self.env.run(until=until)
        self.lead.end_segment()

    def starts(self) -> list[tuple[int, float]]:
        """(item, time) of each ``start`` row, in log order."""
        df = self.log.frame(8.0)
        df = df[df["event"] == "start"]
        return list(zip(df["entity"].tolist(), df["time"].tolist(), strict=True))

    def hours(self) -> dict[str, float]:
        return {k: v for k, v in self.lead.book.total.items() if v}


# ---------------------------------------------------------------- backlog work
def test_an_item_assigned_while_idle_starts_at_once_and_takes_effort_over_speed() -> None:
    bench = Bench(speed=1.5)
    a = bench.new("task", 3.0)
    b = bench.new("ticket", 6.0)
    bench.at(1.0, lambda: bench.lead.assign(a))
    bench.at(10.0, lambda: bench.lead.assign(b))
    bench.run(20.0)
    assert bench.starts() == [(a.id, 1.0), (b.id, 10.0)]
    assert bench.done == [(a.id, pytest.approx(3.0)), (b.id, pytest.approx(14.0))]
    assert a.remaining == b.remaining == 0.0
    # His hours: the items' efforts, and idle time at his speed.
    assert bench.hours() == pytest.approx(
        {"onboarding": 3.0, "tickets": 6.0, "idle": (20.0 - 2.0 - 4.0) * 1.5}
    )


def test_backlog_items_are_worked_one_after_another_in_policy_order() -> None:
    bench = Bench(policy="urgent_first")
    items = [bench.new("task", 2.0), bench.new("task", 1.0), bench.new("task", 1.0, "urgent")]
    for item in items:
        bench.lead.assign(item)
    bench.run(10.0)
    # All three were waiting when he first looked: urgent first, then by arrival.
    assert bench.done == [(2, 1.0), (0, 3.0), (1, 4.0)]
    assert len(bench.lead.backlog) == 0 and bench.lead.backlog.n_started == 0


# ---------------------------------------------------------------- interrupts
def test_an_interrupt_preempts_then_he_pays_the_resume_cost_once() -> None:
    bench = Bench(resume_cost=0.5)
    task = bench.new("task", 10.0)
    pings = [bench.new("ping", 1.0), bench.new("ping", 0.5)]
    bench.lead.assign(task)
    bench.at(2.0, lambda: [bench.lead.interrupt(p) for p in pings])
    bench.run(20.0)
    # Pings 2-3 and 3-3.5 (in arrival order), one resume 3.5-4, then the 8 hours left.
    assert bench.done == [(1, 3.0), (2, 3.5), (0, pytest.approx(12.0))]
    assert bench.starts() == [(0, 0.0), (1, 2.0), (2, 3.0), (0, 4.0)]
    df = bench.log.frame(8.0)
    assert df[df["event"] == "preempt"][["entity", "time"]].values.tolist() == [[0, 2.0]]
    # Put down at 2: what a stale ticket is judged from (untouched since then).
    assert task.untouched_since == 2.0 and pings[0].untouched_since == 0.0
    assert bench.hours() == pytest.approx(
        {"onboarding": 10.0, "tickets": 1.5, "switching": 0.5, "idle": 8.0}
    )


def test_an_interrupt_while_idle_costs_no_resume() -> None:
    bench = Bench(resume_cost=0.5)
    ping = bench.new("ping", 1.0)
    task = bench.new("task", 1.0)
    bench.at(1.0, lambda: bench.lead.interrupt(ping))
    bench.at(1.5, lambda: bench.lead.assign(task))
    bench.run(5.0)
    # Nothing was started when the ping came: no work to get back into.
    assert bench.done == [(0, 2.0), (1, 3.0)]
    assert "switching" not in bench.hours()


def test_an_interrupt_waits_for_the_one_in_hand() -> None:
    bench = Bench()
    first, second = bench.new("escalation", 2.0), bench.new("ping", 1.0)
    bench.lead.interrupt(first)
    bench.at(1.0, lambda: bench.lead.interrupt(second))
    bench.run(5.0)
    assert bench.done == [(0, 2.0), (1, 3.0)]
    assert bench.hours() == {"escalations": 2.0, "tickets": 1.0, "idle": 2.0}


@pytest.mark.parametrize("kind", ["call", "mentoring", "platform"])
def test_scheduled_kinds_jump_to_the_front_of_the_interrupt_queue(kind: str) -> None:
    bench = Bench()
    busy = bench.new("escalation", 2.0)
    fires = [bench.new("ping", 1.0), bench.new("ping", 1.0)]
    meeting = bench.new(kind, 1.0)
    bench.lead.interrupt(busy)

    def arrive() -> None:
        for fire in fires:
            bench.lead.interrupt(fire)
        bench.lead.interrupt(meeting)

    bench.at(1.0, arrive)
    bench.run(10.0)
    # The meeting happens after the interrupt in hand, ahead of the queued fires.
    assert [i for i, _ in bench.done] == [busy.id, meeting.id, fires[0].id, fires[1].id]
    assert bench.done[1][1] == 3.0


def test_a_dropped_interrupt_is_skipped() -> None:
    bench = Bench()
    busy, gone, next_ = bench.new("ping", 1.0), bench.new("ping", 1.0), bench.new("ping", 1.0)
    for item in (busy, gone, next_):
        bench.lead.interrupt(item)
    bench.at(0.5, lambda: bench.ledger.drop(gone, "churned"))
    bench.run(5.0)
    assert bench.done == [(busy.id, 1.0), (next_.id, 2.0)]


# ---------------------------------------------------------------- switching and WIP
def preempt_then_urgent(bench: Bench) -> tuple[Item, Item]:
    """A started task (10 h) preempted at 2 by a 1-hour ping, while an urgent task (4 h)
    joins the backlog: back at 3 he may start the urgent one (a second started item)."""
    task, ping, fire = bench.new("task", 10.0), bench.new("ping", 1.0), bench.new("task", 4.0)
    fire.urgent = True
    bench.lead.assign(task)

    def arrive() -> None:
        bench.lead.assign(fire)
        bench.lead.interrupt(ping)

    bench.at(2.0, arrive)
    return task, fire


def test_context_switching_slows_backlog_and_urgent_work_and_books_the_lost_share() -> None:
    bench = Bench(policy="urgent_first", efficiency=[1.0, 0.5])
    task, fire = preempt_then_urgent(bench)
    seen: list[float] = []
    bench.at(5.0, lambda: seen.append(bench.lead.efficiency_now()))
    bench.run(30.0)
    # The ping, with the task still open, is a second item: its hour takes two (2-4),
    # urgent work pays the switching cost too.  The 4-hour fire is again a second item
    # (4-12); the task, alone again, does its last 8 hours at full efficiency (12-20).
    assert seen == [0.5]
    assert bench.done == [(1, 4.0), (fire.id, 12.0), (task.id, 20.0)]
    assert bench.hours() == pytest.approx(
        {"onboarding": 14.0, "tickets": 1.0, "switching": 5.0, "idle": 10.0}
    )


def test_meetings_do_not_pay_the_switching_cost() -> None:
    bench = Bench(efficiency=[1.0, 0.5])
    task, call = bench.new("task", 10.0), bench.new("call", 1.0)
    bench.lead.assign(task)
    bench.at(2.0, lambda: bench.lead.interrupt(call))
    bench.run(12.0)
    assert bench.done == [(call.id, 3.0), (task.id, 11.0)]


def test_efficiency_beyond_the_table_stays_at_its_last_value() -> None:
    bench = Bench(policy="urgent_first", efficiency=[1.0, 0.8, 0.6])
    lead = bench.lead
    efficiencies = [lead.efficiency_now()]
    for item in [bench.new("task", 1.0) for _ in range(5)]:
        lead._touch(item, 0.0)
        efficiencies.append(lead.efficiency_now())
    assert efficiencies == [1.0, 1.0, 0.8, 0.6, 0.6, 0.6]


def test_an_item_not_touched_within_the_window_is_parked_and_costs_nothing() -> None:
    bench = Bench(policy="urgent_first", efficiency=[1.0, 0.5], window=8.0)
    old, new = bench.new("task", 1.0), bench.new("task", 1.0)
    bench.lead._touch(old, 0.0)
    bench.at(9.0, lambda: None)
    bench.run(9.0)
    assert bench.lead._touch(new, 9.0) == 1  # the old one was last touched 9 h ago
    assert bench.lead.efficiency_now() == 1.0


def test_a_wip_limit_makes_him_finish_started_work_first() -> None:
    bench = Bench(policy="urgent_first", wip_limit=1)
    task, fire = preempt_then_urgent(bench)
    bench.run(30.0)
    # One item started already: back at 3 he resumes the task (8 h left), then the fire.
    assert bench.done == [(1, 3.0), (task.id, 11.0), (fire.id, 15.0)]
    assert bench.lead.backlog.n_started == 0


def test_without_a_wip_limit_the_urgent_item_is_started_alongside() -> None:
    bench = Bench(policy="urgent_first")
    task, fire = preempt_then_urgent(bench)
    bench.run(30.0)
    assert bench.done == [(1, 3.0), (fire.id, 7.0), (task.id, 15.0)]


# ---------------------------------------------------------------- his hours add up
EVENTS = st.lists(
    st.tuples(
        st.floats(0.0, 30.0),
        st.sampled_from(["assign", "urgent", "interrupt", "call", "drop"]),
        st.floats(0.1, 6.0),
    ),
    max_size=25,
)


@settings(max_examples=60, deadline=None)
@given(
    events=EVENTS,
    speed=st.sampled_from([0.5, 1.0, 1.125]),
    policy=st.sampled_from(["fifo", "urgent_first", "classes_of_service"]),
    eff=st.sampled_from([[1.0], [1.0, 0.8, 0.6, 0.4, 0.25]]),
    resume=st.sampled_from([0.0, 0.25]),
    wip=st.sampled_from([None, 1, 2]),
    warmup=st.floats(0.0, 30.0),
)
def test_his_hours_by_activity_add_up_to_the_clock_times_his_speed(
    events: list[tuple[float, str, float]],
    speed: float,
    policy: str,
    eff: list[float],
    resume: float,
    wip: int | None,
    warmup: float,
) -> None:
    horizon = 40.0
    bench = Bench(policy=policy, speed=speed, efficiency=eff, resume_cost=resume, wip_limit=wip)
    lead = bench.lead
    bench.ledger.on_drop.append(lead.discard)
    assigned: list[Item] = []

    def event(what: str, effort: float) -> None:
        if what == "drop":
            if assigned:
                bench.ledger.drop(assigned[-1], "churned")
            return
        kind = {"interrupt": "ping", "call": "call"}.get(what, "task")
        item = bench.new(kind, effort, "urgent" if what == "urgent" else "")
        if what in ("assign", "urgent"):
            lead.assign(item)
            assigned.append(item)
        else:
            lead.interrupt(item)

    for t, what, effort in sorted(events, key=lambda e: e[0]):
        bench.at(t, lambda what=what, effort=effort: event(what, effort))

    def end_warmup() -> None:
        lead.split_segment()
        lead.book.snapshot()

    bench.at(warmup, end_warmup)
    bench.run(horizon)
    assert sum(lead.book.total.values()) == pytest.approx(horizon * speed, rel=1e-9)
    in_window = lead.book.in_window
    assert sum(in_window.values()) == pytest.approx((horizon - warmup) * speed, abs=1e-9)
    assert all(v >= -1e-9 for v in in_window.values())
    if wip is not None:
        assert lead.backlog.n_started <= wip
    # What his metrics report per week is the same book.
    m = lead.metrics(Window(warmup, horizon), weeks=1.0)
    assert sum(m[f"lead_{a}_hours_per_week"] for a in in_window) == pytest.approx(
        sum(in_window.values()), abs=1e-9
    )


# ---------------------------------------------------------------- housekeeping
def test_compact_interrupts_drops_dead_items_in_place_and_keeps_order() -> None:
    bench = Bench()
    lead = bench.lead
    busy = bench.new("escalation", 100.0)
    lead.interrupt(busy)
    bench.run(1.0)  # he is handling ``busy``: the others queue behind it
    queued = [bench.new("ping", 0.25) for _ in range(100)]
    for item in queued:
        lead.interrupt(item)
    for item in queued[::3]:
        bench.ledger.drop(item, "churned")  # their customers left
    queue = lead.interrupts
    lead.compact_interrupts()
    live = [i for i in queued if i.state == "waiting"]
    assert lead.interrupts is queue  # the work loop holds this very deque
    assert list(queue) == live
    assert lead.interrupts_scanned == len(live)
    # New interrupts go to the queue the work loop reads, after the live ones.
    late = bench.new("ping", 0.25)
    lead.interrupt(late)
    bench.run(200.0)
    assert [i for i, _ in bench.done] == [busy.id, *(i.id for i in live), late.id]


def test_compact_interrupts_scans_only_once_the_queue_has_doubled() -> None:
    bench = Bench()
    lead = bench.lead
    lead.interrupt(bench.new("escalation", 100.0))
    bench.run(1.0)
    queued = [bench.new("ping", 0.25) for _ in range(64)]
    for item in queued:
        lead.interrupt(item)
    bench.ledger.drop(queued[0], "churned")
    lead.compact_interrupts()
    # At most 64 queued: not worth a scan yet (the dead item is skipped when reached).
    assert len(lead.interrupts) == 64 and lead.interrupts_scanned == 0
    lead.interrupt(bench.new("ping", 0.25))
    lead.compact_interrupts()
    assert len(lead.interrupts) == 64 and lead.interrupts_scanned == 64


def test_backlog_size_window_mean_is_the_time_weighted_mean() -> None:
    bench = Bench()
    lead = bench.lead
    bench.ledger.on_drop.append(lead.discard)
    a, b, c = bench.new("task", 2.0), bench.new("task", 3.0), bench.new("task", 1.0)
    lead.assign(a)  # 0: size 1
    bench.at(1.0, lambda: lead.assign(b))  # size 2
    bench.at(1.5, lambda: lead.assign(c))  # size 3
    bench.at(1.75, lambda: bench.ledger.drop(c, "churned"))  # size 2 (c never started)
    bench.run(10.0)  # a done at 2 (size 1), b done at 5 (size 0)
    assert bench.done == [(a.id, 2.0), (b.id, 5.0)]
    area = 1 * 1.0 + 2 * 0.5 + 3 * 0.25 + 2 * 0.25 + 1 * 3.0
    assert lead.size.window_mean(0.0, 10.0) == pytest.approx(area / 10.0)
    # After a warm-up of 1 hour (the window ends with the run, as in every run).
    after_1 = 2 * 0.5 + 3 * 0.25 + 2 * 0.25 + 1 * 3.0
    assert lead.size.window_mean(1.0, 10.0) == pytest.approx(after_1 / 9.0)
    m = lead.metrics(Window(1.0, 10.0), 1.0)
    assert m["lead_backlog_mean"] == pytest.approx(after_1 / 9.0)


def test_in_hand_counts_the_item_he_is_working_on() -> None:
    bench = Bench()
    lead = bench.lead
    task, ping = bench.new("task", 4.0), bench.new("ping", 1.0)
    lead.assign(task)
    seen: list[int] = []
    bench.at(1.0, lambda: seen.append(lead.in_hand()))
    bench.at(1.0, lambda: lead.interrupt(ping))
    bench.at(1.5, lambda: seen.append(lead.in_hand()))  # the ping, not the preempted task
    bench.at(4.5, lambda: seen.append(lead.in_hand()))
    bench.at(6.0, lambda: seen.append(lead.in_hand()))
    bench.run(7.0)
    assert seen == [1, 1, 1, 0]
    assert task.state == "done"
