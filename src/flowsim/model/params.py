"""The model's typed parameters: one validated object per run.

Every field documents its unit and where its default comes from; ``flowsim
schema`` prints these descriptions as JSON Schema. Defaults are the documented
starting calibration of the story's company (see ``configs/baseline.yaml``);
each is an assumption that a user overrides with their own numbers.

Clock: simulated time is continuous, in working hours of the calendar; a day
has ``simulation.hours_per_day`` hours and a week five days.  Nights and
weekends are not simulated.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from flowsim.model.distributions import (
    Distribution,
    IntegerUniform,
    Poisson,
    constant,
    exponential,
    lognormal,
)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, validate_default=True)


def _on(what: str) -> bool:
    return Field(True, description=f"Off switch for {what}: false removes the mechanism.")


class Simulation(_Section):
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


class Prioritisation(_Section):
    """How the lead picks his next item from his backlog."""

    policy: Literal["fifo", "urgent_first", "top_n", "oldest_first", "classes_of_service"] = Field(
        "top_n",
        description=(
            "fifo: first come first served; urgent_first: urgent and escalated first, then FIFO; "
            "top_n: the CEO's daily list of the top N items (urgent, then promised by due time, "
            "then by list_order), re-ranked each morning; oldest_first: by the age of the "
            "customer's request; classes_of_service: an expedite lane of limited size, then "
            "items with a dated promise by due time, then FIFO."
        ),
    )
    top_n: int = Field(10, ge=1, description="Length of the daily list (top_n policy). Story: 10.")
    list_order: Literal["newest", "oldest"] = Field(
        "newest",
        description=(
            "Order of non-urgent, unpromised items on the daily list: newest first (the "
            "squeaky wheel, the story's CEO) or oldest first."
        ),
    )
    expedite_limit: int = Field(
        2, ge=1, description="Items allowed in the expedite lane at once (classes_of_service)."
    )


class Lead(_Section):
    """The bottleneck engineer."""

    capacity_hours_per_week: float = Field(
        45,
        gt=0,
        description="Hours he works per week (story: overtime, 45). He works this many hours "
        "in each 5-day calendar week.",
    )
    wip_limit: int | None = Field(
        None,
        ge=1,
        description="Lead WIP limit: at most this many started, unfinished items; null for none.",
    )
    prioritisation: Prioritisation = Field(default_factory=Prioritisation)
    annual_cost: float = Field(150_000, ge=0, description="Cost per year, in currency units.")


class ContextSwitching(_Section):
    """Mechanism 2: efficiency falls with the number of items started and not finished."""

    enabled: bool = _on("context switching")
    efficiency: list[float] = Field(
        [1.0, 0.8, 0.6, 0.4, 0.25],
        min_length=1,
        description=(
            "Share of his time on task with 1, 2, 3, ... started items; the last value holds "
            "for more. Source: Weinberg, Quality Software Management vol. 1."
        ),
    )

    @model_validator(mode="after")
    def _shares(self) -> ContextSwitching:
        if any(not 0 < e <= 1 for e in self.efficiency):
            raise ValueError(f"efficiency values must be in (0, 1], got {self.efficiency}")
        return self


class DirectAccess(_Section):
    """Customers who reach the lead directly (their own Slack / JIRA)."""

    enabled: bool = _on("direct pings from customers")
    customers: int = Field(2, ge=0, description="Live customers with direct access. Story: 2.")
    pings_per_week: float = Field(3, ge=0, description="Pings per week from each such customer.")
    effort: Distribution = Field(
        default_factory=lambda: constant(0.25), description="Lead hours to answer one ping."
    )


class Interrupts(_Section):
    """Mechanism 3: urgent work and pings preempt the lead's current item."""

    enabled: bool = Field(
        True,
        description="Off switch for preemption: false puts urgent work, pings and escalations "
        "in the lead's backlog (at the front) instead of interrupting him.",
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
    direct_access: DirectAccess = Field(default_factory=DirectAccess)


class Team(_Section):
    """Contractors and engineers who take delegable work, gated by the lead."""

    contractors: int = Field(2, ge=0, description="Contractors at the start. Story: 2.")
    engineers: int = Field(0, ge=0, description="Employed engineers at the start (fully ramped).")
    support: int = Field(0, ge=0, description="Support people at the start.")
    hours_per_week: float = Field(40, gt=0, description="Hours each team member works per week.")
    spec_share: float = Field(
        0.2, ge=0, description="Lead hours to spec a delegated task, as a share of its effort."
    )
    review_share: float = Field(
        0.1, ge=0, description="Lead hours to review a delegated task, as a share of its effort."
    )
    rework_probability: float = Field(
        0.25, ge=0, lt=1, description="Chance a review sends the work back. Story: 25%."
    )
    rework_share: float = Field(
        0.3, gt=0, description="Effort of a rework round, as a share of the task's effort."
    )
    engineer_overhead_factor: float = Field(
        0.5,
        ge=0,
        description="Spec and review overhead for an employed engineer, relative to a contractor.",
    )
    contractor_annual_cost: float = Field(80_000, ge=0, description="Cost per contractor per year.")
    engineer_annual_cost: float = Field(110_000, ge=0, description="Cost per engineer per year.")
    support_annual_cost: float = Field(
        60_000, ge=0, description="Cost per support person per year."
    )


class Hire(_Section):
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


class Hiring(_Section):
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


class Sales(_Section):
    """Signed customers arriving from sales."""

    new_customers_per_month: float = Field(
        2, ge=0, description="Signed customers per month (21 working days), Poisson. Story: 2."
    )


class Intake(_Section):
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


class Onboarding(_Section):
    """Bespoke onboarding projects."""

    tasks: Distribution = Field(
        default_factory=lambda: IntegerUniform(low=8, high=15),
        description="Tasks per onboarding. Story: 8-15, months of piecemeal work.",
    )
    task_effort: Distribution = Field(
        default_factory=lambda: lognormal(12, 1.0),
        description="Effort of one task, in hours of the person doing it (heavy-tailed).",
    )
    lead_share: float = Field(
        0.6, ge=0, le=1, description="Share of tasks only the lead can do. Story: 60%."
    )
    parallel_tasks: int | None = Field(
        3,
        ge=1,
        description="Tasks of one customer open at a time (the project is released piecemeal); "
        "null releases all tasks at once.",
    )
    fee: float = Field(0, ge=0, description="One-off onboarding fee, charged at onboarding start.")


class TicketClass(_Section):
    """One class of support ticket."""

    share: float = Field(ge=0, le=1, description="Share of tickets in this class.")
    effort: Distribution = Field(description="Hours to resolve one ticket.")
    lead_share: float = Field(0.7, ge=0, le=1, description="Share needing the lead (live access).")
    target_days: float = Field(
        gt=0, description="Resolution time the customer expects, in days; longer hurts health."
    )


TicketClassName = Literal["urgent", "normal", "how_to"]
DueOption = Literal["end_of_today", "tomorrow", "this_week"]
ForgettableKind = Literal["ticket", "task", "ask"]


def _ticket_classes() -> dict[TicketClassName, TicketClass]:
    return {
        "urgent": TicketClass(share=0.2, effort=lognormal(2, 1.0), target_days=1),
        "normal": TicketClass(share=0.5, effort=lognormal(4, 1.0), target_days=5),
        "how_to": TicketClass(share=0.3, effort=lognormal(0.5, 1.0), target_days=2),
    }


class Tickets(_Section):
    """Support tickets raised by live customers."""

    enabled: bool = _on("support tickets")
    per_customer_per_week: float = Field(
        1, ge=0, description="Tickets per live customer per week, Poisson. Story: 1."
    )
    classes: dict[TicketClassName, TicketClass] = Field(
        default_factory=_ticket_classes,
        description="Ticket classes; shares must add up to 1. Story: 20% / 50% / 30%.",
    )

    @model_validator(mode="after")
    def _shares_sum(self) -> Tickets:
        total = sum(c.share for c in self.classes.values())
        if self.classes and abs(total - 1) > 1e-6:
            raise ValueError(f"ticket class shares must add up to 1, got {total:g}")
        return self


class StatusCalls(_Section):
    """Mechanism 1: weekly status calls with every onboarding customer."""

    enabled: bool = _on("status calls")
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


class Commitments(_Section):
    """Mechanism 4: dated promises, kept or broken."""

    enabled: bool = _on("promises")
    policy: Literal["end_of_today", "tomorrow", "this_week", "mixed", "forecast", "none"] = Field(
        "mixed",
        description="Due time of a promise: end of today, end of tomorrow, end of this week, a "
        "mix of those (weights in `mix`), a forecast from recent lead times, or no dated promise.",
    )
    mix: dict[DueOption, float] = Field(
        default_factory=lambda: {"end_of_today": 0.5, "this_week": 0.5},  # type: ignore[arg-type,dict-item]
        description="Weights of the due-time options under `mixed`. Story: today / this week.",
    )
    forecast_percentile: float = Field(
        85, gt=0, lt=100, description="Percentile of recent lead times quoted (forecast)."
    )
    escalation_effort: Distribution = Field(
        default_factory=lambda: constant(1.0),
        description="Lead hours an escalation after a broken promise costs (an interrupt).",
    )

    @model_validator(mode="after")
    def _mix(self) -> Commitments:
        if self.policy == "mixed" and (not self.mix or sum(self.mix.values()) <= 0):
            raise ValueError(
                "commitments.mix needs at least one positive weight for policy 'mixed'"
            )
        return self


class Forgetting(_Section):
    """Mechanism 5: items left off the daily list are forgotten and resurface as fires."""

    enabled: bool = _on("forgetting (acts only under the top_n prioritisation)")
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


class Quality(_Section):
    """Mechanism 7 (optional): defects grow with the lead's backlog."""

    enabled: bool = Field(False, description="Off switch for defects under pressure.")
    base_defect_probability: float = Field(0.02, ge=0, le=1, description="Defect chance per item.")
    per_backlog_item: float = Field(
        0.002, ge=0, description="Extra defect chance per item in the lead's backlog."
    )
    max_defect_probability: float = Field(0.3, ge=0, le=1, description="Cap on the defect chance.")


class Health(_Section):
    """Customer health score, 0-100, as customer-success teams track it."""

    enabled: bool = _on("health changes")
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

    @model_validator(mode="after")
    def _bands(self) -> Health:
        if self.red_below > self.green_at:
            raise ValueError(
                f"red_below ({self.red_below}) must not exceed green_at ({self.green_at})"
            )
        return self


class Churn(_Section):
    """Customers leaving: a baseline hazard, raised by long spells in red health."""

    enabled: bool = _on("churn")
    monthly_hazard: float = Field(
        0.01, ge=0, le=1, description="Baseline chance per month a customer leaves. Assumption: 1%."
    )
    red_weeks: float = Field(4, ge=0, description="Weeks in red before the hazard rises.")
    red_multiplier: float = Field(2, ge=1, description="Hazard multiplier after red_weeks in red.")
    onboarding_can_churn: bool = Field(
        True, description="Whether customers still onboarding can walk away too."
    )


class Revenue(_Section):
    """What a live customer pays."""

    arr_per_customer: float = Field(
        50_000, ge=0, description="Annual recurring revenue per live customer, from go-live."
    )


class Customers(_Section):
    """The customer base at the start."""

    initial_live: int = Field(20, ge=0, description="Live customers at the start. Story: 20.")


class Platform(_Section):
    """Platform investment: protected lead time that makes the platform safe for others."""

    enabled: bool = Field(False, description="Off switch: the baseline invests nothing.")
    share_of_week: float = Field(
        0.2, ge=0, le=1, description="Share of the lead's week spent on the platform."
    )
    hours_per_step: float = Field(40, gt=0, description="Lead hours invested per improvement step.")
    lead_share_cut: float = Field(
        0.02, ge=0, le=1, description="Each step cuts every lead-required share by this (absolute)."
    )
    lead_share_floor: float = Field(0.2, ge=0, le=1, description="Lead-required shares stop here.")
    overhead_cut: float = Field(
        0.05, ge=0, le=1, description="Each step cuts spec/review overhead by this (relative)."
    )
    overhead_floor: float = Field(
        0.5, ge=0, le=1, description="Spec/review overhead stops at this share of its start."
    )
    defect_cut: float = Field(
        0.05, ge=0, le=1, description="Each step cuts the defect chance by this (relative)."
    )


class Params(_Section):
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
        if self.interrupts.shielding == "triage" and not (
            self.team.support > 0 or any(h.role == "support" for h in self.hiring.plan)
        ):
            raise ValueError(
                "interrupts.shielding 'triage' needs a support person: set team.support >= 1 "
                "or add a support hire to hiring.plan"
            )
        if self.interrupts.office_hour >= self.simulation.hours_per_day:
            raise ValueError(
                f"interrupts.office_hour ({self.interrupts.office_hour}) must fall inside the "
                f"working day of {self.simulation.hours_per_day} hours"
            )
        return self
