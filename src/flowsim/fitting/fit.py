"""Fit a company's config to its tracker's table of work items.

:func:`fit_company` reads the observables off the table
(:mod:`flowsim.fitting.observed`), writes what the table gives directly into the
base config (rates, shares, counts: :func:`flowsim.fitting.build.direct_estimates`),
then fits the efforts with ``flowsim calibrate``'s search so that the simulated cycle
times, throughput and open tickets match the observed ones, over a horizon as long as
the table's span after the base config's warm-up.  The result holds the fitted config
as commented YAML, the observables, the side-by-side report and the parameters with
their ranges.
"""

from __future__ import annotations

import copy
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from flowsim.calibration.folder import FILES as CALIBRATION_FILES
from flowsim.calibration.folder import target_table, write_calibration
from flowsim.calibration.search import PROFILE_DELTA, CalibrationRun, calibrate
from flowsim.config.calibration import CalibrationSpec
from flowsim.config.errors import ConfigError
from flowsim.config.experiment import set_items
from flowsim.config.loader import apply_set, dump_yaml, merge_config, validate_config
from flowsim.fitting.build import (
    Estimate,
    direct_estimates,
    free_spec,
    is_check,
    targets_spec,
)
from flowsim.fitting.observed import FitError, Observed, observe_items
from flowsim.model.params import Params
from flowsim.stats import number_text
from flowsim.storage import write_frame, write_text

DEFAULT_BUDGET = 128
FITTED_HEADER = "# Fitted by flowsim fit"
"""The first words of every config the fit writes (a file without them is not its own)."""
FILES = (
    *CALIBRATION_FILES,
    *("observed.csv", "report.csv", "parameters.csv", "report.md", "targets.yaml", "free.yaml"),
)
"""Everything the fit writes into its report folder (the manifest last)."""


@dataclass
class CompanyFit:
    """A fitted company: the config (text and Params), what was observed, the report."""

    config_text: str
    params: Params
    observed: pd.DataFrame
    report: pd.DataFrame
    parameters: pd.DataFrame
    observation: Observed
    run: CalibrationRun
    spec: CalibrationSpec
    wall_time: float


def _base_data(base: str | os.PathLike[str] | None) -> tuple[dict[str, Any], Any, str]:
    if base is None:
        data = Params().model_dump(mode="json", by_alias=True)
        return data, {}, "the built-in defaults"
    data, origins = merge_config(os.fspath(base))
    return data, origins, os.fspath(base)


