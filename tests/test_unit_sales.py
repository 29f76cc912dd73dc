"""Unit tests of ``mechanisms/sales.py``: signing and intake, without the company.

What is pinned, and why:

* Signing is a Poisson stream at ``new_customers_per_month`` per 21-day month, drawn
  from the one ``Source.SALES`` stream: the mean gap is month / rate, the gaps are
  exponential, and the signing times depend on the seed alone, not on the intake
  policy (policies are compared on common random numbers).
* ``accept_all`` starts every signed customer at the instant it signs.
* ``wip_limit`` starts at most ``limit`` at once, keeps the rest in the signed backlog in
  signing order, and ``pull()`` fills every place that has come free (never more).
* ``fixed_rate`` starts the head of the backlog every month / ``starts_per_month``, and an
  empty tick is not made up later.
* A signed customer still waiting when its patience (in weeks) runs out is lost: state
  ``lost``, a ``lost`` row, counted by ``metrics`` when the loss falls in the window; one
  started before then is not.

The mechanism is built directly: a real ``simpy.Environment``, ``Calendar``, ``EventLog``,
``CustomerBase`` and ``Streams``; the onboarding entry point is a stand-in that does what
intake relies on (the customer starts onboarding and counts towards ``n_onboarding``).
Where a test needs signings at chosen times, the streams are real except the sales one,
which hands out scripted gaps.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from flowsim.model.calendar import Calendar
from flowsim.model.clock import at
from flowsim.model.customers import CustomerBase
from flowsim.model.distributions import constant
from flowsim.model.entities import Customer
from flowsim.model.eventlog import EventLog
from flowsim.model.mechanisms.sales import Intake, Sales, SalesMechanism
from flowsim.model.recorder import Window
from flowsim.model.streams import Source, Streams

CAL = Calendar(8.0)  # day 8 h, week 40 h, month 168 h
NEVER = 1e6  # a patience (in weeks) no test reaches


class _ScriptedGaps:
    """Stands in for the sales generator: the given gaps, then one too long to end."""

    def __init__(self, gaps: Iterable[float]) -> None:
        self._gaps = iter(gaps)

    def exponential(self, _mean: float) -> float:
        return next(self._gaps, math.inf)


class ScriptedStreams(Streams):
    """Real streams, except that sales signs customers at the given times."""

    def __init__(self, seed: int, times: Sequence[float]) -> None:
        super().__init__(seed)
        self.gaps = np.diff([0.0, *times]).tolist()

    def get(self, source: Source, index: int = 0) -> Any:
        if source == Source.SALES:
            return _ScriptedGaps(self.gaps)
        return super().get(source, index)


@dataclass
class Rig:
    env: simpy.Environment
    log: EventLog
    customers: CustomerBase
    mech: SalesMechanism
    started: list[tuple[int, float]] = field(default_factory=list)

    def go_live(self, cust_id: int) -> None:
        """An onboarding customer goes live (as the onboarding mechanism would leave it),
        and the company's wiring tells intake a place came free."""
        cust = self.customers.all[cust_id]
        assert cust.state == "onboarding"
        cust.state = "live"
        self.customers.n_onboarding -= 1
        self.mech.pull(cust)

    def at(self, t: float, fn: Callable[[], None]) -> None:
        at(self.env, t, fn)

    def rows(self, event: str) -> list[tuple[float, int]]:
        """(time, customer) of the customer rows of ``event``, in log order."""
        df = self.log.frame(CAL.day)
        df = df[(df["kind"] == "customer") & (df["event"] == event)]
        return list(zip(df["time"].tolist(), df["entity"].tolist(), strict=True))


def build(
    policy: str = "accept_all",
    *,
    rate: float = 2.0,
    limit: int = 3,
    starts_per_month: float = 1.0,
    patience_weeks: float = NEVER,
    seed: int = 0,
    sign_at: Sequence[float] | None = None,
) -> Rig:
    env = simpy.Environment()
    log = EventLog(True)
    streams = Streams(seed) if sign_at is None else ScriptedStreams(seed, sign_at)
    customers = CustomerBase(env, streams, 75.0, lambda _h: "green")
    started: list[tuple[int, float]] = []

    def begin(cust: Customer) -> None:
        # What intake relies on from OnboardingMechanism.begin.
        assert cust.state == "signed"
        cust.state = "onboarding"
        cust.onboarding_at = env.now
        customers.n_onboarding += 1
        started.append((cust.id, env.now))

    intake = Intake(
        policy=policy,
        limit=limit,
        starts_per_month=starts_per_month,
        patience_weeks=constant(patience_weeks),
    )
    mech = SalesMechanism(
        Sales(new_customers_per_month=rate),
        intake,
        CAL,
        env,
        log,
        customers,
        streams,
        lambda t, fn: at(env, t, fn),
        begin,
    )
    rig = Rig(env, log, customers, mech, started)
    mech.start()
    mech.start_intake()
    return rig


