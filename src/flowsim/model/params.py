"""The model's typed parameters: one validated object per run.

Every field documents its unit and where its default comes from; ``flowsim
schema`` prints these descriptions as JSON Schema. Defaults are the documented
starting calibration of the story's company (see ``configs/baseline.yaml``);
each is an assumption that a user overrides with their own numbers.

Each section is defined beside what it drives: the mechanisms' sections in their
modules under :mod:`flowsim.model.mechanisms`, the lead's, the team's and the
customer base's in theirs.  This module assembles them and checks combinations.

Clock: simulated time is continuous, in working hours of the calendar; a day
has ``simulation.hours_per_day`` hours and a week five days.  Nights and
weekends are not simulated.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from flowsim.model.backlog import Prioritisation
from flowsim.model.customers import Customers, Revenue
from flowsim.model.lead import Lead
from flowsim.model.mechanisms.calls import StatusCalls
from flowsim.model.mechanisms.context_switching import ContextSwitching
from flowsim.model.mechanisms.forgetting import Forgetting
from flowsim.model.mechanisms.health import Churn, Health
from flowsim.model.mechanisms.hiring import Hire, Hiring
from flowsim.model.mechanisms.interrupts import DirectAccess, Interrupts
from flowsim.model.mechanisms.onboarding import Onboarding
from flowsim.model.mechanisms.platform import Platform
from flowsim.model.mechanisms.promises import Commitments
from flowsim.model.mechanisms.quality import Quality
from flowsim.model.mechanisms.sales import Intake, Sales
from flowsim.model.mechanisms.tickets import TicketClass, Tickets
from flowsim.model.section import Section
from flowsim.model.team import Team


class Simulation(Section):
    """Clock, horizon and what is recorded."""

    horizon_weeks: float = Field(104, gt=0, description="Length of a run, in weeks.")
    warmup_weeks: float = Field(
        13,
        ge=0,
        description="Initial weeks excluded from summary metrics (the event log keeps them), "
        "in weeks.",
    )
    hours_per_day: float = Field(8, gt=0, le=24, description="Working hours in a calendar day.")
    seed: int = Field(
        0, ge=0, description="Root seed of the run; replications are spawned from it."
    )
    event_log: bool = Field(
        True, description="Keep the per-event log (turn off for long studies to save memory)."
    )

    @model_validator(mode="after")
    def _warmup_inside(self) -> Simulation:
        if self.warmup_weeks >= self.horizon_weeks:
            raise ValueError(
                f"warmup_weeks ({self.warmup_weeks}) must be shorter than horizon_weeks "
                f"({self.horizon_weeks})"
            )
        return self


class Params(Section):
    """A whole flowsim configuration: the company, its mechanisms and its policies."""

    name: str = Field("baseline", description="Short name shown in reports.")
    description: str = Field("", description="What this configuration represents.")
    simulation: Simulation = Field(default_factory=Simulation)
    lead: Lead = Field(default_factory=Lead)
    context_switching: ContextSwitching = Field(default_factory=ContextSwitching)
    interrupts: Interrupts = Field(default_factory=Interrupts)
    team: Team = Field(default_factory=Team)
    hiring: Hiring = Field(default_factory=Hiring)
    sales: Sales = Field(default_factory=Sales)
    intake: Intake = Field(default_factory=Intake)
    onboarding: Onboarding = Field(default_factory=Onboarding)
    tickets: Tickets = Field(default_factory=Tickets)
    status_calls: StatusCalls = Field(default_factory=StatusCalls)
    commitments: Commitments = Field(default_factory=Commitments)
    forgetting: Forgetting = Field(default_factory=Forgetting)
    quality: Quality = Field(default_factory=Quality)
    health: Health = Field(default_factory=Health)
    churn: Churn = Field(default_factory=Churn)
    revenue: Revenue = Field(default_factory=Revenue)
    customers: Customers = Field(default_factory=Customers)
    platform: Platform = Field(default_factory=Platform)

    @model_validator(mode="after")
    def _combinations(self) -> Params:
        ip = self.interrupts
        if (
            ip.enabled
            and ip.shielding == "triage"
            and not (self.team.support > 0 or any(h.role == "support" for h in self.hiring.plan))
        ):
            raise ValueError(
                "interrupts.shielding 'triage' needs a support person: set team.support >= 1 "
                "or add a support hire to hiring.plan"
            )
        office_hours = ip.enabled and ip.shielding == "office_hours"
        if office_hours and ip.office_hour >= self.simulation.hours_per_day:
            raise ValueError(
                f"interrupts.office_hour ({self.interrupts.office_hour}) must fall inside the "
                f"working day of {self.simulation.hours_per_day} hours"
            )
        return self


__all__ = [
    "Churn",
    "Commitments",
    "ContextSwitching",
    "Customers",
    "DirectAccess",
    "Forgetting",
    "Health",
    "Hire",
    "Hiring",
    "Intake",
    "Interrupts",
    "Lead",
    "Onboarding",
    "Params",
    "Platform",
    "Prioritisation",
    "Quality",
    "Revenue",
    "Sales",
    "Simulation",
    "StatusCalls",
    "Team",
    "TicketClass",
    "Tickets",
]
