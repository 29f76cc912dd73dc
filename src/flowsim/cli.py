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
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from flowsim import __version__
from flowsim.config import (
    ConfigError,
    config_hash,
    dump_yaml,
    json_schema,
    load_config,
    reference_markdown,
)
from flowsim.model.params import Params
from flowsim.model.streams import replication_seeds
from flowsim.reporting import format_stats_table
from flowsim.runner import gather, run_replication
from flowsim.stats import summarise_replications
from flowsim.storage import write_run

F = TypeVar("F", bound=Callable[..., Any])

BAD_INPUT = 2
"""Exit status for bad input; click uses the same for usage errors."""


def config_options(command: F) -> F:
    """Add ``--overlay FILE`` and ``--set KEY=VALUE`` (both repeatable) to a command.

    The command receives them as the keyword arguments ``overlays`` and
    ``sets`` (tuples of str), ready for :func:`load_or_exit`.
    """
    # click shows options in decorator order, which is the reverse of application.
    command = click.option(
        "--set",
        "sets",
        multiple=True,
        metavar="KEY=VALUE",
        help="Override one parameter, e.g. lead.wip_limit=3 (VALUE is read as YAML). Repeatable.",
    )(command)
    command = click.option(
        "--overlay",
        "overlays",
        multiple=True,
        type=click.Path(),
        metavar="FILE",
        help="Partial config deep-merged over CONFIG, in the order given. Repeatable.",
    )(command)
    return command


def report(message: str) -> None:
    """Print one ``error: ...`` line on standard error."""
    click.echo(f"error: {message}", err=True)


def fail(message: str) -> NoReturn:
    """Report bad input and exit with status 2."""
    report(message)
    sys.exit(BAD_INPUT)


@contextlib.contextmanager
def exit_on_config_error() -> Iterator[None]:
    """Turn a :class:`ConfigError` raised in the block into :func:`fail`."""
    try:
        yield
    except ConfigError as exc:
        fail(str(exc))


def load_or_exit(config: str, overlays: Iterable[str] = (), sets: Iterable[str] = ()) -> Params:
    """Load a config for a command, or report the problem and exit with status 2.

    Parameters
    ----------
    config : str
        The config file, as the user typed it (messages repeat it verbatim).
    overlays, sets : iterable of str
        As received from :func:`config_options`.
    """
    try:
        return load_config(config, overlays, sets)
    except ConfigError as exc:
        fail(str(exc))


class _Main(click.Group):
    """A group that reports a stray :class:`ConfigError` like any other bad input.

    Commands should use :func:`load_or_exit`; this is the safety net for one that
    forgets, so that a user never sees a traceback for a config mistake.
    """

    def invoke(self, ctx: click.Context) -> Any:
        with exit_on_config_error():
            return super().invoke(ctx)


@click.group(cls=_Main)
@click.version_option(__version__, prog_name="flowsim")
def main() -> None:
    """Simulate a small SaaS company stalled on one bottleneck engineer."""


@main.command()
@click.argument("configs", nargs=-1, required=True, type=click.Path(), metavar="CONFIG...")
@config_options
def validate(configs: tuple[str, ...], overlays: tuple[str, ...], sets: tuple[str, ...]) -> None:
    """Check config files and print the hash of each valid one.

    The overlays and --set values apply to every CONFIG. All files are checked;
    the exit status is 2 if any is invalid.
    """
    failed = False
    for path in configs:
        try:
            params = load_config(path, overlays, sets)
        except ConfigError as exc:
            report(str(exc))
            failed = True
        else:
            click.echo(f"ok  {path} (hash {config_hash(params)[:12]})")
    if failed:
        sys.exit(BAD_INPUT)


@main.command("schema")
@click.option("--markdown", is_flag=True, help="The Markdown reference instead of JSON Schema.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Write to FILE (e.g. docs/configuration.md) instead of standard output.",
)
def schema_command(markdown: bool, out: str | None) -> None:
    """Print the config format: JSON Schema, or a Markdown reference of every parameter."""
    text = reference_markdown() if markdown else json.dumps(json_schema(), indent=2) + "\n"
    if out is None:
        click.echo(text, nl=False)
        return
    try:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}")
    click.echo(f"wrote {out}", err=True)


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
@click.option("--no-events", is_flag=True, help="Do not keep the event log (saves memory and disk).")
def run(
    config: str,
    overlays: tuple[str, ...],
    sets: tuple[str, ...],
    seed: int | None,
    reps: int,
    out: str | None,
    no_events: bool,
) -> None:
    """Run CONFIG for --reps replications, print a summary table and write the results.

    The results folder gets events.parquet, timeseries.parquet, customers.parquet,
    summary.parquet/.csv (one row per replication), summary_stats.csv (means and
    95% confidence intervals), config.yaml (the resolved config) and manifest.json.
    """
    params = load_or_exit(config, overlays, sets)
    if no_events:
        params = params.model_copy(
            update={"simulation": params.simulation.model_copy(update={"event_log": False})}
        )
    root = params.simulation.seed if seed is None else seed
    folder = Path(out) if out else Path("results") / params.name
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
    stats = summarise_replications(reps_data.per_rep)
    click.echo(format_stats_table(stats, title=f"\n{params.name}: {params.description}".rstrip(": ")))
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
    click.echo(f"\nwrote {folder}/ ({reps} replications in {elapsed:.1f} s)")
