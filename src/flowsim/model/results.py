"""Running one replication and turning what it recorded into tidy frames and summary metrics."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from flowsim.model.calendar import WEEKS_PER_QUARTER, WEEKS_PER_YEAR
from flowsim.model.catalogue import LEAD_ACTIVITIES, TIMESERIES_COLUMNS
from flowsim.model.company import Company
from flowsim.model.params import Params
from flowsim.model.recorder import EVENT_COLUMNS


@dataclass
class Result:
    """The outcome of one replication.

    Attributes
    ----------
    params : Params
        The resolved parameters the run used.
    seed : int or SeedSequence
        The seed (or replication seed sequence) it ran with.
    events : pandas.DataFrame
        One row per state change: ``time`` (clock hours), ``day``, ``entity``,
        ``kind``, ``event``, ``actor``, ``customer``.  Empty when the event log is off.
    timeseries : pandas.DataFrame
        Daily levels: WIP, queues, health mix, ARR, ...
    summary : pandas.Series
        The summary metrics, warm-up excluded (see ``flowsim.model.catalogue.METRICS``).
    customers : pandas.DataFrame
        One row per customer: when signed, onboarded, live, left, and why.
    conservation : dict
        Work items by final state; ``arrived`` equals the sum of the states.
    """

    params: Params
    seed: object
    events: pd.DataFrame
    timeseries: pd.DataFrame
    summary: pd.Series
    customers: pd.DataFrame
    conservation: dict[str, int] = field(default_factory=dict)
    lead_hours: dict[str, float] = field(default_factory=dict)
    """The lead's hours by activity over the whole run (warm-up included); they add
    up to his capacity over the horizon."""


def simulate(params: Params, seed: int | np.random.SeedSequence | None = None) -> Result:
    """Run one replication of ``params``.

    Parameters
    ----------
    params : Params
        A validated configuration (see ``flowsim.load_config``).
    seed : int or numpy.random.SeedSequence, optional
        Root seed; defaults to ``params.simulation.seed``.  The same parameters and
        seed give the same event log, bit for bit.

    Examples
    --------
    >>> from flowsim.model.params import Params
    >>> res = simulate(Params(), seed=1)
    >>> int(res.summary["go_lives"]) >= 0
    True
    """
    if seed is None:
        seed = params.simulation.seed
    company = Company(params, seed)
    company.run()
    return collect(company, seed)


def collect(company: Company, seed: object) -> Result:
    """The tidy frames and summary of a company that has run."""
    params = company.p
    return Result(
        params=params,
        seed=seed,
        events=events_frame(company),
        timeseries=pd.DataFrame(company.rec["timeseries"], columns=list(TIMESERIES_COLUMNS)),
        summary=pd.Series(summarise(company), dtype=float),
        customers=customers_frame(company),
        conservation=conservation(company),
        lead_hours=dict(company.lead.book.total),
    )


def events_frame(company: Company) -> pd.DataFrame:
    df = pd.DataFrame(company.log.rows, columns=list(EVENT_COLUMNS))
    df.insert(1, "day", df["time"] / company.day)
    for col in ("kind", "event", "actor"):
        df[col] = df[col].astype("category")
    return df


CUSTOMER_COLUMNS = (
    "customer",
    "state",
    "signed_day",
    "onboarding_day",
    "live_day",
    "left_day",
    "churned_while",
    "health",
    "direct_access",
)


def customers_frame(company: Company) -> pd.DataFrame:
    day = company.day
    churn_stage = {cid: stage for cid, _, stage in company.rec["churn"]}
    rows = []
    for c in company.customers.values():
        rows.append(
            {
                "customer": c.id,
                "state": c.state,
                "signed_day": c.signed_at / day,
                "onboarding_day": np.nan if c.onboarding_at is None else c.onboarding_at / day,
                "live_day": np.nan if c.live_at is None else c.live_at / day,
                "left_day": np.nan if c.left_at is None else c.left_at / day,
                "churned_while": churn_stage.get(c.id, ""),
                "health": c.health,
                "direct_access": c.direct_access,
            }
        )
    return pd.DataFrame(rows, columns=list(CUSTOMER_COLUMNS))


def conservation(company: Company) -> dict[str, int]:
    """Counts of work items by state: arrived = waiting + active + forgotten + done + dropped."""
    counts = dict(company.state_counts)
    counts["arrived"] = company._next_id
    for reason, n in company.dropped_reasons.items():
        counts[f"dropped_{reason}"] = n
    return counts


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def summarise(company: Company) -> dict[str, float]:
    """Summary metrics over the steady-state window (warm-up excluded)."""
    p = company.p
    w = company.window
    day, week = company.day, company.week
    weeks = (w.end - w.start) / week
    m: dict[str, float] = {"window_weeks": weeks}

    golives = [g for g in company.rec["golives"] if g[3] in w]
    m["go_lives"] = len(golives)
    m["go_lives_per_quarter"] = len(golives) / weeks * WEEKS_PER_QUARTER
    lead_times = [(g[3] - g[2]) / day for g in golives]
    for q in (50, 85, 95):
        m[f"onboarding_lead_time_p{q}_days"] = _pct(lead_times, q)
    m["signed_to_live_p85_days"] = _pct([(g[3] - g[1]) / day for g in golives], 85)
    # Where few or none go live, the age of the onboardings still open tells the story.
    open_ages = [
        (w.end - c.onboarding_at) / day
        for c in company.customers.values()
        if c.state == "onboarding" and c.onboarding_at is not None
    ]
    m["open_onboarding_age_p50_days"] = _pct(open_ages, 50)

    tickets = [t for t in company.rec["tickets"] if t[2] in w]
    m["tickets_closed_per_week"] = len(tickets) / weeks
    m["ticket_resolution_mean_days"] = (
        float(np.mean([(t[2] - t[1]) for t in tickets])) / day if tickets else float("nan")
    )
    for cls in p.tickets.classes:
        times = [(t[2] - t[1]) / day for t in tickets if t[0] == cls]
        m[f"ticket_{cls}_mean_days"] = float(np.mean(times)) if times else float("nan")
        m[f"ticket_{cls}_p85_days"] = _pct(times, 85)

    hours = company.lead.book.in_window
    for activity in LEAD_ACTIVITIES:
        m[f"lead_{activity}_hours_per_week"] = hours.get(activity, 0.0) / weeks
    m["lead_utilisation"] = 1 - hours.get("idle", 0.0) / max(1e-12, sum(hours.values()))

    dev_hours = company.n_dev.window_mean(w.end) * (w.end - w.start)  # clock hours
    busy = sum(v for role, v in company.worker_book.in_window.items() if role != "support")
    blocked = company.blocked.window_mean(w.end) * (w.end - w.start)
    m["contractor_busy_share"] = busy / dev_hours if dev_hours > 0 else float("nan")
    m["contractor_blocked_share"] = blocked / dev_hours if dev_hours > 0 else float("nan")
    m["lead_backlog_mean"] = company.lead_backlog_level.window_mean(w.end)

    promises = [r for r in company.rec["promises"] if r[0] in w]
    made = len(promises)
    kept = sum(1 for r in promises if r[2] == "kept")
    broken = sum(1 for r in promises if r[2] == "broken")
    m["promises_made"] = made
    m["promises_kept"] = kept
    m["promises_broken"] = broken
    m["promises_kept_share"] = kept / (kept + broken) if kept + broken else float("nan")
    m["items_forgotten"] = sum(1 for t in company.rec["forgotten"] if t in w)
    m["defects"] = sum(1 for t in company.rec["defects"] if t in w)

    m["churned"] = sum(1 for _, t, _ in company.rec["churn"] if t in w)
    m["churned_while_onboarding"] = sum(
        1 for _, t, stage in company.rec["churn"] if t in w and stage == "onboarding"
    )
    m["lost_deals"] = sum(1 for _, t in company.rec["lost"] if t in w)

    arr = p.revenue.arr_per_customer
    year = float(WEEKS_PER_YEAR) * week
    live_end = [c for c in company.customers.values() if c.state == "live"]
    m["live_customers_at_horizon"] = len(live_end)
    m["onboarding_at_horizon"] = company.n_onboarding
    m["arr_at_horizon"] = len(live_end) * arr
    revenue = 0.0
    live_at_start = retained = 0
    for c in company.customers.values():
        if c.live_at is None:
            continue
        left = c.left_at if c.state == "churned" and c.left_at is not None else w.end
        revenue += arr * w.overlap(c.live_at, left) / year
        if c.live_at <= w.start and left > w.start:
            live_at_start += 1
            retained += c.state == "live"
    fees = p.onboarding.fee * sum(
        1
        for c in company.customers.values()
        if c.onboarding_at is not None and c.onboarding_at in w
    )
    m["cumulative_revenue"] = revenue + fees
    m["net_revenue_retention"] = retained / live_at_start if live_at_start else float("nan")

    team = p.team
    cost_rate = {
        "contractor": team.contractor_annual_cost,
        "engineer": team.engineer_annual_cost,
        "support": team.support_annual_cost,
    }
    cost = p.lead.annual_cost * (w.end - w.start) / year
    for wk in company.workers:
        cost += cost_rate[wk.role] * w.overlap(wk.joined, w.end) / year
    m["team_cost"] = cost
    return m
