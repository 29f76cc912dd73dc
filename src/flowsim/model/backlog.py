"""The lead's backlog and the prioritisation policies that order it.

A policy is a key function: the lead works on the item with the smallest key.
Keys live in two heaps (started and not yet started items) with lazy deletion,
so that a WIP limit can restrict the choice to started items cheaply.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any, Literal

from pydantic import Field

from flowsim.model.entities import Item
from flowsim.model.section import Section


class Prioritisation(Section):
    """How the lead picks his next item from his backlog."""

    policy: Literal["fifo", "urgent_first", "top_n", "oldest_first", "classes_of_service"] = Field(
        "top_n",
        description=(
            "fifo: first come first served; urgent_first: urgent and escalated first, then FIFO; "
            "top_n: the CEO's daily list of the top N items (urgent, then promised by due time, "
            "then by list_order), re-ranked each morning; oldest_first: by the age of the "
            "customer's request; classes_of_service: an expedite lane of limited size, then "
            "items with a dated promise by due time, then FIFO."
        ),
    )
    top_n: int = Field(10, ge=1, description="Length of the daily list (top_n policy). Story: 10.")
    list_order: Literal["newest", "oldest"] = Field(
        "newest",
        description=(
            "Order of non-urgent, unpromised items on the daily list: newest first (the "
            "squeaky wheel, the story's CEO) or oldest first."
        ),
    )
    expedite_limit: int = Field(
        2, ge=1, description="Items allowed in the expedite lane at once (classes_of_service)."
    )


Key = tuple[float, ...]
_INF = float("inf")


class _Items:
    """What every backlog shares: its items by id and the count of started ones."""

    def __init__(self, prio: Prioritisation) -> None:
        self.prio = prio
        self.policy = prio.policy
        self.items: dict[int, Item] = {}
        self.n_started = 0
        self.daily_list: list[Item] = []

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Item]:
        return iter(self.items.values())


class Backlog(_Items):
    """Items waiting for (or started by) the lead, ordered by a named policy."""

    def __init__(self, prio: Prioritisation) -> None:
        super().__init__(prio)
        self.fresh: list[list[Any]] = []
        self.started: list[list[Any]] = []
        self.expedite_in_lane = 0
        self._seq = itertools.count()
        self.key: Callable[[Item], Key] = getattr(self, f"_key_{self.policy}")
        self.newest_first = prio.list_order == "newest"
        self.stale = 0
        # Every backlog item by the CEO's key (top_n), and the urgent items waiting for
        # the expedite lane by age (classes_of_service), with lazy deletion: so the
        # daily list and the lane's next admission cost a few heap operations, not a
        # scan of the whole backlog.  Ties go to the item added to the backlog first,
        # as in a scan of ``items`` in order.
        self._added = itertools.count()
        self.by_ceo: list[list[Any]] = []
        self.ceo_stale = 0
        self.lane_queue: list[tuple[float, int, int, Item]] = []

    # -- policies -----------------------------------------------------------------
    def _key_fifo(self, item: Item) -> Key:
        return (0.0, item.arrived)

    def _key_urgent_first(self, item: Item) -> Key:
        return (0.0 if item.urgent else 1.0, item.arrived)

    def _key_oldest_first(self, item: Item) -> Key:
        return (item.origin, item.arrived)

    def _key_classes_of_service(self, item: Item) -> Key:
        if item.expedite:
            return (0.0, item.arrived)
        if item.due is not None:
            return (1.0, item.due)
        return (2.0, item.arrived)

    def ceo_key(self, item: Item) -> Key:
        """The CEO's ranking: fires, then promised items by due time, then by age."""
        age = -item.arrived if self.newest_first else item.arrived
        if item.urgent:
            return (0.0, age)
        if item.due is not None:
            return (1.0, item.due)
        return (2.0, age)

    def _key_top_n(self, item: Item) -> Key:
        if item.list_pos >= 0:
            return (0.0, float(item.list_pos))
        return (1.0, *item.ceo)

    def _full_key(self, item: Item) -> Key:
        # Protected platform time goes first under every policy.
        return (-1.0, item.arrived) if item.kind == "platform" else self.key(item)

    # -- membership ----------------------------------------------------------------
    def add(self, item: Item) -> None:
        self.items[item.id] = item
        item.added = next(self._added)
        if self.policy == "top_n":
            self._rank_for_ceo(item)
        if self.policy == "classes_of_service" and item.urgent:
            self._admit_expedite(item)
        self._push(item)

    def _admit_expedite(self, item: Item) -> None:
        if item.expedite:
            return
        if self.expedite_in_lane < self.prio.expedite_limit:
            item.expedite = True
            self.expedite_in_lane += 1
        else:
            entry = (item.arrived, item.added, next(self._seq), item)
            heapq.heappush(self.lane_queue, entry)
            if len(self.lane_queue) > 2 * len(self.items) + 64:
                # Re-ranking a waiting urgent item queues it again; drop the dead copies.
                live: dict[int, tuple[float, int, int, Item]] = {}
                for e in self.lane_queue:
                    it = e[3]
                    if self.items.get(it.id) is it and it.added == e[1] and not it.expedite:
                        live.setdefault(it.id, e)
                self.lane_queue = list(live.values())
                heapq.heapify(self.lane_queue)

    def _rank_for_ceo(self, item: Item) -> None:
        item.ceo = self.ceo_key(item)
        if item.ceo_entry is not None:
            item.ceo_entry[3] = None
            self.ceo_stale += 1
        # Only one entry of an item is live; the push number orders its dead copies.
        entry = [item.ceo, item.added, next(self._seq), item]
        item.ceo_entry = entry
        heapq.heappush(self.by_ceo, entry)

    def _push(self, item: Item) -> None:
        entry = [self._full_key(item), next(self._seq), item]
        item.entry = entry
        heapq.heappush(self.started if item.started else self.fresh, entry)

    def _invalidate(self, item: Item) -> None:
        if item.entry is not None:
            item.entry[2] = None
            item.entry = None
            self.stale += 1
            if self.stale > len(self.items) + 64:
                self._compact()

    def _compact(self) -> None:
        # Lazy deletion leaves dead entries deep in the heaps; drop them once they
        # outnumber the live ones, so memory stays flat over long horizons.
        self.fresh = [e for e in self.fresh if e[2] is not None]
        self.started = [e for e in self.started if e[2] is not None]
        heapq.heapify(self.fresh)
        heapq.heapify(self.started)
        self.stale = 0

    def remove(self, item: Item) -> None:
        """Take an item out for good (done, forgotten or dropped)."""
        if self.items.pop(item.id, None) is None:
            return
        self._invalidate(item)
        if item.ceo_entry is not None:
            item.ceo_entry[3] = None
            item.ceo_entry = None
            self.ceo_stale += 1
            if self.ceo_stale > len(self.items) + 64:
                self.by_ceo = [e for e in self.by_ceo if e[3] is not None]
                heapq.heapify(self.by_ceo)
                self.ceo_stale = 0
        if item.started:
            self.n_started -= 1
        if item.expedite:
            item.expedite = False
            self.expedite_in_lane -= 1
            self._readmit()

    def _readmit(self) -> None:
        """A place in the expedite lane freed up: the oldest urgent item waiting gets it."""
        queue, items = self.lane_queue, self.items
        while queue:
            _, added, _, item = heapq.heappop(queue)
            if items.get(item.id) is item and item.added == added and not item.expedite:
                self.reprioritise(item)
                return

    def reprioritise(self, item: Item) -> None:
        """Re-rank an item whose urgency or promise changed."""
        if item.id not in self.items:
            return
        if self.policy == "classes_of_service" and item.urgent:
            self._admit_expedite(item)
        if self.policy == "top_n":
            self._rank_for_ceo(item)
        if item.entry is not None:  # not the item in the lead's hands
            self._invalidate(item)
            self._push(item)

    # -- choosing ------------------------------------------------------------------
    def take(self, started_only: bool) -> Item | None:
        """Take the item to work on next out of the heaps (it stays in the backlog)."""
        started, fresh = self.started, self.fresh
        while started and started[0][2] is None:
            heapq.heappop(started)
        if not started_only:
            while fresh and fresh[0][2] is None:
                heapq.heappop(fresh)
            if fresh and (not started or fresh[0][:2] < started[0][:2]):
                entry = heapq.heappop(fresh)
                item: Item = entry[2]
                item.entry = None
                item.started = True
                self.n_started += 1
                return item
        if not started:
            return None
        item = heapq.heappop(started)[2]
        item.entry = None
        return item

    def put_back(self, item: Item) -> None:
        """Return a preempted item to the heaps, as started work."""
        if item.id in self.items:
            self._push(item)

    def make_daily_list(self) -> None:
        """Post the CEO's daily top-N list: re-key only the items joining or leaving it."""
        listed: list[Item] = []
        entries: list[list[Any]] = []
        heap = self.by_ceo
        while heap and len(listed) < self.prio.top_n:
            entry = heapq.heappop(heap)
            if entry[3] is not None:
                entries.append(entry)
                listed.append(entry[3])
            else:
                self.ceo_stale -= 1
        for entry in entries:
            heapq.heappush(heap, entry)
        for item in self.daily_list:
            if item.list_pos >= 0:
                item.list_pos = -1
                if item.entry is not None:
                    self._invalidate(item)
                    self._push(item)
        for pos, item in enumerate(listed):
            item.list_pos = pos
            if item.entry is not None:  # the item in the lead's hands is re-keyed when put back
                self._invalidate(item)
                self._push(item)
        self.daily_list = listed


