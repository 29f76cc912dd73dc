"""The event log: one row per state change, kept compact while the model runs.

A row is its time, its entity and the code of its ``(kind, event, actor)`` triple,
each in a column of its own; each triple is interned once.  A row's customer is not
stored: an item's customer is recorded once, in its arrive row, a customer's own
rows name it as the entity, and a person's ``joined`` row has none.  An arrive row's
entity field holds the item's customer plus one (0: none), since the item is known
from the row's rank: the ledger numbers items in the order they arrive, and writes
one arrive row for each.  Recording a row costs three appends of objects that
already exist to compact columns (:class:`~flowsim.model.recorder.Column`) and keeps
18 bytes, not a tuple of Python objects; :meth:`EventLog.frame` expands the columns
into the tidy frame after the run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowsim.model.entities import ACTIVITY
from flowsim.model.recorder import Column

if TYPE_CHECKING:
    import pandas as pd

EVENT_COLUMNS = ("time", "day", "entity", "kind", "event", "actor", "customer")
MAX_CODES = 1 << 16
"""Distinct ``(kind, event, actor)`` triples a log can hold (its codes are 16-bit)."""


class EventLog:
    """The run's event log; with ``enabled`` False it keeps nothing.

    The hot paths write rows themselves, appending to the columns' pending lists
    (``times.pending``, ``entities.pending``, for an arrive row the customer plus one,
    and ``codes.pending``), with the codes they need looked up once (:meth:`code`, or
    :attr:`lead_start` and :attr:`lead_done` by kind).
    """

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.times = Column("d")
        self.entities = Column("q")
        self.codes = Column("H")
        self.columns = (self.times, self.entities, self.codes)
        self.triples: list[tuple[str, str, str]] = []
        self._codes: dict[tuple[str, str, str], int] = {}
        self.lead_start = {kind: self.code(kind, "start", "lead") for kind in ACTIVITY}
        self.lead_done = {kind: self.code(kind, "done", "lead") for kind in ACTIVITY}
        if not enabled:
            self.add = self._skip  # type: ignore[method-assign,assignment]

    def code(self, kind: str, event: str, actor: str) -> int:
        """The code of a ``(kind, event, actor)`` triple (interned on first use)."""
        triple = (kind, event, actor)
        code = self._codes.get(triple)
        if code is None:
            code = self._codes[triple] = len(self.triples)
            if code >= MAX_CODES:
                raise OverflowError("more distinct kinds of row than the log's codes can hold")
            self.triples.append(triple)
        return code

    def add(self, time: float, entity: int, kind: str, event: str, actor: str) -> None:
        """Record a row (off the hot paths)."""
        self.times.append(time)
        self.entities.append(entity)
        self.codes.append(self.code(kind, event, actor))

    def _skip(self, *args: object) -> None:
        pass

    def frame(self, hours_per_day: float) -> pd.DataFrame:
        """The tidy event log: one row per state change, in the order they happened."""
        import numpy as np
        import pandas as pd

        if not len(self.times):
            df = pd.DataFrame([], columns=[c for c in EVENT_COLUMNS if c != "day"])
            df.insert(1, "day", df["time"] / hours_per_day)
            for col in ("kind", "event", "actor"):
                df[col] = df[col].astype("category")
            return df
        times = self.times.to_numpy()
        entity = self.entities.to_numpy()
        code = self.codes.to_numpy()
        columns = zip(*self.triples, strict=True)
        kind, event, actor = (np.array(col, dtype=object)[code] for col in columns)
        # Arrive rows: the item is the row's rank; the entity field held its customer.
        arrives = np.array([e == "arrive" for _, e, _ in self.triples])[code]
        owners = entity[arrives] - 1
        entity[arrives] = np.arange(len(owners))
        if not len(owners):
            owners = np.zeros(1, dtype=np.int64)
        is_item = (entity >= 0) & (kind != "customer")
        customer = np.where(
            kind == "customer", entity, np.where(is_item, owners[np.where(is_item, entity, 0)], -1)
        )
        df = pd.DataFrame(
            {
                "time": times,
                "day": times / hours_per_day,
                "entity": entity,
                "kind": kind,
                "event": event,
                "actor": actor,
                "customer": customer,
            }
        )
        for col in ("kind", "event", "actor"):
            df[col] = df[col].astype("str").astype("category")
        return df
