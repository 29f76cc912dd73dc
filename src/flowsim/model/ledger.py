"""The ledger: every work item, the state it is in, and what happens when one ends.

Conservation of work (MODEL.md): every item that arrives is waiting, active,
forgotten, done or dropped with a reason, and nothing vanishes.  The ledger is the
one place that creates items and moves them to ``done`` or ``dropped``; it counts
only those ends, and derives the other states' counts when asked (an item changes
state several times, and counting each change would cost every run).  The
mechanisms say what an end means for them by registering handlers:

* ``on_done[kind]``: called with ``(item, actor)`` when an item of that kind is done;
* ``before_done``: called with the item before any kind's handler (promises);
* ``on_drop``: called with the item before it is dropped.
"""

from __future__ import annotations

from collections.abc import Callable

import simpy

from flowsim.model.entities import Customer, Item
from flowsim.model.eventlog import EventLog

_new = object.__new__


class Ledger:
    """Items by state, from their arrival to their end."""

    events = ("arrive", "done", "dropped")

    def __init__(self, env: simpy.Environment, log: EventLog) -> None:
        self.env = env
        self.log = log
        self.created = 0
        self.done = 0
        self.dropped = 0
        self.dropped_reasons: dict[str, int] = {}
        self.on_done: dict[str, Callable[[Item, str], None]] = {}
        self.before_done: list[Callable[[Item], None]] = []
        self.on_drop: list[Callable[[Item], None]] = []
        self.track_open = True  # keep each customer's open items (churn drops them)
        # The log's pending lists (see ``LeadEngineer``): rows written for every item.
        self._logging = log.enabled
        self._log_times = log.times.pending
        self._log_entities = log.entities.pending
        self._log_codes = log.codes.pending
        self._lead_done = log.lead_done
        # The arrive code of each kind and class, looked up as ``[kind][cls]``.
        self._arrive_codes: dict[str, dict[str, int]] = {}

    def new(
        self,
        kind: str,
        customer: Customer | None,
        effort: float,
        cls: str = "",
        origin: float | None = None,
    ) -> Item:
        """A new waiting item of ``effort`` hours; ``origin`` is when its request began."""
        now = self.env._now  # simpy's clock without its property: called for every item
        item_id = self.created
        self.created = item_id + 1
        # ``Item(...)`` written out: one call fewer per item (a test keeps the two alike).
        item = _new(Item)
        item.id = item_id
        item.kind = kind
        item.cls = cls
        item.customer = customer
        item.effort = item.remaining = effort
        item.arrived = now
        item.origin = now if origin is None else origin
        if cls == "urgent":
            item.urgent = True
        if self.track_open and customer is not None:
            customer.open_items[item_id] = item
        if self._logging:
            try:
                code = self._arrive_codes[kind][cls]
            except KeyError:
                code = self.log.code(kind, "arrive", cls)
                self._arrive_codes.setdefault(kind, {})[cls] = code
            self._log_times.append(now)
            # The row names the customer (plus one; 0: none), not the item: the item is
            # the row's rank among arrive rows (see EventLog).
            self._log_entities.append(0 if customer is None else customer.id + 1)
            self._log_codes.append(code)
        return item

    def complete(self, item: Item, actor: str) -> None:
        """``actor`` finished ``item``: it is done, and its mechanism moves the work on."""
        if item.state == "done":
            return
        self.done += 1
        item.state = "done"
        kind = item.kind
        if self._logging:
            code = self._lead_done[kind] if actor == "lead" else self.log.code(kind, "done", actor)
            self._log_times.append(self.env._now)
            self._log_entities.append(item.id)
            self._log_codes.append(code)
        if self.track_open and item.customer is not None:
            item.customer.open_items.pop(item.id, None)
        if self.before_done:  # most runs have none: skip the loop (this runs per item)
            for hook in self.before_done:
                hook(item)
        handler = self.on_done.get(kind)
        if handler is not None:
            handler(item, actor)

    def drop(self, item: Item, reason: str) -> None:
        """Drop a waiting or forgotten item for ``reason`` (counted, logged)."""
        if item.state not in ("waiting", "forgotten"):
            return
        for hook in self.on_drop:
            hook(item)
        item.state = "dropped"
        self.dropped += 1
        if item.customer is not None:
            item.customer.open_items.pop(item.id, None)
        self.dropped_reasons[reason] = self.dropped_reasons.get(reason, 0) + 1
        self.log.add(self.env.now, item.id, item.kind, "dropped", reason)

    def drop_if_customer_left(self, item: Item) -> bool:
        """An item whose customer churned while it was in someone's hands: when that
        person puts it down (preempted, or handed on for review), it is dropped too."""
        cust = item.customer
        if cust is None or cust.state != "churned":
            return False
        item.state = "waiting"
        self.drop(item, "churned")
        return True

    def conservation(self, active: int, forgotten: int) -> dict[str, int]:
        """Items by state: ``arrived`` = waiting + active + forgotten + done + dropped.

        ``active`` (items in someone's hands) and ``forgotten`` (forgotten and not yet
        resurfaced) come from those who hold them; ``waiting`` is the rest.
        """
        dropped = self.dropped
        counts = {
            "waiting": self.created - self.done - dropped - active - forgotten,
            "active": active,
            "forgotten": forgotten,
            "done": self.done,
            "dropped": dropped,
            "arrived": self.created,
        }
        for reason, n in self.dropped_reasons.items():
            counts[f"dropped_{reason}"] = n
        return counts
