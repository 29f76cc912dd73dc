"""Unit tests of mechanism 5, forgetting (``mechanisms/forgetting.py``), built without the
company.

The mechanism gets a real ``simpy.Environment``, ``Calendar``, ``Ledger``, ``EventLog``,
top-N ``Backlog`` and ``CountTrace``, a seeded ``numpy`` generator, the clock's ``at``
on the same environment, and a plain list as its interrupt route (``send``).

What is pinned, and why:

* who can be forgotten: an unstarted item of a kind in ``applies_to`` that is not on
  today's list, with ``daily_probability``; started or listed items, and other kinds,
  never (MODEL.md mechanism 5: items that stay off the list may be forgotten);
* reproducibility: one draw per backlog item, in backlog order, forgettable or not, so
  the same seed forgets the same items whatever their kinds;
* what forgetting does: the item leaves the backlog (and its size trace), is counted
  open while forgotten, and resurfaces after ``resurface_days`` working days as urgent
  work of ``effort_multiplier`` times its effort, sent as an interrupt;
* conservation: a forgotten item dropped meanwhile (its customer left) never resurfaces,
  and the open count stays right;
* the metric counts the items forgotten inside the window.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from flowsim.model.backlog import Backlog, Prioritisation
from flowsim.model.calendar import Calendar
from flowsim.model.clock import at
from flowsim.model.distributions import IntegerUniform, constant
from flowsim.model.entities import Customer, Item
from flowsim.model.eventlog import EventLog
from flowsim.model.ledger import Ledger
from flowsim.model.mechanisms.forgetting import Forgetting, ForgettingMechanism
from flowsim.model.recorder import CountTrace, Window

CAL = Calendar(8.0)
DAY = CAL.day


class Rig:
    """A forgetting mechanism on a real top-N backlog, with its route recorded."""

    def __init__(self, seed: int = 0, top_n: int = 2, **config: Any) -> None:
        self.env = simpy.Environment()
        self.log = EventLog(True)
        self.ledger = Ledger(self.env, self.log)
        self.backlog = Backlog(Prioritisation(policy="top_n", top_n=top_n))
        self.size = CountTrace()
        self.sent: list[tuple[float, Item]] = []
        self.assigned: list[tuple[float, Item]] = []
        config.setdefault("resurface_days", constant(3))
        config.setdefault("resurface_to", "interrupt")  # most tests follow the interrupt route
        self.config = Forgetting(**config)
        self.mech = ForgettingMechanism(
            self.config,
            CAL,
            self.env,
            self.ledger,
            self.log,
            self.backlog,
            self.size,
            np.random.default_rng(seed),
            lambda t, fn: at(self.env, t, fn),
            lambda item: self.sent.append((self.env.now, item)),
            lambda item: self.assigned.append((self.env.now, item)),
        )
        self.ledger.on_drop.append(self.mech.dropped)
        self.cust = Customer(0, 0.0, 75.0)
        self.cust.state = "live"

    def add(self, kind: str = "ticket", effort: float = 2.0) -> Item:
        """A new backlog item, a minute after the last one (so the CEO's newest-first
        list tells them apart)."""
        self.to(self.env.now + 1 / 60)
        item = self.ledger.new(kind, self.cust, effort)
        self.backlog.add(item)
        return item

    def to(self, t: float) -> None:
        if t > self.env.now:
            self.env.run(until=t)

    def forgotten(self) -> list[Item]:
        return [item for _, item in self.sent]


def test_certain_forgetting_takes_every_item_off_the_list() -> None:
    """With probability 1 every unstarted, unlisted item of a forgettable kind goes:
    out of the backlog and its size trace, counted open, logged."""
    rig = Rig(daily_probability=1.0, top_n=2)
    items = [rig.add() for _ in range(5)]
    rig.backlog.make_daily_list()  # newest first: the two newest are listed
    listed = [i for i in items if i.list_pos >= 0]
    assert listed == items[3:]
    rig.to(5.0)
    rig.mech.daily()
    assert [i.state for i in items] == ["forgotten"] * 3 + ["waiting"] * 2
    assert list(rig.backlog) == listed
    assert rig.mech.open == 3
    assert list(rig.size.falls) == [5.0] * 3
    df = rig.log.frame(DAY)
    rows = df[df["event"] == "forgotten"]
    assert list(rows["entity"]) == [i.id for i in items[:3]] and set(rows["time"]) == {5.0}


def test_zero_probability_forgets_nothing() -> None:
    rig = Rig(daily_probability=0.0)
    items = [rig.add() for _ in range(20)]
    rig.mech.daily()
    assert all(i.state == "waiting" for i in items) and rig.mech.open == 0
    assert not ForgettingMechanism.switched_on(rig.config)


def test_started_listed_and_other_kinds_are_never_forgotten() -> None:
    rig = Rig(daily_probability=1.0, top_n=1, applies_to=["task"])
    target = rig.add("task")
    started = rig.add("task")
    ticket = rig.add("ticket")  # forgettable by default, not under this applies_to
    spec = rig.add("spec")  # specs, reviews, calls ... are never forgettable
    listed = rig.add("task")
    rig.backlog.make_daily_list()  # newest first: ``listed`` is today's list
    assert listed.list_pos == 0 and target.list_pos == started.list_pos == -1
    started.started = True  # the flag the lead sets when he takes an item up
    for _ in range(5):
        rig.mech.daily()
    assert target.state == "forgotten"
    assert [i.state for i in (listed, started, ticket, spec)] == ["waiting"] * 4
    assert rig.mech.open == 1


def test_an_item_started_by_the_lead_is_not_forgotten() -> None:
    """The item the lead took up (and put back, preempted) is started work, even once
    it has fallen off the list."""
    rig = Rig(daily_probability=1.0, top_n=1)
    first = rig.add()
    second = rig.add()
    rig.backlog.make_daily_list()
    taken = rig.backlog.take(False)
    assert taken is second  # the listed one
    third = rig.add()
    rig.backlog.make_daily_list()  # the newer third item takes the only place
    rig.backlog.put_back(taken)
    assert second.list_pos == -1 and third.list_pos == 0
    rig.mech.daily()
    assert first.state == "forgotten"
    assert second.state == third.state == "waiting"
    assert set(rig.backlog) == {second, third}


def _expected(seed: int, kinds: list[str], p: float, forgettable: set[str]) -> list[int]:
    """Positions forgotten on one day: one uniform draw per backlog item, in order."""
    draws = np.random.default_rng(seed).random(len(kinds))
    return [k for k, kind in enumerate(kinds) if draws[k] < p and kind in forgettable]


@settings(deadline=None, max_examples=60)
@given(
    seed=st.integers(0, 2**32 - 1),
    kinds=st.lists(st.sampled_from(["ticket", "task", "ask", "spec", "review"]), max_size=40),
    p=st.floats(0.05, 0.95),
)
def test_the_same_seed_forgets_the_same_items(seed: int, kinds: list[str], p: float) -> None:
    """Item k is forgotten iff the k-th draw of the day is below p (and it may be forgotten):
    every backlog item takes a draw, forgettable or not, so adding an unforgettable spec
    to the backlog does not change which other items' draws come up."""
    rig = Rig(seed=seed, daily_probability=p, top_n=1)
    items = [rig.add(kind) for kind in kinds]
    rig.mech.daily()  # no list posted: nothing is listed
    got = [k for k, item in enumerate(items) if item.state == "forgotten"]
    assert got == _expected(seed, kinds, p, {"ticket", "task", "ask"})


