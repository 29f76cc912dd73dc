"""The company: customers, the lead, the team and every mechanism of MODEL.md as SimPy processes.

The model never decides an outcome: each mechanism only moves work, time and
health the way its parameters say, and the results are whatever those add up to.
"""

from __future__ import annotations

import gc
import heapq
import math
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from functools import partial
from typing import Any

import numpy as np
import simpy

from flowsim.model.distributions import Sampler, Uniform, exponential
from flowsim.model.entities import SCHEDULED, STATES, Customer, Item
from flowsim.model.lead import Lead
from flowsim.model.params import Params
from flowsim.model.recorder import EventLog, HourBook, Level, Window
from flowsim.model.streams import Source, Streams
from flowsim.model.team import Worker, WorkQueue

_RANK_TICKET = 0.0
_RANK_TASK = 1.0
_EPS = 1e-9


class Company:
    """One replication of the company, built from validated parameters and a seed."""

    def __init__(self, params: Params, seed: int | np.random.SeedSequence) -> None:
        p = self.p = params
        self.env = simpy.Environment()
        self.day = p.simulation.hours_per_day
        self.week = 5 * self.day
        self.month = 21 * self.day
        self.horizon = p.simulation.horizon_weeks * self.week
        self.window = Window(p.simulation.warmup_weeks * self.week, self.horizon)
        self.streams = Streams(seed)
        self.log = EventLog(p.simulation.event_log)
        self.rows = self.log.rows
        self.logging = self.log.enabled

        self._next_id = 0
        self.state_counts = dict.fromkeys(STATES, 0)
        self.dropped_reasons: dict[str, int] = {}
        self.rec: dict[str, list[Any]] = {
            k: []
            for k in (
                "tickets",  # (class, arrived, done)
                "golives",  # (customer, signed, onboarding_at, live_at)
                "promises",  # (made, due, outcome, resolved)
                "forgotten",  # time
                "churn",  # (customer, time, stage)
                "lost",  # (customer, time)
                "defects",  # time
                "timeseries",
            )
        }
        self.recent_task_times: deque[float] = deque(maxlen=50)
        self._quote: float | None = None  # forecast quote, recomputed when the window moves
        self.health_on = p.health.enabled
        self.reviews_on = p.team.review_share > 0
        self.quality_on = p.quality.enabled
        self.ticket_target: dict[str, float] = {
            c: tc.target_days * self.day for c, tc in p.tickets.classes.items()
        }

        # Platform effects, updated as investment accrues.
        self.platform_hours = 0.0
        self.overhead_mult = 1.0
        self.defect_mult = 1.0
        self.onboarding_lead_share = p.onboarding.lead_share
        self.ticket_lead_share: dict[str, float] = {
            c: tc.lead_share for c, tc in p.tickets.classes.items()
        }

        self.lead = Lead(self)
        self.dev_queue = WorkQueue(self.env)
        self.support_queue = WorkQueue(self.env)
        self.workers: list[Worker] = []
        self.n_support = 0
        self.worker_book = HourBook(1.0)
        self.n_dev = Level()
        self.idle_dev = Level()
        self.blocked = Level()
        self.n_gated = 0
        self.lead_backlog_level = Level()
        self.office_queue: list[Item] = []
        self.promises: list[tuple[float, int, Item]] = []
        self.promise_records: dict[int, list[Any]] = {}
        self.n_promises = {"made": 0, "kept": 0, "broken": 0, "void": 0}

        self.customers: dict[int, Customer] = {}
        self.active: dict[int, Customer] = {}
        self.n_onboarding = 0
        self.signed_backlog: deque[Customer] = deque()
        self.tickets_open = 0
        self.tickets_created = 0
        self.forgotten_open = 0

        self._forget_rng = self.streams.get(Source.FORGETTING)
        self._quality_rng = self.streams.get(Source.QUALITY)
        self._review_rng = self.streams.get(Source.REVIEWS)
        self._triage_rng = self.streams.get(Source.TRIAGE)
        self._escalation_effort = p.commitments.escalation_effort.sampler(
            self.streams.get(Source.ESCALATIONS)
        )
        self._resurface_days = p.forgetting.resurface_days.sampler(self._forget_rng)
        self._defect_effort = (
            p.tickets.classes["normal"].effort.sampler(self._quality_rng)
            if "normal" in p.tickets.classes
            else None
        )

        self._build()

    # ---------------------------------------------------------------- setup
    def _build(self) -> None:
        p = self.p
        env = self.env
        for role, n in (
            ("contractor", p.team.contractors),
            ("engineer", p.team.engineers),
            ("support", p.team.support),
        ):
            for _ in range(n):
                self._add_worker(role, ramping=False)
        da = p.interrupts.direct_access
        for i in range(p.customers.initial_live):
            cust = self._new_customer()
            cust.onboarding_at = cust.live_at = 0.0
            cust.state = "live"
            self.active[cust.id] = cust
            cust.direct_access = da.enabled and i < da.customers
            self._start_live(cust)
        env.process(self._sales())
        env.process(self._daily())
        env.process(self._weekly())
        if p.intake.policy == "fixed_rate":
            env.process(self._fixed_rate_intake())
        if p.interrupts.enabled and p.interrupts.shielding == "office_hours":
            env.process(self._office_hours())
        self._at(self.window.start, self._end_warmup)
        for hire in p.hiring.plan:
            if hire.at_week is not None:
                self._at(hire.at_week * self.week, partial(self._hire, hire.role, hire.count))

    def _at(self, t: float, fn: Callable[[], None]) -> None:
        """Run ``fn`` at clock time ``t`` (a bare timeout callback costs one event)."""
        ev = self.env.timeout(max(0.0, t - self.env.now))
        ev.callbacks.append(lambda _ev: fn())

    def _end_warmup(self) -> None:
        """Snapshot every accumulator, so the summary covers the window alone."""
        now = self.env.now
        self.lead.split_segment()
        for w in self.workers:
            w.split_segment()
        self.lead.book.snapshot()
        self.worker_book.snapshot()
        for level in (self.n_dev, self.idle_dev, self.blocked, self.lead_backlog_level):
            level.snapshot(now)

    def run(self) -> None:
        # The cyclic collector would rescan the growing event log and records over and
        # over (a third of the run time); the model's objects unlink themselves when
        # done, so reference counting frees them and pausing the collector is safe.
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            self.env.run(until=self.horizon)
        finally:
            if was_enabled:
                gc.enable()
        self.lead.end_segment()
        for w in self.workers:
            w.split_segment()

    # ---------------------------------------------------------------- items
    def new_item(
        self,
        kind: str,
        customer: Customer | None,
        effort: float,
        cls: str = "",
        origin: float | None = None,
    ) -> Item:
        now = self.env.now
        item_id = self._next_id
        self._next_id += 1
        item = Item(item_id, kind, customer, effort, now, cls, origin)
        self.state_counts["waiting"] += 1
        if customer is not None:
            customer.open_items[item_id] = item
            if kind == "task" or kind == "ask":
                customer.work[item_id] = item
        if self.logging:
            self.rows.append((now, item_id, kind, "arrive", cls, item.customer_id))
        return item

    def set_state(self, item: Item, state: str) -> None:
        counts = self.state_counts
        counts[item.state] -= 1
        counts[state] += 1
        item.state = state

    def finish(self, item: Item, actor: str) -> None:
        """``actor`` finished its step on ``item``; move the work on."""
        if actor != "lead" and (item.kind == "task" or item.kind == "ask") and self.reviews_on:
            self._request_review(item)
            return
        self.complete(item, actor)

    def complete(self, item: Item, actor: str) -> None:
        now = self.env.now
        if item.state == "done":
            return
        counts = self.state_counts
        counts[item.state] -= 1
        counts["done"] += 1
        item.state = "done"
        if self.logging:
            self.rows.append((now, item.id, item.kind, "done", actor, item.customer_id))
        cust = item.customer
        if cust is not None:
            cust.open_items.pop(item.id, None)
            if item.kind == "task" or item.kind == "ask":
                cust.work.pop(item.id, None)
        if item.due is not None and item.id in self.promise_records:
            self._promise_resolved(item, kept=now <= item.due + _EPS)
        kind = item.kind
        if kind == "ticket":
            self.tickets_open -= 1
            self.rec["tickets"].append((item.cls, item.arrived, now))
            if self.health_on and cust is not None and cust.active:
                h = self.p.health
                on_time = now - item.arrived <= self.ticket_target[item.cls]
                self._health(cust, h.ticket_on_time if on_time else -h.ticket_late)
            if self.quality_on:
                self._maybe_defect(item)
        elif kind in ("task", "ask"):
            self.recent_task_times.append(now - item.arrived)
            self._quote = None
            if self.quality_on:
                self._maybe_defect(item)
            if cust is not None and cust.state == "onboarding":
                cust.unfinished -= 1
                self._release_tasks(cust)
                if cust.unfinished == 0:
                    self._go_live(cust)
        elif kind == "spec":
            self._ungate()
            task = item.parent
            assert task is not None
            task.gate = None
            if task.state == "waiting":
                self.dev_queue.put(task, _RANK_TASK)
        elif kind == "review":
            self._ungate()
            task = item.parent
            assert task is not None
            task.gate = None
            if task.state == "waiting":
                self._after_review(task, actor)
        elif kind == "platform":
            self._invest(item.effort)
        elif kind == "triage":
            self._after_triage(item)

    def drop(self, item: Item, reason: str) -> None:
        if item.state not in ("waiting", "forgotten"):
            return
        if item.id in self.lead.backlog.items:
            self.lead.backlog.remove(item)
            if item.kind in ("spec", "review"):
                self._ungate()
            self.lead_backlog_level.set(self.env.now, len(self.lead.backlog.items))
        if item.state == "forgotten":
            self.forgotten_open -= 1
        if item.kind == "ticket":
            self.tickets_open -= 1
        self.set_state(item, "dropped")
        if item.customer is not None:
            item.customer.open_items.pop(item.id, None)
            item.customer.work.pop(item.id, None)
        self.dropped_reasons[reason] = self.dropped_reasons.get(reason, 0) + 1
        self.log.add(self.env.now, item.id, item.kind, "dropped", reason, item.customer_id)

    # ---------------------------------------------------------------- routing
    def to_lead(self, item: Item) -> None:
        lead = self.lead
        lead.backlog.add(item)
        level = self.lead_backlog_level
        now = self.env.now
        level.area += (now - level.since) * level.value
        level.since = now
        level.value = len(lead.backlog.items)
        if lead.wake is not None:
            lead.wake.succeed()
            lead.wake = None

    def send_interrupt(self, item: Item, screenable: bool = False) -> None:
        """Route work that wants the lead now, through the shielding policy."""
        ip = self.p.interrupts
        if not ip.enabled:
            item.urgent = True
            self.to_lead(item)
        elif ip.shielding == "triage" and screenable and self._has_support():
            triage = self.new_item("triage", item.customer, ip.triage_hours, "", item.origin)
            triage.parent = item
            self.support_queue.put(triage, _RANK_TICKET)
        elif ip.shielding == "office_hours" and item.kind not in SCHEDULED:
            self.office_queue.append(item)
        else:
            self.lead.interrupt(item)

    def _after_triage(self, triage: Item) -> None:
        item = triage.parent
        assert item is not None
        if item.state != "waiting":
            return
        ip = self.p.interrupts
        u = self._triage_rng.random()
        if item.kind == "ping" and u < ip.triage_resolves:
            self.complete(item, "support")
        elif item.kind == "ticket" and u < ip.triage_still_urgent:
            self.lead.interrupt(item)
        else:
            item.urgent = True
            self.to_lead(item)

    def _route_ticket(self, t: Item) -> None:
        self.tickets_open += 1
        self.tickets_created += 1
        has_support = self.n_support > 0
        if has_support and t.cls == "how_to":
            self.support_queue.put(t, _RANK_TICKET)
        elif t.lead_u < self.ticket_lead_share[t.cls] or not (has_support or self.n_dev.value > 0):
            if t.cls == "urgent":
                self.send_interrupt(t, screenable=True)
            else:
                self.to_lead(t)
        elif has_support:
            self.support_queue.put(t, _RANK_TICKET)
        else:
            self.dev_queue.put(t, _RANK_TICKET)

    def _route_work(self, item: Item) -> None:
        """An onboarding task or ask: the lead's, or delegated behind his spec."""
        if item.lead_u < self.onboarding_lead_share or not self._has_dev():
            self.to_lead(item)
            return
        spec_hours = item.effort * self.p.team.spec_share * self._overhead()
        if spec_hours > 0:
            spec = self.new_item("spec", item.customer, spec_hours, "", item.origin)
            self._set_gate(item, spec)
            self.to_lead(spec)
        else:
            self.dev_queue.put(item, _RANK_TASK)

    def _request_review(self, task: Item) -> None:
        self.set_state(task, "waiting")
        self.log.add(self.env.now, task.id, task.kind, "review_wait", "", task.customer_id)
        review = self.new_item(
            "review",
            task.customer,
            task.effort * self.p.team.review_share * self._overhead(),
            "",
            task.origin,
        )
        self._set_gate(task, review)
        self.to_lead(review)

    def _after_review(self, task: Item, actor: str) -> None:
        task.reviews += 1
        u = (
            task.rework_u[task.reviews - 1]
            if task.reviews <= len(task.rework_u)
            else (self._review_rng.random())
        )
        if u < self.p.team.rework_probability:
            task.remaining = task.effort * self.p.team.rework_share
            self.log.add(self.env.now, task.id, task.kind, "rework", actor, task.customer_id)
            self.dev_queue.put(task, _RANK_TASK)
        else:
            self.complete(task, actor)

    # ---------------------------------------------------------------- team
    def _has_support(self) -> bool:
        return self.n_support > 0

    def _has_dev(self) -> bool:
        return self.n_dev.value > 0

    def _overhead(self) -> float:
        devs = [w for w in self.workers if w.role != "support"]
        if not devs:
            return self.overhead_mult
        f = self.p.team.engineer_overhead_factor
        role = sum(f if w.role == "engineer" else 1.0 for w in devs) / len(devs)
        return role * self.overhead_mult

    def _add_worker(self, role: str, ramping: bool) -> None:
        n = sum(1 for w in self.workers if w.role == role) + 1
        queue = self.support_queue if role == "support" else self.dev_queue
        worker = Worker(self, role, f"{role}{n}", queue, self.env.now, ramping)
        self.workers.append(worker)
        if role == "support":
            self.n_support += 1
        else:
            self.n_dev.add(self.env.now, 1)
        self.log.add(self.env.now, -1, role, "joined", worker.name, -1)

    def _hire(self, role: str, count: int) -> None:
        for _ in range(count):
            self._add_worker(role, ramping=True)

    def worker_idle(self, worker: Worker, idle: bool) -> None:
        if worker.role != "support":
            self.idle_dev.add(self.env.now, 1 if idle else -1)
            self._update_blocked()

    def book_worker(self, worker: Worker, t0: float, t1: float) -> None:
        self.worker_book.book(worker.role, t0, t1)

    def _set_gate(self, task: Item, gate: Item) -> None:
        """``gate`` (a spec or review) now holds ``task`` up, and carries its pressure."""
        gate.parent = task
        task.gate = gate
        gate.due = task.due
        gate.urgent = task.urgent
        self.n_gated += 1
        self._update_blocked()

    def _press(self, item: Item, due: float | None = None, urgent: bool = False) -> None:
        """Apply a promise's due time or an escalation's urgency to an item and to the
        spec or review that holds it up, so the pressure reaches the work that is stuck."""
        for target in (item, item.gate):
            if target is None:
                continue
            if due is not None:
                target.due = due
            if urgent:
                target.urgent = True
            self.lead.backlog.reprioritise(target)

    def _ungate(self) -> None:
        self.n_gated -= 1
        self._update_blocked()

    def _update_blocked(self) -> None:
        # An idle developer is blocked when delegated work waits on the lead's spec or review.
        self.blocked.set(self.env.now, min(self.idle_dev.value, self.n_gated))

    # ---------------------------------------------------------------- customers
    def _new_customer(self) -> Customer:
        cust = Customer(len(self.customers), self.env.now, self.p.health.initial)
        self.customers[cust.id] = cust
        cust.churn_threshold = float(self.streams.get(Source.CHURN, cust.id).exponential())
        return cust

    def _sales(self) -> Generator[simpy.Event, Any, None]:
        rate = self.p.sales.new_customers_per_month
        if rate <= 0:
            return
        rng = self.streams.get(Source.SALES)
        mean_gap = self.month / rate
        while True:
            yield self.env.timeout(rng.exponential(mean_gap))
            self._signed(self._new_customer())

    def _signed(self, cust: Customer) -> None:
        now = self.env.now
        self.log.add(now, cust.id, "customer", "signed", "sales", cust.id)
        intake = self.p.intake
        if intake.policy == "accept_all" or (
            intake.policy == "wip_limit" and self.n_onboarding < intake.limit
        ):
            self._start_onboarding(cust)
            return
        self.signed_backlog.append(cust)
        rng = self.streams.get(Source.PATIENCE, cust.id)
        patience = float(intake.patience_weeks.draw(rng, 1)[0]) * self.week
        self._at(now + patience, partial(self._lose, cust))

    def _lose(self, cust: Customer) -> None:
        if cust.state != "signed":
            return
        cust.state = "lost"
        cust.left_at = self.env.now
        self.signed_backlog.remove(cust)
        self.rec["lost"].append((cust.id, self.env.now))
        self.log.add(self.env.now, cust.id, "customer", "lost", "patience", cust.id)

    def _pull_intake(self) -> None:
        if self.p.intake.policy == "wip_limit":
            while self.signed_backlog and self.n_onboarding < self.p.intake.limit:
                self._start_onboarding(self.signed_backlog.popleft())

    def _fixed_rate_intake(self) -> Generator[simpy.Event, Any, None]:
        gap = self.month / self.p.intake.starts_per_month
        while True:
            yield self.env.timeout(gap)
            if self.signed_backlog:
                self._start_onboarding(self.signed_backlog.popleft())

    def _start_onboarding(self, cust: Customer) -> None:
        now = self.env.now
        p = self.p.onboarding
        cust.state = "onboarding"
        cust.onboarding_at = now
        self.active[cust.id] = cust
        self.n_onboarding += 1
        self.log.add(now, cust.id, "customer", "onboarding", "", cust.id)
        rng = self.streams.get(Source.ONBOARDING, cust.id)
        n = int(p.tasks.draw(rng, 1)[0])
        efforts = p.task_effort.draw(rng, n)
        lead_us = rng.random(n)
        rework = rng.random((n, 3))
        cust.pending_tasks = []
        for k in range(n):
            cust.pending_tasks.append((float(efforts[k]), float(lead_us[k]), rework[k].tolist()))
        cust.unfinished = n
        sc = self.p.status_calls
        rng = self.streams.get(Source.CALLS, cust.id)
        # Samplers with a fixed number of draws per call, so call k is the same under
        # every policy; the variable draws (asks) come from a separate generator.
        cust.streams = {
            "u": _uniform_sampler(rng),
            "promises": sc.promises_per_call.sampler(rng),
            "asks": sc.new_asks_per_call.sampler(rng),
            "ask_rng": self.streams.get(Source.ASKS, cust.id),
        }
        self._release_tasks(cust)
        if n == 0:
            self._go_live(cust)
            return
        if self.p.status_calls.enabled:
            self.env.process(self._status_calls(cust))

    def _release_tasks(self, cust: Customer) -> None:
        limit = self.p.onboarding.parallel_tasks
        while cust.pending_tasks and (
            limit is None or sum(1 for i in cust.work.values() if i.kind == "task") < limit
        ):
            effort, lead_u, rework_u = cust.pending_tasks.pop(0)
            task = self.new_item("task", cust, effort, "", cust.onboarding_at)
            task.lead_u = lead_u
            task.rework_u = rework_u
            self._route_work(task)

    def _go_live(self, cust: Customer) -> None:
        now = self.env.now
        cust.state = "live"
        cust.live_at = now
        self.n_onboarding -= 1
        self.rec["golives"].append((cust.id, cust.signed_at, cust.onboarding_at, now))
        self.log.add(now, cust.id, "customer", "live", "", cust.id)
        self._health(cust, self.p.health.go_live)
        self._start_live(cust)
        self._pull_intake()

    def _start_live(self, cust: Customer) -> None:
        if self.p.tickets.enabled and self.p.tickets.per_customer_per_week > 0:
            self.env.process(self._tickets(cust))
        da = self.p.interrupts.direct_access
        if cust.direct_access and da.pings_per_week > 0:
            self.env.process(self._pings(cust))

    def _churn(self, cust: Customer) -> None:
        now = self.env.now
        stage = cust.state
        if stage == "onboarding":
            self.n_onboarding -= 1
        cust.state = "churned"
        cust.left_at = now
        self.active.pop(cust.id, None)
        self.rec["churn"].append((cust.id, now, stage))
        self.log.add(now, cust.id, "customer", "churned", stage, cust.id)
        for item in list(cust.open_items.values()):
            self.drop(item, "churned")
        cust.pending_tasks = []
        self._pull_intake()

    # ---------------------------------------------------------------- live customers
    def _tickets(self, cust: Customer) -> Generator[simpy.Event, Any, None]:
        draws = _ticket_draws(
            self.streams.get(Source.TICKETS, cust.id),
            self.p.tickets,
            self.week / self.p.tickets.per_customer_per_week,
        )
        timeout = self.env.timeout
        for gap, cls, effort, lead_u in draws:
            yield timeout(gap)
            if cust.state != "live":
                return
            ticket = self.new_item("ticket", cust, effort, cls)
            ticket.lead_u = lead_u
            self._route_ticket(ticket)

    def _pings(self, cust: Customer) -> Generator[simpy.Event, Any, None]:
        da = self.p.interrupts.direct_access
        gap = _exp_sampler(self.streams.get(Source.PINGS, cust.id), self.week / da.pings_per_week)
        # Efforts from a stream of their own: ping k of customer c costs the same under
        # every policy, and its effort is independent of its arrival gap.
        effort = da.effort.sampler(self.streams.get(Source.PING_EFFORT, cust.id))
        while True:
            yield self.env.timeout(gap())
            if cust.state != "live":
                return
            self.send_interrupt(self.new_item("ping", cust, effort()), screenable=True)

    def _maybe_defect(self, item: Item) -> None:
        q = self.p.quality
        cust = item.customer
        if not q.enabled or cust is None or not cust.active or self._defect_effort is None:
            return
        chance = q.base_defect_probability + q.per_backlog_item * len(self.lead.backlog)
        chance = min(q.max_defect_probability, chance * self.defect_mult)
        if self._quality_rng.random() < chance:
            self.rec["defects"].append(self.env.now)
            defect = self.new_item("ticket", cust, self._defect_effort(), "normal")
            defect.lead_u = self._quality_rng.random()
            self._route_ticket(defect)

    # ---------------------------------------------------------------- status calls and promises
    def _status_calls(self, cust: Customer) -> Generator[simpy.Event, Any, None]:
        sc = self.p.status_calls
        gap = sc.interval_weeks * self.week
        while True:
            yield self.env.timeout(gap)
            if cust.state != "onboarding":
                return
            self._hold_call(cust)

    def _hold_call(self, cust: Customer) -> None:
        sc = self.p.status_calls
        draw = cust.streams
        attend_u = draw["u"]()
        mix_u = draw["u"]()
        n_promises = int(draw["promises"]())
        n_asks = int(draw["asks"]())
        if sc.format == "written":
            update = self.new_item("call", cust, sc.written_hours)
            update.due = None
            self.to_lead(update)
        elif sc.lead_attends == "always" or (
            sc.lead_attends == "when_needed" and attend_u < sc.when_needed_probability
        ):
            self.send_interrupt(self.new_item("call", cust, sc.call_hours))
        cm = self.p.commitments
        if cm.enabled and cm.policy != "none":
            # The customer asks about its oldest open items that carry no promise yet.
            for item in cust.work.values():
                if n_promises <= 0:
                    break
                if item.due is None:
                    self._promise(item, mix_u)
                    n_promises -= 1
        rng: np.random.Generator = draw["ask_rng"]
        for _ in range(n_asks):
            effort = float(sc.ask_effort.draw(rng, 1)[0])
            ask = self.new_item("ask", cust, effort, "", cust.onboarding_at)
            ask.lead_u = float(rng.random())
            ask.rework_u = rng.random(3).tolist()
            cust.unfinished += 1
            self._route_work(ask)

    def _promise(self, item: Item, mix_u: float) -> None:
        now = self.env.now
        due = self._due_time(item, mix_u)
        self.n_promises["made"] += 1
        heapq.heappush(self.promises, (due, item.id, item))
        record = [now, due, "open", None]
        self.rec["promises"].append(record)
        self.promise_records[item.id] = record
        self._press(item, due=due)
        self.log.add(now, item.id, item.kind, "promised", "", item.customer_id)

    def _due_time(self, item: Item, mix_u: float) -> float:
        now = self.env.now
        cm = self.p.commitments
        end_of_day = (math.floor(now / self.day + _EPS) + 1) * self.day
        policy = cm.policy
        if policy == "mixed":
            weights = list(cm.mix.items())
            total = sum(w for _, w in weights)
            acc = 0.0
            policy = weights[-1][0]
            for name, w in weights:
                acc += w / total
                if mix_u < acc:
                    policy = name
                    break
        if policy == "end_of_today":
            return end_of_day
        if policy == "tomorrow":
            return end_of_day + self.day
        if policy == "this_week":
            return (math.floor(now / self.week + _EPS) + 1) * self.week
        # forecast: quote the chosen percentile of recent lead times of such items.
        if not self.recent_task_times:
            return end_of_day + 2 * self.week
        if self._quote is None:
            self._quote = percentile(self.recent_task_times, cm.forecast_percentile)
        quote = self._quote
        due = max(end_of_day, item.arrived + quote)
        return math.ceil(due / self.day - _EPS) * self.day

    def _promise_resolved(self, item: Item, kept: bool) -> None:
        outcome = "kept" if kept else "broken"
        self.n_promises[outcome] += 1
        self._mark_promise(item, outcome)
        cust = item.customer
        h = self.p.health
        if cust is not None and cust.active:
            self._health(cust, h.promise_kept if kept else -h.promise_broken)
        self.log.add(self.env.now, item.id, item.kind, f"promise_{outcome}", "", item.customer_id)
        item.due = None

    def _mark_promise(self, item: Item, outcome: str) -> None:
        record = self.promise_records.pop(item.id)
        record[2] = outcome
        record[3] = self.env.now

    def _check_promises(self) -> None:
        now = self.env.now
        while self.promises and self.promises[0][0] <= now + _EPS:
            due, _, item = heapq.heappop(self.promises)
            if item.due != due:
                continue  # kept already, or re-promised
            if item.state == "dropped":
                self.n_promises["void"] += 1
                self._mark_promise(item, "void")
                item.due = None
                continue
            self._promise_resolved(item, kept=False)
            self._press(item, urgent=True)
            escalation = self.new_item("escalation", item.customer, self._escalation_effort())
            self.send_interrupt(escalation)

    # ---------------------------------------------------------------- health and churn
    def _health(self, cust: Customer, delta: float) -> None:
        h = self.p.health
        if not h.enabled or delta == 0:
            return
        before = self._band(cust.health)
        cust.health = min(100.0, max(0.0, cust.health + delta))
        after = self._band(cust.health)
        if after != before:
            self.log.add(self.env.now, cust.id, "customer", after, "", cust.id)
        if after == "red":
            if cust.red_since is None:
                cust.red_since = self.env.now
        else:
            cust.red_since = None

    def _band(self, score: float) -> str:
        h = self.p.health
        if score >= h.green_at:
            return "green"
        return "red" if score < h.red_below else "yellow"

    def _weekly(self) -> Generator[simpy.Event, Any, None]:
        p = self.p
        while True:
            yield self.env.timeout(self.week)
            now = self.env.now
            for cust in list(self.active.values()):
                gap = p.health.initial - cust.health
                if gap:
                    step = min(abs(gap), p.health.weekly_recovery)
                    self._health(cust, math.copysign(step, gap))
                if p.churn.enabled and (cust.state == "live" or p.churn.onboarding_can_churn):
                    hazard = p.churn.monthly_hazard
                    red_for = now - cust.red_since if cust.red_since is not None else -1.0
                    if red_for >= p.churn.red_weeks * self.week:
                        hazard = min(1.0, hazard * p.churn.red_multiplier)
                    if hazard >= 1.0:
                        cust.hazard = math.inf
                    else:
                        cust.hazard += -math.log1p(-hazard) * self.week / self.month
                    if cust.hazard >= cust.churn_threshold:
                        self._churn(cust)
            if p.platform.enabled and p.platform.share_of_week > 0:
                effort = p.platform.share_of_week * p.lead.capacity_hours_per_week
                self.send_interrupt(self.new_item("platform", None, effort))

    def _invest(self, hours: float) -> None:
        pf = self.p.platform
        self.platform_hours += hours
        steps = int(self.platform_hours // pf.hours_per_step)

        def cut(base: float) -> float:
            if base <= pf.lead_share_floor:
                return base
            return max(pf.lead_share_floor, base - steps * pf.lead_share_cut)

        self.onboarding_lead_share = cut(self.p.onboarding.lead_share)
        self.ticket_lead_share = {c: cut(tc.lead_share) for c, tc in self.p.tickets.classes.items()}
        self.overhead_mult = max(pf.overhead_floor, (1 - pf.overhead_cut) ** steps)
        self.defect_mult = (1 - pf.defect_cut) ** steps

    # ---------------------------------------------------------------- the daily rhythm
    def _daily(self) -> Generator[simpy.Event, Any, None]:
        p = self.p
        triggers = [h for h in p.hiring.plan if h.when_backlog_above is not None]
        top_n = p.lead.prioritisation.policy == "top_n"
        fg = p.forgetting
        forget = top_n and fg.enabled and fg.daily_probability > 0
        mentoring = p.hiring.mentoring_hours_per_week / 5
        while True:
            now = self.env.now
            self._check_promises()
            for hire in list(triggers):
                if len(self.lead.backlog) > (hire.when_backlog_above or 0):
                    self._hire(hire.role, hire.count)
                    triggers.remove(hire)
            if mentoring > 0:
                for w in self.workers:
                    if w.ramping(now):
                        self.send_interrupt(self.new_item("mentoring", None, mentoring))
            self._compact_interrupts()
            if top_n:
                self.lead.backlog.make_daily_list()
                if forget:
                    self._forget()
            self._sample()
            yield self.env.timeout(self.day)

    def _compact_interrupts(self) -> None:
        """Drop items whose customer left from the lead's interrupt queue (in place: the
        lead's loop holds a reference). Where that queue never drains, they would
        otherwise pile up for the whole run."""
        queue = self.lead.interrupts
        if len(queue) > 64:
            live = [i for i in queue if i.state == "waiting"]
            if len(live) < len(queue):
                queue.clear()
                queue.extend(live)

    def _forget(self) -> None:
        """Each unstarted item off today's list is forgotten with the daily probability."""
        fg = self.p.forgetting
        kinds = set(fg.applies_to)
        items = list(self.lead.backlog)
        if not items:
            return
        # One draw per backlog item, in backlog order, forgettable or not: vectorised and
        # reproducible, and only the few below the probability need a look.
        draws = self._forget_rng.random(len(items))
        now = self.env.now
        for k in np.flatnonzero(draws < fg.daily_probability).tolist():
            item = items[k]
            if item.list_pos >= 0 or item.started or item.kind not in kinds:
                continue
            self.lead.backlog.remove(item)
            self.set_state(item, "forgotten")
            self.forgotten_open += 1
            self.rec["forgotten"].append(now)
            self.log.add(now, item.id, item.kind, "forgotten", "", item.customer_id)
            delay = self._resurface_days() * self.day
            self._at(now + delay, partial(self._resurface, item))
        self.lead_backlog_level.set(now, len(self.lead.backlog.items))

    def _resurface(self, item: Item) -> None:
        if item.state != "forgotten":
            return
        self.forgotten_open -= 1
        item.resurfaced = True
        item.urgent = True
        item.started = False
        item.remaining = item.effort * self.p.forgetting.effort_multiplier
        self.set_state(item, "waiting")
        self.log.add(self.env.now, item.id, item.kind, "resurfaced", "", item.customer_id)
        self.send_interrupt(item)

    def _office_hours(self) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(self.p.interrupts.office_hour)
        while True:
            batch, self.office_queue = self.office_queue, []
            for item in batch:
                if item.state == "waiting":
                    self.lead.interrupt(item)
            yield self.env.timeout(self.day)

    def _sample(self) -> None:
        bands = {"green": 0, "yellow": 0, "red": 0}
        live = 0
        for cust in self.active.values():
            bands[self._band(cust.health)] += 1
            live += cust.state == "live"
        self.rec["timeseries"].append(
            (
                self.env.now / self.day,
                self.n_onboarding,
                len(self.signed_backlog),
                live,
                len(self.rec["churn"]),
                len(self.rec["lost"]),
                len(self.lead.backlog),
                self.lead.backlog.n_started,
                len(self.dev_queue),
                self.tickets_open,
                self.forgotten_open,
                bands["green"],
                bands["yellow"],
                bands["red"],
                live * self.p.revenue.arr_per_customer,
                self.lead.efficiency_now(),
                len(self.customers) - self.p.customers.initial_live,
                len(self.rec["golives"]),
                self.tickets_created,
                len(self.rec["tickets"]),
            )
        )


def percentile(values: Iterable[float], q: float) -> float:
    """The q-th percentile with linear interpolation (numpy's default method), in plain
    Python: for a window of a few dozen values it is far cheaper than a numpy call."""
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def _ticket_draws(
    rng: np.random.Generator, tickets: Any, mean_gap: float, block: int = 256
) -> Iterator[tuple[float, str, float, float]]:
    """Endless (gap, class, effort, lead need) tuples of one customer's ticket stream.

    Drawn in blocks with a fixed number of draws per ticket (one effort per class,
    the class picks one), so ticket k of a customer is the same under every policy:
    common random numbers.
    """
    names = list(tickets.classes)
    cum = np.cumsum([c.share for c in tickets.classes.values()])
    cum[-1] = 1.0  # guard against shares summing to 1 - epsilon
    while True:
        gaps = rng.exponential(mean_gap, block)
        pick = np.searchsorted(cum, rng.random(block), side="right")
        lead_u = rng.random(block)
        efforts = np.stack([c.effort.draw(rng, block) for c in tickets.classes.values()])
        chosen = efforts[pick, np.arange(block)]
        yield from zip(
            gaps.tolist(), [names[k] for k in pick], chosen.tolist(), lead_u.tolist(), strict=True
        )


def _exp_sampler(rng: np.random.Generator, mean: float) -> Sampler:
    return exponential(mean).sampler(rng)


def _uniform_sampler(rng: np.random.Generator) -> Sampler:
    return Uniform(low=0, high=1).sampler(rng)
