"""The lead engineer: one long-lived process working his backlog, preemptible by interrupts."""

from __future__ import annotations

import sys
from collections import deque
from heapq import heappush
from typing import Any

import simpy
from pydantic import Field
from simpy.events import NORMAL

from flowsim.model.backlog import Backlog, FifoBacklog, Prioritisation
from flowsim.model.catalogue import LEAD_ACTIVITIES
from flowsim.model.clock import Call, Callback, call_in, soon
from flowsim.model.entities import ACTIVITY, SCHEDULED, Item
from flowsim.model.eventlog import EventLog
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
        self._compact_above = 64  # the length that makes the next compaction worth it
        self.interrupts_waiting = 0  # live items in it
        self.wip_limit = wip_limit
        # Started items beyond which he takes only started ones (none: no such bound).
        self._wip_cap = sys.maxsize if wip_limit is None else wip_limit
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
        self.idle = False  # waiting for work: the next item wakes him
        self.needs_resume = False
        self.segment: tuple[str, float, float] | None = None
        # The event that ends his stretches of backlog work (the one under way while
        # ``current`` is set): reused once it has fired.
        self.work_end: Call | None = None
        self.wake_up: Call | None = None  # the event that wakes him
        self._queue: list[Any] = env._queue  # SimPy's own queue and event counter
        self._eid = env._eid
        self.work_since = 0.0  # when it began (a warm-up split moves only the segment)
        self.hours = self.book.total
        # The recorded columns' pending lists, which stay the same lists for the run: the
        # work loop appends to them for every item, and ``list.append`` called on the
        # list is a specialised call, where a bound method kept as an attribute is not.
        self._rises = self.size.rises.pending
        self._falls = self.size.falls.pending
        self._logging = log.enabled
        self._log_times = log.times.pending
        self._log_entities = log.entities.pending
        self._log_codes = log.codes.pending
        # Each kind's activity and the code of its start row, looked up once per item.
        self._by_kind = {kind: (ACTIVITY[kind], log.lead_start[kind]) for kind in ACTIVITY}
        # His callbacks, bound once (each stretch of work and wake-up schedules one).
        # One list serves every stretch of work: nothing changes it (a preemption
        # replaces a queued stretch's list rather than emptying it).
        self._worked_callbacks: list[Callback] = [self._worked]
        self._woken_callbacks: list[Callback] = [self._woken]
        self._start()

    # -- arrivals ------------------------------------------------------------------
    def assign(self, item: Item) -> None:
        """Put an item in his backlog (and wake him if he is idle)."""
        self.backlog.add(item)
        self._rises.append(self.env._now)  # simpy's clock, read without its property (hot path)
        if self.idle:
            self._wake()

    def _wake(self) -> None:
        """He has work again: wake him now, after what is already due (as an event
        succeeded now would)."""
        self.idle = False
        # ``again``, written out, on one list of callbacks (as the stretches of work).
        wake = self.wake_up
        if wake is None or wake.callbacks is not None:
            wake = self.wake_up = Call(self._woken)
        wake.callbacks = self._woken_callbacks
        heappush(self._queue, (self.env._now, NORMAL, next(self._eid), wake))

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
        if self.idle:
            self._wake()
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
        if len(queue) > self._compact_above:  # checked daily: the threshold is kept
            live = [i for i in queue if i.state == "waiting"]
            if len(live) < len(queue):
                queue.clear()
                queue.extend(live)
            self.interrupts_scanned = len(queue)
            self._compact_above = max(64, 2 * self.interrupts_scanned)

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
        soon(self.env, self._next)

    def _next(self, _ev: Any = None) -> None:
        """Decide what to do next: an interrupt, the resume cost, backlog work, or wait."""
        if self.interrupts and self._handle_interrupt():
            return
        if self.needs_resume and self._resume():
            return
        backlog = self.backlog
        item = backlog.take(backlog.n_started >= self._wip_cap)
        now = self.env._now  # simpy's clock without its property: this is the hot path
        if item is None:
            self.segment = ("idle", now, 1.0)
            self.idle = True
            return
        # Start (or resume) backlog work on the item; interrupts may preempt it.
        item.state = "active"
        activity, start_code = self._by_kind[item.kind]
        if self._logging:
            self._log_times.append(now)
            self._log_entities.append(item.id)
            self._log_codes.append(start_code)
        if self.juggling:
            eff = self._efficiency(self._touch(item, now))
            rate = self.speed * eff
        else:
            eff = 1.0
            rate = self.speed  # his speed times 1.0, exactly: one product fewer per item
        self.current = item
        self.work_since = now
        self.segment = (activity, now, eff)
        # On the event that ended the last stretch, if it has fired (a preempted
        # stretch's end stays queued, emptied: then on a new one): ``again``, written out.
        work = self.work_end
        if work is None or work.callbacks is not None:
            work = self.work_end = Call(self._worked)
        work.callbacks = self._worked_callbacks
        heappush(self._queue, (now + item.remaining / rate, NORMAL, next(self._eid), work))

    def _handle_interrupt(self) -> bool:
        """Take the first interrupt still waiting, if any (dropped ones are skipped)."""
        interrupts = self.interrupts
        while interrupts:
            item = interrupts.popleft()
            if item.state != "waiting":
                continue  # dropped while queued (its customer left)
            self.dequeue(item)
            self._uninterrupted(item, ACTIVITY[item.kind], item.remaining)
            return True
        return False

    def _resume(self) -> bool:
        """Pay the cost of getting back into started work, if there is any."""
        self.needs_resume = False
        if self.backlog.n_started and self.resume_cost > 0:
            self._uninterrupted(None, "switching", self.resume_cost)
            return True
        return False

    def _woken(self, _ev: Any) -> None:
        """Work arrived while he was idle: book the idle stretch, then take it."""
        activity, t0, _ = self.segment  # type: ignore[misc]  # idle, at full share
        self.segment = None
        now = self.env._now
        if now > t0:
            self.hours[activity] += (now - t0) * self.speed
        self._next()

    def _stop_work(self) -> tuple[Item, float, float]:
        """Book the stretch of backlog work that ends now: the item, now, its share."""
        item = self.current
        assert item is not None
        self.current = None
        now = self.env._now
        activity, t_seg, eff = self.segment  # type: ignore[misc]  # a warm-up split may move its start
        self.segment = None
        hours = self.hours
        hours[activity] += (now - t_seg) * self.speed * eff
        if eff < 1.0:
            hours["switching"] += (now - t_seg) * self.speed * (1.0 - eff)
        return item, now, eff

    def _worked(self, _ev: Any) -> None:
        """The backlog item in his hands is finished (``_stop_work``, written out: this
        runs for every item he finishes)."""
        item = self.current
        assert item is not None
        self.current = None
        now = self.env._now
        activity, t_seg, eff = self.segment  # type: ignore[misc]
        self.segment = None
        hours = self.hours
        if eff == 1.0:  # times 1.0 is exact: the same hours, one product fewer
            hours[activity] += (now - t_seg) * self.speed
        else:
            hours[activity] += (now - t_seg) * self.speed * eff
            if eff < 1.0:
                hours["switching"] += (now - t_seg) * self.speed * (1.0 - eff)
        item.remaining = 0.0
        self.backlog.remove(item)
        self._falls.append(now)
        if self.juggling:
            self._let_go(item)
        self.ledger.complete(item, "lead")
        self._next()

    def _preempt(self) -> None:
        """Stop backlog work for an interrupt (as ``Process.interrupt``: an urgent event now)."""
        soon(self.env, self._preempted)

    def _preempted(self, _ev: Any) -> None:
        assert self.work_end is not None and self.work_end.callbacks is not None
        self.work_end.callbacks = []  # it stays queued, and calls nobody when it fires
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
        call_in(env, hours / (self.speed * share), self._handled)

    def _handled(self, _ev: Any) -> None:
        item = self.handling
        self.handling = None
        self.end_segment()
        if item is not None:
            item.remaining = 0.0
            self._let_go(item)
            self.ledger.complete(item, "lead")
            self.needs_resume = True
        self._next()