def test_the_same_seed_forgets_the_same_items_day_after_day() -> None:
    """Over several mornings, with resurfacing in between, two runs on the same seed
    forget the same items at the same times; another seed forgets others."""

    def run(seed: int) -> list[tuple[float, int]]:
        rig = Rig(seed=seed, daily_probability=0.2, resurface_days=IntegerUniform(low=1, high=3))
        for _ in range(30):
            rig.add()
        for day in range(1, 8):
            rig.mech.daily()
            rig.to(day * DAY)
        df = rig.log.frame(DAY)
        rows = df[df["event"].isin(["forgotten", "resurfaced"])]
        return list(zip(rows["time"], rows["entity"], strict=True))

    first = run(12)
    assert len(first) > 10
    assert run(12) == first
    assert run(13) != first


@pytest.mark.parametrize("days", [3, 10])
def test_a_forgotten_item_resurfaces_as_urgent_costlier_work(days: int) -> None:
    rig = Rig(daily_probability=1.0, resurface_days=constant(days), effort_multiplier=2.5)
    item = rig.add("task", effort=4.0)
    rig.to(2.0)
    rig.mech.daily()
    assert item.state == "forgotten" and rig.sent == []
    rig.to(2.0 + days * DAY - 0.01)
    assert rig.sent == [] and rig.mech.open == 1
    rig.to(2.0 + days * DAY + 0.01)
    assert rig.sent == [(2.0 + days * DAY, item)]
    assert item.state == "waiting" and item.urgent and item.resurfaced and not item.started
    assert item.remaining == 10.0 and item.effort == 4.0
    assert rig.mech.open == 0
    df = rig.log.frame(DAY)
    assert list(df.loc[df["event"] == "resurfaced", "time"]) == [2.0 + days * DAY]


