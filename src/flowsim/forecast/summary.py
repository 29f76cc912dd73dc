"""What a forecast says: dates at 50/85/95%, counts by a date, and policies side by side.

A date percentile counts the replications in which a customer never went live (or an
item was never done) within the horizon as "later than the horizon": if more than
15% of them did not, its 85% date is "after" the horizon's last day rather than a
date.  Percentiles take the replications' own values (no interpolation), so every
date shown is one that some replication produced.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from flowsim.forecast.run import Forecast
from flowsim.stats import mean_ci

PERCENTILES = (50, 85, 95)
"""The percentiles of a date: even odds, a realistic promise, a safe one."""
BANDS = (10, 50, 90)
"""The percentiles of a count by a date."""


def day_percentiles(days: np.ndarray, percentiles: tuple[int, ...] = PERCENTILES) -> list[float]:
    """Percentiles of working days to an end, NaN (never) counted as beyond the horizon."""
    values = np.where(np.isnan(days), np.inf, days)
    if not len(values):
        return [math.nan] * len(percentiles)
    return [float(np.percentile(values, q, method="inverted_cdf")) for q in percentiles]


def date_text(fc: Forecast, day: float) -> str:
    """A forecast day as a date; ``after <last day>`` beyond the horizon."""
    if math.isnan(day):
        return "n/a"
    if math.isinf(day):
        return f"after {fc.date(fc.horizon_days)}"
    return str(fc.date(day))


def end_dates(
    fc: Forecast, kind: str = "customer", percentiles: tuple[int, ...] = PERCENTILES
) -> pd.DataFrame:
    """For each state entry of ``kind`` (``customer``, or ``item`` for every open item) and
    scenario: its end's percentiles in working days and as dates, and the share of
    replications in which it ended (went live, or was done) within the horizon."""
    out = fc.outcomes
    rows = out[out["kind"] == "customer"] if kind == "customer" else out[out["kind"] != "customer"]
    records = []
    for (name, scenario), group in rows.groupby(["name", "scenario"], sort=False):
        days = group["day"].to_numpy(dtype=float)
        ended = group["end"].isin(["live", "done"]).to_numpy()
        values = day_percentiles(np.where(ended, days, np.nan), percentiles)
        record: dict[str, object] = {
            "name": name,
            "kind": group["kind"].iloc[0],
            "customer": group["customer"].iloc[0],
            "scenario": scenario,
            "ended_share": float(ended.mean()),
            "dropped_share": float((group["end"] == "dropped").mean()),
        }
        for q, v in zip(percentiles, values, strict=True):
            record[f"p{q}_day"] = v
            record[f"p{q}_date"] = date_text(fc, v)
        records.append(record)
    return pd.DataFrame(records)


def counts_at(fc: Forecast, day: float) -> pd.DataFrame:
    """Cumulative go-lives and tickets closed by the end of working day ``day`` (counted
    from the state's date, day 0), one row per scenario and replication."""
    daily = fc.daily
    cut = min(math.floor(day) + 1, int(daily["day"].max()))
    at = daily[daily["day"] == cut]
    return at.drop(columns="day").reset_index(drop=True)


def counts_table(fc: Forecast, day: float) -> pd.DataFrame:
    """Per scenario and count: mean, the 10/50/90% bands, and the paired difference from
    the first scenario's, with its 95% confidence interval."""
    at = counts_at(fc, day)
    reference = fc.scenarios[0]
    records = []
    for count in ("went_live", "tickets_closed"):
        wide = at.pivot(index="replication", columns="scenario", values=count)
        for scenario in fc.scenarios:
            values = wide[scenario].to_numpy(dtype=float)
            record: dict[str, object] = {
                "count": count,
                "scenario": scenario,
                "mean": float(values.mean()),
            }
            for q in BANDS:
                record[f"p{q}"] = float(np.percentile(values, q, method="inverted_cdf"))
            if scenario != reference:
                est = mean_ci(values - wide[reference].to_numpy(dtype=float))
                record |= {"diff": est.mean, "diff_low": est.low, "diff_high": est.high}
            else:
                record |= {"diff": math.nan, "diff_low": math.nan, "diff_high": math.nan}
            records.append(record)
    return pd.DataFrame(records)


def live_by(fc: Forecast, day: float) -> pd.DataFrame:
    """Per state customer and scenario: the chance it is live by the end of ``day``."""
    out = fc.outcomes
    rows = out[out["kind"] == "customer"]
    live = (rows["end"] == "live") & (rows["day"] <= math.floor(day) + 1)
    frame = rows.assign(live=live.to_numpy())
    return (
        frame.groupby(["name", "scenario"], sort=False)["live"].mean().rename("live_share")
    ).reset_index()
