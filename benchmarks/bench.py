"""flowsim performance benchmarks, in one run.

Measures what the project's performance targets are about:

1. M/M/1 time per ticket: flowsim reduced to an M/M/1 queue against the same queue
   as idiomatic SimPy (the reference), tuned SimPy and a bare ``heapq`` loop, in
   interleaved rounds, CPU time; plus peak memory of flowsim and idiomatic SimPy,
   and peak memory of the reduction (event log off) as the horizon grows;
2. one two-year baseline replication, CPU seconds and as a ratio to a fixed-size
   idiomatic SimPy run (so it reads the same on a faster or slower machine);
3. cost per SimPy event on a stress case (``stress_baseline.yaml``) as the horizon
   and the number of customers grow.

All timings are CPU time (``time.process_time``) of exactly the timed section: the
machine is shared, and wall time would bill other processes' load to us.

Run ``.venv/bin/python benchmarks/bench.py`` (``--quick`` for a smoke run,
``--json FILE`` to keep the figures).  See ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import gc
import heapq
import json
import math
import os
import platform
import random
import statistics
import sys
import time
import tracemalloc
from collections import deque
from collections.abc import Callable, Generator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import numpy as np
import pandas as pd
import simpy

from flowsim.config import load_config
from flowsim.model.company import Company
from flowsim.model.params import Params
from flowsim.model.results import Result, collect, simulate

T = TypeVar("T")

HERE = Path(__file__).resolve().parent
STRESS_CONFIG = HERE / "stress_baseline.yaml"
BASELINE_CONFIG = HERE.parent / "configs" / "baseline.yaml"

# ---------------------------------------------------------------------- targets
MM1_TARGET_RATIO = 0.5  # flowsim run (event log on) / idiomatic SimPy, median time per ticket
SCALING_TARGET = 1.5  # max/min of CPU us per SimPy event across a row of the stress case
MEMORY_FLAT_TARGET = 1.5  # working memory at the longest horizon / at the shortest
BASELINE_REFERENCE_S = 0.30  # one two-year baseline replication on this machine class, 2026-11

# ---------------------------------------------------------------------- the M/M/1 queue
ARRIVAL_RATE = 0.75  # lambda, tickets per hour
SERVICE_MEAN = 1.0  # 1/mu, hours per ticket at speed 1
SERVICE_RATE = 1.0 / SERVICE_MEAN
RHO = ARRIVAL_RATE / SERVICE_RATE
HOURS_PER_DAY = 8.0
HOURS_PER_WEEK = 5 * HOURS_PER_DAY
EXPECTED_SOJOURN = 1.0 / (SERVICE_RATE - ARRIVAL_RATE)  # 1/(mu - lambda) = 4 h
# Asymptotic variance of the mean sojourn over n tickets, times n.  Whitt (1989), "Planning
# queueing simulations": the time-average number in an M/M/1 system has asymptotic variance
# 2 rho (1 + rho) / (mu (1 - rho)^4) per unit of time; Little's law carries it over to the
# mean sojourn of the n ~ lambda T tickets.  896 h^2 here (checked: 40 runs of 200,000
# tickets gave a standard deviation of 0.060 h against the 0.067 h it predicts).
SOJOURN_VARIANCE = 2 * RHO * (1 + RHO) / (SERVICE_RATE * ARRIVAL_RATE * (1 - RHO) ** 4)
SOJOURN_TOLERANCE_SE = 4.0  # standard errors: a false alarm about once in 16,000 checks

# M/M/1 runs start empty and keep everything from time 0: no warm-up, full window.
MM1_OVERRIDES: dict[str, Any] = {
    "name": "mm1",
    "simulation": {"warmup_weeks": 0, "hours_per_day": HOURS_PER_DAY},
    "context_switching": {"enabled": False},
    "interrupts": {"enabled": False, "direct_access": {"enabled": False}},
    "status_calls": {"enabled": False},
    "commitments": {"enabled": False},
    "forgetting": {"enabled": False},
    "health": {"enabled": False},
    "churn": {"enabled": False},
    "quality": {"enabled": False},
    "sales": {"new_customers_per_month": 0},
    "customers": {"initial_live": 1},
    "team": {"contractors": 0},
    "lead": {
        "capacity_hours_per_week": HOURS_PER_WEEK,  # speed 1: one hour of work per clock hour
        "prioritisation": {"policy": "fifo"},
    },
    "tickets": {
        "per_customer_per_week": ARRIVAL_RATE * HOURS_PER_WEEK,
        "abandon_after_days": None,  # no reneging in M/M/1
        "classes": {
            "normal": {
                "share": 1.0,
                "effort": {"kind": "exponential", "mean": SERVICE_MEAN},
                "lead_share": 1.0,
                "target_days": 5,
            }
        },
    },
}

# The variant every M/M/1 ratio is taken against, and the headline one.
REFERENCE = "idiomatic simpy"
HEADLINE = "flowsim run, log on"


@dataclass(frozen=True)
class Settings:
    """How much work each section does."""

    mm1_tickets: int  # expected tickets per timed M/M/1 run
    mm1_rounds: int  # interleaved rounds; each runs every variant once
    memory_tickets: int  # expected tickets of the traced flowsim / SimPy runs
    memory_horizons: tuple[float, ...]  # weeks, M/M/1 reduction with the event log off
    baseline_seeds: tuple[int, ...]
    baseline_horizon: float | None  # weeks; None keeps the documented default (104)
    baseline_ref_tickets: int  # size of the idiomatic SimPy run the baseline is compared to
    stress_horizons: tuple[float, ...]  # weeks, at the config's 20 customers
    stress_customers: tuple[int, ...]  # customers.initial_live, at stress_customers_horizon
    stress_customers_horizon: float  # weeks
    stress_min_repeats: int  # at least this many runs per stress point ...
    stress_repeats: int  # ... at most this many ...
    stress_budget_s: float  # ... and none beyond the minimum once a point used this much CPU


FULL = Settings(
    mm1_tickets=200_000,
    mm1_rounds=7,
    memory_tickets=200_000,
    memory_horizons=(52, 104, 208, 416),
    baseline_seeds=(1, 2, 3, 4, 5),
    baseline_horizon=None,
    baseline_ref_tickets=100_000,
    stress_horizons=(52, 104, 208, 416),
    stress_customers=(20, 50, 100, 200),
    stress_customers_horizon=104,
    stress_min_repeats=2,
    stress_repeats=3,
    stress_budget_s=2.0,
)
QUICK = Settings(
    mm1_tickets=5_000,
    mm1_rounds=2,
    memory_tickets=5_000,
    memory_horizons=(13, 26),
    baseline_seeds=(1,),
    baseline_horizon=26,
    baseline_ref_tickets=5_000,
    stress_horizons=(26, 52),
    stress_customers=(20, 40),
    stress_customers_horizon=26,
    stress_min_repeats=1,
    stress_repeats=1,
    stress_budget_s=0.0,
)


# ---------------------------------------------------------------------- small helpers
def cpu_timed(fn: Callable[[], T]) -> tuple[T, float]:
    """Run ``fn`` and return its result and the CPU seconds it took.

    A full collection first, untimed, so that garbage left by the previous variant
    (flowsim's model is full of reference cycles) is not collected on this one's clock.
    """
    gc.collect()
    t0 = time.process_time()
    out = fn()
    return out, time.process_time() - t0


def traced_peak(fn: Callable[[], T]) -> tuple[T, int, int]:
    """Run ``fn`` under ``tracemalloc``.

    Returns its result, the peak traced bytes during the call, and the bytes still
    traced after it and a full collection: what the result keeps alive.
    """
    gc.collect()
    tracemalloc.start()
    try:
        out = fn()
        gc.collect()
        kept, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return out, peak, kept


def min_median(values: Sequence[float]) -> dict[str, float]:
    return {"min": min(values), "median": statistics.median(values)}


def rotated(items: Sequence[T], by: int) -> list[T]:
    """``items`` starting at position ``by`` (mod len), so no variant always runs first."""
    k = by % len(items)
    return [*items[k:], *items[:k]]


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def simpy_events(company: Company) -> int:
    """SimPy events scheduled so far: ``Environment._eid`` is an ``itertools.count``
    that every ``schedule`` call advances once, so its next value is their number."""
    return next(company.env._eid)


# ---------------------------------------------------------------------- parameters
def mm1_params(horizon_weeks: float, event_log: bool) -> Params:
    """flowsim reduced to an M/M/1 queue: one customer, one ticket class, the lead at speed 1."""
    data = json.loads(json.dumps(MM1_OVERRIDES))  # a deep copy
    data["simulation"].update(horizon_weeks=horizon_weeks, event_log=event_log)
    return Params.model_validate(data)


def mm1_hours(tickets: int) -> float:
    """Clock hours in which ``tickets`` arrive on average."""
    return tickets / ARRIVAL_RATE


def baseline_params(horizon_weeks: float | None) -> Params:
    """The documented defaults (``Params()``), optionally with another horizon."""
    if horizon_weeks is None:
        return Params()
    return Params.model_validate({"simulation": {"horizon_weeks": horizon_weeks}})


def stress_params(horizon_weeks: float, customers: int) -> Params:
    """The frozen stress config, event log off (to time the model, not the log).

    Customers who give up an onboarding that never finishes (a default since the frozen
    copy was taken) would let this company settle; they are switched off here, so that
    open work keeps growing over the run, which is what the stress case is for.
    """
    sets = [
        f"simulation.horizon_weeks={horizon_weeks:g}",
        "simulation.event_log=false",
        f"customers.initial_live={customers}",
        "churn.onboarding_gives_up_weeks=null",
    ]
    return load_config(STRESS_CONFIG, sets=sets)


def same_model(a: Params, b: Params) -> bool:
    """Whether two configs describe the same company (ignoring name, description, seed).

    Printed next to the baseline and stress figures: once the shipped baseline is
    recalibrated, ``Params()`` and the frozen stress copy part ways, and the reader
    should know which company each figure is about.
    """

    def dump(p: Params) -> dict[str, Any]:
        data = p.model_dump(mode="json")
        data.pop("name", None)
        data.pop("description", None)
        data["simulation"].pop("seed", None)
        return data

    return dump(a) == dump(b)


# ---------------------------------------------------------------------- M/M/1 variants
@dataclass
class Run:
    """One timed M/M/1 run."""

    cpu_s: float  # CPU seconds of the timed section
    tickets: int  # tickets completed by the horizon
    mean_sojourn_h: float  # their mean time in system
    events: int | None = None  # SimPy events scheduled, where there is an Environment

    @property
    def us_per_ticket(self) -> float:
        return self.cpu_s / max(1, self.tickets) * 1e6


def flowsim_tickets(result: Result) -> tuple[int, float]:
    """Tickets completed and their mean time in system (hours) from a flowsim Result.

    The M/M/1 reduction has no warm-up, so the summary window is the whole run.
    """
    tickets = int(result.conservation["done"])
    sojourn = float(result.summary["ticket_resolution_mean_days"]) * HOURS_PER_DAY
    return tickets, sojourn


def flowsim_run(params: Params, seed: int) -> Run:
    """Time ``Company(params, seed)`` and ``.run()``; count the tickets afterwards, untimed."""

    def build_and_run() -> Company:
        company = Company(params, seed)
        company.run()
        return company

    company, seconds = cpu_timed(build_and_run)
    tickets, sojourn = flowsim_tickets(collect(company, seed))
    return Run(seconds, tickets, sojourn, simpy_events(company))


def flowsim_simulate(params: Params, seed: int) -> Run:
    """Time ``simulate(params, seed)``: the run plus the event frame, series and summary."""
    result, seconds = cpu_timed(lambda: simulate(params, seed))
    return Run(seconds, *flowsim_tickets(result))


class Draws(NamedTuple):
    """An exponential sampler and its arguments for inter-arrival and service times.

    ``random.Random.expovariate`` takes a rate, numpy's ``exponential`` a mean; passing
    the bound method and its arguments keeps the model code free of wrapper calls.
    """

    draw: Callable[[float], float]
    arrival: float
    service: float


def stdlib_draws(seed: int) -> Draws:
    """The standard library's generator, as SimPy's own examples use it."""
    return Draws(random.Random(seed).expovariate, ARRIVAL_RATE, SERVICE_RATE)


def numpy_scalar_draws(seed: int) -> Draws:
    """A numpy Generator drawn one scalar at a time: ~1 us more per call than ``random``."""
    return Draws(np.random.default_rng(seed).exponential, 1.0 / ARRIVAL_RATE, SERVICE_MEAN)


def idiomatic_simpy(hours: float, draws: Draws) -> Run:
    """M/M/1 as SimPy is commonly written: a source, a process per ticket, a Resource."""
    sojourns: list[float] = []
    draw, arrival, service = draws

    def model() -> simpy.Environment:
        env = simpy.Environment()
        server = simpy.Resource(env, capacity=1)

        def ticket(effort: float) -> Generator[simpy.Event, Any, None]:
            arrived = env.now
            with server.request() as req:
                yield req
                yield env.timeout(effort)
            sojourns.append(env.now - arrived)

        def source() -> Generator[simpy.Event, Any, None]:
            while True:
                yield env.timeout(draw(arrival))
                env.process(ticket(draw(service)))

        env.process(source())
        env.run(until=hours)
        return env

    env, seconds = cpu_timed(model)
    return Run(seconds, len(sojourns), statistics.fmean(sojourns), next(env._eid))


def tuned_simpy(hours: float, draws: Draws) -> Run:
    """M/M/1 as one long-lived server pulling from a deque, woken by a plain event when idle."""
    sojourns: list[float] = []
    draw, arrival, service = draws

    def model() -> simpy.Environment:
        env = simpy.Environment()
        queue: deque[tuple[float, float]] = deque()
        wake: simpy.Event | None = None  # set while the server is idle

        def source() -> Generator[simpy.Event, Any, None]:
            nonlocal wake
            while True:
                yield env.timeout(draw(arrival))
                queue.append((env.now, draw(service)))
                if wake is not None:
                    wake.succeed()
                    wake = None

        def server() -> Generator[simpy.Event, Any, None]:
            nonlocal wake
            while True:
                if not queue:
                    wake = env.event()
                    yield wake
                    continue
                arrived, effort = queue.popleft()
                yield env.timeout(effort)
                sojourns.append(env.now - arrived)

        env.process(source())
        env.process(server())
        env.run(until=hours)
        return env

    env, seconds = cpu_timed(model)
    return Run(seconds, len(sojourns), statistics.fmean(sojourns), next(env._eid))


def heapq_loop(hours: float, draws: Draws) -> Run:
    """M/M/1 as a bare event loop over a heap, no SimPy: the floor.

    Draws in the same order as the SimPy variants (at an arrival: its service time,
    then the next inter-arrival time), so with the same seed all three simulate the
    same sample path and must complete the same tickets.
    """
    sojourns: list[float] = []
    draw, arrival, service = draws
    arrive, depart = 0, 1  # event kinds; ties cannot happen with continuous times

    def model() -> None:
        events: list[tuple[float, int]] = [(draw(arrival), arrive)]
        queue: deque[tuple[float, float]] = deque()
        in_service: float | None = None  # arrival time of the ticket being served
        while events:
            now, kind = heapq.heappop(events)
            if now >= hours:  # like env.run(until=hours): nothing at or after the horizon
                break
            if kind == arrive:
                effort = draw(service)
                heapq.heappush(events, (now + draw(arrival), arrive))
                if in_service is None:
                    in_service = now
                    heapq.heappush(events, (now + effort, depart))
                else:
                    queue.append((now, effort))
            else:
                sojourns.append(now - in_service)
                if queue:
                    in_service, effort = queue.popleft()
                    heapq.heappush(events, (now + effort, depart))
                else:
                    in_service = None

    _, seconds = cpu_timed(model)
    return Run(seconds, len(sojourns), statistics.fmean(sojourns))


def mm1_variants(tickets: int) -> dict[str, Callable[[int], Run]]:
    """Every M/M/1 implementation as a function of the seed, all on the same horizon."""
    hours = mm1_hours(tickets)
    log_on = mm1_params(hours / HOURS_PER_WEEK, event_log=True)
    log_off = mm1_params(hours / HOURS_PER_WEEK, event_log=False)
    return {
        HEADLINE: lambda seed: flowsim_run(log_on, seed),
        "flowsim run, log off": lambda seed: flowsim_run(log_off, seed),
        "flowsim simulate, log on": lambda seed: flowsim_simulate(log_on, seed),
        REFERENCE: lambda seed: idiomatic_simpy(hours, stdlib_draws(seed)),
        "idiomatic simpy, numpy draws": lambda seed: idiomatic_simpy(
            hours, numpy_scalar_draws(seed)
        ),
        "tuned simpy": lambda seed: tuned_simpy(hours, stdlib_draws(seed)),
        "heapq loop": lambda seed: heapq_loop(hours, stdlib_draws(seed)),
    }


# Variants that must simulate one and the same sample path, round by round.
SAME_PATH_GROUPS = {
    "flowsim": (HEADLINE, "flowsim run, log off", "flowsim simulate, log on"),
    "stdlib": (REFERENCE, "tuned simpy", "heapq loop"),
}


def sojourn_check(runs: list[Run]) -> dict[str, Any]:
    """Pooled mean sojourn of a variant's runs against 1/(mu - lambda), in standard errors."""
    tickets = sum(r.tickets for r in runs)
    mean = sum(r.mean_sojourn_h * r.tickets for r in runs) / tickets
    se = math.sqrt(SOJOURN_VARIANCE / tickets)
    z = (mean - EXPECTED_SOJOURN) / se
    return {"mean_sojourn_h": mean, "se_h": se, "z": z, "ok": abs(z) <= SOJOURN_TOLERANCE_SE}


def same_path(runs: dict[str, list[Run]], names: Sequence[str]) -> bool:
    """Whether the named variants completed the same tickets with the same mean, every round."""
    rounds = zip(*(runs[n] for n in names), strict=True)
    return all(
        all(
            r.tickets == first.tickets and math.isclose(r.mean_sojourn_h, first.mean_sojourn_h)
            for r in rest
        )
        for first, *rest in rounds
    )


def bench_mm1(settings: Settings) -> dict[str, Any]:
    """Time every M/M/1 variant over interleaved rounds; per-ticket CPU times and ratios."""
    for variant in mm1_variants(500).values():  # warm up imports, caches, pydantic
        variant(0)
    variants = mm1_variants(settings.mm1_tickets)
    runs: dict[str, list[Run]] = {name: [] for name in variants}
    for r in range(settings.mm1_rounds):
        # Each round: every variant once, on one seed, in an order rotated by one each
        # round, so drifting load on the shared machine hits every variant alike.
        for name in rotated(list(variants), r):
            runs[name].append(variants[name](1000 + r))

    figures: dict[str, Any] = {"tickets_expected": settings.mm1_tickets, "variants": {}}
    for name, rs in runs.items():
        events = [r.events / r.tickets for r in rs if r.events is not None]
        figures["variants"][name] = {
            "tickets_median": statistics.median(r.tickets for r in rs),
            "us_per_ticket": [r.us_per_ticket for r in rs],
            **{
                f"us_per_ticket_{k}": v
                for k, v in min_median([r.us_per_ticket for r in rs]).items()
            },
            "events_per_ticket": statistics.fmean(events) if events else None,
            "sojourn": sojourn_check(rs),
        }
    ref = figures["variants"][REFERENCE]
    figures["ratios_to_reference"] = {
        name: {
            stat: v[f"us_per_ticket_{stat}"] / ref[f"us_per_ticket_{stat}"]
            for stat in ("min", "median")
        }
        for name, v in figures["variants"].items()
        if name != REFERENCE
    }
    figures["same_path"] = {g: same_path(runs, names) for g, names in SAME_PATH_GROUPS.items()}
    headline = figures["ratios_to_reference"][HEADLINE]["median"]
    figures["target"] = {
        "ratio_median": headline,
        "limit": MM1_TARGET_RATIO,
        "pass": headline <= MM1_TARGET_RATIO,
    }
    return figures


# ---------------------------------------------------------------------- memory
def bench_memory(settings: Settings) -> dict[str, Any]:
    """Peak traced memory: flowsim (log on) against idiomatic SimPy at the same ticket count,
    and the M/M/1 reduction with the log off as the horizon grows.

    Separate, untimed runs: tracemalloc slows Python down several times.
    """
    hours = mm1_hours(settings.memory_tickets)
    params = mm1_params(hours / HOURS_PER_WEEK, event_log=True)

    def build_and_run(p: Params) -> Company:
        company = Company(p, 1)
        company.run()
        return company

    company, flowsim_peak, _ = traced_peak(lambda: build_and_run(params))
    flowsim_done, _ = flowsim_tickets(collect(company, 1))
    del company
    simpy_run, simpy_peak, _ = traced_peak(lambda: idiomatic_simpy(hours, stdlib_draws(1)))
    compare = {
        HEADLINE: {"peak_bytes": flowsim_peak, "tickets": flowsim_done},
        REFERENCE: {"peak_bytes": simpy_peak, "tickets": simpy_run.tickets},
    }
    for row in compare.values():
        row["bytes_per_ticket"] = row["peak_bytes"] / max(1, row["tickets"])

    growth_rows: dict[float, dict[str, float]] = {}
    for weeks in settings.memory_horizons:
        p = mm1_params(weeks, event_log=False)
        company, peak, kept = traced_peak(lambda p=p: build_and_run(p))
        done, _ = flowsim_tickets(collect(company, 1))
        growth_rows[weeks] = {"peak_bytes": peak, "kept_bytes": kept, "tickets": done}
        del company
    first, last = growth_rows[min(growth_rows)], growth_rows[max(growth_rows)]
    # The working memory is the peak less what the run keeps on purpose (one record
    # per resolved ticket and per day, for the summary and the time series): that part
    # grows with the horizon by design, and is reported per ticket below.
    for row in growth_rows.values():
        row["working_bytes"] = row["peak_bytes"] - row["kept_bytes"]
    growth = last["working_bytes"] / first["working_bytes"]
    extra_tickets = max(1, last["tickets"] - first["tickets"])
    return {
        "tickets_expected": settings.memory_tickets,
        "compare": compare,
        "flowsim_over_simpy": flowsim_peak / simpy_peak,
        "growth_log_off": {
            "by_horizon": growth_rows,
            "growth": growth,
            # What each extra completed ticket adds to the peak: records the run keeps
            # per ticket show up here even when the working set is flat.
            "marginal_bytes_per_ticket": (last["peak_bytes"] - first["peak_bytes"]) / extra_tickets,
            "marginal_kept_bytes_per_ticket": (last["kept_bytes"] - first["kept_bytes"])
            / extra_tickets,
            "limit": MEMORY_FLAT_TARGET,
            "pass": growth <= MEMORY_FLAT_TARGET,
        },
    }


# ---------------------------------------------------------------------- baseline replication
def bench_baseline(settings: Settings) -> dict[str, Any]:
    """CPU time of one baseline replication, interleaved with a fixed idiomatic SimPy run."""
    params = baseline_params(settings.baseline_horizon)
    ref_hours = mm1_hours(settings.baseline_ref_tickets)

    def baseline(seed: int) -> tuple[float, int]:
        def build_and_run() -> Company:
            company = Company(params, seed)
            company.run()
            return company

        company, seconds = cpu_timed(build_and_run)
        return seconds, simpy_events(company)

    def reference(seed: int) -> tuple[float, int]:
        run = idiomatic_simpy(ref_hours, stdlib_draws(seed))
        return run.cpu_s, run.tickets

    tasks = {"baseline": baseline, "reference": reference}
    for task in tasks.values():  # warm-up
        task(0)
    times: dict[str, list[float]] = {name: [] for name in tasks}
    counts: dict[str, list[int]] = {name: [] for name in tasks}
    for i, seed in enumerate(settings.baseline_seeds):
        for name in rotated(list(tasks), i):
            seconds, count = tasks[name](seed)
            times[name].append(seconds)
            counts[name].append(count)

    base, ref = min_median(times["baseline"]), min_median(times["reference"])
    events = statistics.median(counts["baseline"])
    return {
        "horizon_weeks": params.simulation.horizon_weeks,
        "matches_configs_baseline": same_model(Params(), load_config(BASELINE_CONFIG)),
        "seeds": list(settings.baseline_seeds),
        "baseline_s": base,
        "baseline_s_all": times["baseline"],
        "baseline_events_median": events,
        "baseline_us_per_event_median": base["median"] / events * 1e6,
        "reference_tickets": settings.baseline_ref_tickets,
        "reference_s": ref,
        "ratio_to_reference": {k: base[k] / ref[k] for k in ("min", "median")},
        "reference_seconds_2026_11": BASELINE_REFERENCE_S,
    }


# ---------------------------------------------------------------------- stress scaling
@dataclass
class StressPoint:
    """One stress configuration and what its runs measured."""

    horizon_weeks: float
    customers: int
    cpu_s: list[float]
    events: int = 0
    open_items: int = 0  # waiting + active + forgotten at the horizon
    arrived: int = 0

    @property
    def us_per_event(self) -> float:
        return min(self.cpu_s) / self.events * 1e6

    @property
    def us_per_item(self) -> float:
        """CPU per work item that arrived: the cost per unit of work, whatever the mix
        of SimPy events that carried it."""
        return min(self.cpu_s) / max(1, self.arrived) * 1e6


def stress_run(point: StressPoint) -> None:
    """One timed run of a stress point (event log off, the config's own seed)."""
    params = stress_params(point.horizon_weeks, point.customers)
    seed = params.simulation.seed

    def build_and_run() -> Company:
        company = Company(params, seed)
        company.run()
        return company

    company, seconds = cpu_timed(build_and_run)
    point.cpu_s.append(seconds)
    point.events = simpy_events(company)  # the same every repeat: same config, same seed
    counts = collect(company, seed).conservation  # untimed
    point.open_items = counts["waiting"] + counts["active"] + counts["forgotten"]
    point.arrived = counts["arrived"]


def row_scaling(points: list[StressPoint]) -> dict[str, Any]:
    costs = [p.us_per_event for p in points]
    ratio = max(costs) / min(costs)
    per_item = [p.us_per_item for p in points]
    return {
        "max_over_min": ratio,
        "limit": SCALING_TARGET,
        "pass": ratio <= SCALING_TARGET,
        "per_item_max_over_min": max(per_item) / min(per_item),
    }


def bench_stress(settings: Settings) -> dict[str, Any]:
    """CPU us per SimPy event as the horizon, then the customer count, grow."""
    base_customers = load_config(STRESS_CONFIG).customers.initial_live  # the story's 20
    horizon_row = [(w, base_customers) for w in settings.stress_horizons]
    customer_row = [(settings.stress_customers_horizon, n) for n in settings.stress_customers]
    # The point the rows share (2 years, 20 customers) is measured once, used in both.
    points = {key: StressPoint(*key, cpu_s=[]) for key in dict.fromkeys(horizon_row + customer_row)}

    stress_run(StressPoint(52, base_customers, cpu_s=[]))  # warm-up
    for r in range(settings.stress_repeats):
        # Interleaved like the M/M/1 rounds.  Every point runs at least twice (a single
        # run of the 8-year point was once seen 2x slow under a neighbour's load), then
        # again only while under its CPU budget, so the long runs (seconds each) stop there.
        due = [
            p
            for p in points.values()
            if len(p.cpu_s) < settings.stress_min_repeats or sum(p.cpu_s) < settings.stress_budget_s
        ]
        for point in rotated(due, r):
            stress_run(point)

    def rows(keys: list[tuple[float, int]]) -> dict[str, Any]:
        chosen = [points[k] for k in keys]
        return {
            "points": [
                {
                    **asdict(p),
                    "cpu_s_min": min(p.cpu_s),
                    "us_per_event": p.us_per_event,
                    "us_per_item": p.us_per_item,
                }
                for p in chosen
            ],
            **row_scaling(chosen),
        }

    return {
        "config": str(STRESS_CONFIG.relative_to(HERE.parent)),
        "same_as_params_default": same_model(load_config(STRESS_CONFIG), Params()),
        "horizons": rows(horizon_row),
        "customers": rows(customer_row),
    }


# ---------------------------------------------------------------------- report
def environment() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "simpy": simpy.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "cpus": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "load_average_start": load_average(),
        "platform": platform.platform(),
    }


