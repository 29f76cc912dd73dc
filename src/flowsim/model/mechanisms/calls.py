"""Mechanism 1, status calls: every onboarding customer's regular call costs the lead's
time, makes promises on open items and adds small new asks."""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, Literal

import numpy as np
import simpy
from pydantic import Field

from flowsim.model.calendar import Calendar
from flowsim.model.distributions import Distribution, IntegerUniform, Poisson, Uniform, lognormal
from flowsim.model.entities import Customer, Item
from flowsim.model.lead import LeadEngineer
from flowsim.model.ledger import Ledger
from flowsim.model.mechanism import Mechanism
from flowsim.model.recorder import Table, Window
from flowsim.model.section import Section, off_switch
from flowsim.model.streams import Source, Streams


class StatusCalls(Section):
    """Mechanism 1: weekly status calls with every onboarding customer."""

    enabled: bool = off_switch("status calls")
    interval_weeks: float = Field(1, gt=0, description="Weeks between calls. Story: weekly.")
    format: Literal["call", "written"] = Field(
        "call", description="call: a meeting; written: a written update instead."
    )
    lead_attends: Literal["always", "when_needed", "never"] = Field(
        "always", description="Whether the lead is on the call. Story: always."
    )
    when_needed_probability: float = Field(
        0.2, ge=0, le=1, description="Chance he is needed on a call (lead_attends: when_needed)."
    )
    call_hours: float = Field(1, ge=0, description="Lead hours per call he attends. Story: 1.")
    lead_max_hours_per_week: float | None = Field(
        20,
        gt=0,
        description="Hours of status calls the lead attends in a calendar week at most; once "
        "they are taken, that week's other calls run without him (counted). Null: no limit. "
        "Assumption: calls 'in multiple each day' (the story), but nobody spends more than "
        "about half his week in status calls; the CEO takes the rest.",
    )
    written_hours: float = Field(
        0.25, ge=0, description="Lead hours to write one update (format: written)."
    )
    promises_per_call: Distribution = Field(
        default_factory=lambda: IntegerUniform(low=1, high=3),
        description="Dated promises made per call on open items. Story: 1-3.",
    )
    new_asks_per_call: Distribution = Field(
        default_factory=lambda: Poisson.model_validate({"mean": 0.5}),
        description="Small new asks added to the project per call (whole numbers; fractions are "
        "rounded down).",
    )
    ask_effort: Distribution = Field(
        default_factory=lambda: lognormal(3, 1.0), description="Hours of effort of one new ask."
    )


class StatusCallsMechanism(Mechanism):
    """A status call every ``interval_weeks`` with each customer while it onboards.

    A call the lead attends is a scheduled interrupt of ``call_hours``; a written
    update is ``written_hours`` in his backlog instead.  Each call draws, in a fixed
    number of draws so that call k is the same under every policy: whether the lead
    is needed, which due-time option a promise takes, how many promises and how many
    new asks it makes.  Promises go to ``promise`` (the commitments mechanism; None
    when it is off), new asks to ``add_ask`` (the onboarding project).
    """

    section = "status_calls"

    def __init__(
        self,
        config: StatusCalls,
        cal: Calendar,
        env: simpy.Environment,
        ledger: Ledger,
        lead: LeadEngineer,
        streams: Streams,
        send: Callable[[Item], None],
        add_ask: Callable[[Customer, np.random.Generator, float], None],
        promise: Callable[[Customer, int, float], None] | None,
    ) -> None:
        self.config = config
        self.cal = cal
        self.env = env
        self.ledger = ledger
        self.lead = lead
        self.streams = streams
        self.send = send
        self.add_ask = add_ask
        self.promise = promise
        self._week = -1  # the calendar week of his call hours booked so far
        self._booked = 0.0
        self.skipped = Table("time")  # calls he would have attended, beyond his limit

    @staticmethod
    def switched_on(config: StatusCalls) -> bool:
        return config.enabled

    def onboarding_started(self, cust: Customer) -> None:
        self.env.process(self._calls(cust))

    def _calls(self, cust: Customer) -> Generator[simpy.Event, Any, None]:
        sc = self.config
        rng = self.streams.get(Source.CALLS, cust.id)
        # Samplers with a fixed number of draws per call, so call k is the same under
        # every policy; the variable draws (asks) come from a separate generator.
        uniform = Uniform(low=0, high=1).sampler(rng)
        promises = sc.promises_per_call.sampler(rng)
        asks = sc.new_asks_per_call.sampler(rng)
        ask_rng = self.streams.get(Source.ASKS, cust.id)
        gap = sc.interval_weeks * self.cal.week
        while True:
            yield self.env.timeout(gap)
            if cust.state != "onboarding":
                return
            attend_u = uniform()
            mix_u = uniform()
            n_promises = int(promises())
            n_asks = int(asks())
            self._hold(cust, attend_u)
            if self.promise is not None:
                self.promise(cust, n_promises, mix_u)
            for _ in range(n_asks):
                self.add_ask(cust, ask_rng, float(sc.ask_effort.draw(ask_rng, 1)[0]))

    def _hold(self, cust: Customer, attend_u: float) -> None:
        sc = self.config
        if sc.format == "written":
            self.lead.assign(self.ledger.new("call", cust, sc.written_hours))
        elif sc.lead_attends == "always" or (
            sc.lead_attends == "when_needed" and attend_u < sc.when_needed_probability
        ):
            week = int(self.env.now // self.cal.week)
            if week != self._week:
                self._week, self._booked = week, 0.0
            cap = sc.lead_max_hours_per_week
            if cap is not None and self._booked + sc.call_hours > cap:
                self.skipped.append((self.env.now,))  # his calls for the week are taken
                return
            self._booked += sc.call_hours
            self.send(self.ledger.new("call", cust, sc.call_hours))

    def metrics(self, window: Window) -> dict[str, float]:
        return {"calls_without_lead": sum(1 for (t,) in self.skipped.rows if t in window)}
