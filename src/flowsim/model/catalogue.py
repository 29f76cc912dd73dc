"""Every quantity a run reports, with its meaning and unit: one catalogue for results,
tables and charts.

``METRICS`` are the summary metrics of one replication (warm-up excluded);
``SERIES`` are the columns of the daily time series, in column order.  Per-class
ticket times (``ticket_<class>_mean_days``, ``ticket_<class>_p85_days``) and the
lead's hours by activity (``lead_<activity>_hours_per_week``) follow a naming
pattern that :func:`describe_metric` understands.
"""

from __future__ import annotations

import math
from typing import NamedTuple


class Quantity(NamedTuple):
    """What a number means and its unit; ``share`` units are fractions of 1.

    ``steady`` marks a metric that presumes a steady state (a time-weighted level, or
    the waiting or lead times of items): in a run whose open work keeps growing it
    depends on the horizon, and reports flag it rather than average it silently.
    """

    meaning: str
    unit: str
    steady: bool = False


# Where the lead's hours go (MODEL.md's list), in reporting order.
LEAD_ACTIVITIES = (
    "onboarding",
    "tickets",
    "calls",
    "specs_reviews",
    "mentoring",
    "platform",
    "switching",
    "escalations",
    "idle",
)

METRICS: dict[str, Quantity] = {
    "window_weeks": Quantity("length of the steady-state window", "weeks"),
    "go_lives": Quantity("customers gone live in the window", "customers"),
    "go_lives_per_quarter": Quantity("go-lives per quarter (13 weeks)", "customers/quarter"),
    "onboarding_lead_time_p50_days": Quantity(
        "onboarding start to go-live, median", "days", steady=True
    ),
    "onboarding_lead_time_p85_days": Quantity(
        "onboarding start to go-live, 85th percentile", "days", steady=True
    ),
    "onboarding_lead_time_p95_days": Quantity(
        "onboarding start to go-live, 95th percentile", "days", steady=True
    ),
    "signed_to_live_p85_days": Quantity("signing to go-live, 85th percentile", "days", steady=True),
    "onboarding_task_p50_days": Quantity(
        "an onboarding task or ask, released to done, median", "days", steady=True
    ),
    "onboarding_task_p85_days": Quantity(
        "an onboarding task or ask, released to done, 85th percentile", "days", steady=True
    ),
    "open_onboarding_age_p50_days": Quantity(
        "age of onboardings still open at the horizon, median", "days", steady=True
    ),
    "tickets_closed_per_week": Quantity("tickets resolved per week", "tickets/week"),
    "tickets_abandoned": Quantity("tickets closed as stale, untouched too long", "tickets"),
    "tickets_open_at_horizon": Quantity("tickets not yet resolved at the end", "tickets"),
    "ticket_open_age_p50_days": Quantity(
        "age of tickets still open at the end, median", "days", steady=True
    ),
    "ticket_open_age_p85_days": Quantity(
        "age of tickets still open at the end, 85th percentile", "days", steady=True
    ),
    "ticket_resolution_mean_days": Quantity("ticket resolution time, mean", "days", steady=True),
    "lead_utilisation": Quantity("share of the lead's hours not idle", "share"),
    "contractor_busy_share": Quantity("contractors' and engineers' time working", "share"),
    "contractor_blocked_share": Quantity("their time idle while work waits on the lead", "share"),
    "lead_backlog_mean": Quantity(
        "items in the lead's backlog, time-weighted mean", "items", steady=True
    ),
    "promises_made": Quantity("dated promises made in the window", "promises"),
    "promises_kept": Quantity("promises kept", "promises"),
    "promises_broken": Quantity("promises broken", "promises"),
    "promises_kept_share": Quantity("kept / (kept + broken)", "share"),
    "items_forgotten": Quantity("items forgotten off the daily list", "items"),
    "defects": Quantity("defects raised as new tickets", "tickets"),
    "churned": Quantity("customers who left in the window", "customers"),
    "churned_while_onboarding": Quantity("of which still onboarding", "customers"),
    "gave_up_onboarding": Quantity(
        "of which gave up, onboarding too long without going live", "customers"
    ),
    "lost_deals": Quantity("signed customers lost waiting to start", "customers"),
    "live_customers_at_horizon": Quantity("live customers at the end", "customers"),
    "health_median_at_horizon": Quantity(
        "median health (0-100) of active customers at the end", "score"
    ),
    "red_share_at_horizon": Quantity("share of active customers in red health at the end", "share"),
    "onboarding_at_horizon": Quantity("customers still onboarding at the end", "customers"),
    "arr_at_horizon": Quantity("annual recurring revenue at the end", "currency/year"),
    "cumulative_revenue": Quantity("revenue earned in the window", "currency"),
    "net_revenue_retention": Quantity("ARR kept from customers live at the window start", "share"),
    "team_cost": Quantity("cost of the lead and the team in the window", "currency"),
    "calls_without_lead": Quantity(
        "calls he would have attended, run without him (his week's call hours were taken)",
        "calls",
    ),
    "interrupts_lapsed": Quantity(
        "pings, escalations and meetings that lapsed waiting for the lead", "items"
    ),
    "interrupts_downgraded": Quantity(
        "urgent work moved from his interrupts to his backlog after waiting", "items"
    ),
    "open_work_trend_per_week": Quantity(
        "growth of the open work items over the window, per week", "items/week"
    ),
    "open_work_trend_low": Quantity("its 95% interval, low end", "items/week"),
    "open_work_trend_high": Quantity("its 95% interval, high end", "items/week"),
    "unstable": Quantity(
        "1 if open work grew by more than a quarter of its level (interval above 0)", "share"
    ),
}

