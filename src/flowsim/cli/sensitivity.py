"""``flowsim sensitivity``: which assumptions drive each metric, and where each policy wins."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from flowsim.cli.common import (
    claim_or_exit,
    exit_on_config_error,
    fail,
    force_option,
    scheduler_option,
    workers_option,
)

if TYPE_CHECKING:
    from flowsim.sensitivity import SensitivityRun, SensitivityTables


@click.command("sensitivity")
@click.argument("experiment_file", type=click.Path(), metavar="EXPERIMENT")
@click.option(
    "--over",
    "over",
    required=True,
    type=click.Path(),
    metavar="UNCERTAIN.yaml",
    help="The uncertain assumptions: config keys, their ranges, and how a policy wins.",
)
@click.option(
    "--method",
    type=click.Choice(["morris", "sobol", "lhs"]),
    default=None,
    help="Override the file's method: Morris screening, Sobol indices, or a Latin hypercube.",
)
@click.option(
    "--samples",
    type=click.IntRange(min=2),
    default=None,
    help="Override the file's samples: trajectories, Sobol base samples or LHS points.",
)
@click.option(
    "--reps",
    type=click.IntRange(min=2),
    default=None,
    help="Override the file's replications per point and scenario.",
)
@workers_option
@scheduler_option
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    metavar="DIR",
    help="Results folder (default: results/<experiment>_sensitivity); rerun to resume.",
)
@force_option
@click.option("--no-charts", is_flag=True, help="Do not draw drivers.png and outcomes_*.png.")
def sensitivity_command(
    experiment_file: str,
    over: str,
    method: str | None,
    samples: int | None,
    reps: int | None,
    workers: int | None,
    scheduler: str | None,
    out: str | None,
    no_charts: bool,
    force: bool,
) -> None:
    """Run every scenario of EXPERIMENT across the assumptions nobody knows.

    Points of the assumption space are drawn by SALib (Morris trajectories, Sobol's
    Saltelli scheme, or a Latin hypercube); at each, every scenario runs the same
    replications (common random numbers).  Reported: which assumptions drive each
    metric (Morris mu*, Sobol ST or delta, with 95% intervals); for each policy, the
    share of the points where it wins, loses or cannot be called against the
    reference (paired 95% CI), and the conditions under which it wins.

    Writes sensitivity.md, drivers.csv, outcomes.csv, conditions.csv, verdicts.csv,
    points.csv, runs.parquet, drivers.png, outcomes_<metric>.png and manifest.json.
    Points are stored in batches: a rerun into the same --out resumes.
    """
    from flowsim.config.experiment import load_experiment
    from flowsim.config.sensitivity import load_sensitivity
    from flowsim.sensitivity import run_sensitivity, write_sensitivity
    from flowsim.sensitivity.folder import FILES

    with exit_on_config_error():
        experiment = load_experiment(experiment_file)
        design = load_sensitivity(experiment, over, method, samples, reps)  # type: ignore[arg-type]
    folder = Path(out) if out else Path("results") / f"{experiment.name}_sensitivity"
    claim_or_exit(folder, "sensitivity", FILES, force)
    try:
        run = run_sensitivity(design, folder, workers=workers, scheduler=scheduler)
        provenance = {"command": "sensitivity", "method": method, "samples": samples, "reps": reps}
        tables = write_sensitivity(run, folder, provenance, charts=not no_charts)
    except OSError as exc:
        fail(f"cannot write results to {folder}: {exc.strerror or exc}")
    except ValueError as exc:
        fail(str(exc))
    click.echo(_summary(run, tables))
    click.echo(
        f"\n{run.reused} points reused, {run.computed} computed in {run.wall_time:.1f} s; "
        f"wrote {folder}/ (summary: {folder / 'sensitivity.md'})"
    )


def _summary(run: SensitivityRun, tables: SensitivityTables) -> str:
    from flowsim.stats import number_text

    design = run.design
    ref = design.experiment.reference
    lines = [
        f"\n{design.spec.name}: {len(run.values)} points ({design.spec.method}) x "
        f"{len(design.experiment.scenarios)} scenarios x {design.spec.replications} replications",
        f"\nwhat drives each metric in {ref} (most important first):",
    ]
    level = tables.drivers[
        (tables.drivers["kind"] == "level") & (tables.drivers["scenario"] == ref)
    ]
    width = max(len(m) for m in design.metrics)
    for metric in design.metrics:
        ranked = level[level["metric"] == metric].sort_values("importance", ascending=False)
        top = [
            f"{r.assumption} {number_text(r.importance)}"
            for r in ranked.head(3).itertuples()
            if r.importance == r.importance
        ]
        lines.append(f"  {metric:<{width}}  {', '.join(top) or 'n/a'}")
    lines.append(
        f"\nagainst {ref}: share of points where each policy wins / loses / cannot be called"
    )
    width = max(len(p) for p in tables.shares["policy"])
    for r in tables.shares.itertuples():
        rules = tables.conditions[
            (tables.conditions["policy"] == r.policy) & (tables.conditions["metric"] == r.metric)
        ]
        lines.append(
            f"  {r.policy:<{width}}  {r.metric}: {r.wins:4.0%} / {r.loses:4.0%} / {r.uncalled:4.0%}"
            f"   wins where: {'; '.join(rules['rule'])}"
        )
    return "\n".join(lines)
