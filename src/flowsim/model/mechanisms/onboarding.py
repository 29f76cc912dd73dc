"""Onboarding: bespoke projects released piecemeal, delegable tasks gated by the lead's
specs and reviews, and the go-live when every task is done."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import simpy
from pydantic import Field

from flowsim.model.calendar import WEEKS_PER_QUARTER, Calendar
from flowsim.model.customers import CustomerBase
from flowsim.model.distributions import Distribution, IntegerUniform, lognormal
from flowsim.model.effects import PlatformEffects
from flowsim.model.entities import Customer, Item
from flowsim.model.eventlog import EventLog
from flowsim.model.lead import LeadEngineer
from flowsim.model.ledger import Ledger
from flowsim.model.mechanism import Mechanism
from flowsim.model.recorder import Table, Window, percentile_or_nan
from flowsim.model.section import Section
from flowsim.model.streams import Source, Streams
from flowsim.model.team import RANK_TASK, Team, TeamAtWork

CustomerHook = Callable[[Customer], None]


class Onboarding(Section):
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


class OnboardingMechanism(Mechanism):
    """A signed customer's onboarding: a project of tasks, released a few at a time.

    Each task needs the lead (a share lowered by platform investment) or is delegated:
    a developer may start it only after the lead's spec, and a finished one waits for
    his review, which may send it back for rework.  New asks from status calls join
    the project.  The customer goes live when every task and ask is done.

    Hooks, called in order: ``on_started`` when an onboarding with tasks starts
    (status calls), ``on_new_work`` when a task is released or an ask added (promises),
    ``on_work_done`` when a task or ask is done (forecasts, defects), ``on_live`` when
    the customer goes live (health, tickets, pings, intake).
    """

    section = "onboarding"
    events = ("onboarding", "live", "review_wait", "rework")
    shapes_ticket_queue = False  # it has work only for customers that sales signs

    def __init__(
        self,
        config: Onboarding,
        team_config: Team,
        cal: Calendar,
        env: simpy.Environment,
        ledger: Ledger,
        log: EventLog,
        lead: LeadEngineer,
        team: TeamAtWork,
        customers: CustomerBase,
        effects: PlatformEffects,
        streams: Streams,
    ) -> None:
        self.config = config
        self.team_config = team_config
        self.cal = cal
        self.env = env
        self.ledger = ledger
        self.log = log
        self.lead = lead
        self.team = team
        self.customers = customers
        self.effects = effects
        self.streams = streams
        self.review_rng = streams.get(Source.REVIEWS)
        self.golives = Table("customer", "signed", "onboarding_at", "live_at")
        self.finished_work = Table("arrived", "done")  # tasks and asks, for their cycle times
        self.on_started: list[CustomerHook] = []
        self.on_work_done: list[Callable[[Item], None]] = []
        self.on_new_work: list[Callable[[Item], None]] = []
        self.on_live: list[CustomerHook] = []

    @property
    def reviews_on(self) -> bool:
        return self.team_config.review_share > 0

    # ---------------------------------------------------------------- the project
    def begin(self, cust: Customer) -> None:
        """Start ``cust``'s onboarding: draw its project and release the first tasks."""
        now = self.env.now
        p = self.config
        cust.state = "onboarding"
        cust.onboarding_at = now
        self.customers.activate(cust)
        self.customers.n_onboarding += 1
        self.log.add(now, cust.id, "customer", "onboarding", "")
        rng = self.streams.get(Source.ONBOARDING, cust.id)
        n = int(p.tasks.draw(rng, 1)[0])
        efforts = p.task_effort.draw(rng, n)
        lead_us = rng.random(n)
        rework = rng.random((n, 3))
        cust.pending_tasks = [
            (float(efforts[k]), float(lead_us[k]), rework[k].tolist()) for k in range(n)
        ]
        cust.unfinished = n
        self.release(cust)
        if n == 0:
            self.go_live(cust)
            return
        for hook in self.on_started:
            hook(cust)

    def resume(
        self,
        cust: Customer,
        open_work: list[tuple[str, float, float, list[float], float]],
        pending: list[tuple[float, float, list[float]]],
    ) -> list[Item]:
        """Start ``cust``'s onboarding part-way through, as a starting state says.

        ``open_work`` is its open tasks and asks as (kind, effort, lead need, rework
        draws, when raised), all released at once; ``pending`` is the tasks still to
        come, released as :meth:`begin`'s are.  ``cust.onboarding_at`` is already set.
        Returns the open items, in order.
        """
        cust.state = "onboarding"
        self.customers.activate(cust)
        self.customers.n_onboarding += 1
        self.log.add(self.env.now, cust.id, "customer", "onboarding", "")
        cust.pending_tasks = list(pending)
        cust.unfinished = len(open_work) + len(pending)
        items = []
        for kind, effort, lead_u, rework_u, origin in open_work:
            item = self.ledger.new(kind, cust, effort, "", origin)
            item.lead_u = lead_u
            item.rework_u = rework_u
            cust.work[item.id] = item
            for hook in self.on_new_work:
                hook(item)
            cust.open_tasks += kind == "task"
            self.route(item)
            items.append(item)
        self.release(cust)
        if cust.unfinished == 0:
            self.go_live(cust)
        else:
            for started in self.on_started:
                started(cust)
        return items

    def release(self, cust: Customer) -> None:
        """Release pending tasks while fewer than ``parallel_tasks`` are open."""
        limit = self.config.parallel_tasks
        while cust.pending_tasks and (limit is None or cust.open_tasks < limit):
            effort, lead_u, rework_u = cust.pending_tasks.pop(0)
            task = self.ledger.new("task", cust, effort, "", cust.onboarding_at)
            task.lead_u = lead_u
            task.rework_u = rework_u
            cust.work[task.id] = task
            for hook in self.on_new_work:
                hook(task)
            cust.open_tasks += 1
            self.route(task)

    def add_ask(self, cust: Customer, rng: np.random.Generator, effort: float) -> None:
        """A new ask from a status call joins the project."""
        ask = self.ledger.new("ask", cust, effort, "", cust.onboarding_at)
        ask.lead_u = float(rng.random())
        ask.rework_u = rng.random(3).tolist()
        cust.work[ask.id] = ask
        for hook in self.on_new_work:
            hook(ask)
        cust.unfinished += 1
        self.route(ask)

    def route(self, item: Item) -> None:
        """A task or ask: the lead's, or delegated behind his spec."""
        team = self.team
        if item.lead_u < self.effects.onboarding_lead_share or not team.has_dev:
            self.lead.assign(item)
            return
        spec_hours = item.effort * self.team_config.spec_share * self._overhead()
        if spec_hours > 0:
            spec = self.ledger.new("spec", item.customer, spec_hours, "", item.origin)
            self._gate(item, spec)
            self.lead.assign(spec)
        else:
            team.dev_queue.put(item, RANK_TASK)

    def work_done(self, item: Item, actor: str) -> None:
        """A task or ask is done: release the next, or go live when none is left."""
        self._closed(item)
        self.finished_work.append((item.arrived, self.env.now))
        for hook in self.on_work_done:
            hook(item)
        cust = item.customer
        if cust is not None and cust.state == "onboarding":
            cust.unfinished -= 1
            self.release(cust)
            if cust.unfinished == 0:
                self.go_live(cust)

    def go_live(self, cust: Customer) -> None:
        now = self.env.now
        cust.state = "live"
        cust.live_at = now
        self.customers.n_onboarding -= 1
        self.customers.live += 1
        self.golives.append((cust.id, cust.signed_at, cust.onboarding_at, now))
        self.log.add(now, cust.id, "customer", "live", "")
        for hook in self.on_live:
            hook(cust)

    # ---------------------------------------------------------------- specs and reviews
    def finished(self, item: Item, actor: str) -> None:
        """A developer has done a task or ask: it waits for the lead's review (unless its
        customer left meanwhile)."""
        if self.ledger.drop_if_customer_left(item):
            return
        if item.kind == "task" or item.kind == "ask":
            self._request_review(item)
        else:
            self.ledger.complete(item, actor)

    def _request_review(self, task: Item) -> None:
        task.state = "waiting"
        self.log.add(self.env.now, task.id, task.kind, "review_wait", "")
        hours = task.effort * self.team_config.review_share * self._overhead()
        review = self.ledger.new("review", task.customer, hours, "", task.origin)
        self._gate(task, review)
        self.lead.assign(review)

    def spec_done(self, spec: Item, actor: str) -> None:
        self.team.ungate()
        task = spec.parent
        assert task is not None
        task.gate = None
        if task.state == "waiting":
            self.team.dev_queue.put(task, RANK_TASK)

    def review_done(self, review: Item, actor: str) -> None:
        self.team.ungate()
        task = review.parent
        assert task is not None
        task.gate = None
        if task.state == "waiting":
            self._after_review(task, actor)

    def _after_review(self, task: Item, actor: str) -> None:
        task.reviews += 1
        u = (
            task.rework_u[task.reviews - 1]
            if task.reviews <= len(task.rework_u)
            else self.review_rng.random()
        )
        if u < self.team_config.rework_probability:
            task.remaining = task.effort * self.team_config.rework_share
            self.log.add(self.env.now, task.id, task.kind, "rework", actor)
            self.team.dev_queue.put(task, RANK_TASK)
        else:
            self.ledger.complete(task, actor)

    def dropped(self, item: Item) -> None:
        # A waiting spec or review is always in the lead's backlog: dropping it frees
        # the task it gates.
        if item.kind == "spec" or item.kind == "review":
            self.team.ungate()
        elif item.kind == "task" or item.kind == "ask":
            self._closed(item)

    def _closed(self, item: Item) -> None:
        """A task or ask leaves its customer's open work."""
        cust = item.customer
        if cust is not None and cust.work.pop(item.id, None) is not None and item.kind == "task":
            cust.open_tasks -= 1

    def _gate(self, task: Item, gate: Item) -> None:
        """``gate`` (a spec or review) now holds ``task`` up, and carries its pressure."""
        gate.parent = task
        task.gate = gate
        gate.due = task.due
        gate.urgent = task.urgent
        self.team.gate()

    def _overhead(self) -> float:
        role = self.team.role_overhead()
        mult = self.effects.overhead_mult
        return mult if role is None else role * mult

    # ---------------------------------------------------------------- after the run
    def metrics(self, window: Window) -> dict[str, float]:
        w = window
        day = self.cal.day
        weeks = (w.end - w.start) / self.cal.week
        golives = [(c, s, o, live) for c, s, o, live in self.golives.rows if live in w]
        lead_times = [(live - onb) / day for _, _, onb, live in golives]
        m: dict[str, float] = {
            "go_lives": len(golives),
            "go_lives_per_quarter": len(golives) / weeks * WEEKS_PER_QUARTER,
        }
        for q in (50, 85, 95):
            m[f"onboarding_lead_time_p{q}_days"] = percentile_or_nan(lead_times, q)
        cycle = [(done - arrived) / day for arrived, done in self.finished_work.rows if done in w]
        m["onboarding_task_p50_days"] = percentile_or_nan(cycle, 50)
        m["onboarding_task_p85_days"] = percentile_or_nan(cycle, 85)
        m["signed_to_live_p85_days"] = percentile_or_nan(
            [(live - signed) / day for _, signed, _, live in golives], 85
        )
        # Where few or none go live, the age of the onboardings still open tells the story.
        open_ages = [
            (w.end - c.onboarding_at) / day
            for c in self.customers.all.values()
            if c.state == "onboarding" and c.onboarding_at is not None
        ]
        m["open_onboarding_age_p50_days"] = percentile_or_nan(open_ages, 50)
        return m
