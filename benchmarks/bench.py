"""flowsim performance benchmarks, in one run.

Measures

1. the cost per ticket of flowsim reduced to an M/M/1 queue, against the same
   queue written as idiomatic SimPy (one process per ticket, a ``simpy.Resource``)
   and as a minimal long-lived worker pulling from a plain deque (the lower bound);
2. peak traced memory as the horizon grows, with the event log off;
3. the wall time of one two-year baseline replication, with and without the event log.

Run ``.venv/bin/python benchmarks/bench.py`` (``--quick`` for a smoke run,
``--json FILE`` to keep the figures).  See ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import json
import os
import platform
import statistics
import sys
import time
import tracemalloc
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
import simpy

from flowsim.model.company import Company
from flowsim.model.entities import Item
from flowsim.model.params import Params
from flowsim.model.results import simulate

ARRIVAL_RATE = 0.75  # tickets per hour
SERVICE_MEAN = 1.0  # hours per ticket at speed 1
HOURS_PER_DAY = 8.0
HOURS_PER_WEEK = 5 * HOURS_PER_DAY
EXPECTED_SOJOURN = 1.0 / (1.0 / SERVICE_MEAN - ARRIVAL_RATE)  # 1/(mu - lambda) = 4 h
SOJOURN_TOLERANCE = 0.10  # relative; the mean of a long M/M/1 run converges slowly

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


@dataclass(frozen=True)
class Settings:
    """How much work each section does."""

    mm1_tickets: int  # expected tickets per M/M/1 run
    repeats: int  # alternating repeats of each M/M/1 variant
    memory_horizons: tuple[float, ...]  # weeks
    baseline_seeds: tuple[int, ...]
    baseline_horizon: float | None  # weeks; None keeps the default (104)


FULL = Settings(
    mm1_tickets=80_000,
    repeats=5,
    memory_horizons=(52, 104, 208, 416),
    baseline_seeds=(1, 2, 3, 4, 5),
    baseline_horizon=None,
)
QUICK = Settings(
    mm1_tickets=2_000,
    repeats=2,
    memory_horizons=(26, 52),
    baseline_seeds=(1,),
    baseline_horizon=26,
)


# ---------------------------------------------------------------------- parameters
def mm1_params(horizon_weeks: float, event_log: bool) -> Params:
    """flowsim reduced to an M/M/1 queue: one customer, one ticket class, the lead at speed 1."""
    data = json.loads(json.dumps(MM1_OVERRIDES))  # a deep copy
    data["simulation"].update(horizon_weeks=horizon_weeks, event_log=event_log)
    return Params.model_validate(data)


def baseline_params(event_log: bool, horizon_weeks: float | None = None) -> Params:
    """The documented baseline, optionally with another horizon."""
    sim: dict[str, Any] = {"event_log": event_log}
    if horizon_weeks is not None:
        sim["horizon_weeks"] = horizon_weeks
    return Params.model_validate({"simulation": sim})


def mm1_horizon_hours(tickets: int) -> float:
    """Clock hours in which ``tickets`` arrive on average."""
    return tickets / ARRIVAL_RATE


# ---------------------------------------------------------------------- M/M/1 variants
@dataclass
class Run:
    """One timed M/M/1 run: wall seconds, tickets completed, their mean sojourn (hours).

    ``post_seconds`` is the part of ``seconds`` spent after the model ran (building
    frames and metrics), for ``simulate`` runs.
    """

    seconds: float
    tickets: int
    mean_sojourn: float
    post_seconds: float = 0.0

    @property
    def per_ticket_us(self) -> float:
        return self.seconds / max(1, self.tickets) * 1e6

    @property
    def post_per_ticket_us(self) -> float:
        return self.post_seconds / max(1, self.tickets) * 1e6


def _sojourn_run(seconds: float, sojourns: list[float]) -> Run:
    mean = statistics.fmean(sojourns) if sojourns else float("nan")
    return Run(seconds, len(sojourns), mean)


def flowsim_run(params: Params, seed: int) -> Run:
    """``Company(params, seed).run()``: the simulation alone (event log as in ``params``)."""
    t0 = time.perf_counter()
    company = Company(params, seed)
    company.run()
    seconds = time.perf_counter() - t0
    return _sojourn_run(seconds, [done - arrived for _, arrived, done in company.rec["tickets"]])


@contextlib.contextmanager
def model_clock() -> Iterator[list[float]]:
    """Time spent inside ``Company.__init__`` and ``Company.run`` while the block runs.

    Yields a one-element list that accumulates those seconds, so one ``simulate``
    call splits into the model (building and running it) and everything after.
    """
    spent = [0.0]
    originals = {name: getattr(Company, name) for name in ("__init__", "run")}

    def timed(method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - t0

        return wrapper

    for name, method in originals.items():
        setattr(Company, name, timed(method))
    try:
        yield spent
    finally:
        for name, method in originals.items():
            setattr(Company, name, method)


def timed_simulate(params: Params, seed: int) -> tuple[Any, float, float]:
    """``simulate(params, seed)``: the result, total seconds, and seconds in the model."""
    with model_clock() as spent:
        t0 = time.perf_counter()
        result = simulate(params, seed=seed)
        seconds = time.perf_counter() - t0
    return result, seconds, spent[0]


def flowsim_simulate(params: Params, seed: int) -> Run:
    """``simulate(params, seed)``: the simulation plus frames and summary metrics."""
    result, seconds, model_seconds = timed_simulate(params, seed)
    summary = result.summary
    tickets = round(summary["tickets_closed_per_week"] * summary["window_weeks"])
    sojourn = summary["ticket_resolution_mean_days"] * HOURS_PER_DAY
    return Run(seconds, tickets, sojourn, post_seconds=seconds - model_seconds)


def idiomatic_mm1(horizon: float, seed: int) -> Run:
    """M/M/1 as the SimPy documentation writes it: a process per ticket, a Resource."""
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    server = simpy.Resource(env, capacity=1)
    sojourns: list[float] = []

    def ticket(service: float) -> Generator[simpy.Event, Any, None]:
        arrived = env.now
        with server.request() as req:
            yield req
            yield env.timeout(service)
        sojourns.append(env.now - arrived)

    def source() -> Generator[simpy.Event, Any, None]:
        while True:
            yield env.timeout(rng.exponential(1.0 / ARRIVAL_RATE))
            env.process(ticket(rng.exponential(SERVICE_MEAN)))

    t0 = time.perf_counter()
    env.process(source())
    env.run(until=horizon)
    return _sojourn_run(time.perf_counter() - t0, sojourns)


def worker_mm1(horizon: float, seed: int) -> Run:
    """M/M/1 as one long-lived server pulling from a deque, woken by an event when idle."""
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    queue: deque[tuple[float, float]] = deque()
    sojourns: list[float] = []
    wake: simpy.Event | None = None

    def source() -> Generator[simpy.Event, Any, None]:
        nonlocal wake
        while True:
            yield env.timeout(rng.exponential(1.0 / ARRIVAL_RATE))
            queue.append((env.now, rng.exponential(SERVICE_MEAN)))
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
            arrived, service = queue.popleft()
            yield env.timeout(service)
            sojourns.append(env.now - arrived)

    t0 = time.perf_counter()
    env.process(source())
    env.process(server())
    env.run(until=horizon)
    return _sojourn_run(time.perf_counter() - t0, sojourns)


def mm1_variants(tickets: int) -> dict[str, Callable[[int], Run]]:
    """The four M/M/1 implementations, each a function of the seed, on the same horizon."""
    hours = mm1_horizon_hours(tickets)
    params = mm1_params(hours / HOURS_PER_WEEK, event_log=True)
    return {
        "flowsim run": lambda seed: flowsim_run(params, seed),
        "flowsim simulate": lambda seed: flowsim_simulate(params, seed),
        "idiomatic simpy": lambda seed: idiomatic_mm1(hours, seed),
        "worker pulling": lambda seed: worker_mm1(hours, seed),
    }


def bench_mm1(settings: Settings) -> dict[str, Any]:
    """Time every variant over alternating repeats; report per-ticket times and ratios."""
    for variant in mm1_variants(500).values():  # warm up imports and caches
        variant(0)
    variants = mm1_variants(settings.mm1_tickets)
    runs: dict[str, list[Run]] = {name: [] for name in variants}
    for r in range(settings.repeats):
        for name, variant in variants.items():
            runs[name].append(variant(1000 + r))

    figures: dict[str, Any] = {"tickets_expected": settings.mm1_tickets, "variants": {}}
    for name, rs in runs.items():
        per_ticket = [run.per_ticket_us for run in rs]
        sojourn = statistics.fmean(run.mean_sojourn for run in rs)
        figures["variants"][name] = {
            "tickets": statistics.median(run.tickets for run in rs),
            "per_ticket_us_min": min(per_ticket),
            "per_ticket_us_median": statistics.median(per_ticket),
            "mean_sojourn_h": sojourn,
            "sojourn_ok": abs(sojourn / EXPECTED_SOJOURN - 1) <= SOJOURN_TOLERANCE,
        }
    v = figures["variants"]
    figures["ratios"] = {
        f"{a} / {b}": {
            stat: v[a][f"per_ticket_us_{stat}"] / v[b][f"per_ticket_us_{stat}"]
            for stat in ("min", "median")
        }
        for a, b in (
            ("flowsim run", "idiomatic simpy"),
            ("flowsim simulate", "idiomatic simpy"),
            ("worker pulling", "idiomatic simpy"),
            ("flowsim run", "worker pulling"),
        )
    }
    post = [run.post_per_ticket_us for run in runs["flowsim simulate"]]
    figures["postprocessing_us_per_ticket"] = _min_median(post)
    return figures


# ---------------------------------------------------------------------- memory
def deep_size(obj: Any, seen: set[int] | None = None) -> int:
    """Bytes of ``obj`` and of the containers and scalars it holds (each counted once)."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return 0
    seen.add(id(obj))
    size = sys.getsizeof(obj)
    if isinstance(obj, dict):
        size += sum(deep_size(k, seen) + deep_size(x, seen) for k, x in obj.items())
    elif isinstance(obj, list | tuple | set | frozenset | deque):
        size += sum(deep_size(x, seen) for x in obj)
    return size