def fit_company(
    items: pd.DataFrame,
    base: str | os.PathLike[str] | None,
    *,
    until: str | pd.Timestamp | None = None,
    budget: int = DEFAULT_BUDGET,
    workers: int | None = None,
    folder: str | os.PathLike[str] | None = None,
    lead: str | None = None,
    free: list[str] | None = None,
    replications: int = 4,
    confirm: int = 20,
    seed: int = 2026,
    scheduler: str | None = None,
    progress: bool = False,
    source: str = "the table",
    name: str = "company",
) -> CompanyFit:
    """Fit ``base`` (a config file, or None for the built-in defaults) to ``items``.

    Parameters
    ----------
    items : DataFrame
        ``flowsim import``'s table of work items.
    until : str or Timestamp, optional
        A cutoff: only what was known before it counts (items created before it;
        a later start or finish is unknown, so the item is open).  Default: the
        table's last time.
    budget : int
        Candidates of the search (``flowsim calibrate --budget``).
    folder : path, optional
        Where the search keeps its trials (a rerun resumes them) and the report's files.
    lead : str, optional
        The lead's assignee name; default: the assignee of the most items.
    free : list of str, optional
        Fit only these of the derived free keys (the others keep the base's values).
    replications, confirm, seed
        Replications per candidate, fresh replications of the best fit, root seed.
    name : str
        The fitted config's ``name`` (a folder name: letters, digits, ``_``, ``-``, ``.``).

    Raises
    ------
    FitError
        One line: the table is not fit to fit, or the config cannot take an estimate.
    """
    started = time.perf_counter()
    cutoff = None if until is None else pd.Timestamp(until)
    if cutoff is not None and cutoff.tzinfo is None:
        cutoff = cutoff.tz_localize("UTC")
    obs = observe_items(items, until=cutoff, lead=lead, source=source)
    data, origins, label = _base_data(base)
    base_params = validate_config(data, origins, label)
    estimates = direct_estimates(obs, base_params)
    warmup = base_params.simulation.warmup_weeks
    horizon = round(warmup + obs.weeks, 1)
    sets = tuple(set_items({e.key: e.value for e in estimates}))
    for text in sets:
        apply_set(data, origins, text)
    targets = targets_spec(
        obs,
        base_params,
        horizon_weeks=horizon,
        warmup_weeks=warmup,
        replications=replications,
        confirm=confirm,
        seed=seed,
    )
    spec = CalibrationSpec(
        label,
        (),
        sets,
        targets,
        free_spec(obs, base_params, targets, free),
        "targets.yaml",
        "free.yaml",
        data,
        origins,
    )
    try:
        spec.params({})
    except ConfigError as exc:
        raise FitError(f"the estimates do not make a valid config: {exc.detail}") from exc
    out = None if folder is None else Path(folder)
    try:
        run = calibrate(spec, budget, out, workers=workers, scheduler=scheduler, progress=progress)
    except ValueError as exc:
        if out is not None and "another config" in str(exc):
            raise FitError(
                f"{out} holds the fit of another table, base or cutoff: give "
                "another --report folder, or delete it to start again"
            ) from exc
        raise
    final, final_origins = copy.deepcopy(data), dict(origins)
    for text in set_items(dict(run.best)):
        apply_set(final, final_origins, text)
    final["name"] = name
    params = validate_config(final, final_origins, label)
    table = target_table(run)
    parameters = parameter_table(spec, run, estimates, obs)
    fit = CompanyFit(
        config_text="",
        params=params,
        observed=obs.table,
        report=report_table(obs, spec, table, estimates),
        parameters=parameters,
        observation=obs,
        run=run,
        spec=spec,
        wall_time=0.0,
    )
    fit.config_text = config_yaml(fit, label, budget)
    fit.wall_time = time.perf_counter() - started
    if out is not None:
        write_fit(
            fit,
            out,
            {
                "command": "fit",
                "budget": budget,
                "base": label,
                "until": None if cutoff is None else str(cutoff),
            },
        )
    return fit


def parameter_table(
    spec: CalibrationSpec, run: CalibrationRun, estimates: list[Estimate], obs: Observed
) -> pd.DataFrame:
    """Every parameter set: estimated from the table (95% CI) or fitted (profile range)."""
    rows = []
    for e in estimates:
        row = obs.get(e.observable)
        scalar = isinstance(e.value, int | float)
        rows.append(
            {
                "key": e.key,
                "how": "estimated",
                "value": e.value if scalar else str(e.value).replace("'", ""),
                "low": float(row["low"]) if scalar and row is not None else math.nan,
                "high": float(row["high"]) if scalar and row is not None else math.nan,
                "note": e.note,
            }
        )
    for f in spec.free.free:
        lo, hi = run.ranges[f.key]
        edge = f.at_bound(run.best[f.key])
        note = f"range within {PROFILE_DELTA} of the best objective; searched {f.low:g}-{f.high:g}"
        rows.append(
            {
                "key": f.key,
                "how": "fitted",
                "value": run.best[f.key],
                "low": lo,
                "high": hi,
                "note": note + (f"; {edge}: the fit would go further" if edge else ""),
            }
        )
    return pd.DataFrame(rows)


def _target_verdict(verdict: str, low: float, high: float, r: Any) -> str:
    """The search's verdict, unless the simulated interval lies wholly outside the observed
    one: a target observed loosely (few items, an interval open above) is "met" within
    its wide sd even so, and saying so would hide the gap."""
    below = math.isfinite(low) and float(r.ci_high) < low
    above = math.isfinite(high) and float(r.ci_low) > high
    if verdict == "met" and (below or above):
        return "within its wide sd, but outside the observed interval"
    return verdict


