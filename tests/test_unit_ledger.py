"""Unit tests of :class:`flowsim.model.ledger.Ledger`, built alone on a bare environment.

The ledger is the one place where work items are created and where they end, so
conservation of work (MODEL.md: everything that arrives is waiting, active,
forgotten, done or dropped with a reason) rests on it.  These tests pin, without
any mechanism or :class:`~flowsim.model.company.Company`:

* item ids are consecutive from 0 and ``created``/``done`` count arrivals and ends;
* ``complete`` marks the item done, runs every ``before_done`` hook and then the
  ``on_done`` handler of the item's kind only, and completing twice changes nothing
  (a second end would double-count work and re-run the mechanisms' follow-ups);
* ``drop`` ends only waiting or forgotten items, counts its reason and runs the
  ``on_drop`` hooks while the item still looks waiting (the hooks decide what to
  undo from the state it was in);
* ``track_open`` keeps and clears each customer's ``open_items`` (churn drops them);
* ``conservation(active, forgotten)`` adds up to ``arrived``;
* the arrive, done and dropped rows reach the event log with the right actor and
  customer (read back through :meth:`EventLog.frame`).
"""

from __future__ import annotations

import simpy

from flowsim.model.entities import Customer, Item
from flowsim.model.eventlog import EventLog
from flowsim.model.ledger import Ledger

HOURS_PER_DAY = 8.0


def make_ledger(logging: bool = True) -> tuple[simpy.Environment, EventLog, Ledger]:
    env = simpy.Environment()
    log = EventLog(logging)
    return env, log, Ledger(env, log)


def advance(env: simpy.Environment, t: float) -> None:
    """Move the bare environment's clock to ``t`` (nothing else is scheduled)."""
    env.run(until=t)


def rows(log: EventLog) -> list[tuple[float, int, str, str, str, int]]:
    """The log's rows as plain tuples: (time, entity, kind, event, actor, customer)."""
    df = log.frame(HOURS_PER_DAY)
    return [
        (float(r.time), int(r.entity), str(r.kind), str(r.event), str(r.actor), int(r.customer))
        for r in df.itertuples()
    ]


def test_new_numbers_items_from_zero_and_counts_arrivals() -> None:
    env, _, ledger = make_ledger()
    cust = Customer(7, 0.0, 80.0)
    a = ledger.new("task", cust, 3.0)
    advance(env, 2.5)
    b = ledger.new("ticket", None, 1.5, "urgent", origin=1.0)
    assert (a.id, b.id) == (0, 1)
    assert ledger.created == 2 and ledger.done == 0
    assert (a.kind, a.effort, a.remaining, a.arrived, a.origin) == ("task", 3.0, 3.0, 0.0, 0.0)
    # ``origin`` is when the customer's request began, which may precede the item.
    assert (b.arrived, b.origin, b.cls, b.urgent) == (2.5, 1.0, "urgent", True)
    assert a.state == b.state == "waiting"
    assert (a.customer, b.customer) == (cust, None)


def test_new_writes_arrive_rows_with_class_and_customer() -> None:
    env, log, ledger = make_ledger()
    cust = Customer(3, 0.0, 80.0)
    ledger.new("ticket", cust, 1.0, "normal")
    advance(env, 4.0)
    ledger.new("task", None, 2.0)
    ledger.new("ticket", cust, 1.0, "urgent")
    # The arrive row's actor is the item's class; its customer the item's customer.
    assert rows(log) == [
        (0.0, 0, "ticket", "arrive", "normal", 3),
        (4.0, 1, "task", "arrive", "", -1),
        (4.0, 2, "ticket", "arrive", "urgent", 3),
    ]


