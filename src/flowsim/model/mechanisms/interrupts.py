"""Mechanism 3, interrupts: urgent work and pings preempt the lead, unless shielding
batches them into office hours or a support person triages them first."""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, Literal

import numpy as np
import simpy
from pydantic import Field

from flowsim.model.distributions import Distribution, constant, exponential
from flowsim.model.entities import SCHEDULED, Customer, Item
from flowsim.model.eventlog import EventLog
from flowsim.model.lead import LeadEngineer
from flowsim.model.ledger import Ledger
from flowsim.model.mechanism import Mechanism
from flowsim.model.recorder import Table, Window
from flowsim.model.section import Section, off_switch
from flowsim.model.streams import Source, Streams
from flowsim.model.team import RANK_TICKET, TeamAtWork


class DirectAccess(Section):
    """Customers who reach the lead directly (their own Slack / JIRA)."""

    enabled: bool = off_switch("direct pings from customers")
    customers: int = Field(2, ge=0, description="Live customers with direct access. Story: 2.")
    pings_per_week: float = Field(3, ge=0, description="Pings per week from each such customer.")
    effort: Distribution = Field(
        default_factory=lambda: constant(0.25), description="Lead hours to answer one ping."
    )


class Interrupts(Section):
    """Mechanism 3: urgent work and pings preempt the lead's current item."""

    enabled: bool = Field(
        True,
        description="Off switch for preemption: false puts urgent work, pings and escalations "
        "in the lead's backlog (at the front) instead of interrupting him; meetings (calls, "
        "mentoring, platform blocks) still happen at their time.",
    )
    resume_cost_hours: float = Field(
        0.25,
        ge=0,
        description="Lead hours lost getting back into a task after an interruption. "
        "Source: Parnin & Rugaber, 10-15 min to resume editing; ~20 min reported elsewhere.",
    )
    shielding: Literal["immediate", "office_hours", "triage"] = Field(
        "immediate",
        description="immediate: interrupts preempt at once; office_hours: batched into a daily "
        "slot; triage: a support person screens them first (needs a support person).",
    )
    office_hour: float = Field(
        6, ge=0, description="Hour of the working day at which batched interrupts are handled."
    )
    triage_hours: float = Field(0.1, ge=0, description="Support hours to triage one interrupt.")
    triage_resolves: float = Field(
        0.4, ge=0, le=1, description="Share of pings the triage person answers without the lead."
    )
    triage_still_urgent: float = Field(
        0.3,
        ge=0,
        le=1,
        description="Share of triaged urgent tickets still allowed to preempt the lead; the rest "
        "join his backlog at the front.",
    )
    patience_days: float | None = Field(
        2,
        gt=0,
        description="Working days an interrupt waits for the lead before it is triaged: a "
        "ping, an escalation or a meeting he could not get to lapses (dropped, counted), any "
        "other urgent work joins his backlog at the front. Null: they wait for ever. "
        "Assumption: nobody lets a fire sit untouched for more than a couple of days; it is "
        "dealt with in passing, rescheduled or given up.",
    )
    direct_access: DirectAccess = Field(default_factory=DirectAccess)


Send = Callable[[Item], None]
LAPSING = frozenset({"ping", "escalation", *SCHEDULED})
"""Kinds of interrupt that lapse when they wait too long (the rest join the backlog)."""


