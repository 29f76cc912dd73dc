"""Readable text tables of summary statistics.

Both tables say whether the runs settled.  A replication whose open work kept growing
over its window (the summary metric ``unstable``) has no steady state, so its levels
and its waiting and lead times (the metrics for which
:func:`~flowsim.model.catalogue.presumes_steady_state` is true) measure the horizon as
much as the company: where any replication is unstable those averages carry
:data:`HORIZON_MARK`, a study's scenario names carry :data:`UNSTABLE_MARK`, and a line
or block after the table says how fast the open work grows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from flowsim.model.catalogue import describe_metric, presumes_steady_state

UNSTABLE_MARK = "\u26a0"
"""After the name of a scenario with at least one unstable replication."""
HORIZON_MARK = "\u2020"
"""After an average that presumes a steady state, where some replication did not settle."""
HORIZON_FOOTNOTE = (
    f"{HORIZON_MARK} a level, a waiting or a lead time: with open work still growing, "
    "it depends on the horizon"
)
"""The one line that explains :data:`HORIZON_MARK` under a study's table."""

# The metrics a person reads first, grouped as MODEL.md tells the story.
SECTIONS: dict[str, list[str]] = {
    "Onboarding": [
        "go_lives",
        "go_lives_per_quarter",
        "onboarding_lead_time_p50_days",
        "onboarding_lead_time_p85_days",
        "open_onboarding_age_p50_days",
        "lost_deals",
    ],
    "Support tickets": [
        "tickets_closed_per_week",
        "ticket_urgent_mean_days",
        "ticket_normal_mean_days",
        "ticket_how_to_mean_days",
    ],
    "The lead's week (hours)": [
        "lead_onboarding_hours_per_week",
        "lead_tickets_hours_per_week",
        "lead_calls_hours_per_week",
        "lead_specs_reviews_hours_per_week",
        "lead_mentoring_hours_per_week",
        "lead_platform_hours_per_week",
        "lead_switching_hours_per_week",
        "lead_escalations_hours_per_week",
        "lead_idle_hours_per_week",
    ],
    "Team and promises": [
        "contractor_busy_share",
        "contractor_blocked_share",
        "promises_made",
        "promises_kept_share",
        "promises_broken",
        "items_forgotten",
    ],
    "Customers and revenue": [
        "churned",
        "live_customers_at_horizon",
        "health_median_at_horizon",
        "red_share_at_horizon",
        "arr_at_horizon",
        "cumulative_revenue",
        "net_revenue_retention",
    ],
}


def format_value(value: float, unit: str) -> str:
    """A number as a person reads it: shares as percentages, money with separators."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if unit == "share":
        return f"{100 * value:.1f}%"
    if unit.startswith("currency"):
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"


def ci_text(row: pd.Series, unit: str) -> str:
    """A row's 95% interval as ``[low, high]``; empty when it has none."""
    if row["n"] < 2 or math.isnan(row["half_width"]):
        return ""
    return f"[{format_value(row['ci_low'], unit)}, {format_value(row['ci_high'], unit)}]"


@dataclass(frozen=True)
class Stability:
    """Whether the replications of a run (or of one scenario) settled.

    Attributes
    ----------
    replications : int
        Replications with a verdict (the ``unstable`` metric).
    unstable : int
        Of which unstable: open work grew by more than a quarter of its level.
    trend, trend_low, trend_high : float
        Mean growth of open work per week over the replications, with its 95% CI
        (NaN when the windows were too short to fit a trend).
    judged : int
        Replications whose window was long enough to fit that trend.
    """

    replications: int
    unstable: int
    trend: float
    trend_low: float
    trend_high: float
    judged: int

    @property
    def any_unstable(self) -> bool:
        return self.unstable > 0

    @property
    def mostly_unstable(self) -> bool:
        """At least half the replications unstable: what marks a scenario (one chance
        replication of thirty does not make a scenario's averages meaningless)."""
        return self.unstable > 0 and 2 * self.unstable >= self.replications

    @property
    def share(self) -> float:
        """Share of the replications that were unstable."""
        return self.unstable / self.replications if self.replications else math.nan

    def growth(self, sign: bool = False) -> str:
        """The mean growth with its CI, ``26 [24, 28]`` (``+26 [24, 28]`` with ``sign``)."""
        if math.isnan(self.trend):
            return "n/a"
        # One precision for the mean and both ends, from the mean's size: whole items
        # when it is large, so that ``26 [24, 28]`` is not read as more exact than it is.
        size = abs(self.trend)
        digits = 0 if size >= 10 else 1 if size >= 1 else 2
        mean = f"{self.trend:+.{digits}f}" if sign else f"{self.trend:.{digits}f}"
        if math.isnan(self.trend_low):
            return mean
        return f"{mean} [{self.trend_low:.{digits}f}, {self.trend_high:.{digits}f}]"