def live_items() -> int:
    """Work items still referenced from anywhere (after a full collection)."""
    gc.collect()
    return sum(1 for obj in gc.get_objects() if isinstance(obj, Item))


def peak_memory(params: Params, seed: int) -> dict[str, float]:
    """Peak traced memory of ``Company(params, seed).run()`` and what the run kept."""
    gc.collect()
    tracemalloc.start()
    try:
        company = Company(params, seed)
        company.run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    counts = company.state_counts
    records = deep_size(company.rec)
    retained = live_items()
    return {
        "peak_mib": peak / 2**20,
        "records_mib": records / 2**20,
        "peak_less_records_mib": (peak - records) / 2**20,
        "record_rows": sum(len(rows) for rows in company.rec.values()),
        "open_items": counts["waiting"] + counts["active"] + counts["forgotten"],
        "items_created": company._next_id,
        "items_retained": retained,
    }


def growth(rows: dict[float, dict[str, float]], key: str) -> float:
    """Ratio of ``key`` at the longest horizon to the shortest."""
    horizons = sorted(rows)
    return rows[horizons[-1]][key] / rows[horizons[0]][key]


def bench_memory(settings: Settings) -> dict[str, Any]:
    """Peak memory with the event log off, baseline and M/M/1, as the horizon grows."""
    models: dict[str, Callable[[float], Params]] = {
        "baseline": lambda weeks: baseline_params(False, weeks),
        "mm1": lambda weeks: mm1_params(weeks, event_log=False),
    }
    figures: dict[str, Any] = {}
    for name, make in models.items():
        rows = {weeks: peak_memory(make(weeks), seed=1) for weeks in settings.memory_horizons}
        figures[name] = {
            "by_horizon": rows,
            "peak_growth": growth(rows, "peak_mib"),
            "peak_less_records_growth": growth(rows, "peak_less_records_mib"),
        }
    return figures


