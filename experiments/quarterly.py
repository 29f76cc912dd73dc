"""Where the lead's week goes, quarter by quarter, and whether the queues settle.

One replication of a config over a long horizon, read from its daily time series:
the lead's hours a week by activity in each quarter, and each quarter's mean number
of interrupts waiting, items in his backlog, delegated items waiting on his spec or
review, open work items, customers onboarding and live.

    python experiments/quarterly.py configs/baseline.yaml --years 4 [--overlay FILE] [--seed N]
"""

from __future__ import annotations

import argparse

import pandas as pd

import flowsim
from flowsim.model.calendar import DAYS_PER_WEEK, WEEKS_PER_QUARTER
from flowsim.model.catalogue import LEAD_ACTIVITIES

LEVELS = [
    "interrupts_waiting",
    "lead_backlog",
    "gated_work",
    "open_items",
    "onboarding",
    "live",
]


def quarterly(timeseries: pd.DataFrame) -> pd.DataFrame:
    """The lead's hours a week by activity, and mean levels, per quarter of a run."""
    days_per_quarter = DAYS_PER_WEEK * WEEKS_PER_QUARTER
    quarter = (timeseries["day"] // days_per_quarter).astype(int) + 1
    by_quarter = timeseries.groupby(quarter)
    cumulative = by_quarter[[f"lead_{a}_hours" for a in LEAD_ACTIVITIES]].last()
    hours = cumulative.diff().fillna(cumulative) / WEEKS_PER_QUARTER
    hours.columns = list(LEAD_ACTIVITIES)
    out = pd.concat([hours.round(1), by_quarter[LEVELS].mean().round(1)], axis=1)
    out.index.name = "quarter"
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config")
    parser.add_argument("--overlay", action="append", default=[])
    parser.add_argument("--years", type=float, default=4)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    sets = [f"simulation.horizon_weeks={52 * args.years:g}", "simulation.event_log=false"]
    params = flowsim.load_config(args.config, args.overlay, sets)
    result = flowsim.simulate(params, seed=args.seed)
    pd.set_option("display.width", 200)
    print("lead hours a week by activity, and mean levels, per quarter")
    print(quarterly(result.timeseries).to_string())
    s = result.summary
    verdict = "unstable" if s["unstable"] else "settled"
    print(
        f"\nopen work trend over the window: {s['open_work_trend_per_week']:+.1f} items/week "
        f"[{s['open_work_trend_low']:+.1f}, {s['open_work_trend_high']:+.1f}]: {verdict}"
    )


if __name__ == "__main__":
    main()
