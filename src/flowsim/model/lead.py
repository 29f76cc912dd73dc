"""The lead engineer: one long-lived process working his backlog, preemptible by interrupts."""

from __future__ import annotations

from collections import deque
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy

from flowsim.model.backlog import Backlog
from flowsim.model.entities import ACTIVITY, SCHEDULED, Item
from flowsim.model.recorder import HourBook

if TYPE_CHECKING:
    from flowsim.model.company import Company


class Lead:
    """The bottleneck engineer.

    He handles interrupts first, in arrival order and without preemption among
    them; then pays one resume cost to get back into his started work; then works
    on the backlog item his prioritisation policy ranks first.  Backlog work runs
    at the context-switching efficiency of his number of started items; the rest
    of that time is booked as switching.
    """

    def __init__(self, company: Company) -> None:
        p = company.p
        self.c = company
        self.env = company.env
        self.speed = p.lead.capacity_hours_per_week / company.week
        self.book = HourBook(company.window, self.speed)
        self.backlog = Backlog(p.lead.prioritisation)
        self.interrupts: deque[Item] = deque()
        self.wip_limit = p.lead.wip_limit
        cs = p.context_switching
        self.efficiency = list(cs.efficiency) if cs.enabled else [1.0]
        self.resume_cost = p.interrupts.resume_cost_hours if p.interrupts.enabled else 0.0
        self.current: Item | None = None
        self.preempting = False
        self.wake: simpy.Event | None = None
        self.needs_resume = False
        # (activity, start, share) of the segment in progress, closed at the horizon.
        self.segment: tuple[str, float, float] | None = None
        self.proc = self.env.process(self.run())

    # -- arrivals ------------------------------------------------------------------
    def add(self, item: Item) -> None:
        """A backlog item arrives."""
        self.backlog.add(item)
        if self.wake is not None:
            self._wake()

    def interrupt(self, item: Item) -> None:
        """An item that preempts whatever backlog item he is working on.

        Scheduled meetings (calls, mentoring) go to the front: they happen at their
        time, after the interrupt in hand, not behind a queue of fires.
        """
        if item.kind in SCHEDULED:
            self.interrupts.appendleft(item)
        else:
            self.interrupts.append(item)
        if self.wake is not None:
            self._wake()
        elif self.current is not None and not self.preempting:
            self.preempting = True
            self.proc.interrupt()

    def _wake(self) -> None:
        assert self.wake is not None
        self.wake.succeed()
        self.wake = None

    # -- the work loop -------------------------------------------------------------
    def efficiency_now(self) -> float:
        n = self.backlog.n_started
        eff = self.efficiency
        if n <= 1:
            return eff[0]
        return eff[n - 1] if n <= len(eff) else eff[-1]

    def run(self) -> Generator[simpy.Event, Any, None]:
        env = self.env
        c = self.c
        backlog = self.backlog
        book = self.book.book
        log = c.log.add
        interrupts = self.interrupts
        speed = self.speed
        while True:
            if interrupts:
                item = interrupts.popleft()
                if item.state != "waiting":
                    continue  # dropped while queued (its customer left)
                yield from self._work_uninterrupted(item, ACTIVITY[item.kind])
                c.finish(item, "lead")
                self.needs_resume = True
                continue
            if self.needs_resume:
                self.needs_resume = False
                if backlog.n_started and self.resume_cost > 0:
                    yield from self._work_uninterrupted(None, "switching", self.resume_cost)
                    continue
            wip_full = self.wip_limit is not None and backlog.n_started >= self.wip_limit
            item = backlog.take(wip_full)
            if item is None:
                t0 = env.now
                self.segment = ("idle", t0, 1.0)
                self.wake = env.event()
                yield self.wake
                book("idle", t0, env.now)
                self.segment = None
                continue
            c.set_state(item, "active")
            t0 = env.now
            log(t0, item.id, item.kind, "start", "lead", item.customer_id)
            eff = self.efficiency_now()
            activity = ACTIVITY[item.kind]
            self.current = item
            self.segment = (activity, t0, eff)
            try:
                yield env.timeout(item.remaining / (speed * eff))
                finished = True
            except simpy.Interrupt:
                finished = False
                self.preempting = False
            self.current = None
            self.segment = None
            t1 = env.now
            book(activity, t0, t1, eff)
            if eff < 1.0:
                book("switching", t0, t1, 1.0 - eff)
            if finished:
                item.remaining = 0.0
                backlog.remove(item)
                c.lead_done()
                c.finish(item, "lead")
            else:
                item.remaining = max(0.0, item.remaining - (t1 - t0) * speed * eff)
                c.set_state(item, "waiting")
                backlog.put_back(item)
                log(t1, item.id, item.kind, "preempt", "lead", item.customer_id)

    def _work_uninterrupted(
        self, item: Item | None, activity: str, hours: float | None = None
    ) -> Generator[simpy.Event, Any, None]:
        env = self.env
        if item is not None:
            self.c.set_state(item, "active")
            self.c.log.add(env.now, item.id, item.kind, "start", "lead", item.customer_id)
            hours = item.remaining
        assert hours is not None
        t0 = env.now
        self.segment = (activity, t0, 1.0)
        yield env.timeout(hours / self.speed)
        self.segment = None
        self.book.book(activity, t0, env.now)
        if item is not None:
            item.remaining = 0.0

    def close(self, now: float) -> None:
        """Book the segment in progress at the end of the run."""
        if self.segment is not None:
            activity, t0, share = self.segment
            self.book.book(activity, t0, now, share)
            if share < 1.0:
                self.book.book("switching", t0, now, 1.0 - share)
            self.segment = None
