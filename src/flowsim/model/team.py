"""Contractors, engineers and support people: workers pulling from plain queues."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Generator
from typing import Any

import simpy
from pydantic import Field

from flowsim.model.entities import Item
from flowsim.model.eventlog import EventLog
from flowsim.model.ledger import Ledger
from flowsim.model.recorder import HourBook, Level, Window
from flowsim.model.section import Section

RANK_TICKET = 0.0
RANK_TASK = 1.0
"""Ranks in a work queue: tickets before onboarding tasks, each by arrival."""


class Team(Section):
    """Contractors and engineers who take delegable work, gated by the lead."""

    contractors: int = Field(2, ge=0, description="Contractors at the start. Story: 2.")
    engineers: int = Field(0, ge=0, description="Employed engineers at the start (fully ramped).")
    support: int = Field(0, ge=0, description="Support people at the start.")
    hours_per_week: float = Field(40, gt=0, description="Hours each team member works per week.")
    spec_share: float = Field(
        0.2, ge=0, description="Lead hours to spec a delegated task, as a share of its effort."
    )
    review_share: float = Field(
        0.1, ge=0, description="Lead hours to review a delegated task, as a share of its effort."
    )
    rework_probability: float = Field(
        0.25, ge=0, lt=1, description="Chance a review sends the work back. Story: 25%."
    )
    rework_share: float = Field(
        0.3, gt=0, description="Effort of a rework round, as a share of the task's effort."
    )
    engineer_overhead_factor: float = Field(
        0.5,
        ge=0,
        description="Spec and review overhead for an employed engineer, relative to a contractor.",
    )
    contractor_annual_cost: float = Field(80_000, ge=0, description="Cost per contractor per year.")
    engineer_annual_cost: float = Field(110_000, ge=0, description="Cost per engineer per year.")
    support_annual_cost: float = Field(
        60_000, ge=0, description="Cost per support person per year."
    )


class WorkQueue:
    """A priority queue of items with the idle workers waiting on it."""

    def __init__(self) -> None:
        self.heap: list[tuple[float, float, int, Item]] = []
        self.idle: list[Worker] = []
        self._seq = itertools.count()

    def __len__(self) -> int:
        return len(self.heap)

    def put(self, item: Item, rank: float) -> None:
        heapq.heappush(self.heap, (rank, item.arrived, next(self._seq), item))
        if self.idle:
            self.idle.pop(0).wake()

    def get(self) -> Item | None:
        while self.heap:
            item = heapq.heappop(self.heap)[3]
            if item.state == "waiting":
                return item
        return None


class Worker:
    """One team member; new hires ramp up from ``ramp_start`` over ``ramp_hours``.

    Parameters
    ----------
    env : simpy.Environment
    role, name : str
    queues : list of WorkQueue
        Where the worker takes work from, in order: the first that has some.
    joined : float
        Clock hour the worker joined.
    speed : float
        Hours of work per clock hour at full productivity.
    ramp_start, ramp_hours : float
        Productivity on day one and clock hours to reach 1 (0: fully ramped).
    ledger : Ledger
    log : EventLog
    on_idle : callable
        Called with ``(worker, idle)`` when the worker runs out of work or gets some.
    book : callable
        Called with ``(role, t0, t1)`` for each stretch of busy time.
    finish : callable
        Called with ``(item, name)`` when the worker has done its step on an item.
    """

    def __init__(
        self,
        env: simpy.Environment,
        role: str,
        name: str,
        queues: list[WorkQueue],
        joined: float,
        speed: float,
        ramp_start: float,
        ramp_hours: float,
        ledger: Ledger,
        log: EventLog,
        on_idle: Callable[[Worker, bool], None],
        book: Callable[[str, float, float], None],
        finish: Callable[[Item, str], None],
    ) -> None:
        self.env = env
        self.role = role
        self.name = name
        self.queues = queues
        self.joined = joined
        self.speed = speed
        self.ramp_start = ramp_start
        self.ramp_hours = ramp_hours
        self.ledger = ledger
        self.log = log
        self.on_idle = on_idle
        self.book = book
        self.finish = finish
        self.busy_since: float | None = None
        self.item: Item | None = None  # the item in the worker's hands
        self._wake: simpy.Event | None = None
        self.proc = env.process(self.run())

    def productivity(self, now: float) -> float:
        if self.ramp_hours <= 0:
            return 1.0
        progress = min(1.0, (now - self.joined) / self.ramp_hours)
        return self.ramp_start + (1.0 - self.ramp_start) * progress

    def ramping(self, now: float) -> bool:
        return self.ramp_hours > 0 and now - self.joined < self.ramp_hours

    def split_segment(self) -> None:
        """Book busy time up to now (at the warm-up boundary and the end of the run)."""
        if self.busy_since is not None:
            self.book(self.role, self.busy_since, self.env.now)
            self.busy_since = self.env.now

    def wake(self) -> None:
        if self._wake is not None:
            self._wake.succeed()
            self._wake = None

    def _take(self) -> Item | None:
        for queue in self.queues:
            item = queue.get()
            if item is not None:
                return item
        return None

    def run(self) -> Generator[simpy.Event, Any, None]:
        env = self.env
        while True:
            item = self._take()
            if item is None:
                self.on_idle(self, True)
                self._wake = env.event()
                for queue in self.queues:
                    queue.idle.append(self)
                yield self._wake
                for queue in self.queues:  # woken by one of them: leave the others
                    if self in queue.idle:
                        queue.idle.remove(self)
                self.on_idle(self, False)
                continue
            item.state = "active"
            self.log.add(env.now, item.id, item.kind, "start", self.name)
            self.item = item
            self.busy_since = env.now
            yield env.timeout(item.remaining / (self.speed * self.productivity(env.now)))
            self.book(self.role, self.busy_since, env.now)
            self.busy_since = None
            self.item = None
            item.remaining = 0.0
            self.finish(item, self.name)


class TeamAtWork:
    """The team: its workers, their two queues, and how much of their time is blocked.

    Developers (contractors and engineers) take delegable work from ``dev_queue`` and,
    when there is none, tickets that need no lead access from ``support_queue``;
    support people screen interrupts first (``triage_queue``), then take those tickets.
    An idle developer counts as *blocked* while delegated work waits on the lead's spec or
    review
    (``gate``/``ungate`` count those).  ``finish`` is what happens when a worker has
    done its step on an item: completion, unless the onboarding mechanism puts a
    review in between.
    """

    events = ("start", "joined")

    def __init__(
        self, env: simpy.Environment, config: Team, week: float, ledger: Ledger, log: EventLog
    ) -> None:
        self.env = env
        self.config = config
        self.speed = config.hours_per_week / week
        self.ledger = ledger
        self.log = log
        self.dev_queue = WorkQueue()
        self.support_queue = WorkQueue()  # tickets that need no lead access
        self.triage_queue = WorkQueue()  # interrupts for a support person to screen
        self.workers: list[Worker] = []
        self.n_support = 0
        self.book = HourBook(1.0)
        self.n_dev = Level()
        self.idle_dev = Level()
        self.blocked = Level()
        self.n_gated = 0
        self.finish: Callable[[Item, str], None] = ledger.complete

    @property
    def has_dev(self) -> bool:
        return self.n_dev.value > 0

    @property
    def has_support(self) -> bool:
        return self.n_support > 0

    def add(self, role: str, ramp_start: float = 1.0, ramp_hours: float = 0.0) -> Worker:
        """A new team member (ramping up if ``ramp_hours`` > 0)."""
        now = self.env.now
        n = sum(1 for w in self.workers if w.role == role) + 1
        if role == "support":
            queues = [self.triage_queue, self.support_queue]
        else:
            queues = [self.dev_queue, self.support_queue]
        worker = Worker(
            self.env,
            role,
            f"{role}{n}",
            queues,
            now,
            self.speed,
            ramp_start,
            ramp_hours,
            self.ledger,
            self.log,
            self._idle,
            self._book,
            self.finish,
        )
        self.workers.append(worker)
        if role == "support":
            self.n_support += 1
        else:
            self.n_dev.add(now, 1)
        self.log.add(now, -1, role, "joined", worker.name)
        return worker

    def role_overhead(self) -> float | None:
        """Spec/review overhead of the developers' mix of roles (None without developers)."""
        devs = [w for w in self.workers if w.role != "support"]
        if not devs:
            return None
        f = self.config.engineer_overhead_factor
        return sum(f if w.role == "engineer" else 1.0 for w in devs) / len(devs)

    def gate(self) -> None:
        """A delegated item now waits on the lead's spec or review."""
        self.n_gated += 1
        self._update_blocked()

    def ungate(self) -> None:
        self.n_gated -= 1
        self._update_blocked()

    def _idle(self, worker: Worker, idle: bool) -> None:
        if worker.role != "support":
            self.idle_dev.add(self.env.now, 1 if idle else -1)
            self._update_blocked()

    def _book(self, role: str, t0: float, t1: float) -> None:
        self.book.book(role, t0, t1)

    def _update_blocked(self) -> None:
        # An idle developer is blocked when delegated work waits on the lead's spec or review.
        self.blocked.set(self.env.now, min(self.idle_dev.value, self.n_gated))

    def in_hand(self) -> int:
        """Items the team is working on right now."""
        return sum(1 for w in self.workers if w.item is not None and w.item.state == "active")

    def split_segments(self) -> None:
        for w in self.workers:
            w.split_segment()

    def snapshot(self, now: float) -> None:
        """Mark the window start in every accumulator."""
        self.split_segments()
        self.book.snapshot()
        for level in (self.n_dev, self.idle_dev, self.blocked):
            level.snapshot(now)

    def metrics(self, window: Window, year: float, lead_annual_cost: float) -> dict[str, float]:
        """Developers' busy and blocked shares, and the cost of the lead and the team."""
        w = window
        dev_hours = self.n_dev.window_mean(w.end) * (w.end - w.start)  # clock hours
        busy = sum(v for role, v in self.book.in_window.items() if role != "support")
        blocked = self.blocked.window_mean(w.end) * (w.end - w.start)
        cost_rate = {
            "contractor": self.config.contractor_annual_cost,
            "engineer": self.config.engineer_annual_cost,
            "support": self.config.support_annual_cost,
        }
        cost = lead_annual_cost * (w.end - w.start) / year
        for wk in self.workers:
            cost += cost_rate[wk.role] * w.overlap(wk.joined, w.end) / year
        nan = float("nan")
        return {
            "contractor_busy_share": busy / dev_hours if dev_hours > 0 else nan,
            "contractor_blocked_share": blocked / dev_hours if dev_hours > 0 else nan,
            "team_cost": cost,
        }
