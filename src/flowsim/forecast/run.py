"""Monte Carlo forecasts: the company run forward from its open work, under each policy.

Every scenario meets the same replications' seeds, so the same customers raise the
same tickets with the same efforts, and the state's open work has the same efforts,
under every policy (common random numbers): differences between policies are paired.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from flowsim.model.calendar import DAYS_PER_WEEK, working_date
from flowsim.model.params import Params
from flowsim.model.results import simulate
from flowsim.model.start import check_ticket_classes
from flowsim.model.state import StartState
from flowsim.model.streams import replication_seeds
from flowsim.runner import make_executor, map_tasks

log = logging.getLogger("flowsim")
DEFAULT_REPLICATIONS = 200
DEFAULT_HORIZON_WEEKS = 52
COUNTED = ("went_live", "tickets_closed")
"""The daily series a forecast keeps: cumulative go-lives and tickets closed since the start."""


@dataclass
class Forecast:
    """Replications of each scenario from one starting state.

    ``outcomes`` has one row per scenario, replication and state entry (a customer
    onboarding or signed, or an open item): ``end`` (``live``, ``done``, ``dropped``,
    ``churned``, ``lost``, ``open``) and ``day``, working days from the state's date.
    ``daily`` has the cumulative counts of :data:`COUNTED` at the start of each
    working day, by scenario and replication.
    """

    state: StartState
    scenarios: list[str]
    replications: int
    seed: int
    horizon_days: float
    outcomes: pd.DataFrame
    daily: pd.DataFrame
    wall_time: float = math.nan

    def date(self, day: float) -> np.datetime64:
        """The calendar date ``day`` working days after the state's date."""
        return working_date(self.state.as_of, day)


def forecast_params(params: Params, horizon_weeks: float) -> Params:
    """``params`` as a forecast runs them: from time 0 (no warm-up) for ``horizon_weeks``,
    without the event log (a forecast reads only the state's outcomes and two series)."""
    sim = params.simulation.model_copy(
        update={"horizon_weeks": horizon_weeks, "warmup_weeks": 0, "event_log": False}
    )
    return params.model_copy(update={"simulation": sim})


def one_forecast(
    params: Params, seed: np.random.SeedSequence, state: StartState
) -> tuple[pd.DataFrame, np.ndarray]:
    """One replication for a worker: the state's outcomes and the counted series."""
    result = simulate(params, seed, state)
    assert result.outcomes is not None
    series = result.timeseries[["day", *COUNTED]].to_numpy(dtype=float)
    return result.outcomes, series


def forecast(
    scenarios: dict[str, Params],
    state: StartState,
    replications: int = DEFAULT_REPLICATIONS,
    seed: int | None = None,
    horizon_weeks: float = DEFAULT_HORIZON_WEEKS,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = False,
) -> Forecast:
    """Run every scenario ``replications`` times from ``state`` for ``horizon_weeks``.

    Parameters
    ----------
    scenarios : dict of str to Params
        The company under each policy, by name; the first is the reference.
    seed : int, optional
        Root of the replications' seeds (default: the first scenario's
        ``simulation.seed``); replication ``r`` of every scenario has the same seed.
    """
    if not scenarios:
        raise ValueError("a forecast needs at least one scenario")
    names = list(scenarios)
    for params in scenarios.values():
        check_ticket_classes(state, params)  # before any worker starts
    if seed is None:
        seed = scenarios[names[0]].simulation.seed
    seeds = replication_seeds(seed, replications)
    log.info(
        f"forecast from {state.as_of}: {len(names)} scenario(s) x {replications} replications "
        f"of {horizon_weeks:g} weeks, seed {seed}; {state.open_items} open items, "
        f"{len(state.live)} live, {len(state.onboarding)} onboarding"
    )
    runs = {name: forecast_params(p, horizon_weeks) for name, p in scenarios.items()}
    tasks = [(runs[name], s, state) for name in names for s in seeds]
    from tqdm.auto import tqdm

    started = time.perf_counter()
    bar = tqdm(total=len(tasks), desc="forecast", unit="rep", disable=None if progress else True)
    executor, close = make_executor(workers, scheduler)
    try:
        results = map_tasks(one_forecast, tasks, executor, bar)
    finally:
        close()
        bar.close()
    outcome_frames, daily_frames = [], []
    for k, (outcomes, series) in enumerate(results):
        name, rep = names[k // replications], k % replications
        outcome_frames.append(outcomes.assign(scenario=name, replication=rep))
        daily = pd.DataFrame(series, columns=["day", *COUNTED])
        daily_frames.append(daily.assign(scenario=name, replication=rep))
    return Forecast(
        state=state,
        scenarios=names,
        replications=replications,
        seed=seed,
        horizon_days=horizon_weeks * DAYS_PER_WEEK,
        outcomes=_first(pd.concat(outcome_frames, ignore_index=True)),
        daily=_first(pd.concat(daily_frames, ignore_index=True)),
        wall_time=time.perf_counter() - started,
    )


def _first(frame: pd.DataFrame) -> pd.DataFrame:
    """Scenario and replication as the first columns."""
    lead = ["scenario", "replication"]
    return frame[[*lead, *(c for c in frame.columns if c not in lead)]]
