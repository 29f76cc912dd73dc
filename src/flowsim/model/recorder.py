"""What a run remembers: the event log, windowed hour books and time-weighted levels.

Everything here is append-only and cheap on the hot path; tidy frames are built
once, after the run.
"""

from __future__ import annotations

from collections import defaultdict


class Window:
    """The steady-state window [warmup, horizon] in clock hours."""

    __slots__ = ("start", "end")

    def __init__(self, start: float, end: float) -> None:
        self.start = start
        self.end = end

    def overlap(self, t0: float, t1: float) -> float:
        """Length of [t0, t1] inside the window."""
        lo = t0 if t0 > self.start else self.start
        hi = t1 if t1 < self.end else self.end
        return hi - lo if hi > lo else 0.0

    def __contains__(self, t: float) -> bool:
        return self.start <= t <= self.end


class HourBook:
    """Hours booked by activity, over the whole run and inside the window."""

    def __init__(self, window: Window, speed: float) -> None:
        self.window = window
        self.speed = speed  # person-hours per clock hour
        self.total: dict[str, float] = defaultdict(float)
        self.in_window: dict[str, float] = defaultdict(float)

    def book(self, activity: str, t0: float, t1: float, share: float = 1.0) -> None:
        if t1 <= t0:
            return
        factor = self.speed * share
        self.total[activity] += (t1 - t0) * factor
        self.in_window[activity] += self.window.overlap(t0, t1) * factor


class Level:
    """A piecewise-constant quantity integrated over time (time-weighted mean)."""

    __slots__ = ("window", "value", "since", "area_total", "area_window")

    def __init__(self, window: Window, value: float = 0.0) -> None:
        self.window = window
        self.value = value
        self.since = 0.0
        self.area_total = 0.0
        self.area_window = 0.0

    def set(self, now: float, value: float) -> None:
        if value == self.value:
            return
        self._advance(now)
        self.value = value

    def add(self, now: float, delta: float) -> None:
        self._advance(now)
        self.value += delta

    def _advance(self, now: float) -> None:
        dt = now - self.since
        if dt > 0:
            self.area_total += dt * self.value
            self.area_window += self.window.overlap(self.since, now) * self.value
            self.since = now

    def window_mean(self, now: float) -> float:
        """Time-weighted mean over the window (call at the end of the run)."""
        self._advance(now)
        length = self.window.end - self.window.start
        return self.area_window / length if length > 0 else float("nan")


EVENT_COLUMNS = ("time", "entity", "kind", "event", "actor", "customer")


class EventLog:
    """One row per state change: (time, entity, kind, event, actor, customer)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.rows: list[tuple[float, int, str, str, str, int]] = []
        if not enabled:
            self.add = self._skip  # type: ignore[method-assign]

    def add(self, time: float, entity: int, kind: str, event: str, actor: str, customer: int) -> None:
        self.rows.append((time, entity, kind, event, actor, customer))

    def _skip(self, *args: object) -> None:
        pass
