"""A backtest: forecast from the open work at a past date, and score it against what happened.

Only what was known at the cutoff goes in: the company is fitted on the items
created before it (items done after it count as open), and the forecast starts from
the open work at the cutoff.  What happened after it is then compared with the
forecast, week by week and item by item:

* go-lives and tickets closed in each week after the cutoff, against the forecast's
  50% (25-75%) and 85% (7.5-92.5%) bands of that week's count;
* each customer onboarding and each item open at the cutoff: when it really went
  live or was done, against its forecast 50% and 85% intervals;
* the calibration: the share of outcomes inside each interval.  A well-calibrated
  forecast has about 50% inside its 50% intervals and 85% inside its 85% ones; much
  less means it is overconfident (or biased), much more that it is too vague.

An item still open when the data end is censored: it is scored only where its
interval already lies wholly before the data's end (then it is outside); otherwise
it cannot be scored yet and is counted as such.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from flowsim.forecast.run import Forecast
from flowsim.model.calendar import DAYS_PER_WEEK, working_days
from flowsim.model.params import Params
from flowsim.stats import wilson_interval

INTERVALS = {"50%": (25.0, 75.0), "85%": (7.5, 92.5)}
"""The central intervals scored, by their nominal coverage: their percentiles."""


COUNT_NAMES = {"went_live": "go-lives", "tickets_closed": "tickets closed"}


@dataclass
class Scores:
    """A backtest's comparisons: by week, by item, and the intervals' calibration."""

    weekly: pd.DataFrame
    items: pd.DataFrame
    calibration: pd.DataFrame
    golives: pd.DataFrame
    """Go-lives since the cutoff, by working day: what happened and the forecast's bands."""


def data_end(items: pd.DataFrame) -> pd.Timestamp:
    """The latest time the table knows of (the export's time, or near it)."""
    return pd.Timestamp(items[["created", "started", "done"]].stack().max())


def golive_times(items: pd.DataFrame) -> pd.Series:
    """Each customer with onboarding work: when its last onboarding item was done (NaT
    while any is open), by customer."""
    onboarding = items[(items["kind"] == "onboarding") & items["customer"].notna()]
    open_any = onboarding["done"].isna().groupby(onboarding["customer"]).any()
    last = onboarding.groupby("customer")["done"].max()
    return last.where(~open_any.reindex(last.index, fill_value=False))


def _days_after(cutoff: pd.Timestamp, times: pd.Series) -> np.ndarray:
    return np.array(
        [
            math.nan if pd.isna(t) else working_days(cutoff.to_pydatetime(), t.to_pydatetime())
            for t in times
        ],
        dtype=float,
    )


def weekly_actuals(items: pd.DataFrame, cutoff: pd.Timestamp, weeks: int) -> pd.DataFrame:
    """Go-lives and tickets closed in each working week after the cutoff (week 1: its first
    five working days)."""
    golives = _days_after(cutoff, golive_times(items))
    closed = _days_after(cutoff, items.loc[items["kind"] == "ticket", "done"])
    rows = []
    for w in range(1, weeks + 1):
        lo, hi = DAYS_PER_WEEK * (w - 1), DAYS_PER_WEEK * w
        rows.append(
            {
                "week": w,
                "went_live": int(np.sum((golives >= lo) & (golives < hi))),
                "tickets_closed": int(np.sum((closed >= lo) & (closed < hi))),
            }
        )
    return pd.DataFrame(rows)


def weekly_bands(fc: Forecast, count: str, weeks: int) -> pd.DataFrame:
    """Per forecast week: percentiles of the count in that week over the replications of
    the forecast's first scenario."""
    daily = fc.daily[fc.daily["scenario"] == fc.scenarios[0]]
    wide = daily.pivot(index="day", columns="replication", values=count)
    qs = _percentiles()
    rows = []
    for w in range(1, weeks + 1):
        lo, hi = DAYS_PER_WEEK * (w - 1), DAYS_PER_WEEK * w
        if hi not in wide.index:
            break
        per_week = wide.loc[hi].to_numpy(dtype=float) - wide.loc[lo].to_numpy(dtype=float)
        values = np.percentile(per_week, qs, method="inverted_cdf")
        rows.append({"week": w, **{_q(q): float(v) for q, v in zip(qs, values, strict=True)}})
    return pd.DataFrame(rows)


def _q(q: float) -> str:
    return f"p{q:g}".replace(".", "_")


