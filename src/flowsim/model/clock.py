"""Scheduling without processes: for what happens at a time and needs no state between
steps, a callback on an event costs a fraction of a SimPy process's step.

The order of events at one instant is part of a run's identity (the event log
records it), so these helpers schedule exactly the events a process would, with
the same priority and the same place in the environment's sequence of events:
:func:`soon` is what ``env.process(...)`` schedules to start a process (an urgent
event now), :func:`call_in` what ``env.timeout(delay)`` schedules, and
:func:`run_until` steps through them exactly as ``env.run(until=...)`` does.

Why not ``env.timeout(...).callbacks.append(fn)``: a :class:`simpy.Timeout` is a
general event (a dict of attributes, a value, a check of its delay, a method call to
schedule it).  The model's own events need none of that: :class:`Call` is the one
thing the environment reads from an event (its callbacks and whether it succeeded),
so creating and scheduling one costs about half as much.  They run on the very same
environment as SimPy's processes and resources, which the rarer mechanisms use.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any

import simpy
from simpy.events import NORMAL, URGENT, Event

Callback = Callable[[Any], None]


class Call:
    """An event that calls its callbacks when it fires and never fails.

    ``callbacks`` is a list, as on every SimPy event, so a callback can be removed
    before the event fires (a preemption takes back the end of a stretch of work).
    """

    # ``_ok`` is what the environment checks after the callbacks (it succeeded): a
    # slot, read for every event, is found faster than a class attribute.
    __slots__ = ("callbacks", "_ok")
    _value = None

    def __init__(self, fn: Callback) -> None:
        self.callbacks: list[Callback] | None = [fn]
        self._ok = True


_new = object.__new__  # a Call without its __init__: a fifth cheaper, and made per ticket


def call_in(env: simpy.Environment, delay: float, fn: Callback) -> Call:
    """Call ``fn(event)`` in ``delay`` hours: the event ``env.timeout(delay)`` would be."""
    event = _new(Call)
    event.callbacks = [fn]
    event._ok = True
    queue: list[Any] = env._queue  # SimPy's own queue, which types its entries as Events
    heappush(queue, (env._now + delay, NORMAL, next(env._eid), event))
    return event


def again(env: simpy.Environment, event: Call | None, t: float, fn: Callback) -> Call:
    """Call ``fn`` at clock time ``t`` on ``event`` if it has fired, else on a new event.

    A chain of events of which only one is pending at a time (the end of the lead's
    stretch of work, a customer's next ticket) can reuse one object: once the
    environment has fired an event, its callbacks are ``None`` and it is free.  The
    event is scheduled exactly where ``call_in(env, t - now, fn)`` would be.
    """
    if event is None or event.callbacks is not None:
        event = _new(Call)
        event._ok = True
    event.callbacks = [fn]
    queue: list[Any] = env._queue
    heappush(queue, (t, NORMAL, next(env._eid), event))
    return event


def soon(env: simpy.Environment, fn: Callback) -> Call:
    """Call ``fn(event)`` now, where a process started now would take its first step
    (simpy's ``Initialize``: an urgent event, ahead of what is due at this instant)."""
    event = Call(fn)
    queue: list[Any] = env._queue
    heappush(queue, (env._now, URGENT, next(env._eid), event))
    return event


def at(env: simpy.Environment, t: float, fn: Callable[[], None]) -> None:
    """Run ``fn`` at clock time ``t`` (one timeout event)."""
    call_in(env, max(0.0, t - env.now), lambda _ev: fn())


def every(
    env: simpy.Environment, period: float, hooks: list[Callable[[], None]], first: bool
) -> None:
    """Run ``hooks`` every ``period`` hours, from now if ``first`` (else from ``period``).

    Equivalent, event for event, to a process that loops over ``hooks`` and yields a
    timeout of ``period``.
    """

    def tick(event: Call) -> None:
        for hook in hooks:
            hook()
        again(env, event, env._now + period, tick)

    def start(_ev: Any) -> None:
        call_in(env, period, tick)

    soon(env, tick if first else start)


def run_until(env: simpy.Environment, until: float) -> None:
    """``env.run(until=until)``, event for event, without a method call per event.

    SimPy's loop calls ``Environment.step`` for every event; the model's runs spend
    a tenth of their time in that call alone.  This loop does what ``step`` does,
    in the same order: it sets the clock, hands the event's callbacks to each in
    turn, and raises the exception of an event that failed and was not defused (a
    process that crashed).  Like ``env.run``, it stops at an urgent event scheduled
    at ``until`` now, so every event due before ``until`` runs and none after.
    """
    if until <= env._now:
        raise ValueError(f"until ({until}) must be greater than the current simulation time")
    # The stop event raises when it fires, as env.run's does: the loop then needs no
    # test of its own per event.
    stop = Event(env)
    stop._ok = True
    stop._value = None
    stop.callbacks.append(_stop)
    env.schedule(stop, URGENT, until - env._now)
    queue: list[Any] = env._queue
    event: Any
    try:
        while True:
            env._now, _, _, event = heappop(queue)
            callbacks, event.callbacks = event.callbacks, None
            for callback in callbacks:
                callback(event)
            if not event._ok and not hasattr(event, "_defused"):
                failure = event._value
                exc = type(failure)(*failure.args)
                exc.__cause__ = failure
                raise exc
    except _Stopped:
        return


class _Stopped(Exception):
    """Raised by the event at which :func:`run_until` stops."""


def _stop(_event: Event) -> None:
    raise _Stopped
