"""Unit tests of mechanism 1, status calls (``mechanisms/calls.py``), built without the company.

The mechanism is given a real ``simpy.Environment``, ``Calendar``, ``Ledger`` and
``Streams``, and fakes for everything else: a lead whose ``assign`` records the items
put in his backlog, and plain lists standing in for the interrupt route (``send``),
the onboarding project's ``add_ask`` and the commitments mechanism's ``promise``.

What is pinned, and why:

* the rhythm: a call every ``interval_weeks`` from the start of onboarding while the
  customer onboards, none once it is live or gone (calls cost the lead only while a
  customer onboards, MODEL.md mechanism 1);
* who pays: a call the lead attends is a ``call`` interrupt of ``call_hours``; he
  attends always, with ``when_needed_probability``, or never; a written update is
  ``written_hours`` in his backlog instead, never an interrupt;
* what a call makes: it asks ``promise(cust, n, mix_u)`` once and adds ``n_asks`` asks
  (whole numbers, rounded down) with efforts from the customer's own asks stream;
* common random numbers: call k draws the same attendance, due-time mix, promise
  count and ask count whatever the policy (format, attendance, interval, promises on
  or off, ask effort), because each call takes a fixed number of draws.  Paired
  policy comparisons depend on it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from flowsim.model.calendar import Calendar
from flowsim.model.clock import at
from flowsim.model.distributions import Constant, IntegerUniform, Uniform, constant, lognormal
from flowsim.model.entities import Customer, Item
from flowsim.model.eventlog import EventLog
from flowsim.model.ledger import Ledger
from flowsim.model.mechanisms.calls import StatusCalls, StatusCallsMechanism
from flowsim.model.recorder import Window
from flowsim.model.streams import Source, Streams

CAL = Calendar(8.0)
WEEK = CAL.week  # 40 clock hours


class FakeLead:
    """Records what goes into the lead's backlog (only written updates do)."""

    def __init__(self) -> None:
        self.assigned: list[Item] = []

    def assign(self, item: Item) -> None:
        self.assigned.append(item)


class Rig:
    """One status-calls mechanism with recording fakes around it."""

    def __init__(self, seed: int = 7, promises_on: bool = True, **config: Any) -> None:
        self.env = simpy.Environment()
        self.ledger = Ledger(self.env, EventLog(False))
        self.lead = FakeLead()
        self.sent: list[tuple[float, Item]] = []
        self.asks: list[tuple[float, int, np.random.Generator, float]] = []
        self.promises: list[tuple[float, int, int, float]] = []
        self.config = StatusCalls(**config)
        self.mech = StatusCallsMechanism(
            self.config,
            CAL,
            self.env,
            self.ledger,
            self.lead,  # type: ignore[arg-type]
            Streams(seed),
            lambda item: self.sent.append((self.env.now, item)),
            lambda cust, rng, effort: self.asks.append((self.env.now, cust.id, rng, effort)),
            self._promise if promises_on else None,
        )

    def _promise(self, cust: Customer, n: int, mix_u: float) -> None:
        self.promises.append((self.env.now, cust.id, n, mix_u))

    def onboard(self, cust_id: int = 0) -> Customer:
        """A customer that starts onboarding now."""
        cust = Customer(cust_id, self.env.now, 75.0)
        cust.state = "onboarding"
        self.mech.onboarding_started(cust)
        return cust

    def run(self, weeks: float) -> None:
        """Run through ``weeks`` weeks, a call falling at the very end included."""
        self.env.run(until=weeks * WEEK + 1.0)

    def call_times(self) -> list[float]:
        return [t for t, *_ in self.promises]

    def draws(self) -> list[tuple[int, float, int]]:
        """Per call: the (promises, mix_u) it asked for and how many asks it made."""
        n_asks = {t: 0 for t in self.call_times()}
        for t, *_ in self.asks:
            n_asks[t] += 1
        return [(n, mix_u, n_asks[t]) for t, _, n, mix_u in self.promises]


# ---------------------------------------------------------------- rhythm
@pytest.mark.parametrize("interval", [1.0, 2.0, 0.5])
def test_a_call_every_interval_while_onboarding(interval: float) -> None:
    """Calls fall at k * interval after onboarding starts, the first one interval in."""
    rig = Rig(interval_weeks=interval)
    rig.env.run(until=3.0)  # onboarding starts mid-morning, not at time 0
    rig.onboard()
    rig.run(6)
    n = int(6 / interval)  # the last call, at 6 weeks + 3 h, is after the run's end
    expected = [3.0 + k * interval * WEEK for k in range(1, n)]
    assert rig.call_times() == pytest.approx(expected)
    # The lead attends every call by default: one interrupt per call, at the call.
    assert [t for t, _ in rig.sent] == pytest.approx(expected)


