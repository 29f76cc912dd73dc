"""``flowsim calibrate``: fit the company as it is to what is observed of it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from flowsim.cli.common import (
    claim_or_exit,
    config_options,
    exit_on_config_error,
    fail,
    force_option,
    scheduler_option,
    workers_option,
)

if TYPE_CHECKING:
    import pandas as pd


@click.command("calibrate")
@click.argument("config", type=click.Path(), metavar="CONFIG")
@click.option(
    "--targets",
    "targets_file",
    required=True,
    type=click.Path(),
    metavar="TARGETS.yaml",
    help="What is observed of the company as it is: metrics or series, values or ranges.",
)
@click.option(
    "--free",
    "free_file",
    required=True,
    type=click.Path(),
    metavar="PARAMS.yaml",
    help="The config keys the fit may move, with their bounds (and priors).",
)
@click.option(
    "--budget",
    type=click.IntRange(min=1),
    default=64,
    show_default=True,
    help="Candidates to try (rounded up to whole batches); rerun with more to go on.",
)
@config_options
@workers_option
@scheduler_option
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    metavar="DIR",
    help="Results folder (default: results/calibration_<targets name>); rerun to resume.",
)
@force_option
@click.option("--no-charts", is_flag=True, help="Do not draw search.png and parameters.png.")
def calibrate_command(
    config: str,
    targets_file: str,
    free_file: str,
    budget: int,
    overlays: tuple[str, ...],
    sets: tuple[str, ...],
    workers: int | None,
    scheduler: str | None,
    out: str | None,
    no_charts: bool,
    force: bool,
) -> None:
    """Fit CONFIG's free parameters so that it reproduces the targets.

    Candidates are proposed by optuna's TPE sampler in fixed batches; each runs
    the targets file's replications on common random numbers and is scored by
    sum(weight * z^2), z being its distance from each target in the observation's
    standard deviations.  The best is then run on fresh seeds for the target table,
    and over a longer horizon to check that it settles.

    Writes calibrated.yaml (an overlay with each fitted value, its range and
    source), targets.csv/.md, trials.csv, search.png, parameters.png and
    manifest.json.  Only the company as it is is fitted: a policy's effect is a
    prediction, never a target.
    """
    from flowsim.calibration import calibrate, write_calibration
    from flowsim.calibration.folder import FILES, stability_share
    from flowsim.calibration.search import PROFILE_DELTA
    from flowsim.config.calibration import load_calibration, results_folder
    from flowsim.stats import number_text

    with exit_on_config_error():
        spec = load_calibration(config, targets_file, free_file, overlays, sets)
    folder = results_folder(spec, out)
    claim_or_exit(folder, "calibrate", FILES, force)
    try:
        run = calibrate(spec, budget, folder, workers=workers, scheduler=scheduler)
        table = write_calibration(
            run, folder, {"command": "calibrate", "budget": budget}, charts=not no_charts
        )
    except OSError as exc:
        fail(f"cannot write results to {folder}: {exc.strerror or exc}")
    except ValueError as exc:
        fail(str(exc))
    click.echo(f"\n{spec.targets.name}: best of {len(run.trials)} candidates")
    click.echo(_target_lines(table))
    click.echo(f"\nfitted (range within {PROFILE_DELTA} of the best objective; bounds):")
    width = max(len(f.key) for f in spec.free.free)
    for f in spec.free.free:
        lo, hi = run.ranges[f.key]
        edge = f.at_bound(run.best[f.key])
        click.echo(
            f"  {f.key:<{width}}  {run.best[f.key]:<8g} [{number_text(lo)}, {number_text(hi)}]  "
            f"({f.low:g}-{f.high:g}){'  ' + edge if edge else ''}"
        )
    share = stability_share(run)
    if share is not None:
        click.echo(
            f"\nstability: open work settled in {share[0]} of {share[1]} replications over "
            f"{spec.targets.stability_weeks:g} weeks"
        )
    click.echo(
        f"\n{run.reused} candidates reused, {run.computed} computed in {run.wall_time:.1f} s; "
        f"wrote {folder}/ (overlay: {Path(folder) / 'calibrated.yaml'})"
    )


def _target_lines(table: pd.DataFrame) -> str:
    from flowsim.stats import number_text

    width = max(len(str(t)) for t in table["target"])
    lines = [f"  {'target':<{width}}  {'wanted':<14} {'best fit [95% CI]':<28} {'z':>6}  verdict"]
    for r in table.itertuples():
        fit = f"{number_text(r.mean)} [{number_text(r.ci_low)}, {number_text(r.ci_high)}]"
        lines.append(f"  {r.target:<{width}}  {r.wanted:<14} {fit:<28} {r.z:>+6.2f}  {r.verdict}")
    return "\n".join(lines)
