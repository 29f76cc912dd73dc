"""Running one replication and turning what it recorded into tidy frames and summary metrics."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from flowsim.model.catalogue import metric_names
from flowsim.model.company import Company
from flowsim.model.params import Params
from flowsim.model.state import StartState


@dataclass
class Result:
    """The outcome of one replication.

    Attributes
    ----------
    params : Params
        The resolved parameters the run used.
    seed : int or SeedSequence
        The seed (or replication seed sequence) it ran with.
    events : pandas.DataFrame
        One row per state change: ``time`` (clock hours), ``day``, ``entity``,
        ``kind``, ``event``, ``actor``, ``customer``.  Empty when the event log is off.
    timeseries : pandas.DataFrame
        Daily levels: WIP, queues, health mix, ARR, ...
    summary : pandas.Series
        The summary metrics, warm-up excluded (see ``flowsim.model.catalogue.METRICS``).
    customers : pandas.DataFrame
        One row per customer: when signed, onboarded, live, left, and why.
    conservation : dict
        Work items by final state; ``arrived`` equals the sum of the states.
    """

    params: Params
    seed: object
    events: pd.DataFrame
    timeseries: pd.DataFrame
    summary: pd.Series
    customers: pd.DataFrame
    conservation: dict[str, int] = field(default_factory=dict)
    lead_hours: dict[str, float] = field(default_factory=dict)
    """The lead's hours by activity over the whole run (warm-up included); they add
    up to his capacity over the horizon."""
    outcomes: pd.DataFrame | None = None
    """With a starting state: what became of each of its customers and items (see
    ``flowsim.model.start.OUTCOME_COLUMNS``); ``None`` without one."""


def simulate(
    params: Params,
    seed: int | np.random.SeedSequence | None = None,
    state: StartState | None = None,
) -> Result:
    """Run one replication of ``params``, from an empty backlog or from ``state``.

        Parameters
        ----------
        params : Params
            A validated configuration (see ``flowsim.load_config``).
        seed : int or numpy.random.SeedSequence, optional
            Root seed; defaults to ``params.simulation.seed``.  The same parameters and
            seed give the same event log, bit for bit.
        state : StartState, optional
            The open work to start from (see ``flowsim.model.state``); without it, the
            config's ``customers.initial_live`` and an empty backlog.

        Examples
        --------
        >>> from flowsim.model.params import Params
    from flowsim.model.state import StartState
        >>> res = simulate(Params(), seed=1)
        >>> int(res.summary["go_lives"]) >= 0
        True
    """
    if seed is None:
        seed = params.simulation.seed
    company = Company(params, seed, state)
    company.run()
    return collect(company, seed)


def collect(company: Company, seed: object) -> Result:
    """The tidy frames and summary of a company that has run."""
    params = company.p
    metrics = company.metrics()
    order = metric_names(list(params.tickets.classes))
    return Result(
        params=params,
        seed=seed,
        events=events_frame(company),
        timeseries=company.timeseries(),
        summary=pd.Series({name: metrics[name] for name in order}, dtype=float),
        customers=company.customers.frame(company.cal),
        conservation=company.conservation(),
        lead_hours=dict(company.lead.book.total),
        outcomes=None if company.started is None else company.started.outcomes(),
    )


def events_frame(company: Company) -> pd.DataFrame:
    return company.log.frame(company.cal.day)