_QUEUED = object()  # the ``entry`` of an item waiting in a FifoBacklog's queue


class FifoBacklog(_Items):
    """First come, first served: the same interface on deques, for speed.

    Under FIFO the item in the lead's hands is always the oldest, so a preempted
    item simply goes back to the front.  Protected platform time goes first, as under
    every policy: platform items wait in a deque of their own, taken before the rest.
    An item removed while queued (dropped) stays in its deque with its ``entry``
    cleared and is skipped when it reaches the front; under FIFO nothing removed
    comes back, so a skipped item is never a live one.
    """

    def __init__(self, prio: Prioritisation) -> None:
        super().__init__(prio)
        self.queue: deque[Item] = deque()
        self.platform: deque[Item] = deque()

    def add(self, item: Item) -> None:
        self.items[item.id] = item
        item.entry = _QUEUED
        (self.platform if item.kind == "platform" else self.queue).append(item)

    def remove(self, item: Item) -> None:
        if self.items.pop(item.id, None) is None:
            return
        item.entry = None
        if item.started:
            self.n_started -= 1

    def reprioritise(self, item: Item) -> None:
        """Urgency and promises do not reorder a FIFO queue."""

    def make_daily_list(self) -> None:
        """A FIFO queue has no daily list."""

    def take(self, started_only: bool) -> Item | None:
        # The platform deque, then the queue, written out rather than looped over.
        queue = self.platform
        while queue and queue[0].entry is None:
            queue.popleft()
        if not queue or (started_only and not queue[0].started):
            queue = self.queue
            while queue and queue[0].entry is None:
                queue.popleft()
            if not queue or (started_only and not queue[0].started):
                return None
        item = queue.popleft()
        item.entry = None
        if not item.started:
            item.started = True
            self.n_started += 1
        return item

    def put_back(self, item: Item) -> None:
        if item.id in self.items:
            item.entry = _QUEUED
            (self.platform if item.kind == "platform" else self.queue).appendleft(item)


def make_backlog(prio: Prioritisation) -> Backlog | FifoBacklog:
    """The backlog for the configured prioritisation policy."""
    return FifoBacklog(prio) if prio.policy == "fifo" else Backlog(prio)
