"""Unit tests of customer health and churn (``mechanisms/health.py``), built without the
company.

The mechanisms get a real ``simpy.Environment``, ``Calendar`` (8-hour days, 40-hour
weeks, 168-hour months), ``EventLog``, ``Ledger``, ``Streams`` and ``CustomerBase``;
customers are made by the customer base and activated as the onboarding mechanism
(or the initial live base) would.

What is pinned, and why:

* health bands: green at or above ``green_at``, red below ``red_below``, yellow between
  (the customer-success convention MODEL.md names); a config with red above green is
  refused;
* ``change`` keeps the score in 0..100, logs a ``customer`` row on a change of band and
  keeps the customer base's band counts (read by the daily sample) equal to a recount;
  ``red_since`` is set on entering red, kept while red, cleared on leaving it;
* what moves health: go-live, a kept or broken promise, a ticket resolved on time or
  late against its class's target, each by its configured points, and only for an
  active customer; each week the score drifts towards ``initial`` without overshoot;
* churn: the cumulative hazard grows each week by the monthly hazard converted to a
  week, doubled (``red_multiplier``) after ``red_weeks`` in red; a customer leaves when
  it passes its threshold: its open items are dropped as ``churned``, ``on_churn``
  hooks run, ``churned_while`` records the stage; onboarding customers face churn only
  if ``onboarding_can_churn``;
* the weekly pass recovers health before it weighs churn, customer by customer;
* the churn metrics count churns inside the window; the health metrics are the median
  score and the share in red of the customers still active at the end.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from flowsim.model.calendar import Calendar
from flowsim.model.customers import CustomerBase
from flowsim.model.entities import Customer, Item
from flowsim.model.eventlog import EventLog
from flowsim.model.ledger import Ledger
from flowsim.model.mechanisms.health import (
    Churn,
    ChurnMechanism,
    Health,
    HealthMechanism,
    weekly_health_and_churn,
)
from flowsim.model.recorder import Window
from flowsim.model.streams import Streams

CAL = Calendar(8.0)
DAY, WEEK, MONTH = CAL.day, CAL.week, CAL.month
TARGETS = {"urgent": 1 * DAY, "normal": 5 * DAY}


class Rig:
    """Health and churn on one customer base, with the churn hooks recorded."""

    def __init__(self, health: dict[str, Any] | None = None, churn: dict[str, Any] | None = None):
        self.env = simpy.Environment()
        self.log = EventLog(True)
        self.ledger = Ledger(self.env, self.log)
        self.hc = Health(**(health or {}))
        self.cc = Churn(**(churn or {}))
        self.customers = CustomerBase(self.env, Streams(3), self.hc.initial, self.hc.band)
        self.health = HealthMechanism(self.hc, self.env, self.log, self.customers, TARGETS)
        self.churn = ChurnMechanism(self.cc, CAL, self.env, self.log, self.ledger, self.customers)
        self.churned: list[int] = []
        self.churn.on_churn.append(lambda cust: self.churned.append(cust.id))

    def customer(self, state: str = "live", health: float | None = None) -> Customer:
        cust = self.customers.new()
        if health is not None:
            cust.health = health
        cust.state = state
        if state == "onboarding":
            self.customers.n_onboarding += 1
        self.customers.activate(cust)
        return cust

    def to(self, t: float) -> None:
        if t > self.env.now:
            self.env.run(until=t)

    def customer_rows(self) -> list[tuple[float, int, str, str]]:
        df = self.log.frame(DAY)
        rows = df[df["kind"] == "customer"]
        event, actor = rows["event"].astype(str), rows["actor"].astype(str)
        columns = (rows["time"], rows["entity"], event, actor)
        return list(zip(*columns, strict=True))

    def recount(self) -> dict[str, int]:
        counts = {"green": 0, "yellow": 0, "red": 0}
        for cust in self.customers.active.values():
            counts[self.hc.band(cust.health)] += 1
        return counts


# ---------------------------------------------------------------- bands
@pytest.mark.parametrize(
    ("score", "band"),
    [(100, "green"), (70, "green"), (69.99, "yellow"), (40, "yellow"), (39.99, "red"), (0, "red")],
)
def test_bands_by_thresholds(score: float, band: str) -> None:
    assert Health().band(score) == band


def test_bands_follow_configured_thresholds() -> None:
    h = Health(green_at=90, red_below=60)
    bands = [h.band(s) for s in (95, 90, 75, 60, 59)]
    assert bands == ["green", "green", "yellow", "yellow", "red"]
    assert Health(green_at=50, red_below=50).band(49.9) == "red"  # no yellow band at all


def test_red_above_green_is_refused() -> None:
    with pytest.raises(ValidationError, match="red_below"):
        Health(green_at=40, red_below=50)


# ---------------------------------------------------------------- change
@settings(deadline=None, max_examples=200)
@given(start=st.floats(0, 100), delta=st.floats(-300, 300))
def test_change_clamps_to_0_100(start: float, delta: float) -> None:
    rig = Rig()
    cust = rig.customer(health=start)
    rig.health.change(cust, delta)
    assert cust.health == min(100.0, max(0.0, start + delta))


def test_a_change_of_band_is_logged_and_counted() -> None:
    rig = Rig()
    cust = rig.customer(health=75)  # green
    other = rig.customer(health=50)  # yellow
    assert rig.customers.bands == {"green": 1, "yellow": 1, "red": 0}
    rig.to(3.0)
    rig.health.change(cust, -3)  # 72: still green, no row
    assert rig.customer_rows() == []
    rig.health.change(cust, -40)  # 32: red
    assert rig.customers.bands == {"green": 0, "yellow": 1, "red": 1}
    rig.to(5.0)
    rig.health.change(cust, 20)  # 52: yellow
    rig.health.change(other, 30)  # 80: green
    assert rig.customers.bands == {"green": 1, "yellow": 1, "red": 0}
    assert rig.customer_rows() == [
        (3.0, cust.id, "red", ""),
        (5.0, cust.id, "yellow", ""),
        (5.0, other.id, "green", ""),
    ]


@settings(deadline=None, max_examples=100)
@given(
    moves=st.lists(st.tuples(st.integers(0, 3), st.floats(-60, 60, allow_nan=False)), max_size=40)
)
def test_band_counts_and_log_follow_every_change(moves: list[tuple[int, float]]) -> None:
    """After any sequence of changes the base's band counts equal a recount, and there is
    one logged row per change of band."""
    rig = Rig()
    custs = [rig.customer(health=h) for h in (10.0, 45.0, 75.0, 100.0)]
    changes = 0
    for k, delta in moves:
        before = rig.hc.band(custs[k].health)
        rig.health.change(custs[k], delta)
        changes += rig.hc.band(custs[k].health) != before
    assert rig.customers.bands == rig.recount()
    assert len(rig.customer_rows()) == changes


def test_red_since_set_on_entering_red_and_cleared_on_leaving() -> None:
    rig = Rig()
    cust = rig.customer(health=45)
    rig.to(10.0)
    rig.health.change(cust, -10)  # 35: red from now
    assert cust.red_since == 10.0
    rig.to(30.0)
    rig.health.change(cust, -5)  # deeper in red: the spell goes on
    rig.health.change(cust, 4)
    assert cust.red_since == 10.0
    rig.health.change(cust, 20)  # 54: yellow
    assert cust.red_since is None
    rig.to(50.0)
    rig.health.change(cust, -30)  # red again: a new spell
    assert cust.red_since == 50.0


def test_a_zero_change_does_nothing() -> None:
    rig = Rig()
    cust = rig.customer(health=30)
    cust.red_since = None  # as if it had never been seen in red
    rig.health.change(cust, 0)
    assert cust.red_since is None and rig.customer_rows() == []


# ---------------------------------------------------------------- what moves health
def test_events_move_health_by_their_points() -> None:
    points = {
        "go_live": 11,
        "promise_kept": 2,
        "promise_broken": 7,
        "ticket_on_time": 1.5,
        "ticket_late": 4,
    }
    rig = Rig(health=points)
    cust = rig.customer(health=50)
    rig.health.went_live(cust)
    assert cust.health == 61
    rig.health.promise_resolved(cust, True)
    assert cust.health == 63
    rig.health.promise_resolved(cust, False)
    assert cust.health == 56


@pytest.mark.parametrize(
    ("cls", "wait", "delta"),
    [
        ("urgent", 8.0, 1.0),  # exactly at its one-day target: on time
        ("urgent", 8.5, -5.0),
        ("normal", 8.5, 1.0),  # the same wait is on time against five days
        ("normal", 40.0, 1.0),
        ("normal", 40.01, -5.0),
    ],
)
def test_a_ticket_is_on_time_or_late_by_its_class_target(cls: str, wait: float, delta: float):
    rig = Rig()
    cust = rig.customer(health=50)
    rig.to(2.0)
    ticket = rig.ledger.new("ticket", cust, 1.0, cls)
    rig.to(2.0 + wait)
    rig.health.ticket_resolved(ticket)
    assert cust.health == 50 + delta


@pytest.mark.parametrize("state", ["churned", "signed"])
def test_a_ticket_of_an_inactive_customer_moves_nothing(state: str) -> None:
    rig = Rig()
    cust = rig.customer(health=50)
    ticket = rig.ledger.new("ticket", cust, 1.0, "urgent")
    cust.state = state
    rig.to(100.0)
    rig.health.ticket_resolved(ticket)
    assert cust.health == 50
    rig.health.ticket_resolved(Item(99, "ticket", None, 1.0, 0.0, "urgent"))  # no customer


@pytest.mark.parametrize(
    ("start", "after"), [(60, 70), (72, 75), (75, 75), (78, 75), (90, 80), (0, 10)]
)
def test_recovery_drifts_towards_initial_without_overshoot(start: float, after: float) -> None:
    rig = Rig(health={"initial": 75, "weekly_recovery": 10})
    cust = rig.customer(health=start)
    rig.health.recover(cust)
    assert cust.health == after


# ---------------------------------------------------------------- churn
def weekly_increment(monthly: float) -> float:
    """The week's share of a monthly hazard, as a cumulative (integrated) hazard."""
    return -math.log1p(-monthly) * WEEK / MONTH


