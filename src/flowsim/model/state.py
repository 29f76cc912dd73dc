"""A starting state: the open work of a real company at one date, for the model to start from.

Without one, a run starts from an empty backlog and ``customers.initial_live`` live
customers, and the first weeks are a warm-up.  With one, it starts where the company
is: its live customers, each customer still onboarding with the tasks and asks it has
open (and an estimate of those not yet raised), its open support tickets with their
ages, and signed customers waiting to start.  Forecasts and backtests start from one;
it comes from a YAML state file (:mod:`flowsim.config.state`) or from an imported
tracker table at a date (:mod:`flowsim.data.snapshot`).

Ages are in working days before the state's date (the model's clock has no nights or
weekends; see :mod:`flowsim.model.calendar`), so an item raised three working days
before it has ``age_days = 3``.  Names are the tracker's: they link the model's
forecast of each item and customer back to the rows they came from.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class OpenItem:
    """A task or ask of an onboarding project, or a support ticket, open at the state's date.

    ``kind`` is ``task`` or ``ask`` for onboarding work, ``ticket`` for a ticket (whose
    ``cls`` is one of the model's ticket classes).  ``started`` says whether work on
    it had begun; the model still draws its whole effort (a tracker does not say how
    much is left).
    """

    id: str
    kind: str
    age_days: float
    cls: str = ""
    customer: str | None = None
    started: bool = False


@dataclass(frozen=True)
class OpenOnboarding:
    """A customer being onboarded at the state's date.

    ``tasks_done`` of its project are done and ``open`` are open (raised, not done).
    ``tasks_left`` is how many tasks are still to come besides the open ones, if known;
    ``None`` lets each replication draw the project's size from ``onboarding.tasks``,
    given that it has at least ``tasks_done + len(open tasks)`` tasks.
    """

    customer: str
    age_days: float
    tasks_done: int = 0
    open: tuple[OpenItem, ...] = ()
    tasks_left: int | None = None


@dataclass(frozen=True)
class SignedCustomer:
    """A customer signed and waiting to start onboarding, for ``age_days``."""

    customer: str
    age_days: float


@dataclass(frozen=True)
class StartState:
    """The company's open work at ``as_of``: where a forecast or backtest starts.

    ``live`` names the live customers (their tickets are tied to them; a ticket of a
    customer not named here, or of none, is tied to no customer).  ``tickets`` are the
    open support tickets.  ``source`` says where the state came from, for reports.
    """

    as_of: dt.date
    live: tuple[str, ...] = ()
    onboarding: tuple[OpenOnboarding, ...] = ()
    signed: tuple[SignedCustomer, ...] = ()
    tickets: tuple[OpenItem, ...] = ()
    source: str = ""
    notes: tuple[str, ...] = field(default=())
    """What was read but left out, and why (e.g. asks of no customer being onboarded)."""

    @property
    def open_items(self) -> int:
        return len(self.tickets) + sum(len(o.open) for o in self.onboarding)
