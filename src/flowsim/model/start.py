"""Starting a run from a company's open work (a :class:`StartState`), and what became of it.

The state's customers and items enter the model at time 0 as if they had been
there all along: each live customer starts raising tickets, each onboarding
customer resumes its project with its open tasks and asks (and the tasks still to
come), each open ticket joins the queue with its age, and each signed customer
meets the intake policy.  What a tracker does not know is drawn from the
config's distributions, from one random stream per state entry (``Source.STATE``),
so that every policy meets the same open work (common random numbers):

* each open task's effort (``onboarding.task_effort``) and each open ask's
  (``status_calls.ask_effort``), since a tracker knows durations, not effort;
* each open ticket's effort (its class's ``effort``);
* the size of each project whose remaining tasks are not given: drawn from
  ``onboarding.tasks`` given that it has at least the tasks already known.

Afterwards :meth:`Started.outcomes` tells, for each customer and item of the state,
when it went live or was done (in working days from the start), or that it did not.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from flowsim.model.entities import Customer, Item
from flowsim.model.state import StartState
from flowsim.model.streams import Source, Streams

if TYPE_CHECKING:
    import pandas as pd

    from flowsim.model.customers import CustomerBase
    from flowsim.model.ledger import Ledger
    from flowsim.model.mechanisms.onboarding import OnboardingMechanism
    from flowsim.model.mechanisms.sales import SalesMechanism
    from flowsim.model.mechanisms.tickets import TicketsMechanism
    from flowsim.model.params import Params

OUTCOME_COLUMNS = ("name", "kind", "customer", "end", "day")
"""One row per customer or item of the state: ``end`` is ``live``, ``done``, ``dropped``,
``churned``, ``lost`` or ``open`` (nothing yet by the horizon); ``day`` is when it went
live or was done, in working days from the start (NaN otherwise)."""
MAX_SIZE_DRAWS = 1000  # a project's size given a lower bound, drawn by rejection


class Started:
    """The state's customers and items inside one run, and when each ended."""

    def __init__(self, day: float) -> None:
        self.day = day
        self.customers: dict[str, Customer] = {}
        self.projects: list[str] = []  # the customers onboarding or signed at the start
        self.items: dict[str, Item] = {}
        self.done_at: dict[int, float] = {}
        self._watched: set[int] = set()

    def watch(self, name: str, item: Item) -> None:
        self.items[name] = item
        self._watched.add(item.id)

    def done(self, item: Item, now: float) -> None:
        """Called as any item is done: keeps the time of the state's own."""
        if item.id in self._watched:
            self.done_at[item.id] = now

    def outcomes(self) -> pd.DataFrame:
        import pandas as pd

        names = {id(c): name for name, c in self.customers.items()}
        rows: list[tuple[str, str, str, str, float]] = []
        for name in self.projects:
            cust = self.customers[name]
            if cust.live_at is not None:  # went live (and may have churned since)
                end, day = "live", cust.live_at / self.day
            else:
                end, day = (
                    ("open" if cust.state in ("onboarding", "signed") else cust.state),
                    math.nan,
                )
            rows.append((name, "customer", name, end, day))
        for name, item in self.items.items():
            owner = "" if item.customer is None else names.get(id(item.customer), "")
            if item.id in self.done_at:
                rows.append((name, item.kind, owner, "done", self.done_at[item.id] / self.day))
            else:
                end = "dropped" if item.state == "dropped" else "open"
                rows.append((name, item.kind, owner, end, math.nan))
        return pd.DataFrame(rows, columns=list(OUTCOME_COLUMNS))


def check_ticket_classes(state: StartState, params: Params) -> None:
    """Every open ticket of ``state`` is of one of ``params``' ticket classes, or ValueError."""
    classes = params.tickets.classes
    for t in state.tickets:
        if t.cls not in classes:
            raise ValueError(
                f"open ticket {t.id}: class {t.cls!r} is not one of the config's ticket "
                f"classes ({', '.join(classes)})"
            )


def project_size(rng: np.random.Generator, params: Params, known: int, left: int | None) -> int:
    """Tasks still to come in a project with ``known`` tasks raised so far (done or open)."""
    if left is not None:
        return left
    for _ in range(MAX_SIZE_DRAWS):
        n = int(params.onboarding.tasks.draw(rng, 1)[0])
        if n >= known:
            return n - known
    return 0  # a project already larger than the config's projects: nothing more to come


def start_from(
    state: StartState,
    params: Params,
    day: float,
    streams: Streams,
    ledger: Ledger,
    customers: CustomerBase,
    onboarding: OnboardingMechanism,
    tickets: TicketsMechanism,
    sales: SalesMechanism,
    go_live: Callable[[Customer, int], None],
) -> Started:
    """Put ``state``'s open work into a company at time 0 (``day``: clock hours a day).

    ``go_live(cust, index)`` starts a live customer (direct access for the first
    ones, its tickets, ...), as for the config's initial live customers.
    """
    started = Started(day)
    ledger.before_done.append(lambda item: started.done(item, ledger.env.now))
    for i, name in enumerate(state.live):
        cust = customers.new()
        cust.onboarding_at = cust.live_at = 0.0
        cust.state = "live"
        customers.activate(cust)
        started.customers[name] = cust
        go_live(cust, i)
    for k, o in enumerate(state.onboarding):
        rng = streams.get(Source.STATE, k)
        cust = customers.new()
        cust.signed_at = cust.onboarding_at = -o.age_days * day
        started.customers[o.customer] = cust
        started.projects.append(o.customer)
        open_work = []
        for item in o.open:
            dist = (
                params.onboarding.task_effort
                if item.kind == "task"
                else params.status_calls.ask_effort
            )
            effort = float(dist.draw(rng, 1)[0])
            open_work.append(
                (
                    item.kind,
                    effort,
                    float(rng.random()),
                    rng.random(3).tolist(),
                    -item.age_days * day,
                )
            )
        known = o.tasks_done + sum(1 for item in o.open if item.kind == "task")
        pending = [
            (
                float(params.onboarding.task_effort.draw(rng, 1)[0]),
                float(rng.random()),
                rng.random(3).tolist(),
            )
            for _ in range(project_size(rng, params, known, o.tasks_left))
        ]
        for item, model_item in zip(
            o.open, onboarding.resume(cust, open_work, pending), strict=True
        ):
            started.watch(item.id, model_item)
    check_ticket_classes(state, params)
    classes = params.tickets.classes
    offset = len(state.onboarding)
    for k, t in enumerate(state.tickets):
        rng = streams.get(Source.STATE, offset + k)
        effort = float(classes[t.cls].effort.draw(rng, 1)[0])  # type: ignore[index]
        owner = started.customers.get(t.customer) if t.customer is not None else None
        if owner is not None and owner.state != "live":
            owner = None  # a ticket belongs to a live customer's stream of tickets
        ticket = ledger.new("ticket", owner, effort, t.cls, -t.age_days * day)
        ticket.arrived = ticket.origin
        ticket.lead_u = float(rng.random())
        tickets.route(ticket)
        started.watch(t.id, ticket)
    for s in state.signed:
        cust = customers.new()
        cust.signed_at = -s.age_days * day
        started.customers[s.customer] = cust
        started.projects.append(s.customer)
        sales.signed(cust)
    return started
