"""A backtest in words and tables (Markdown, read as well in a terminal)."""

from __future__ import annotations

import math

import pandas as pd

from flowsim.forecast.backtest import Backtest

_MARK = {True: "yes", False: "no", None: "not yet known"}


def _pct(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x:.0%}"


def _date(bt: Backtest, day: float) -> str:
    if math.isinf(day):
        return f"after {bt.forecast.date(bt.forecast.horizon_days)}"
    return str(bt.forecast.date(day))


def calibration_markdown(cal: pd.DataFrame) -> str:
    """One row per outcome: how many fell inside its 50% and its 85% intervals."""
    labels = list(dict.fromkeys(cal["interval"]))
    lines = [
        "| outcome | "
        + " | ".join(f"inside the {x} intervals [95% CI]" for x in labels)
        + " | not yet known |",
        "|---|" + "---|" * len(labels) + "---|",
    ]
    for outcome, rows in cal.groupby("outcome", sort=False):
        cells = []
        for label in labels:
            r = rows[rows["interval"] == label].iloc[0]
            cells.append(
                f"{r['inside']} of {r['scored']}: {_pct(r['share'])} "
                f"[{_pct(r['share_low'])}, {_pct(r['share_high'])}]"
            )
        unknown = int(rows["not_yet_known"].max())
        lines.append(f"| {outcome} | " + " | ".join(cells) + f" | {unknown} |")
    return "\n".join(lines)


def items_markdown(bt: Backtest) -> str:
    items = bt.scores.items.sort_values("p50_day", kind="stable")
    lines = [
        "| open at the cutoff | kind | happened | forecast 50% interval "
        "| forecast 85% interval | inside 50% / 85% |",
        "|---|---|---|---|---|---|",
    ]
    for r in items.to_dict("records"):
        lines.append(
            f"| {r['name']} | {r['kind']} | {r['actual_date']} | "
            f"{_date(bt, r['low_50%'])} to {_date(bt, r['high_50%'])} | "
            f"{_date(bt, r['low_85%'])} to {_date(bt, r['high_85%'])} | "
            f"{_MARK[r['inside_50%']]} / {_MARK[r['inside_85%']]} |"
        )
    return "\n".join(lines)


def backtest_markdown(bt: Backtest) -> str:
    fc = bt.forecast
    s = fc.state
    weeks = len(bt.scores.weekly)
    company = (
        "fitted on the data before the cutoff" if bt.fit is not None else f"config {bt.params.name}"
    )
    onboarding = ", ".join(o.customer for o in s.onboarding) or "none"
    parts = [
        f"Backtest from {bt.cutoff.date()} over the {weeks} weeks of data after it; company "
        f"{company}; {fc.replications} replications.",
        f"Open work at the cutoff: {len(s.live)} live customers, {len(s.onboarding)} onboarding "
        f"({onboarding}), {len(s.tickets)} open tickets.",
        "",
        "How often what happened fell inside the forecast's intervals (a calibrated forecast: "
        "about 50% and 85%):",
        "",
        calibration_markdown(bt.scores.calibration),
        "",
        items_markdown(bt),
    ]
    if s.notes:
        parts += ["", *(f"note: {n}" for n in s.notes)]
    return "\n".join(parts)