SERIES: dict[str, Quantity] = {
    "day": Quantity("working day of the sample (taken at the start of the day)", "days"),
    "onboarding": Quantity("customers onboarding", "customers"),
    "signed_backlog": Quantity("signed customers waiting to start onboarding", "customers"),
    "live": Quantity("live customers", "customers"),
    "churned": Quantity("customers churned so far", "customers"),
    "lost_deals": Quantity("signed customers lost waiting so far", "customers"),
    "lead_backlog": Quantity("items in the lead's backlog", "items"),
    "lead_started": Quantity("items the lead has started and not finished", "items"),
    "team_queue": Quantity("items waiting for contractors and engineers", "items"),
    "tickets_open": Quantity("tickets not yet resolved", "tickets"),
    "forgotten_open": Quantity("forgotten items not yet resurfaced", "items"),
    "green": Quantity("customers in green health", "customers"),
    "yellow": Quantity("customers in yellow health", "customers"),
    "red": Quantity("customers in red health", "customers"),
    "arr": Quantity("annual recurring revenue", "currency/year"),
    "lead_efficiency": Quantity("the lead's share of time on task", "share"),
    "signed": Quantity("customers signed so far", "customers"),
    "went_live": Quantity("customers gone live so far", "customers"),
    "tickets_created": Quantity("tickets raised so far", "tickets"),
    "tickets_closed": Quantity("tickets resolved so far", "tickets"),
    "open_items": Quantity("work items open: waiting, in hand or forgotten", "items"),
    "interrupts_waiting": Quantity("interrupts waiting for the lead", "items"),
    "gated_work": Quantity("delegated items waiting on the lead's spec or review", "items"),
    "lead_juggling": Quantity(
        "unfinished items the lead has worked on within the switching window", "items"
    ),
    **{
        f"lead_{activity}_hours": Quantity(f"lead hours on {activity} so far", "hours")
        for activity in LEAD_ACTIVITIES
    },
}
"""Daily series, sampled at the start of each day.  ``signed``, ``went_live``,
``tickets_created``, ``tickets_closed`` and the lead's hours by activity are cumulative
since the start, for flow diagrams, throughput and where his time went."""

TIMESERIES_COLUMNS = tuple(SERIES)

# How a day's sample is taken: the levels of the work flow, which change with nearly
# every item, then the company's levels around it (customers, team, forgetting, the
# lead's switching), which a reduced company never changes; then the lead's hours.
FLOW_SERIES = (
    "day",
    "lead_backlog",
    "lead_started",
    "tickets_open",
    "tickets_created",
    "tickets_closed",
    "open_items",
    "interrupts_waiting",
)
COMPANY_SERIES = (
    "onboarding",
    "signed_backlog",
    "live",
    "churned",
    "lost_deals",
    "team_queue",
    "forgotten_open",
    "green",
    "yellow",
    "red",
    "arr",
    "lead_efficiency",
    "signed",
    "went_live",
    "gated_work",
    "lead_juggling",
)


def describe_metric(name: str) -> tuple[str, str]:
    """Meaning and unit of a summary metric, including the per-class and per-activity ones."""
    if name in METRICS:
        return METRICS[name].meaning, METRICS[name].unit
    if name.startswith("lead_") and name.endswith("_hours_per_week"):
        activity = name[5:-15].replace("specs_reviews", "specs and reviews").replace("_", " ")
        return (
            "lead hours idle" if activity == "idle" else f"lead hours on {activity}",
            "hours/week",
        )
    if name.startswith("ticket_") and name.endswith("_days"):
        cls, stat = name[7:-5].rsplit("_", 1)
        return (f"{cls.replace('_', '-')} ticket resolution time, {stat}", "days")
    return (name.replace("_", " "), "")


def metric_names(ticket_classes: list[str] | tuple[str, ...]) -> list[str]:
    """Every summary metric a run reports, given its ticket classes, without running it,
    in the order of a run's summary: the per-class ticket times follow the overall one,
    and the lead's hours by activity come before his utilisation."""
    names: list[str] = []
    for name in METRICS:
        if name == "lead_utilisation":
            names += [f"lead_{activity}_hours_per_week" for activity in LEAD_ACTIVITIES]
        names.append(name)
        if name == "ticket_resolution_mean_days":
            for cls in ticket_classes:
                names += [f"ticket_{cls}_mean_days", f"ticket_{cls}_p85_days"]
    return names


def series_unit(name: str) -> str:
    """The unit of a daily series (empty for an unknown name)."""
    return SERIES[name].unit if name in SERIES else ""


def value_range(name: str) -> tuple[float, float]:
    """The values a summary metric can take: shares lie in [0, 1] (net revenue
    retention may pass 1), trends take any sign, everything else is a count, a time or
    an amount of at least 0. Reports clip confidence intervals to it."""
    if name.startswith("open_work_trend"):
        return -math.inf, math.inf
    if name == "net_revenue_retention":
        return 0.0, math.inf
    return (0.0, 1.0) if describe_metric(name)[1] == "share" else (0.0, math.inf)


def presumes_steady_state(name: str) -> bool:
    """Whether a summary metric presumes a steady state (see :class:`Quantity`): levels
    and the waiting or lead times of items, including the per-class ticket times."""
    if name in METRICS:
        return METRICS[name].steady
    return name.startswith("ticket_") and name.endswith("_days")