def test_no_call_once_the_customer_is_live_or_gone() -> None:
    """A customer that goes live (or churns) between calls gets no further call."""
    rig = Rig(interval_weeks=1)
    live = rig.onboard(0)
    gone = rig.onboard(1)

    def go_live() -> None:
        live.state = "live"

    def churn() -> None:
        gone.state = "churned"

    at(rig.env, 2.5 * WEEK, go_live)
    at(rig.env, 3.5 * WEEK, churn)
    # Step until nothing is scheduled (bounded, so a process that never ends fails
    # rather than hangs): each customer's call process ends at its first call after
    # it stops onboarding, so the clock stops at customer 1's fourth-week check.
    for _ in range(1000):
        if rig.env.peek() == float("inf"):
            break
        rig.env.step()
    assert rig.env.peek() == float("inf")
    assert rig.env.now == 4 * WEEK
    by_cust = {c: [t for t, cid, *_ in rig.promises if cid == c] for c in (0, 1)}
    assert by_cust[0] == [WEEK, 2 * WEEK]
    assert by_cust[1] == [WEEK, 2 * WEEK, 3 * WEEK]
    assert len(rig.sent) == 5


# ---------------------------------------------------------------- attendance and format
def test_lead_always_attends_as_a_call_interrupt_of_call_hours() -> None:
    rig = Rig(lead_attends="always", call_hours=1.5)
    cust = rig.onboard()
    rig.run(4)
    assert len(rig.sent) == 4
    for _, item in rig.sent:
        assert (item.kind, item.customer, item.effort) == ("call", cust, 1.5)
    assert rig.lead.assigned == []  # an attended call is an interrupt, not backlog work


def test_lead_never_attends_but_the_call_still_happens() -> None:
    """Without the lead the call still makes promises and asks; it costs him nothing."""
    rig = Rig(lead_attends="never", new_asks_per_call=constant(1))
    rig.onboard()
    rig.run(4)
    assert rig.sent == [] and rig.lead.assigned == []
    assert len(rig.promises) == 4 and len(rig.asks) == 4


@pytest.mark.parametrize(("probability", "expected"), [(0.0, 0), (1.0, 30)])
def test_when_needed_extremes(probability: float, expected: int) -> None:
    rig = Rig(lead_attends="when_needed", when_needed_probability=probability)
    rig.onboard()
    rig.run(30)
    assert len(rig.sent) == expected


def test_when_needed_attends_with_the_configured_probability() -> None:
    """Over 600 calls (two customers) the attended share is within 4.5 standard errors of
    p = 0.3 (a correct mechanism fails this about once in 150,000 seeds; fixed seed)."""
    rig = Rig(lead_attends="when_needed", when_needed_probability=0.3, interval_weeks=0.1)
    rig.onboard(0)
    rig.onboard(1)
    rig.run(30)
    n = len(rig.promises)
    assert n == 600
    share = len(rig.sent) / n
    assert abs(share - 0.3) < 4.5 * np.sqrt(0.3 * 0.7 / n)


def test_when_needed_calls_nest_as_the_probability_grows() -> None:
    """The same call draws the same attendance number under every probability, so the
    calls attended at p = 0.2 are a subset of those attended at p = 0.6 (common random
    numbers: raising the probability only adds calls)."""

    def attended(p: float) -> set[float]:
        rig = Rig(lead_attends="when_needed", when_needed_probability=p)
        rig.onboard()
        rig.run(60)
        return {t for t, _ in rig.sent}

    low, high = attended(0.2), attended(0.6)
    assert low < high  # strict: over 60 calls some fall between 0.2 and 0.6


def test_written_update_goes_to_the_backlog_instead() -> None:
    """A written update is backlog work of written_hours, whoever would attend a call."""
    rig = Rig(format="written", written_hours=0.25, lead_attends="always")
    cust = rig.onboard()
    rig.run(3)
    assert rig.sent == []
    assert [(i.kind, i.customer, i.effort) for i in rig.lead.assigned] == [("call", cust, 0.25)] * 3
    assert len(rig.promises) == 3  # the update still carries promises


# ---------------------------------------------------------------- promises and asks
def test_each_call_asks_for_promises_once() -> None:
    """promise(cust, n, mix_u): n from promises_per_call (a whole number), mix_u in [0, 1)."""
    rig = Rig(promises_per_call=IntegerUniform(low=1, high=3))
    rig.onboard(5)
    rig.run(50)
    assert len(rig.promises) == 50
    ns = [n for _, _, n, _ in rig.promises]
    us = [u for *_, u in rig.promises]
    assert all(type(n) is int for n in ns)
    assert set(ns) == {1, 2, 3}
    assert all(0 <= u < 1 for u in us)
    assert {cid for _, cid, _, _ in rig.promises} == {5}


