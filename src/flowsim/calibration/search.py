"""The search: candidates proposed by optuna's TPE sampler, each run on common random
numbers, scored against the targets; then the best one confirmed on fresh seeds.

Why optuna: the objective is a noisy, expensive black box of a few bounded
parameters, which is what its Tree-structured Parzen Estimator is made for; it needs
no gradient, takes integer and log-scale parameters, and proposes a batch at once
(its *constant liar* spreads a batch out), which keeps the workers busy.  An ABC
library (pyabc, ELFI) would give a posterior, at many times the runs; the
uncertainty reported here is the profile range of the trials instead (below).

Reproducible and resumable: candidates are proposed in batches of a fixed size, by a
sampler whose seed depends only on the root seed and the batch number, from the
trials so far; every finished batch is stored at once.  So a rerun into the same
folder resumes where the last one stopped, the result is the same whether it was
interrupted or not, and it does not depend on the number of workers.

The objective is ``sum(weight * z**2)`` over the targets plus the priors' penalties,
where ``z`` is the distance of the mean over the replications from the target in the
observation's standard deviations (0 inside a range): minus twice the log-likelihood
of Gaussian observations, up to a constant.  Each parameter's uncertainty is the
range it spans over the trials whose objective is within 3.84 of the best (the 95%
point of chi-square with one degree of freedom): a profile-likelihood interval,
approximate in that it only sees the trials the search made.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from flowsim.calibration.observe import observe
from flowsim.config import config_hash
from flowsim.config.calibration import CalibrationSpec, FreeParam
from flowsim.model.streams import replication_seeds
from flowsim.runner import make_executor, map_tasks
from flowsim.storage import write_frame, write_text

PROFILE_DELTA = 3.84
"""Objective above the best that still counts as a plausible fit (chi-square(1), 95%)."""
MISSING_Z = 10.0
"""A target that no replication of a candidate could measure counts as this far off."""
TRIALS = "trials.csv"
SEARCH = "search.json"


@dataclass
class CalibrationRun:
    """A finished calibration: every trial, the best fit, and its confirmation."""

    spec: CalibrationSpec
    trials: pd.DataFrame  # one row per candidate: its values, objective and target means
    best: dict[str, float]  # the free keys' fitted values
    ranges: dict[str, tuple[float, float]]  # each key's profile range
    confirm: pd.DataFrame  # one row per fresh replication of the best fit: observables
    stability: pd.DataFrame | None  # the same over ``stability_weeks``, if asked
    reused: int  # trials read back from the folder
    computed: int  # trials run now
    wall_time: float


def spec_hash(spec: CalibrationSpec) -> str:
    """What a stored search depends on: the config, the targets and the free parameters."""
    data = {
        "config": config_hash(spec.params({})),
        "targets": spec.targets.model_dump(mode="json"),
        "free": spec.free.model_dump(mode="json"),
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def prior_penalty(free: list[FreeParam], values: dict[str, float]) -> float:
    return sum(
        ((values[f.key] - f.prior.mean) / f.prior.sd) ** 2 for f in free if f.prior is not None
    )


def objective(spec: CalibrationSpec, means: dict[str, float], values: dict[str, float]) -> float:
    """``sum(weight * z**2)`` over the targets, plus the priors' penalties."""
    total = 0.0
    for t in spec.targets.targets:
        z = t.z(means[t.name])
        total += t.weight * (MISSING_Z if not math.isfinite(z) else z) ** 2
    return total + prior_penalty(spec.free.free, values)


def profile_ranges(
    trials: pd.DataFrame, keys: list[str], delta: float = PROFILE_DELTA
) -> dict[str, tuple[float, float]]:
    """Each key's range over the trials within ``delta`` of the best objective."""
    near = trials[trials["objective"] <= trials["objective"].min() + delta]
    return {k: (float(near[k].min()), float(near[k].max())) for k in keys}


def _means(rows: list[dict[str, float]], names: list[str]) -> dict[str, float]:
    out = {}
    for name in names:
        values = np.array([r[name] for r in rows], dtype=float)
        finite = values[np.isfinite(values)]
        out[name] = float(finite.mean()) if len(finite) else float("nan")
    return out


def _batch_seed(seed: int, batch: int) -> int:
    return int(np.random.SeedSequence([seed, 1, batch]).generate_state(1)[0])


