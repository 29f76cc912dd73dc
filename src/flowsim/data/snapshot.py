"""The open work of a company at a date, from the table of work items ``flowsim import`` wrote.

:func:`snapshot` reads the tidy table (see :mod:`flowsim.data.items`) as it stood at a
time ``at``, knowing only what was known then: an item is *known* if it was created
at or before ``at``, *done* if its done time is at or before ``at``, and *open* if it
is known and not done (an item done after ``at`` is open at ``at``).  From that
(the rules are in docs/state.md):

* **onboarding**: each customer with an onboarding item open at ``at``.  It started
  at its first onboarding item's creation; ``tasks_done`` counts its onboarding items
  done by ``at``; its open work is its open onboarding items (kind ``task``) and its
  open asks (kind ``ask``), each ``started`` if work on it began by ``at``.  How many
  tasks are still to come is not in the table (``tasks_left`` is left unknown: each
  replication draws the project's size).
* **live**: each customer not onboarding at ``at`` who raised a ticket in the
  ``live_weeks`` (13) weeks before it or has one open, and each customer whose
  onboarding items were all done by ``at``; or the ``live`` given.
* **tickets**: the open tickets, with class, customer and age; a ticket without a
  class is read as ``normal``.
* **signed**: none (the table does not record signed customers waiting to start).

What it leaves out (asks of no customer being onboarded, onboarding items of no
customer) is counted in the state's ``notes``.  Ages are in working days before
``at`` (:func:`flowsim.model.calendar.working_days`), rounded to 0.01 day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from flowsim.config.errors import ConfigError, show
from flowsim.data.items import CLASSES, KINDS, DataError, iso
from flowsim.model.calendar import working_days
from flowsim.model.state import OpenItem, OpenOnboarding, StartState

LIVE_WEEKS = 13.0
"""A customer who raised a ticket in this many weeks before the snapshot is live."""
AGE_DECIMALS = 2
NEEDED = ("id", "kind", "class", "customer", "created", "started", "done")


def snapshot(
    items: pd.DataFrame,
    at: dt.datetime | dt.date | str | None = None,
    *,
    live: Sequence[str] | int | None = None,
    live_weeks: float = LIVE_WEEKS,
    source: str = "",
) -> StartState:
    """The company's open work at ``at``, from the table of work items.

    Parameters
    ----------
    items : DataFrame
        The tidy table of work items (``flowsim import`` writes it).
    at : datetime, date or str
        When to take the snapshot: a date (its start, 00:00 UTC) or a time (a time
        without an offset is UTC).  The state's ``as_of`` is its date in UTC.  Default:
        the table's end (the start of the first working day after its last time).
    live : sequence of str or int, optional
        Overrides the live customers the table suggests: their names, or a count
        (named ``live_1`` .. ``live_N``).  A name that is onboarding at ``at`` is an error.
    live_weeks : float
        A customer who raised a ticket in this many weeks before ``at`` is live.
    source : str
        The table's file, for messages and the state's ``source``.

    Raises
    ------
    ConfigError
        If ``at`` cannot be read, is before the table's first item or after its end
        (the start of the first working day after its last time), if the table lacks
        a column, or has an unknown kind or class.
    """
    where = source or "the table"
    frame = _checked(items, source)
    first = frame["created"].min()
    last = pd.concat([frame[c] for c in ("created", "started", "done")]).max()
    if pd.isna(first):
        raise ConfigError("expected work items, found none", source=source or None, key="at")
    end = _next_working_day(last)
    when = end if at is None else _moment(at, source)
    if when < first:
        raise ConfigError(
            f"{iso(when)} is before the first item, created {iso(first)}: nothing was open",
            source=source or None,
            key="at",
        )
    if when > end:
        raise ConfigError(
            f"{iso(when)} is after the end of {where} ({iso(end)}, the working day after its "
            f"last time {iso(last)}): it cannot say what was open then",
            source=source or None,
            key="at",
        )
    if not live_weeks >= 0 or not np.isfinite(live_weeks):
        raise ConfigError(f"expected weeks >= 0, got {show(live_weeks)}", key="live_weeks")

    known = frame[frame["created"] <= when]
    done = known["done"].notna() & (known["done"] <= when)
    open_ = known[~done]
    notes: list[str] = []

    def age(t: pd.Timestamp) -> float:
        return round(working_days(t.to_pydatetime(), when.to_pydatetime()), AGE_DECIMALS)

    def started(t: Any) -> bool:
        return bool(pd.notna(t) and t <= when)

    # ---- onboarding
    tasks = known[known["kind"] == "onboarding"]
    nameless = int(tasks["customer"].isna().sum())
    if nameless:
        notes.append(f"{nameless} onboarding item(s) of no customer left out")
    tasks = tasks[tasks["customer"].notna()]
    tasks_done = done.reindex(tasks.index)
    onboarding_names = sorted(
        set(tasks.loc[~tasks_done, "customer"]),
        key=lambda c: (tasks.loc[tasks["customer"] == c, "created"].min(), c),
    )
    asks = open_[open_["kind"] == "ask"]
    onboarding = []
    for name in onboarding_names:
        mine = tasks[tasks["customer"] == name]
        mine_open = pd.concat([mine[~tasks_done.loc[mine.index]], asks[asks["customer"] == name]])
        mine_open = mine_open.sort_values(["created", "id"], kind="stable")
        onboarding.append(
            OpenOnboarding(
                customer=str(name),
                age_days=age(mine["created"].min()),
                tasks_done=int(tasks_done.loc[mine.index].sum()),
                open=tuple(
                    OpenItem(
                        id=str(row.id),
                        kind="task" if row.kind == "onboarding" else "ask",
                        age_days=age(row.created),
                        customer=str(name),
                        started=started(row.started),
                    )
                    for row in mine_open.itertuples(index=False)
                ),
            )
        )
    onboarding_set = set(onboarding_names)
    stray = asks[~asks["customer"].isin(onboarding_set) | asks["customer"].isna()]
    if len(stray):
        notes.append(
            f"{len(stray)} open ask(s) of no customer being onboarded left out "
            "(the model's asks belong to onboarding projects)"
        )

    # ---- tickets
    tickets_open = open_[open_["kind"] == "ticket"].sort_values(["created", "id"], kind="stable")
    classless = int(tickets_open["cls"].isna().sum())
    if classless:
        notes.append(f"{classless} open ticket(s) without a class read as normal")
    tickets = tuple(
        OpenItem(
            id=str(row.id),
            kind="ticket",
            age_days=age(row.created),
            cls="normal" if pd.isna(row.cls) else str(row.cls),
            customer=None if pd.isna(row.customer) else str(row.customer),
            started=started(row.started),
        )
        for row in tickets_open.itertuples(index=False)
    )

    # ---- live customers
    if live is None:
        recent = known[
            (known["kind"] == "ticket")
            & (known["created"] > when - pd.Timedelta(weeks=live_weeks))
            & known["customer"].notna()
        ]
        names = set(recent["customer"]) | set(tickets_open["customer"].dropna())
        names |= set(tasks["customer"]) - onboarding_set  # onboarding finished by `at`
        live_names = tuple(sorted(str(n) for n in names - onboarding_set))
    else:
        live_names = _given_live(live, onboarding_set)
        notes.append(f"live customers given ({len(live_names)}), not read from the table")
    mute = {t.customer for t in tickets if t.customer is not None} - set(live_names)
    if mute:
        count = sum(1 for t in tickets if t.customer in mute)
        notes.append(
            f"{count} open ticket(s) of customers not live ({', '.join(sorted(mute))}) "
            "are tied to no customer"
        )
    notes.append("signed customers waiting to start: not in the table, none in the state")
    return StartState(
        as_of=when.date(),
        live=live_names,
        onboarding=tuple(onboarding),
        signed=(),
        tickets=tickets,
        source=f"{where} at {iso(when)}",
        notes=tuple(notes),
    )


def _checked(items: pd.DataFrame, source: str) -> pd.DataFrame:
    """The columns the snapshot reads, checked: times in UTC, kinds and classes known."""
    missing = [c for c in NEEDED if c not in items.columns]
    if missing:
        raise DataError(
            "expected the table of work items that flowsim import writes, found no such "
            f"column (it has {', '.join(map(str, items.columns)) or 'no columns'})",
            source=source or "the table",
            column=missing,
        )
    frame = items[list(NEEDED)].copy()
    for column in ("created", "started", "done"):
        try:
            frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
        except (ValueError, TypeError) as exc:
            raise DataError(
                f"expected ISO 8601 times: {exc}", source=source or "the table", column=column
            ) from exc
    for column in ("id", "kind", "class", "customer"):
        frame[column] = frame[column].astype("string")
    for column, allowed in (("kind", KINDS), ("class", CLASSES)):
        wrong = frame[column].notna() & ~frame[column].isin(allowed)
        if wrong.any():
            k = int(wrong.to_numpy().argmax())
            raise DataError(
                f"expected one of {', '.join(map(repr, allowed))}, found "
                f"{show(frame[column].iloc[k])} (item {frame['id'].iloc[k]})",
                source=source or "the table",
                column=column,
            )
    if frame["created"].isna().any():
        k = int(frame["created"].isna().to_numpy().argmax())
        raise DataError(
            f"expected a time, found none (item {frame['id'].iloc[k]})",
            source=source or "the table",
            column="created",
        )
    return frame.rename(columns={"class": "cls"})


def _moment(at: dt.datetime | dt.date | str, source: str) -> pd.Timestamp:
    """``at`` as a UTC time: a date is its start."""
    try:
        stamp = pd.Timestamp(at)
    except (ValueError, TypeError):
        stamp = pd.NaT
    if pd.isna(stamp):
        raise ConfigError(
            "expected a date such as 2026-01-05 or an ISO time such as 2026-01-05T09:00:00Z, "
            f"got {show(at if isinstance(at, str) else str(at))}",
            source=source or None,
            key="at",
        )
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.as_unit("ns")


def _next_working_day(t: pd.Timestamp) -> pd.Timestamp:
    """The start of the first working day (Monday to Friday) after ``t``'s date."""
    day = np.busday_offset(np.datetime64(t.date(), "D") + 1, 0, roll="forward")
    return pd.Timestamp(day).tz_localize("UTC")


def _given_live(live: Sequence[str] | int, onboarding: set[str]) -> tuple[str, ...]:
    if isinstance(live, bool) or (isinstance(live, int) and live < 0):
        raise ConfigError(f"expected a count >= 0 or customer names, got {show(live)}", key="live")
    if isinstance(live, int):
        return tuple(f"live_{n}" for n in range(1, live + 1))
    names = tuple(str(n).strip() for n in live)
    if any(not n for n in names):
        raise ConfigError("expected customer names, got an empty one", key="live")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ConfigError(f"customers named twice: {', '.join(repeated)}", key="live")
    both = sorted(set(names) & onboarding)
    if both:
        raise ConfigError(f"{', '.join(both)} onboarding at the snapshot, so not live", key="live")
    return names
