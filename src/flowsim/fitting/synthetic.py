"""A tracker's table of work items made from a simulation's event log: data whose true
config is known, to check that a fit recovers it (and to backtest forecasts).

Each ticket, onboarding task and ask of the log becomes one row, in the table
``flowsim import`` makes: its class (tickets), customer, when it arrived, first
started and was finished (a ticket closed as stale counts as finished then, as a
tracker would close it), and who worked on it last ("Lead Engineer", or
"Contractor 1", ...).  Clock hours become dates by the model's calendar: working
day ``d`` is the ``d``-th weekday after ``start_date``, and its fraction is the
fraction of that calendar day (the inverse of
:func:`flowsim.model.calendar.working_days`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from flowsim.data.items import COLUMNS
from flowsim.model.calendar import working_time
from flowsim.model.results import Result

KIND = {"ticket": "ticket", "task": "onboarding", "ask": "ask"}
LEAD_NAME = "Lead Engineer"


def _person(actor: str) -> str | None:
    if actor == "lead":
        return LEAD_NAME
    if actor.startswith("contractor"):
        return f"Contractor {actor[len('contractor') :]}"
    if actor.startswith(("engineer", "support")):
        return actor.capitalize()
    return None


def _stamps(days: np.ndarray, start_date: str) -> pd.Series:
    out = []
    for d in days:
        if not np.isfinite(d):
            out.append(pd.NaT)
            continue
        out.append(pd.Timestamp(working_time(start_date, float(d))))
    return pd.Series(out, dtype="datetime64[ns, UTC]")


def items_from_result(
    result: Result, start_date: str = "2025-01-06", since_day: float = 0.0
) -> pd.DataFrame:
    """The work items of ``result``'s event log as ``flowsim import``'s table.

    ``since_day``: leave out items that arrived before this working day (e.g. the
    warm-up), as an export of the last year of a running company would.  Needs a
    run with ``simulation.event_log`` on.
    """
    ev = result.events
    if ev.empty:
        raise ValueError("the run kept no event log (simulation.event_log is off)")
    ev = ev[ev["kind"].astype(str).isin(list(KIND))]
    ev = ev.assign(
        kind=ev["kind"].astype(str), event=ev["event"].astype(str), actor=ev["actor"].astype(str)
    )
    arrive = ev[ev["event"] == "arrive"].drop_duplicates("entity").set_index("entity")
    start = ev[ev["event"] == "start"].groupby("entity")["day"].min()
    worker = ev[(ev["event"] == "start")].groupby("entity")["actor"].last()
    finish = ev[ev["event"].isin(["done", "dropped"])].groupby("entity")["day"].max()
    arrive = arrive[arrive["day"] >= since_day]
    ids = arrive.index.to_numpy()
    kinds = arrive["kind"].map(KIND).to_numpy()
    classes = [a if k == "ticket" else None for k, a in zip(kinds, arrive["actor"], strict=True)]
    customers = [None if c < 0 else f"customer{c}" for c in arrive["customer"]]
    started = start.reindex(ids).to_numpy(dtype=float)
    done = finish.reindex(ids).to_numpy(dtype=float)
    done = np.where(np.isfinite(started), done, np.nan)  # never started: not done
    frame = pd.DataFrame(
        {
            "id": pd.array([f"SIM-{i}" for i in ids], dtype="string"),
            "kind": pd.array(kinds, dtype="string"),
            "class": pd.array(classes, dtype="string"),
            "customer": pd.array(customers, dtype="string"),
            "created": _stamps(arrive["day"].to_numpy(dtype=float), start_date),
            "started": _stamps(started, start_date),
            "done": _stamps(done, start_date),
            "assignee": pd.array([_person(str(worker.get(i, ""))) for i in ids], dtype="string"),
            "blocked_hours": np.full(len(ids), np.nan),
            "source_row": np.arange(2, len(ids) + 2, dtype="int64"),
        }
    )
    frame = frame.sort_values("created", kind="stable").reset_index(drop=True)
    return frame[list(COLUMNS)]
