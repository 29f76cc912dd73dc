"""What a run remembers: the event log, windowed hour books and time-weighted levels.

Everything here is append-only and cheap on the hot path; tidy frames are built
once, after the run.
"""

from __future__ import annotations

from array import array
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from itertools import chain
from struct import error as StructError
from struct import pack
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


class Window:
    """The steady-state window [warmup, horizon] in clock hours."""

    __slots__ = ("start", "end")

    def __init__(self, start: float, end: float) -> None:
        self.start = start
        self.end = end

    def overlap(self, t0: float, t1: float) -> float:
        """Length of [t0, t1] inside the window."""
        lo = t0 if t0 > self.start else self.start
        hi = t1 if t1 < self.end else self.end
        return hi - lo if hi > lo else 0.0

    def __contains__(self, t: float) -> bool:
        return self.start <= t <= self.end


class HourBook:
    """Hours booked by activity over the whole run, with a snapshot at the window start.

    Hours inside the window are the totals at the end less the snapshot taken when
    the warm-up ends; whoever books must split a segment that spans that instant
    (see ``Company._end_warmup``).
    """

    def __init__(self, speed: float) -> None:
        self.speed = speed  # person-hours per clock hour
        self.total: dict[str, float] = defaultdict(float)
        self.at_window_start: dict[str, float] = {}

    def book(self, activity: str, t0: float, t1: float, share: float = 1.0) -> None:
        if t1 > t0:
            self.total[activity] += (t1 - t0) * self.speed * share

    def snapshot(self) -> None:
        self.at_window_start = dict(self.total)

    @property
    def in_window(self) -> dict[str, float]:
        return {k: v - self.at_window_start.get(k, 0.0) for k, v in self.total.items()}


class Level:
    """A piecewise-constant quantity integrated over time (time-weighted mean)."""

    __slots__ = ("value", "since", "area", "area_at_window_start", "window_start")

    def __init__(self, value: float = 0.0) -> None:
        self.value = value
        self.since = 0.0
        self.area = 0.0
        self.area_at_window_start = 0.0
        self.window_start = 0.0

    def set(self, now: float, value: float) -> None:
        self.area += (now - self.since) * self.value
        self.since = now
        self.value = value

    def add(self, now: float, delta: float) -> None:
        self.area += (now - self.since) * self.value
        self.since = now
        self.value += delta

    def snapshot(self, now: float) -> None:
        """Mark the window start: the warm-up's area is left out of the mean."""
        self.add(now, 0.0)
        self.area_at_window_start = self.area
        self.window_start = now

    def window_mean(self, now: float) -> float:
        """Time-weighted mean from the snapshot to ``now`` (the end of the run)."""
        self.add(now, 0.0)
        length = now - self.window_start
        return (self.area - self.area_at_window_start) / length if length > 0 else float("nan")


CHUNK = 512
"""Values a :class:`Column` gathers in its list before :meth:`Column.settle` moves them."""


class Column:
    """Numbers appended one at a time on the hot path, kept compact.

    A typed ``array`` keeps 8 bytes a value where a list keeps an object, but each
    ``array.append`` parses its value against the type code, and a long array grows in
    small steps, copying itself each time: on a long run that costs about twice a
    list's append.  So values land in a short list (``append`` is the list's own
    method) and :meth:`settle`, called off the hot path (the company's weekly clock),
    moves them into typed chunks once there are :data:`CHUNK` of them.  Reading a
    column (``len``, iteration, :meth:`to_numpy`) sees every value, settled or not.

    ``pending`` stays the same list for the column's life, so the hottest paths keep
    it and call ``pending.append(value)``: Python 3.11 specialises a method called on
    a list, but not a bound method kept as an attribute (``column.append(value)``),
    which costs about half as much again.
    """

    __slots__ = ("typecode", "chunks", "pending", "append", "settled")

    def __init__(self, typecode: str) -> None:
        self.typecode = typecode  # an ``array`` type code: "d" float; "q", "H", "b" integer
        self.chunks: list[array[Any]] = []
        self.pending: list[Any] = []
        self.append = self.pending.append
        self.settled = 0

    def settle(self) -> None:
        """Move the pending values into a typed chunk, once there are enough.

        ``struct.pack`` converts them a third as fast as ``array(typecode, values)``
        (which parses each value against its type code), and refuses a value of the
        wrong type as ``array`` does (a float in an integer column).
        """
        pending = self.pending
        n = len(pending)
        if n >= CHUNK:
            try:
                chunk = array(self.typecode, pack(f"{n}{self.typecode}", *pending))
            except StructError as e:  # as ``array`` would say it
                raise TypeError(f"a value does not fit column type {self.typecode!r}: {e}") from e
            pending.clear()  # the same list: ``append`` stays bound to it
            self.chunks.append(chunk)
            self.settled += n

    def __len__(self) -> int:
        return self.settled + len(self.pending)

    def __iter__(self) -> Iterator[Any]:
        return chain(*self.chunks, self.pending)

    def to_numpy(self) -> np.ndarray:
        """Every value, in order, as one numpy array of the column's type."""
        import numpy as np

        dtype = np.dtype(self.typecode)
        parts = [*self.chunks, array(self.typecode, self.pending)]
        return np.concatenate(
            [np.zeros(0, dtype), *(np.frombuffer(p, dtype=dtype) for p in parts if len(p))]
        )


