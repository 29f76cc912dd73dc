"""The ledger: every work item, the state it is in, and what happens when one ends.

Conservation of work (MODEL.md): every item that arrives is waiting, active,
forgotten, done or dropped with a reason, and nothing vanishes.  The ledger is the
one place that creates items and moves them to ``done`` or ``dropped``; the
mechanisms say what an end means for them by registering handlers:

* ``on_done[kind]``: called with ``(item, actor)`` when an item of that kind is done;
* ``before_done``: called with the item before any kind's handler (promises);
* ``on_drop``: called with the item before it is dropped.
"""

from __future__ import annotations

from collections.abc import Callable

import simpy

from flowsim.model.entities import STATES, Customer, Item
from flowsim.model.recorder import EventLog


class Ledger:
    """Items by state, from their arrival to their end."""

    def __init__(self, env: simpy.Environment, log: EventLog) -> None:
        self.env = env
        self.log = log
        self.created = 0
        self.counts = dict.fromkeys(STATES, 0)
        self.dropped_reasons: dict[str, int] = {}
        self.on_done: dict[str, Callable[[Item, str], None]] = {}
        self.before_done: list[Callable[[Item], None]] = []
        self.on_drop: list[Callable[[Item], None]] = []

    def new(
        self,
        kind: str,
        customer: Customer | None,
        effort: float,
        cls: str = "",
        origin: float | None = None,
    ) -> Item:
        """A new waiting item of ``effort`` hours; ``origin`` is when its request began."""
        now = self.env.now
        item_id = self.created
        self.created += 1
        item = Item(item_id, kind, customer, effort, now, cls, origin)
        self.counts["waiting"] += 1
        if customer is not None:
            customer.open_items[item_id] = item
            if kind == "task" or kind == "ask":
                customer.work[item_id] = item
        if self.log.enabled:
            self.log.rows.append((now, item_id, kind, "arrive", cls, item.customer_id))
        return item

    def set_state(self, item: Item, state: str) -> None:
        counts = self.counts
        counts[item.state] -= 1
        counts[state] += 1
        item.state = state

    def complete(self, item: Item, actor: str) -> None:
        """``actor`` finished ``item``: it is done, and its mechanism moves the work on."""
        if item.state == "done":
            return
        counts = self.counts
        counts[item.state] -= 1
        counts["done"] += 1
        item.state = "done"
        if self.log.enabled:
            self.log.rows.append(
                (self.env.now, item.id, item.kind, "done", actor, item.customer_id)
            )
        cust = item.customer
        if cust is not None:
            cust.open_items.pop(item.id, None)
            if item.kind == "task" or item.kind == "ask":
                cust.work.pop(item.id, None)
        for hook in self.before_done:
            hook(item)
        handler = self.on_done.get(item.kind)
        if handler is not None:
            handler(item, actor)

    def drop(self, item: Item, reason: str) -> None:
        """Drop a waiting or forgotten item for ``reason`` (counted, logged)."""
        if item.state not in ("waiting", "forgotten"):
            return
        for hook in self.on_drop:
            hook(item)
        self.set_state(item, "dropped")
        if item.customer is not None:
            item.customer.open_items.pop(item.id, None)
            item.customer.work.pop(item.id, None)
        self.dropped_reasons[reason] = self.dropped_reasons.get(reason, 0) + 1
        self.log.add(self.env.now, item.id, item.kind, "dropped", reason, item.customer_id)

    def conservation(self) -> dict[str, int]:
        """Items by state: ``arrived`` = waiting + active + forgotten + done + dropped."""
        counts = dict(self.counts)
        counts["arrived"] = self.created
        for reason, n in self.dropped_reasons.items():
            counts[f"dropped_{reason}"] = n
        return counts
