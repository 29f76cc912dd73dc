"""Mechanism 4, broken promises: status calls make dated promises; a missed one hurts
the customer's health and comes back as an escalation."""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, Literal

import simpy
from pydantic import Field, model_validator

from flowsim.model.backlog import Backlog, FifoBacklog
from flowsim.model.calendar import Calendar
from flowsim.model.distributions import Distribution, constant
from flowsim.model.entities import Customer, Item
from flowsim.model.eventlog import EventLog
from flowsim.model.ledger import Ledger
from flowsim.model.mechanism import Mechanism
from flowsim.model.recorder import Table, Window
from flowsim.model.section import Section, off_switch
from flowsim.model.streams import Source, Streams

_EPS = 1e-9


DueOption = Literal["end_of_today", "tomorrow", "this_week"]


class Commitments(Section):
    """Mechanism 4: dated promises, kept or broken."""

    enabled: bool = off_switch("promises")
    policy: Literal["end_of_today", "tomorrow", "this_week", "mixed", "forecast", "none"] = Field(
        "mixed",
        description="Due time of a promise: end of today, end of tomorrow, end of this week, a "
        "mix of those (weights in `mix`), a forecast (from now, the forecast_percentile of "
        "recent lead times, rounded up to the end of a day), or no dated promise.",
    )
    mix: dict[DueOption, float] = Field(
        default_factory=lambda: {"end_of_today": 0.5, "this_week": 0.5},  # type: ignore[arg-type,dict-item]
        description="Weights of the due-time options under `mixed`. Story: today / this week.",
    )
    forecast_percentile: float = Field(
        85, gt=0, lt=100, description="Percentile of recent lead times quoted (forecast)."
    )
    escalation_effort: Distribution = Field(
        default_factory=lambda: constant(1.0),
        description="Lead hours an escalation after a broken promise costs (an interrupt).",
    )
    escalate_after_breaks: int = Field(
        2,
        ge=1,
        description="Broken promises on one item after which the customer stops accepting "
        "dates for it and escalates, once; before that each broken promise is made again at "
        "the next call. Story (MODEL.md): a promise missed twice stops being re-promised and "
        "becomes one escalation.",
    )

    @model_validator(mode="after")
    def _mix(self) -> Commitments:
        if self.policy == "mixed" and (not self.mix or sum(self.mix.values()) <= 0):
            raise ValueError(
                "commitments.mix needs at least one positive weight for policy 'mixed'"
            )
        return self


