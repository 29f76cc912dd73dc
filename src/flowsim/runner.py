"""Replications of one configuration: independent seeds from one root, results gathered."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from flowsim.config import config_hash
from flowsim.config.experiment import Experiment
from flowsim.model.params import Params
from flowsim.model.results import Result, simulate
from flowsim.model.streams import replication_seeds
from flowsim.storage import ReplicationStore

T = TypeVar("T")


log = logging.getLogger("flowsim")


@dataclass
class Replications:
    """Every replication of one configuration, as tidy frames with a ``replication`` column."""

    params: Params
    seed: int
    per_rep: pd.DataFrame
    events: pd.DataFrame
    timeseries: pd.DataFrame
    customers: pd.DataFrame


def run_replication(params: Params, seed_seq: np.random.SeedSequence) -> Result:
    """One replication; the seed sequence is a child of the run's root seed."""
    return simulate(params, seed=seed_seq)


def run_replications(params: Params, reps: int, seed: int | None = None) -> Replications:
    """Run ``reps`` replications of ``params`` with seeds spawned from ``seed``.

    Replication *r* always gets child *r* of ``SeedSequence(seed)``, so adding
    replications keeps the earlier ones and every policy sees the same seeds.
    """
    if reps < 1:
        raise ValueError(f"reps must be at least 1, got {reps}")
    root = params.simulation.seed if seed is None else seed
    results = [run_replication(params, s) for s in replication_seeds(root, reps)]
    return gather(params, root, results)


def gather(params: Params, seed: int, results: list[Result]) -> Replications:
    """Stack per-replication results into tidy frames."""

    def stack(frames: list[pd.DataFrame]) -> pd.DataFrame:
        tagged = [f.assign(replication=r) for r, f in enumerate(frames)]
        return pd.concat(tagged, ignore_index=True) if tagged else pd.DataFrame()

    per_rep = pd.DataFrame([r.summary for r in results])
    per_rep.insert(0, "replication", range(len(results)))
    return Replications(
        params=params,
        seed=seed,
        per_rep=per_rep,
        events=stack([r.events for r in results]),
        timeseries=stack([r.timeseries for r in results]),
        customers=stack([r.customers for r in results]),
    )


# ---------------------------------------------------------------- experiments
@dataclass
class ExperimentRun:
    """The replications of every scenario of an experiment, in scenario and replication order."""

    experiment: Experiment
    per_rep: pd.DataFrame
    timeseries: pd.DataFrame
    customers: pd.DataFrame
    reused: int
    computed: int
    wall_time: float


Replicated = tuple[dict[str, float], pd.DataFrame, pd.DataFrame]
"""One replication's summary, daily time series and customer table."""


def replicate(params: Params, seed: int, replication: int, reps: int) -> Replicated:
    """One replication for the pool: summary, daily time series, customers (no event log)."""
    seed_seq = replication_seeds(seed, reps)[replication]
    quiet = params.model_copy(
        update={"simulation": params.simulation.model_copy(update={"event_log": False})}
    )
    result = simulate(quiet, seed=seed_seq)
    return result.summary.to_dict(), result.timeseries, result.customers


def replicate_and_store(
    store: ReplicationStore,
    scenario: str,
    config_hash: str,
    params: Params,
    seed: int,
    replication: int,
    reps: int,
) -> Replicated:
    """One replication for a worker that shares the results folder: run, store, return it.

    Each worker stores its own replications, so the writes run in parallel instead of
    one after the other in the process that collects the results.
    """
    value = replicate(params, seed, replication, reps)
    store.save(scenario, config_hash, seed, replication, *value)
    return value


SCHEDULER_TIMEOUT = 10  # seconds to reach a Dask scheduler before saying it is not there


class SchedulerUnreachable(ValueError):
    """The Dask scheduler's address is wrong, or nothing answers there."""


