"""Hiring: who joins and when, how a new hire ramps up, and the mentoring it costs the
lead (Brooks's law; Abdel-Hamid & Madnick's assimilation delay and training overhead)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Literal

import simpy
from pydantic import Field, model_validator

from flowsim.model.backlog import Backlog, FifoBacklog
from flowsim.model.calendar import DAYS_PER_WEEK, Calendar
from flowsim.model.entities import Item
from flowsim.model.ledger import Ledger
from flowsim.model.mechanism import Mechanism
from flowsim.model.section import Section
from flowsim.model.team import TeamAtWork


class Hire(Section):
    """One entry of a hiring plan."""

    role: Literal["contractor", "engineer", "support"] = Field(
        description="contractor or engineer (delegable work, gated by the lead's specs and "
        "reviews; engineers need less of them) or support (how-to and triage)."
    )
    count: int = Field(1, ge=1, description="How many people join.")
    at_week: float | None = Field(None, ge=0, description="Week they join (fixed-week plan).")
    when_backlog_above: int | None = Field(
        None, ge=0, description="Trigger: they join the day the lead's backlog exceeds this."
    )

    @model_validator(mode="after")
    def _one_trigger(self) -> Hire:
        if (self.at_week is None) == (self.when_backlog_above is None):
            raise ValueError("a hire needs exactly one of at_week or when_backlog_above")
        return self


class Hiring(Section):
    """New hires: ramp-up and the mentoring they cost the lead (Brooks's law)."""

    plan: list[Hire] = Field(default_factory=list, description="Who joins and when.")
    ramp_start: float = Field(
        0.25, gt=0, le=1, description="Productivity of a new hire on day one, as a share."
    )
    ramp_weeks: float = Field(
        16,
        ge=0,
        description="Weeks to reach full productivity. Source: Brooks; Abdel-Hamid & Madnick.",
    )
    mentoring_hours_per_week: float = Field(
        4, ge=0, description="Lead hours per week each ramping hire costs, as interruptions."
    )


class HiringMechanism(Mechanism):
    """The hiring plan: hires at a fixed week, or on the day the lead's backlog passes
    a trigger.  A hire's productivity ramps from ``ramp_start`` to 1 over ``ramp_weeks``,
    and each ramping hire costs the lead daily mentoring (a scheduled interrupt)."""

    section = "hiring"

    def __init__(
        self,
        config: Hiring,
        cal: Calendar,
        env: simpy.Environment,
        ledger: Ledger,
        team: TeamAtWork,
        backlog: Backlog | FifoBacklog,
        at: Callable[[float, Callable[[], None]], None],
        send: Callable[[Item], None],
    ) -> None:
        self.config = config
        self.cal = cal
        self.env = env
        self.ledger = ledger
        self.team = team
        self.backlog = backlog
        self.at = at
        self.send = send
        self.triggers = [h for h in config.plan if h.when_backlog_above is not None]
        self.mentoring_hours = config.mentoring_hours_per_week / DAYS_PER_WEEK

    @staticmethod
    def switched_on(config: Hiring) -> bool:
        return bool(config.plan)

    def start(self) -> None:
        for hire in self.config.plan:
            if hire.at_week is not None:
                self.at(hire.at_week * self.cal.week, partial(self.hire, hire.role, hire.count))

    def hire(self, role: str, count: int) -> None:
        ramp_hours = self.config.ramp_weeks * self.cal.week
        for _ in range(count):
            self.team.add(role, self.config.ramp_start, ramp_hours)

    def daily(self) -> None:
        """Hires whose trigger is reached join; ramping hires get their mentoring."""
        for hire in list(self.triggers):
            if len(self.backlog) > (hire.when_backlog_above or 0):
                self.hire(hire.role, hire.count)
                self.triggers.remove(hire)
        if self.mentoring_hours > 0:
            now = self.env.now
            for w in self.team.workers:
                if w.ramping(now):
                    self.send(self.ledger.new("mentoring", None, self.mentoring_hours))