def test_asks_per_call_are_whole_numbers_rounded_down() -> None:
    """A call adds int(new_asks) asks, each with an effort from ask_effort."""
    rig = Rig(new_asks_per_call=Constant(value=2.7), ask_effort=constant(3.5))
    rig.onboard()
    rig.run(3)
    assert [t for t, *_ in rig.asks] == [WEEK, WEEK, 2 * WEEK, 2 * WEEK, 3 * WEEK, 3 * WEEK]
    assert all(effort == 3.5 for *_, effort in rig.asks)


def test_ask_efforts_come_from_the_customers_asks_stream() -> None:
    """Ask efforts are drawn one by one from the customer's own ASKS stream (keyed by
    what it drives, so a customer's asks are the same under every policy)."""
    effort = lognormal(3, 1.0)
    rig = Rig(seed=11, new_asks_per_call=Uniform(low=0, high=3), ask_effort=effort)
    rig.onboard(4)
    rig.run(20)
    got = [e for *_, e in rig.asks]
    assert len(got) > 10
    ref = Streams(11).get(Source.ASKS, 4)
    assert got == [float(effort.draw(ref, 1)[0]) for _ in got]
    # The generator handed to add_ask is that stream, the same object every call.
    assert len({id(rng) for _, _, rng, _ in rig.asks}) == 1


def test_no_promise_callback_still_adds_asks() -> None:
    """With commitments off (promise None) calls still happen and add asks."""
    rig = Rig(promises_on=False, new_asks_per_call=constant(1))
    rig.onboard()
    rig.run(3)
    assert len(rig.sent) == 3 and len(rig.asks) == 3


# ---------------------------------------------------------------- common random numbers
@settings(deadline=None, max_examples=25)
@given(
    seed=st.integers(0, 2**32 - 1),
    fmt=st.sampled_from(["call", "written"]),
    attends=st.sampled_from(["always", "when_needed", "never"]),
    probability=st.floats(0, 1),
    interval=st.sampled_from([0.5, 1.0, 2.0]),
    constant_effort=st.booleans(),
)
def test_call_k_draws_the_same_whatever_the_policy(
    seed: int,
    fmt: str,
    attends: str,
    probability: float,
    interval: float,
    constant_effort: bool,
) -> None:
    """Call k asks for the same (promises, mix_u) and makes the same number of asks under
    every format, attendance, interval and ask-effort distribution: a call's draws do not
    depend on what the policy does with them (a fixed number of draws per call, the ask
    efforts on a separate stream)."""
    calls = 12

    def draws(**config: Any) -> list[tuple[int, float, int]]:
        rig = Rig(seed=seed, **config)
        rig.onboard(3)
        rig.run(calls * config.get("interval_weeks", 1.0))
        return rig.draws()

    reference = draws(new_asks_per_call=Uniform(low=0, high=2.5), ask_effort=lognormal(3, 1.0))
    other = draws(
        format=fmt,
        lead_attends=attends,
        when_needed_probability=probability,
        interval_weeks=interval,
        new_asks_per_call=Uniform(low=0, high=2.5),
        ask_effort=constant(1.0) if constant_effort else lognormal(8, 2.0),
    )
    assert len(reference) == len(other) == calls
    assert other == reference


def test_call_k_asks_the_same_with_promises_off() -> None:
    """Switching commitments off does not shift the number of asks call k makes."""

    def asks_per_call(promises_on: bool) -> list[float]:
        rig = Rig(seed=3, promises_on=promises_on, new_asks_per_call=Uniform(low=0, high=3))
        rig.onboard()
        rig.run(25)
        return [t for t, *_ in rig.asks]

    with_promises = asks_per_call(True)
    assert len(set(with_promises)) > 5  # calls with different numbers of asks
    assert asks_per_call(False) == with_promises


# ---------------------------------------------------------------- the lead's call hours
def test_the_lead_attends_calls_up_to_his_weekly_hours_and_the_rest_run_without_him() -> None:
    """``lead_max_hours_per_week``: once his call hours for the calendar week are taken,
    that week's further calls run without him (counted); the next week he attends again.
    Promises and asks are made at every call, with him or without."""
    rig = Rig(lead_max_hours_per_week=3, call_hours=1)
    for cust_id in range(5):  # five customers, each with a weekly call, all on one day
        rig.onboard(cust_id)
    rig.run(2)
    per_week = [
        sum(1 for t, _ in rig.sent if week * WEEK < t <= (week + 1) * WEEK) for week in (0, 1)
    ]
    assert per_week == [3, 3]
    assert len(rig.promises) == 10  # every call still promises
    window = Window(0.0, 3 * WEEK)
    assert rig.mech.metrics(window) == {"calls_without_lead": 4}


def test_without_a_limit_he_attends_every_call() -> None:
    rig = Rig(lead_max_hours_per_week=None)
    for cust_id in range(5):
        rig.onboard(cust_id)
    rig.run(2)
    assert len(rig.sent) == 10
    assert rig.mech.metrics(Window(0.0, 3 * WEEK)) == {"calls_without_lead": 0}