def score(fc: Forecast, items: pd.DataFrame, cutoff: pd.Timestamp) -> Scores:
    """Compare ``fc`` (from the open work at ``cutoff``) with what ``items`` say happened."""
    end_day = working_days(cutoff.to_pydatetime(), data_end(items).to_pydatetime())
    weeks = int(end_day // DAYS_PER_WEEK)
    actual = weekly_actuals(items, cutoff, weeks)
    weekly = actual
    for count in ("went_live", "tickets_closed"):
        bands = weekly_bands(fc, count, weeks).add_prefix(f"{count}_")
        weekly = weekly.merge(
            bands.rename(columns={f"{count}_week": "week"}), on="week", how="inner"
        )
    weekly.insert(1, "week_start", [str(fc.date(DAYS_PER_WEEK * (w - 1))) for w in weekly["week"]])
    item_rows = _item_rows(fc, items, cutoff, end_day)
    golives = cumulative_golives(fc, items, cutoff, end_day)
    return Scores(weekly, item_rows, _calibration(weekly, item_rows, golives), golives)


def cumulative_golives(
    fc: Forecast, items: pd.DataFrame, cutoff: pd.Timestamp, end_day: float
) -> pd.DataFrame:
    """Go-lives since the cutoff at the start of each working day to the data's end: what
    happened, and the percentiles of the forecast's first scenario."""
    daily = fc.daily[fc.daily["scenario"] == fc.scenarios[0]]
    wide = daily.pivot(index="day", columns="replication", values="went_live")
    wide = wide[wide.index <= math.floor(end_day)]
    days = wide.index.to_numpy(dtype=float)
    happened = _days_after(cutoff, golive_times(items))
    happened = happened[happened >= 0]
    frame = pd.DataFrame({"day": days, "went_live": [int(np.sum(happened < d)) for d in days]})
    qs = _percentiles()
    values = np.percentile(wide.to_numpy(dtype=float), qs, axis=1, method="inverted_cdf")
    for q, v in zip(qs, values, strict=True):
        frame[_q(q)] = v
    return frame


def _percentiles() -> list[float]:
    return sorted({q for pair in INTERVALS.values() for q in pair} | {50.0})


def _item_rows(
    fc: Forecast, items: pd.DataFrame, cutoff: pd.Timestamp, end_day: float
) -> pd.DataFrame:
    """Each customer onboarding and item open at the cutoff: its forecast intervals, what
    happened, and whether that fell inside them."""
    out = fc.outcomes[fc.outcomes["scenario"] == fc.scenarios[0]]
    done = items.set_index("id")["done"]
    live = golive_times(items)
    rows = []
    for name, group in out.groupby("name", sort=False):
        kind = group["kind"].iloc[0]
        ended = group["end"].isin(["live", "done"]).to_numpy()
        days = np.where(ended, group["day"].to_numpy(dtype=float), np.inf)
        when = live.get(name, pd.NaT) if kind == "customer" else done.get(name, pd.NaT)
        actual = (
            math.nan
            if pd.isna(when)
            else working_days(cutoff.to_pydatetime(), when.to_pydatetime())
        )
        row: dict[str, object] = {
            "name": name,
            "kind": kind,
            "customer": group["customer"].iloc[0],
            "actual_day": actual,
            "actual_date": "open at the end" if math.isnan(actual) else str(when.date()),
            "p50_day": float(np.percentile(days, 50, method="inverted_cdf")),
        }
        for label, (lo_q, hi_q) in INTERVALS.items():
            lo, hi = np.percentile(days, [lo_q, hi_q], method="inverted_cdf")
            row[f"low_{label}"], row[f"high_{label}"] = float(lo), float(hi)
            if not math.isnan(actual):  # by the day: a forecast of dates
                row[f"inside_{label}"] = bool(_day(lo) <= _day(actual) <= _day(hi))
            elif hi < end_day:
                row[f"inside_{label}"] = False  # forecast done by now; it is not
            else:
                row[f"inside_{label}"] = None  # still open, and may yet be inside
        rows.append(row)
    return pd.DataFrame(rows)


def _day(days: float) -> float:
    """The working day a time falls on (day 0: the cutoff's)."""
    return math.floor(days) if math.isfinite(days) else days


def _calibration(
    weekly: pd.DataFrame, item_rows: pd.DataFrame, golives: pd.DataFrame
) -> pd.DataFrame:
    """The share of outcomes inside each interval, with its Wilson 95% interval: tickets
    closed in each week, go-lives by the data's end, each go-live date and each item's
    end.  (Go-lives week by week are not scored: with none in most weeks, both
    intervals would contain most weeks' zero whatever the forecast.)"""
    rows = []
    last = golives.iloc[-1] if len(golives) else None
    for label, (lo_q, hi_q) in INTERVALS.items():
        lo, hi = weekly[f"tickets_closed_{_q(lo_q)}"], weekly[f"tickets_closed_{_q(hi_q)}"]
        inside = ((weekly["tickets_closed"] >= lo) & (weekly["tickets_closed"] <= hi)).to_numpy()
        rows.append(_share("tickets closed per week", label, inside, 0))
        if last is not None:
            total = bool(last[_q(lo_q)] <= last["went_live"] <= last[_q(hi_q)])
            rows.append(_share("go-lives by the end of the data", label, np.array([total]), 0))
        for kinds, what in (
            (("customer",), "go-live dates"),
            (("task", "ask", "ticket"), "items done"),
        ):
            column = (
                item_rows[item_rows["kind"].isin(kinds)][f"inside_{label}"]
                if len(item_rows)
                else pd.Series([], dtype=object)
            )
            known = column.dropna().astype(bool).to_numpy()
            rows.append(_share(what, label, known, int(column.isna().sum())))
    return pd.DataFrame(rows)


def _share(what: str, label: str, inside: np.ndarray, unscored: int) -> dict[str, object]:
    n = len(inside)
    k = int(np.sum(inside))
    low, high = wilson_interval(k, n) if n else (math.nan, math.nan)
    return {
        "outcome": what,
        "interval": label,
        "nominal": float(label.rstrip("%")) / 100,
        "scored": n,
        "inside": k,
        "share": k / n if n else math.nan,
        "share_low": low,
        "share_high": high,
        "not_yet_known": unscored,
    }


@dataclass
class Backtest:
    """A backtest's inputs and results: the company it forecast with, the forecast, the scores."""

    cutoff: pd.Timestamp
    params: Params
    forecast: Forecast
    scores: Scores
    fit: Any = None
    """The fit on the data before the cutoff (``flowsim.fitting``), unless a config was given."""


def backtest(
    items: pd.DataFrame,
    cutoff: pd.Timestamp | str,
    base: str | os.PathLike[str] | None = None,
    config: Params | None = None,
    replications: int = 200,
    seed: int | None = None,
    budget: int | None = None,
    workers: int | None = None,
    fit_folder: Path | None = None,
    progress: bool = False,
) -> Backtest:
    """Fit on the data before ``cutoff`` (or take ``config``), forecast from the open work at
    the cutoff to the data's end, and score the forecast against what happened.

    Parameters
    ----------
    items : pandas.DataFrame
        The imported table (see ``flowsim.data``), of the whole period.
    base : path, optional
        The config the fit starts from (see ``flowsim.fitting.fit_company``).
    config : Params, optional
        Forecast with this company instead of fitting one (``base`` and ``budget`` are
        then unused).
    """
    from flowsim.data.snapshot import snapshot
    from flowsim.forecast.run import forecast

    when = _timestamp(cutoff)
    end = data_end(items)
    if not items["created"].lt(when).any():
        raise ValueError(f"--cutoff {when.date()}: no work item was created before it")
    end_day = working_days(when.to_pydatetime(), end.to_pydatetime())
    if end_day < DAYS_PER_WEEK:
        raise ValueError(
            f"--cutoff {when.date()}: less than a working week of data after it "
            f"(the data end at {end.date()})"
        )
    fit = None
    if config is None:
        from flowsim.fitting import fit_company

        options: dict[str, Any] = {
            "until": when,
            "workers": workers,
            "folder": fit_folder,
            "name": "fitted",
            "progress": progress,
        }
        if budget is not None:
            options["budget"] = budget
        fit = fit_company(items, base, **options)
        config = fit.params
    state = snapshot(items, when)
    fc = forecast(
        {config.name: config},
        state,
        replications,
        seed,
        math.ceil(end_day / DAYS_PER_WEEK) + 1,
        workers,
        progress=progress,
    )
    return Backtest(when, config, fc, score(fc, items, when), fit)


def _timestamp(value: pd.Timestamp | str) -> pd.Timestamp:
    when = pd.Timestamp(value)
    return when.tz_localize("UTC") if when.tzinfo is None else when.tz_convert("UTC")
