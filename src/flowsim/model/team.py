"""Contractors, engineers and support people: workers pulling from plain queues."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy

from flowsim.model.entities import Item

if TYPE_CHECKING:
    from flowsim.model.company import Company


class WorkQueue:
    """A priority queue of items with the idle workers waiting on it."""

    def __init__(self, env: simpy.Environment) -> None:
        self.env = env
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
    """One team member; new hires ramp up from ``ramp_start`` over ``ramp_weeks``."""

    def __init__(
        self,
        company: Company,
        role: str,
        name: str,
        queue: WorkQueue,
        joined: float,
        ramping: bool,
    ) -> None:
        self.c = company
        self.role = role
        self.name = name
        self.queue = queue
        self.joined = joined
        hiring = company.p.hiring
        self.ramp_start = hiring.ramp_start if ramping else 1.0
        self.ramp_hours = hiring.ramp_weeks * company.week if ramping else 0.0
        self.speed = company.p.team.hours_per_week / company.week
        self.env = company.env
        self.busy_since: float | None = None
        self._wake: simpy.Event | None = None
        self.proc = company.env.process(self.run())

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
            self.c.book_worker(self, self.busy_since, self.env.now)
            self.busy_since = self.env.now

    def wake(self) -> None:
        if self._wake is not None:
            self._wake.succeed()
            self._wake = None

    def run(self) -> Generator[simpy.Event, Any, None]:
        env = self.env
        while True:
            item = self.queue.get()
            if item is None:
                self.c.worker_idle(self, True)
                self._wake = env.event()
                self.queue.idle.append(self)
                yield self._wake
                self.c.worker_idle(self, False)
                continue
            self.c.set_state(item, "active")
            self.c.log.add(env.now, item.id, item.kind, "start", self.name, item.customer_id)
            self.busy_since = env.now
            yield env.timeout(item.remaining / (self.speed * self.productivity(env.now)))
            self.c.book_worker(self, self.busy_since, env.now)
            self.busy_since = None
            item.remaining = 0.0
            self.c.finish(item, self.name)
