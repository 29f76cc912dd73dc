"""The mechanism interface: what every mechanism of MODEL.md looks like to the wiring.

A mechanism owns one section of the config, the processes and handlers that carry
it out, the event-log rows it writes and the summary metrics it contributes.  It
never imports the company that builds it: its constructor takes the services it
needs (the clock, the ledger, the lead, the team, other mechanisms' entry points),
and the company, which is only wiring and clocks, hands them over.  Whether it is
switched on is decided once, by :meth:`Mechanism.switched_on` on its own section;
a mechanism that is off is still built (its counters read zero) but never started
and never connected, so it costs nothing while the model runs.
"""

from __future__ import annotations

from typing import Any, ClassVar

from flowsim.model.recorder import Window


class Mechanism:
    """Base class of the mechanisms in :mod:`flowsim.model.mechanisms`.

    Class attributes
    ----------------
    section : str
        Dotted path of the config section it owns, e.g. ``"status_calls"``.
    events : tuple of str
        The ``event`` values of the event-log rows it writes.
    shapes_ticket_queue : bool
        Whether, switched on, it changes the queue of tickets in front of the lead
        (his speed, what else he works on, who arrives or leaves).  The textbook
        reductions (M/M/1, ...) hold when every mechanism that does is switched off.
    """

    section: ClassVar[str] = ""
    events: ClassVar[tuple[str, ...]] = ()
    shapes_ticket_queue: ClassVar[bool] = True

    @staticmethod
    def switched_on(config: Any) -> bool:
        """Whether the mechanism acts, given its own section (read once, at wiring)."""
        return True

    def start(self) -> None:
        """Start its processes (called once, in the company's start order)."""

    def metrics(self, window: Window) -> dict[str, float]:
        """Its summary metrics over the steady-state window, after the run."""
        return {}


def section_of(params: Any, path: str) -> Any:
    """The config section at dotted ``path`` (a mechanism's ``section``) of ``params``."""
    section = params
    for part in path.split("."):
        section = getattr(section, part)
    return section
