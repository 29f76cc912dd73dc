"""Unit tests of ``mechanisms/interrupts.py``: shielding and direct access, without the
company.

What is pinned, and why:

* Interrupts off: whatever the shielding, ``send`` and ``send_screenable`` put the item in
  the lead's backlog as urgent work, and the resume cost is zero (the reduced model is a
  plain queue).
* ``immediate``: the lead is interrupted at once.
* ``office_hours``: interrupts wait for the daily office hour (``office_hour`` hours into
  each working day) and go then, in arrival order; scheduled blocks (calls, mentoring,
  platform time) still go at once; an item that ended while waiting is not sent.
* ``triage``: a screenable item becomes a ``triage`` item in the support queue when there
  is a support person (otherwise it interrupts at once), non-screenable ones interrupt at
  once; after triage a ping is answered by support when the triage draw is below
  ``triage_resolves``, an urgent ticket still interrupts when it is below
  ``triage_still_urgent``, and the rest join the backlog as urgent.
* Direct access: ``grant`` gives access to the first ``customers`` initial customers; each
  such live customer pings at ``pings_per_week`` (exponential gaps), with efforts from a
  stream of their own (``Source.PING_EFFORT``), so a ping's effort does not depend on the
  gaps and the gaps do not depend on the effort law; the stream ends when the customer is
  no longer live.

Built directly with a real ``simpy.Environment``, ``Ledger``/``EventLog`` and ``Streams``;
the lead is a stub recording ``assign``/``interrupt`` calls with their times, the team a
stub with or without a support person, and the triage draw a scripted generator.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from flowsim.model.calendar import Calendar
from flowsim.model.clock import at
from flowsim.model.distributions import Distribution, constant, exponential
from flowsim.model.entities import SCHEDULED, Customer, Item
from flowsim.model.eventlog import EventLog
from flowsim.model.ledger import Ledger
from flowsim.model.mechanisms.interrupts import (
    DirectAccess,
    DirectAccessMechanism,
    Interrupts,
    InterruptsMechanism,
)
from flowsim.model.recorder import Window
from flowsim.model.streams import Source, Streams
from flowsim.model.team import RANK_TICKET

CAL = Calendar(8.0)  # day 8 h, week 40 h
DAY = CAL.day


class LeadStub:
    """Records (time, item) of every ``assign`` and ``interrupt``."""

    def __init__(self, env: simpy.Environment) -> None:
        self.env = env
        self.assigned: list[tuple[float, Item]] = []
        self.interrupted: list[tuple[float, Item]] = []
        self.interrupts: deque[Item] = deque()  # his interrupt queue, for triage_waiting

    def assign(self, item: Item) -> None:
        self.assigned.append((self.env.now, item))

    def interrupt(self, item: Item) -> None:
        self.interrupted.append((self.env.now, item))

    def dequeue(self, item: Item) -> None:
        """Leaving his interrupt queue: nothing to count in a stub."""


class SupportQueue:
    def __init__(self) -> None:
        self.puts: list[tuple[Item, float]] = []

    def put(self, item: Item, rank: float) -> None:
        self.puts.append((item, rank))


class TeamStub:
    def __init__(self, support: bool) -> None:
        self.has_support = support
        self.triage_queue = SupportQueue()


class FixedU:
    """A generator whose every uniform draw is ``u`` (the triage outcome's draw)."""

    def __init__(self, u: float) -> None:
        self.u = u

    def random(self) -> float:
        return self.u


@dataclass
class Rig:
    env: simpy.Environment
    ledger: Ledger
    lead: LeadStub
    team: TeamStub
    mech: InterruptsMechanism

    def item(self, kind: str = "ticket", cls: str = "") -> Item:
        return self.ledger.new(kind, None, 1.0, cls)

    def at(self, t: float, fn: Any) -> None:
        at(self.env, t, fn)


def build(
    *,
    enabled: bool = True,
    shielding: str = "immediate",
    support: bool = False,
    u: float = 0.5,
    **config: Any,
) -> Rig:
    env = simpy.Environment()
    log = EventLog(True)
    ledger = Ledger(env, log)
    lead = LeadStub(env)
    team = TeamStub(support)
    cfg = Interrupts(enabled=enabled, shielding=shielding, **config)
    mech = InterruptsMechanism(cfg, CAL.day, env, ledger, log, lead, team, FixedU(u))
    ledger.on_done["triage"] = mech.triaged  # as the company wires it
    mech.start()
    return Rig(env, ledger, lead, team, mech)


# ---------------------------------------------------------------- interrupts off
@pytest.mark.parametrize("shielding", ["immediate", "office_hours", "triage"])
def test_with_interrupts_off_work_joins_the_backlog_as_urgent(shielding: str) -> None:
    rig = build(enabled=False, shielding=shielding, support=True)
    rig.env.run(until=3)
    a, b = rig.item("ping"), rig.item("ticket", "normal")
    rig.mech.send(a)
    rig.mech.send_screenable(b)
    rig.env.run(until=3 * CAL.day)  # past any office hour
    assert rig.lead.assigned == [(3.0, a), (3.0, b)]
    assert a.urgent and b.urgent
    assert rig.lead.interrupted == []
    assert rig.team.triage_queue.puts == []


def test_the_resume_cost_is_zero_with_interrupts_off() -> None:
    assert InterruptsMechanism.resume_cost(Interrupts(resume_cost_hours=0.4)) == 0.4
    assert InterruptsMechanism.resume_cost(Interrupts(enabled=False, resume_cost_hours=0.4)) == 0


# ---------------------------------------------------------------- immediate
def test_immediate_shielding_interrupts_the_lead_at_once() -> None:
    rig = build(shielding="immediate", support=True)
    rig.env.run(until=3)
    a, b = rig.item("escalation"), rig.item("ticket", "normal")
    rig.mech.send(a)
    rig.mech.send_screenable(b)  # a support person exists, but nobody screens
    assert rig.lead.interrupted == [(3.0, a), (3.0, b)]
    assert rig.lead.assigned == [] and rig.team.triage_queue.puts == []


# ---------------------------------------------------------------- office hours
def test_office_hours_batch_interrupts_until_the_office_hour_each_day() -> None:
    rig = build(shielding="office_hours", office_hour=6)
    a, b, c, gone = rig.item(), rig.item("ping"), rig.item("escalation"), rig.item()
    rig.at(1, lambda: rig.mech.send(a))
    rig.at(7, lambda: rig.mech.send_screenable(b))  # after today's office hour
    rig.at(9, lambda: rig.mech.send(c))
    rig.at(10, lambda: rig.mech.send(gone))
    rig.at(11, lambda: rig.ledger.drop(gone, "churn"))  # ends before its office hour
    rig.env.run(until=5.9)
    assert rig.lead.interrupted == []
    rig.env.run(until=3 * CAL.day)
    # Day 0's office hour is at 6 h, day 1's at 14 h; nothing is left for day 2's.
    assert rig.lead.interrupted == [(6.0, a), (14.0, b), (14.0, c)]
    assert rig.lead.assigned == []


@pytest.mark.parametrize("kind", sorted(SCHEDULED))
def test_under_office_hours_scheduled_blocks_still_go_at_once(kind: str) -> None:
    rig = build(shielding="office_hours", office_hour=6)
    meeting = rig.item(kind)
    rig.at(2, lambda: rig.mech.send(meeting))
    rig.env.run(until=2.5)
    assert rig.lead.interrupted == [(2.0, meeting)]


# ---------------------------------------------------------------- triage
def test_triage_sends_screenable_items_to_the_triage_queue() -> None:
    rig = build(shielding="triage", support=True, triage_hours=0.15)
    cust = Customer(4, 0.0, 75.0)
    ticket = rig.ledger.new("ticket", cust, 2.0, "urgent", origin=1.0)
    rig.env.run(until=3)
    rig.mech.send_screenable(ticket)
    ((triage, rank),) = rig.team.triage_queue.puts
    assert triage.kind == "triage" and triage.parent is ticket
    assert triage.effort == 0.15 and rank == RANK_TICKET
    assert triage.customer is cust and triage.origin == 1.0
    assert rig.lead.interrupted == [] and rig.lead.assigned == []
    # What may not be screened (escalations, meetings) interrupts at once.
    escalation = rig.item("escalation")
    rig.mech.send(escalation)
    assert rig.lead.interrupted == [(3.0, escalation)]


def test_triage_without_a_support_person_interrupts_at_once() -> None:
    rig = build(shielding="triage", support=False)
    ping = rig.item("ping")
    rig.mech.send_screenable(ping)
    assert rig.lead.interrupted == [(0.0, ping)]
    assert rig.team.triage_queue.puts == []


@settings(deadline=None, max_examples=150)
@given(
    kind=st.sampled_from(["ping", "ticket"]),
    u=st.floats(0, 1, exclude_max=True),
    resolves=st.floats(0, 1),
    still_urgent=st.floats(0, 1),
)
def test_after_triage_by_the_draw(
    kind: str, u: float, resolves: float, still_urgent: float
) -> None:
    rig = build(
        shielding="triage",
        support=True,
        u=u,
        triage_resolves=resolves,
        triage_still_urgent=still_urgent,
    )
    item = rig.item(kind, "urgent" if kind == "ticket" else "")
    rig.mech.send_screenable(item)
    ((triage, _),) = rig.team.triage_queue.puts
    rig.ledger.complete(triage, "support1")
    if kind == "ping" and u < resolves:
        assert item.state == "done"  # answered by support, the lead never sees it
        assert rig.lead.interrupted == [] and rig.lead.assigned == []
    elif kind == "ticket" and u < still_urgent:
        assert rig.lead.interrupted == [(0.0, item)] and rig.lead.assigned == []
    else:
        assert rig.lead.assigned == [(0.0, item)] and rig.lead.interrupted == []
        assert item.urgent and item.state == "waiting"


def test_an_item_that_ended_while_in_triage_goes_nowhere() -> None:
    rig = build(shielding="triage", support=True, u=0.0)
    ticket = rig.item("ticket", "urgent")
    rig.mech.send_screenable(ticket)
    ((triage, _),) = rig.team.triage_queue.puts
    rig.ledger.drop(ticket, "churn")
    rig.ledger.complete(triage, "support1")
    assert rig.lead.interrupted == [] and rig.lead.assigned == []
    assert ticket.state == "dropped"


# ---------------------------------------------------------------- direct access
class CountingEnv(simpy.Environment):
    """An environment that remembers when each timeout was scheduled."""

    def __init__(self) -> None:
        super().__init__()
        self.scheduled_at: list[float] = []

    def timeout(self, delay: Any, value: Any = None) -> simpy.Timeout:
        self.scheduled_at.append(self.now)
        return super().timeout(delay, value)


@dataclass
class PingRig:
    env: simpy.Environment
    mech: DirectAccessMechanism
    pings: list[Item]


def pinging(
    *,
    customers: int = 2,
    per_week: float = 3.0,
    effort: Distribution | None = None,
    enabled: bool = True,
    seed: int = 0,
    env: simpy.Environment | None = None,
) -> PingRig:
    env = simpy.Environment() if env is None else env
    ledger = Ledger(env, EventLog(True))
    config = DirectAccess(
        enabled=enabled,
        customers=customers,
        pings_per_week=per_week,
        effort=effort or exponential(0.25),
    )
    pings: list[Item] = []
    mech = DirectAccessMechanism(config, CAL.week, env, ledger, Streams(seed), pings.append)
    return PingRig(env, mech, pings)


def live_customer(rig: PingRig, cust_id: int, index: int) -> Customer:
    """Initial customer number ``index``, live from the start, as the company starts it."""
    cust = Customer(cust_id, 0.0, 75.0)
    cust.state = "live"
    rig.mech.grant(cust, index)
    rig.mech.went_live(cust)
    return cust


def test_grant_gives_access_to_the_first_customers_only() -> None:
    rig = pinging(customers=2)
    granted = [live_customer(rig, k, k).direct_access for k in range(4)]
    assert granted == [True, True, False, False]
    off = pinging(customers=2, enabled=False)
    assert not live_customer(off, 0, 0).direct_access


def test_a_granted_customer_pings_at_the_weekly_rate_and_others_do_not() -> None:
    rate = 3.0
    mean_gap = CAL.week / rate
    rig = pinging(customers=1, per_week=rate, seed=8)
    cust = live_customer(rig, 10, 0)
    live_customer(rig, 11, 1)  # not granted: silent
    rig.env.run(until=2_500 * mean_gap)
    assert len(rig.pings) > 2_000
    assert all(p.kind == "ping" and p.customer is cust for p in rig.pings)
    gaps = np.diff([0.0, *(p.arrived for p in rig.pings)])
    assert abs(gaps.mean() / mean_gap - 1) < 0.05, gaps.mean()
    assert stats.kstest(gaps, "expon", args=(0, mean_gap)).pvalue > 0.01
    efforts = np.array([p.effort for p in rig.pings])
    assert abs(efforts.mean() / 0.25 - 1) < 0.08
    # Independent draws: no correlation between a ping's gap and its effort.
    assert abs(np.corrcoef(gaps, efforts)[0, 1]) < 0.08


def test_ping_efforts_and_gaps_come_from_separate_streams() -> None:
    """Ping k's effort is the same at any ping rate, and its arrival time the same under
    any effort law: each is drawn from its own stream (common random numbers).  Over 600
    pings, past the first block of 256 draws, where a shared stream would shift."""

    def run(per_week: float, effort: Distribution) -> list[Item]:
        rig = pinging(customers=1, per_week=per_week, effort=effort, seed=3)
        live_customer(rig, 6, 0)
        rig.env.run(until=600 * CAL.week / per_week)
        return rig.pings

    base = run(3.0, exponential(0.25))
    faster = run(7.0, exponential(0.25))
    flat = run(3.0, constant(0.25))
    n = min(len(base), len(faster), len(flat))
    assert n > 520
    assert [p.effort for p in base[:n]] == [p.effort for p in faster[:n]]
    assert [p.arrived for p in base[:n]] != [p.arrived for p in faster[:n]]
    assert [p.arrived for p in base[:n]] == [p.arrived for p in flat[:n]]
    sampler = exponential(0.25).sampler(Streams(3).get(Source.PING_EFFORT, 6))
    assert [p.effort for p in base[:n]] == [sampler() for _ in range(n)]


def test_the_ping_stream_stops_when_the_customer_is_no_longer_live() -> None:
    env = CountingEnv()
    rig = pinging(customers=1, per_week=10.0, env=env)
    cust = live_customer(rig, 0, 0)
    at(env, 400, lambda: setattr(cust, "state", "churned"))
    env.run(until=5_000)
    assert len(rig.pings) > 50
    assert max(p.arrived for p in rig.pings) < 400
    # Nothing scheduled after the churn: the stream ended, it does not idle on.
    assert max(env.scheduled_at) < 400


def test_direct_access_off_switch() -> None:
    assert DirectAccessMechanism.switched_on(DirectAccess())
    assert not DirectAccessMechanism.switched_on(DirectAccess(enabled=False))
    assert not DirectAccessMechanism.switched_on(DirectAccess(customers=0))
    assert not DirectAccessMechanism.switched_on(DirectAccess(pings_per_week=0))


# ---------------------------------------------------------------- urgent work that waits too long
def test_interrupts_waiting_longer_than_the_patience_are_triaged() -> None:
    """After ``patience_days``, pings, escalations and meetings lapse (dropped as lapsed,
    counted); other urgent work joins the backlog as urgent; younger ones stay queued."""
    rig = build(patience_days=2)
    old = {kind: rig.item(kind) for kind in ("ping", "escalation", "call", "ticket", "task")}
    for item in old.values():
        item.queued_at = 0.0
        rig.lead.interrupts.append(item)
    young = rig.item("ticket")
    rig.at(2.5 * DAY, lambda: None)
    rig.env.run(until=2.5 * DAY)
    young.queued_at = 1.0 * DAY
    rig.lead.interrupts.append(young)
    dropped_first = rig.item("ping")
    dropped_first.queued_at = 0.0
    rig.lead.interrupts.append(dropped_first)
    rig.ledger.drop(dropped_first, "churned")
    rig.mech.triage_waiting()
    for kind in ("ping", "escalation", "call"):
        assert old[kind].state == "dropped", kind
    assert rig.ledger.dropped_reasons == {"lapsed": 3, "churned": 1}
    assert [i for _, i in rig.lead.assigned] == [old["ticket"], old["task"]]
    assert old["ticket"].urgent and old["task"].urgent
    assert list(rig.lead.interrupts) == [young]
    assert rig.mech.metrics(Window(0.0, 10 * DAY)) == {
        "interrupts_lapsed": 3,
        "interrupts_downgraded": 2,
    }
    rows = rig.ledger.log.frame(CAL.day)
    assert sorted(rows.loc[rows["event"] == "downgraded", "kind"].astype(str)) == [
        "task",
        "ticket",
    ]


def test_patience_is_a_documented_default_and_can_be_switched_off() -> None:
    assert Interrupts().patience_days == 2
    assert Interrupts(patience_days=None).patience_days is None


@pytest.mark.parametrize("kind", sorted(SCHEDULED))
def test_with_interrupts_off_meetings_still_happen_at_their_time(kind: str) -> None:
    rig = build(enabled=False)
    item = rig.item(kind)
    rig.mech.send(item)
    assert [i for _, i in rig.lead.interrupted] == [item] and rig.lead.assigned == []
