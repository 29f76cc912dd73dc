"""The lead engineer: one long-lived process working his backlog, preemptible by interrupts."""

from __future__ import annotations

from collections import deque
from typing import Any

import simpy
from pydantic import Field
from simpy.events import Event

from flowsim.model.backlog import Backlog, FifoBacklog, Prioritisation
from flowsim.model.catalogue import LEAD_ACTIVITIES
from flowsim.model.clock import Soon
from flowsim.model.entities import ACTIVITY, SCHEDULED, Item
from flowsim.model.eventlog import KEY_SHIFT, EventLog
from flowsim.model.ledger import Ledger
from flowsim.model.recorder import CountTrace, HourBook, Window
from flowsim.model.section import Section


class Lead(Section):
    """The bottleneck engineer."""

    capacity_hours_per_week: float = Field(
        45,
        gt=0,
        description="Hours he works per week (story: overtime, 45). He works this many hours "
        "in each 5-day calendar week.",
    )
    wip_limit: int | None = Field(
        None,
        ge=1,
        description="Lead WIP limit: at most this many started, unfinished items; null for none.",
    )
    prioritisation: Prioritisation = Field(default_factory=Prioritisation)
    annual_cost: float = Field(150_000, ge=0, description="Cost per year, in currency units.")


class LeadEngineer:
    """The bottleneck engineer at work.

    He handles interrupts first, in arrival order and without preemption among
    them; then pays one resume cost to get back into his started work; then works
    on the backlog item his prioritisation policy ranks first.  Backlog work runs
    at the context-switching efficiency of his number of started items; the rest
    of that time is booked as switching.  Every stretch of his time is one
    *segment* (activity, start, share on task), booked when it ends, so his hours
    by activity add up to his capacity over the run.

    Parameters
    ----------
    env : simpy.Environment
    speed : float
        His hours of work per clock hour (capacity per week over the week's length).
    backlog : Backlog or FifoBacklog
        His backlog, ordered by the prioritisation policy.
    efficiency : list of float
        Share of time on task while juggling 1, 2, ... items (``[1.0]``: no switching cost).
    window : float
        Clock hours an unfinished item he worked on counts as juggled.
    resume_cost : float
        Hours lost getting back into started work after interrupts.
    wip_limit : int or None
        At most this many started items.
    ledger : Ledger
        Where items change state and end.
    log : EventLog
    """

    events = ("start", "preempt")

    def __init__(
        self,
        env: simpy.Environment,
        speed: float,
        backlog: Backlog | FifoBacklog,
        efficiency: list[float],
        window: float,
        resume_cost: float,
        wip_limit: int | None,
        ledger: Ledger,
        log: EventLog,
    ) -> None:
        self.env = env
        self.speed = speed
        self.book = HourBook(speed)
        self.backlog = backlog
        self.size = CountTrace()  # items in the backlog, integrated after the run
        self.interrupts: deque[Item] = deque()
        self.interrupts_scanned = 0  # its length after the last compaction
        self.interrupts_waiting = 0  # live items in it
        self.wip_limit = wip_limit
        self.efficiency = efficiency
        # The items he juggles: id -> when he last worked on it, oldest first.  Kept only
        # when switching costs anything (a table of more than one value).
        self.juggling = len(efficiency) > 1
        self.window = window
        self.touched: dict[int, float] = {}
        self.resume_cost = resume_cost
        self.ledger = ledger
        self.log = log
        self.current: Item | None = None  # the backlog item in his hands (preemptible)
        self.handling: Item | None = None  # the interrupt in his hands (not preemptible)
        self.preempting = False
        self.wake: simpy.Event | None = None
        self.needs_resume = False
        self.segment: tuple[str, float, float] | None = None
        self.work: simpy.Timeout | None = None  # the stretch of backlog work under way
        self.work_since = 0.0  # when it began (a warm-up split moves only the segment)
        self._complete = ledger.complete
        self._logging = log.enabled
        self._log_time = log.times.append
        self._log_key = log.keys.append
        self._start_code = log.lead_start
        self._start()

    # -- arrivals ------------------------------------------------------------------
    def assign(self, item: Item) -> None:
        """Put an item in his backlog (and wake him if he is idle)."""
        self.backlog.add(item)
        self.size.rise(self.env._now)  # simpy's clock, read without its property (hot path)
        if self.wake is not None:
            self.wake.succeed()
            self.wake = None

    def interrupt(self, item: Item) -> None:
        """An item that preempts whatever backlog item he is working on.

        Scheduled meetings (calls, mentoring) go to the front: they happen at their
        time, after the interrupt in hand, not behind a queue of fires.
        """
        item.queued_at = self.env.now
        item.interrupting = True
        self.interrupts_waiting += 1
        if item.kind in SCHEDULED:
            self.interrupts.appendleft(item)
        else:
            self.interrupts.append(item)
        if self.wake is not None:
            self.wake.succeed()
            self.wake = None
        elif self.current is not None and not self.preempting:
            self.preempting = True
            self._preempt()

    def dequeue(self, item: Item) -> None:
        """``item`` leaves his interrupt queue (handled, dropped or moved elsewhere)."""
        if item.interrupting:
            item.interrupting = False
            self.interrupts_waiting -= 1

    def discard(self, item: Item) -> None:
        """Take a dropped item out of his backlog, if it is there."""
        self._let_go(item)
        self.dequeue(item)
        if item.id in self.backlog.items:
            self.backlog.remove(item)
            self.size.fall(self.env.now)

    def compact_interrupts(self) -> None:
        """Drop items whose customer left from the interrupt queue (in place: the work
        loop holds a reference). Where that queue never drains, they would otherwise
        pile up for the whole run.  It scans the queue only once it has doubled since
        the last scan, so the cost per interrupt stays constant however long it grows."""
        queue = self.interrupts
        if len(queue) > max(64, 2 * self.interrupts_scanned):
            live = [i for i in queue if i.state == "waiting"]
            if len(live) < len(queue):
                queue.clear()
                queue.extend(live)
            self.interrupts_scanned = len(queue)

    def in_hand(self) -> int:
        """Items he is working on right now (0 or 1)."""
        held = self.current or self.handling
        return int(held is not None and held.state == "active")

    # -- his time ------------------------------------------------------------------
    def efficiency_now(self) -> float:
        """His share of time on task now, for the items he is juggling."""
        return self._efficiency(self.juggled())

    def juggled(self) -> int:
        """How many unfinished items he has worked on within the switching window."""
        return self._load(self.env.now) if self.juggling else 0

    def _efficiency(self, n: int) -> float:
        eff = self.efficiency
        if n <= 1:
            return eff[0]
        return eff[n - 1] if n <= len(eff) else eff[-1]

    def _touch(self, item: Item, now: float) -> int:
        """He works on ``item`` now: the number of items he is juggling, it included."""
        touched = self.touched
        touched.pop(item.id, None)
        touched[item.id] = now
        return self._load(now)

    def _load(self, now: float) -> int:
        """Unfinished items he has worked on within the window (oldest touch first)."""
        touched, since = self.touched, now - self.window
        while touched:
            first = next(iter(touched))
            if touched[first] >= since:
                break
            del touched[first]
        return len(touched)

    def _let_go(self, item: Item) -> None:
        self.touched.pop(item.id, None)

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

    def metrics(self, window: Window, weeks: float) -> dict[str, float]:
        """His hours by activity per week, his utilisation and his mean backlog."""
        hours = self.book.in_window
        m = {
            f"lead_{activity}_hours_per_week": hours.get(activity, 0.0) / weeks
            for activity in LEAD_ACTIVITIES
        }
        m["lead_utilisation"] = 1 - hours.get("idle", 0.0) / max(1e-12, sum(hours.values()))
        m["lead_backlog_mean"] = self.size.window_mean(window.start, window.end)
        return m

    # -- the work loop -------------------------------------------------------------
    # His work loop is a chain of callbacks on the timeouts and wake-ups it schedules,
    # not a SimPy process: a process costs a generator resume per event, and this loop
    # runs for every item of every run.  It schedules exactly the events a process
    # would (its start, each stretch of work, each wake-up, each preemption), in the
    # same order, so the event log is the same.

    def _start(self) -> None:
        # As ``env.process`` would: an urgent event now, his first step when it fires.
        Soon(self.env, self._next)

    def _next(self, _ev: Any = None) -> None:
        """Decide what to do next: an interrupt, the resume cost, backlog work, or wait."""
        env = self.env
        backlog = self.backlog
        interrupts = self.interrupts
        while True:
            if interrupts:
                item = interrupts.popleft()
                if item.state != "waiting":
                    continue  # dropped while queued (its customer left)
                self.dequeue(item)
                self._uninterrupted(item, ACTIVITY[item.kind], item.remaining)
                return
            if self.needs_resume:
                self.needs_resume = False
                if backlog.n_started and self.resume_cost > 0:
                    self._uninterrupted(None, "switching", self.resume_cost)
                    return
            wip_full = self.wip_limit is not None and backlog.n_started >= self.wip_limit
            taken = backlog.take(wip_full)
            if taken is None:
                self.segment = ("idle", env._now, 1.0)
                self.wake = wake = Event(env)
                wake.callbacks.append(self._woken)  # type: ignore[union-attr]
                return
            self._work_on(taken)
            return

    def _woken(self, _ev: Any) -> None:
        self.end_segment()
        self._next()

    def _work_on(self, item: Item) -> None:
        """Start (or resume) backlog work on ``item``; interrupts may preempt it."""
        item.state = "active"
        t0 = self.env._now  # simpy's clock without its property: this is the hot path
        if self._logging:
            self._log_time(t0)
            self._log_key(item.id << KEY_SHIFT | self._start_code[item.kind])
        eff = self._efficiency(self._touch(item, t0)) if self.juggling else 1.0
        self.current = item
        self.work_since = t0
        self.segment = (ACTIVITY[item.kind], t0, eff)
        self.work = work = self.env.timeout(item.remaining / (self.speed * eff))
        work.callbacks.append(self._worked)  # type: ignore[union-attr]

    def _stop_work(self) -> tuple[Item, float, float]:
        """Book the stretch of backlog work that ends now: the item, now, its share."""
        item = self.current
        assert item is not None
        self.current = None
        self.work = None
        now = self.env._now
        activity, t_seg, eff = self.segment  # type: ignore[misc]  # a warm-up split may move its start
        self.segment = None
        hours = self.book.total
        hours[activity] += (now - t_seg) * self.speed * eff
        if eff < 1.0:
            hours["switching"] += (now - t_seg) * self.speed * (1.0 - eff)
        return item, now, eff

    def _worked(self, _ev: Any) -> None:
        """The backlog item in his hands is finished."""
        item, now, _ = self._stop_work()
        item.remaining = 0.0
        self.backlog.remove(item)
        self.size.fall(now)
        if self.juggling:
            self._let_go(item)
        self._complete(item, "lead")
        self._next()

    def _preempt(self) -> None:
        """Stop backlog work for an interrupt (as ``Process.interrupt``: an urgent event now)."""
        Soon(self.env, self._preempted)

    def _preempted(self, _ev: Any) -> None:
        assert self.work is not None and self.work.callbacks is not None
        self.work.callbacks.remove(self._worked)
        self.preempting = False
        item, now, eff = self._stop_work()
        item.remaining = max(0.0, item.remaining - (now - self.work_since) * self.speed * eff)
        item.state = "waiting"
        item.untouched_since = now
        self.log.add(now, item.id, item.kind, "preempt", "lead")
        if not self.ledger.drop_if_customer_left(item):
            self.backlog.put_back(item)
        self._next()

    def _uninterrupted(self, item: Item | None, activity: str, hours: float) -> None:
        """Work that nothing preempts: an interrupt (``item``) or the resume cost."""
        env = self.env
        share = 1.0
        if item is not None:
            item.state = "active"
            self.log.add(env.now, item.id, item.kind, "start", "lead")
            # Urgent work pays the switching cost too; meetings and protected blocks are
            # fixed stretches of time, not effort.
            if self.juggling and item.kind not in SCHEDULED:
                share = self._efficiency(self._touch(item, env.now))
        self.handling = item
        self.segment = (activity, env.now, share)
        env.timeout(hours / (self.speed * share)).callbacks.append(  # type: ignore[union-attr]
            self._handled
        )

    def _handled(self, _ev: Any) -> None:
        item = self.handling
        self.handling = None
        self.end_segment()
        if item is not None:
            item.remaining = 0.0
            self._let_go(item)
            self._complete(item, "lead")
            self.needs_resume = True
        self._next()