def make_executor(
    workers: int | None = None, scheduler: str | None = None
) -> tuple[Executor | None, Callable[[], None]]:
    """A concurrent.futures executor (None for serial) and the function that closes it.

    ``scheduler`` is the address of a Dask distributed scheduler; its client's
    concurrent.futures executor runs the replications on the cluster.
    """
    if scheduler is not None:
        try:
            from distributed import Client
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise RuntimeError(
                "--scheduler needs Dask distributed: pip install 'flowsim[dask]'"
            ) from exc
        try:
            client = Client(scheduler, timeout=SCHEDULER_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            raise SchedulerUnreachable(
                f"cannot reach the Dask scheduler at {scheduler} within "
                f"{SCHEDULER_TIMEOUT} s ({exc}): is it running?"
            ) from None
        except ValueError as exc:
            raise SchedulerUnreachable(f"--scheduler {scheduler!r}: {exc}") from None
        log.info(f"running on the Dask scheduler at {scheduler}")
        return client.get_executor(), client.close
    n = workers if workers is not None else (os.cpu_count() or 1)
    if n <= 1:
        log.info("running in this process (one worker)")
        return None, lambda: None
    log.info(f"running on {n} worker processes")
    pool = ProcessPoolExecutor(max_workers=n, initializer=_worker_setup, initargs=(os.getpid(),))
    return pool, lambda: pool.shutdown(cancel_futures=True)


def _worker_setup(parent: int) -> None:
    """In each worker process: leave Ctrl-C to the parent, which stops the pool and
    says what was stored; and end when the parent is gone, whatever killed it (a
    SIGKILL gives it no chance to stop its pool, and orphaned workers would hold
    memory and the terminal for ever)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="flowsim-parent-watch", daemon=True).start()


def run_experiment(
    experiment: Experiment,
    out: Path | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    executor: Executor | None = None,
    progress: bool = True,
    while_running: Callable[[], object] | None = None,
) -> ExperimentRun:
    """Run every (scenario, replication) of ``experiment``, in parallel, resumably.

    Replication *r* gets child *r* of ``SeedSequence(experiment.seed)`` in every
    scenario (common random numbers), so results depend neither on the number of
    workers nor on the order they finish in.  With ``out``, each finished
    replication is stored at once under ``out/replications/``; a rerun into the same
    folder reuses every stored replication whose scenario config is unchanged and
    computes only the rest.  A process pool's workers store their own replications;
    any other executor (a Dask cluster's workers need not share this file system)
    hands them back to this process to store.

    ``while_running`` is called once in this process, with nothing in return, while
    the replications run in the executor (without one: before they run), e.g. to load
    what the caller needs after them while this process would only wait.
    """
    from tqdm.auto import tqdm  # only this process shows progress; workers never need it

    started = time.perf_counter()
    store = ReplicationStore(out / "replications") if out is not None else None
    reps = experiment.replications
    tasks = [(s, r) for s in experiment.scenarios for r in range(reps)]
    done: dict[tuple[str, int], Replicated] = {}
    hashes = {s.name: config_hash(s.params) for s in experiment.scenarios}
    if store is not None:
        for s, r in tasks:
            stored = store.load(s.name, hashes[s.name], experiment.seed, r)
            if stored is not None:
                done[(s.name, r)] = stored
    reused = len(done)
    pending = [(s, r) for s, r in tasks if (s.name, r) not in done]
    log.info(
        f"{experiment.name}: {len(experiment.scenarios)} scenario(s) x {reps} replication(s), "
        f"seed {experiment.seed}; {reused} stored in "
        f"{'no folder' if out is None else out / 'replications'} reused, {len(pending)} to compute"
    )

    def finished(s_name: str, r: int, value: Replicated, stored: bool = False) -> None:
        done[(s_name, r)] = value
        if store is not None and not stored:
            store.save(s_name, hashes[s_name], experiment.seed, r, *value)

    bar = tqdm(
        total=len(tasks),
        initial=reused,
        desc=experiment.name,
        unit="rep",
        disable=None if progress else True,
    )
    own_executor = executor is None
    close: Callable[[], None] = lambda: None  # noqa: E731
    if own_executor and pending:
        executor, close = make_executor(workers, scheduler)
    try:
        if executor is None:
            if while_running is not None:
                while_running()
            for s, r in pending:
                finished(s.name, r, replicate(s.params, experiment.seed, r, reps))
                bar.update()
        else:
            # A pool's workers run on this machine, so they can store what they compute.
            workers_store = store if isinstance(executor, ProcessPoolExecutor) else None
            futures: dict[Future[Replicated], tuple[str, int]] = {}
            for s, r in pending:
                if workers_store is not None:
                    future = executor.submit(
                        replicate_and_store,
                        workers_store,
                        s.name,
                        hashes[s.name],
                        s.params,
                        experiment.seed,
                        r,
                        reps,
                    )
                else:
                    future = executor.submit(replicate, s.params, experiment.seed, r, reps)
                futures[future] = (s.name, r)
            if while_running is not None:
                while_running()
            for future in as_completed(futures):
                s_name, r = futures[future]
                finished(s_name, r, future.result(), stored=workers_store is not None)
                bar.update()
    finally:
        bar.close()
        if own_executor:
            close()
    log.info(
        f"{experiment.name}: {len(pending)} replication(s) computed in "
        f"{time.perf_counter() - started:.1f} s"
    )
    per_rep, timeseries, customers = _assemble(experiment, done)
    return ExperimentRun(
        experiment=experiment,
        per_rep=per_rep,
        timeseries=timeseries,
        customers=customers,
        reused=reused,
        computed=len(pending),
        wall_time=time.perf_counter() - started,
    )


def _assemble(
    experiment: Experiment, done: dict[tuple[str, int], Replicated]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    rows, series, customers = [], [], []
    for s in experiment.scenarios:
        for r in range(experiment.replications):
            summary, ts, cust = done[(s.name, r)]
            rows.append({"scenario": s.name, "replication": r, **summary})
            series.append(ts.assign(scenario=s.name, replication=r))
            customers.append(cust.assign(scenario=s.name, replication=r))
    return (
        pd.DataFrame(rows),
        pd.concat(series, ignore_index=True),
        pd.concat(customers, ignore_index=True),
    )


def pilot_series(experiment: Experiment, series: str, reps: int) -> pd.DataFrame:
    """Daily ``series`` of the reference scenario, averaged over a pilot of ``reps``
    replications (for choosing the warm-up); columns ``day`` and ``series``."""
    ref = experiment.scenario(experiment.reference)
    pilot = [replicate(ref.params, experiment.seed, r, reps)[1] for r in range(reps)]
    if series not in pilot[0].columns:
        known = ", ".join(c for c in pilot[0].columns if c != "day")
        raise ValueError(f"warm-up series {series!r} is not a time-series column ({known})")
    mean = pd.concat([p[series] for p in pilot], axis=1).mean(axis=1)
    return pd.DataFrame({"day": pilot[0]["day"], series: mean})


def with_warmup(experiment: Experiment, weeks: float) -> Experiment:
    """The experiment with every scenario's warm-up set to ``weeks``.

    Raises
    ------
    ValueError
        When ``weeks`` is negative or not shorter than a scenario's horizon (the window
        would be empty or negative).
    """
    for s in experiment.scenarios:
        horizon = s.params.simulation.horizon_weeks
        if not 0 <= weeks < horizon:
            raise ValueError(
                f"warm-up of {weeks:g} weeks must be at least 0 and shorter than scenario "
                f"{s.name!r}'s horizon of {horizon:g} weeks"
            )
    scenarios = [
        replace(
            s,
            params=s.params.model_copy(
                update={
                    "simulation": s.params.simulation.model_copy(update={"warmup_weeks": weeks})
                }
            ),
        )
        for s in experiment.scenarios
    ]
    return replace(experiment, scenarios=scenarios, warmup=None)


def map_tasks(
    fn: Callable[..., T],
    tasks: list[tuple[Any, ...]],
    executor: Executor | None,
    bar: Any = None,
) -> list[T]:
    """``fn(*task)`` for every task, on ``executor`` (in this process if None), results
    in task order whatever order they finish in; ``bar.update()`` after each one."""
    if executor is None:
        out = []
        for task in tasks:
            out.append(fn(*task))
            if bar is not None:
                bar.update()
        return out
    futures = {executor.submit(fn, *task): k for k, task in enumerate(tasks)}
    results: list[Any] = [None] * len(tasks)
    for future in as_completed(futures):
        results[futures[future]] = future.result()
        if bar is not None:
            bar.update()
    return results
