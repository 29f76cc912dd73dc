"""What a tracker's table of work items shows of the company: each observable with a
value and a 95% interval, in the model's units (weeks of 5 working days, working days).

The table is ``flowsim import``'s tidy table (see :mod:`flowsim.data.items`).  Times
are turned into working days with :func:`flowsim.model.calendar.working_days`, so
that a ticket raised on Friday evening and closed on Monday morning took a fraction
of a working day, as the model's clock (no nights off, no weekends) would see it.

Intervals: a rate is a Poisson count over its exposure (Garwood's exact interval);
a share is a binomial proportion (Wilson); a percentile of times, with the open items
counted as censored, comes from the Kaplan-Meier curve and its log-log bounds
(:func:`flowsim.stats.product_limit`); a weekly or daily level is a mean with a
Student-t interval over whole weeks (or 4-week batches, for a daily level whose days
are not independent).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from flowsim.config.errors import ConfigError
from flowsim.data.items import CLASSES, COLUMNS, KINDS
from flowsim.fitting.estimators import (
    change_points,
    km_percentile,
    order_percentile,
    poisson_interval,
)
from flowsim.model.calendar import working_days
from flowsim.stats import mean_ci, wilson_interval

WEEKS_PER_MONTH = 52 / 12
WEEKS_PER_QUARTER = 13
SILENCE_LEVEL = 0.01
"""A live customer silent for so long that a Poisson stream at the per-customer rate
would be this unlikely to stay silent is read as gone (churned) when it fell silent."""
BATCH_DAYS = 20
"""Working days per batch of a daily level's batch-means interval (about a month)."""


Add = Callable[..., None]
"""Adds one observable's row: name, value, low, high, unit, n, note."""


class FitError(ConfigError):
    """The table cannot be fitted: one line that says why."""


@dataclass
class Observed:
    """What the table shows: ``table`` (one row per observable) and what the config needs.

    ``table`` columns: ``observable``, ``value``, ``low``, ``high`` (95%), ``unit``,
    ``n`` (items or periods behind it) and ``note``.
    """

    table: pd.DataFrame
    start: pd.Timestamp
    end: pd.Timestamp
    weeks: float
    lead: str | None
    lead_reason: str
    change_points: dict[str, list[pd.Timestamp]] = field(default_factory=dict)

    def get(self, name: str) -> pd.Series | None:
        rows = self.table[self.table["observable"] == name]
        return None if rows.empty else rows.iloc[0]

    def value(self, name: str) -> float:
        row = self.get(name)
        return math.nan if row is None else float(row["value"])


# ---------------------------------------------------------------- the table
def check_table(items: pd.DataFrame, source: str = "the table") -> None:
    """Refuse a table that is not ``flowsim import``'s: missing columns, or no items."""
    missing = [c for c in ("id", "kind", "class", "customer", "created", "done") if c not in items]
    if missing:
        raise FitError(
            f"expected flowsim import's table of work items, missing column(s) "
            f"{', '.join(missing)} (known: {', '.join(COLUMNS)})",
            source=source,
        )
    if items.empty:
        raise FitError("the table has no work items", source=source)
    if not (items["kind"] == "ticket").any():
        raise FitError(
            "the table has no tickets: nothing to fit the model's support to", source=source
        )


def cut(items: pd.DataFrame, until: pd.Timestamp | None, source: str) -> pd.DataFrame:
    """Only what was known before ``until``: items created before it; later times unknown."""
    frame = items.copy()
    for col in ("created", "started", "done"):
        if col in frame:
            frame[col] = pd.to_datetime(frame[col], utc=True)
    if until is None:
        return frame
    frame = frame[frame["created"] < until].copy()
    if frame.empty or not (frame["kind"] == "ticket").any():
        first = items["created"].min()
        raise FitError(
            f"--until {until:%Y-%m-%d} is before the table's tickets "
            f"(the first item was created {pd.Timestamp(first):%Y-%m-%d})",
            source=source,
        )
    for col in ("started", "done"):
        if col in frame:
            frame.loc[frame[col] >= until, col] = pd.NaT
    return frame