def test_hazard_accumulates_weekly_from_the_monthly_hazard() -> None:
    rig = Rig(churn={"monthly_hazard": 0.05})
    cust = rig.customer()
    cust.churn_threshold = math.inf
    for week in range(1, 5):
        rig.to(week * WEEK)
        rig.churn.week_of(cust)
    assert cust.hazard == pytest.approx(4 * weekly_increment(0.05))
    # A month of weekly increments is the monthly hazard: 1 - exp(-H) = 5%.
    assert 1 - math.exp(-weekly_increment(0.05) * MONTH / WEEK) == pytest.approx(0.05)
    assert cust.state == "live" and rig.churned == []


@pytest.mark.parametrize(
    ("red_for_weeks", "multiplied"), [(None, False), (3.9, False), (4.0, True), (10.0, True)]
)
def test_hazard_doubles_after_red_weeks_in_red(red_for_weeks: float | None, multiplied: bool):
    rig = Rig(churn={"monthly_hazard": 0.05, "red_weeks": 4, "red_multiplier": 2})
    cust = rig.customer(health=20)
    cust.churn_threshold = math.inf
    rig.to(20 * WEEK)
    cust.red_since = None if red_for_weeks is None else rig.env.now - red_for_weeks * WEEK
    rig.churn.week_of(cust)
    hazard = 0.1 if multiplied else 0.05
    assert cust.hazard == pytest.approx(weekly_increment(hazard))