def report_table(
    obs: Observed, spec: CalibrationSpec, table: pd.DataFrame, estimates: list[Estimate]
) -> pd.DataFrame:
    """Observed against simulated, side by side: the targets, the checks, and what was
    set directly (simulated n/a)."""
    rows = []
    by_name = {t.name: t for t in spec.targets.targets}
    for r in table.itertuples():
        target = by_name[str(r.target)]
        observable = str(target.source).split(" = ")[0]
        o = obs.get(observable)
        assert o is not None
        rows.append(
            {
                "observable": observable,
                "role": "check" if is_check(target) else "target",
                "simulated_as": target.observable,
                "observed": float(o["value"]),
                "observed_low": float(o["low"]),
                "observed_high": float(o["high"]),
                "simulated": float(r.mean),
                "simulated_low": float(r.ci_low),
                "simulated_high": float(r.ci_high),
                "z": float(r.z),
                "verdict": _target_verdict(str(r.verdict), float(o["low"]), float(o["high"]), r)
                if not is_check(target)
                else _check_verdict(float(o["value"]), float(o["low"]), float(o["high"]), r),
            }
        )
    for e in estimates:
        o = obs.get(e.observable)
        if o is None or any(r["observable"] == e.observable for r in rows):
            continue
        rows.append(
            {
                "observable": e.observable,
                "role": "estimate",
                "simulated_as": e.key,
                "observed": float(o["value"]),
                "observed_low": float(o["low"]),
                "observed_high": float(o["high"]),
                "simulated": math.nan,
                "simulated_low": math.nan,
                "simulated_high": math.nan,
                "z": math.nan,
                "verdict": "set in the config",
            }
        )
    return pd.DataFrame(rows)


