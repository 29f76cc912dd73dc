"""``flowsim fit``: a company's config fitted to its tracker's table of work items."""

from __future__ import annotations

import math
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
    import pandas as pd

DEFAULT_BASE = "configs/baseline.yaml"


@click.command("fit")
@click.argument("data", type=click.Path(), metavar="DATA.parquet")
@click.option(
    "--base",
    default=None,
    type=click.Path(),
    metavar="CONFIG",
    help=f"The config whose policies and unobserved parameters the fit keeps (default: "
    f"{DEFAULT_BASE} if it exists here, else the built-in defaults).",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False),
    metavar="company.yaml",
    help="Where to write the fitted config (commented YAML).",
)
@click.option(
    "--lead",
    default=None,
    metavar="NAME",
    help="The lead engineer's assignee name (default: the assignee of the most items).",
)
@click.option(
    "--budget",
    type=click.IntRange(min=1),
    default=128,
    show_default=True,
    help="Candidates the search tries; rerun with more to go on.",
)
@workers_option
@scheduler_option
@click.option(
    "--report",
    "report_dir",
    default=None,
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Folder of the report and the search's trials (default: <out>_fit/ beside --out).",
)
@click.option(
    "--until",
    default=None,
    metavar="DATE",
    help="Fit only what was known before DATE (items created before it; later finishes "
    "count as open).",
)
@force_option
def fit_command(
    data: str,
    base: str | None,
    out: str,
    lead: str | None,
    budget: int,
    workers: int | None,
    scheduler: str | None,
    report_dir: str | None,
    until: str | None,
    force: bool,
) -> None:
    """Fit a config to DATA.parquet, the table of work items of `flowsim import`.

    Rates, shares and counts (tickets per live customer-week, ticket classes, the
    lead's share of each kind of work, onboardings begun, tasks per onboarding,
    churn, live customers) are read off the table into the config; the efforts are
    fitted with calibrate's search so that the simulated ticket cycle times,
    throughput, open tickets and onboardings match the table's, over as many weeks
    as it spans.  Writes the fitted config and a report folder (report.md/.csv,
    observed.csv, parameters.csv, targets.yaml, free.yaml, trials.csv, manifest.json).
    See docs/fitting.md.
    """
    import pandas as pd

    from flowsim.data.items import read_items
    from flowsim.fitting.fit import FILES, FITTED_HEADER, fit_company
    from flowsim.fitting.observed import FitError
    from flowsim.storage import write_text

    path = Path(data)
    cutoff = None
    if until is not None:
        try:
            cutoff = pd.Timestamp(until)
        except ValueError:
            fail(f"--until: expected a date such as 2025-06-30, found {until!r}")
    with exit_on_config_error():
        items = read_items(path)
    if base is None and Path(DEFAULT_BASE).is_file():
        base = DEFAULT_BASE
    folder = (
        Path(report_dir) if report_dir is not None else Path(out).with_name(Path(out).stem + "_fit")
    )
    written = Path(out)
    if written.is_dir():
        fail(f"--out {out} is a folder: give the fitted config's file, e.g. company.yaml")
    if (
        written.is_file()
        and not force
        and FITTED_HEADER not in written.read_text(errors="replace")[:200]
    ):
        fail(
            f"--out {out} is a config flowsim fit did not write: choose another --out, "
            "or --force to replace it"
        )
    claim_or_exit(folder, "fit", FILES, force)
    with exit_on_config_error():
        try:
            fit = fit_company(
                items,
                base,
                until=cutoff,
                budget=budget,
                workers=workers,
                folder=folder,
                lead=lead,
                scheduler=scheduler,
                progress=True,
                source=data,
                name=_config_name(out),
            )
        except FitError:
            raise
        except OSError as exc:
            fail(f"cannot write the report to {folder}: {exc.strerror or exc}")
        except (ValueError, KeyError, TypeError) as exc:
            fail(f"{data}: {' '.join(str(exc).split())}")
    try:
        write_text(Path(out), fit.config_text)
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}")
    obs = fit.observation
    click.echo(
        f"\n{data}: {obs.start:%Y-%m-%d} to {obs.end:%Y-%m-%d} ({obs.weeks:.1f} weeks); "
        f"lead: {obs.lead or 'not named'} ({obs.lead_reason}); base: {base or 'defaults'}"
    )
    click.echo(_report_lines(fit.report))
    click.echo("\nparameters (estimated: 95% CI; fitted: range within 3.84 of the best objective):")
    click.echo(_parameter_lines(fit.parameters))
    for name, when in obs.change_points.items():
        click.echo(f"\nrate moved: {name} at {', '.join(f'{t:%Y-%m-%d}' for t in when)}")
    click.echo(
        f"\n{len(fit.run.trials)} candidates ({fit.run.computed} computed) in "
        f"{fit.wall_time:.1f} s; wrote {out} and {folder}/ (report.md)"
    )


def _report_lines(report: pd.DataFrame) -> str:
    from flowsim.fitting.fit import interval_text

    shown = report[report["role"] != "estimate"]
    width = max(len(str(o)) for o in shown["observable"])
    lines = [
        f"  {'observable':<{width}}  {'observed [95% CI]':<26} {'fitted [95% CI]':<26} "
        f"{'z':>6}  verdict"
    ]
    for r in shown.itertuples():
        observed = interval_text(r.observed, r.observed_low, r.observed_high)
        fitted = interval_text(r.simulated, r.simulated_low, r.simulated_high)
        z = f"{r.z:+6.2f}" if r.role == "target" and math.isfinite(r.z) else " " * 6
        lines.append(
            f"  {r.observable:<{width}}  {observed:<26} {fitted:<26} {z}  "
            f"{r.verdict}{' (check)' if r.role == 'check' else ''}"
        )
    return "\n".join(lines)


def _parameter_lines(parameters: pd.DataFrame) -> str:
    from flowsim.stats import number_text

    width = max(len(str(k)) for k in parameters["key"])
    lines = []
    for p in parameters.itertuples():
        value = p.value if isinstance(p.value, str) else number_text(float(p.value))
        rng = (
            f"[{number_text(p.low)}, {number_text(p.high)}]"
            if math.isfinite(p.low) and math.isfinite(p.high)
            else ""
        )
        edge = "  at a bound" if "bound" in str(p.note) and p.how == "fitted" else ""
        lines.append(f"  {p.key:<{width}}  {p.how:<9}  {value:<10} {rng}{edge}")
    return "\n".join(lines)


def _config_name(out: str) -> str:
    """The fitted config's name, from its file's: letters, digits, ``_``, ``-`` and ``.``."""
    name = "".join(c if c.isalnum() or c in "_-." else "_" for c in Path(out).stem)
    return name.lstrip(".") or "company"