def stability(rows: pd.DataFrame) -> Stability | None:
    """The :class:`Stability` of summary rows indexed by metric.

    Parameters
    ----------
    rows : DataFrame
        ``summarise_replications`` output, or one scenario's rows of a scenario
        table, indexed by ``metric``.

    Returns
    -------
    Stability or None
        None when the rows have no ``unstable`` metric (results written before it
        existed).
    """
    if "unstable" not in rows.index or "open_work_trend_per_week" not in rows.index:
        return None
    verdict, trend = rows.loc["unstable"], rows.loc["open_work_trend_per_week"]
    n = int(verdict["n"])
    # The mean of a 0/1 metric over n replications is the share: round back to a count.
    unstable = round(float(verdict["mean"]) * n) if n else 0
    return Stability(
        replications=n,
        unstable=unstable,
        trend=float(trend["mean"]),
        trend_low=float(trend["ci_low"]),
        trend_high=float(trend["ci_high"]),
        judged=int(trend["n"]),
    )


def scenario_stability(scenarios: pd.DataFrame) -> dict[str, Stability]:
    """The :class:`Stability` of each scenario of a scenario table (``scenario_table``
    output, or ``scenarios.csv``), in table order; scenarios without a verdict are left out."""
    out = {}
    for name, group in scenarios.groupby("scenario", sort=False):
        found = stability(group.set_index("metric"))
        if found is not None:
            out[str(name)] = found
    return out


def horizon_mark(metric: str, value: float, unstable: bool) -> str:
    """:data:`HORIZON_MARK` for an average that presumes a steady state in a run that
    did not settle (none for a value that is not there: n/a needs no footnote)."""
    if unstable and presumes_steady_state(metric) and not math.isnan(value):
        return HORIZON_MARK
    return ""


def stability_line(s: Stability | None, marked: bool = True) -> str:
    """One line on whether a run's replications settled, for ``flowsim run``.

    ``unstable: 10 of 10 replications (open work grows 26 [24, 28] items a week;
    averages marked † depend on the horizon)`` or ``settled: 0 of 10 replications
    unstable``; empty when ``s`` is None.  ``marked`` says whether the table above
    shows any mark to explain.
    """
    if s is None:
        return ""
    if not s.any_unstable:
        if s.judged == 0:
            return "settled: not judged (each window is too short to fit a trend of open work)"
        return f"settled: 0 of {s.replications} replications unstable"
    verb = "grows" if s.trend > 0 else "changes by"
    note = f"; averages marked {HORIZON_MARK} depend on the horizon" if marked else ""
    return (
        f"unstable: {s.unstable} of {s.replications} replications "
        f"(open work {verb} {s.growth()} items a week{note})"
    )


def format_stats_table(
    stats: pd.DataFrame, title: str = "", sections: dict[str, list[str]] | None = None
) -> str:
    """Format ``summarise_replications`` output as a sectioned text table.

    Each line shows the metric's meaning, its mean, the 95% confidence interval
    across replications and its unit.  When ``stats`` has the ``unstable`` metric, a
    last line says how many replications were unstable and how fast their open work
    grew (:func:`stability_line`), and if any was, the averages that presume a steady
    state are marked :data:`HORIZON_MARK`.
    """
    by_metric = stats.set_index("metric")
    n = int(by_metric["n"].max()) if len(by_metric) else 0
    settled = stability(by_metric)
    unstable = settled is not None and settled.mostly_unstable
    marked = False
    lines = []
    if title:
        lines.append(title)
    lines.append(f"mean over {plural(n, 'replication')}; [95% confidence interval]")
    width = 52
    for section, metrics in (sections or SECTIONS).items():
        present = [m for m in metrics if m in by_metric.index]
        if not present:
            continue
        lines.append("")
        lines.append(section)
        for metric in present:
            meaning, unit = describe_metric(metric)
            row = by_metric.loc[metric]
            value = format_value(row["mean"], unit)
            mark = horizon_mark(metric, row["mean"], unstable)
            marked = marked or bool(mark)
            unit_text = "" if unit in ("share", "") else unit
            ci = ci_text(row, unit)
            # The mark takes the first of the two spaces between the value and its CI,
            # so that unmarked lines keep their columns.
            line = f"  {meaning[:width]:<{width}} {value:>12}{mark or ' '} {ci:<26} {unit_text}"
            lines.append(line.rstrip())
    if settled is not None:
        lines += ["", stability_line(settled, marked)]
    return "\n".join(lines)


