"""Customer health and churn: health moves with promises, ticket waits and go-live,
drifts back each week, and long spells in red raise the churn hazard."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable

import simpy
from pydantic import Field, model_validator

from flowsim.model.calendar import Calendar
from flowsim.model.customers import CustomerBase
from flowsim.model.entities import Customer, Item
from flowsim.model.eventlog import EventLog
from flowsim.model.ledger import Ledger
from flowsim.model.mechanism import Mechanism
from flowsim.model.recorder import Table, Window
from flowsim.model.section import Section, off_switch


class Health(Section):
    """Customer health score, 0-100, as customer-success teams track it."""

    enabled: bool = off_switch("health changes")
    initial: float = Field(75, ge=0, le=100, description="Score of a new or initial customer.")
    green_at: float = Field(70, ge=0, le=100, description="Green at or above this score.")
    red_below: float = Field(40, ge=0, le=100, description="Red below this score.")
    promise_kept: float = Field(3, ge=0, description="Points gained per promise kept.")
    promise_broken: float = Field(10, ge=0, description="Points lost per promise broken.")
    ticket_late: float = Field(5, ge=0, description="Points lost per ticket resolved after target.")
    ticket_on_time: float = Field(1, ge=0, description="Points gained per ticket on time.")
    go_live: float = Field(15, ge=0, description="Points gained at go-live.")
    weekly_recovery: float = Field(
        1, ge=0, description="Points per week the score drifts back toward `initial`."
    )

    def band(self, score: float) -> str:
        """``green``, ``yellow`` or ``red`` for a health score."""
        if score >= self.green_at:
            return "green"
        return "red" if score < self.red_below else "yellow"

    @model_validator(mode="after")
    def _bands(self) -> Health:
        if self.red_below > self.green_at:
            raise ValueError(
                f"red_below ({self.red_below}) must not exceed green_at ({self.green_at})"
            )
        return self


class Churn(Section):
    """Customers leaving: a baseline hazard, raised by long spells in red health."""

    enabled: bool = off_switch("churn")
    monthly_hazard: float = Field(
        0.01, ge=0, le=1, description="Baseline chance per month a customer leaves. Assumption: 1%."
    )
    red_weeks: float = Field(4, ge=0, description="Weeks in red before the hazard rises.")
    red_multiplier: float = Field(2, ge=1, description="Hazard multiplier after red_weeks in red.")
    onboarding_can_churn: bool = Field(
        True, description="Whether customers still onboarding can walk away too."
    )
    onboarding_gives_up_weeks: float | None = Field(
        52,
        gt=0,
        description="Weeks after its onboarding started after which a customer still not live "
        "walks away (counted as churned while onboarding). Null: it waits for ever. "
        "Assumption: B2B contracts run a year, and a customer with nothing live by its first "
        "renewal does not renew.",
    )


class HealthMechanism(Mechanism):
    """Each customer's health score, 0-100, and its band (green, yellow, red).

    A kept promise, a ticket resolved on time and the go-live raise it; a broken
    promise and a late ticket lower it; each week it drifts back towards ``initial``.
    A change of band is logged as a ``customer`` row.
    """

    section = "health"
    events = ("green", "yellow", "red")
    shapes_ticket_queue = False  # it moves scores; only churn acts on them

    def __init__(
        self,
        config: Health,
        env: simpy.Environment,
        log: EventLog,
        customers: CustomerBase,
        ticket_targets: dict[str, float],
    ) -> None:
        self.config = config
        self.env = env
        self.log = log
        self.customers = customers
        self.ticket_targets = ticket_targets  # clock hours a customer expects, by class

    @staticmethod
    def switched_on(config: Health) -> bool:
        return config.enabled

    def change(self, cust: Customer, delta: float) -> None:
        if delta == 0:
            return
        band = self.config.band
        before = band(cust.health)
        cust.health = min(100.0, max(0.0, cust.health + delta))
        after = band(cust.health)
        if after != before:
            self.customers.rebanded(before, after)
            self.log.add(self.env.now, cust.id, "customer", after, "")
        if after == "red":
            if cust.red_since is None:
                cust.red_since = self.env.now
        else:
            cust.red_since = None

    def went_live(self, cust: Customer) -> None:
        self.change(cust, self.config.go_live)

    def promise_resolved(self, cust: Customer, kept: bool) -> None:
        h = self.config
        self.change(cust, h.promise_kept if kept else -h.promise_broken)

    def ticket_resolved(self, item: Item) -> None:
        cust = item.customer
        if cust is not None and cust.active:
            h = self.config
            on_time = self.env.now - item.arrived <= self.ticket_targets[item.cls]
            self.change(cust, h.ticket_on_time if on_time else -h.ticket_late)

    def ticket_abandoned(self, item: Item) -> None:
        """A ticket closed as stale is, to its customer, a late one."""
        cust = item.customer
        if cust is not None and cust.active:
            self.change(cust, -self.config.ticket_late)

    def metrics(self, window: Window) -> dict[str, float]:
        """Health of the active customers at the end of the run (NaN with health off,
        or with nobody left)."""
        scores = [c.health for c in self.customers.active.values()]
        if not self.config.enabled or not scores:
            return {"health_median_at_horizon": math.nan, "red_share_at_horizon": math.nan}
        red = sum(1 for h in scores if self.config.band(h) == "red")
        return {
            "health_median_at_horizon": float(statistics.median(scores)),
            "red_share_at_horizon": red / len(scores),
        }

    def recover(self, cust: Customer) -> None:
        """A week's drift back towards the initial score."""
        gap = self.config.initial - cust.health
        if gap:
            self.change(cust, math.copysign(min(abs(gap), self.config.weekly_recovery), gap))