def pick_lead(items: pd.DataFrame, lead: str | None) -> tuple[str | None, str]:
    """The lead's assignee name and why: given, or the assignee of the most items."""
    if "assignee" not in items or items["assignee"].isna().all():
        if lead is not None:
            raise FitError(f"--lead {lead!r}: the table names no assignee")
        return None, "the table names no assignee: the lead's shares are not observed"
    names = items["assignee"].dropna().astype(str)
    if lead is not None:
        if lead not in set(names):
            known = ", ".join(f"{n!r}" for n in names.value_counts().index[:6])
            raise FitError(f"--lead {lead!r} is no assignee of the table (most items: {known})")
        return lead, "given (--lead)"
    top = names.value_counts()
    return str(top.index[0]), f"the assignee of the most items ({int(top.iloc[0])} of {len(names)})"


def _wd(start: pd.Series, end: pd.Series) -> np.ndarray:
    return np.array(
        [
            working_days(a.to_pydatetime(warn=False), b.to_pydatetime(warn=False))
            for a, b in zip(start, end, strict=True)
        ],
        dtype=float,
    )


def observe_items(
    items: pd.DataFrame,
    *,
    until: pd.Timestamp | None = None,
    lead: str | None = None,
    source: str = "the table",
) -> Observed:
    """Every observable of the table (see the module's docstring), with 95% intervals."""
    check_table(items, source)
    frame = cut(items, until, source)
    start = frame["created"].min().floor("D")
    last = frame[["created", "done"]].max().max()
    end = until if until is not None else last
    weeks = max((end - start) / pd.Timedelta(days=7), 1 / 7)
    lead, why = pick_lead(frame, lead)
    rows: list[dict[str, object]] = []

    def add(
        name: str, value: float, low: float, high: float, unit: str, n: int, note: str = ""
    ) -> None:
        rows.append(
            {
                "observable": name,
                "value": value,
                "low": low,
                "high": high,
                "unit": unit,
                "n": int(n),
                "note": note,
            }
        )

    rows.append(
        {
            "observable": "span_weeks",
            "value": weeks,
            "low": math.nan,
            "high": math.nan,
            "unit": "weeks",
            "n": len(frame),
            "note": f"{start:%Y-%m-%d} to {end:%Y-%m-%d}",
        }
    )
    tickets = frame[frame["kind"] == "ticket"]
    changes: dict[str, list[pd.Timestamp]] = {}
    # Arrivals per kind and class, each checked for a change of rate.
    series = {f"{k}_arrivals": frame[frame["kind"] == k]["created"] for k in KINDS}
    series |= {f"ticket_{c}_arrivals": tickets[tickets["class"] == c]["created"] for c in CLASSES}
    full_weeks = int(weeks)
    for name, created in series.items():
        if created.empty:
            continue
        week = ((created - start) / pd.Timedelta(days=7)).astype(int).to_numpy()
        counts = np.bincount(week[week < full_weeks], minlength=full_weeks)
        cps = change_points(counts) if full_weeks >= 12 else []
        note = ""
        if cps:
            changes[name] = [start + pd.Timedelta(days=7 * k) for k in cps]
            note = "rate moved at " + ", ".join(f"{t:%Y-%m-%d}" for t in changes[name])
        add(
            f"{name}_per_week",
            len(created) / weeks,
            *poisson_interval(len(created), weeks),
            "items/week",
            len(created),
            note,
        )
    # Ticket classes.
    classed = tickets["class"].dropna()
    for c in CLASSES:
        k = int((classed == c).sum())
        if len(classed):
            add(
                f"ticket_{c}_share",
                k / len(classed),
                *wilson_interval(k, len(classed)),
                "share",
                len(classed),
            )
    _customers(frame, start, end, changes.get("ticket_arrivals"), add)
    _cycle_times(frame, start, end, weeks, add)
    _onboardings(frame, start, end, weeks, add)
    if lead is not None:
        _lead_shares(frame, lead, add)
        _team(frame, lead, add)
    return Observed(pd.DataFrame(rows), start, end, float(weeks), lead, why, changes)


