"""The customer base: who the customers are, where each stands, and what they pay."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

import simpy
from pydantic import Field

from flowsim.model.calendar import Calendar
from flowsim.model.entities import Customer
from flowsim.model.recorder import Window
from flowsim.model.section import Section
from flowsim.model.streams import Source, Streams

if TYPE_CHECKING:
    import pandas as pd


class Customers(Section):
    """The customer base at the start."""

    initial_live: int = Field(20, ge=0, description="Live customers at the start. Story: 20.")


class Revenue(Section):
    """What a live customer pays."""

    arr_per_customer: float = Field(
        50_000, ge=0, description="Annual recurring revenue per live customer, from go-live."
    )


CUSTOMER_COLUMNS = (
    "customer",
    "state",
    "signed_day",
    "onboarding_day",
    "live_day",
    "left_day",
    "churned_while",
    "health",
    "direct_access",
)


class CustomerBase:
    """Every customer by id, the active ones (onboarding or live), and the signed backlog.

    It keeps running counts of the active customers by health band and of the live
    ones, so the daily sample reads them instead of scanning every customer; whoever
    moves a customer between those (activation, go-live, churn, a change of band) tells
    it.
    """

    def __init__(
        self,
        env: simpy.Environment,
        streams: Streams,
        initial_health: float,
        band: Callable[[float], str],
    ) -> None:
        self.env = env
        self.streams = streams
        self.initial_health = initial_health
        self.band = band
        self.all: dict[int, Customer] = {}
        self.active: dict[int, Customer] = {}
        self.n_onboarding = 0
        self.live = 0
        self.bands = {"green": 0, "yellow": 0, "red": 0}
        self.signed_backlog: deque[Customer] = deque()

    def activate(self, cust: Customer) -> None:
        """``cust`` starts onboarding (or is live from the start)."""
        self.active[cust.id] = cust
        self.bands[self.band(cust.health)] += 1
        if cust.state == "live":
            self.live += 1

    def deactivate(self, cust: Customer) -> None:
        """``cust`` leaves (while still in the state it leaves from)."""
        del self.active[cust.id]
        self.bands[self.band(cust.health)] -= 1
        if cust.state == "live":
            self.live -= 1

    def rebanded(self, before: str, after: str) -> None:
        """An active customer's health moved from band ``before`` to ``after``."""
        self.bands[before] -= 1
        self.bands[after] += 1

    def new(self) -> Customer:
        """A newly signed customer, with its own churn threshold (drawn once, for CRN)."""
        cust = Customer(len(self.all), self.env.now, self.initial_health)
        self.all[cust.id] = cust
        cust.churn_threshold = float(self.streams.get(Source.CHURN, cust.id).exponential())
        return cust

    # ---------------------------------------------------------------- after the run
    def frame(self, cal: Calendar) -> pd.DataFrame:
        """One row per customer: when signed, onboarded, live, left, and why."""
        import pandas as pd

        day = cal.day
        rows = [
            {
                "customer": c.id,
                "state": c.state,
                "signed_day": c.signed_at / day,
                "onboarding_day": math.nan if c.onboarding_at is None else c.onboarding_at / day,
                "live_day": math.nan if c.live_at is None else c.live_at / day,
                "left_day": math.nan if c.left_at is None else c.left_at / day,
                "churned_while": c.churned_while,
                "health": c.health,
                "direct_access": c.direct_access,
            }
            for c in self.all.values()
        ]
        return pd.DataFrame(rows, columns=list(CUSTOMER_COLUMNS))

    def metrics(
        self, window: Window, cal: Calendar, revenue: Revenue, fee: float
    ) -> dict[str, float]:
        """Customers at the horizon, ARR, revenue in the window and net revenue retention."""
        w = window
        arr = revenue.arr_per_customer
        year = float(cal.year)
        customers = self.all.values()
        live_end = sum(1 for c in customers if c.state == "live")
        earned = 0.0
        live_at_start = retained = 0
        for c in customers:
            if c.live_at is None:
                continue
            left = c.left_at if c.state == "churned" and c.left_at is not None else w.end
            earned += arr * w.overlap(c.live_at, left) / year
            if c.live_at <= w.start and left > w.start:
                live_at_start += 1
                retained += c.state == "live"
        fees = fee * sum(
            1 for c in customers if c.onboarding_at is not None and c.onboarding_at in w
        )
        return {
            "live_customers_at_horizon": live_end,
            "onboarding_at_horizon": self.n_onboarding,
            "arr_at_horizon": live_end * arr,
            "cumulative_revenue": earned + fees,
            "net_revenue_retention": retained / live_at_start if live_at_start else math.nan,
        }
