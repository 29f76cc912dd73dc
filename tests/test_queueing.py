"""Analytic reductions: with every mechanism off the ticket queue is a textbook queue.

MODEL.md, "Validation": with every mechanism off, exponential arrivals and efforts
and one worker the ticket queue is M/M/1; with c workers M/M/c (Erlang C); with
classes and priorities, the textbook priority-queue results.

Method. Each case runs ``R`` independent replications (seeds spawned from one
root ``SeedSequence``), takes each replication's mean time in system (and mean
wait) of the tickets that *arrived* inside the steady-state window, straight from
the event log (``arrive`` / first ``start`` / ``done`` rows), and asserts that the
formula's value lies inside the Student-t confidence interval of those R means.
The tolerance is therefore whatever the replications' own spread says, never a
number tuned to a seed.

* Confidence level: each budget makes ``N_CHECKS`` = 16 interval checks, and at
  95% each a correct model would fail at least one of them for about half of all
  root seeds (1 - 0.95^16); even at 99% for one in seven.  So the level is set by
  Bonferroni's inequality, ``1 - 0.05 / N_CHECKS`` (99.69%), for a family-wise
  false-alarm rate of at most 5%.  (At 99% the slow M/D/1 check did fail once, by
  z = 3.05: 2,000 replications of the model's own ticket streams, which reproduce
  its per-replication values exactly, put the mean at 3.0016 +/- 0.0016 against
  the formula's 3, so that was the 1-in-100 false alarm, not a bias.)
* No widening for the warm-up: runs start empty, which biases waits *down*, but
  the bias decays like exp(-t / tau) with the relaxation time
  tau ~ 1 / (mu (1 - sqrt(rho))^2) (Morse 1955, "Stochastic properties of waiting
  lines", Oper. Res. 3(3); Odoni & Roth 1983, Oper. Res. 31(3)), about 90 h at
  rho = 0.8 and mu = 1/h.  The 20-week (800 h, ~9 tau) warm-up leaves a bias far
  below the interval's half-width, so no slack is added.
* Tickets are selected by arrival time, which is unbiased in steady state; the
  last ``TAIL_WEEKS`` of arrivals are left out so that every selected ticket is
  finished by the horizon (an unfinished one fails the test: with sojourn means of
  a few hours, a ticket open 200 h would itself be a fault).

The lead works 40 h in a 40-h week, so his speed is 1 and an effort of ``e`` hours
takes ``e`` clock hours; contractors likewise (``team.hours_per_week: 40``).  All
rates below are per clock hour; ``per_customer_per_week = lambda * 40``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest
from scipy import stats

from conftest import (
    WEEK_HOURS,
    assert_in_interval,
    item_times,
    reduced_params,
    replication_seeds,
    sojourns,
)
from flowsim.model import Params, simulate

N_CHECKS = 16  # interval checks per budget: 4 M/M/1, 4 M/M/c, 2 + 2 priority, 2 M/D/1, 2 M/G/1
LEVEL = 1 - 0.05 / N_CHECKS
WARMUP_WEEKS = 20
TAIL_WEEKS = 5


@dataclass(frozen=True)
class Budget:
    """Replications and run length of one check; the slow budget tightens the interval."""

    replications: int
    horizon_weeks: float


FAST = Budget(replications=20, horizon_weeks=160)
SLOW = Budget(replications=30, horizon_weeks=1500)
BUDGETS = [
    pytest.param(FAST, id="fast"),
    pytest.param(SLOW, id="slow", marks=pytest.mark.slow),
]


# ---------------------------------------------------------------- formulas
def mm1(lam: float, mu: float) -> tuple[float, float]:
    """M/M/1 mean wait in queue and time in system: Wq = rho / (mu - lam), W = 1 / (mu - lam).

    Source: Kleinrock, *Queueing Systems* vol. 1, sec. 3.2; Gross & Harris sec. 2.2.
    """
    rho = lam / mu
    return rho / (mu - lam), 1 / (mu - lam)


def erlang_c(c: int, a: float) -> float:
    """Probability of waiting in M/M/c with offered load ``a = lam / mu`` (Erlang C).

    C(c, a) = [a^c / c! * c / (c - a)] / [sum_{k<c} a^k / k! + a^c / c! * c / (c - a)].
    Source: Gross & Harris, *Fundamentals of Queueing Theory*, sec. 2.3.
    """
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


def mmc(lam: float, mu: float, c: int) -> tuple[float, float]:
    """M/M/c mean wait and time in system: Wq = C(c, a) / (c mu - lam), W = Wq + 1 / mu."""
    wq = erlang_c(c, lam / mu) / (c * mu - lam)
    return wq, wq + 1 / mu


def pollaczek_khinchine(lam: float, mean: float, second_moment: float) -> tuple[float, float]:
    """M/G/1 (Pollaczek-Khinchine): Wq = lam E[S^2] / (2 (1 - rho)), W = Wq + E[S].

    Source: Kleinrock vol. 1, sec. 5.7; Gross & Harris sec. 5.1.
    """
    rho = lam * mean
    wq = lam * second_moment / (2 * (1 - rho))
    return wq, wq + mean


def cobham(lams: list[float], means: list[float], seconds: list[float]) -> list[float]:
    """Non-preemptive priority M/G/1, class 1 highest: mean time in system per class.

    W_k = W0 / ((1 - sigma_{k-1}) (1 - sigma_k)) + E[S_k], with
    W0 = sum_i lam_i E[S_i^2] / 2 and sigma_k = sum_{i<=k} lam_i E[S_i].
    Source: Cobham (1954), "Priority assignment in waiting line problems",
    J. Oper. Res. Soc. America 2(1); Kleinrock vol. 2, sec. 3.6.
    """
    w0 = sum(lam * s2 for lam, s2 in zip(lams, seconds, strict=True)) / 2
    out, sigma = [], 0.0
    for lam, mean in zip(lams, means, strict=True):
        before = sigma
        sigma += lam * mean
        out.append(w0 / ((1 - before) * (1 - sigma)) + mean)
    return out


def preemptive_resume(lams: list[float], means: list[float], seconds: list[float]) -> list[float]:
    """Preemptive-resume priority M/G/1, class 1 highest: mean time in system per class.

    T_k = E[S_k] / (1 - sigma_{k-1}) + R_k / ((1 - sigma_{k-1}) (1 - sigma_k)), with
    R_k = sum_{i<=k} lam_i E[S_i^2] / 2: class k sees only classes 1..k.
    Source: Kleinrock vol. 2, sec. 3.7 (eq. 3.65); Harchol-Balter, *Performance
    Modeling and Design of Computer Systems*, sec. 32.3.
    """
    out, sigma, r = [], 0.0, 0.0
    for lam, mean, s2 in zip(lams, means, seconds, strict=True):
        before = sigma
        sigma += lam * mean
        r += lam * s2 / 2
        out.append(mean / (1 - before) + r / ((1 - before) * (1 - sigma)))
    return out


def test_formulas_agree_with_each_other() -> None:
    """The formulas above are independent transcriptions; check their known identities.

    M/M/c with c = 1 is M/M/1; P-K with exponential service is M/M/1; a single
    priority class is P-K under both priority formulas.  (Guards the test oracles.)
    """
    lam, mu = 0.8, 1.0
    assert mmc(lam, mu, 1) == pytest.approx(mm1(lam, mu))
    assert pollaczek_khinchine(lam, 1 / mu, 2 / mu**2) == pytest.approx(mm1(lam, mu))
    assert cobham([lam], [1.0], [2.0]) == pytest.approx([mm1(lam, mu)[1]])
    assert preemptive_resume([lam], [1.0], [2.0]) == pytest.approx([mm1(lam, mu)[1]])
    assert erlang_c(2, 1.6) == pytest.approx(6.4 / 9)  # by hand: (1.28 * 5) / (2.6 + 6.4)


# ---------------------------------------------------------------- helpers
def exp_class(share: float, mean: float, lead_share: float = 1.0) -> dict[str, object]:
    return {
        "share": share,
        "effort": {"kind": "exponential", "mean": mean},
        "lead_share": lead_share,
        "target_days": 5,
    }


def per_replication(
    params: Params, budget: Budget, root: int, by_class: bool = False
) -> dict[str, list[float]]:
    """Per-replication mean ``system`` and ``wait`` (and per class) of window arrivals."""
    horizon = params.simulation.horizon_weeks
    out: dict[str, list[float]] = {}
    for seed in replication_seeds(root, budget.replications):
        result = simulate(params, seed=seed)
        rows = sojourns(result, WARMUP_WEEKS * WEEK_HOURS, (horizon - TAIL_WEEKS) * WEEK_HOURS)
        out.setdefault("system", []).append(float(rows["system"].mean()))
        out.setdefault("wait", []).append(float(rows["wait"].mean()))
        if by_class:
            for cls, group in rows.groupby("cls"):
                out.setdefault(f"system_{cls}", []).append(float(group["system"].mean()))
    return out


def run_params(
    budget: Budget,
    lam: float,
    overrides: dict[str, object] | None = None,
    classes: dict[str, object] | None = None,
) -> Params:
    return reduced_params(
        overrides,
        classes=classes,
        tickets_per_week=lam * WEEK_HOURS,
        horizon_weeks=budget.horizon_weeks,
        warmup_weeks=WARMUP_WEEKS,
    )


# ---------------------------------------------------------------- M/M/1
@pytest.mark.parametrize("budget", BUDGETS)
@pytest.mark.parametrize("rho", [0.5, 0.8])
def test_mm1(rho: float, budget: Budget) -> None:
    """One live customer, Poisson tickets, exponential effort (mean 1 h), the lead alone.

    Mean wait and time in system against Wq = rho / (mu - lam), W = 1 / (mu - lam).
    """
    mu, lam = 1.0, rho
    params = run_params(budget, lam)
    reps = per_replication(params, budget, root=101)
    wq, w = mm1(lam, mu)
    assert_in_interval(w, reps["system"], LEVEL, what=f"M/M/1 rho={rho} W")
    assert_in_interval(wq, reps["wait"], LEVEL, what=f"M/M/1 rho={rho} Wq")


def test_mm1_ticket_rate_is_per_live_customer() -> None:
    """Arrival rate is ``per_customer_per_week`` per live customer: 4 customers, 4x the tickets.

    Counted over a long window, arrivals are Poisson, so the count N has variance N;
    both counts must lie within 4 standard deviations of lam * T.
    """
    horizon = 200
    one = reduced_params(tickets_per_week=5, horizon_weeks=horizon)
    four = reduced_params(
        {"customers": {"initial_live": 4}}, tickets_per_week=5, horizon_weeks=horizon
    )
    for params, expected in ((one, 5 * horizon), (four, 20 * horizon)):
        events = simulate(params, seed=7).events
        n = int(((events["kind"] == "ticket") & (events["event"] == "arrive")).sum())
        assert abs(n - expected) <= 4 * math.sqrt(expected), (n, expected)


# ---------------------------------------------------------------- M/M/c
@pytest.mark.parametrize("budget", BUDGETS)
@pytest.mark.parametrize("c", [2, 3])
def test_mmc_contractors(c: int, budget: Budget) -> None:
    """Tickets with ``lead_share: 0`` go to ``c`` contractors (40 h/week: speed 1).

    Per-server utilisation 0.8; mean wait and time in system against Erlang C.
    """
    mu, lam = 1.0, 0.8 * c
    params = run_params(
        budget,
        lam,
        {"team": {"contractors": c, "hours_per_week": WEEK_HOURS}},
        classes={"normal": exp_class(1.0, 1 / mu, lead_share=0.0)},
    )
    reps = per_replication(params, budget, root=202 + c)
    wq, w = mmc(lam, mu, c)
    assert_in_interval(w, reps["system"], LEVEL, what=f"M/M/{c} W")
    assert_in_interval(wq, reps["wait"], LEVEL, what=f"M/M/{c} Wq")


def test_more_contractors_less_waiting() -> None:
    """Monotonicity: adding a contractor never increases any ticket's wait (same seeds).

    With common random numbers each ticket keeps its arrival time and effort, and
    the FCFS multi-server wait is pathwise non-increasing in the number of servers
    (Kiefer & Wolfowitz's workload-vector recursion, Ann. Math. Stat. 1955).  So
    the mean wait must fall, replication by replication, as c goes 2 -> 3 -> 4.
    """
    lam, horizon = 1.6, 60
    waits = []
    for c in (2, 3, 4):
        params = reduced_params(
            {"team": {"contractors": c}},
            classes={"normal": exp_class(1.0, 1.0, lead_share=0.0)},
            tickets_per_week=lam * WEEK_HOURS,
            horizon_weeks=horizon,
            warmup_weeks=1,
        )
        per_seed = []
        for seed in replication_seeds(303, 4):
            rows = sojourns(simulate(params, seed=seed), 0, (horizon - 2) * WEEK_HOURS)
            per_seed.append(rows["wait"].to_numpy())
        waits.append(per_seed)
    for more, fewer in ((waits[1], waits[0]), (waits[2], waits[1])):
        for w_more, w_fewer in zip(more, fewer, strict=True):
            assert len(w_more) == len(w_fewer)  # the same tickets under both
            assert np.all(w_more <= w_fewer + 1e-9)
            assert w_more.mean() < w_fewer.mean()


# ---------------------------------------------------------------- priorities
# Urgent: 40% of tickets, mean 0.5 h; normal: 60%, mean 1.5 h; total load 0.8.
_PRIO_MEANS = {"urgent": 0.5, "normal": 1.5}
_PRIO_SHARES = {"urgent": 0.4, "normal": 0.6}
_PRIO_LAM = 0.8 / sum(_PRIO_SHARES[k] * _PRIO_MEANS[k] for k in _PRIO_MEANS)
_PRIO_CLASSES = {k: exp_class(_PRIO_SHARES[k], _PRIO_MEANS[k]) for k in _PRIO_MEANS}


def _prio_inputs() -> tuple[list[float], list[float], list[float]]:
    order = ("urgent", "normal")
    lams = [_PRIO_LAM * _PRIO_SHARES[k] for k in order]
    means = [_PRIO_MEANS[k] for k in order]
    seconds = [2 * m**2 for m in means]  # exponential: E[S^2] = 2 E[S]^2
    return lams, means, seconds


@pytest.mark.parametrize("budget", BUDGETS)
def test_nonpreemptive_priority_cobham(budget: Budget) -> None:
    """``urgent_first`` with interrupts off: a non-preemptive two-class M/M/1 (Cobham)."""
    params = run_params(
        budget,
        _PRIO_LAM,
        {"lead": {"prioritisation": {"policy": "urgent_first"}}},
        classes=_PRIO_CLASSES,
    )
    reps = per_replication(params, budget, root=404, by_class=True)
    expected = cobham(*_prio_inputs())
    for cls, w in zip(("urgent", "normal"), expected, strict=True):
        assert_in_interval(w, reps[f"system_{cls}"], LEVEL, what=f"Cobham {cls}")


@pytest.mark.parametrize("budget", BUDGETS)
def test_preemptive_resume_priority(budget: Budget) -> None:
    """Interrupts on (immediate, no resume cost, no pings, no switching): urgent preempts.

    Urgent tickets preempt the lead's backlog item, which later resumes where it
    stopped: a preemptive-resume two-class M/M/1.  Also checks that preemption
    actually happens (a ``preempt`` row in the log), so the test cannot pass by
    silently running the non-preemptive queue, whose normal-class time differs.
    """
    params = run_params(
        budget,
        _PRIO_LAM,
        {
            "interrupts": {
                "enabled": True,
                "resume_cost_hours": 0,
                "shielding": "immediate",
                "direct_access": {"enabled": False},
            },
            "context_switching": {"enabled": False},
        },
        classes=_PRIO_CLASSES,
    )
    reps = per_replication(params, budget, root=505, by_class=True)
    expected = preemptive_resume(*_prio_inputs())
    for cls, w in zip(("urgent", "normal"), expected, strict=True):
        assert_in_interval(w, reps[f"system_{cls}"], LEVEL, what=f"preemptive-resume {cls}")
    events = simulate(params, seed=1).events
    assert (events["event"] == "preempt").any()
    # The two disciplines are distinguishable at this load: they differ by more than the
    # interval, so the check above really tells preemptive from non-preemptive.
    assert abs(expected[0] - cobham(*_prio_inputs())[0]) > 0.1


# ---------------------------------------------------------------- M/D/1 and M/G/1
@pytest.mark.parametrize("budget", BUDGETS)
def test_md1_pollaczek_khinchine(budget: Budget) -> None:
    """Constant effort 1 h at rho 0.8: M/D/1, Wq = rho / (2 mu (1 - rho)) (P-K with E[S^2] = 1)."""
    lam = 0.8
    params = run_params(
        budget,
        lam,
        classes={
            "normal": {
                "share": 1.0,
                "effort": {"kind": "constant", "value": 1.0},
                "lead_share": 1.0,
                "target_days": 5,
            }
        },
    )
    reps = per_replication(params, budget, root=606)
    wq, w = pollaczek_khinchine(lam, 1.0, 1.0)
    assert_in_interval(w, reps["system"], LEVEL, what="M/D/1 W")
    assert_in_interval(wq, reps["wait"], LEVEL, what="M/D/1 Wq")


@pytest.mark.parametrize("budget", BUDGETS)
def test_mg1_lognormal_pollaczek_khinchine(budget: Budget) -> None:
    """Lognormal effort (the model's default shape; mean 1 h, cv 0.5) at rho 0.7: M/G/1.

    E[S^2] = mean^2 (1 + cv^2).  Source: Pollaczek-Khinchine, as above.
    """
    lam, mean, cv = 0.7, 1.0, 0.5
    params = run_params(
        budget,
        lam,
        classes={
            "normal": {
                "share": 1.0,
                "effort": {"kind": "lognormal", "mean": mean, "cv": cv},
                "lead_share": 1.0,
                "target_days": 5,
            }
        },
    )
    reps = per_replication(params, budget, root=707)
    wq, w = pollaczek_khinchine(lam, mean, mean**2 * (1 + cv**2))
    assert_in_interval(w, reps["system"], LEVEL, what="M/G/1 W")
    assert_in_interval(wq, reps["wait"], LEVEL, what="M/G/1 Wq")


# ---------------------------------------------------------------- the queue, event by event
def _constant_class(value: float) -> dict[str, object]:
    return {
        "share": 1.0,
        "effort": {"kind": "constant", "value": value},
        "lead_share": 1.0,
        "target_days": 5,
    }


@pytest.mark.parametrize("effort", ["constant", "exponential"])
def test_single_server_follows_lindley_recursion(effort: str) -> None:
    """The reduced model *is* a FIFO single-server queue, ticket by ticket.

    For FIFO with one work-conserving server, ticket i starts at
    max(arrive_i, done_{i-1}) (Lindley's recursion, Lindley 1952), and with speed 1 its
    service lasts its effort: exactly 1 h for a constant effort.  This exact,
    seed-free check backs the statistical ones above: given its arrival stream the
    model reproduces the queue exactly, so the interval tests only probe the
    arrival and effort streams (checked here too: exponential gaps and efforts,
    Kolmogorov-Smirnov at the 0.1% level).
    """
    classes = (
        {"normal": _constant_class(1.0)}
        if effort == "constant"
        else {"normal": exp_class(1.0, 1.0)}
    )
    params = reduced_params(classes=classes, tickets_per_week=0.8 * WEEK_HOURS, horizon_weeks=60)
    times = item_times(simulate(params, seed=21).events).sort_values("arrive")
    times = times[times["start"].notna()]  # the tickets still waiting at the horizon never start
    arrive, start, done = (times[c].to_numpy() for c in ("arrive", "start", "done"))
    previous_done = np.concatenate([[0.0], done[:-1]])
    np.testing.assert_allclose(start, np.maximum(arrive, previous_done), rtol=0, atol=1e-9)
    service = (done - start)[np.isfinite(done)]
    assert len(service) > 1000
    if effort == "constant":
        np.testing.assert_allclose(service, 1.0, rtol=0, atol=1e-9)
    else:
        assert stats.kstest(service, "expon", args=(0, 1.0)).pvalue > 1e-3
    gaps = np.diff(arrive)
    assert stats.kstest(gaps, "expon", args=(0, 1 / 0.8)).pvalue > 1e-3


@pytest.mark.parametrize("c", [2, 3])
def test_contractors_serve_first_come_first_served(c: int) -> None:
    """With c contractors the ticket queue is FCFS with c servers, ticket by ticket.

    Ticket i starts at max(arrive_i, the earliest time one of the c servers is free),
    the multi-server recursion of Kiefer & Wolfowitz (1955); service times are read
    from the log (done - start) and must be exponential with the effort's mean.
    """
    params = reduced_params(
        {"team": {"contractors": c}},
        classes={"normal": exp_class(1.0, 1.0, lead_share=0.0)},
        tickets_per_week=0.8 * c * WEEK_HOURS,
        horizon_weeks=40,
    )
    times = item_times(simulate(params, seed=22).events).sort_values("arrive")
    times = times[times["start"].notna()]  # the tickets still waiting at the horizon never start
    free = [0.0] * c  # when each server is next free (NaN done: busy past the horizon)
    for arrive, start, done in zip(times["arrive"], times["start"], times["done"], strict=True):
        expected = max(arrive, free[0])
        assert start == pytest.approx(expected, abs=1e-9)
        free[0] = math.inf if math.isnan(done) else done
        free.sort()
    service = (times["done"] - times["start"]).dropna().to_numpy()
    assert stats.kstest(service, "expon", args=(0, 1.0)).pvalue > 1e-3
