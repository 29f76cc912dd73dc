"""Mechanism 2, context switching: the lead's efficiency falls with his started items."""

from __future__ import annotations

from pydantic import Field, model_validator

from flowsim.model.mechanism import Mechanism
from flowsim.model.section import Section, off_switch


class ContextSwitching(Section):
    """Mechanism 2: efficiency falls with the number of items started and not finished."""

    enabled: bool = off_switch("context switching")
    efficiency: list[float] = Field(
        [1.0, 0.8, 0.6, 0.4, 0.25],
        min_length=1,
        description=(
            "Share of his time on task with 1, 2, 3, ... started items; the last value holds "
            "for more. Source: Weinberg, Quality Software Management vol. 1."
        ),
    )

    @model_validator(mode="after")
    def _shares(self) -> ContextSwitching:
        if any(not 0 < e <= 1 for e in self.efficiency):
            raise ValueError(f"efficiency values must be in (0, 1], got {self.efficiency}")
        return self


class ContextSwitchingMechanism(Mechanism):
    """The lead works at a share of his speed that depends on his number of started items.

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