def test_a_certain_hazard_churns_at_once() -> None:
    """A multiplied hazard of 1 or more is certain churn, whatever the threshold."""
    rig = Rig(churn={"monthly_hazard": 0.6, "red_weeks": 0, "red_multiplier": 2})
    cust = rig.customer(health=10)
    cust.red_since = 0.0
    cust.churn_threshold = 1e9
    rig.churn.week_of(cust)
    assert cust.hazard == math.inf and cust.state == "churned"


def test_a_customer_churns_the_week_its_hazard_passes_its_threshold() -> None:
    rig = Rig(churn={"monthly_hazard": 0.02})
    cust = rig.customer()
    other = rig.customer()
    cust.churn_threshold = 2.5 * weekly_increment(0.02)
    other.churn_threshold = 1e9
    ticket = rig.ledger.new("ticket", cust, 2.0, "normal")
    task = rig.ledger.new("task", cust, 8.0)
    active = rig.ledger.new("ticket", cust, 1.0, "urgent")
    active.state = "active"  # in someone's hands: not dropped, it finishes
    cust.pending_tasks = [(1.0, 2.0, [0.5])]
    weekly = weekly_health_and_churn(rig.customers, None, rig.churn)
    for week in (1, 2):
        rig.to(week * WEEK)
        weekly()
    assert cust.state == "live" and rig.churned == []
    rig.to(3 * WEEK)
    weekly()
    assert (cust.state, cust.churned_while, cust.left_at) == ("churned", "live", 3 * WEEK)
    assert rig.churned == [cust.id]
    assert ticket.state == task.state == "dropped" and active.state == "active"
    assert rig.ledger.dropped_reasons == {"churned": 2}
    assert cust.pending_tasks == []
    assert cust.id not in rig.customers.active and rig.customers.live == 1
    assert rig.customers.bands == rig.recount()
    assert rig.customer_rows() == [(3 * WEEK, cust.id, "churned", "live")]
    # A churned customer is out of the weekly pass: its hazard stops.
    hazard = cust.hazard
    rig.to(4 * WEEK)
    weekly()
    assert cust.hazard == hazard and rig.churned == [cust.id]
    assert other.state == "live"