def test_complete_runs_before_done_hooks_then_the_kinds_handler() -> None:
    env, log, ledger = make_ledger()
    calls: list[tuple[str, int, str]] = []
    ledger.before_done.append(lambda item: calls.append(("before1", item.id, item.state)))
    ledger.before_done.append(lambda item: calls.append(("before2", item.id, item.state)))
    ledger.on_done["ticket"] = lambda item, actor: calls.append(("ticket", item.id, actor))
    ledger.on_done["task"] = lambda item, actor: calls.append(("task", item.id, actor))
    ticket = ledger.new("ticket", None, 1.0)
    advance(env, 2.0)
    ledger.complete(ticket, "lead")
    # Promises (a before_done hook) must see the item done before the ticket mechanism
    # moves on; the other kind's handler is not called.
    assert calls == [("before1", 0, "done"), ("before2", 0, "done"), ("ticket", 0, "lead")]
    assert ticket.state == "done"
    assert ledger.done == 1
    assert rows(log)[-1] == (2.0, 0, "ticket", "done", "lead", -1)


def test_complete_by_someone_else_logs_that_actor_and_a_kind_without_handler_is_fine() -> None:
    env, log, ledger = make_ledger()
    task = ledger.new("task", None, 1.0)
    advance(env, 1.0)
    ledger.complete(task, "contractor2")  # no on_done["task"]: just done and counted
    assert task.state == "done" and ledger.done == 1
    assert rows(log)[-1] == (1.0, 0, "task", "done", "contractor2", -1)


def test_completing_twice_is_a_noop() -> None:
    env, log, ledger = make_ledger()
    calls: list[str] = []
    ledger.before_done.append(lambda item: calls.append("before"))
    ledger.on_done["ticket"] = lambda item, actor: calls.append(actor)
    ticket = ledger.new("ticket", None, 1.0)
    ledger.complete(ticket, "lead")
    n_rows = len(log.times)
    ledger.complete(ticket, "support1")
    assert calls == ["before", "lead"]
    assert ledger.done == 1
    assert len(log.times) == n_rows


def test_drop_ends_only_waiting_or_forgotten_items() -> None:
    _, log, ledger = make_ledger()
    hooked: list[int] = []
    ledger.on_drop.append(lambda item: hooked.append(item.id))
    waiting = ledger.new("task", None, 1.0)
    forgotten = ledger.new("task", None, 1.0)
    forgotten.state = "forgotten"
    active = ledger.new("task", None, 1.0)
    active.state = "active"
    done = ledger.new("task", None, 1.0)
    ledger.complete(done, "lead")
    for item in (waiting, forgotten, active, done):
        ledger.drop(item, "churned")
    # Work in someone's hands or already done is not dropped (nor counted, nor hooked).
    assert (waiting.state, forgotten.state) == ("dropped", "dropped")
    assert (active.state, done.state) == ("active", "done")
    assert hooked == [waiting.id, forgotten.id]
    assert ledger.dropped_reasons == {"churned": 2}
    dropped_rows = [r for r in rows(log) if r[3] == "dropped"]
    assert [(r[1], r[4]) for r in dropped_rows] == [
        (waiting.id, "churned"),
        (forgotten.id, "churned"),
    ]


def test_drop_counts_reasons_and_runs_hooks_before_the_state_changes() -> None:
    env, log, ledger = make_ledger()
    cust = Customer(5, 0.0, 80.0)
    seen: list[tuple[int, str, bool]] = []
    # A hook (the lead's discard, the forgetting counter) reads the state the item was in.
    ledger.on_drop.append(
        lambda item: seen.append((item.id, item.state, item.id in cust.open_items))
    )
    a = ledger.new("ticket", cust, 1.0)
    b = ledger.new("ticket", cust, 1.0)
    c = ledger.new("task", cust, 1.0)
    c.state = "forgotten"
    advance(env, 3.0)
    ledger.drop(a, "churned")
    ledger.drop(b, "triaged")
    ledger.drop(c, "churned")
    ledger.drop(a, "churned")  # dropping twice: the item is no longer waiting
    assert seen == [(0, "waiting", True), (1, "waiting", True), (2, "forgotten", True)]
    assert ledger.dropped_reasons == {"churned": 2, "triaged": 1}
    assert cust.open_items == {}
    assert [r for r in rows(log) if r[3] == "dropped"] == [
        (3.0, 0, "ticket", "dropped", "churned", 5),
        (3.0, 1, "ticket", "dropped", "triaged", 5),
        (3.0, 2, "task", "dropped", "churned", 5),
    ]