# ---------------------------------------------------------------------- baseline wall time
def _min_median(values: Iterable[float]) -> dict[str, float]:
    values = list(values)
    return {"min": min(values), "median": statistics.median(values)}


def bench_baseline(settings: Settings) -> dict[str, Any]:
    """Wall time of one baseline replication, split into the model and the frames.

    Seeds alternate between event log on and off, so load from other processes
    hits both alike.
    """
    figures: dict[str, Any] = {
        "horizon_weeks": settings.baseline_horizon or Params().simulation.horizon_weeks
    }
    params = {log: baseline_params(log, settings.baseline_horizon) for log in (True, False)}
    times: dict[bool, dict[str, list[float]]] = {
        log: {"simulate_s": [], "run_s": [], "frames_s": []} for log in params
    }
    for log in params:
        timed_simulate(params[log], 0)  # warm-up
    for seed in settings.baseline_seeds:
        for log, p in params.items():
            _, seconds, model_seconds = timed_simulate(p, seed)
            times[log]["simulate_s"].append(seconds)
            times[log]["run_s"].append(model_seconds)
            times[log]["frames_s"].append(seconds - model_seconds)
    for log, parts in times.items():
        figures["log_on" if log else "log_off"] = {k: _min_median(v) for k, v in parts.items()}
    return figures


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
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "platform": platform.platform(),
    }


