"""The mechanisms of MODEL.md, one module each (see :mod:`flowsim.model.mechanism`)."""

from flowsim.model.mechanisms.calls import StatusCallsMechanism
from flowsim.model.mechanisms.context_switching import ContextSwitchingMechanism
from flowsim.model.mechanisms.forgetting import ForgettingMechanism
from flowsim.model.mechanisms.health import ChurnMechanism, HealthMechanism
from flowsim.model.mechanisms.hiring import HiringMechanism
from flowsim.model.mechanisms.interrupts import DirectAccessMechanism, InterruptsMechanism
from flowsim.model.mechanisms.onboarding import OnboardingMechanism
from flowsim.model.mechanisms.platform import PlatformMechanism
from flowsim.model.mechanisms.promises import PromisesMechanism
from flowsim.model.mechanisms.quality import QualityMechanism
from flowsim.model.mechanisms.sales import SalesMechanism
from flowsim.model.mechanisms.tickets import TicketsMechanism

MECHANISMS = (
    SalesMechanism,
    OnboardingMechanism,
    TicketsMechanism,
    ContextSwitchingMechanism,
    InterruptsMechanism,
    DirectAccessMechanism,
    StatusCallsMechanism,
    PromisesMechanism,
    ForgettingMechanism,
    QualityMechanism,
    HealthMechanism,
    ChurnMechanism,
    PlatformMechanism,
    HiringMechanism,
)
"""Every mechanism class, in the order MODEL.md tells the story."""

__all__ = [m.__name__ for m in MECHANISMS]
