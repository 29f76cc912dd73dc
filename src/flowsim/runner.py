"""Replications of one configuration: independent seeds from one root, results gathered."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from flowsim.model.params import Params
from flowsim.model.results import Result, simulate
from flowsim.model.streams import replication_seeds


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