def _propose(
    spec: CalibrationSpec, trials: pd.DataFrame, batch: int, n: int
) -> list[dict[str, Any]]:
    """``n`` candidates from the sampler, given every trial so far."""
    import optuna
    from optuna.distributions import BaseDistribution, FloatDistribution, IntDistribution

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    dists: dict[str, BaseDistribution] = {}
    for f in spec.free.free:
        if f.integer:
            dists[f.key] = IntDistribution(round(f.low), round(f.high), log=f.log)
        else:
            dists[f.key] = FloatDistribution(f.low, f.high, log=f.log)
    sampler = optuna.samplers.TPESampler(
        seed=_batch_seed(spec.targets.seed, batch), n_startup_trials=spec.targets.startup_trials
    )
    study = optuna.create_study(direction="minimize", sampler=sampler)
    study.add_trials(
        [
            optuna.trial.create_trial(
                params={
                    k: int(row[k]) if isinstance(d, IntDistribution) else float(row[k])
                    for k, d in dists.items()
                },
                distributions=dists,
                value=float(row["objective"]),
            )
            for _, row in trials.iterrows()
        ]
    )
    return [study.ask(dists).params for _ in range(n)]


def _read_trials(folder: Path | None, digest: str) -> pd.DataFrame | None:
    if folder is None or not (folder / TRIALS).exists():
        return None
    stored = (
        json.loads((folder / SEARCH).read_text(encoding="utf-8"))
        if (folder / SEARCH).exists()
        else {}
    )
    if stored.get("spec_hash") != digest:
        raise ValueError(
            f"{folder} holds a calibration of another config, targets or free parameters: "
            "give another --out, or delete the folder to start again"
        )
    return pd.read_csv(folder / TRIALS)


def calibrate(
    spec: CalibrationSpec,
    budget: int,
    out: Path | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
) -> CalibrationRun:
    """Search for the free values that best reproduce the targets, then confirm the best.

    ``budget`` is the number of candidates (rounded up to whole batches).  With ``out``,
    trials are stored there after each batch, and a rerun resumes from them.
    """
    from tqdm.auto import tqdm

    started = time.perf_counter()
    ts = spec.targets
    names = [t.name for t in ts.targets]
    keys = [f.key for f in spec.free.free]
    digest = spec_hash(spec)
    trials = _read_trials(out, digest)
    if trials is None:
        trials = pd.DataFrame(columns=["trial", "batch", *keys, "objective", *names, "unstable"])
    reused = len(trials)
    if out is not None:
        write_text(out / SEARCH, json.dumps({"spec_hash": digest}, indent=2) + "\n")
    reps = ts.replications
    fit_seeds = replication_seeds(ts.seed, reps + ts.confirm_replications)
    seeds, fresh = fit_seeds[:reps], fit_seeds[reps:]
    batches = math.ceil(budget / ts.batch)
    todo = max(0, batches * ts.batch - len(trials))
    confirm_runs = ts.confirm_replications * (2 if ts.stability_weeks else 1)
    bar = tqdm(
        total=todo * reps + confirm_runs,
        desc=f"calibrate {ts.name}",
        unit="rep",
        disable=None if progress else True,
    )
    executor, close = make_executor(workers, scheduler)
    try:
        while len(trials) < batches * ts.batch:
            batch = len(trials) // ts.batch
            candidates = _propose(spec, trials, batch, ts.batch)
            params = [spec.params(c) for c in candidates]
            tasks = [(p, s, ts.targets) for p in params for s in seeds]
            results = map_tasks(observe, tasks, executor, bar)
            rows = []
            for k, values in enumerate(candidates):
                per_rep = results[k * reps : (k + 1) * reps]
                means = _means(per_rep, [*names, "unstable"])
                rows.append(
                    {
                        "trial": len(trials) + k,
                        "batch": batch,
                        **values,
                        "objective": objective(spec, means, values),
                        **means,
                    }
                )
            new = pd.DataFrame(rows)
            trials = new if trials.empty else pd.concat([trials, new], ignore_index=True)
            if out is not None:
                write_frame(out / TRIALS, trials)
        best_row = trials.loc[trials["objective"].idxmin()]
        # Rounded before it is confirmed, so the overlay written is what was confirmed.
        best = {
            f.key: int(best_row[f.key]) if f.integer else float(f"{best_row[f.key]:.3g}")
            for f in spec.free.free
        }
        confirm = pd.DataFrame(
            map_tasks(observe, [(spec.params(best), s, ts.targets) for s in fresh], executor, bar)
        )
        stability = None
        if ts.stability_weeks:
            long_run = spec.params(best, {"simulation.horizon_weeks": ts.stability_weeks})
            stability = pd.DataFrame(
                map_tasks(observe, [(long_run, s, ts.targets) for s in fresh], executor, bar)
            )
    finally:
        bar.close()
        close()
    return CalibrationRun(
        spec=spec,
        trials=trials.reset_index(drop=True),
        best=best,
        ranges=profile_ranges(trials, keys),
        confirm=confirm,
        stability=stability,
        reused=reused,
        computed=len(trials) - reused,
        wall_time=time.perf_counter() - started,
    )