def test_resurface_delays_are_drawn_in_working_days() -> None:
    """Delays from resurface_days are whole working days within its range."""
    rig = Rig(seed=4, daily_probability=1.0, resurface_days=IntegerUniform(low=10, high=20))
    for _ in range(40):
        rig.add()
    forgot_at = rig.env.now
    rig.mech.daily()
    rig.to(25 * DAY)
    delays = [(t - forgot_at) / DAY for t, _ in rig.sent]
    assert len(delays) == 40
    assert all(abs(d - round(d)) < 1e-9 and 10 <= round(d) <= 20 for d in delays)
    assert len(set(delays)) > 5


def test_a_dropped_forgotten_item_never_resurfaces() -> None:
    rig = Rig(daily_probability=1.0, resurface_days=constant(3))
    kept, dropped = rig.add(), rig.add()
    rig.mech.daily()
    assert rig.mech.open == 2
    rig.to(DAY)
    rig.ledger.drop(dropped, "churned")  # its customer left while it was forgotten
    assert dropped.state == "dropped" and rig.mech.open == 1
    rig.to(10 * DAY)
    assert rig.forgotten() == [kept]
    assert dropped.state == "dropped" and not dropped.urgent
    assert rig.mech.open == 0


def test_dropping_an_item_that_was_not_forgotten_leaves_the_count() -> None:
    rig = Rig(daily_probability=1.0, top_n=1)
    forgotten, listed = rig.add(), rig.add()
    rig.backlog.make_daily_list()
    rig.mech.daily()
    rig.ledger.drop(listed, "churned")
    assert forgotten.state == "forgotten" and rig.mech.open == 1


def test_metrics_count_items_forgotten_in_the_window() -> None:
    rig = Rig(daily_probability=1.0)
    for t in (1.0, 9.0, 17.0):
        rig.to(t)
        rig.add()
        rig.add()
        rig.mech.daily()
    assert rig.mech.metrics(Window(8.0, 16.0)) == {"items_forgotten": 2}
    assert rig.mech.metrics(Window(0.0, 100.0)) == {"items_forgotten": 6}


def test_an_empty_backlog_takes_no_draw() -> None:
    """No backlog, no draw: the stream is not advanced by an empty morning."""
    rig = Rig(seed=9, daily_probability=0.5)
    rig.mech.daily()
    assert rig.mech.rng.random() == np.random.default_rng(9).random()


def test_by_default_a_resurfaced_item_goes_to_the_front_of_the_backlog_not_an_interrupt() -> None:
    """MODEL.md: a forgotten item comes back as a problem that goes to the front of the
    backlog, interrupting only where shielding allows (``resurface_to: interrupt``)."""
    assert Forgetting().resurface_to == "backlog"
    rig = Rig(daily_probability=1.0, resurface_to="backlog")
    item = rig.add()
    rig.mech.daily()
    rig.to(rig.env.now + 4 * DAY)
    assert rig.sent == []
    assert [i for _, i in rig.assigned] == [item]
    assert item.urgent and item.state == "waiting"
