"""What the platform allows today: the shares of work that need the lead, the spec and
review overhead and the defect chance, as the platform investment has left them.

Every run has one; the platform mechanism moves it, and the mechanisms whose work it
changes (onboarding, tickets, quality) read it.  Without investment it never changes.
"""

from __future__ import annotations


class PlatformEffects:
    """The current lead-required shares, and the multipliers of overhead and defects."""

    def __init__(self, onboarding_lead_share: float, ticket_lead_shares: dict[str, float]) -> None:
        self.base_onboarding_lead_share = onboarding_lead_share
        self.base_ticket_lead_shares = dict(ticket_lead_shares)
        self.onboarding_lead_share = onboarding_lead_share
        self.ticket_lead_share = dict(ticket_lead_shares)
        self.overhead_mult = 1.0
        self.defect_mult = 1.0
