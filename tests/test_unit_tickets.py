"""Unit tests of ``mechanisms/tickets.py``: ticket streams, routing and records, without
the company.

What is pinned, and why:

* A live customer raises tickets as a Poisson stream of mean gap week / rate, from its own
  ``Source.TICKETS`` stream through :func:`ticket_blocks`, with one arrival pending per
  customer, on one event reused for the whole stream; the stream stops (nothing left
  scheduled) once the customer is no longer live.
* Common random numbers: ticket k of a customer has the same gap, class, effort and lead
  need whatever else happens (other customers, the team, the lead shares, the go-live
  time), so policies are compared ticket for ticket.
* :func:`ticket_blocks`: classes in proportion to their shares, each ticket's effort from
  its own class's distribution.
* Routing: with a support person, how-to tickets and those not needing the lead go to
  support; a ticket needs the lead when its draw is below the *current* share (platform
  effects); the lead gets those (urgent ones through ``send_screenable``, the rest through
  ``assign``); without support, tickets not needing the lead go to the developers if there
  are any, else to the lead.
* A resolved ticket is counted and recorded (class, arrived, done) and the ``on_closed``
  hooks see it; ``metrics`` by class on a hand-made record; a dropped ticket leaves the
  open count.

Built directly with a real ``simpy.Environment``, ``Calendar``, ``Ledger``/``EventLog``,
``PlatformEffects`` and ``Streams``; the lead is a stub recording assignments, the team a
stub with a number of support people and developers and recording queues, and
``send_screenable`` a list.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from flowsim.model.calendar import Calendar
from flowsim.model.clock import Call, at, every
from flowsim.model.distributions import constant
from flowsim.model.effects import PlatformEffects
from flowsim.model.entities import Customer, Item
from flowsim.model.eventlog import EventLog
from flowsim.model.ledger import Ledger
from flowsim.model.mechanisms.tickets import (
    TicketClass,
    Tickets,
    TicketsMechanism,
    ticket_blocks,
)
from flowsim.model.recorder import Level, Window
from flowsim.model.streams import Source, Streams
from flowsim.model.team import RANK_TICKET

CAL = Calendar(8.0)  # week 40 h


class Sink:
    """Records each item it is handed (lead.assign, a work queue's put, send_screenable)."""

    def __init__(self) -> None:
        self.items: list[Item] = []
        self.ranks: list[float] = []

    def __call__(self, item: Item) -> None:
        self.items.append(item)

    def put(self, item: Item, rank: float) -> None:
        self.items.append(item)
        self.ranks.append(rank)


class LeadStub:
    def __init__(self) -> None:
        self.assigned = Sink()
        self.interrupted = Sink()

    def assign(self, item: Item) -> None:
        self.assigned(item)

    def interrupt(self, item: Item) -> None:
        self.interrupted(item)


class TeamStub:
    def __init__(self, support: int, devs: int) -> None:
        self.n_support = support
        self.n_dev = Level(devs)
        self.support_queue = Sink()
        self.dev_queue = Sink()


@dataclass
class Rig:
    env: simpy.Environment
    ledger: Ledger
    lead: LeadStub
    team: TeamStub
    effects: PlatformEffects
    screened: Sink
    mech: TicketsMechanism
    closed_hook: list[Item] = field(default_factory=list)

    def routed(self) -> list[Item]:
        """Every ticket handed to anyone, in arrival order."""
        sinks = (
            self.lead.assigned,
            self.lead.interrupted,
            self.screened,
            self.team.support_queue,
            self.team.dev_queue,
        )
        return sorted((i for s in sinks for i in s.items), key=lambda i: i.id)

    def went_live(self, cust_id: int, t: float = 0.0) -> Customer:
        cust = Customer(cust_id, 0.0, 75.0)

        def live() -> None:
            cust.state = "live"
            self.mech.went_live(cust)

        at(self.env, t, live)
        return cust


def build(
    *,
    rate: float = 1.0,
    classes: dict[str, TicketClass] | None = None,
    support: int = 0,
    devs: int = 0,
    lead_shares: dict[str, float] | None = None,
    seed: int = 0,
    env: simpy.Environment | None = None,
) -> Rig:
    env = simpy.Environment() if env is None else env
    ledger = Ledger(env, EventLog(True))
    config = (
        Tickets(per_customer_per_week=rate)
        if classes is None
        else Tickets(per_customer_per_week=rate, classes=classes)
    )
    effects = PlatformEffects(0.6, {c: tc.lead_share for c, tc in config.classes.items()})
    effects.ticket_lead_share.update(lead_shares or {})
    lead, team, screened = LeadStub(), TeamStub(support, devs), Sink()
    mech = TicketsMechanism(config, CAL, env, ledger, lead, team, effects, Streams(seed), screened)
    ledger.on_done["ticket"] = mech.resolved
    ledger.on_drop.append(mech.dropped)
    rig = Rig(env, ledger, lead, team, effects, screened, mech)
    mech.on_closed.append(rig.closed_hook.append)
    return rig


def draws_of(items: list[Item], live_at: float) -> list[tuple[float, str, float, float]]:
    """(gap, class, effort, lead need) of a customer's tickets, from when it went live."""
    times = [live_at, *(i.arrived for i in items)]
    return [
        (b - a, i.cls, i.effort, i.lead_u)
        for a, b, i in zip(times[:-1], times[1:], items, strict=True)
    ]


# ---------------------------------------------------------------- the stream
def test_a_live_customers_tickets_arrive_as_a_poisson_stream_of_mean_gap_week_over_rate() -> None:
    rate = 2.0
    mean_gap = CAL.week / rate  # 20 h
    rig = build(rate=rate, seed=4)
    cust = rig.went_live(7)
    rig.env.run(until=3_000 * mean_gap)
    tickets = rig.routed()
    assert len(tickets) > 2_500
    assert all(t.customer is cust and t.kind == "ticket" for t in tickets)
    gaps = np.diff([0.0, *(t.arrived for t in tickets)])
    assert abs(gaps.mean() / mean_gap - 1) < 0.05, gaps.mean()
    assert stats.kstest(gaps, "expon", args=(0, mean_gap)).pvalue > 0.01
    assert rig.mech.created == rig.mech.open == len(tickets)


def test_the_stream_stops_when_the_customer_is_no_longer_live() -> None:
    rig = build(rate=5.0)
    env = rig.env
    cust = rig.went_live(2)
    at(env, 400, lambda: setattr(cust, "state", "churned"))
    env.run(until=5_000)
    tickets = rig.routed()
    assert len(tickets) > 20
    assert max(t.arrived for t in tickets) < 400
    # The stream has ended, not just its tickets discarded: nothing is scheduled after
    # the churn (the ticket already on its way finds the customer gone, and stops).
    assert not [e for t, _, _, e in env._queue if isinstance(e, Call) and e.callbacks]


def test_each_live_customer_has_one_arrival_pending_on_one_reused_event() -> None:
    # The next ticket is scheduled on the arrival event that has just fired: one pending
    # arrival per customer at any time, on the same object for the whole stream.
    rig = build(rate=5.0)
    env = rig.env
    rig.went_live(1)
    rig.went_live(2)
    seen: list[set[int]] = []
    for until in (50, 500, 5_000):
        env.run(until=until)
        pending = [e for _, _, _, e in env._queue if isinstance(e, Call) and e.callbacks]
        assert len(pending) == 2
        seen.append({id(e) for e in pending})
    assert seen[0] == seen[1] == seen[2]
    assert len(rig.routed()) > 500


def test_the_stream_is_ticket_blocks_of_the_customers_own_stream() -> None:
    rig = build(rate=3.0, seed=9)
    rig.went_live(5, t=16.0)
    rig.env.run(until=16.0 + 400 * CAL.week)
    got = draws_of(rig.routed(), 16.0)
    assert len(got) > 600  # more than two blocks of 256
    blocks = ticket_blocks(Streams(9).get(Source.TICKETS, 5), rig.mech.config, CAL.week / 3.0)
    expected = [draw for _ in range(6) for draw in next(blocks)][: len(got)]
    assert [d[1:] for d in got] == [d[1:] for d in expected]
    np.testing.assert_allclose([d[0] for d in got], [d[0] for d in expected], rtol=1e-9)


@settings(deadline=None, max_examples=20)
@given(seed=st.integers(0, 2**32 - 1), live_at=st.floats(0, 200))
def test_ticket_k_of_a_customer_is_the_same_whatever_else_happens(
    seed: int, live_at: float
) -> None:
    """Common random numbers: another routing (a support person and developers, lower
    lead shares), another customer live alongside, another go-live time: customer 3's
    tickets keep their gaps, classes, efforts and lead needs, in order."""
    plain = build(rate=2.0, seed=seed)
    plain.went_live(3)
    plain.env.run(until=20 * CAL.week)

    busy = build(
        rate=2.0,
        seed=seed,
        support=1,
        devs=2,
        lead_shares={"urgent": 0.1, "normal": 0.1, "how_to": 0.1},
    )
    busy.went_live(4)
    busy.went_live(3, t=live_at)
    busy.env.run(until=live_at + 20 * CAL.week)

    def mine(rig: Rig) -> list[Item]:
        return [i for i in rig.routed() if i.customer is not None and i.customer.id == 3]

    a = draws_of(mine(plain), 0.0)
    b = draws_of(mine(busy), live_at)
    n = min(len(a), len(b))
    assert n > 10
    assert [d[1:] for d in a[:n]] == [d[1:] for d in b[:n]]
    np.testing.assert_allclose([d[0] for d in a[:n]], [d[0] for d in b[:n]], rtol=1e-9)
    # And the routing did differ: the busy company sends work to its team.
    assert busy.team.support_queue.items


def test_ticket_blocks_pick_classes_by_share_and_efforts_by_class() -> None:
    classes = {
        "urgent": TicketClass(share=0.2, effort=constant(1.0), target_days=1),
        "normal": TicketClass(share=0.5, effort=constant(2.0), target_days=5),
        "how_to": TicketClass(share=0.3, effort=constant(3.0), target_days=2),
    }
    config = Tickets(classes=classes)
    blocks = ticket_blocks(np.random.default_rng(1), config, 10.0, block=500)
    draws = [d for _ in range(8) for d in next(blocks)]
    assert len(draws) == 4_000
    effort_of = {"urgent": 1.0, "normal": 2.0, "how_to": 3.0}
    assert all(effort == effort_of[cls] for _, cls, effort, _ in draws)
    share = {c: sum(d[1] == c for d in draws) / len(draws) for c in classes}
    # Binomial standard error at n = 4,000 is under 0.008; 0.03 is nearly 4 of them.
    assert share == pytest.approx({"urgent": 0.2, "normal": 0.5, "how_to": 0.3}, abs=0.03)
    lead_u = np.array([d[3] for d in draws])
    assert lead_u.min() >= 0 and lead_u.max() < 1
    assert stats.kstest(lead_u, "uniform").pvalue > 0.01


def test_ticket_blocks_never_pick_a_class_without_share() -> None:
    classes = {
        "urgent": TicketClass(share=0.5, effort=constant(1.0), target_days=1),
        "normal": TicketClass(share=0.0, effort=constant(2.0), target_days=5),
        "how_to": TicketClass(share=0.5, effort=constant(3.0), target_days=2),
    }
    blocks = ticket_blocks(np.random.default_rng(2), Tickets(classes=classes), 10.0)
    picked = {d[1] for _ in range(4) for d in next(blocks)}
    assert picked == {"urgent", "how_to"}


# ---------------------------------------------------------------- routing
SHARE = 0.5  # the current lead share of every class (the config's default is 0.7)


@pytest.mark.parametrize(
    ("support", "devs", "cls", "needs_lead", "goes_to"),
    [
        # A support person: how-to and tickets not needing the lead go to support.
        (1, 0, "how_to", True, "support"),
        (1, 0, "how_to", False, "support"),
        (1, 0, "normal", False, "support"),
        (1, 0, "urgent", False, "support"),
        (1, 2, "normal", False, "support"),  # support before developers
        (1, 0, "normal", True, "assign"),
        (1, 0, "urgent", True, "screenable"),
        # No support, developers: what does not need the lead goes to them.
        (0, 2, "normal", False, "dev"),
        (0, 2, "urgent", False, "dev"),
        (0, 2, "how_to", False, "dev"),
        (0, 2, "how_to", True, "assign"),
        (0, 2, "normal", True, "assign"),
        (0, 2, "urgent", True, "screenable"),
        # Nobody else: the lead takes everything, urgent tickets as interrupts.
        (0, 0, "normal", False, "assign"),
        (0, 0, "how_to", False, "assign"),
        (0, 0, "urgent", False, "screenable"),
    ],
)
def test_routing_rules(support: int, devs: int, cls: str, needs_lead: bool, goes_to: str) -> None:
    shares = dict.fromkeys(("urgent", "normal", "how_to"), SHARE)
    rig = build(support=support, devs=devs, lead_shares=shares)
    ticket = rig.ledger.new("ticket", None, 1.0, cls)
    # A draw equal to the share does not need the lead; one below it does.
    ticket.lead_u = SHARE - 0.1 if needs_lead else SHARE
    rig.mech.route(ticket)
    sinks = {
        "support": rig.team.support_queue,
        "dev": rig.team.dev_queue,
        "assign": rig.lead.assigned,
        "screenable": rig.screened,
    }
    for name, sink in sinks.items():
        assert sink.items == ([ticket] if name == goes_to else []), name
    assert rig.lead.interrupted.items == []  # the shielding policy decides that, not tickets
    if goes_to in ("support", "dev"):
        assert sinks[goes_to].ranks == [RANK_TICKET]
    assert rig.mech.open == rig.mech.created == 1


def test_routing_reads_the_current_lead_share() -> None:
    """Platform investment lowers the share needing the lead: routing follows it."""
    rig = build(devs=1)
    ticket = rig.ledger.new("ticket", None, 1.0, "normal")
    ticket.lead_u = 0.5  # below the config's 0.7
    rig.mech.route(ticket)
    assert rig.lead.assigned.items == [ticket]
    rig.effects.ticket_lead_share["normal"] = 0.4
    later = rig.ledger.new("ticket", None, 1.0, "normal")
    later.lead_u = 0.5
    rig.mech.route(later)
    assert rig.team.dev_queue.items == [later]


# ---------------------------------------------------------------- records and metrics
def test_a_resolved_ticket_is_counted_recorded_and_passed_to_the_hooks() -> None:
    rig = build()
    rig.env.run(until=2)
    ticket = rig.ledger.new("ticket", None, 1.0, "how_to")
    rig.mech.route(ticket)
    other = rig.ledger.new("ticket", None, 1.0, "urgent")
    rig.mech.route(other)
    rig.env.run(until=9)
    rig.ledger.complete(ticket, "lead")
    assert rig.mech.open == 1 and rig.mech.created == 2
    closed = rig.mech.closed
    names = rig.mech.class_names
    assert [names[k] for k in closed["cls"]] == ["how_to"]
    assert list(closed["arrived"]) == [2.0] and list(closed["done"]) == [9.0]
    assert rig.closed_hook == [ticket]


def test_a_dropped_ticket_leaves_the_open_count_and_other_drops_do_not() -> None:
    rig = build()
    ticket = rig.ledger.new("ticket", None, 1.0, "normal")
    rig.mech.route(ticket)
    ping = rig.ledger.new("ping", None, 0.25)
    rig.ledger.drop(ping, "churn")
    assert rig.mech.open == 1
    rig.ledger.drop(ticket, "churn")
    assert rig.mech.open == 0
    assert len(rig.mech.closed) == 0  # dropped is not resolved


def _record(mech: TicketsMechanism, cls: str, arrived: float, done: float) -> None:
    mech.closed["cls"].append(mech.class_names.index(cls))
    mech.closed["arrived"].append(arrived)
    mech.closed["done"].append(done)


def test_metrics_by_class_on_a_hand_made_record() -> None:
    rig = build()
    day = CAL.day
    window = Window(CAL.week, 3 * CAL.week)  # two weeks: 40 h to 120 h
    _record(rig.mech, "urgent", 40, 40 + day)  # 1 day
    _record(rig.mech, "urgent", 50, 50 + 2 * day)  # 2 days
    _record(rig.mech, "normal", 60, 60 + 5 * day)  # 5 days
    _record(rig.mech, "how_to", 0, 30)  # resolved before the window: left out
    _record(rig.mech, "normal", 100, 130)  # resolved after it: left out
    m = rig.mech.metrics(window)
    assert m["tickets_closed_per_week"] == pytest.approx(1.5)
    assert m["ticket_resolution_mean_days"] == pytest.approx(8 / 3)
    assert m["ticket_urgent_mean_days"] == pytest.approx(1.5)
    assert m["ticket_urgent_p85_days"] == pytest.approx(1.85)
    assert m["ticket_normal_mean_days"] == pytest.approx(5)
    assert m["ticket_normal_p85_days"] == pytest.approx(5)
    assert math.isnan(m["ticket_how_to_mean_days"])
    assert math.isnan(m["ticket_how_to_p85_days"])


def test_the_off_switch() -> None:
    assert TicketsMechanism.switched_on(Tickets())
    assert not TicketsMechanism.switched_on(Tickets(enabled=False))
    assert not TicketsMechanism.switched_on(Tickets(per_customer_per_week=0))


# ---------------------------------------------------------------- stale tickets
def test_a_ticket_nobody_works_on_is_closed_as_stale_after_the_set_days() -> None:
    """``abandon_after_days``: a ticket still waiting that many working days after it
    arrived is dropped as abandoned (counted, its customer told as of a late ticket);
    one the lead put down unfinished on day 1 is judged from then; one in someone's
    hands, or resolved, is not."""
    rig = build()
    rig.mech.config = rig.mech.config.model_copy(update={"abandon_after_days": 2})
    told: list[Item] = []
    rig.mech.on_abandoned.append(told.append)
    cust = Customer(0, 0.0, 75.0)
    cust.state = "live"
    stale, parked, in_hand, resolved = (
        rig.ledger.new("ticket", cust, 1.0, "normal") for _ in range(4)
    )
    for t in (stale, parked, in_hand, resolved):
        rig.mech.route(t)
    in_hand.state = "active"
    rig.ledger.complete(resolved, "lead")
    every(rig.env, CAL.day, [rig.mech.close_stale], first=True)
    rig.env.run(until=1 * CAL.day)
    parked.started, parked.untouched_since = True, rig.env.now  # the lead put it down
    rig.env.run(until=2 * CAL.day - 0.5)
    assert stale.state == "waiting"
    rig.env.run(until=3 * CAL.day - 0.5)
    assert stale.state == "dropped" and rig.ledger.dropped_reasons == {"abandoned": 1}
    assert told == [stale]
    assert parked.state == "waiting" and in_hand.state == "active" and rig.mech.open == 2
    rig.env.run(until=4 * CAL.day - 0.5)
    assert parked.state == "dropped" and told == [stale, parked]
    assert in_hand.state == "active" and rig.mech.open == 1
    assert rig.mech.metrics(Window(0.0, 2.5 * CAL.day))["tickets_abandoned"] == 1
    assert rig.mech.metrics(Window(0.0, 4 * CAL.day))["tickets_abandoned"] == 2


def test_a_forgotten_ticket_goes_stale_too_and_resurfacing_is_not_work() -> None:
    """Forgotten, or forgotten and resurfaced, a ticket nobody works on goes stale on
    time: resurfacing does not restart the clock (else a ticket forgotten every few
    weeks would stay open for ever)."""
    rig = build()
    rig.mech.config = rig.mech.config.model_copy(update={"abandon_after_days": 2})
    lost, back = (rig.ledger.new("ticket", None, 1.0, "normal") for _ in range(2))
    for t in (lost, back):
        rig.mech.route(t)
    every(rig.env, CAL.day, [rig.mech.close_stale], first=True)
    lost.state = back.state = "forgotten"
    rig.env.run(until=1.5 * CAL.day)
    back.state = "waiting"  # resurfaced
    rig.env.run(until=2 * CAL.day + 0.5)
    assert lost.state == "dropped" and back.state == "dropped"
    assert rig.ledger.dropped_reasons == {"abandoned": 2}


def test_tickets_wait_for_ever_when_abandoning_is_off() -> None:
    config = Tickets(abandon_after_days=None)
    assert Tickets().abandon_after_days == 40 and config.abandon_after_days is None
