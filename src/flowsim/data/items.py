"""The tidy table of work items that every importer produces, and its checks.

One row per work item, with these columns (see docs/data.md):

==============  =======================  ==============================================
column          dtype                    meaning
==============  =======================  ==============================================
id              string                   the tracker's id, unique
kind            string                   ``ticket``, ``onboarding`` or ``ask``
class           string or missing        a ticket's class: ``urgent``, ``normal``, ``how_to``
customer        string or missing        the customer it is for
created         datetime64[ns, UTC]      when it was raised
started         datetime64[ns, UTC]      when work began; NaT if never or unknown
done            datetime64[ns, UTC]      when it was finished; NaT while it is open
assignee        string or missing        who holds it
blocked_hours   float64                  hours it spent blocked; NaN where unknown
source_row      int64                    where it is in the export (a CSV row counting
                                         the header as row 1, or a Trello card's place)
==============  =======================  ==============================================

The kinds are MODEL.md's work: support tickets from live customers, onboarding
tasks of a customer being onboarded, and asks (any other request to the lead).
The ticket classes are spelt as the model's ticket classes are.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

import pandas as pd

from flowsim.config.errors import ConfigError, did_you_mean, show
from flowsim.model.mechanisms.tickets import TicketClassName

KINDS: tuple[str, ...] = ("ticket", "onboarding", "ask")
CLASSES: tuple[str, ...] = get_args(TicketClassName)
TIME = "datetime64[ns, UTC]"
COLUMNS: dict[str, str] = {
    "id": "string",
    "kind": "string",
    "class": "string",
    "customer": "string",
    "created": TIME,
    "started": TIME,
    "done": TIME,
    "assignee": "string",
    "blocked_hours": "float64",
    "source_row": "int64",
}
TIMES = ("created", "started", "done")
HEADER_NOTE = "counting the header as row 1"

Where = Callable[[int], str]
"""Names a ``source_row`` the way a user finds it in the export, e.g. ``row 7``."""


def csv_row(source_row: int) -> str:
    """Where a CSV row is, as a spreadsheet shows it."""
    return f"row {source_row} ({HEADER_NOTE})"


class DataError(ConfigError):
    """An export cannot be read: the message names the file, where in it, and the column.

    It reads ``<file>: <where>, column '<column>': <what was expected and found>``
    and is a :class:`ConfigError`, so the command line reports it as one line.

    Parameters
    ----------
    detail : str
        What was expected and what was found.
    source : str
        The export file.
    where : str, optional
        The row, card or action, e.g. ``row 7 (counting the header as row 1)``.
    column : str or sequence of str, optional
        The column (or JSON field) at fault, e.g. ``created``, or several.
    noun : str
        What a column is called in this kind of export: ``column``, or ``field``.
    """

    def __init__(
        self,
        detail: str,
        *,
        source: str,
        where: str | None = None,
        column: str | Sequence[str] | None = None,
        noun: str = "column",
    ) -> None:
        self.where = where
        self.columns = [column] if isinstance(column, str) else list(column or [])
        names = " and ".join(repr(c) for c in self.columns)
        named = f"{noun}{'s' if len(self.columns) > 1 else ''} {names}" if names else None
        place = ", ".join(p for p in (where, named) if p)
        super().__init__(f"{place}: {detail}" if place else detail, source=source)


# ---------------------------------------------------------------- times
def time_parser(formats: Sequence[str], tz: str = "UTC") -> Callable[[str], pd.Timestamp | None]:
    """A parser of one cell into a UTC time, trying each format in turn.

    ``formats`` are strftime patterns, or ``ISO8601`` for ISO 8601 (a date, or a
    date and time, with or without an offset).  A time without an offset is read
    in ``tz``.  The parser returns ``None`` for a cell that no format reads (and
    for a time pandas cannot hold, before 1677 or after 2262); results are cached,
    since exports repeat their times.
    """
    cache: dict[str, pd.Timestamp | None] = {}

    def parse(text: str) -> pd.Timestamp | None:
        if text in cache:
            return cache[text]
        found: pd.Timestamp | None = None
        for fmt in formats:
            try:
                stamp = pd.to_datetime(text, format=fmt)
                if pd.isna(stamp):
                    continue
                if stamp.tzinfo is None:
                    stamp = stamp.tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
                found = stamp.tz_convert("UTC").as_unit("ns")
            except (ValueError, OverflowError, TypeError):
                continue
            break
        cache[text] = found
        return found

    return parse


def iso(stamp: Any) -> str:
    """A time as the messages show it: ISO 8601 in UTC, to the second."""
    return pd.Timestamp(stamp).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------- the table
@dataclass
class Imported:
    """The result of an import: the tidy table and what was left out, with why."""

    items: pd.DataFrame
    source: str
    format: str
    mapping: str | None = None
    skipped: dict[str, int] = field(default_factory=dict)


def empty_columns() -> dict[str, list[Any]]:
    """Lists to append a row's values to, one per column; see :func:`make_items`."""
    return {name: [] for name in COLUMNS}


def make_items(columns: dict[str, list[Any]]) -> pd.DataFrame:
    """Build the tidy table from lists of values (``None`` where missing) in its dtypes."""
    frame = pd.DataFrame(index=pd.RangeIndex(len(columns["id"])))
    for name, dtype in COLUMNS.items():
        values = columns[name]
        if dtype == "string":
            frame[name] = pd.array([None if v is None else str(v) for v in values], dtype="string")
        elif dtype == TIME:
            frame[name] = pd.Series(
                [pd.NaT if v is None else v for v in values], dtype=TIME, index=frame.index
            )
        elif dtype == "float64":
            frame[name] = pd.Series(
                [math.nan if v is None else float(v) for v in values], dtype="float64"
            )
        else:
            frame[name] = pd.Series(values, dtype=dtype)
    return frame


