"""Scheduling without processes: for what happens at a time and needs no state between
steps, a callback on a timeout costs a fraction of a SimPy process's step.

The order of events at one instant is part of a run's identity (the event log
records it), so these helpers schedule exactly the events a process would:
:class:`Soon` is what ``env.process(...)`` schedules to start a process (an urgent
event at the current time), and a recurring callback schedules its next timeout
where the process would have yielded it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import simpy
from simpy.events import URGENT, Event


class Soon(Event):
    """Call ``callback(event)`` now, where a process started now would take its first step."""

    def __init__(self, env: simpy.Environment, callback: Callable[[Any], None]) -> None:
        # As simpy's Initialize event: triggered at once, with urgent priority.
        self.env = env
        self.callbacks = [callback]
        self._value = None
        self._ok = True
        env.schedule(self, URGENT)


def at(env: simpy.Environment, t: float, fn: Callable[[], None]) -> None:
    """Run ``fn`` at clock time ``t`` (one timeout event)."""
    env.timeout(max(0.0, t - env.now)).callbacks.append(lambda _ev: fn())


def every(
    env: simpy.Environment, period: float, hooks: list[Callable[[], None]], first: bool
) -> None:
    """Run ``hooks`` every ``period`` hours, from now if ``first`` (else from ``period``).

    Equivalent, event for event, to a process that loops over ``hooks`` and yields a
    timeout of ``period``.
    """
    timeout = env.timeout

    def tick(_ev: Any) -> None:
        for hook in hooks:
            hook()
        timeout(period).callbacks.append(tick)

    if first:
        Soon(env, tick)
    else:
        Soon(env, lambda _ev: timeout(period).callbacks.append(tick))
