"""A study's scenario table in Markdown, for a README or a pull request."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from flowsim.model.catalogue import describe_metric
from flowsim.reporting.tables import (
    UNSTABLE_MARK,
    format_value,
    horizon_mark,
    scenario_stability,
    stability_block,
)
from flowsim.stats import paired_differences
from flowsim.storage import read_manifest


def _compact(value: float, unit: str) -> str:
    """:func:`format_value`, with money in thousands: a table cell holds three numbers."""
    if unit.startswith("currency") and not math.isnan(value) and abs(value) >= 10_000:
        return f"{value / 1000:,.0f}k"
    return format_value(value, unit)


def _header(metrics: list[str]) -> list[str]:
    return ["| scenario | " + " | ".join(metrics) + " |", "|---" * (len(metrics) + 1) + "|"]


def _cell(
    row: pd.Series, value: str, unit: str, fmt: Callable[[float, str], str], mark: str = ""
) -> str:
    """``row[value]`` and its 95% interval, ``3.1 [2.9, 3.3]`` (no interval without one)."""
    ci = ""
    if row["n"] >= 2 and not math.isnan(row["half_width"]):
        ci = f" [{fmt(row['ci_low'], unit)}, {fmt(row['ci_high'], unit)}]"
    return f"{fmt(row[value], unit)}{mark}{ci}"


def format_markdown_table(scenarios: pd.DataFrame, metrics: list[str]) -> str:
    """A study's scenario table in Markdown: a row per scenario, a column per metric,
    each cell ``mean [low, high]`` (95% CI), with the same marks and stability block
    as :func:`format_experiment_table` (the block as a list under the table)."""
    settled = scenario_stability(scenarios)
    by = scenarios.set_index(["scenario", "metric"])
    lines = _header(metrics)
    marked = False
    for name in dict.fromkeys(scenarios["scenario"]):
        s = settled.get(name)
        unstable = s is not None and s.mostly_unstable
        cells = [f"`{name}`" + (f" {UNSTABLE_MARK}" if unstable else "")]
        for metric in metrics:
            if (name, metric) not in by.index:
                cells.append("")
                continue
            row = by.loc[(name, metric)]
            mark = horizon_mark(metric, row["mean"], unstable)
            marked = marked or bool(mark)
            cells.append(_cell(row, "mean", describe_metric(metric)[1], _compact, mark))
        lines.append("| " + " | ".join(cells) + " |")
    block = stability_block(settled, marked)
    if block:
        lines += ["", block[0] + ":" if len(block) > 1 else block[0]]
        lines += [f"- {line.strip()}" for line in block[1:]]
    return "\n".join(lines)


def _signed(value: float, unit: str) -> str:
    text = _compact(abs(value), unit)
    return text if text == "n/a" else ("-" if value < 0 else "+") + text


def format_markdown_differences(
    differences: pd.DataFrame, reference: str, metrics: list[str]
) -> str:
    """Paired differences (``paired_differences`` output) in Markdown: a row per scenario
    other than ``reference``, each cell ``+diff [low, high]`` (scenario minus reference,
    95% CI over replications paired by seed)."""
    by = differences.set_index(["scenario", "metric"])
    lines = [
        f"paired difference from `{reference}` (scenario minus {reference}), mean [95% CI]:",
        "",
        *_header(metrics),
    ]
    for name in dict.fromkeys(differences["scenario"]):
        cells = [f"`{name}`"]
        for metric in metrics:
            if (name, metric) in by.index:
                d = by.loc[(name, metric)]
                cells.append(_cell(d, "diff", describe_metric(metric)[1], _signed))
            else:
                cells.append("")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def study_markdown(
    folder: str | os.PathLike[str], metrics: list[str] | None = None, vs: str | None = None
) -> str:
    """:func:`format_markdown_table` of the study in ``folder``, for ``metrics`` (by
    default the study's own); with ``vs``, :func:`format_markdown_differences` from
    that scenario instead.

    Raises
    ------
    ValueError
        When a metric or ``vs`` is not in the study; the message lists those that are.
    """
    path = Path(folder)
    manifest = read_manifest(path)
    scenarios = pd.read_csv(path / "scenarios.csv")
    metrics = metrics or list(manifest.get("metrics") or [])
    known = set(scenarios["metric"])
    unknown = [m for m in metrics if m not in known]
    if unknown:
        raise ValueError(
            f"--metric: {', '.join(unknown)} not in this study; expected one of "
            f"{', '.join(sorted(known))}"
        )
    if vs is None:
        return format_markdown_table(scenarios, metrics)
    names = list(dict.fromkeys(scenarios["scenario"]))
    if vs not in names:
        raise ValueError(
            f"--vs: no scenario {vs!r} in this study; expected one of {', '.join(names)}"
        )
    per_rep = pd.read_parquet(path / "per_replication.parquet")
    return format_markdown_differences(paired_differences(per_rep, vs, metrics), vs, metrics)