def signing_times(rig: Rig) -> list[float]:
    return [c.signed_at for c in rig.customers.all.values()]


# ---------------------------------------------------------------- the Poisson stream
def test_signing_gaps_are_exponential_with_mean_month_over_rate() -> None:
    """Over 3,000 signings the mean gap is month / rate (within 5%, about 3 standard
    errors) and the gaps pass a KS test for the exponential law of a Poisson stream."""
    rate = 3.0
    mean_gap = CAL.month / rate  # 56 h
    rig = build(rate=rate, seed=11)
    rig.env.run(until=3_000 * mean_gap)
    times = signing_times(rig)
    assert len(times) > 2_500
    gaps = np.diff([0.0, *times])
    assert abs(gaps.mean() / mean_gap - 1) < 0.05, gaps.mean()
    assert stats.kstest(gaps, "expon", args=(0, mean_gap)).pvalue > 0.01
    # Each signing is logged as it happens, and each signed customer is a new one.
    assert rig.rows("signed") == [(t, k) for k, t in enumerate(times)]


def test_signing_times_are_the_sales_stream_of_the_seed() -> None:
    """The gaps are the successive draws of the one ``Source.SALES`` stream: the same
    seed gives the same times, another seed other times."""
    mean_gap = CAL.month / 2.0
    a, b, other = build(seed=5), build(seed=5), build(seed=6)
    for rig in (a, b, other):
        rig.env.run(until=50 * mean_gap)
    expected = np.cumsum(Streams(5).get(Source.SALES).exponential(mean_gap, len(signing_times(a))))
    np.testing.assert_allclose(signing_times(a), expected, rtol=1e-12)
    assert signing_times(a) == signing_times(b)
    assert signing_times(a) != signing_times(other)


@settings(deadline=None, max_examples=30)
@given(seed=st.integers(0, 2**32 - 1), limit=st.integers(1, 3), per_month=st.floats(0.2, 5))
def test_signing_times_do_not_depend_on_the_intake_policy(
    seed: int, limit: int, per_month: float
) -> None:
    """Common random numbers: however intake treats the signed customers (queueing them,
    drawing their patience, losing them), sales signs at the same times."""
    runs = [
        build("accept_all", seed=seed),
        build("wip_limit", limit=limit, patience_weeks=2, seed=seed),
        build("fixed_rate", starts_per_month=per_month, patience_weeks=1, seed=seed),
    ]
    for rig in runs:
        rig.env.run(until=CAL.year)
    first = signing_times(runs[0])
    assert len(first) > 5
    for rig in runs[1:]:
        assert signing_times(rig) == first


# ---------------------------------------------------------------- intake policies
def test_accept_all_starts_every_signed_customer_at_once() -> None:
    rig = build("accept_all", rate=4.0, seed=3)
    rig.env.run(until=CAL.year)
    signed = [(t, k) for t, k in rig.rows("signed")]
    assert len(signed) > 20
    assert rig.started == [(k, t) for t, k in signed]
    assert not rig.customers.signed_backlog
    assert rig.customers.n_onboarding == len(signed)


def test_wip_limit_queues_beyond_the_limit_and_pull_fills_each_free_place() -> None:
    rig = build("wip_limit", limit=2, sign_at=[0, 1, 2, 3, 4])
    rig.env.run(until=5)
    # The first two start as they sign; the rest wait, in signing order, still signed.
    assert rig.started == [(0, 0.0), (1, 1.0)]
    assert [c.id for c in rig.customers.signed_backlog] == [2, 3, 4]
    assert all(c.state == "signed" for c in rig.customers.signed_backlog)

    rig.at(10, lambda: rig.go_live(0))
    rig.env.run(until=11)
    assert rig.started[2:] == [(2, 10.0)]

    # A pull with no free place starts nobody.
    rig.mech.pull()
    assert len(rig.started) == 3

    # Two places free before one pull: both are filled, by the next two in line.
    for k in (1, 2):
        cust = rig.customers.all[k]
        cust.state = "live"
        rig.customers.n_onboarding -= 1
    rig.mech.pull()
    assert rig.started[3:] == [(3, 11.0), (4, 11.0)]
    assert not rig.customers.signed_backlog


