"""The ``flowsim`` command line.

Commands that take a config should reuse the two pieces defined here, so that
every command spells the options and reports bad input the same way::

    @main.command()
    @click.argument("config", type=click.Path())
    @config_options
    def run(config: str, overlays: tuple[str, ...], sets: tuple[str, ...]) -> None:
        params = load_or_exit(config, overlays, sets)
        ...

Exit status 2 means bad input (a usage error or an invalid config), reported
as one ``error: ...`` line on standard error, never a traceback.

The commands only read options, call the library and print: a study is
:func:`flowsim.study.run_study`, and what it writes is the library's business.
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from flowsim.version import __version__

if TYPE_CHECKING:
    from flowsim.config.experiment import Experiment

# Every other flowsim module is imported inside the command that needs it: they bring
# pandas, pydantic, SciPy or matplotlib, and ``flowsim --version`` and ``--help`` need
# none of them.

from flowsim.cli.calibrate import calibrate_command
from flowsim.cli.common import (  # noqa: F401 - re-exported: commands elsewhere use them
    BAD_INPUT,
    F,
    _verbose,
    be_verbose,
    config_options,
    exit_on_config_error,
    fail,
    force_option,
    json_records,
    load_or_exit,
    output_options,
    report,
    scheduler_option,
    verbose_option,
    workers_option,
)
from flowsim.cli.configs import init_command, schema_command, validate_command
from flowsim.cli.fit import fit_command
from flowsim.cli.forecasting import backtest_command, forecast_command
from flowsim.cli.importing import import_command
from flowsim.cli.reports import report_command
from flowsim.cli.sensitivity import sensitivity_command
from flowsim.cli.snapshot import snapshot_command


class _Main(click.Group):
    """A group that reports a stray :class:`ConfigError` like any other bad input.

    Commands should use :func:`load_or_exit`; this is the safety net for one that
    forgets, so that a user never sees a traceback for a config mistake.  Every command
    also takes ``-v/--verbose``, as the group does.
    """

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        cmd.params.append(verbose_option())
        super().add_command(cmd, name)

    def invoke(self, ctx: click.Context) -> Any:
        # SIGTERM (a scheduler's, or kill's) stops a study as Ctrl-C does: the pool's
        # workers are stopped and nothing half-written is left.
        previous = signal.signal(signal.SIGTERM, _interrupt)
        try:
            with exit_on_config_error():
                return super().invoke(ctx)
        except KeyboardInterrupt:
            report(
                "interrupted: nothing half-written is left; rerunning a study into the "
                "same --out resumes from the replications it stored"
            )
            sys.exit(INTERRUPTED)
        finally:
            signal.signal(signal.SIGTERM, previous)


log = logging.getLogger("flowsim")
INTERRUPTED = 130  # the shell's code for a command stopped by Ctrl-C


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="flowsim")
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_verbose,
    help="Say what is done as it is done (configs and their hashes, seeds, workers, "
    "replications reused and computed, files written), on standard error.",
)
def main() -> None:
    """Simulate a small SaaS company stalled on one bottleneck engineer."""


@main.command()
@click.argument("config", type=click.Path(), metavar="CONFIG")
@config_options
@click.option("--seed", type=int, default=None, help="Root seed (default: simulation.seed).")
@click.option(
    "--reps", type=click.IntRange(min=1), default=1, show_default=True, help="Replications."
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    metavar="DIR",
    help="Results folder (default: results/<config name>).",
)
@click.option(
    "--no-events", is_flag=True, help="Do not keep the event log (saves memory and disk)."
)
@force_option
@output_options
def run(
    config: str,
    overlays: tuple[str, ...],
    sets: tuple[str, ...],
    seed: int | None,
    reps: int,
    out: str | None,
    no_events: bool,
    force: bool,
    as_json: bool,
    quiet: bool,
) -> None:
    """Run CONFIG for --reps replications, print a summary table and write the results.

    The table ends with whether the replications settled: how many were unstable
    (their open work kept growing) and how fast open work grew; where any was, the
    averages that depend on the horizon are marked with a dagger.

    The results folder gets events.parquet, timeseries.parquet, customers.parquet,
    summary.parquet/.csv (one row per replication), summary_stats.csv (means and
    95% confidence intervals), config.yaml (the resolved config) and manifest.json.
    """
    from flowsim.config import config_hash, dump_yaml
    from flowsim.model.streams import replication_seeds
    from flowsim.reporting import format_stats_table
    from flowsim.runner import gather, run_replication
    from flowsim.stats import summarise_replications
    from flowsim.storage import FolderTaken, claim_folder, write_run

    params = load_or_exit(config, overlays, sets)
    if no_events:
        params = params.model_copy(
            update={"simulation": params.simulation.model_copy(update={"event_log": False})}
        )
    root = params.simulation.seed if seed is None else seed
    folder = Path(out) if out else Path("results") / params.name
    try:
        claim_folder(
            folder, {"command": "run", "config_hash": config_hash(params), "seed": root}, force
        )
    except FolderTaken as exc:
        fail(str(exc))
    started = time.perf_counter()
    results = []
    with click.progressbar(
        replication_seeds(root, reps),
        label=f"{params.name}: {reps} replication{'s' if reps > 1 else ''}",
        file=sys.stderr if sys.stderr.isatty() else io.StringIO(),
    ) as seeds:
        for seed_seq in seeds:
            results.append(run_replication(params, seed_seq))
    reps_data = gather(params, root, results)
    elapsed = time.perf_counter() - started
    log.info(f"{params.name}: {reps} replication(s) in this process, seed {root}, {elapsed:.1f} s")
    stats = summarise_replications(reps_data.per_rep)
    if not (as_json or quiet):
        title = f"\n{params.name}: {params.description}".rstrip(": ")
        click.echo(format_stats_table(stats, title=title))
    try:
        write_run(
            folder,
            reps_data,
            stats,
            {
                "command": "run",
                "config": {"file": config, "overlays": list(overlays), "sets": list(sets)},
                "config_name": params.name,
                "config_hash": config_hash(params),
                "seed": root,
                "replications": reps,
                "wall_time_seconds": round(elapsed, 3),
                "resolved_config": params.model_dump(mode="json", by_alias=True),
            },
            dump_yaml(params),
        )
    except OSError as exc:
        fail(f"cannot write results to {folder}: {exc.strerror or exc}")
    if as_json:
        document = {"config": params.name, "description": params.description, "seed": root}
        document |= {"replications": reps, "folder": str(folder)}
        click.echo(json.dumps({**document, "summary": json_records(stats)}, indent=1))
    elif not quiet:
        click.echo(f"\nwrote {folder}/ ({reps} replications in {elapsed:.1f} s)")


# ---------------------------------------------------------------- studies
def study_options(command: F) -> F:
    """--reps, --seed, --workers, --scheduler and --out, shared by the study commands."""
    for option in reversed(
        [
            click.option(
                "--reps",
                type=click.IntRange(min=2),
                default=None,
                help="Replications per scenario (default: the file's, or 30).",
            ),
            click.option("--seed", type=int, default=None, help="Root seed of the study."),
            workers_option,
            scheduler_option,
            click.option(
                "--no-report",
                is_flag=True,
                help="Do not write report.html and the charts (they take a few seconds).",
            ),
            click.option(
                "--metric",
                "metrics",
                multiple=True,
                help="A metric to show in the table (every metric is stored). Repeatable.",
            ),
            click.option(
                "--out",
                type=click.Path(file_okay=False),
                default=None,
                metavar="DIR",
                help="Results folder (default: results/<study name>); rerun to resume.",
            ),
            force_option,
            output_options,
        ]
    ):
        command = option(command)
    return command


def run_and_print_study(
    experiment: Experiment,
    out: str | None,
    workers: int | None,
    scheduler: str | None,
    provenance: dict[str, Any],
    report: bool = True,
    force: bool = False,
    as_json: bool = False,
    quiet: bool = False,
) -> None:
    """Run a study with :func:`flowsim.study.run_study` and print its table (or, with
    ``as_json``, its tables as one JSON document; with ``quiet``, nothing).

    Under the title, the warm-up: how MSER-5 chose it, or what MSER-5 makes of the
    fixed one (and a warning when it suggests more); after the table, whether the
    scenarios settled (see :func:`flowsim.reporting.tables.format_experiment_table`).

    A folder that cannot be written, or a warm-up series that does not exist, is
    reported as one ``error:`` line with exit status 2.
    """
    from flowsim.reporting import format_experiment_table
    from flowsim.reporting.tables import plural
    from flowsim.study import run_study, study_folder

    try:
        study = run_study(
            experiment,
            out,
            workers=workers,
            scheduler=scheduler,
            report=report,
            provenance=provenance,
            force=force,
            progress=not quiet,
        )
    except OSError as exc:
        fail(f"cannot write results to {study_folder(experiment, out)}: {exc.strerror or exc}")
    except ValueError as exc:
        fail(str(exc))
    exp = study.experiment
    if as_json:
        document = {"study": exp.name, "description": exp.description, "seed": exp.seed}
        document |= {"reference": exp.reference, "folder": str(study.folder)}
        document |= {"reused": study.reused, "computed": study.computed}
        document |= {"report": None if study.report is None else str(study.report)}
        document |= {"scenarios": json_records(study.scenarios)}
        click.echo(json.dumps({**document, "differences": json_records(study.differences)}))
        return
    if quiet:
        return
    click.echo(f"\n{exp.name}: {exp.description}".rstrip(": "))
    for line in study.warmup_lines:
        click.echo(line)
    click.echo(
        format_experiment_table(study.scenarios, study.differences, exp.reference, exp.metrics)
    )
    click.echo(
        f"\n{plural(study.reused, 'replication')} reused, {study.computed} computed "
        f"in {study.wall_time:.1f} s; wrote {study.folder}/"
    )
    if study.report is not None:
        click.echo(f"report: {study.report}")


@main.command()
@click.argument("file", type=click.Path(), metavar="FILE")
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override one parameter in every scenario, e.g. simulation.horizon_weeks=52.",
)
@study_options
def experiment(
    file: str,
    sets: tuple[str, ...],
    reps: int | None,
    seed: int | None,
    workers: int | None,
    scheduler: str | None,
    no_report: bool,
    metrics: tuple[str, ...],
    out: str | None,
    force: bool,
    as_json: bool,
    quiet: bool,
) -> None:
    """Run an experiment file (scenarios and sweeps over a base config).

    Replications run in parallel; replication r uses the same seed in every
    scenario, and each scenario is compared with the reference, paired by
    replication. Rerunning into the same --out reuses the stored replications.
    """
    from flowsim.config.experiment import load_experiment
    from flowsim.model.catalogue import metric_names

    with exit_on_config_error():
        exp = load_experiment(file, reps=reps, sets=sets)
    if seed is not None:
        exp = dataclasses.replace(exp, seed=seed)
    if metrics:
        known = metric_names(list(exp.scenarios[0].params.tickets.classes))
        unknown = [m for m in metrics if m not in known]
        if unknown:
            fail(f"--metric: unknown metric {unknown[0]!r} (known: {', '.join(known)})")
        exp = dataclasses.replace(exp, metrics=list(metrics))
    run_and_print_study(
        exp,
        out,
        workers,
        scheduler,
        {"command": "experiment", "experiment_file": file, "experiment": exp.spec},
        report=not no_report,
        force=force,
        as_json=as_json,
        quiet=quiet,
    )


@main.command()
@click.argument("config", type=click.Path(), metavar="CONFIG")
@click.option(
    "--policy",
    "policies",
    multiple=True,
    required=True,
    type=click.Path(),
    metavar="OVERLAY",
    help="A policy overlay to compare with CONFIG. Repeatable.",
)
@config_options
@study_options
def compare(config: str, policies: tuple[str, ...], **opts: Any) -> None:
    """Compare CONFIG with each policy overlay, paired by replication."""
    from flowsim.config.experiment import compare_experiment

    _adhoc_study("compare", compare_experiment, config, policies, opts)


@main.command()
@click.argument("config", type=click.Path(), metavar="CONFIG")
@click.option(
    "--param",
    "params",
    multiple=True,
    required=True,
    metavar="KEY=V1,V2,...",
    help="A key and the values to sweep; several --param make a grid.",
)
@config_options
@study_options
def sweep(config: str, params: tuple[str, ...], **opts: Any) -> None:
    """Sweep one or more parameters of CONFIG over a grid of values."""
    from flowsim.config.experiment import sweep_experiment

    _adhoc_study("sweep", sweep_experiment, config, params, opts)


def _adhoc_study(
    command: str,
    build: Callable[..., Experiment],
    config: str,
    items: tuple[str, ...],
    opts: dict[str, Any],
) -> None:
    """Build a compare/sweep study from the command line and run it."""
    with exit_on_config_error():
        exp = build(
            config,
            list(items),
            opts["reps"] or 30,
            opts["seed"],
            opts["overlays"],
            opts["sets"],
            list(opts["metrics"]) or None,
        )
    provenance = {
        "command": command,
        "config": config,
        "arguments": list(items),
        "overlays": list(opts["overlays"]),
        "sets": list(opts["sets"]),
    }
    run_and_print_study(
        exp,
        opts["out"],
        opts["workers"],
        opts["scheduler"],
        provenance,
        report=not opts["no_report"],
        force=opts["force"],
        as_json=opts["as_json"],
        quiet=opts["quiet"],
    )


for command in (validate_command, schema_command, init_command, calibrate_command):
    main.add_command(command)
main.add_command(import_command)
main.add_command(forecast_command)
main.add_command(backtest_command)
main.add_command(fit_command)
main.add_command(snapshot_command)
main.add_command(sensitivity_command)
main.add_command(report_command)
