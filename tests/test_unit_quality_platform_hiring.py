"""Unit tests of quality, platform investment, hiring and the context-switching table
(``mechanisms/quality.py``, ``platform.py``, ``hiring.py``, ``context_switching.py``),
each built without the company.

Real collaborators where they are cheap (``simpy.Environment``, ``Calendar``,
``Ledger``, ``EventLog``, ``PlatformEffects``, the lead's backlog, the team), and
plain lists as the routes other mechanisms would own (``route``, ``send``).  The
quality mechanism's random stream is, in most tests, a stand-in whose every uniform
draw is a chosen ``u``: a defect happens iff ``u`` is below the defect chance, so a
``u`` just either side of the expected chance pins the formula exactly.

What is pinned, and why:

* quality (mechanism 7): the defect chance is ``base + per_backlog_item x backlog``,
  times the platform's defect multiplier, capped; a defect is a new ``normal`` ticket
  of the normal class's effort, routed like any ticket; no defects without a normal
  class, nor for work of an inactive customer or of no customer;
* platform: each week one protected block of ``share_of_week x capacity`` hours goes to
  the lead as an interrupt; every ``hours_per_step`` hours done is a step that cuts
  every lead-required share by ``lead_share_cut`` down to the floor (a share already at
  or below the floor is untouched), the spec/review overhead by ``overhead_cut``
  (relative, down to its floor) and the defect chance by ``defect_cut`` (relative), all
  from the base values;
* hiring: people join at a fixed week, or the first day the lead's backlog exceeds a
  trigger (once); a hire ramps from ``ramp_start`` to full productivity over
  ``ramp_weeks`` and costs the lead a daily mentoring interrupt of
  ``mentoring_hours_per_week / 5`` only while ramping (Brooks's law);
* context switching: the lead's efficiency table is the configured one, or ``[1.0]``
  when switched off; a table value outside (0, 1] is refused.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from flowsim.model.backlog import FifoBacklog, Prioritisation
from flowsim.model.calendar import Calendar
from flowsim.model.clock import at, every
from flowsim.model.distributions import constant
from flowsim.model.effects import PlatformEffects
from flowsim.model.entities import Customer, Item
from flowsim.model.eventlog import EventLog
from flowsim.model.ledger import Ledger
from flowsim.model.mechanisms.context_switching import (
    ContextSwitching,
    ContextSwitchingMechanism,
    efficiency_table,
)
from flowsim.model.mechanisms.hiring import Hire, Hiring, HiringMechanism
from flowsim.model.mechanisms.platform import Platform, PlatformMechanism
from flowsim.model.mechanisms.quality import Quality, QualityMechanism
from flowsim.model.recorder import Window
from flowsim.model.team import Team, TeamAtWork

CAL = Calendar(8.0)
DAY, WEEK = CAL.day, CAL.week
NORMAL_EFFORT = constant(3.0)  # the normal ticket class's effort, the effort of a defect


def fifo() -> FifoBacklog:
    return FifoBacklog(Prioritisation(policy="fifo"))


# ================================================================ quality
class FixedUniform:
    """A stand-in for the quality stream: every uniform draw is ``u``."""

    def __init__(self, u: float) -> None:
        self.u = u

    def random(self, size: int | None = None) -> Any:
        return self.u if size is None else np.full(size, self.u)


class QualityRig:
    def __init__(
        self,
        rng: Any,
        backlog_size: int = 0,
        defect_mult: float = 1.0,
        normal_effort: Any = NORMAL_EFFORT,
        **config: Any,
    ) -> None:
        self.env = simpy.Environment()
        self.ledger = Ledger(self.env, EventLog(False))
        self.backlog = fifo()
        for _ in range(backlog_size):
            self.backlog.add(self.ledger.new("ticket", None, 1.0))
        self.effects = PlatformEffects(0.6, {"normal": 0.7})
        self.effects.defect_mult = defect_mult
        self.routed: list[Item] = []
        self.mech = QualityMechanism(
            Quality(enabled=True, **config),
            self.env,
            self.ledger,
            self.backlog,
            self.effects,
            rng,
            normal_effort,
            self.routed.append,
        )
        self.cust = Customer(0, 0.0, 75.0)
        self.cust.state = "live"

    def finish(self, customer: Customer | None = None, kind: str = "task") -> Item:
        item = self.ledger.new(kind, customer or self.cust, 5.0)
        self.mech.maybe_defect(item)
        return item


@pytest.mark.parametrize(
    ("config", "backlog", "mult", "chance"),
    [
        ({"base_defect_probability": 0.1, "per_backlog_item": 0.01}, 0, 1.0, 0.1),
        ({"base_defect_probability": 0.1, "per_backlog_item": 0.01}, 5, 1.0, 0.15),
        ({"base_defect_probability": 0.1, "per_backlog_item": 0.01}, 5, 0.5, 0.075),
        (
            {
                "base_defect_probability": 0.1,
                "per_backlog_item": 0.05,
                "max_defect_probability": 0.3,
            },
            10,
            1.0,
            0.3,  # 0.6, capped
        ),
    ],
)
def test_defect_chance_grows_with_the_backlog(
    config: dict[str, Any], backlog: int, mult: float, chance: float
) -> None:
    """A defect iff the draw is below the chance: just below it one, just above it none."""
    below = QualityRig(FixedUniform(chance - 1e-6), backlog, mult, **config)
    below.finish()
    above = QualityRig(FixedUniform(chance + 1e-6), backlog, mult, **config)
    above.finish()
    assert len(below.routed) == 1 and above.routed == []


def test_the_cap_bounds_the_chance_after_the_platform_multiplier() -> None:
    """The cap applies to the final chance: a raw chance of 0.6 times a multiplier of 0.4
    is 0.24, under the 0.3 cap (not the cap times the multiplier, 0.12)."""
    config: dict[str, Any] = {
        "base_defect_probability": 0.6,
        "per_backlog_item": 0.0,
        "max_defect_probability": 0.3,
    }
    below = QualityRig(FixedUniform(0.24 - 1e-6), defect_mult=0.4, **config)
    below.finish()
    above = QualityRig(FixedUniform(0.24 + 1e-6), defect_mult=0.4, **config)
    above.finish()
    assert len(below.routed) == 1 and above.routed == []


def test_a_defect_is_a_new_normal_ticket_routed() -> None:
    rig = QualityRig(FixedUniform(0.01), normal_effort=constant(3.0))
    rig.env.run(until=12.0)
    done = rig.finish()
    [defect] = rig.routed
    assert (defect.kind, defect.cls, defect.customer, defect.effort) == (
        "ticket",
        "normal",
        rig.cust,
        3.0,
    )
    assert defect.state == "waiting" and defect.arrived == 12.0 and defect.id != done.id
    assert defect.lead_u == 0.01  # its own draw of whether it needs the lead
    assert rig.mech.metrics(Window(10.0, 20.0)) == {"defects": 1}
    assert rig.mech.metrics(Window(13.0, 20.0)) == {"defects": 0}


def test_defect_rate_with_a_real_stream() -> None:
    """With a real generator the share of defects over 4,000 items is within 4.5 standard
    errors of the chance 0.02 + 0.002 x 40 = 0.1 (fixed seed)."""
    rig = QualityRig(np.random.default_rng(8), backlog_size=40)
    for _ in range(4000):
        rig.finish()
    share = len(rig.routed) / 4000
    assert abs(share - 0.1) < 4.5 * np.sqrt(0.1 * 0.9 / 4000)


def test_no_defects_without_a_normal_class() -> None:
    rig = QualityRig(FixedUniform(0.0), normal_effort=None, base_defect_probability=1.0)
    for _ in range(10):
        rig.finish()
    assert rig.routed == [] and rig.mech.metrics(Window(0.0, 1.0)) == {"defects": 0}


@pytest.mark.parametrize("state", ["churned", "signed"])
def test_no_defects_for_an_inactive_customer_or_none(state: str) -> None:
    rig = QualityRig(FixedUniform(0.0), base_defect_probability=1.0)
    gone = Customer(1, 0.0, 75.0)
    gone.state = state
    rig.finish(gone)
    rig.mech.maybe_defect(rig.ledger.new("platform", None, 9.0))
    assert rig.routed == []
    rig.finish()  # the same rig does make defects for an active customer
    assert len(rig.routed) == 1


# ================================================================ platform
def platform_rig(**config: Any) -> tuple[PlatformMechanism, PlatformEffects, Ledger, list[Item]]:
    env = simpy.Environment()
    ledger = Ledger(env, EventLog(False))
    effects = PlatformEffects(0.6, {"urgent": 0.7, "normal": 0.21, "how_to": 0.1, "edge": 0.2})
    sent: list[Item] = []
    mech = PlatformMechanism(Platform(enabled=True, **config), 45.0, effects, ledger, sent.append)
    # Wired as the company wires it: a platform block done by the lead is invested.
    ledger.on_done["platform"] = mech.invested
    return mech, effects, ledger, sent


def invest_weeks(mech: PlatformMechanism, ledger: Ledger, sent: list[Item], weeks: int) -> None:
    for _ in range(weeks):
        mech.weekly()
        ledger.complete(sent[-1], "lead")


def test_a_weekly_protected_block_as_an_interrupt() -> None:
    mech, _, _, sent = platform_rig(share_of_week=0.2)
    mech.weekly()
    mech.weekly()
    assert [(i.kind, i.customer, i.effort) for i in sent] == [("platform", None, 9.0)] * 2
    assert not PlatformMechanism.switched_on(Platform(enabled=True, share_of_week=0))
    assert not PlatformMechanism.switched_on(Platform(enabled=False))


def test_no_effect_before_a_full_step() -> None:
    mech, effects, ledger, sent = platform_rig()
    invest_weeks(mech, ledger, sent, 4)  # 36 of 40 hours
    assert mech.hours == 36.0
    assert effects.onboarding_lead_share == 0.6
    assert effects.ticket_lead_share == {"urgent": 0.7, "normal": 0.21, "how_to": 0.1, "edge": 0.2}
    assert (effects.overhead_mult, effects.defect_mult) == (1.0, 1.0)


def test_each_step_cuts_shares_to_the_floor_and_the_multipliers() -> None:
    mech, effects, ledger, sent = platform_rig(
        hours_per_step=40,
        lead_share_cut=0.02,
        lead_share_floor=0.2,
        overhead_cut=0.05,
        defect_cut=0.1,
    )
    invest_weeks(mech, ledger, sent, 5)  # 45 hours: one step
    assert effects.onboarding_lead_share == pytest.approx(0.58)
    assert effects.ticket_lead_share == pytest.approx(
        # 0.21 stops at the floor; 0.1 (below it) and 0.2 (at it) are untouched.
        {"urgent": 0.68, "normal": 0.2, "how_to": 0.1, "edge": 0.2}
    )
    assert effects.overhead_mult == pytest.approx(0.95)
    assert effects.defect_mult == pytest.approx(0.9)
    invest_weeks(mech, ledger, sent, 4)  # 81 hours: two steps, counted from the base
    assert effects.onboarding_lead_share == pytest.approx(0.56)
    assert effects.ticket_lead_share["urgent"] == pytest.approx(0.66)
    assert effects.overhead_mult == pytest.approx(0.95**2)
    assert effects.defect_mult == pytest.approx(0.9**2)
    # The base values the cuts start from never move.
    assert effects.base_onboarding_lead_share == 0.6
    assert effects.base_ticket_lead_shares["urgent"] == 0.7


def test_many_steps_stop_at_the_floors() -> None:
    mech, effects, ledger, sent = platform_rig(
        share_of_week=1.0, hours_per_step=45, overhead_floor=0.5, defect_cut=0.05
    )
    invest_weeks(mech, ledger, sent, 40)  # 40 steps
    assert effects.onboarding_lead_share == 0.2
    assert set(effects.ticket_lead_share.values()) == {0.2, 0.1}
    assert effects.overhead_mult == 0.5  # 0.95 ** 40 = 0.13, held at its floor
    assert effects.defect_mult == pytest.approx(0.95**40)  # no floor on the defect cut


# ================================================================ hiring
class HiringRig:
    def __init__(self, plan: list[dict[str, Any]], **config: Any) -> None:
        self.env = simpy.Environment()
        self.ledger = Ledger(self.env, EventLog(False))
        self.team = TeamAtWork(self.env, Team(contractors=0), WEEK, self.ledger, EventLog(False))
        self.backlog = fifo()
        self.sent: list[tuple[float, Item]] = []
        self.config = Hiring(plan=[Hire(**h) for h in plan], **config)
        self.mech = HiringMechanism(
            self.config,
            CAL,
            self.env,
            self.ledger,
            self.team,
            self.backlog,
            lambda t, fn: at(self.env, t, fn),
            lambda item: self.sent.append((self.env.now, item)),
        )

    def to(self, t: float) -> None:
        if t > self.env.now:
            self.env.run(until=t)

    def roles(self) -> list[tuple[str, float]]:
        return [(w.role, w.joined) for w in self.team.workers]


def test_a_hire_needs_exactly_one_trigger() -> None:
    with pytest.raises(ValidationError, match="exactly one"):
        Hire(role="contractor")
    with pytest.raises(ValidationError, match="exactly one"):
        Hire(role="contractor", at_week=2, when_backlog_above=5)
    assert not HiringMechanism.switched_on(Hiring())
    assert HiringMechanism.switched_on(Hiring(plan=[Hire(role="support", at_week=0)]))


def test_hires_join_at_a_fixed_week() -> None:
    rig = HiringRig(
        [{"role": "contractor", "count": 2, "at_week": 3}, {"role": "support", "at_week": 5.5}]
    )
    rig.mech.start()
    rig.to(3 * WEEK - 0.01)
    assert rig.roles() == []
    rig.to(10 * WEEK)
    assert rig.roles() == [("contractor", 120.0), ("contractor", 120.0), ("support", 220.0)]


def test_a_backlog_trigger_hires_once() -> None:
    rig = HiringRig(
        [{"role": "engineer", "when_backlog_above": 3}, {"role": "support", "at_week": 50}]
    )
    rig.mech.start()
    for _ in range(3):
        rig.backlog.add(rig.ledger.new("ticket", None, 1.0))
    rig.mech.daily()  # 3 is not above 3
    assert rig.roles() == []
    rig.to(DAY)
    rig.backlog.add(rig.ledger.new("ticket", None, 1.0))
    rig.mech.daily()
    assert rig.roles() == [("engineer", DAY)]
    rig.backlog.add(rig.ledger.new("ticket", None, 1.0))
    for t in (2 * DAY, 3 * DAY):
        rig.to(t)
        rig.mech.daily()
    assert rig.roles() == [("engineer", DAY)]  # once; the fixed-week hire is not due yet


def test_a_hire_ramps_up() -> None:
    rig = HiringRig([{"role": "contractor", "at_week": 1}], ramp_start=0.25, ramp_weeks=4)
    rig.mech.start()
    rig.to(WEEK + 1)
    [worker] = rig.team.workers
    assert worker.productivity(WEEK) == 0.25
    assert worker.productivity(3 * WEEK) == pytest.approx(0.625)
    assert worker.productivity(5 * WEEK) == worker.productivity(9 * WEEK) == 1.0
    assert worker.ramping(5 * WEEK - 0.01) and not worker.ramping(5 * WEEK)


def test_mentoring_each_day_per_ramping_hire_only_while_ramping() -> None:
    """Two hires joining at 44 h (mid-morning of day 6) and ramping for four weeks (to
    204 h) cost a mentoring block of 4 / 5 hours each, every morning from day 7 (48 h)
    to day 26 (200 h); the fully ramped contractor already there costs nothing."""
    rig = HiringRig(
        [{"role": "contractor", "count": 2, "at_week": 1.1}],
        ramp_weeks=4,
        mentoring_hours_per_week=4,
    )
    rig.team.add("contractor")
    every(rig.env, DAY, [rig.mech.daily], first=True)
    rig.mech.start()
    rig.to(12 * WEEK)
    per_day = Counter(t for t, _ in rig.sent)
    assert per_day == {48.0 + k * DAY: 2 for k in range(20)}
    assert {(i.kind, i.customer, i.effort) for _, i in rig.sent} == {("mentoring", None, 0.8)}


def test_no_mentoring_when_it_costs_nothing() -> None:
    rig = HiringRig([{"role": "engineer", "at_week": 0}], mentoring_hours_per_week=0)
    rig.mech.start()
    rig.to(1.0)
    rig.mech.daily()
    assert len(rig.team.workers) == 1 and rig.sent == []


# ================================================================ context switching
def test_efficiency_table_is_the_configured_one() -> None:
    assert efficiency_table(ContextSwitching()) == [1.0, 0.8, 0.6, 0.4, 0.25]
    assert efficiency_table(ContextSwitching(efficiency=[0.9, 0.5])) == [0.9, 0.5]
    assert ContextSwitchingMechanism.switched_on(ContextSwitching())


def test_efficiency_table_switched_off_is_no_loss() -> None:
    config = ContextSwitching(enabled=False, efficiency=[0.9, 0.5])
    assert efficiency_table(config) == [1.0]
    assert not ContextSwitchingMechanism.switched_on(config)


@pytest.mark.parametrize("bad", [[0.0], [1.0, -0.2], [1.01], [], [1.0, 0.5, 0.0]])
def test_efficiency_outside_0_1_is_refused(bad: list[float]) -> None:
    with pytest.raises(ValidationError):
        ContextSwitching(efficiency=bad)


@settings(deadline=None, max_examples=200)
@given(values=st.lists(st.floats(-0.5, 1.5, allow_nan=False), max_size=6))
def test_efficiency_values_accepted_exactly_in_0_1(values: list[float]) -> None:
    valid = bool(values) and all(0 < v <= 1 for v in values)
    try:
        config = ContextSwitching(efficiency=values)
    except ValidationError:
        assert not valid
    else:
        assert valid and efficiency_table(config) == values
