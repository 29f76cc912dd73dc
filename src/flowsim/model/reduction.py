"""When the model reduces to a textbook queue, and what the textbook says it should give."""

from __future__ import annotations

from flowsim.model.calendar import Calendar
from flowsim.model.mechanism import section_of
from flowsim.model.mechanisms import MECHANISMS
from flowsim.model.params import Params


def mechanisms_shaping_the_queue(params: Params) -> list[str]:
    """The mechanisms switched on in ``params`` that change the lead's ticket queue,
    by their own off switches (see ``Mechanism.shapes_ticket_queue``)."""
    return [
        m.__name__
        for m in MECHANISMS
        if m.shapes_ticket_queue and m.switched_on(section_of(params, m.section))
    ]


def mm1_time_in_system_days(params: Params) -> float | None:
    """Mean ticket time in system of the M/M/1 queue ``params`` reduces to, in working days.

    ``None`` when the config does not reduce to M/M/1: some mechanism that shapes the
    lead's ticket queue is switched on, somebody besides the lead works, he does not
    serve first come first served, tickets are off, are closed as stale (reneging), or
    come in several classes or with non-exponential effort or not all need him; or when
    the queue is unstable.  Then
    W = 1/(mu - lambda), with lambda the ticket rate of the live customers and mu his
    capacity over the mean effort.
    """
    p = params
    team = p.team.contractors + p.team.engineers + p.team.support
    if (
        mechanisms_shaping_the_queue(p)
        or team > 0
        or p.lead.prioritisation.policy != "fifo"
        or not p.tickets.enabled
        or p.tickets.abandon_after_days is not None
        or len(p.tickets.classes) != 1
    ):
        return None
    (only,) = p.tickets.classes.values()
    if only.effort.kind != "exponential" or only.lead_share < 1:
        return None
    cal = Calendar(p.simulation.hours_per_day)
    lam = p.tickets.per_customer_per_week * p.customers.initial_live / cal.week
    mu = p.lead.capacity_hours_per_week / cal.week / only.effort.mean
    if lam >= mu:
        return None
    return 1 / (mu - lam) / cal.day