class InterruptsMechanism(Mechanism):
    """Routes work that wants the lead now, through the shielding policy.

    The policy is chosen once: :attr:`send` routes an interrupt, :attr:`send_screenable`
    one that a triage person may screen first (urgent tickets and pings).

    * interrupts off: the item joins his backlog as urgent work;
    * ``immediate``: it preempts him at once;
    * ``office_hours``: it waits for the daily office hour (meetings still happen on time);
    * ``triage``: a screenable item goes to the support queue first, when there is a
      support person; after triage a ping may be answered, an urgent ticket may still
      preempt, and the rest join the backlog at the front.
    """

    section = "interrupts"
    events = ("downgraded",)

    def __init__(
        self,
        config: Interrupts,
        day: float,
        env: simpy.Environment,
        ledger: Ledger,
        log: EventLog,
        lead: LeadEngineer,
        team: TeamAtWork,
        rng: np.random.Generator,
    ) -> None:
        self.config = config
        self.log = log
        self.day = day
        self.env = env
        self.ledger = ledger
        self.lead = lead
        self.team = team
        self.rng = rng
        self.office_queue: list[Item] = []
        self.downgrades = Table("time")
        self.lapses = Table("time")
        self.send: Send
        self.send_screenable: Send
        if not config.enabled:
            self.send = self.send_screenable = self._to_backlog
        elif config.shielding == "office_hours":
            self.send = self.send_screenable = self._office
        elif config.shielding == "triage":
            self.send, self.send_screenable = lead.interrupt, self._screen
        else:
            self.send = self.send_screenable = lead.interrupt

    @staticmethod
    def switched_on(config: Interrupts) -> bool:
        return config.enabled

    @staticmethod
    def resume_cost(config: Interrupts) -> float:
        """Hours the lead loses getting back to his started work after interrupts."""
        return config.resume_cost_hours if config.enabled else 0.0

    def start(self) -> None:
        if self.config.enabled and self.config.shielding == "office_hours":
            self.env.process(self._office_hours())

    def triage_waiting(self) -> None:
        """Each morning: interrupts that have waited longer than ``patience_days`` are
        triaged.  Pings, escalations and meetings lapse (dropped as ``lapsed``); any other
        urgent work (a ticket, a resurfaced problem) joins the lead's backlog as urgent."""
        patience = self.config.patience_days
        assert patience is not None
        now = self.env.now
        oldest = now - patience * self.day
        queue = self.lead.interrupts
        keep = []
        for item in queue:
            if item.state != "waiting":
                continue  # dropped while queued
            if item.queued_at >= oldest:
                keep.append(item)
            elif item.kind in LAPSING:
                self.lapses.append((now,))
                self.ledger.drop(item, "lapsed")
            else:
                self.lead.dequeue(item)
                self.downgrades.append((now,))
                self.log.add(now, item.id, item.kind, "downgraded", "")
                item.urgent = True
                self.lead.assign(item)
        queue.clear()
        queue.extend(keep)

    def metrics(self, window: Window) -> dict[str, float]:
        return {
            "interrupts_lapsed": sum(1 for (t,) in self.lapses.rows if t in window),
            "interrupts_downgraded": sum(1 for (t,) in self.downgrades.rows if t in window),
        }

    def _to_backlog(self, item: Item) -> None:
        if item.kind in SCHEDULED:  # meetings still happen at their time
            self.lead.interrupt(item)
            return
        item.urgent = True
        self.lead.assign(item)

    def _office(self, item: Item) -> None:
        if item.kind in SCHEDULED:
            self.lead.interrupt(item)
        else:
            self.office_queue.append(item)

    def _screen(self, item: Item) -> None:
        if not self.team.has_support:
            self.lead.interrupt(item)
            return
        triage = self.ledger.new("triage", item.customer, self.config.triage_hours, "", item.origin)
        triage.parent = item
        self.team.triage_queue.put(triage, RANK_TICKET)

    def triaged(self, triage: Item, actor: str) -> None:
        """A support person has screened the item ``triage`` serves."""
        item = triage.parent
        assert item is not None
        if item.state != "waiting":
            return
        ip = self.config
        u = self.rng.random()
        if item.kind == "ping" and u < ip.triage_resolves:
            self.ledger.complete(item, "support")
        elif item.kind == "ticket" and u < ip.triage_still_urgent:
            self.lead.interrupt(item)
        else:
            item.urgent = True
            self.lead.assign(item)

    def _office_hours(self) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(self.config.office_hour)
        while True:
            batch, self.office_queue = self.office_queue, []
            for item in batch:
                if item.state == "waiting":
                    self.lead.interrupt(item)
            yield self.env.timeout(self.day)


class DirectAccessMechanism(Mechanism):
    """Customers who pulled the lead into their own Slack or JIRA ping him directly.

    The first ``customers`` initial live customers have direct access; each pings at
    ``pings_per_week`` while live, each ping an interrupt a triage person may screen.
    """

    section = "interrupts.direct_access"

    def __init__(
        self,
        config: DirectAccess,
        week: float,
        env: simpy.Environment,
        ledger: Ledger,
        streams: Streams,
        send: Send,
    ) -> None:
        self.config = config
        self.week = week
        self.env = env
        self.ledger = ledger
        self.streams = streams
        self.send = send

    @staticmethod
    def switched_on(config: DirectAccess) -> bool:
        return config.enabled and config.customers > 0 and config.pings_per_week > 0

    def grant(self, cust: Customer, index: int) -> None:
        """Initial customer number ``index`` gets direct access if it is among the first."""
        cust.direct_access = self.config.enabled and index < self.config.customers

    def went_live(self, cust: Customer) -> None:
        if cust.direct_access and self.config.pings_per_week > 0:
            self.env.process(self._pings(cust))

    def _pings(self, cust: Customer) -> Generator[simpy.Event, Any, None]:
        da = self.config
        gap = exponential(self.week / da.pings_per_week).sampler(
            self.streams.get(Source.PINGS, cust.id)
        )
        # Efforts from a stream of their own: ping k of customer c costs the same under
        # every policy, and its effort is independent of its arrival gap.
        effort = da.effort.sampler(self.streams.get(Source.PING_EFFORT, cust.id))
        while True:
            yield self.env.timeout(gap())
            if cust.state != "live":
                return
            self.send(self.ledger.new("ping", cust, effort()))
