"""Readable text tables of summary statistics."""

from __future__ import annotations

import math

import pandas as pd

from flowsim.model.catalogue import describe_metric

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


def format_stats_table(
    stats: pd.DataFrame, title: str = "", sections: dict[str, list[str]] | None = None
) -> str:
    """Format ``summarise_replications`` output as a sectioned text table.

    Each line shows the metric's meaning, its mean, the 95% confidence interval
    across replications and its unit.
    """
    by_metric = stats.set_index("metric")
    n = int(by_metric["n"].max()) if len(by_metric) else 0
    lines = []
    if title:
        lines.append(title)
    lines.append(f"mean over {n} replication{'s' if n != 1 else ''}; [95% confidence interval]")
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
            unit_text = "" if unit in ("share", "") else unit
            ci = ci_text(row, unit)
            lines.append(f"  {meaning[:width]:<{width}} {value:>12}  {ci:<26} {unit_text}".rstrip())
    return "\n".join(lines)


def _relative(value: float) -> str:
    """A relative change; beyond 10x (a reference near zero) the percentage says little."""
    if math.isnan(value) or math.isinf(value):
        return ""
    if abs(value) > 10:
        return ">+999%" if value > 0 else "<-999%"
    return f"{100 * value:+.0f}%"


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


def format_experiment_table(
    scenarios: pd.DataFrame, differences: pd.DataFrame, reference: str, metrics: list[str]
) -> str:
    """One block per metric: each scenario's mean and 95% CI, and its paired difference
    from the reference with that difference's CI, relative change and verdict."""
    names = list(dict.fromkeys(scenarios["scenario"]))
    width = max(12, *(len(n) for n in names)) + 2
    n = int(scenarios["n"].max()) if len(scenarios) else 0
    lines = [
        f"mean over {n} replications [95% CI]; difference from '{reference}' paired by "
        "replication (common random numbers)"
    ]
    by = scenarios.set_index(["scenario", "metric"])
    diff = differences.set_index(["scenario", "metric"]) if len(differences) else None
    for metric in metrics:
        meaning, unit = describe_metric(metric)
        lines += ["", f"{metric}: {meaning}" + (f" ({unit})" if unit and unit != "share" else "")]
        for name in names:
            row = by.loc[(name, metric)]
            cells = (
                f"  {name:<{width}} {format_value(row['mean'], unit):>12}  {ci_text(row, unit):<24}"
            )
            if name == reference:
                cells += " reference"
            elif diff is not None and (name, metric) in diff.index:
                d = diff.loc[(name, metric)]
                ci = diff_ci_text(d, unit)
                rel = _relative(d["relative"])
                cells += f" {signed(d['diff'], unit):>10} {ci:<24} {rel:>6}  {d['verdict']}"
            lines.append(cells.rstrip())
    return "\n".join(lines)
