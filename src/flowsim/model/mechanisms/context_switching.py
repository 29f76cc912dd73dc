"""Mechanism 2, context switching: the lead's efficiency falls with his started items."""

from __future__ import annotations

from pydantic import Field, model_validator

from flowsim.model.mechanism import Mechanism
from flowsim.model.section import Section, off_switch


class ContextSwitching(Section):
    """Mechanism 2: efficiency falls with the number of items he juggles."""

    enabled: bool = off_switch("context switching")
    efficiency: list[float] = Field(
        [1.0, 0.8, 0.6, 0.4, 0.25],
        min_length=1,
        description=(
            "Share of his time on task while juggling 1, 2, 3, ... items; the last value "
            "holds for more. Source: Weinberg, Quality Software Management vol. 1."
        ),
    )
    window_days: float = Field(
        5,
        gt=0,
        description="An unfinished item he has worked on counts as juggled for this many "
        "working days after he last touched it; one he has not touched for longer is parked "
        "and costs nothing. Assumption: a working week of juggling.",
    )

    @model_validator(mode="after")
    def _shares(self) -> ContextSwitching:
        if any(not 0 < e <= 1 for e in self.efficiency):
            raise ValueError(f"efficiency values must be in (0, 1], got {self.efficiency}")
        return self


class ContextSwitchingMechanism(Mechanism):
    """The lead works at a share of his speed that depends on how many items he juggles:
    the unfinished items he has worked on within the last ``window_days``, the one in
    hand included.  Backlog work and urgent work both pay it; meetings and protected
    platform time are fixed stretches of time and do not.

    It has no process of its own: the lead's work loop applies the table it gives
    (:func:`efficiency_table`) and books the share lost as *switching*.
    """

    section = "context_switching"

    @staticmethod
    def switched_on(config: ContextSwitching) -> bool:
        return config.enabled


def efficiency_table(config: ContextSwitching) -> list[float]:
    """Share of time on task with 1, 2, ... started items; ``[1.0]`` when switched off."""
    return list(config.efficiency) if config.enabled else [1.0]
