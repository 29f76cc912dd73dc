"""A sensitivity study's folder: its tables, a Markdown summary, charts, and the
manifest, written last."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from flowsim.config import config_hash
from flowsim.sensitivity.analysis import conditions, drivers, outcome_shares, verdicts
from flowsim.sensitivity.run import SensitivityRun, design_hash
from flowsim.stats import number_text
from flowsim.storage import write_frame, write_manifest, write_text

FILES = (
    *("sensitivity.json", "runs.parquet", "points.csv", "drivers.csv", "verdicts.csv"),
    *("outcomes.csv", "conditions.csv", "sensitivity.md", "*.png"),
)
"""Everything a sensitivity analysis writes into its folder (the manifest last)."""

INDEX_TITLES = {
    "morris": "Morris mu*, the change over the range",
    "sobol": "total-order Sobol index ST",
    "lhs": "delta, moment-independent importance",
}
INDEX_NAMES = {
    "morris": "mu* (the metric's change over the range; larger: more influence)",
    "sobol": "total-order Sobol index ST (share of the variance)",
    "lhs": "delta (moment-independent importance, 0 to 1)",
}


@dataclass
class SensitivityTables:
    """What a study shows, as tables (see :mod:`flowsim.sensitivity.analysis`)."""

    drivers: pd.DataFrame
    verdicts: pd.DataFrame
    shares: pd.DataFrame
    conditions: pd.DataFrame


def analyse_sensitivity(run: SensitivityRun) -> SensitivityTables:
    table = verdicts(run)
    return SensitivityTables(
        drivers(run), table, outcome_shares(table), conditions(table, run.design.names)
    )


def _index(value: float, conf: float) -> str:
    return "n/a" if pd.isna(value) else f"{number_text(value)} ± {number_text(conf)}"


def driver_markdown(table: pd.DataFrame, kind: str, scenario: str | None) -> str:
    """Assumptions (rows, most important first) against metrics or policies (columns)."""
    rows = table[table["kind"] == kind]
    if scenario is not None:
        rows = rows[rows["scenario"] == scenario]
    column = "metric" if kind == "level" else "scenario"
    columns = list(dict.fromkeys(rows[column]))
    first = rows[rows[column] == columns[0]].sort_values("importance", ascending=False)
    order = list(first["assumption"]) + [
        a for a in dict.fromkeys(rows["assumption"]) if a not in set(first["assumption"])
    ]
    lines = [
        "| assumption | " + " | ".join(f"`{c}`" for c in columns) + " |",
        "| --- |" + " --- |" * len(columns),
    ]
    for a in order:
        cells = []
        for c in columns:
            r = rows[(rows[column] == c) & (rows["assumption"] == a)].iloc[0]
            cells.append(_index(r["importance"], r["importance_conf"]))
        lines.append(f"| {a} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _share(r: Any, col: str) -> str:
    return f"{r[col]:.0%} [{r[col + '_low']:.0%}, {r[col + '_high']:.0%}]"


def outcomes_markdown(tables: SensitivityTables) -> str:
    lines = [
        "| policy | metric | wins | loses | cannot be called | median difference | wins where |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for _, r in tables.shares.iterrows():
        rules = tables.conditions[
            (tables.conditions["policy"] == r["policy"])
            & (tables.conditions["metric"] == r["metric"])
        ]
        where = "; ".join(
            f"{c.rule} ({c.wins_in_rule} of {c.points_in_rule} points)"
            if c.points_in_rule and c.points_in_rule != r["points"]
            else c.rule
            for c in rules.itertuples()
        )
        lines.append(
            f"| `{r['policy']}` | `{r['metric']}` | {_share(r, 'wins')} | {_share(r, 'loses')} | "
            f"{_share(r, 'uncalled')} | {number_text(r['median_difference'])} | {where} |"
        )
    return "\n".join(lines)


def summary_markdown(run: SensitivityRun, tables: SensitivityTables) -> str:
    design = run.design
    spec = design.spec
    ref = design.experiment.reference
    n = len(run.values)
    index = INDEX_NAMES[spec.method]
    parts = [
        f"# Sensitivity: {design.experiment.name} over {spec.name}",
        "",
        f"{spec.method} design: {n} points of {len(design.names)} assumptions, "
        f"{len(design.experiment.scenarios)} scenarios, {spec.replications} replications "
        f"each on common random numbers (seed {design.seed}).",
        "",
        "## Assumptions",
        "",
        "| assumption | keys | range | scale | source |",
        "| --- | --- | --- | --- | --- |",
        *(
            f"| {a.name} | {', '.join(f'`{k}`' for k in a.keys)} | {a.low:g} to {a.high:g}"
            f"{' (log)' if a.log else ''} | {a.scale} | {a.source} |"
            for a in spec.assumptions
        ),
        "",
        f"## What drives each metric in `{ref}`",
        "",
        f"Index: {index}, with its 95% bootstrap interval.",
        "",
        driver_markdown(tables.drivers, "level", ref),
    ]
    for metric in spec.decide:
        effect = tables.drivers[tables.drivers["metric"] == metric]
        parts += [
            "",
            f"## What decides each policy's effect on `{metric}` (against `{ref}`)",
            "",
            driver_markdown(effect, "effect", None),
        ]
    parts += [
        "",
        f"## Where each policy wins against `{ref}`",
        "",
        "Share of the points where the 95% CI of the paired difference excludes zero in "
        "the better direction (wins), in the other (loses), or neither; each share with "
        "its Wilson 95% interval. *Wins where*: the leaves of a depth-2 classification "
        "tree over the assumptions in which most points win.",
        "",
        outcomes_markdown(tables),
        "",
    ]
    return "\n".join(parts)


def write_sensitivity(
    run: SensitivityRun, out: Path, provenance: dict[str, Any], charts: bool = True
) -> SensitivityTables:
    """Write the folder's files (the runs are already there), the manifest last."""
    tables = analyse_sensitivity(run)
    design = run.design
    write_frame(out / "points.csv", run.values.rename_axis("point").reset_index())
    write_frame(out / "drivers.csv", tables.drivers)
    write_frame(out / "verdicts.csv", tables.verdicts)
    write_frame(out / "outcomes.csv", tables.shares)
    write_frame(out / "conditions.csv", tables.conditions)
    write_text(out / "sensitivity.md", summary_markdown(run, tables))
    if charts:
        from flowsim.reporting.charts.sensitivity import driver_bars, outcome_bars

        ref = design.experiment.reference
        index = INDEX_TITLES[design.spec.method]
        d = tables.drivers
        level = d[(d["kind"] == "level") & (d["scenario"] == ref)]
        title = f"What drives each metric in {ref} ({index}, 95% CI)"
        driver_bars(level, "metric", title).savefig(out / "drivers.png", dpi=100)
        for metric in design.spec.decide:
            effect = d[(d["kind"] == "effect") & (d["metric"] == metric)]
            title = f"What decides each policy's effect on {metric} against {ref} ({index})"
            driver_bars(effect, "scenario", title).savefig(
                out / f"effect_drivers_{metric}.png", dpi=100
            )
            outcome_bars(tables.shares, tables.conditions, metric, ref).savefig(
                out / f"outcomes_{metric}.png", dpi=100
            )
    spec = design.spec
    write_manifest(
        out,
        {
            **provenance,
            "sensitivity": spec.name,
            "experiment": design.experiment.name,
            "experiment_file": design.experiment.source,
            "uncertain_file": design.source,
            "design_hash": design_hash(design),
            "design": spec.model_dump(mode="json"),
            "seed": design.seed,
            "points": len(run.values),
            "points_reused": run.reused,
            "points_computed": run.computed,
            "scenarios": [
                {"name": s.name, "config_hash": config_hash(s.params)}
                for s in design.experiment.scenarios
            ],
            "wall_time_seconds": round(run.wall_time, 3),
        },
    )
    return tables
