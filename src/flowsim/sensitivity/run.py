"""Every scenario of an experiment at every point of the assumption space, on common
random numbers, stored batch by batch so that an interrupted study resumes.

Replication *r* gets the same seed at every point and in every scenario, so a
difference between two points, or between a policy and the reference at one point,
is not blurred by different arrivals.  The points are fixed by the method, the number
of samples and the seed; they are run in batches of ``batch`` points, each stored at
once in ``runs.parquet``, so a rerun into the same folder computes only the points not
stored yet, and the result depends neither on the interruption nor on the workers.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from flowsim.config import config_hash
from flowsim.config.sensitivity import SensitivityDesign
from flowsim.model.params import Params
from flowsim.model.results import simulate
from flowsim.model.streams import replication_seeds
from flowsim.runner import make_executor, map_tasks
from flowsim.sensitivity.design import point_values, unit_points
from flowsim.storage import write_frame, write_text

RUNS = "runs.parquet"
STATE = "sensitivity.json"


@dataclass
class SensitivityRun:
    """A finished study: the points, and every (point, scenario, replication)'s metrics."""

    design: SensitivityDesign
    units: np.ndarray  # the points on the unit cube, as SALib drew them
    values: pd.DataFrame  # the points in the assumptions' own units
    runs: pd.DataFrame  # point, scenario, replication and every summary metric
    reused: int  # points read back from the folder
    computed: int  # points run now
    wall_time: float


def design_hash(design: SensitivityDesign) -> str:
    """What the stored runs depend on: each scenario's config, the assumptions, the
    points and the replications (not the metrics or the verdicts, computed after)."""
    spec = design.spec
    data = {
        "scenarios": {s.name: config_hash(s.params) for s in design.experiment.scenarios},
        "assumptions": [a.model_dump(mode="json") for a in spec.assumptions],
        "method": spec.method,
        "samples": spec.samples,
        "levels": spec.levels,
        "replications": spec.replications,
        "seed": design.seed,
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def summarise(params: Params, seed: np.random.SeedSequence) -> dict[str, float]:
    """One replication for a worker: its summary metrics only."""
    return {k: float(v) for k, v in simulate(params, seed=seed).summary.items()}


def _read_runs(folder: Path | None, digest: str) -> pd.DataFrame | None:
    if folder is None or not (folder / RUNS).exists():
        return None
    state = folder / STATE
    stored = json.loads(state.read_text(encoding="utf-8")) if state.exists() else {}
    if stored.get("design_hash") != digest:
        raise ValueError(
            f"{folder} holds another sensitivity study (other scenarios, assumptions, "
            "points or replications): give another --out, or delete the folder to start again"
        )
    return pd.read_parquet(folder / RUNS)


def run_sensitivity(
    design: SensitivityDesign,
    out: Path | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
) -> SensitivityRun:
    """Run every scenario at every point, resumably; see the module's docstring."""
    from tqdm.auto import tqdm

    started = time.perf_counter()
    spec = design.spec
    units = unit_points(design)
    values = point_values(design, units)
    digest = design_hash(design)
    runs = _read_runs(out, digest)
    done = set() if runs is None else set(runs["point"].unique())
    reused = len(done)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        write_text(out / STATE, json.dumps({"design_hash": digest}, indent=2) + "\n")
    todo = [p for p in range(len(values)) if p not in done]
    scenarios = design.experiment.scenarios
    reps = spec.replications
    seeds = replication_seeds(design.seed, reps)
    bar = tqdm(
        total=len(values) * len(scenarios) * reps,
        initial=reused * len(scenarios) * reps,
        desc=f"sensitivity {spec.name}",
        unit="rep",
        disable=None if progress else True,
    )
    executor, close = make_executor(workers, scheduler)
    try:
        for b in range(math.ceil(len(todo) / spec.batch)):
            batch = todo[b * spec.batch : (b + 1) * spec.batch]
            keys = [(p, s.name, r) for p in batch for s in scenarios for r in range(reps)]
            configs = {
                (p, s.name): design.params(s.params, values.iloc[p].to_dict())
                for p in batch
                for s in scenarios
            }
            tasks = [(configs[(p, s)], seeds[r]) for p, s, r in keys]
            results = map_tasks(summarise, tasks, executor, bar)
            new = pd.DataFrame(
                [
                    {"point": p, "scenario": s, "replication": r, **summary}
                    for (p, s, r), summary in zip(keys, results, strict=True)
                ]
            )
            runs = new if runs is None else pd.concat([runs, new], ignore_index=True)
            if out is not None:
                write_frame(out / RUNS, runs)
    finally:
        bar.close()
        close()
    assert runs is not None
    order = {s.name: k for k, s in enumerate(scenarios)}
    runs = runs.sort_values(
        ["point", "scenario", "replication"],
        key=lambda c: c.map(order) if c.name == "scenario" else c,
    ).reset_index(drop=True)
    return SensitivityRun(
        design=design,
        units=units,
        values=values,
        runs=runs,
        reused=reused,
        computed=len(todo),
        wall_time=time.perf_counter() - started,
    )
