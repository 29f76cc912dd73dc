"""Support tickets: live customers raise them, the lead or the team resolves them."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from heapq import heappush
from typing import Any, Literal

import numpy as np
import simpy
from pydantic import Field, model_validator
from simpy.events import NORMAL

from flowsim.model.calendar import Calendar
from flowsim.model.clock import Call, Callback, call_in, soon
from flowsim.model.distributions import Distribution, lognormal
from flowsim.model.effects import PlatformEffects
from flowsim.model.entities import Customer, Item
from flowsim.model.lead import LeadEngineer
from flowsim.model.ledger import Ledger
from flowsim.model.mechanism import Mechanism
from flowsim.model.recorder import Columns, Table, Window, mean_or_nan, percentile_or_nan
from flowsim.model.section import Section, off_switch
from flowsim.model.streams import Source, Streams
from flowsim.model.team import RANK_TICKET, TeamAtWork


class TicketClass(Section):
    """One class of support ticket."""

    share: float = Field(ge=0, le=1, description="Share of tickets in this class.")
    effort: Distribution = Field(description="Hours to resolve one ticket.")
    lead_share: float = Field(0.7, ge=0, le=1, description="Share needing the lead (live access).")
    target_days: float = Field(
        gt=0, description="Resolution time the customer expects, in days; longer hurts health."
    )


TicketClassName = Literal["urgent", "normal", "how_to"]


def _ticket_classes() -> dict[TicketClassName, TicketClass]:
    return {
        "urgent": TicketClass(share=0.2, effort=lognormal(2, 1.0), target_days=1),
        "normal": TicketClass(share=0.5, effort=lognormal(4, 1.0), target_days=5),
        "how_to": TicketClass(share=0.3, effort=lognormal(0.5, 1.0), target_days=2),
    }


class Tickets(Section):
    """Support tickets raised by live customers."""

    enabled: bool = off_switch("support tickets")
    per_customer_per_week: float = Field(
        1, ge=0, description="Tickets per live customer per week, Poisson. Story: 1."
    )
    classes: dict[TicketClassName, TicketClass] = Field(
        default_factory=_ticket_classes,
        description="Ticket classes; shares must add up to 1. Story: 20% / 50% / 30%.",
    )
    abandon_after_days: float | None = Field(
        40,
        gt=0,
        description="Working days after which a waiting ticket nobody has worked on (since it "
        "arrived, resurfaced or was last put down unfinished) is closed as stale (dropped as "
        "abandoned, counted, and as late for the customer's health). Null: tickets wait for "
        "ever. Assumption: support desks close what has sat untouched for about two months; "
        "the customer has found a workaround or given up.",
    )

    @model_validator(mode="after")
    def _shares_sum(self) -> Tickets:
        total = sum(c.share for c in self.classes.values())
        if self.classes and abs(total - 1) > 1e-6:
            raise ValueError(f"ticket class shares must add up to 1, got {total:g}")
        return self


class TicketsMechanism(Mechanism):
    """Each live customer raises tickets (Poisson); each goes to whoever may resolve it.

    A how-to ticket goes to support when there is a support person; a ticket that
    needs the lead (a share of its class, lowered by platform investment), or that
    nobody else can take, goes to him (an urgent one as an interrupt); the rest go
    to support, or else to the developers.

    ``on_closed`` lists what else happens when a ticket is resolved (health, defects).
    """

    section = "tickets"
    shapes_ticket_queue = False  # it is the queue's arrival stream

    def __init__(
        self,
        config: Tickets,
        cal: Calendar,
        env: simpy.Environment,
        ledger: Ledger,
        lead: LeadEngineer,
        team: TeamAtWork,
        effects: PlatformEffects,
        streams: Streams,
        send_screenable: Callable[[Item], None],
    ) -> None:
        self.config = config
        self.cal = cal
        self.env = env
        self.ledger = ledger
        self.lead = lead
        self.team = team
        self.effects = effects
        self.streams = streams
        self.send_screenable = send_screenable
        self.n_dropped = 0  # tickets dropped (abandoned, or their customer left)
        self.open_since: dict[int, float] = {}  # open ticket -> when it arrived
        # (when it goes stale, ticket), in that order, for the daily sweep of stale
        # tickets (done ones are skipped when they reach the front).
        # (when it goes stale, ticket id, ticket): a heap, since a ticket put down
        # unfinished is looked at again from then.
        self.stale_at: list[tuple[float, int, Item]] = []
        self.abandoned = Table("time")
        self.on_abandoned: list[Callable[[Item], None]] = []
        # One record per resolved ticket: its class (an index into the class names),
        # when it arrived and when it was resolved.
        self.class_names: list[str] = list(config.classes)
        self._class_index = {name: k for k, name in enumerate(self.class_names)}
        self.closed = Columns(cls="b", arrived="d", done="d")
        # Their pending lists, appended to for every resolved ticket (see ``LeadEngineer``).
        self._closed_cls = self.closed["cls"].pending
        self._closed_arrived = self.closed["arrived"].pending
        self._closed_done = self.closed["done"].pending
        self.on_closed: list[Callable[[Item], None]] = []
        self.abandoning = config.abandon_after_days is not None

    @property
    def open(self) -> int:
        """Tickets not yet resolved (nor dropped)."""
        return len(self.open_since)

    @property
    def created(self) -> int:
        """Tickets raised so far: open, resolved or dropped (counted, not tallied per
        ticket)."""
        return len(self.open_since) + len(self.closed) + self.n_dropped

    @staticmethod
    def switched_on(config: Tickets) -> bool:
        return config.enabled and config.per_customer_per_week > 0

    def went_live(self, cust: Customer) -> None:
        """Start the customer's ticket stream (one timeout per ticket, no process)."""
        blocks = ticket_blocks(
            self.streams.get(Source.TICKETS, cust.id),
            self.config,
            self.cal.week / self.config.per_customer_per_week,
        )
        draws = iter(next(blocks))
        env = self.env
        new = self.ledger.new
        route = self.route
        queue: list[Any] = env._queue  # SimPy's own queue, as ``again`` pushes onto it
        eid = env._eid
        pending: tuple[float, str, float, float]

        def wait(_ev: Any = None) -> None:
            nonlocal draws, pending
            try:
                pending = next(draws)
            except StopIteration:
                draws = iter(next(blocks))
                pending = next(draws)
            call_in(env, pending[0], arrive)

        def arrive(event: Call) -> None:
            nonlocal draws, pending
            if cust.state != "live":
                return
            _, cls, effort, lead_u = pending
            ticket = new("ticket", cust, effort, cls)
            ticket.lead_u = lead_u
            route(ticket)
            try:  # the next ticket (as wait(), written out: this is the hot path)
                pending = next(draws)
            except StopIteration:
                draws = iter(next(blocks))
                pending = next(draws)
            # On the event that has just fired: ``again(env, event, ...)``, written out,
            # with one list of callbacks for the whole stream (nothing changes it).
            event.callbacks = callbacks
            heappush(queue, (env._now + pending[0], NORMAL, next(eid), event))

        callbacks: list[Callback] = [arrive]
        soon(self.env, wait)

    def route(self, t: Item) -> None:
        """Send a new ticket to whoever may resolve it."""
        self.open_since[t.id] = t.arrived
        if self.abandoning:
            self.watch(t)
        team = self.team
        cls = t.cls
        # Whether it can do without the lead is asked only where someone else could take it.
        if team.n_support:
            if cls == "how_to" or t.lead_u >= self.effects.ticket_lead_share[cls]:
                team.support_queue.put(t, RANK_TICKET)
                return
        elif team.n_dev.value > 0 and t.lead_u >= self.effects.ticket_lead_share[cls]:
            team.dev_queue.put(t, RANK_TICKET)
            return
        if cls == "urgent":
            self.send_screenable(t)
        else:
            self.lead.assign(t)

    def watch(self, t: Item) -> None:
        """From now, new ticket ``t`` goes stale if nobody works on it within
        ``abandon_after_days``."""
        t.untouched_since = self.env.now
        self._look_again(t)

    def _look_again(self, t: Item) -> None:
        assert self.config.abandon_after_days is not None
        deadline = t.untouched_since + self.config.abandon_after_days * self.cal.day
        heapq.heappush(self.stale_at, (deadline, t.id, t))

    def close_stale(self) -> None:
        """Each morning: tickets nobody has worked on for ``abandon_after_days`` (since
        they arrived or were last put down unfinished), waiting or forgotten, are closed
        as stale (dropped, abandoned).  Resurfacing is not work: a ticket forgotten and
        resurfaced again and again still goes stale."""
        now = self.env.now
        heap = self.stale_at
        while heap and heap[0][0] <= now:
            deadline, _, t = heapq.heappop(heap)
            if t.state not in ("waiting", "forgotten"):
                continue  # resolved, dropped, or in someone's hands
            if t.untouched_since + self.config.abandon_after_days * self.cal.day > deadline:  # type: ignore[operator]
                self._look_again(t)  # worked on since
                continue
            self.abandoned.append((now,))
            for hook in self.on_abandoned:
                hook(t)
            self.ledger.drop(t, "abandoned")

    def resolved(self, item: Item, actor: str) -> None:
        self._closed_cls.append(self._class_index[item.cls])
        self._closed_arrived.append(self.open_since.pop(item.id))  # its arrival time
        self._closed_done.append(self.env._now)  # simpy's clock, read without its property
        if self.on_closed:  # none in many runs: skip the loop (this runs per ticket)
            for hook in self.on_closed:
                hook(item)

    def dropped(self, item: Item) -> None:
        if item.kind == "ticket":
            del self.open_since[item.id]
            self.n_dropped += 1

    def metrics(self, window: Window) -> dict[str, float]:
        w = window
        day = self.cal.day
        weeks = (w.end - w.start) / self.cal.week
        names = self.class_names
        records = zip(self.closed["cls"], self.closed["arrived"], self.closed["done"], strict=True)
        closed = [(names[cls], arrived, done) for cls, arrived, done in records if done in w]
        m = {
            "tickets_closed_per_week": len(closed) / weeks,
            "ticket_resolution_mean_days": mean_or_nan([d - a for _, a, d in closed]) / day,
        }
        for name in self.config.classes:
            times = [(d - a) / day for cls, a, d in closed if cls == name]
            m[f"ticket_{name}_mean_days"] = mean_or_nan(times)
            m[f"ticket_{name}_p85_days"] = percentile_or_nan(times, 85)
        # Tickets still open count too: a policy that finally clears old tickets should
        # not look slower than one that leaves them open.
        ages = [(w.end - arrived) / day for arrived in self.open_since.values()]
        m["tickets_abandoned"] = sum(1 for (t,) in self.abandoned.rows if t in w)
        m["tickets_open_at_horizon"] = len(ages)
        m["ticket_open_age_p50_days"] = percentile_or_nan(ages, 50)
        m["ticket_open_age_p85_days"] = percentile_or_nan(ages, 85)
        return m


def ticket_blocks(
    rng: np.random.Generator, tickets: Tickets, mean_gap: float, block: int = 256
) -> Iterator[list[tuple[float, str, float, float]]]:
    """Endless blocks of (gap, class, effort, lead need) tuples of one customer's tickets.

    Drawn in blocks with a fixed number of draws per ticket (one effort per class,
    the class picks one), so ticket k of a customer is the same under every policy:
    common random numbers.
    """
    names = np.array(list(tickets.classes), dtype=object)
    cum = np.cumsum([c.share for c in tickets.classes.values()])
    cum[-1] = 1.0  # guard against shares summing to 1 - epsilon
    draws = [c.effort.draw for c in tickets.classes.values()]
    columns = np.arange(block)
    while True:
        gaps = rng.exponential(mean_gap, block)
        pick = cum.searchsorted(rng.random(block), side="right")
        lead_u = rng.random(block)
        if len(draws) == 1:  # one class: the same draws, without the stack and the pick
            chosen, classes = draws[0](rng, block), [names[0]] * block
        else:
            chosen = np.stack([draw(rng, block) for draw in draws])[pick, columns]
            classes = names[pick].tolist()
        yield list(zip(gaps.tolist(), classes, chosen.tolist(), lead_u.tolist(), strict=True))
