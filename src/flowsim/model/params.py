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
from flowsim.model.section import FolderName, Section
from flowsim.model.team import Team

MAX_HORIZON_WEEKS = 52_000
# About 200 times the baseline's two years: a few GB with the event log on.
MAX_WORK_ITEMS = 1_000_000


class Simulation(Section):
    """Clock, horizon and what is recorded."""

    horizon_weeks: float = Field(
        104,
        gt=0,
        le=MAX_HORIZON_WEEKS,
        description="Length of a run, in weeks (at most a thousand years, 52,000 weeks).",
    )
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
    max_work_items: int = Field(
        MAX_WORK_ITEMS,
        ge=1,
        description="Refuse a run expected to create more work items than this (tickets, "
        "onboarding tasks, pings): a mistyped rate would otherwise exhaust memory. Raise it "
        "knowingly for a very large company.",
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

    name: FolderName = Field(
        "baseline",
        description="Short name shown in reports; it names the default results folder, so "
        "no / \\ : and no leading dot.",
    )
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
        expected = self.expected_work_items()
        if expected > self.simulation.max_work_items:
            raise ValueError(
                f"this run would create about {expected:,.0f} work items, more than "
                f"simulation.max_work_items ({self.simulation.max_work_items:,}): check the "
                "rates and the horizon, or raise simulation.max_work_items knowingly"
            )
        office_hours = ip.enabled and ip.shielding == "office_hours"
        if office_hours and ip.office_hour >= self.simulation.hours_per_day:
            raise ValueError(
                f"interrupts.office_hour ({self.interrupts.office_hour}) must fall inside the "
                f"working day of {self.simulation.hours_per_day} hours"
            )
        return self

    def expected_work_items(self) -> float:
        """A generous estimate of the work items a run creates: every customer ever signed
        live for the whole horizon, with its tickets, onboarding tasks and pings."""
        weeks = self.simulation.horizon_weeks
        signed = self.sales.new_customers_per_month * weeks * 12 / 52
        customers = self.customers.initial_live + signed
        tickets = customers * self.tickets.per_customer_per_week * weeks
        tasks = signed * self.onboarding.tasks.mean
        direct = self.interrupts.direct_access
        pings = direct.customers * direct.pings_per_week * weeks
        return tickets + tasks + pings


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