class PromisesMechanism(Mechanism):
    """Dated promises made at status calls, checked every morning.

    A call promises the customer's oldest open items that carry no promise yet, each
    due by the commitment policy.  The promise is kept if the item is done by its due
    time; otherwise it is broken at the first daily check after it falls due: the
    customer is told (``on_resolved``, health) and the item and the spec or review
    that holds it up become urgent.  A broken promise is made again at the next call,
    until the item's promises have been broken ``escalate_after_breaks`` times: then
    the customer stops accepting dates for it and escalates, once (an interrupt).  The pressure of
    a due time or an escalation reaches the spec or review holding the item up, so the
    lead's prioritisation sees it.
    """

    section = "commitments"
    events = ("promised", "promise_kept", "promise_broken")
    shapes_ticket_queue = False  # it acts only on what status calls promise

    def __init__(
        self,
        config: Commitments,
        cal: Calendar,
        env: simpy.Environment,
        ledger: Ledger,
        log: EventLog,
        backlog: Backlog | FifoBacklog,
        streams: Streams,
        send: Callable[[Item], None],
    ) -> None:
        self.config = config
        self.cal = cal
        self.env = env
        self.ledger = ledger
        self.log = log
        self.backlog = backlog
        self.send = send
        self.escalation_effort = config.escalation_effort.sampler(streams.get(Source.ESCALATIONS))
        self.due: list[tuple[float, int, Item]] = []  # heap of (due, item id, item)
        self.open: dict[int, list[Any]] = {}  # item id -> its record
        self.records = Table("made", "due", "outcome", "resolved")
        self.counts = {"made": 0, "kept": 0, "broken": 0, "void": 0}
        self.recent_lead_times: deque[float] = deque(maxlen=50)
        self._quote: float | None = None  # forecast quote, recomputed when the window moves
        self.on_resolved: list[Callable[[Customer, bool], None]] = []
        self.escalate_after = config.escalate_after_breaks
        # The mixed policy's options as cumulative shares of the weights, summed once.
        weights = list(config.mix.items())
        total = sum(w for _, w in weights)
        acc = 0.0
        self._mix_thresholds: list[tuple[float, str]] = []
        for name, w in weights:
            acc += w / total
            self._mix_thresholds.append((acc, name))
        self._last_option: str = weights[-1][0] if weights else "end_of_today"

    @staticmethod
    def switched_on(config: Commitments) -> bool:
        return config.enabled and config.policy != "none"

    # ---------------------------------------------------------------- making promises
    def new_work(self, item: Item) -> None:
        """A new task or ask of an onboarding customer may be promised."""
        assert item.customer is not None
        heapq.heappush(item.customer.unpromised, (item.id, item))

    def at_call(self, cust: Customer, n_promises: int, mix_u: float) -> None:
        """Promise the customer's oldest open items that carry no promise yet (and on
        which the customer has not given up on dates).

        They come from ``cust.unpromised``, not from a scan of all its open work: items
        that have used up their promises stay open, and in a company that never
        catches up a scan would cost ever more per call.
        """
        heap = cust.unpromised
        while n_promises > 0 and heap:
            _, item = heapq.heappop(heap)
            if item.id in cust.work and item.due is None:
                self._promise(item, mix_u)
                n_promises -= 1

    def _promise(self, item: Item, mix_u: float) -> None:
        now = self.env.now
        due = self._due_time(item, mix_u)
        self.counts["made"] += 1
        heapq.heappush(self.due, (due, item.id, item))
        record = [now, due, "open", None]
        self.records.append(record)
        self.open[item.id] = record
        self._press(item, due=due)
        self.log.add(now, item.id, item.kind, "promised", "")

    def _due_time(self, item: Item, mix_u: float) -> float:
        now = self.env.now
        cm = self.config
        day, week = self.cal.day, self.cal.week
        end_of_day = (math.floor(now / day + _EPS) + 1) * day
        policy: str = cm.policy
        if policy == "mixed":
            policy = self._last_option
            for acc, name in self._mix_thresholds:
                if mix_u < acc:
                    policy = name
                    break
        if policy == "end_of_today":
            return end_of_day
        if policy == "tomorrow":
            return end_of_day + day
        if policy == "this_week":
            return (math.floor(now / week + _EPS) + 1) * week
        # forecast: from now, the chosen percentile of recent lead times of such items
        # (a service-level expectation, as flow-metrics tools quote it).
        if not self.recent_lead_times:
            return end_of_day + 2 * week
        if self._quote is None:
            self._quote = percentile(self.recent_lead_times, cm.forecast_percentile)
        due = max(end_of_day, now + self._quote)
        return math.ceil(due / day - _EPS) * day

    def lead_time(self, item: Item) -> None:
        """A task or ask is done: its lead time joins the window the forecast quotes from."""
        self.recent_lead_times.append(self.env.now - item.arrived)
        self._quote = None

    # ---------------------------------------------------------------- keeping them
    def on_done(self, item: Item) -> None:
        """An item is done: its promise, if any, is kept when it is on time."""
        if item.due is not None and item.id in self.open:
            self._resolved(item, kept=self.env.now <= item.due + _EPS)

    def daily(self) -> None:
        """Break the promises that fell due: tell the customer, press, escalate."""
        now = self.env.now
        heap = self.due
        while heap and heap[0][0] <= now + _EPS:
            due, _, item = heapq.heappop(heap)
            if item.due != due:
                continue  # kept already, or re-promised
            if item.state == "dropped":
                self.counts["void"] += 1
                self._mark(item, "void")
                item.due = None
                continue
            self._resolved(item, kept=False)
            self._press(item, urgent=True)
            item.broken_promises += 1
            cust = item.customer
            if item.broken_promises == self.escalate_after:
                # The customer stops accepting dates for it and escalates, once.
                self.send(self.ledger.new("escalation", cust, self.escalation_effort()))
            elif cust is not None and item.id in cust.work:
                heapq.heappush(cust.unpromised, (item.id, item))  # it may be promised again

    def _resolved(self, item: Item, kept: bool) -> None:
        outcome = "kept" if kept else "broken"
        self.counts[outcome] += 1
        self._mark(item, outcome)
        cust = item.customer
        if cust is not None and cust.active:
            for hook in self.on_resolved:
                hook(cust, kept)
        self.log.add(self.env.now, item.id, item.kind, f"promise_{outcome}", "")
        item.due = None

    def _mark(self, item: Item, outcome: str) -> None:
        record = self.open.pop(item.id)
        record[2] = outcome
        record[3] = self.env.now

    def _press(self, item: Item, due: float | None = None, urgent: bool = False) -> None:
        """Apply a promise's due time or an escalation's urgency to an item and to the
        spec or review that holds it up, so the pressure reaches the work that is stuck."""
        for target in (item, item.gate):
            if target is None:
                continue
            if due is not None:
                target.due = due
            if urgent:
                target.urgent = True
            self.backlog.reprioritise(target)

    # ---------------------------------------------------------------- after the run
    def metrics(self, window: Window) -> dict[str, float]:
        made_in_window = [outcome for made, _, outcome, _ in self.records.rows if made in window]
        kept = sum(1 for outcome in made_in_window if outcome == "kept")
        broken = sum(1 for outcome in made_in_window if outcome == "broken")
        return {
            "promises_made": len(made_in_window),
            "promises_kept": kept,
            "promises_broken": broken,
            "promises_kept_share": kept / (kept + broken) if kept + broken else math.nan,
        }


def percentile(values: Iterable[float], q: float) -> float:
    """The q-th percentile with linear interpolation (numpy's default method), in plain
    Python: for a window of a few dozen values it is far cheaper than a numpy call."""
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)