def _customers(
    frame: pd.DataFrame,
    start: pd.Timestamp,
    end: pd.Timestamp,
    moved: list[pd.Timestamp] | None,
    add: Add,
) -> None:
    """Live customers, their ticket rate (in the latest segment if the rate moved),
    those gone silent (churn) and those live at the start."""
    tickets = frame[(frame["kind"] == "ticket") & frame["customer"].notna()]
    onboarding = frame[(frame["kind"] == "onboarding") & frame["customer"].notna()]
    live_from: dict[str, pd.Timestamp] = {}
    for customer, tasks in onboarding.groupby("customer"):
        if tasks["done"].notna().all():
            live_from[str(customer)] = tasks["done"].max()
    firsts = tickets.groupby("customer")["created"].min()
    lasts = frame[frame["customer"].notna()].groupby("customer")["created"].max()
    for customer, first in firsts.items():
        c = str(customer)
        live_from[c] = (
            min(live_from.get(c, start), first) if c in set(onboarding["customer"]) else start
        )
    week = pd.Timedelta(days=7)

    def exposure(since: pd.Timestamp, gone: dict[str, pd.Timestamp]) -> float:
        return sum(
            max(0.0, (min(gone.get(c, end), end) - max(t, since)) / week)
            for c, t in live_from.items()
        )

    rate = len(tickets) / max(exposure(start, {}), 1e-9)
    silence = math.log(1 / SILENCE_LEVEL) / rate if rate > 0 else math.inf
    gone = {
        c: lasts[c]
        for c, t in live_from.items()
        if c in lasts and (end - max(lasts[c], t)) / week > silence
    }
    since = moved[-1] if moved else start
    in_segment = tickets[tickets["created"] >= since]
    customer_weeks = exposure(since, gone)
    note = f"since the rate moved at {since:%Y-%m-%d}" if moved else "over the whole span"
    add(
        "tickets_per_customer_per_week",
        len(in_segment) / customer_weeks,
        *poisson_interval(len(in_segment), customer_weeks),
        "tickets/customer/week",
        len(in_segment),
        note + f"; {customer_weeks:.0f} live customer-weeks",
    )
    all_weeks = exposure(start, gone)
    months = all_weeks / WEEKS_PER_MONTH
    add(
        "churn_monthly_hazard",
        len(gone) / months,
        *poisson_interval(len(gone), months),
        "per customer-month",
        len(gone),
        f"customers silent for over {silence:.1f} weeks at the end: "
        + (", ".join(sorted(gone)) if gone else "none"),
    )
    initial = sum(1 for t in live_from.values() if t <= start)
    add(
        "live_customers_at_start",
        initial,
        initial,
        initial,
        "customers",
        initial,
        "customers with tickets and no onboarding before them",
    )
    live_mean = all_weeks / max((end - start) / week, 1e-9)
    add("live_customers_mean", live_mean, math.nan, math.nan, "customers", len(live_from))


def _cycle_times(
    frame: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, weeks: float, add: Add
) -> None:
    """Ticket cycle times per class, throughput and open tickets over time."""
    tickets = frame[frame["kind"] == "ticket"]
    done = tickets["done"].notna().to_numpy()
    stop = tickets["done"].where(tickets["done"].notna(), end)
    days = _wd(tickets["created"], stop)
    for c in CLASSES:
        mask = (tickets["class"] == c).fillna(False).to_numpy()
        if not mask.any():
            continue
        for q in (50, 85):
            add(
                f"ticket_{c}_p{q}_days_km",
                *km_percentile(days[mask], done[mask], q / 100),
                "working days",
                int(mask.sum()),
                f"{int((mask & ~done).sum())} open, censored",
            )
        closed = mask & done
        if closed.sum() >= 5:
            add(
                f"ticket_{c}_p85_days",
                *order_percentile(days[closed], 0.85),
                "working days",
                int(closed.sum()),
                "closed tickets only, as the model counts",
            )
    closed_at = tickets["done"].dropna()
    wk = ((closed_at - start) / pd.Timedelta(days=7)).astype(int).to_numpy()
    full = int(weeks)
    per_week = np.bincount(wk[wk < full], minlength=full)
    est = mean_ci(per_week) if full >= 2 else None
    add(
        "tickets_closed_per_week",
        len(closed_at) / weeks,
        est.low if est else math.nan,
        est.high if est else math.nan,
        "tickets/week",
        full,
        "interval over whole weeks",
    )
    # Open tickets at the start of each working day.
    days_all = pd.bdate_range(start.normalize(), end.normalize(), tz="UTC")
    created = np.sort(tickets["created"].to_numpy())
    finished = np.sort(tickets["done"].dropna().to_numpy())
    at = days_all.to_numpy()
    open_n = np.searchsorted(created, at, side="right") - np.searchsorted(
        finished, at, side="right"
    )
    batches = [
        open_n[k : k + BATCH_DAYS].mean()
        for k in range(0, len(open_n) - BATCH_DAYS + 1, BATCH_DAYS)
    ]
    est = mean_ci(batches) if len(batches) >= 2 else None
    add(
        "tickets_open_mean",
        float(open_n.mean()) if len(open_n) else math.nan,
        est.low if est else math.nan,
        est.high if est else math.nan,
        "tickets",
        len(open_n),
        f"daily, interval over {BATCH_DAYS}-day batches",
    )
    add("tickets_open_at_end", int((~done).sum()), math.nan, math.nan, "tickets", len(tickets))


