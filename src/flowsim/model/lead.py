"""The lead engineer: one long-lived process working his backlog, preemptible by interrupts."""

from __future__ import annotations

from collections import deque
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy

from flowsim.model.backlog import make_backlog
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
    of that time is booked as switching.  Every stretch of his time is one
    *segment* (activity, start, share on task), booked when it ends, so his hours
    by activity add up to his capacity over the run.
    """

    def __init__(self, company: Company) -> None:
        p = company.p
        self.c = company
        self.env = company.env
        self.speed = p.lead.capacity_hours_per_week / company.week
        self.book = HourBook(self.speed)
        self.backlog = make_backlog(p.lead.prioritisation)
        self.interrupts: deque[Item] = deque()
        self.wip_limit = p.lead.wip_limit
        cs = p.context_switching
        self.efficiency = list(cs.efficiency) if cs.enabled else [1.0]
        self.resume_cost = p.interrupts.resume_cost_hours if p.interrupts.enabled else 0.0
        self.current: Item | None = None
        self.preempting = False
        self.wake: simpy.Event | None = None
        self.needs_resume = False
        self.segment: tuple[str, float, float] | None = None
        self.proc = self.env.process(self.run())

    # -- arrivals ------------------------------------------------------------------
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
            self.wake.succeed()
            self.wake = None
        elif self.current is not None and not self.preempting:
            self.preempting = True
            self.proc.interrupt()

    # -- his time ------------------------------------------------------------------
    def efficiency_now(self) -> float:
        n = self.backlog.n_started
        eff = self.efficiency
        if n <= 1:
            return eff[0]
        return eff[n - 1] if n <= len(eff) else eff[-1]

    def end_segment(self) -> None:
        """Book the segment in progress up to now."""
        if self.segment is None:
            return
        activity, t0, share = self.segment
        now = self.env.now
        self.book.book(activity, t0, now, share)
        if share < 1.0:
            self.book.book("switching", t0, now, 1.0 - share)
        self.segment = None

    def split_segment(self) -> None:
        """Book up to now and carry on (at the warm-up boundary)."""
        if self.segment is not None:
            activity, _, share = self.segment
            self.end_segment()
            self.segment = (activity, self.env.now, share)

    # -- the work loop -------------------------------------------------------------
    def run(self) -> Generator[simpy.Event, Any, None]:
        env = self.env
        c = self.c
        backlog = self.backlog
        rows = c.log.rows
        logging = c.log.enabled
        counts = c.state_counts
        interrupts = self.interrupts
        speed = self.speed
        hours = self.book.total
        efficiency = self.efficiency
        n_eff = len(efficiency)
        level = c.lead_backlog_level
        items = backlog.items
        # The backlog path below is the hot loop of every run: it books hours and
        # levels inline rather than through helpers, for speed.
        while True:
            if interrupts:
                item = interrupts.popleft()
                if item.state != "waiting":
                    continue  # dropped while queued (its customer left)
                yield from self._uninterrupted(item, ACTIVITY[item.kind], item.remaining)
                item.remaining = 0.0
                c.complete(item, "lead")
                self.needs_resume = True
                continue
            if self.needs_resume:
                self.needs_resume = False
                if backlog.n_started and self.resume_cost > 0:
                    yield from self._uninterrupted(None, "switching", self.resume_cost)
                    continue
            wip_full = self.wip_limit is not None and backlog.n_started >= self.wip_limit
            taken = backlog.take(wip_full)
            if taken is None:
                self.segment = ("idle", env.now, 1.0)
                self.wake = env.event()
                yield self.wake
                self.end_segment()
                continue
            item = taken
            counts[item.state] -= 1
            counts["active"] += 1
            item.state = "active"
            t0 = env.now
            if logging:
                rows.append((t0, item.id, item.kind, "start", "lead", item.customer_id))
            n = backlog.n_started
            eff = efficiency[0] if n <= 1 else efficiency[n - 1 if n <= n_eff else -1]
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
            now = env.now
            _, t_seg, _ = self.segment  # a warm-up split may have moved its start
            self.segment = None
            hours[activity] += (now - t_seg) * speed * eff
            if eff < 1.0:
                hours["switching"] += (now - t_seg) * speed * (1.0 - eff)
            if finished:
                item.remaining = 0.0
                backlog.remove(item)
                level.area += (now - level.since) * level.value
                level.since = now
                level.value = len(items)
                c.complete(item, "lead")
            else:
                worked = (env.now - t0) * speed * eff
                item.remaining = max(0.0, item.remaining - worked)
                counts["active"] -= 1
                counts["waiting"] += 1
                item.state = "waiting"
                backlog.put_back(item)
                if logging:
                    rows.append((env.now, item.id, item.kind, "preempt", "lead", item.customer_id))

    def _uninterrupted(
        self, item: Item | None, activity: str, hours: float
    ) -> Generator[simpy.Event, Any, None]:
        env = self.env
        if item is not None:
            self.c.set_state(item, "active")
            self.c.log.add(env.now, item.id, item.kind, "start", "lead", item.customer_id)
        self.segment = (activity, env.now, 1.0)
        yield env.timeout(hours / self.speed)
        self.end_segment()