@settings(deadline=None, max_examples=60)
@given(
    limit=st.integers(1, 4),
    gaps=st.lists(st.floats(0, 10), min_size=1, max_size=15),
    frees=st.lists(st.floats(0, 120), max_size=15),
)
def test_wip_limit_never_exceeds_the_limit_and_leaves_no_place_empty(
    limit: int, gaps: list[float], frees: list[float]
) -> None:
    """Whatever the signings and go-lives: at most ``limit`` onboard; a customer waits only
    while every place is taken; customers start in signing order."""
    times = np.cumsum(gaps).tolist()
    rig = build("wip_limit", limit=limit, sign_at=times)
    customers = rig.customers
    freed = 0

    def check() -> None:
        assert customers.n_onboarding <= limit
        assert not customers.signed_backlog or customers.n_onboarding == limit

    def free() -> None:
        nonlocal freed
        onboarding = [k for k, _ in rig.started if customers.all[k].state == "onboarding"]
        if onboarding:
            freed += 1
            rig.go_live(onboarding[0])
        check()

    for t in frees:
        rig.at(t, free)
    rig.env.run(until=200)
    check()
    ids = [k for k, _ in rig.started]
    assert ids == sorted(ids)
    assert len(ids) == min(len(times), limit + freed)


def test_fixed_rate_starts_the_head_of_the_backlog_every_month_over_starts_per_month() -> None:
    # 4 starts a month: one every 42 h.  Three sign at once, two more at 200 h and 201 h.
    rig = build("fixed_rate", starts_per_month=4, sign_at=[0, 0, 0, 200, 201])
    rig.env.run(until=20)
    assert rig.started == []  # signing does not start anyone under a fixed rate
    assert [c.id for c in rig.customers.signed_backlog] == [0, 1, 2]
    # pull() belongs to the WIP-limit policy: it starts nobody here, places or not.
    rig.mech.pull()
    assert rig.started == []
    rig.env.run(until=300)
    # The 168 h tick finds the backlog empty; that start is not made up later: the two
    # who signed at 200 h and 201 h start one tick apart.
    assert rig.started == [(0, 42.0), (1, 84.0), (2, 126.0), (3, 210.0), (4, 252.0)]


# ---------------------------------------------------------------- lost deals
def test_a_customer_waiting_past_its_patience_is_lost_and_one_started_in_time_is_not() -> None:
    # Patience of one week (40 h). Customer 0 starts; 1 and 2 wait; 1 starts at 39 h,
    # just in time; 2 is still waiting at 40 h; 3 signs at 100 h and waits in vain.
    rig = build("wip_limit", limit=1, patience_weeks=1, sign_at=[0, 0, 0, 100])
    rig.at(39, lambda: rig.go_live(0))
    rig.env.run(until=39.5)
    assert rig.customers.all[2].state == "signed"
    rig.env.run(until=300)
    cust = rig.customers.all
    assert cust[1].state == "onboarding"
    assert cust[2].state == "lost" and cust[2].left_at == 40.0
    assert cust[3].state == "lost" and cust[3].left_at == 140.0
    assert not rig.customers.signed_backlog
    assert rig.mech.lost.rows == [(2, 40.0), (3, 140.0)]
    assert rig.rows("lost") == [(40.0, 2), (140.0, 3)]
    # A place coming free later finds nobody: the lost are not started.
    rig.go_live(1)
    assert [k for k, _ in rig.started] == [0, 1]
    # metrics count the losses whose time falls in the window.
    assert rig.mech.metrics(Window(0, 300)) == {"lost_deals": 2}
    assert rig.mech.metrics(Window(100, 300)) == {"lost_deals": 1}
    assert rig.mech.metrics(Window(0, 39)) == {"lost_deals": 0}


def test_a_deal_waiting_under_a_fixed_rate_is_lost_too() -> None:
    # One start a month (168 h) and a patience of 5 weeks (200 h): of two signed at 0,
    # the first starts at 168 h, in time; the second would start at 336 h, too late.
    rig = build("fixed_rate", starts_per_month=1, patience_weeks=5, sign_at=[0, 0])
    rig.env.run(until=400)
    assert rig.started == [(0, 168.0)]
    assert rig.customers.all[0].state == "onboarding"
    assert rig.customers.all[1].state == "lost"
    assert rig.mech.lost.rows == [(1, 200.0)]