def load_average() -> list[float] | None:
    return list(os.getloadavg()) if hasattr(os, "getloadavg") else None


def load_text(load: list[float] | None) -> str:
    return "n/a" if load is None else ", ".join(f"{x:.2f}" for x in load)


def table(header: list[str], rows: list[list[str]]) -> str:
    """A plain text table, columns right-aligned except the first."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        pairs = enumerate(zip(cells, widths, strict=True))
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in pairs)

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def mib(n: float) -> str:
    return f"{n / 2**20:.2f}"


def print_environment(env: dict[str, Any]) -> None:
    print(
        f"Python {env['python']} ({env['implementation']}), simpy {env['simpy']}, "
        f"numpy {env['numpy']}, pandas {env['pandas']}"
    )
    print(
        f"CPUs: {env['cpus']} (usable {env['cpus_usable']}); "
        f"load average at start: {load_text(env['load_average_start'])}"
    )
    print(f"Platform: {env['platform']}")
    print("All times are CPU time (time.process_time) of the timed section only.\n")


def print_mm1(f: dict[str, Any], rounds: int) -> None:
    print(
        f"1. M/M/1, lambda={ARRIVAL_RATE}/h, mu={SERVICE_RATE:g}/h (rho={RHO:g}), "
        f"~{f['tickets_expected']:,} tickets per run, {rounds} interleaved rounds"
    )
    rows = []
    for name, v in f["variants"].items():
        ratio = f["ratios_to_reference"].get(name, {"min": 1.0, "median": 1.0})
        s = v["sojourn"]
        ept = v["events_per_ticket"]
        rows.append(
            [
                name,
                f"{v['tickets_median']:,.0f}",
                f"{v['us_per_ticket_min']:.2f}",
                f"{v['us_per_ticket_median']:.2f}",
                f"{ratio['min']:.2f}",
                f"{ratio['median']:.2f}",
                "-" if ept is None else f"{ept:.2f}",
                f"{s['mean_sojourn_h']:.3f}",
                f"{'ok' if s['ok'] else 'OFF'} {s['z']:+.1f}se",
            ]
        )
    header = [
        "variant",
        "tickets",
        "us/ticket min",
        "median",
        "x ref min",
        "median",
        "events/ticket",
        "sojourn h",
        "vs 4 h",
    ]
    print(table(header, rows))
    print(f"(x ref: ratio to '{REFERENCE}', min over min and median over median;")
    print(f" vs 4 h: pooled mean sojourn, ok within {SOJOURN_TOLERANCE_SE:g} standard errors)")
    same = f["same_path"]
    print(
        f"same sample path every round: flowsim log on/off/simulate "
        f"{'yes' if same['flowsim'] else 'NO'}; idiomatic/tuned simpy/heapq "
        f"{'yes' if same['stdlib'] else 'NO'}"
    )
    t = f["target"]
    print(
        f"TARGET flowsim run (event log on) / idiomatic SimPy <= {t['limit']:g} (median): "
        f"{t['ratio_median']:.2f} -> {verdict(t['pass'])}\n"
    )


def print_memory(f: dict[str, Any]) -> None:
    print(
        f"1b. Peak traced memory (tracemalloc, separate untimed runs), "
        f"~{f['tickets_expected']:,} M/M/1 tickets"
    )
    rows = [
        [name, f"{r['tickets']:,}", mib(r["peak_bytes"]), f"{r['bytes_per_ticket']:.0f}"]
        for name, r in f["compare"].items()
    ]
    print(table(["variant", "tickets", "peak MiB", "peak bytes/ticket"], rows))
    print(f"flowsim / idiomatic simpy peak: x{f['flowsim_over_simpy']:.1f}")
    g = f["growth_log_off"]
    rows = [
        [
            f"{weeks:g}",
            f"{r['tickets']:,}",
            mib(r["peak_bytes"]),
            mib(r["kept_bytes"]),
            mib(r["working_bytes"]),
        ]
        for weeks, r in g["by_horizon"].items()
    ]
    print("M/M/1 reduction, event log off, as the horizon grows:")
    print(table(["weeks", "tickets", "peak MiB", "kept MiB", "working MiB"], rows))
    print(
        f"each extra ticket adds {g['marginal_bytes_per_ticket']:.0f} bytes to the peak, "
        f"{g['marginal_kept_bytes_per_ticket']:.0f} bytes to what the run keeps"
    )
    print("(kept: still traced after the run, the Company alive; peak - kept: working memory)")
    print(
        f"TARGET working memory flat, longest/shortest horizon <= {g['limit']:g}: "
        f"x{g['growth']:.2f} -> {verdict(g['pass'])}\n"
    )


def print_baseline(f: dict[str, Any]) -> None:
    print(
        f"2. One baseline replication: Company(Params(), seed) + run(), "
        f"{f['horizon_weeks']:g} weeks, event log on, seeds {f['seeds']}"
    )
    same = "yes" if f["matches_configs_baseline"] else "NO (recalibrated?)"
    print(f"   (same company as configs/baseline.yaml: {same})")
    base, ref = f["baseline_s"], f["reference_s"]
    ratio = f["ratio_to_reference"]
    rows = [
        ["baseline replication", f"{base['min']:.3f}", f"{base['median']:.3f}"],
        [
            f"idiomatic simpy M/M/1, {f['reference_tickets']:,} tickets",
            f"{ref['min']:.3f}",
            f"{ref['median']:.3f}",
        ],
        ["ratio baseline / simpy", f"{ratio['min']:.3f}", f"{ratio['median']:.3f}"],
    ]
    print(table(["CPU seconds", "min", "median"], rows))
    print(
        f"baseline: {f['baseline_events_median']:,.0f} SimPy events, "
        f"{f['baseline_us_per_event_median']:.1f} us/event (median); "
        f"reference 2026-11 on this machine class: {f['reference_seconds_2026_11']:.2f} s\n"
    )


def print_stress(f: dict[str, Any]) -> None:
    print(f"3. Cost per SimPy event on the stress case ({f['config']}), event log off")
    same = "yes" if f["same_as_params_default"] else "no (the baseline has moved on)"
    print(f"   (stress case still the same company as Params(): {same})")
    for row_name, label in (("horizons", "horizon"), ("customers", "customers")):
        row = f[row_name]
        rows = [
            [
                f"{p['horizon_weeks']:g} weeks, {p['customers']} customers",
                str(len(p["cpu_s"])),
                f"{p['cpu_s_min']:.2f}",
                f"{p['events']:,}",
                f"{p['us_per_event']:.1f}",
                f"{p['arrived']:,}",
                f"{p['us_per_item']:.1f}",
                f"{p['open_items']:,}",
            ]
            for p in row["points"]
        ]
        header = [
            "point",
            "runs",
            "CPU s min",
            "events",
            "us/event",
            "items",
            "us/item",
            "open at end",
        ]
        print(table(header, rows))
        print(
            f"TARGET us/event flat across {label}, max/min <= {row['limit']:g}: "
            f"x{row['max_over_min']:.2f} -> {verdict(row['pass'])}"
        )
        print(f"     (us per work item across {label}: x{row['per_item_max_over_min']:.2f})\n")


def verdicts(report: dict[str, Any]) -> dict[str, bool]:
    """Every PASS/FAIL of the run, by name."""
    mm1, stress = report["mm1"], report["stress"]
    out = {"mm1 time per ticket vs idiomatic simpy": mm1["target"]["pass"]}
    out["mm1 memory flat with horizon"] = report["memory"]["growth_log_off"]["pass"]
    out["stress us/event flat across horizons"] = stress["horizons"]["pass"]
    out["stress us/event flat across customers"] = stress["customers"]["pass"]
    out["mm1 variants' mean sojourn near 4 h"] = all(
        v["sojourn"]["ok"] for v in mm1["variants"].values()
    )
    out["mm1 variants on the same sample path"] = all(mm1["same_path"].values())
    return out


def print_verdicts(checks: dict[str, bool]) -> None:
    print("Summary")
    for name, ok in checks.items():
        print(f"  {verdict(ok)}  {name}")
    print(f"load average at end: {load_text(load_average())}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run (seconds)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else FULL

    env = environment()
    print_environment(env)
    report: dict[str, Any] = {"settings": asdict(settings), "environment": env}
    report["mm1"] = bench_mm1(settings)
    print_mm1(report["mm1"], settings.mm1_rounds)
    report["memory"] = bench_memory(settings)
    print_memory(report["memory"])
    report["baseline"] = bench_baseline(settings)
    print_baseline(report["baseline"])
    report["stress"] = bench_stress(settings)
    print_stress(report["stress"])
    report["verdicts"] = verdicts(report)
    report["environment"]["load_average_end"] = load_average()
    print_verdicts(report["verdicts"])

    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(report, fh, indent=2, default=str)
        print(f"figures written to {args.json}")
    # A FAIL is a finding, not an error: the exit code only says the benchmark ran.
    return 0


if __name__ == "__main__":
    sys.exit(main())
