"""The things that flow: work items and customers."""

from __future__ import annotations

from typing import Any

# Item kinds, and the activity their hours are booked to (MODEL.md's list).
ACTIVITY = {
    "task": "onboarding",
    "ask": "onboarding",
    "ticket": "tickets",
    "ping": "tickets",
    "spec": "specs_reviews",
    "review": "specs_reviews",
    "call": "calls",
    "escalation": "escalations",
    "mentoring": "mentoring",
    "platform": "platform",
    "triage": "triage",
}
# Blocks that happen at their time rather than queue behind other interrupts:
# meetings, and protected platform time (a policy that yields to every fire is not
# the policy the config describes).
SCHEDULED = frozenset({"call", "mentoring", "platform"})
# Conservation of work: every item is in exactly one of these states.
STATES = ("waiting", "active", "forgotten", "done", "dropped")


class Item:
    """A piece of work: an onboarding task, a ticket, a spec, a call, ...

    ``effort`` and ``remaining`` are in hours of the person doing it at full
    productivity.  ``parent`` links a spec, review or triage step to the item it
    serves.  Rarely changed attributes live on the class, so that creating an
    item (thousands per run) sets only what differs.  The model's items are made by
    :meth:`Ledger.new <flowsim.model.ledger.Ledger.new>`.
    """

    id: int
    kind: str
    cls: str  # the ticket class ("" for other kinds)
    customer: Customer | None
    effort: float
    remaining: float
    arrived: float  # when the item was created
    origin: float  # when the customer's request began (at or before ``arrived``)

    state = "waiting"
    started = False
    urgent = False
    due: float | None = None
    parent: Item | None = None
    gate: Item | None = None  # the spec or review of this task now waiting on the lead
    lead_u = 0.0
    rework_u: list[float] = []  # noqa: RUF012 - read-only default, replaced per item
    reviews = 0
    resurfaced = False
    expedite = False
    entry: Any = None  # where the item sits in the lead's backlog (None: not queued)
    list_pos = -1
    ceo: tuple[float, ...] = ()
    ceo_entry: list[Any] | None = None  # its entry in the backlog's ranking by the CEO
    added = -1  # when it was added to the lead's backlog (a counter)
    broken_promises = 0  # promises on it broken so far
    queued_at = 0.0  # when it joined the lead's interrupt queue
    # Since when nobody has worked on it: set as a ticket arrives or resurfaces, and as
    # the lead puts an item down unfinished.
    untouched_since = 0.0
    interrupting = False  # waiting in the lead's interrupt queue

    def __init__(
        self,
        id: int,
        kind: str,
        customer: Customer | None,
        effort: float,
        now: float,
        cls: str = "",
        origin: float | None = None,
    ) -> None:
        self.id = id
        self.kind = kind
        self.cls = cls
        self.customer = customer
        self.effort = self.remaining = effort
        self.arrived = now
        self.origin = now if origin is None else origin
        if cls == "urgent":
            self.urgent = True

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"<{self.kind} {self.id} {self.state} rem={self.remaining:.2f}>"


class Customer:
    """A customer: signed -> onboarding -> live -> churned (or lost before onboarding)."""

    __slots__ = (
        "id",
        "state",
        "signed_at",
        "onboarding_at",
        "live_at",
        "left_at",
        "health",
        "red_since",
        "hazard",
        "churn_threshold",
        "open_items",
        "work",
        "unpromised",
        "pending_tasks",
        "unfinished",
        "open_tasks",
        "direct_access",
        "churned_while",
    )

    def __init__(self, id: int, now: float, health: float) -> None:
        self.id = id
        self.state = "signed"
        self.signed_at = now
        self.onboarding_at: float | None = None
        self.live_at: float | None = None
        self.left_at: float | None = None
        self.health = health
        self.red_since: float | None = None
        self.hazard = 0.0
        self.churn_threshold = float("inf")
        self.open_items: dict[int, Item] = {}
        self.work: dict[int, Item] = {}  # open onboarding tasks and asks, in arrival order
        # Of those, the ones that may still be promised, as a heap by id (arrival order),
        # kept by the commitments mechanism when it is on; done ones are skipped lazily.
        self.unpromised: list[tuple[int, Item]] = []
        self.pending_tasks: list[tuple[float, float, list[float]]] = []
        self.unfinished = 0  # tasks and asks of the project not yet done
        self.open_tasks = 0  # released tasks not yet done
        self.direct_access = False
        self.churned_while = ""  # the stage a churned customer left in

    @property
    def active(self) -> bool:
        return self.state in ("onboarding", "live")
