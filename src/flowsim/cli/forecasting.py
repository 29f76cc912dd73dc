"""``flowsim forecast``: go-live dates and counts from today's open work, under each policy."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from flowsim.cli.common import (
    claim_or_exit,
    exit_on_config_error,
    fail,
    force_option,
    json_records,
    load_or_exit,
    output_options,
    scheduler_option,
    workers_option,
)

if TYPE_CHECKING:
    import pandas as pd

    from flowsim.forecast import Forecast
    from flowsim.model.state import StartState

TABLE_SUFFIXES = (".parquet", ".csv")
FORECAST_FILES = ("golive.csv", "items.csv", "counts.csv", "outcomes.parquet", "forecast.png")
BACKTEST_FILES = (
    *("weekly.csv", "items.csv", "calibration.csv", "backtest.md", "backtest.png"),
    *("company.yaml", "fit"),
)
"""What each command writes into its folder (the manifest last)."""
reps_option = click.option(
    "--reps",
    type=click.IntRange(min=2, max=100_000),
    default=200,
    show_default=True,
    help="Replications of each scenario (the same seeds for every scenario).",
)
seed_option = click.option(
    "--seed", type=int, default=None, help="Root seed (default: the config's simulation.seed)."
)


def out_option(default: str) -> Any:
    return click.option(
        "--out",
        type=click.Path(file_okay=False),
        default=None,
        metavar="DIR",
        help=f"Results folder (default: {default}).",
    )


def load_start(state_path: str, at: str | None) -> StartState:
    """A state file, or an imported tracker table's open work at ``at`` (default: its
    end, the start of the working day after its last time); one clear line and exit 2
    for anything wrong."""
    from flowsim.config.state import load_state

    with exit_on_config_error():
        if Path(state_path).suffix.lower() not in TABLE_SUFFIXES:
            if at is not None:
                fail("--at applies to a tracker table (.parquet or .csv), not to a state file")
            return load_state(state_path)
        from flowsim.data.items import read_items
        from flowsim.data.snapshot import snapshot

        items = read_items(state_path)
        return snapshot(items, at, source=state_path)


def parse_date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        fail(f"{option}: expected a date such as 2026-03-31, got {text!r}")


@click.command("forecast")
@click.argument("config", type=click.Path(), metavar="CONFIG")
@click.option(
    "--state",
    "state_path",
    required=True,
    type=click.Path(),
    metavar="STATE",
    help="The open work to start from: a state file (.yaml), or an imported tracker "
    "table (.parquet/.csv) read at --at.",
)
@click.option(
    "--at",
    default=None,
    metavar="DATE",
    help="With a tracker table: the date of its open work (default: the working day "
    "after its last time).",
)
@click.option(
    "--overlay",
    "policies",
    multiple=True,
    type=click.Path(),
    metavar="POLICY",
    help="A policy overlay to forecast side by side with CONFIG as it is. Repeatable.",
)
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override one parameter of CONFIG (every scenario). Repeatable.",
)
@click.option(
    "--by",
    "by",
    default=None,
    metavar="DATE",
    help="Count go-lives and tickets closed by this date.",
)
@reps_option
@click.option(
    "--weeks",
    type=click.FloatRange(min=1, max=520),
    default=None,
    help="Weeks to simulate  [default: 52, or to past --by]",
)
@seed_option
@workers_option
@scheduler_option
@out_option("results/forecast_<CONFIG's name>")
@force_option
@click.option("--no-charts", is_flag=True, help="Do not draw forecast.png.")
@output_options
def forecast_command(
    config: str,
    state_path: str,
    at: str | None,
    policies: tuple[str, ...],
    sets: tuple[str, ...],
    by: str | None,
    reps: int,
    weeks: float | None,
    seed: int | None,
    workers: int | None,
    scheduler: str | None,
    out: str | None,
    no_charts: bool,
    force: bool,
    as_json: bool,
    quiet: bool,
) -> None:
    """Forecast from today's open work: each onboarding customer's go-live date at
    50/85/95%, and how many go-lives and tickets closed by --by, for CONFIG as it is
    and under each --overlay POLICY, side by side.

    Every scenario runs the same replications' seeds (common random numbers): the
    open work has the same efforts and the live customers raise the same tickets
    under every policy, so the differences between policies are paired.  The 85%
    date is a realistic promise to the customer; a date "after" the horizon means
    more than that share of replications did not see the customer go live in it.

    Writes golive.csv, items.csv, counts.csv (with --by), outcomes.parquet,
    forecast.png and manifest.json.
    """
    from flowsim.forecast.run import DEFAULT_HORIZON_WEEKS, forecast
    from flowsim.model.calendar import DAYS_PER_WEEK, working_days

    start = load_start(state_path, at)
    scenarios = {}
    base = load_or_exit(config, (), sets)
    scenarios[base.name] = base
    for policy in policies:
        params = load_or_exit(config, (policy,), sets)
        name = Path(policy).stem if params.name == base.name else params.name
        if name in scenarios:
            fail(f"--overlay {policy}: a second scenario named {name!r}")
        scenarios[name] = params
    by_day = None
    if by is not None:
        when = parse_date(by, "--by")
        by_day = working_days(start.as_of, when)
        if by_day < 0:
            fail(f"--by {by} is before the state's date {start.as_of}")
    horizon = weeks or DEFAULT_HORIZON_WEEKS
    if by_day is not None and by_day + DAYS_PER_WEEK > horizon * DAYS_PER_WEEK:
        if weeks is not None:
            fail(f"--by {by} is past the {weeks:g} weeks of --weeks: give more weeks")
        horizon = math.ceil(by_day / DAYS_PER_WEEK) + 1
    folder = Path(out) if out else Path("results") / f"forecast_{base.name}"
    claim_or_exit(folder, "forecast", FORECAST_FILES, force, config=config, state=state_path)
    try:
        fc = forecast(
            scenarios,
            start,
            reps,
            seed,
            horizon,
            workers,
            scheduler,
            progress=not (quiet or as_json),
        )
        tables = _write(fc, folder, by_day, config, state_path, policies, charts=not no_charts)
    except OSError as exc:
        fail(f"cannot write results to {folder}: {exc.strerror or exc}")
    except ValueError as exc:
        fail(str(exc))
    if as_json:
        click.echo(_json(fc, tables))
    elif not quiet:
        click.echo(_text(fc, tables, by_day, folder))


def _write(
    fc: Forecast,
    folder: Path,
    by_day: float | None,
    config: str,
    state_path: str,
    policies: tuple[str, ...],
    charts: bool,
) -> dict[str, pd.DataFrame]:
    from flowsim.forecast.summary import counts_table, end_dates
    from flowsim.storage import folder_lock, write_frame, write_manifest

    tables = {"golive": end_dates(fc, "customer"), "items": end_dates(fc, "item")}
    if by_day is not None:
        tables["counts"] = counts_table(fc, by_day)
    folder.mkdir(parents=True, exist_ok=True)
    with folder_lock(folder):
        for name, table in tables.items():
            write_frame(folder / f"{name}.csv", table)
        write_frame(folder / "outcomes.parquet", fc.outcomes)
        if charts:
            from flowsim.reporting.charts.forecast import forecast_figure, save_figure

            save_figure(forecast_figure(fc, by_day), folder / "forecast.png")
        write_manifest(
            folder,
            {
                "command": "forecast",
                "config": config,
                "policies": list(policies),
                "state": state_path,
                "as_of": str(fc.state.as_of),
                "scenarios": fc.scenarios,
                "replications": fc.replications,
                "seed": fc.seed,
                "horizon_weeks": fc.horizon_days / 5,
                "by_day": by_day,
            },
        )
    return tables


def _text(fc: Forecast, tables: dict[str, pd.DataFrame], by_day: float | None, folder: Path) -> str:
    from flowsim.stats import number_text

    s = fc.state
    lines = [
        f"forecast from the open work of {s.as_of}: {len(s.live)} live, "
        f"{len(s.onboarding)} onboarding, {len(s.signed)} signed, {len(s.tickets)} open tickets; "
        f"{fc.replications} replications of {fc.horizon_days / 5:g} weeks in {fc.wall_time:.1f} s",
    ]
    golive = tables["golive"]
    if golive.empty:
        lines.append("no customer is onboarding or signed: no go-live dates to forecast")
    else:
        lines.append(
            "\ngo-live date: 50% / 85% (a realistic promise) / 95%; share live in the horizon"
        )
        width = max(len(n) for n in golive["name"])
        for name, rows in golive.groupby("name", sort=False):
            for k, r in enumerate(rows.itertuples()):
                label = name if k == 0 else ""
                lines.append(
                    f"  {label:<{width}}  {r.scenario:<24} {r.p50_date} / {r.p85_date} / "
                    f"{r.p95_date}   {r.ended_share:.0%}"
                )
    if by_day is not None:
        counts = tables["counts"]
        lines.append(
            f"\nby {fc.date(by_day)}: mean (10%-90%); difference from {fc.scenarios[0]} [95% CI]"
        )
        for r in counts.itertuples():
            diff = (
                ""
                if math.isnan(r.diff)
                else f"   {r.diff:+.3g} [{number_text(r.diff_low)}, {number_text(r.diff_high)}]"
            )
            what = "go-lives" if r.count == "went_live" else "tickets closed"
            lines.append(f"  {what:<15} {r.scenario:<24} {r.mean:.3g} ({r.p10:g}-{r.p90:g}){diff}")
    for note in s.notes:
        lines.append(f"note: {note}")
    lines.append(f"\nwrote {folder}/")
    return "\n".join(lines)


def _json(fc: Forecast, tables: dict[str, pd.DataFrame]) -> str:
    import json

    doc = {
        "as_of": str(fc.state.as_of),
        "scenarios": fc.scenarios,
        "replications": fc.replications,
        **{name: json_records(table) for name, table in tables.items()},
    }
    return json.dumps(doc, indent=2)


@click.command("backtest")
@click.argument("data", type=click.Path(), metavar="DATA.parquet")
@click.option(
    "--cutoff", required=True, metavar="DATE", help="Forecast from the open work at this date."
)
@click.option(
    "--base",
    default=None,
    type=click.Path(),
    metavar="CONFIG",
    help="The config the fit starts from (default: configs/baseline.yaml if there, as "
    "flowsim fit).",
)
@click.option(
    "--config",
    "company",
    default=None,
    type=click.Path(),
    metavar="COMPANY",
    help="Forecast with this config instead of fitting one on the data before the cutoff.",
)
@click.option(
    "--budget",
    type=click.IntRange(min=1),
    default=None,
    help="The fit's candidates (see flowsim fit).",
)
@reps_option
@seed_option
@workers_option
@out_option("results/backtest_<cutoff>")
@force_option
@click.option("--no-charts", is_flag=True, help="Do not draw backtest.png.")
@output_options
def backtest_command(
    data: str,
    cutoff: str,
    base: str | None,
    company: str | None,
    budget: int | None,
    reps: int,
    seed: int | None,
    workers: int | None,
    out: str | None,
    no_charts: bool,
    force: bool,
    as_json: bool,
    quiet: bool,
) -> None:
    """Does the model forecast what really happened?  Fits the company on DATA before
    --cutoff (items done after it count as open), forecasts from the open work at the
    cutoff to the end of the data, and compares: go-lives and tickets closed in each
    week against the forecast's 50% and 85% bands, each customer onboarding and item
    open at the cutoff against its forecast intervals, and the calibration (the
    share of outcomes inside the 50% and 85% intervals: about 50% and 85% if the
    forecast is honest).

    Writes backtest.md, weekly.csv, items.csv, calibration.csv, backtest.png,
    company.yaml (the fitted config, with its fit report in fit/) and manifest.json.
    """
    from flowsim.data.items import read_items
    from flowsim.forecast.backtest import backtest

    if base is not None and company is not None:
        fail("give --base (to fit) or --config (not to fit), not both")
    from flowsim.cli.fit import DEFAULT_BASE

    if base is None and company is None and Path(DEFAULT_BASE).is_file():
        base = DEFAULT_BASE
    with exit_on_config_error():
        items = read_items(data)
    params = load_or_exit(company) if company is not None else None
    try:
        when = parse_date(cutoff, "--cutoff")
        folder = Path(out) if out else Path("results") / f"backtest_{when}"
        claim_or_exit(folder, "backtest", BACKTEST_FILES, force, data=data, cutoff=str(when))
        folder.mkdir(parents=True, exist_ok=True)
        with exit_on_config_error():
            bt = backtest(
                items,
                str(when),
                base=base,
                config=params,
                replications=reps,
                seed=seed,
                budget=budget,
                workers=workers,
                fit_folder=folder / "fit",
                progress=not (quiet or as_json),
            )
        text = _write_backtest(bt, folder, data, base or company, charts=not no_charts)
    except OSError as exc:
        fail(f"cannot write results to {out or 'results'}: {exc.strerror or exc}")
    except ValueError as exc:
        fail(str(exc))
    if as_json:
        import json

        doc = {
            name: json_records(getattr(bt.scores, name))
            for name in ("calibration", "items", "weekly")
        }
        click.echo(json.dumps({"cutoff": str(bt.cutoff.date()), **doc}, indent=2))
    elif not quiet:
        click.echo(text)
        click.echo(f"\nwrote {folder}/")


def _write_backtest(bt: Any, folder: Path, data: str, config: str | None, charts: bool) -> str:
    from flowsim.reporting.backtest_text import backtest_markdown
    from flowsim.storage import folder_lock, write_frame, write_manifest, write_text

    text = backtest_markdown(bt)
    with folder_lock(folder):
        for name in ("weekly", "items", "calibration"):
            write_frame(folder / f"{name}.csv", getattr(bt.scores, name))
        write_text(folder / "backtest.md", text + "\n")
        if bt.fit is not None:
            write_text(folder / "company.yaml", bt.fit.config_text)
        if charts:
            from flowsim.reporting.charts.forecast import backtest_figure, save_figure

            save_figure(backtest_figure(bt), folder / "backtest.png")
        write_manifest(
            folder,
            {
                "command": "backtest",
                "data": data,
                "cutoff": str(bt.cutoff.date()),
                "config": config,
                "fitted": bt.fit is not None,
                "replications": bt.forecast.replications,
                "seed": bt.forecast.seed,
            },
        )
    return text
