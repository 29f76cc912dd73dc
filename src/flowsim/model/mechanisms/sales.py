"""Sales and intake: signed customers arrive, and the intake policy says which start
onboarding now and which wait in a signed backlog (where a deal may be lost)."""

from __future__ import annotations

from collections.abc import Callable, Generator
from functools import partial
from typing import Any, Literal

import simpy
from pydantic import Field

from flowsim.model.calendar import Calendar
from flowsim.model.customers import CustomerBase
from flowsim.model.distributions import Distribution, exponential
from flowsim.model.entities import Customer
from flowsim.model.eventlog import EventLog
from flowsim.model.mechanism import Mechanism
from flowsim.model.recorder import Table, Window
from flowsim.model.section import Section
from flowsim.model.streams import Source, Streams


class Sales(Section):
    """Signed customers arriving from sales."""

    new_customers_per_month: float = Field(
        2, ge=0, description="Signed customers per month (21 working days), Poisson. Story: 2."
    )


class Intake(Section):
    """Which signed customers start onboarding, and when."""

    policy: Literal["accept_all", "wip_limit", "fixed_rate"] = Field(
        "accept_all",
        description="accept_all: start at once; wip_limit: at most `limit` onboardings, the rest "
        "wait in a signed backlog; fixed_rate: start `starts_per_month` from the backlog.",
    )
    limit: int = Field(3, ge=1, description="Concurrent onboardings allowed (wip_limit).")
    starts_per_month: float = Field(
        1, gt=0, description="Onboarding starts per month (fixed_rate)."
    )
    patience_weeks: Distribution = Field(
        default_factory=lambda: exponential(12),
        description="How long a signed customer waits in the backlog before the deal is lost, "
        "in weeks.",
    )


class SalesMechanism(Mechanism):
    """Sales signs customers as a Poisson stream; the intake policy starts them.

    * ``accept_all``: every signed customer starts onboarding at once;
    * ``wip_limit``: at most ``limit`` onboard at once; the rest wait in the signed
      backlog, and the first in line starts when one goes live or churns;
    * ``fixed_rate``: ``starts_per_month`` start from the backlog at regular times.

    A customer who waits longer than its patience is a lost deal.
    """

    section = "sales"
    events = ("signed", "lost")

    def __init__(
        self,
        config: Sales,
        intake: Intake,
        cal: Calendar,
        env: simpy.Environment,
        log: EventLog,
        customers: CustomerBase,
        streams: Streams,
        at: Callable[[float, Callable[[], None]], None],
        begin_onboarding: Callable[[Customer], None],
    ) -> None:
        self.config = config
        self.intake = intake
        self.cal = cal
        self.env = env
        self.log = log
        self.customers = customers
        self.streams = streams
        self.at = at
        self.begin_onboarding = begin_onboarding
        self.lost = Table("customer", "time")

    @staticmethod
    def switched_on(config: Sales) -> bool:
        return config.new_customers_per_month > 0

    def start(self) -> None:
        self.env.process(self._sales())

    def start_intake(self) -> None:
        """The fixed-rate intake's clock (after the company's own clocks)."""
        if self.intake.policy == "fixed_rate":
            self.env.process(self._fixed_rate())

    def _sales(self) -> Generator[simpy.Event, Any, None]:
        rng = self.streams.get(Source.SALES)
        mean_gap = self.cal.month / self.config.new_customers_per_month
        while True:
            yield self.env.timeout(rng.exponential(mean_gap))
            self.signed(self.customers.new())

    def signed(self, cust: Customer) -> None:
        """A customer has signed: start its onboarding, or queue it under the intake policy."""
        now = self.env.now
        self.log.add(now, cust.id, "customer", "signed", "sales")
        intake = self.intake
        if intake.policy == "accept_all" or (
            intake.policy == "wip_limit" and self.customers.n_onboarding < intake.limit
        ):
            self.begin_onboarding(cust)
            return
        self.customers.signed_backlog.append(cust)
        rng = self.streams.get(Source.PATIENCE, cust.id)
        patience = float(intake.patience_weeks.draw(rng, 1)[0]) * self.cal.week
        self.at(now + patience, partial(self._lose, cust))

    def _lose(self, cust: Customer) -> None:
        if cust.state != "signed":
            return
        cust.state = "lost"
        cust.left_at = self.env.now
        self.customers.signed_backlog.remove(cust)
        self.lost.append((cust.id, self.env.now))
        self.log.add(self.env.now, cust.id, "customer", "lost", "patience")

    def pull(self, _cust: Customer | None = None) -> None:
        """A place came free (a go-live or a churn): start the next under a WIP limit."""
        if self.intake.policy == "wip_limit":
            backlog = self.customers.signed_backlog
            while backlog and self.customers.n_onboarding < self.intake.limit:
                self.begin_onboarding(backlog.popleft())

    def _fixed_rate(self) -> Generator[simpy.Event, Any, None]:
        gap = self.cal.month / self.intake.starts_per_month
        backlog = self.customers.signed_backlog
        while True:
            yield self.env.timeout(gap)
            if backlog:
                self.begin_onboarding(backlog.popleft())

    def metrics(self, window: Window) -> dict[str, float]:
        return {"lost_deals": sum(1 for _, t in self.lost.rows if t in window)}
