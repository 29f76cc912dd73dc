"""Platform investment: protected lead time that makes the platform safe for others."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import Field

from flowsim.model.effects import PlatformEffects
from flowsim.model.entities import Item
from flowsim.model.ledger import Ledger
from flowsim.model.mechanism import Mechanism
from flowsim.model.section import Section


class Platform(Section):
    """Platform investment: protected lead time that makes the platform safe for others."""

    enabled: bool = Field(False, description="Off switch: the baseline invests nothing.")
    share_of_week: float = Field(
        0.2, ge=0, le=1, description="Share of the lead's week spent on the platform."
    )
    hours_per_step: float = Field(40, gt=0, description="Lead hours invested per improvement step.")
    lead_share_cut: float = Field(
        0.02, ge=0, le=1, description="Each step cuts every lead-required share by this (absolute)."
    )
    lead_share_floor: float = Field(0.2, ge=0, le=1, description="Lead-required shares stop here.")
    overhead_cut: float = Field(
        0.05, ge=0, le=1, description="Each step cuts spec/review overhead by this (relative)."
    )
    overhead_floor: float = Field(
        0.5, ge=0, le=1, description="Spec/review overhead stops at this share of its start."
    )
    defect_cut: float = Field(
        0.05, ge=0, le=1, description="Each step cuts the defect chance by this (relative)."
    )


class PlatformMechanism(Mechanism):
    """Each week a protected block of the lead's time goes to the platform; every
    ``hours_per_step`` hours invested is one improvement step of :class:`PlatformEffects`.

    Parameters
    ----------
    config : Platform
    capacity_hours_per_week : float
        The lead's week, of which ``share_of_week`` is invested.
    effects : PlatformEffects
    ledger : Ledger
    send : callable
        Routes an item to the lead as a (scheduled) interrupt.
    """

    section = "platform"

    def __init__(
        self,
        config: Platform,
        capacity_hours_per_week: float,
        effects: PlatformEffects,
        ledger: Ledger,
        send: Callable[[Item], None],
    ) -> None:
        self.config = config
        self.block = config.share_of_week * capacity_hours_per_week
        self.effects = effects
        self.ledger = ledger
        self.send = send
        self.hours = 0.0

    @staticmethod
    def switched_on(config: Platform) -> bool:
        return config.enabled and config.share_of_week > 0

    def weekly(self) -> None:
        self.send(self.ledger.new("platform", None, self.block))

    def invested(self, item: Item, actor: str) -> None:
        """A platform block is done: its hours count towards the next step."""
        self.hours += item.effort
        self._apply(int(self.hours // self.config.hours_per_step))

    def _apply(self, steps: int) -> None:
        """The effects of ``steps`` improvement steps."""
        config, effects = self.config, self.effects

        def cut(base: float) -> float:
            if base <= config.lead_share_floor:
                return base
            return max(config.lead_share_floor, base - steps * config.lead_share_cut)

        effects.onboarding_lead_share = cut(effects.base_onboarding_lead_share)
        effects.ticket_lead_share = {c: cut(s) for c, s in effects.base_ticket_lead_shares.items()}
        effects.overhead_mult = max(config.overhead_floor, (1 - config.overhead_cut) ** steps)
        effects.defect_mult = (1 - config.defect_cut) ** steps