@pytest.mark.parametrize("can_churn", [True, False])
def test_onboarding_customers_churn_only_if_allowed(can_churn: bool) -> None:
    rig = Rig(churn={"monthly_hazard": 0.5, "onboarding_can_churn": can_churn})
    onboarding = rig.customer("onboarding")
    live = rig.customer("live")
    for cust in (onboarding, live):
        cust.churn_threshold = 0.01
    rig.churn.week_of(onboarding)
    rig.churn.week_of(live)
    assert live.state == "churned"
    if can_churn:
        assert (onboarding.state, onboarding.churned_while) == ("churned", "onboarding")
        assert rig.customers.n_onboarding == 0
    else:
        # It faces no hazard at all while onboarding.
        assert onboarding.state == "onboarding" and onboarding.hazard == 0.0
        assert rig.customers.n_onboarding == 1
    assert rig.customers.live == 0


def test_churn_metrics_count_churns_in_the_window() -> None:
    rig = Rig()
    custs = [rig.customer(s) for s in ("live", "onboarding", "onboarding", "live")]
    for cust, t in zip(custs, (1.0, 50.0, 60.0, 200.0), strict=True):
        rig.to(t)
        rig.churn.churn(cust)
    assert rig.churn.metrics(Window(10.0, 100.0)) == {
        "churned": 2,
        "churned_while_onboarding": 2,
        "gave_up_onboarding": 0,
    }
    assert rig.churn.metrics(Window(0.0, 300.0)) == {
        "churned": 4,
        "churned_while_onboarding": 2,
        "gave_up_onboarding": 0,
    }