def _check_verdict(value: float, low: float, high: float, sim: Any) -> str:
    """A check comes back when the simulated and observed 95% intervals overlap (an
    observation without an interval: when the simulated one holds it, or is within 10%)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        low, high = value * 0.9, value * 1.1
    overlap = sim.ci_low <= high and sim.ci_high >= low
    return "comes back" if overlap else "does not come back"


def interval_text(value: float, low: float, high: float) -> str:
    if not math.isfinite(low) and not math.isfinite(high):
        return number_text(value)
    return f"{number_text(value)} [{number_text(low)}, {number_text(high)}]"


def report_markdown(fit: CompanyFit) -> str:
    """The report as Markdown: observed against simulated, then the parameters."""
    obs = fit.observation
    lines = [
        f"# Fit of the company to its tracker ({obs.start:%Y-%m-%d} to {obs.end:%Y-%m-%d}, "
        f"{obs.weeks:.1f} weeks)",
        "",
        f"Lead: {obs.lead or 'not named'} ({obs.lead_reason}). "
        f"Best of {len(fit.run.trials)} candidates, each on "
        f"{fit.spec.targets.replications} replications; simulated columns are "
        f"{fit.spec.targets.confirm_replications} fresh replications of the best fit, "
        f"{fit.spec.targets.horizon_weeks:g} weeks of which "
        f"{fit.spec.targets.warmup_weeks:g} of warm-up.",
        "",
        "| observable | role | observed [95% CI] | simulated as | simulated [95% CI] | verdict |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in fit.report.itertuples():
        sim = (
            ""
            if not math.isfinite(r.simulated)
            else interval_text(r.simulated, r.simulated_low, r.simulated_high)
        )
        lines.append(
            f"| {r.observable} | {r.role} | "
            f"{interval_text(r.observed, r.observed_low, r.observed_high)} | "
            f"`{r.simulated_as}` | {sim} | {r.verdict} |"
        )
    lines += [
        "",
        "| parameter | how | value | 95% range | note |",
        "| --- | --- | --- | --- | --- |",
    ]
    for p in fit.parameters.itertuples():
        value = p.value if isinstance(p.value, str) else number_text(float(p.value))
        rng = (
            ""
            if not (math.isfinite(p.low) and math.isfinite(p.high))
            else f"{number_text(p.low)} to {number_text(p.high)}"
        )
        lines.append(f"| `{p.key}` | {p.how} | {value} | {rng} | {p.note} |")
    unstable = fit.run.confirm["unstable"].to_numpy(dtype=float)
    lines += [
        "",
        f"Open work kept growing in {int((unstable == 1).sum())} of {len(unstable)} "
        "fresh replications of the best fit.",
    ]
    if obs.change_points:
        lines += [
            "",
            "Arrival rates that moved: "
            + "; ".join(
                f"{k} at {', '.join(f'{t:%Y-%m-%d}' for t in v)}"
                for k, v in obs.change_points.items()
            )
            + ".",
        ]
    return "\n".join(lines) + "\n"


def config_yaml(fit: CompanyFit, label: str, budget: int) -> str:
    """The fitted config, every value the fit set commented with where it comes from."""
    obs = fit.observation
    notes: dict[str, str] = {}
    for p in fit.parameters.itertuples():
        if p.how == "fitted":
            notes[p.key] = (
                f"fitted; range {number_text(p.low)}-{number_text(p.high)}; "
                + p.note.split("; ", 1)[1]
            )
        else:
            notes[p.key] = f"estimated from the table: {p.note}"
    met = fit.report[fit.report["role"] == "target"]
    missed = met[met["verdict"] != "met"]["observable"].tolist()
    header = [
        f"{FITTED_HEADER} to a tracker's table of work items",
        f"# ({obs.start:%Y-%m-%d} to {obs.end:%Y-%m-%d}, {obs.weeks:.1f} weeks; "
        f"lead: {obs.lead or 'not named'}).",
        f"# Base: {label}. Values marked 'estimated' are read off the table (95% CI);",
        f"# values marked 'fitted' were searched ({budget} candidates) so that the simulated",
        "# ticket cycle times, throughput, open tickets and onboardings match the table's",
        f"# (range: the candidates within {PROFILE_DELTA} of the best objective).",
        "# Targets not met: " + (", ".join(missed) if missed else "none") + ".",
        "# Every other value is the base's.",
    ]
    lines = dump_yaml(fit.params).splitlines()
    stack: list[str] = []
    out = []
    for line in lines:
        stripped = line.lstrip(" ")
        depth = (len(line) - len(stripped)) // 2
        key = (
            stripped.split(":", 1)[0] if ":" in stripped and not stripped.startswith("-") else None
        )
        if key is None:
            out.append(line)
            continue
        stack = [*stack[:depth], key]
        path = ".".join(stack)
        mine = [
            n
            for k, n in notes.items()
            if k == path or (k.startswith(path + ".") and stripped.rstrip().endswith("}"))
        ]
        out.append(f"{line}  # {'; '.join(mine)}" if mine else line)
    return "\n".join(header + out) + "\n"


def write_fit(fit: CompanyFit, folder: Path, provenance: dict[str, Any]) -> None:
    """The report folder: observed.csv, report.csv/.md, parameters.csv, the derived
    targets.yaml and free.yaml, and calibrate's own files (trials, confirm, manifest)."""
    write_frame(folder / "observed.csv", fit.observed)
    write_frame(folder / "report.csv", fit.report)
    write_frame(folder / "parameters.csv", fit.parameters)
    write_text(folder / "report.md", report_markdown(fit))
    for name, spec in (("targets.yaml", fit.spec.targets), ("free.yaml", fit.spec.free)):
        text = yaml.safe_dump(
            spec.model_dump(mode="json", exclude_none=True), sort_keys=False, allow_unicode=True
        )
        write_text(folder / name, text)
    write_calibration(fit.run, folder, provenance, charts=False)
