"""When the model reduces to a textbook queue, and what the textbook says it should give."""

from __future__ import annotations

from flowsim.model.calendar import Calendar
from flowsim.model.params import Params


def mm1_time_in_system_days(params: Params) -> float | None:
    """Mean ticket time in system of the M/M/1 queue ``params`` reduces to, in working days.

    ``None`` when the config does not reduce to M/M/1 (some mechanism besides the
    ticket stream is on, somebody besides the lead works, he does not serve FIFO,
    tickets come in several classes or with non-exponential effort, or some do not
    need him) or when the queue is unstable.  Then W = 1/(mu - lambda), with lambda
    the ticket rate of the live customers and mu his capacity over the mean effort.
    """
    p = params
    da = p.interrupts.direct_access
    if (
        p.context_switching.enabled
        or p.interrupts.enabled
        or (da.enabled and da.customers > 0 and da.pings_per_week > 0)
        or p.status_calls.enabled
        or p.churn.enabled
        or p.quality.enabled
        or p.platform.enabled
        or p.sales.new_customers_per_month > 0
        or p.team.contractors + p.team.engineers + p.team.support > 0
        or p.hiring.plan
        or p.lead.prioritisation.policy != "fifo"
        or not p.tickets.enabled
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