def settle(columns: Sequence[Column]) -> None:
    """Settle each column (the weekly clock's last step)."""
    for column in columns:
        column.settle()


class CountTrace:
    """A count that rises and falls by one, recorded as the times of its changes and
    integrated after the run (a time-weighted mean without work on every change).

    :meth:`window_mean` replays the changes in time order with the same floating-point
    operations as :class:`Level` would have done on each change (a change at the same
    instant as another adds exactly zero), so the result is the same to the last bit.
    """

    __slots__ = ("rises", "falls", "rise", "fall", "columns")

    def __init__(self) -> None:
        self.rises = Column("d")
        self.falls = Column("d")
        self.rise = self.rises.append  # call with the time of a +1
        self.fall = self.falls.append  # call with the time of a -1
        self.columns = (self.rises, self.falls)

    def window_mean(self, start: float, end: float) -> float:
        """Time-weighted mean over ``[start, end]``."""
        import numpy as np

        rises = self.rises.to_numpy()
        falls = self.falls.to_numpy()
        times = np.concatenate([rises, falls, [start, end]])
        deltas = np.concatenate([np.ones(len(rises)), -np.ones(len(falls)), [0.0, 0.0]])
        order = np.argsort(times, kind="stable")
        times, deltas = times[order], deltas[order]
        values = np.concatenate([[0.0], np.cumsum(deltas)[:-1]])  # before each change
        since = np.concatenate([[0.0], times[:-1]])
        area = np.cumsum((times - since) * values)  # sequential, as a running sum
        n = len(rises) + len(falls)  # the start and end operations come after the changes
        at_start = area[np.flatnonzero(order == n)[0]]
        at_end = area[np.flatnonzero(order == n + 1)[0]]
        length = end - start
        return float((at_end - at_start) / length) if length > 0 else float("nan")


class Columns:
    """Named records kept as typed columns (:class:`Column`), appended field by field:
    compact where a run keeps one record per ticket.  ``types`` maps each name to an
    ``array`` type code (``"d"`` float, ``"q"`` integer, ``"b"`` small integer code)."""

    def __init__(self, **types: str) -> None:
        self.columns = {name: Column(code) for name, code in types.items()}

    def __getitem__(self, name: str) -> Column:
        return self.columns[name]

    def __len__(self) -> int:
        return len(next(iter(self.columns.values())))


class Table:
    """Named records appended as plain tuples on the hot path, read by column name after.

    ``append`` is the list's own method, so recording a row costs one tuple; the
    names say what each position means, and :meth:`column` and :meth:`frame` read
    them back by name.

    A name may be a tuple of names: that field of a row is itself a tuple of those
    columns (a group of values taken together, which a row may share with others).

    ``spread`` names the last columns and the key of ``source`` (a mapping) each
    reads: a row records them as one tuple, its last field, of the mapping's values
    at that moment (a tuple of values is cheaper to make and keep than a copy of the
    mapping).  The mapping only ever gains keys, in insertion order, so a row's
    values belong to its first keys; a key a row lacks reads 0.0.
    """

    __slots__ = ("names", "rows", "append", "spread", "source", "_fields")

    def __init__(
        self,
        *names: str | tuple[str, ...],
        spread: Mapping[str, str] | None = None,
        source: Mapping[str, float] | None = None,
    ) -> None:
        flat = [n for name in names for n in ((name,) if isinstance(name, str) else name)]
        self.names = (*flat, *(spread or {}))
        self.spread = dict(spread or {})
        self.source = source if source is not None else {}
        # Each column's place in a row: (field, index within a group or None).
        self._fields = {
            n: (i, None) if isinstance(name, str) else (i, j)
            for i, name in enumerate(names)
            for j, n in enumerate((name,) if isinstance(name, str) else name)
        }
        self.rows: list[Any] = []  # tuples (lists where a record is updated later)
        self.append = self.rows.append

    def __len__(self) -> int:
        return len(self.rows)

    def _mappings(self) -> list[dict[str, float]]:
        keys = tuple(self.source)
        return [dict(zip(keys, row[-1], strict=False)) for row in self.rows]

    def column(self, name: str) -> list[Any]:
        key = self.spread.get(name)
        if key is not None:
            return [values.get(key, 0.0) for values in self._mappings()]
        i, j = self._fields[name]
        if j is None:
            return [row[i] for row in self.rows]
        return [row[i][j] for row in self.rows]

    def frame(self) -> pd.DataFrame:
        import pandas as pd

        rows = self.rows
        groups = {i for i, j in self._fields.values() if j is not None}
        for g in sorted(groups, reverse=True):  # from the last, so earlier places hold
            rows = [(*row[:g], *row[g], *row[g + 1 :]) for row in rows]
        if self.spread:
            keys = tuple(self.spread.values())
            zeros = (0.0,) * len(keys)
            rows = [
                (*row[:-1], *map(values.get, keys, zeros))
                for row, values in zip(rows, self._mappings(), strict=True)
            ]
        return pd.DataFrame(rows, columns=list(self.names))


def percentile_or_nan(values: Sequence[float], q: float) -> float:
    """The q-th percentile of ``values`` (numpy's default method), NaN when there are none."""
    import numpy as np

    return float(np.percentile(values, q)) if len(values) else float("nan")


def mean_or_nan(values: Sequence[float]) -> float:
    """The mean of ``values``, NaN when there are none."""
    import numpy as np

    return float(np.mean(values)) if len(values) else float("nan")