def check_items(
    frame: pd.DataFrame,
    source: str,
    where: Where,
    names: dict[str, str] | None = None,
    noun: str = "column",
) -> pd.DataFrame:
    """Check the tidy table; raise :class:`DataError` at the first problem.

    Every id is present and unique, every kind is one of :data:`KINDS`, a class
    (tickets only) one of :data:`CLASSES`, every item has a ``created`` time, the
    times are in order (``created <= started <= done`` where present) and blocked
    hours are not negative.

    Parameters
    ----------
    frame : DataFrame
        The tidy table, as :func:`make_items` builds it.
    source : str
        The export file, for messages.
    where : callable
        Names a ``source_row`` for messages.
    names : dict, optional
        The export's name of a column, where it is not the tidy table's
        (``{"id": "Issue key"}``), for messages.
    noun : str
        ``column``, or ``field`` for a JSON export.

    Returns
    -------
    DataFrame
        ``frame`` itself, for chaining.
    """
    rows = frame["source_row"].tolist()
    names = names or {}

    def fail(k: int, column: str | tuple[str, str], detail: str) -> DataError:
        cols = [column] if isinstance(column, str) else list(column)
        named = [names.get(c, c) for c in cols]
        return DataError(detail, source=source, where=where(rows[k]), column=named, noun=noun)

    first: dict[str, int] = {}
    for k, value in enumerate(frame["id"].tolist()):
        if value is pd.NA or not value:
            raise fail(k, "id", "expected an id, found an empty cell")
        if value in first:
            earlier = where(first[value]).split(" (")[0]  # "row 3", "card 3"
            raise fail(k, "id", f"duplicate id {value!r} (first at {earlier})")
        first[value] = rows[k]
    _check_choice(frame, "kind", KINDS, fail)
    _check_choice(frame, "class", CLASSES, fail)
    not_ticket = frame["class"].notna() & (frame["kind"] != "ticket")
    if not_ticket.any():
        k = int(not_ticket.to_numpy().argmax())
        found, kind = frame["class"].iloc[k], frame["kind"].iloc[k]
        what = {"ask": "an ask", "onboarding": "an onboarding task"}.get(kind, repr(kind))
        raise fail(k, "class", f"only tickets have a class, found {found!r} on {what}")
    missing = frame["created"].isna()
    if missing.any():
        raise fail(int(missing.to_numpy().argmax()), "created", "expected a time, found none")
    for early, late in (("created", "started"), ("started", "done"), ("created", "done")):
        wrong = frame[late] < frame[early]
        if wrong.any():
            k = int(wrong.to_numpy().argmax())
            raise fail(
                k,
                (early, late),
                f"expected {early} <= {late}, found {early} {iso(frame[early].iloc[k])} "
                f"after {late} {iso(frame[late].iloc[k])}",
            )
    negative = frame["blocked_hours"] < 0
    if negative.any():
        k = int(negative.to_numpy().argmax())
        value = frame["blocked_hours"].iloc[k]
        raise fail(k, "blocked_hours", f"expected hours >= 0, found {value:g}")
    return frame


def _check_choice(
    frame: pd.DataFrame,
    column: str,
    allowed: tuple[str, ...],
    fail: Callable[[int, str, str], DataError],
) -> None:
    values = frame[column]
    wrong = values.notna() & ~values.isin(allowed)
    if wrong.any():
        k = int(wrong.to_numpy().argmax())
        found = values.iloc[k]
        expected = ", ".join(repr(a) for a in allowed)
        hint = did_you_mean(found, list(allowed))
        raise fail(k, column, f"expected one of {expected}, found {show(found)}{hint}")


def counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Items by kind: how many, done and open; a last row ``all`` sums them."""
    done = frame["done"].notna()
    table = pd.DataFrame(
        {
            "items": frame.groupby("kind", observed=True).size(),
            "done": done.groupby(frame["kind"], observed=True).sum(),
        }
    )
    table = table.reindex([k for k in KINDS if k in table.index]).fillna(0).astype("int64")
    table["open"] = table["items"] - table["done"]
    table.loc["all"] = table.sum()
    table.index.name = "kind"
    return table


def read_items(path: str | os.PathLike[str]) -> pd.DataFrame:
    """The table of work items ``flowsim import`` wrote: Parquet, or CSV by its suffix.

    Raises
    ------
    DataError
        If the file lacks a column of the table, or a time cannot be read.
    """
    source = os.fspath(path)
    if not Path(path).is_file():
        raise ConfigError(f"no such table of work items: {source}")
    try:
        if Path(path).suffix.lower() == ".csv":
            strings = {c: "string" for c, t in COLUMNS.items() if t == "string"}
            frame = pd.read_csv(path, dtype=strings)
        else:
            frame = pd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - pyarrow and pandas raise their own types
        raise DataError(
            "cannot read it as the table of work items that flowsim import writes "
            f"({type(exc).__name__}: {' '.join(str(exc).split())[:200]})",
            source=source,
        ) from None
    missing = [c for c in ("id", "kind", "created", "started", "done") if c not in frame.columns]
    if missing:
        raise DataError(
            "expected the table of work items that flowsim import writes, found no such "
            f"column (it has {', '.join(map(str, frame.columns)) or 'no columns'})",
            source=source,
            column=missing,
        )
    for column in ("created", "started", "done"):
        if str(frame[column].dtype) != TIME:
            try:
                frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
            except (ValueError, TypeError) as exc:
                raise DataError(
                    f"expected ISO 8601 times: {exc}", source=source, column=column
                ) from exc
    return frame