def plural(n: int, word: str) -> str:
    """``1 replication``, ``2 replications``."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def _relative(value: float) -> str:
    """A relative change, or "n/a" where the reference is zero (no relative change)."""
    if math.isnan(value) or math.isinf(value):
        return "n/a"
    return f"{100 * value:+,.0f}%"


def signed(value: float, unit: str) -> str:
    text = format_value(abs(value), unit)
    if text == "n/a":
        return text
    return ("-" if value < 0 else "+") + text


def diff_ci_text(d: pd.Series, unit: str) -> str:
    """A paired difference's 95% interval as signed ``[low, high]``; empty when it has none."""
    if d["n"] < 2 or math.isnan(d["half_width"]):
        return ""
    return f"[{signed(d['ci_low'], unit)}, {signed(d['ci_high'], unit)}]"


def scenario_label(name: str, settled: dict[str, Stability]) -> str:
    """A scenario's name, followed by :data:`UNSTABLE_MARK` when any replication of it
    was unstable."""
    s = settled.get(name)
    return f"{name} {UNSTABLE_MARK}" if s is not None and s.mostly_unstable else name


def stability_block(settled: dict[str, Stability], marked: bool = True) -> list[str]:
    """Lines on whether a study's scenarios settled, for after its table.

    One line per unstable scenario (``wip[limit=8] ⚠  3 of 3 replications unstable,
    open work +26 [24, 28] items/week``) under a heading, then the footnote of the
    :data:`HORIZON_MARK` if ``marked``; or one ``settled:`` line when no replication
    of any scenario was unstable; nothing when the table has no verdict at all.
    """
    if not settled:
        return []
    unstable = {name: s for name, s in settled.items() if s.any_unstable}
    if not unstable:
        reps = sum(s.replications for s in settled.values())
        if not any(s.judged for s in settled.values()):
            return ["settled: not judged (each window is too short to fit a trend of open work)"]
        return [f"settled: 0 of {reps} replications unstable, in {len(settled)} scenarios"]
    width = max(len(scenario_label(name, settled)) for name in unstable)
    marked_scenarios = sum(1 for s in unstable.values() if s.mostly_unstable)
    lines = [
        f"unstable: {marked_scenarios} of {len(settled)} scenarios in at least half their "
        f"replications, marked {UNSTABLE_MARK} (open work still growing over the window)"
    ]
    for name, s in unstable.items():
        lines.append(
            f"  {scenario_label(name, settled):<{width}}  {s.unstable} of {s.replications} "
            f"replications unstable, open work {s.growth(sign=True)} items/week"
        )
    if marked:
        lines.append(HORIZON_FOOTNOTE)
    return lines


def format_experiment_table(
    scenarios: pd.DataFrame, differences: pd.DataFrame, reference: str, metrics: list[str]
) -> str:
    """One block per metric: each scenario's mean and 95% CI, and its paired difference
    from the reference with that difference's CI, relative change and verdict.

    When ``scenarios`` holds the ``unstable`` and ``open_work_trend_per_week`` metrics
    (a study's scenario table holds every metric), the table ends with whether the
    scenarios settled (:func:`stability_block`): an unstable scenario's name carries
    :data:`UNSTABLE_MARK`, and its averages that presume a steady state
    :data:`HORIZON_MARK`.
    """
    names = list(dict.fromkeys(scenarios["scenario"]))
    settled = scenario_stability(scenarios)
    labels = {name: scenario_label(name, settled) for name in names}
    width = max(12, *(len(label) for label in labels.values())) + 2
    n = int(scenarios["n"].max()) if len(scenarios) else 0
    lines = [
        f"mean over {plural(n, 'replication')} [95% CI]; difference from '{reference}' paired by "
        "replication (common random numbers)"
    ]
    by = scenarios.set_index(["scenario", "metric"])
    diff = differences.set_index(["scenario", "metric"]) if len(differences) else None
    marked = False
    for metric in metrics:
        meaning, unit = describe_metric(metric)
        lines += ["", f"{metric}: {meaning}" + (f" ({unit})" if unit and unit != "share" else "")]
        for name in names:
            row = by.loc[(name, metric)]
            s = settled.get(name)
            mark = horizon_mark(metric, row["mean"], s is not None and s.mostly_unstable)
            marked = marked or bool(mark)
            # As in format_stats_table, the mark takes one of the two spaces before the CI.
            cells = (
                f"  {labels[name]:<{width}} {format_value(row['mean'], unit):>12}"
                f"{mark or ' '} {ci_text(row, unit):<24}"
            )
            if name == reference:
                cells += " reference"
            elif diff is not None and (name, metric) in diff.index:
                d = diff.loc[(name, metric)]
                ci = diff_ci_text(d, unit)
                rel = _relative(d["relative"])
                cells += f" {signed(d['diff'], unit):>10} {ci:<24} {rel:>6}  {d['verdict']}"
            lines.append(cells.rstrip())
    block = stability_block(settled, marked)
    if block:
        lines += ["", *block]
    return "\n".join(lines)
