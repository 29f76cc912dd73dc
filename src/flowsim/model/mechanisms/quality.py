"""Mechanism 7 (optional), quality under pressure: the defect rate of finished work
grows with the lead's backlog, and each defect is a new ticket."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import simpy
from pydantic import Field

from flowsim.model.backlog import Backlog, FifoBacklog
from flowsim.model.distributions import Distribution
from flowsim.model.effects import PlatformEffects
from flowsim.model.entities import Item
from flowsim.model.ledger import Ledger
from flowsim.model.mechanism import Mechanism
from flowsim.model.recorder import Table, Window
from flowsim.model.section import Section


class Quality(Section):
    """Mechanism 7 (optional): defects grow with the lead's backlog."""

    enabled: bool = Field(False, description="Off switch for defects under pressure.")
    base_defect_probability: float = Field(0.02, ge=0, le=1, description="Defect chance per item.")
    per_backlog_item: float = Field(
        0.002, ge=0, description="Extra defect chance per item in the lead's backlog."
    )
    max_defect_probability: float = Field(0.3, ge=0, le=1, description="Cap on the defect chance.")


class QualityMechanism(Mechanism):
    """A finished ticket, task or ask of an active customer comes back as a defect
    (a new ``normal`` ticket) with a chance that grows with the lead's backlog.

    Parameters
    ----------
    defect_effort : Distribution or None
        Effort of a defect (the ``normal`` ticket class's); None when there is no such
        class, and then no defects.
    route : callable
        Sends a new ticket to whoever may resolve it.
    """

    section = "quality"

    def __init__(
        self,
        config: Quality,
        env: simpy.Environment,
        ledger: Ledger,
        backlog: Backlog | FifoBacklog,
        effects: PlatformEffects,
        rng: np.random.Generator,
        defect_effort: Distribution | None,
        route: Callable[[Item], None],
    ) -> None:
        self.config = config
        self.env = env
        self.ledger = ledger
        self.backlog = backlog
        self.effects = effects
        self.rng = rng
        self.defect_effort = None if defect_effort is None else defect_effort.sampler(rng)
        self.route = route
        self.times = Table("time")

    @staticmethod
    def switched_on(config: Quality) -> bool:
        return config.enabled

    def maybe_defect(self, item: Item) -> None:
        q = self.config
        cust = item.customer
        if cust is None or not cust.active or self.defect_effort is None:
            return
        chance = q.base_defect_probability + q.per_backlog_item * len(self.backlog)
        chance = min(q.max_defect_probability, chance * self.effects.defect_mult)
        if self.rng.random() < chance:
            self.times.append((self.env.now,))
            defect = self.ledger.new("ticket", cust, self.defect_effort(), "normal")
            defect.lead_u = self.rng.random()
            self.route(defect)

    def metrics(self, window: Window) -> dict[str, float]:
        return {"defects": sum(1 for (t,) in self.times.rows if t in window)}