def table(header: list[str], rows: list[list[str]]) -> str:
    """A plain text table, columns right-aligned except the first."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        pairs = enumerate(zip(cells, widths, strict=True))
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in pairs)

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def print_environment(env: dict[str, Any]) -> None:
    print(
        f"Python {env['python']} ({env['implementation']}), simpy {env['simpy']}, "
        f"numpy {env['numpy']}, pandas {env['pandas']}"
    )
    load = env["load_average"]
    load_text = "n/a" if load is None else ", ".join(f"{x:.2f}" for x in load)
    print(f"CPUs: {env['cpus']} (usable {env['cpus_usable']}); load average at start: {load_text}")
    print(f"Platform: {env['platform']}\n")


def print_mm1(f: dict[str, Any], repeats: int) -> None:
    print(
        f"1. M/M/1, lambda={ARRIVAL_RATE}/h, mu=1/h (rho={ARRIVAL_RATE * SERVICE_MEAN:g}), "
        f"~{f['tickets_expected']:,} tickets per run, {repeats} alternating repeats"
    )
    rows = [
        [
            name,
            f"{v['tickets']:,.0f}",
            f"{v['per_ticket_us_min']:.1f}",
            f"{v['per_ticket_us_median']:.1f}",
            f"{v['mean_sojourn_h']:.3f}",
            "ok" if v["sojourn_ok"] else "OFF",
        ]
        for name, v in f["variants"].items()
    ]
    header = ["variant", "tickets", "us/ticket min", "median", "mean sojourn h", "vs 4 h"]
    print(table(header, rows))
    print()
    rows = [[name, f"{r['min']:.2f}", f"{r['median']:.2f}"] for name, r in f["ratios"].items()]
    print(table(["ratio (time per ticket)", "min", "median"], rows))
    post = f["postprocessing_us_per_ticket"]
    print(
        f"post-processing inside simulate (frames, metrics): {post['min']:.1f} us/ticket min, "
        f"{post['median']:.1f} median\n"
    )


def print_memory(f: dict[str, Any]) -> None:
    print("2. Peak traced memory (tracemalloc) of Company.run(), event log off")
    header = ["model", "weeks", "peak MiB", "records MiB", "peak-records", "open", "kept", "items"]
    rows = []
    for name, m in f.items():
        for weeks, r in m["by_horizon"].items():
            rows.append(
                [
                    name,
                    f"{weeks:g}",
                    f"{r['peak_mib']:.2f}",
                    f"{r['records_mib']:.2f}",
                    f"{r['peak_less_records_mib']:.2f}",
                    f"{r['open_items']:,}",
                    f"{r['items_retained']:,}",
                    f"{r['items_created']:,}",
                ]
            )
    print(table(header, rows))
    print("(open: items waiting/active/forgotten at the horizon; kept: Item objects still")
    print(" referenced after the run; items: created)")
    for name, m in f.items():
        print(
            f"{name}: peak growth longest/shortest horizon x{m['peak_growth']:.2f}, "
            f"without records x{m['peak_less_records_growth']:.2f}"
        )
    print()


def print_baseline(f: dict[str, Any], seeds: int) -> None:
    print(f"3. One baseline replication ({f['horizon_weeks']:g} weeks), {seeds} seed(s), seconds")
    rows = []
    for log in ("log_on", "log_off"):
        for part, label in (("simulate_s", "simulate"), ("run_s", "run"), ("frames_s", "frames")):
            r = f[log][part]
            name = f"{log.replace('_', ' ')}: {label}"
            rows.append([name, f"{r['min']:.3f}", f"{r['median']:.3f}"])
    print(table(["event log: part", "min s", "median s"], rows))
    print("(run: inside Company(...) and .run(); frames: the rest of simulate, same call)\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run (seconds)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else FULL

    env = environment()
    print_environment(env)
    mm1 = bench_mm1(settings)
    print_mm1(mm1, settings.repeats)
    memory = bench_memory(settings)
    print_memory(memory)
    baseline = bench_baseline(settings)
    print_baseline(baseline, len(settings.baseline_seeds))

    if args.json:
        report = {
            "settings": asdict(settings),
            "environment": env,
            "mm1": mm1,
            "memory": memory,
            "baseline": baseline,
        }
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(report, fh, indent=2, default=str)
        print(f"figures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