class ChurnMechanism(Mechanism):
    """Customers leave: each has a churn threshold drawn once (exponential), and its
    cumulative hazard grows each week by the monthly hazard, doubled (``red_multiplier``)
    after ``red_weeks`` in red; it leaves when the hazard passes the threshold.  Its open
    work is dropped, and ``on_churn`` hooks run (intake).
    """

    section = "churn"
    events = ("churned",)

    def __init__(
        self,
        config: Churn,
        cal: Calendar,
        env: simpy.Environment,
        log: EventLog,
        ledger: Ledger,
        customers: CustomerBase,
    ) -> None:
        self.config = config
        self.cal = cal
        self.env = env
        self.log = log
        self.ledger = ledger
        self.customers = customers
        self.churns = Table("customer", "time", "stage")
        self.gave_up = Table("time")
        self.on_churn: list[Callable[[Customer], None]] = []

    @staticmethod
    def switched_on(config: Churn) -> bool:
        return config.enabled

    def week_of(self, cust: Customer) -> None:
        """A week's hazard for ``cust``; it leaves when it passes its threshold, or when
        it has been onboarding for ``onboarding_gives_up_weeks`` without going live."""
        c = self.config
        if (
            cust.state == "onboarding"
            and c.onboarding_gives_up_weeks is not None
            and cust.onboarding_at is not None
            and self.env.now - cust.onboarding_at >= c.onboarding_gives_up_weeks * self.cal.week
        ):
            self.gave_up.append((self.env.now,))
            self.churn(cust)
            return
        if not (cust.state == "live" or c.onboarding_can_churn):
            return
        week = self.cal.week
        hazard = c.monthly_hazard
        red_for = self.env.now - cust.red_since if cust.red_since is not None else -1.0
        if red_for >= c.red_weeks * week:
            hazard = min(1.0, hazard * c.red_multiplier)
        if hazard >= 1.0:
            cust.hazard = math.inf
        else:
            cust.hazard += -math.log1p(-hazard) * week / self.cal.month
        if cust.hazard >= cust.churn_threshold:
            self.churn(cust)

    def churn(self, cust: Customer) -> None:
        now = self.env.now
        stage = cust.state
        if stage == "onboarding":
            self.customers.n_onboarding -= 1
        self.customers.deactivate(cust)
        cust.state = "churned"
        cust.churned_while = stage
        cust.left_at = now
        self.churns.append((cust.id, now, stage))
        self.log.add(now, cust.id, "customer", "churned", stage)
        for item in list(cust.open_items.values()):
            self.ledger.drop(item, "churned")
        cust.pending_tasks = []
        for hook in self.on_churn:
            hook(cust)

    def metrics(self, window: Window) -> dict[str, float]:
        stages = [stage for _, t, stage in self.churns.rows if t in window]
        return {
            "churned": len(stages),
            "churned_while_onboarding": sum(1 for s in stages if s == "onboarding"),
            "gave_up_onboarding": sum(1 for (t,) in self.gave_up.rows if t in window),
        }


def weekly_health_and_churn(
    customers: CustomerBase, health: HealthMechanism | None, churn: ChurnMechanism | None
) -> Callable[[], None]:
    """The weekly pass over active customers: each recovers health, then faces churn.

    One pass, customer by customer, because the order of their log rows depends on it.
    """

    def weekly() -> None:
        for cust in list(customers.active.values()):
            if health is not None:
                health.recover(cust)
            if churn is not None:
                churn.week_of(cust)

    return weekly