def test_track_open_keeps_a_customers_open_items_until_they_end() -> None:
    _, _, ledger = make_ledger()
    cust = Customer(1, 0.0, 80.0)
    a = ledger.new("ticket", cust, 1.0)
    b = ledger.new("task", cust, 1.0)
    c = ledger.new("task", cust, 1.0)
    ledger.new("task", None, 1.0)  # no customer: nothing to track
    assert list(cust.open_items) == [a.id, b.id, c.id]
    assert cust.open_items[b.id] is b
    ledger.complete(a, "lead")
    ledger.drop(b, "churned")
    assert list(cust.open_items) == [c.id]


def test_track_open_off_keeps_no_open_items() -> None:
    _, _, ledger = make_ledger()
    ledger.track_open = False  # churn off: nobody drops a customer's items
    cust = Customer(1, 0.0, 80.0)
    a = ledger.new("ticket", cust, 1.0)
    assert cust.open_items == {}
    ledger.complete(a, "lead")
    assert cust.open_items == {} and ledger.done == 1


def test_conservation_adds_up_to_arrivals() -> None:
    _, _, ledger = make_ledger()
    items = [ledger.new("task", None, 1.0) for _ in range(9)]
    ledger.complete(items[0], "lead")
    ledger.complete(items[1], "contractor1")
    ledger.drop(items[2], "churned")
    ledger.drop(items[3], "churned")
    ledger.drop(items[4], "triaged")
    items[5].state = "active"
    items[6].state = "forgotten"
    counts = ledger.conservation(active=1, forgotten=1)
    assert counts == {
        "waiting": 2,
        "active": 1,
        "forgotten": 1,
        "done": 2,
        "dropped": 3,
        "arrived": 9,
        "dropped_churned": 2,
        "dropped_triaged": 1,
    }
    states = ("waiting", "active", "forgotten", "done", "dropped")
    assert sum(counts[s] for s in states) == counts["arrived"]


def test_a_disabled_log_keeps_no_rows_but_the_ledger_still_counts() -> None:
    _, log, ledger = make_ledger(logging=False)
    a = ledger.new("ticket", None, 1.0)
    b = ledger.new("ticket", None, 1.0)
    ledger.complete(a, "lead")
    ledger.drop(b, "churned")
    assert (ledger.created, ledger.done, ledger.dropped_reasons) == (2, 1, {"churned": 1})
    assert len(log.times) == len(log.entities) == len(log.codes) == 0


def test_an_item_put_down_after_its_customer_churned_is_dropped() -> None:
    """A customer who leaves takes their open work with them; the item someone was
    working on goes too, when it is put down (preempted, or handed on for review)."""
    env, _, ledger = make_ledger()
    gone, stays = Customer(0, 0.0, 75.0), Customer(1, 0.0, 75.0)
    gone.state, stays.state = "churned", "live"
    a, b = ledger.new("task", gone, 1.0), ledger.new("task", stays, 1.0)
    a.state = b.state = "active"
    assert ledger.drop_if_customer_left(a) and a.state == "dropped"
    assert not ledger.drop_if_customer_left(b) and b.state == "active"
    assert ledger.dropped_reasons == {"churned": 1}


def test_the_ledger_makes_items_as_item_does() -> None:
    """``Ledger.new`` makes an item without the class call: the same fields as ``Item()``."""
    env, _, ledger = make_ledger()
    cust = Customer(3, 0.0, 80.0)
    advance(env, 2.0)
    for args in (("ticket", cust, 1.5, "urgent", 1.0), ("task", None, 3.0, "", None)):
        made = ledger.new(*args)
        kind, customer, effort, cls, origin = args
        by_hand = Item(made.id, kind, customer, effort, 2.0, cls, origin)
        assert vars(made) == vars(by_hand)
