"""The company: the wiring of the mechanisms of MODEL.md, and the clocks that drive them.

The model never decides an outcome: each mechanism only moves work, time and
health the way its parameters say, and the results are whatever those add up to.
This module decides nothing either: it builds the shared services (the ledger of
work items, the lead, the team, the customer base), hands each mechanism what it
needs, connects the mechanisms that are switched on to one another, and runs the
daily and weekly clocks.  See ``docs/architecture.md``.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from itertools import repeat
from typing import TYPE_CHECKING

import numpy as np
import simpy

from flowsim.model.backlog import make_backlog
from flowsim.model.calendar import DAYS_PER_WEEK, Calendar
from flowsim.model.catalogue import COMPANY_SERIES, FLOW_SERIES, LEAD_ACTIVITIES, TIMESERIES_COLUMNS
from flowsim.model.clock import at, every, run_until
from flowsim.model.customers import CustomerBase
from flowsim.model.effects import PlatformEffects
from flowsim.model.entities import Customer
from flowsim.model.eventlog import EventLog
from flowsim.model.lead import LeadEngineer
from flowsim.model.ledger import Ledger
from flowsim.model.mechanisms.calls import StatusCallsMechanism
from flowsim.model.mechanisms.context_switching import efficiency_table
from flowsim.model.mechanisms.forgetting import ForgettingMechanism
from flowsim.model.mechanisms.health import (
    ChurnMechanism,
    HealthMechanism,
    weekly_health_and_churn,
)
from flowsim.model.mechanisms.hiring import HiringMechanism
from flowsim.model.mechanisms.interrupts import DirectAccessMechanism, InterruptsMechanism
from flowsim.model.mechanisms.onboarding import OnboardingMechanism
from flowsim.model.mechanisms.platform import PlatformMechanism
from flowsim.model.mechanisms.promises import PromisesMechanism
from flowsim.model.mechanisms.quality import QualityMechanism
from flowsim.model.mechanisms.sales import SalesMechanism
from flowsim.model.mechanisms.tickets import TicketsMechanism
from flowsim.model.params import Params
from flowsim.model.recorder import Table, Window, settle
from flowsim.model.stability import trend
from flowsim.model.start import Started, start_from
from flowsim.model.state import StartState
from flowsim.model.streams import Source, Streams
from flowsim.model.team import TeamAtWork

if TYPE_CHECKING:
    import pandas as pd

Hook = Callable[[], None]


class Company:
    """One replication of the company, built from validated parameters and a seed."""

    def __init__(
        self,
        params: Params,
        seed: int | np.random.SeedSequence,
        state: StartState | None = None,
    ) -> None:
        p = self.p = params
        self.state = state
        self.started: Started | None = None
        self.env = env = simpy.Environment()
        self.cal = cal = Calendar(p.simulation.hours_per_day)
        self.horizon = p.simulation.horizon_weeks * cal.week
        self.window = Window(p.simulation.warmup_weeks * cal.week, self.horizon)
        self.streams = streams = Streams(seed)
        self.log = log = EventLog(p.simulation.event_log)

        # The shared services.
        self.ledger = ledger = Ledger(env, log)
        self.customers = customers = CustomerBase(env, streams, p.health.initial, p.health.band)
        self.effects = effects = PlatformEffects(
            p.onboarding.lead_share, {c: tc.lead_share for c, tc in p.tickets.classes.items()}
        )
        self.lead = lead = LeadEngineer(
            env,
            p.lead.capacity_hours_per_week / cal.week,
            make_backlog(p.lead.prioritisation),
            efficiency_table(p.context_switching),
            p.context_switching.window_days * cal.day,
            InterruptsMechanism.resume_cost(p.interrupts),
            p.lead.wip_limit,
            ledger,
            log,
        )
        self.team = team = TeamAtWork(env, p.team, cal.week, ledger, log)
        # The lead's hours by activity are the last series: each day's row keeps the
        # values of his hour book, spread into one column per activity when read.
        hours = {f"lead_{activity}_hours": activity for activity in LEAD_ACTIVITIES}
        self.samples = Table(*FLOW_SERIES, COMPANY_SERIES, spread=hours, source=lead.hours)
        backlog = lead.backlog

        # The mechanisms, each given what it needs.
        self.interrupts = InterruptsMechanism(
            p.interrupts, cal.day, env, ledger, log, lead, team, streams.get(Source.TRIAGE)
        )
        send = self.interrupts.send
        screenable = self.interrupts.send_screenable
        self.direct_access = DirectAccessMechanism(
            p.interrupts.direct_access, cal.week, env, ledger, streams, screenable
        )
        self.onboarding = OnboardingMechanism(
            p.onboarding, p.team, cal, env, ledger, log, lead, team, customers, effects, streams
        )
        self.tickets = TicketsMechanism(
            p.tickets, cal, env, ledger, lead, team, effects, streams, screenable
        )
        self.promises = PromisesMechanism(
            p.commitments, cal, env, ledger, log, backlog, streams, send
        )
        promises_on = PromisesMechanism.switched_on(p.commitments)
        self.calls = StatusCallsMechanism(
            p.status_calls,
            cal,
            env,
            ledger,
            lead,
            streams,
            send,
            self.onboarding.add_ask,
            self.promises.at_call if promises_on else None,
        )
        self.forgetting = ForgettingMechanism(
            p.forgetting,
            cal,
            env,
            ledger,
            log,
            backlog,
            lead.size,
            streams.get(Source.FORGETTING),
            self.at,
            send,
            lead.assign,
        )
        normal = p.tickets.classes.get("normal")
        self.quality = QualityMechanism(
            p.quality,
            env,
            ledger,
            backlog,
            effects,
            streams.get(Source.QUALITY),
            None if normal is None else normal.effort,
            self.tickets.route,
        )
        self.health = HealthMechanism(
            p.health,
            env,
            log,
            customers,
            {c: tc.target_days * cal.day for c, tc in p.tickets.classes.items()},
        )
        self.churn = ChurnMechanism(p.churn, cal, env, log, ledger, customers)
        self.sales = SalesMechanism(
            p.sales, p.intake, cal, env, log, customers, streams, self.at, self.onboarding.begin
        )
        self.platform = PlatformMechanism(
            p.platform, p.lead.capacity_hours_per_week, effects, ledger, send
        )
        self.hiring = HiringMechanism(p.hiring, cal, env, ledger, team, backlog, self.at, send)

        self.daily: list[Hook] = []
        self.weekly: list[Hook] = []
        self.live_starts: list[Callable[[Customer], None]] = []
        self._connect()
        self._start()

    # ---------------------------------------------------------------- wiring
    def _connect(self) -> None:
        """Connect the mechanisms that are switched on; the order of each list is the
        order in which things happen at the same instant."""
        p = self.p
        ledger, lead, team = self.ledger, self.lead, self.team
        onboarding, tickets, promises = self.onboarding, self.tickets, self.promises
        health_on = self.health.switched_on(p.health)
        churn_on = self.churn.switched_on(p.churn)
        promises_on = promises.switched_on(p.commitments)
        quality_on = self.quality.switched_on(p.quality)
        platform_on = self.platform.switched_on(p.platform)
        pull_intake = p.intake.policy == "wip_limit"

        ledger.track_open = churn_on
        ledger.on_done.update(
            ticket=tickets.resolved,
            task=onboarding.work_done,
            ask=onboarding.work_done,
            spec=onboarding.spec_done,
            review=onboarding.review_done,
            platform=self.platform.invested,
            triage=self.interrupts.triaged,
        )
        ledger.on_drop += [
            lead.discard,
            onboarding.dropped,
            self.forgetting.dropped,
            tickets.dropped,
        ]
        if promises_on:
            ledger.before_done.append(promises.on_done)
            onboarding.on_work_done.append(promises.lead_time)
            onboarding.on_new_work.append(promises.new_work)
        if quality_on:
            onboarding.on_work_done.append(self.quality.maybe_defect)
        if onboarding.reviews_on:
            team.finish = onboarding.finished
        if self.calls.switched_on(p.status_calls):
            onboarding.on_started.append(self.calls.onboarding_started)

        if tickets.switched_on(p.tickets):
            self.live_starts.append(tickets.went_live)
        if self.direct_access.switched_on(p.interrupts.direct_access):
            self.live_starts.append(self.direct_access.went_live)
        if health_on:
            onboarding.on_live.append(self.health.went_live)
            tickets.on_closed.append(self.health.ticket_resolved)
            tickets.on_abandoned.append(self.health.ticket_abandoned)
            promises.on_resolved.append(self.health.promise_resolved)
        if quality_on:
            tickets.on_closed.append(self.quality.maybe_defect)
        onboarding.on_live += self.live_starts
        if pull_intake:
            onboarding.on_live.append(self.sales.pull)
            self.churn.on_churn.append(self.sales.pull)

        if promises_on:
            self.daily.append(promises.daily)
        if self.hiring.switched_on(p.hiring):
            self.daily.append(self.hiring.daily)
        self.daily.append(lead.compact_interrupts)
        if self.interrupts.switched_on(p.interrupts) and p.interrupts.patience_days is not None:
            self.daily.append(self.interrupts.triage_waiting)
        if tickets.switched_on(p.tickets) and tickets.abandoning:
            self.daily.append(tickets.close_stale)
        if p.lead.prioritisation.policy == "top_n":
            self.daily.append(lead.backlog.make_daily_list)
            if self.forgetting.switched_on(p.forgetting):
                self.daily.append(self.forgetting.daily)
        self.daily.append(self._sample)  # its sources are bound in ``_start``
        if health_on or churn_on:
            self.weekly.append(
                weekly_health_and_churn(
                    self.customers,
                    self.health if health_on else None,
                    self.churn if churn_on else None,
                )
            )
        if platform_on:
            self.weekly.append(self.platform.weekly)
        # Last, as it changes nothing the model reads: the recorded columns settle
        # (weekly: a check per column every day would cost more than it keeps).
        columns = [*self.log.columns, *lead.size.columns, *tickets.closed.columns.values()]
        self.weekly.append(lambda: settle(columns))

    def _start(self) -> None:
        """The initial team and customers, then every clock and process, in a fixed order
        (the order of events at the same instant depends on it)."""
        p = self.p
        for role, n in (
            ("contractor", p.team.contractors),
            ("engineer", p.team.engineers),
            ("support", p.team.support),
        ):
            for _ in range(n):
                self.team.add(role)
        if self.state is None:
            for i in range(p.customers.initial_live):
                cust = self.customers.new()
                cust.onboarding_at = cust.live_at = 0.0
                cust.state = "live"
                self.customers.activate(cust)
                self._live_from_start(cust, i)
        else:
            self.started = start_from(
                self.state,
                p,
                self.cal.day,
                self.streams,
                self.ledger,
                self.customers,
                self.onboarding,
                self.tickets,
                self.sales,
                self._live_from_start,
            )
        self.initial_customers = len(self.customers.all)
        self._bind_sample()
        if self.sales.switched_on(p.sales):
            self.sales.start()
        every(self.env, self.cal.day, self.daily, first=True)
        every(self.env, self.cal.week, self.weekly, first=False)
        self.sales.start_intake()
        self.interrupts.start()
        self.at(self.window.start, self._end_warmup)
        if self.hiring.switched_on(p.hiring):
            self.hiring.start()

    def _live_from_start(self, cust: Customer, index: int) -> None:
        """A customer live from the start: direct access for the first ones, its tickets."""
        self.direct_access.grant(cust, index)
        for start in self.live_starts:
            start(cust)

    # ---------------------------------------------------------------- clocks
    def at(self, t: float, fn: Callable[[], None]) -> None:
        """Run ``fn`` at clock time ``t``."""
        at(self.env, t, fn)

    def _end_warmup(self) -> None:
        """Snapshot every accumulator, so the summary covers the window alone."""
        now = self.env.now
        self.lead.split_segment()
        self.team.snapshot(now)
        self.lead.book.snapshot()

    def _sample(self) -> None:
        """The day's levels: those of the work flow, read here, then the company's.

        Taken every day of every run, so it reads the containers themselves (bound in
        ``_bind_sample``) rather than through the objects' own ``len``: the same numbers,
        at a third of the cost.
        """
        lead = self.lead
        ledger = self.ledger
        backlog, open_tickets, closed = self._flow_sizes
        tickets_open = len(open_tickets)
        tickets_closed = len(closed)
        self.samples.append(
            (
                self.env._now / self._day,
                len(backlog),
                lead.backlog.n_started,
                tickets_open,
                # ``tickets.created``, from the counts at hand (a test keeps the two alike).
                tickets_open + tickets_closed + self.tickets.n_dropped,
                tickets_closed,
                ledger.created - ledger.done - ledger.dropped,
                lead.interrupts_waiting,
                self._levels(),
                tuple(self._lead_hours.values()),
            )
        )

    def company_levels(self) -> tuple[float, ...]:
        """The company's levels now, in the order of ``COMPANY_SERIES``."""
        customers = self.customers
        bands = customers.bands
        live = customers.live
        lead = self.lead
        signed, churns, lost, team_queue, everyone, golives = self._level_sizes
        if lead.juggling:
            juggled = lead.juggled()
            efficiency = lead._efficiency(juggled)
        else:
            juggled = 0
            efficiency = lead.efficiency[0]
        return (
            customers.n_onboarding,
            len(signed),
            live,
            len(churns),
            len(lost),
            len(team_queue),
            self.forgetting.open,
            bands["green"],
            bands["yellow"],
            bands["red"],
            live * self._arr_per_customer,
            efficiency,
            len(everyone) - self.initial_customers,
            len(golives),
            self.team.n_gated,
            juggled,
        )

    def company_levels_can_change(self) -> bool:
        """Whether anything in this run can change the company's levels: customers
        signing, waiting to start or onboarding, leaving or changing health; anyone
        working besides the lead; forgetting; a cost of switching between items.

        Where nothing can (a company reduced to its ticket queue), the levels are read
        once and each day's sample shares them: it reads only the work flow.
        """
        p, customers = self.p, self.customers
        return (
            self.sales.switched_on(p.sales)
            or bool(customers.signed_backlog)
            or customers.n_onboarding > 0
            or self.churn.switched_on(p.churn)
            or self.health.switched_on(p.health)
            or bool(self.team.workers)
            or self.hiring.switched_on(p.hiring)
            or self.forgetting.switched_on(p.forgetting)
            or self.lead.juggling
        )

    def _bind_sample(self) -> None:
        """What the daily sample reads (each kept for the whole run), once the initial
        customers and team are in place."""
        self._flow_sizes = (
            self.lead.backlog.items,
            self.tickets.open_since,
            self.tickets.closed["done"],
        )
        self._level_sizes = (
            self.customers.signed_backlog,
            self.churn.churns.rows,
            self.sales.lost.rows,
            self.team.dev_queue.heap,
            self.customers.all,
            self.onboarding.golives.rows,
        )
        self._arr_per_customer = self.p.revenue.arr_per_customer
        self._lead_hours = self.lead.hours
        self._day = self.cal.day
        self._levels: Callable[[], tuple[float, ...]] = (
            self.company_levels
            if self.company_levels_can_change()
            else repeat(self.company_levels()).__next__  # the same tuple every day
        )

    def timeseries(self) -> pd.DataFrame:
        """The daily samples as a frame, in the catalogue's order of series."""
        return self.samples.frame()[list(TIMESERIES_COLUMNS)]

    # ---------------------------------------------------------------- the run
    def run(self) -> None:
        # The cyclic collector would rescan the growing event log and records over and
        # over (a third of the run time); the model's objects unlink themselves when
        # done, so reference counting frees them and pausing the collector is safe.
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            run_until(self.env, self.horizon)
        finally:
            if was_enabled:
                gc.enable()
        self.lead.end_segment()
        self.team.split_segments()

    def _stability(self) -> dict[str, float]:
        """Whether the run settled: the trend of its open work over the window."""
        days = np.asarray(self.samples.column("day"))
        inside = days >= self.window.start / self.cal.day
        open_items = np.asarray(self.samples.column("open_items"))
        t = trend(days[inside], open_items[inside], DAYS_PER_WEEK)
        return {
            "open_work_trend_per_week": t.per_week,
            "open_work_trend_low": t.low,
            "open_work_trend_high": t.high,
            "unstable": float(t.unstable),
        }

    def conservation(self) -> dict[str, int]:
        """Work items by state at the end of the run (see :meth:`Ledger.conservation`)."""
        return self.ledger.conservation(
            active=self.lead.in_hand() + self.team.in_hand(), forgotten=self.forgetting.open
        )

    def metrics(self) -> dict[str, float]:
        """Every summary metric over the steady-state window, by the mechanism that owns it."""
        p, w, cal = self.p, self.window, self.cal
        weeks = (w.end - w.start) / cal.week
        m: dict[str, float] = {"window_weeks": weeks}
        m |= self.onboarding.metrics(w)
        m |= self.tickets.metrics(w)
        m |= self.lead.metrics(w, weeks)
        m |= self.team.metrics(w, float(cal.year), p.lead.annual_cost)
        m |= self.promises.metrics(w)
        m |= self.forgetting.metrics(w)
        m |= self.quality.metrics(w)
        m |= self.health.metrics(w)
        m |= self.churn.metrics(w)
        m |= self.sales.metrics(w)
        m |= self.interrupts.metrics(w)
        m |= self.calls.metrics(w)
        m |= self._stability()
        m |= self.customers.metrics(w, cal, p.revenue, p.onboarding.fee)
        return m