@pytest.mark.parametrize("gives_up", [10.0, None])
def test_an_onboarding_customer_gives_up_after_its_patience(gives_up: float | None) -> None:
    """With no hazard at all, a customer onboarding since t=0 leaves at the first weekly
    check at or after ``onboarding_gives_up_weeks``, counted as giving up; a live one
    and one whose onboarding started later stay.  Null: nobody gives up."""
    rig = Rig(churn={"monthly_hazard": 0.0, "onboarding_gives_up_weeks": gives_up})
    waiting, late, live = (rig.customer(s) for s in ("onboarding", "onboarding", "live"))
    waiting.onboarding_at, late.onboarding_at = 0.0, 5 * WEEK
    for week in range(1, 13):
        rig.to(week * WEEK)
        for cust in list(rig.customers.active.values()):
            rig.churn.week_of(cust)
        if gives_up is not None and week < 10:
            assert waiting.state == "onboarding"
    assert late.state == "onboarding" and live.state == "live"
    if gives_up is None:
        assert waiting.state == "onboarding" and rig.churned == []
        assert rig.churn.metrics(Window(0.0, 12 * WEEK))["gave_up_onboarding"] == 0
    else:
        assert waiting.state == "churned" and waiting.churned_while == "onboarding"
        assert waiting.left_at == 10 * WEEK and rig.churned == [waiting.id]
        m = rig.churn.metrics(Window(0.0, 12 * WEEK))
        assert m["gave_up_onboarding"] == 1 and m["churned_while_onboarding"] == 1


def test_health_metrics_are_the_median_and_red_share_of_active_customers() -> None:
    """Scores 10 (red), 50 (yellow), 90 (green) and a churned customer at 0 who no longer
    counts: median 50, one red in three."""
    rig = Rig()
    for score in (10.0, 50.0, 90.0):
        rig.customer("live", health=score)
    gone = rig.customer("live", health=0.0)
    rig.churn.churn(gone)
    m = rig.health.metrics(Window(0.0, 1.0))
    assert m == {"health_median_at_horizon": 50.0, "red_share_at_horizon": pytest.approx(1 / 3)}
    # Onboarding customers are active too; with health off, or nobody, there is no score.
    rig.customer("onboarding", health=20.0)
    assert rig.health.metrics(Window(0.0, 1.0))["health_median_at_horizon"] == 35.0
    off = Rig(health={"enabled": False})
    off.customer("live")
    assert all(math.isnan(v) for v in off.health.metrics(Window(0.0, 1.0)).values())
    assert all(math.isnan(v) for v in Rig().health.metrics(Window(0.0, 1.0)).values())


# ---------------------------------------------------------------- the weekly pass
def test_weekly_pass_recovers_health_before_weighing_churn() -> None:
    """Recovery lifts a customer out of red before its red spell is weighed, so its hazard
    is not doubled that week (the order is part of the model's definition)."""
    rig = Rig(
        health={"initial": 75, "weekly_recovery": 1, "red_below": 40},
        churn={"monthly_hazard": 0.05, "red_weeks": 4, "red_multiplier": 2},
    )
    cust = rig.customer(health=39.5)
    cust.red_since = 0.0
    cust.churn_threshold = math.inf
    rig.to(10 * WEEK)
    weekly_health_and_churn(rig.customers, rig.health, rig.churn)()
    assert cust.health == 40.5 and cust.red_since is None
    assert cust.hazard == pytest.approx(weekly_increment(0.05))


def test_weekly_pass_with_one_mechanism_off() -> None:
    rig = Rig(health={"initial": 75, "weekly_recovery": 2})
    cust = rig.customer(health=60)
    weekly_health_and_churn(rig.customers, rig.health, None)()
    assert cust.health == 62 and cust.hazard == 0.0
    weekly_health_and_churn(rig.customers, None, rig.churn)()
    assert cust.health == 62 and cust.hazard > 0.0