def _onboardings(
    frame: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, weeks: float, add: Add
) -> None:
    """Onboardings per customer: first task raised to last task done (the go-live)."""
    tasks = frame[(frame["kind"] == "onboarding") & frame["customer"].notna()]
    if tasks.empty:
        return
    per = tasks.groupby("customer").agg(
        first=("created", "min"),
        last=("done", "max"),
        n=("id", "size"),
        open=("done", lambda s: int(s.isna().sum())),
    )
    closed = tasks["done"].notna().to_numpy()
    if closed.sum() >= 5:
        add(
            "onboarding_task_p85_days",
            *order_percentile(_wd(tasks["created"][closed], tasks["done"][closed]), 0.85),
            "working days",
            int(closed.sum()),
            "onboarding tasks raised to done; done ones only, as the model counts",
        )
    finished = (per["open"] == 0).to_numpy()
    stop = per["last"].where(per["open"] == 0, end)
    days = _wd(per["first"], stop)
    add(
        "onboarding_lead_time_p50_days_km",
        *km_percentile(days, finished, 0.5),
        "working days",
        len(per),
        f"{int((~finished).sum())} still onboarding, censored",
    )
    if finished.sum():
        add(
            "onboarding_lead_time_p50_days",
            *order_percentile(days[finished], 0.5),
            "working days",
            int(finished.sum()),
            "finished onboardings only, as the model counts",
        )
        n = per["n"][finished].to_numpy()
        add(
            "onboarding_tasks_per_customer",
            float(n.mean()),
            float(n.min()),
            float(n.max()),
            "tasks",
            int(finished.sum()),
            "finished onboardings; low and high are the extremes",
        )
    quarters = weeks / WEEKS_PER_QUARTER
    add(
        "go_lives_per_quarter",
        finished.sum() / quarters,
        *poisson_interval(int(finished.sum()), quarters),
        "customers/quarter",
        int(finished.sum()),
    )
    began = int((per["first"] > start + pd.Timedelta(days=7)).sum())
    months = weeks / WEEKS_PER_MONTH
    add(
        "onboardings_started_per_month",
        began / months,
        *poisson_interval(began, months),
        "customers/month",
        began,
        "first task raised after the first week",
    )
    add("onboarding_at_end", int((~finished).sum()), math.nan, math.nan, "customers", len(per))


def _lead_shares(frame: pd.DataFrame, lead: str, add: Add) -> None:
    """The share of each kind's (and ticket class's) assigned items the lead holds."""
    held = frame[frame["assignee"].notna()]
    groups = {
        f"ticket_{c}": held[(held["kind"] == "ticket") & (held["class"] == c)] for c in CLASSES
    }
    groups |= {"onboarding": held[held["kind"] == "onboarding"], "ask": held[held["kind"] == "ask"]}
    for name, rows in groups.items():
        if len(rows):
            k = int((rows["assignee"] == lead).sum())
            add(
                f"{name}_lead_share",
                k / len(rows),
                *wilson_interval(k, len(rows)),
                "share",
                len(rows),
                f"assigned to {lead}",
            )


TEAM_SHARE = 0.02
"""An assignee other than the lead counts as a member of the team if they hold at least
this share of the assigned items (and five of them): fewer is a passer-by."""


def _team(frame: pd.DataFrame, lead: str, add: Add) -> None:
    """The team besides the lead: whoever holds onboarding work is a developer (the
    story's contractors, who need the lead's specs and reviews); whoever holds only
    tickets is support."""
    held = frame[frame["assignee"].notna() & (frame["assignee"] != lead)]
    total = int(frame["assignee"].notna().sum())
    counts = held["assignee"].value_counts()
    people = [str(a) for a, n in counts.items() if n >= max(5, TEAM_SHARE * total)]
    if not people:
        return
    builds = set(held.loc[held["kind"].isin(["onboarding", "ask"]), "assignee"].astype(str))
    developers = sorted(a for a in people if a in builds)
    support = sorted(a for a in people if a not in builds)
    for name, who in (("team_developers", developers), ("team_support", support)):
        add(name, len(who), math.nan, math.nan, "people", len(held), ", ".join(who) or "none")
