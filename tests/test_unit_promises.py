"""Unit tests of mechanism 4, broken promises (``mechanisms/promises.py``), built without
the company.

The mechanism gets a real ``simpy.Environment``, ``Calendar`` (8-hour days, 40-hour
weeks), ``Ledger``, ``EventLog``, ``Streams`` and lead backlog, and a plain list as
its interrupt route (``send``).  Items are made by the ledger and put in a customer's
``work`` as the onboarding mechanism would.

What is pinned, and why:

* due times, per commitment policy: end of today, end of tomorrow, end of this week,
  a mix chosen by ``mix_u`` against the cumulative weights, and a forecast (the chosen
  percentile of the recent lead times after the item's arrival, two weeks when there
  is no history, never before the end of today, rounded up to the end of a day).  The
  due time is what makes a promise realistic or not (MODEL.md, Commitments);
* ``percentile`` is numpy's default (linear) percentile, checked on random samples;
* ``at_call`` promises the customer's oldest open work that carries no promise yet;
* a promise is kept when its item is done by the due time; one still open at the
  first daily check at or after the due time is broken: the health hooks are told,
  the item and the spec or review holding it up become urgent and are re-ranked in
  the lead's backlog, and an escalation interrupts the lead; an item done late is a
  broken promise without an escalation; a dropped item's promise is void;
* the metrics count the promises made inside the window.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from flowsim.model.backlog import Backlog, Prioritisation
from flowsim.model.calendar import Calendar
from flowsim.model.distributions import constant
from flowsim.model.entities import Customer, Item
from flowsim.model.eventlog import EventLog
from flowsim.model.ledger import Ledger
from flowsim.model.mechanisms.promises import Commitments, PromisesMechanism, percentile
from flowsim.model.recorder import Window
from flowsim.model.streams import Streams

CAL = Calendar(8.0)
DAY, WEEK = CAL.day, CAL.week  # 8 and 40 clock hours


class Rig:
    """A promises mechanism on a real ledger and backlog, with its route recorded."""

    def __init__(self, policy: str = "end_of_today", backlog: str = "urgent_first", **cfg: Any):
        self.env = simpy.Environment()
        self.log = EventLog(True)
        self.ledger = Ledger(self.env, self.log)
        self.backlog = Backlog(Prioritisation(policy=backlog))  # type: ignore[arg-type]
        self.sent: list[Item] = []
        self.told: list[tuple[int, bool]] = []
        self.config = Commitments(policy=policy, **cfg)  # type: ignore[arg-type]
        self.mech = PromisesMechanism(
            self.config,
            CAL,
            self.env,
            self.ledger,
            self.log,
            self.backlog,
            Streams(1),
            self.sent.append,
        )
        # Wired as the company wires it: promises hear of every item done, first.
        self.ledger.before_done.append(self.mech.on_done)
        self.mech.on_resolved.append(lambda cust, kept: self.told.append((cust.id, kept)))
        self.cust = Customer(0, 0.0, 75.0)
        self.cust.state = "onboarding"

    def to(self, t: float) -> None:
        if t > self.env.now:
            self.env.run(until=t)

    def work(self, effort: float = 4.0, kind: str = "task") -> Item:
        """A new open onboarding item of the customer, as the onboarding mechanism makes it
        (and tells this mechanism, through ``on_new_work``)."""
        item = self.ledger.new(kind, self.cust, effort)
        self.cust.work[item.id] = item
        self.mech.new_work(item)
        return item

    def events(self) -> list[tuple[float, int, str]]:
        df = self.log.frame(DAY)
        promise_rows = df[df["event"].astype(str).str.startswith("promise")]
        columns = (promise_rows["time"], promise_rows["entity"], promise_rows["event"].astype(str))
        return list(zip(*columns, strict=True))


def due_of(policy: str, now: float, mix_u: float = 0.0, **cfg: Any) -> float:
    rig = Rig(policy, **cfg)
    rig.to(now)
    item = rig.work()
    rig.mech.at_call(rig.cust, 1, mix_u)
    assert item.due is not None
    return item.due


# ---------------------------------------------------------------- due times
@pytest.mark.parametrize(
    ("policy", "now", "due"),
    [
        ("end_of_today", 0.0, 8.0),
        ("end_of_today", 10.0, 16.0),
        ("end_of_today", 8.0, 16.0),  # the first instant of day 2 is day 2
        ("end_of_today", 15.99, 16.0),
        ("tomorrow", 10.0, 24.0),
        ("tomorrow", 39.0, 48.0),
        ("this_week", 10.0, 40.0),
        ("this_week", 40.0, 80.0),  # Monday morning: the end of this (new) week
        ("this_week", 79.5, 80.0),
    ],
)
def test_due_time_by_policy(policy: str, now: float, due: float) -> None:
    assert due_of(policy, now) == due


@pytest.mark.parametrize(
    ("mix_u", "due"),
    [(0.0, 16.0), (0.2499, 16.0), (0.25, 24.0), (0.4999, 24.0), (0.5, 40.0), (0.9999, 40.0)],
)
def test_mixed_picks_the_option_whose_cumulative_weight_covers_mix_u(
    mix_u: float, due: float
) -> None:
    """Weights 1 : 1 : 2 (normalised) split [0, 1) into today, tomorrow, this week."""
    mix = {"end_of_today": 1.0, "tomorrow": 1.0, "this_week": 2.0}
    assert due_of("mixed", 10.0, mix_u, mix=mix) == due


def test_mixed_ignores_options_of_zero_weight() -> None:
    mix = {"end_of_today": 0.0, "tomorrow": 3.0, "this_week": 0.0}
    assert {due_of("mixed", 10.0, u, mix=mix) for u in (0.0, 0.5, 0.999)} == {24.0}


def test_mixed_needs_a_positive_weight() -> None:
    with pytest.raises(ValueError, match="positive weight"):
        Commitments(policy="mixed", mix={"end_of_today": 0.0})


def test_forecast_without_history_quotes_two_weeks_after_today() -> None:
    assert due_of("forecast", 10.0) == 16.0 + 2 * WEEK


def _forecast_rig(lead_times: list[float], **cfg: Any) -> Rig:
    """A forecast rig whose window of recent lead times is ``lead_times`` (done at 200 h)."""
    rig = Rig("forecast", **cfg)
    rig.to(200.0)
    for lt in lead_times:
        done = Item(-1, "task", None, 1.0, 200.0 - lt)
        rig.mech.lead_time(done)
    return rig


@pytest.mark.parametrize(
    ("lead_times", "q", "due"),
    [
        ([10, 20, 30, 40, 50], 85, 248.0),  # 203 + 44 = 247, rounded up to 248
        ([10, 20, 30, 40, 50], 50, 240.0),  # 203 + 30 = 233, rounded up to 240
        ([10, 20, 30, 40, 50], 10, 224.0),  # 203 + 14 = 217, rounded up to 224
    ],
)
def test_forecast_quotes_the_percentile_from_now(
    lead_times: list[float], q: float, due: float
) -> None:
    """The item (arrived at 2 h, promised at 203 h) is due the time of the call plus the
    chosen percentile of the recent lead times, rounded up to the end of a day: a
    forecast quotes from now, not from when the item arrived (which would promise an
    old item for a day long gone)."""
    rig = _forecast_rig(lead_times, forecast_percentile=q)
    rig.to(2.0)
    item = rig.work()
    rig.to(203.0)  # the call comes long after the item arrived
    rig.mech.at_call(rig.cust, 1, 0.0)
    assert item.due == due


def test_forecast_is_never_before_the_end_of_today() -> None:
    """An old item with a short quote is promised for today, not for a day gone by."""
    rig = Rig("forecast")
    item = rig.work()  # arrived at 0
    rig.to(200.0)
    for lt in (1.0, 2.0, 3.0):
        rig.mech.lead_time(Item(-1, "task", None, 1.0, 200.0 - lt))
    rig.to(203.0)
    rig.mech.at_call(rig.cust, 1, 0.0)
    assert item.due == 208.0  # not 0 + 2.7 rounded up to 8


def test_forecast_requotes_when_the_window_moves() -> None:
    """A lead time that joins the window changes the next quote (no stale cache)."""
    rig = _forecast_rig([8.0] * 10, forecast_percentile=50)
    first = rig.work()
    rig.mech.at_call(rig.cust, 1, 0.0)
    assert first.due == 208.0  # 200 + 8
    for _ in range(30):
        rig.mech.lead_time(Item(-1, "task", None, 1.0, 200.0 - 100.0))
    second = rig.work()
    rig.mech.at_call(rig.cust, 1, 0.0)
    assert second.due == 304.0  # 200 + 100


def test_forecast_quotes_from_the_recent_fifty_lead_times_only() -> None:
    """Old lead times leave the window: 50 long ones followed by 50 short ones quote short."""
    rig = _forecast_rig([400.0] * 50 + [16.0] * 50, forecast_percentile=95)
    item = rig.work()
    rig.mech.at_call(rig.cust, 1, 0.0)
    assert item.due == 216.0


def test_lead_time_records_time_since_arrival() -> None:
    rig = Rig("forecast")
    item = rig.work()
    rig.to(37.5)
    rig.mech.lead_time(item)
    assert list(rig.mech.recent_lead_times) == [37.5]


@settings(deadline=None, max_examples=200)
@given(
    values=st.lists(
        st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False), min_size=1, max_size=60
    ),
    q=st.floats(0, 100),
)
def test_percentile_is_numpys_default(values: list[float], q: float) -> None:
    assert percentile(values, q) == pytest.approx(
        float(np.percentile(values, q)), rel=1e-9, abs=1e-6
    )


def test_percentile_on_random_samples() -> None:
    """Lognormal samples like the lead times it quotes from, at the percentiles in use."""
    rng = np.random.default_rng(5)
    for _ in range(200):
        xs = rng.lognormal(3, 1, rng.integers(1, 51)).tolist()
        for q in (50, 85, 95, 99.5):
            assert percentile(xs, q) == pytest.approx(float(np.percentile(xs, q)), rel=1e-12)


# ---------------------------------------------------------------- making promises
def test_at_call_promises_the_oldest_unpromised_open_work() -> None:
    rig = Rig("this_week")
    a, b, c, d = (rig.work() for _ in range(4))
    rig.mech.at_call(rig.cust, 1, 0.0)
    assert [i.due for i in (a, b, c, d)] == [40.0, None, None, None]
    # a already carries a promise: the next call promises b and c, the oldest of the rest.
    rig.mech.at_call(rig.cust, 2, 0.0)
    assert [i.due is not None for i in (a, b, c, d)] == [True, True, True, False]
    assert rig.mech.counts["made"] == 3
    assert sorted(rig.mech.open) == sorted(i.id for i in (a, b, c))


def test_at_call_promises_at_most_the_open_work() -> None:
    rig = Rig("this_week")
    items = [rig.work(), rig.work()]
    rig.mech.at_call(rig.cust, 5, 0.0)
    assert all(i.due == 40.0 for i in items)
    assert rig.mech.counts["made"] == 2
    rig.mech.at_call(rig.cust, 0, 0.0)
    rig.mech.at_call(rig.cust, 3, 0.0)  # nothing left without a promise
    assert rig.mech.counts["made"] == 2


def test_a_promise_is_logged_and_presses_the_item_and_its_gate() -> None:
    """The due time reaches the spec holding the item up, and the lead's backlog re-ranks
    both: under classes of service a promised item goes before older unpromised work."""
    rig = Rig("tomorrow", backlog="classes_of_service")
    older = rig.ledger.new("ticket", None, 1.0)
    rig.backlog.add(older)
    rig.to(3.0)
    task = rig.work()
    spec = rig.ledger.new("spec", rig.cust, 0.8)
    task.gate = spec
    rig.backlog.add(spec)
    rig.mech.at_call(rig.cust, 1, 0.0)
    assert task.due == spec.due == 16.0
    assert rig.backlog.take(False) is spec
    assert rig.events() == [(3.0, task.id, "promised")]


# ---------------------------------------------------------------- keeping and breaking
def test_done_by_the_due_time_is_a_kept_promise() -> None:
    rig = Rig("end_of_today")
    item = rig.work()
    rig.mech.at_call(rig.cust, 1, 0.0)
    rig.to(8.0)  # done exactly at the due time: still on time
    rig.ledger.complete(item, "lead")
    assert rig.mech.counts == {"made": 1, "kept": 1, "broken": 0, "void": 0}
    assert rig.told == [(0, True)]
    assert item.due is None
    rig.to(16.0)
    rig.mech.daily()  # the heap entry is stale: nothing more happens
    assert rig.mech.counts["broken"] == 0 and rig.sent == []
    assert rig.events()[-1] == (8.0, item.id, "promise_kept")


def test_done_late_is_a_broken_promise_without_escalation() -> None:
    """Done after the due time but before the morning check: broken, but there is nothing
    left to escalate."""
    rig = Rig("end_of_today")
    item = rig.work()
    rig.mech.at_call(rig.cust, 1, 0.0)
    rig.to(8.5)
    rig.ledger.complete(item, "lead")
    rig.mech.daily()
    assert rig.mech.counts == {"made": 1, "kept": 0, "broken": 1, "void": 0}
    assert rig.told == [(0, False)]
    assert rig.sent == []


def test_open_at_the_first_check_after_the_due_time_is_broken() -> None:
    """Not before: a check before the due time leaves it open; the first check at or after
    it breaks it, tells the customer, presses item and gate urgent and (escalating at the
    first break here) escalates."""
    rig = Rig("tomorrow", escalation_effort=constant(2.5), escalate_after_breaks=1)
    rig.to(2.0)
    waiting = rig.ledger.new("ticket", None, 1.0)  # older, not urgent
    rig.backlog.add(waiting)
    rig.to(3.0)
    task = rig.work()  # with a contractor, waiting on its review by the lead
    review = rig.ledger.new("review", rig.cust, 0.4)
    task.gate = review
    rig.backlog.add(review)
    rig.mech.at_call(rig.cust, 1, 0.0)
    assert task.due == 16.0
    for t in (8.0, 15.9):
        rig.to(t)
        rig.mech.daily()
    assert rig.mech.counts["broken"] == 0 and rig.sent == [] and rig.told == []
    assert not review.urgent
    rig.to(16.0)
    rig.mech.daily()
    assert rig.mech.counts == {"made": 1, "kept": 0, "broken": 1, "void": 0}
    assert rig.told == [(0, False)]
    assert task.urgent and review.urgent
    # Re-ranked: the urgent review now goes before the older, non-urgent ticket.
    assert rig.backlog.take(False) is review
    [esc] = rig.sent
    assert (esc.kind, esc.customer, esc.effort) == ("escalation", rig.cust, 2.5)
    assert task.due is None  # resolved: the item no longer carries the promise
    assert rig.events()[-1] == (16.0, task.id, "promise_broken")
    rig.to(24.0)
    rig.mech.daily()  # broken once, escalated once
    assert len(rig.sent) == 1 and rig.mech.counts["broken"] == 1


def test_a_late_promise_of_a_customer_who_left_tells_no_one() -> None:
    """Health hooks hear only of active customers; the promise still counts as broken."""
    rig = Rig("end_of_today")
    rig.work()
    rig.mech.at_call(rig.cust, 1, 0.0)
    rig.cust.state = "churned"
    rig.to(8.0)
    rig.mech.daily()
    assert rig.mech.counts["broken"] == 1 and rig.told == []


def test_a_dropped_items_promise_is_void() -> None:
    rig = Rig("end_of_today")
    item = rig.work()
    rig.mech.at_call(rig.cust, 1, 0.0)
    rig.to(4.0)
    rig.ledger.drop(item, "churned")
    rig.to(8.0)
    rig.mech.daily()
    assert rig.mech.counts == {"made": 1, "kept": 0, "broken": 0, "void": 1}
    assert rig.told == [] and rig.sent == []
    assert rig.mech.open == {} and item.due is None
    assert rig.mech.records.rows == [[0.0, 8.0, "void", 8.0]]


# ---------------------------------------------------------------- metrics
def test_metrics_count_promises_made_in_the_window() -> None:
    """A promise belongs to the window it was made in, whenever it is resolved."""
    rig = Rig("end_of_today")
    before = rig.work()
    rig.mech.at_call(rig.cust, 1, 0.0)  # made at 0, outside [10, 100]
    rig.to(12.0)
    kept, broken, still_open = rig.work(), rig.work(), rig.work()
    rig.mech.at_call(rig.cust, 3, 0.0)  # all due at 16
    rig.ledger.complete(before, "lead")  # late, but made before the window
    rig.ledger.complete(kept, "lead")
    rig.to(16.0)
    rig.mech.daily()
    rig.to(120.0)
    rig.ledger.complete(still_open, "lead")  # its promise broke at 16 already
    m = rig.mech.metrics(Window(10.0, 100.0))
    assert m == {
        "promises_made": 3,
        "promises_kept": 1,
        "promises_broken": 2,
        "promises_kept_share": pytest.approx(1 / 3),
    }
    assert rig.mech.counts == {"made": 4, "kept": 1, "broken": 3, "void": 0}
    assert broken.urgent and not kept.urgent


def test_metrics_without_resolved_promises() -> None:
    rig = Rig("this_week")
    rig.work()
    rig.mech.at_call(rig.cust, 1, 0.0)
    m = rig.mech.metrics(Window(0.0, 100.0))
    assert (m["promises_made"], m["promises_kept"], m["promises_broken"]) == (1, 0, 0)
    assert math.isnan(m["promises_kept_share"])


def test_switched_on() -> None:
    assert PromisesMechanism.switched_on(Commitments())
    assert not PromisesMechanism.switched_on(Commitments(policy="none"))
    assert not PromisesMechanism.switched_on(Commitments(enabled=False))


def test_a_promise_broken_twice_is_made_no_more_and_becomes_one_escalation() -> None:
    """MODEL.md: a promise missed twice stops being re-promised and becomes one escalation
    (the default ``escalate_after_breaks`` of 2); each break still tells the customer."""
    assert Commitments().escalate_after_breaks == 2
    rig = Rig("end_of_today")
    item = rig.work()
    for day in (1, 2, 3):
        rig.mech.at_call(rig.cust, 1, 0.0)
        rig.to(day * 8.0)
        rig.mech.daily()
    assert rig.mech.counts["made"] == 2 and rig.mech.counts["broken"] == 2
    assert rig.told == [(0, False), (0, False)]
    [esc] = rig.sent
    assert esc.kind == "escalation" and item.broken_promises == 2 and item.due is None
    rig.mech.at_call(rig.cust, 1, 0.0)  # the customer accepts no more dates for it
    assert item.due is None and rig.mech.counts["made"] == 2


def test_only_items_that_may_still_be_promised_wait_to_be_picked() -> None:
    """``cust.unpromised`` holds each open item with no promise that may still get one,
    in arrival order: an item leaves it when promised, comes back after a first break,
    and is gone for good once it has escalated, or once it is done; so a call picks the
    same items a scan of all the customer's open work would, without the scan."""
    rig = Rig("end_of_today")
    first, second, third = rig.work(), rig.work(), rig.work()

    def waiting() -> list[int]:
        return sorted(i for i, it in rig.cust.unpromised if it.id in rig.cust.work)

    assert waiting() == [first.id, second.id, third.id]
    rig.mech.at_call(rig.cust, 2, 0.0)
    assert first.due is not None and second.due is not None and third.due is None
    assert waiting() == [third.id]
    rig.ledger.complete(second, "lead")  # done on time: kept
    rig.to(8.0)
    rig.mech.daily()  # first breaks once
    assert waiting() == [first.id, third.id]
    rig.mech.at_call(rig.cust, 1, 0.0)  # the oldest again
    assert first.due is not None and third.due is None
    rig.to(16.0)
    rig.mech.daily()  # first breaks twice: it escalates and is never promised again
    assert first.broken_promises == 2 and waiting() == [third.id]
    rig.mech.at_call(rig.cust, 5, 0.0)
    assert third.due is not None and first.due is None and rig.cust.unpromised == []
