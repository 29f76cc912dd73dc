"""Mechanism 5, forgetting: items left off the CEO's daily list are forgotten and
resurface later as urgent customer problems that cost more than the original."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Literal

import numpy as np
import simpy
from pydantic import Field

from flowsim.model.backlog import Backlog, FifoBacklog
from flowsim.model.calendar import Calendar
from flowsim.model.distributions import Distribution, IntegerUniform
from flowsim.model.entities import Item
from flowsim.model.eventlog import EventLog
from flowsim.model.ledger import Ledger
from flowsim.model.mechanism import Mechanism
from flowsim.model.recorder import CountTrace, Table, Window
from flowsim.model.section import Section, off_switch

ForgettableKind = Literal["ticket", "task", "ask"]


class Forgetting(Section):
    """Mechanism 5: items left off the daily list are forgotten and resurface as fires."""

    enabled: bool = off_switch("forgetting (acts only under the top_n prioritisation)")
    daily_probability: float = Field(
        0.05, ge=0, le=1, description="Chance per day an unstarted item off the list is forgotten."
    )
    resurface_days: Distribution = Field(
        default_factory=lambda: IntegerUniform(low=10, high=20),
        description="Working days until a forgotten item resurfaces. Story: 10-20.",
    )
    effort_multiplier: float = Field(
        2, ge=1, description="Effort of the resurfaced item relative to the original. Story: 2x."
    )
    applies_to: list[ForgettableKind] = Field(
        default_factory=lambda: ["ticket", "task", "ask"],  # type: ignore[arg-type,list-item]
        description="Kinds of item that can be forgotten.",
    )
    resurface_to: Literal["backlog", "interrupt"] = Field(
        "backlog",
        description="Where a resurfaced item goes: backlog, to the front of the lead's backlog "
        "as urgent work (a customer problem the CEO puts first); interrupt, as an interrupt "
        "through the shielding policy (MODEL.md: it comes back as a problem that goes to the "
        "front of the backlog, interrupting only where shielding allows).",
    )


class ForgettingMechanism(Mechanism):
    """Each morning, after the CEO posts the daily list, every unstarted item off the
    list is forgotten with ``daily_probability``; it resurfaces after
    ``resurface_days`` as urgent work of ``effort_multiplier`` times its effort, at the
    front of the lead's backlog (``resurface_to: backlog``) or as an interrupt.

    It acts only under the ``top_n`` prioritisation (the wiring connects it only there).
    """

    section = "forgetting"
    events = ("forgotten", "resurfaced")

    def __init__(
        self,
        config: Forgetting,
        cal: Calendar,
        env: simpy.Environment,
        ledger: Ledger,
        log: EventLog,
        backlog: Backlog | FifoBacklog,
        backlog_size: CountTrace,
        rng: np.random.Generator,
        at: Callable[[float, Callable[[], None]], None],
        send: Callable[[Item], None],
        assign: Callable[[Item], None],
    ) -> None:
        self.config = config
        self.cal = cal
        self.env = env
        self.ledger = ledger
        self.log = log
        self.backlog = backlog
        self.backlog_size = backlog_size
        self.rng = rng
        self.resurface_days = config.resurface_days.sampler(rng)
        self.at = at
        self.resurface = assign if config.resurface_to == "backlog" else send
        self.on_resurfaced: list[Callable[[Item], None]] = []
        self.kinds = set(config.applies_to)
        self.open = 0
        self.times = Table("time")

    @staticmethod
    def switched_on(config: Forgetting) -> bool:
        return config.enabled and config.daily_probability > 0

    def daily(self) -> None:
        """Each unstarted item off today's list is forgotten with the daily probability."""
        items = list(self.backlog)
        if not items:
            return
        # One draw per backlog item, in backlog order, forgettable or not: vectorised and
        # reproducible, and only the few below the probability need a look.
        draws = self.rng.random(len(items))
        now = self.env.now
        for k in np.flatnonzero(draws < self.config.daily_probability).tolist():
            item = items[k]
            if item.list_pos >= 0 or item.started or item.kind not in self.kinds:
                continue
            self.backlog.remove(item)
            self.backlog_size.fall(now)
            item.state = "forgotten"
            self.open += 1
            self.times.append((now,))
            self.log.add(now, item.id, item.kind, "forgotten", "")
            delay = self.resurface_days() * self.cal.day
            self.at(now + delay, partial(self._resurface, item))

    def _resurface(self, item: Item) -> None:
        if item.state != "forgotten":
            return
        self.open -= 1
        item.resurfaced = True
        item.urgent = True
        item.started = False
        item.remaining = item.effort * self.config.effort_multiplier
        item.state = "waiting"
        self.log.add(self.env.now, item.id, item.kind, "resurfaced", "")
        for hook in self.on_resurfaced:
            hook(item)
        self.resurface(item)

    def dropped(self, item: Item) -> None:
        if item.state == "forgotten":
            self.open -= 1

    def metrics(self, window: Window) -> dict[str, float]:
        return {"items_forgotten": sum(1 for (t,) in self.times.rows if t in window)}
