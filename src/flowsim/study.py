"""A study from experiment to results folder: warm-up, replications, statistics, files, report.

:func:`run_study` is what ``flowsim experiment``, ``compare`` and ``sweep`` do, less
the printing, so that a script or a notebook gets the same results folder as the
command line::

    import flowsim
    experiment = flowsim.load_experiment("experiments/hiring.yaml", reps=10)
    study = flowsim.run_study(experiment, out="results/hiring", workers=2)
    study.scenarios, study.differences, study.report
    results = flowsim.read_study(study.folder)     # the same numbers, read back

The folder is resumable: every finished replication is stored at once, and a rerun
into the same folder reuses every stored replication whose scenario is unchanged.
"""

from __future__ import annotations

import contextlib
import importlib
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from flowsim.config import config_hash, dump_yaml
from flowsim.config.experiment import Experiment, WarmupSpec
from flowsim.model.calendar import DAYS_PER_WEEK
from flowsim.runner import ExperimentRun, pilot_series, run_experiment, with_warmup
from flowsim.stats import mser5, mser_statistic, paired_differences, scenario_table
from flowsim.storage import (
    claim_folder,
    folder_lock,
    safe_name,
    write_frame,
    write_manifest,
    write_text,
)

FIXED_WARMUP = "fixed (each scenario's simulation.warmup_weeks)"
"""The manifest's ``warmup`` when it was not chosen by MSER-5 and could not be checked."""

CHECK_SERIES = "open_items"
MATERIAL_GAIN = 0.1
"""A warm-up is called too short only when MSER's statistic at it is more than 10% above
its minimum: smaller gains are within what noise alone gives on a flat series."""
"""The daily series a fixed warm-up is checked on: all open work, the series whose
trend says whether a run settled, so that the warm-up is judged on what it is for."""


def _weeks(weeks: float) -> str:
    """``1 week``, ``13 weeks``, ``2.5 weeks``."""
    return f"{weeks:g} week{'' if weeks == 1 else 's'}"


@dataclass(frozen=True)
class WarmupCheck:
    """MSER-5 on the reference scenario's open work, against the fixed warm-up used.

    Computed from the study's own daily series (the reference's ``open_items``,
    averaged over its replications by day), so it costs no extra run.

    Attributes
    ----------
    used_weeks : float
        The reference scenario's ``simulation.warmup_weeks``.
    shortest, longest : float
        The shortest and longest warm-up across the scenarios.
    suggested_weeks : float
        The truncation MSER-5 chooses on that series, in weeks.
    reference_unstable : bool
        Whether any replication of the reference did not settle: then its open work
        has no end of transient, MSER-5 tends to cut as much as it may (half the
        series), and no warm-up would give it a steady state.
    gain : float
        How much larger MSER's statistic is at the warm-up used than at its own choice
        (0.25: 25% larger).  On a flat, noisy series MSER-5 may choose a long warm-up
        for a gain of a few percent: no reason to warn.
    """

    used_weeks: float
    shortest: float
    longest: float
    suggested_weeks: float
    reference_unstable: bool
    gain: float = math.inf

    @property
    def longer(self) -> bool:
        """Whether MSER-5 suggests a materially longer warm-up than the reference used."""
        return self.suggested_weeks > self.used_weeks and self.gain > MATERIAL_GAIN

    @property
    def note(self) -> str:
        """``warm-up: 13 weeks (fixed); MSER-5 on the reference's open work suggests 9 weeks``."""
        used = f"{_weeks(self.used_weeks)} (fixed)"
        if self.shortest != self.longest:
            used = (
                f"{_weeks(self.used_weeks)} in the reference (fixed; "
                f"{self.shortest:g} to {self.longest:g} weeks across scenarios)"
            )
        return (
            f"warm-up: {used}; MSER-5 on the reference's open work suggests "
            f"{_weeks(self.suggested_weeks)}"
        )

    @property
    def warning(self) -> str | None:
        """A ``warning:`` line when MSER-5 suggests a longer warm-up, else None."""
        if not self.longer:
            return None
        used = _weeks(self.used_weeks)
        if self.reference_unstable:
            # A growing series has no end of transient: MSER-5 cuts as much as it may.
            return (
                f"warning: MSER-5 suggests more than the {used} used, but the reference's "
                "open work is still growing in this window: a longer horizon may show "
                "whether it settles"
            )
        return (
            f"warning: MSER-5 suggests more than the {used} used: the averages may still "
            "include the start-up"
        )

    def manifest(self) -> dict[str, Any]:
        """The check as the manifest records it (``warmup_check``)."""
        return {
            "method": "fixed",
            "used_weeks": self.used_weeks,
            "series": CHECK_SERIES,
            "mser5_weeks": self.suggested_weeks,
            "reference_unstable": self.reference_unstable,
            "warning": self.warning,
        }


@dataclass
class StudyRun:
    """A finished study: its replications, its statistics and where they were written.

    Attributes
    ----------
    experiment : Experiment
        The experiment as run: with the warm-up chosen by MSER-5 applied, if it was.
    run : ExperimentRun
        Every (scenario, replication): metrics, daily time series and customers, with
        the counts of reused and computed replications and the wall time.
    scenarios : DataFrame
        Mean and 95% CI per scenario and metric, for every stored metric.
    differences : DataFrame
        Paired differences of each scenario from the reference, per metric.
    folder : Path
        The results folder (:func:`flowsim.read_study` reads it back).
    warmup_note : str or None
        How MSER-5 chose the warm-up (``"warm-up chosen by MSER-5 on SERIES: W
        weeks"``), or None when each scenario kept its ``simulation.warmup_weeks``.
    warmup_check : WarmupCheck or None
        When each scenario kept its ``simulation.warmup_weeks``: what MSER-5 makes
        of the reference's open work, against that warm-up (None when the warm-up
        was chosen by MSER-5, or the series is not there).
    report : Path or None
        The HTML report, or None when it was not asked for.
    """

    experiment: Experiment
    run: ExperimentRun
    scenarios: pd.DataFrame
    differences: pd.DataFrame
    folder: Path
    warmup_note: str | None = None
    warmup_check: WarmupCheck | None = None
    report: Path | None = None

    @property
    def warmup_lines(self) -> list[str]:
        """What to tell a reader about the warm-up: how MSER-5 chose it, or the check of
        the fixed one and its warning, if any."""
        if self.warmup_note:
            return [self.warmup_note]
        if self.warmup_check is None:
            return []
        warning = self.warmup_check.warning
        return [self.warmup_check.note, *([warning] if warning else [])]

    @property
    def per_rep(self) -> pd.DataFrame:
        """One row per (scenario, replication), a column per metric."""
        return self.run.per_rep

    @property
    def reused(self) -> int:
        """Replications read back from the folder's store instead of computed."""
        return self.run.reused

    @property
    def computed(self) -> int:
        """Replications computed by this call."""
        return self.run.computed

    @property
    def wall_time(self) -> float:
        """Seconds spent on the replications (reused and computed)."""
        return self.run.wall_time


def study_folder(experiment: Experiment, out: str | os.PathLike[str] | None = None) -> Path:
    """The results folder of a study: ``out``, or ``results/<study name>``."""
    return Path(out) if out else Path("results") / experiment.name


def run_study(
    experiment: Experiment,
    out: str | os.PathLike[str] | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    report: bool = True,
    progress: bool = True,
    provenance: dict[str, Any] | None = None,
    force: bool = False,
) -> StudyRun:
    """Run a study and write its results folder, resumably; print nothing.

    In order: the warm-up, if the experiment asks for MSER-5 (a pilot of the
    reference scenario, written to ``warmup.csv``); every replication, in parallel,
    each stored as it finishes under ``replications/`` (a rerun reuses them), while
    each scenario's resolved config goes to ``configs/<scenario>.yaml``; the
    statistics; with fixed warm-ups, their check by MSER-5 on the reference's open
    work (:func:`check_warmup`); ``per_replication.parquet``/``.csv``, ``scenarios.csv``,
    ``differences.csv``, ``timeseries.parquet``, ``customers.parquet`` and, last,
    ``manifest.json``, which marks the folder complete; then ``report.html`` and its
    charts.

    Parameters
    ----------
    experiment : Experiment
        From :func:`flowsim.load_experiment`, ``compare_experiment`` or
        ``sweep_experiment``.
    out : str or path, optional
        The results folder (default ``results/<study name>``), created if needed.
    workers : int, optional
        Worker processes (default: every core; 1 runs in this process).
    scheduler : str, optional
        Address of a Dask distributed scheduler to run the replications on.
    report : bool
        Write ``report.html`` and ``figures/*.png`` (a few seconds, and matplotlib).
    progress : bool
        On a terminal, show a progress bar, and a line on standard error when the
        slow steps without one begin (the warm-up pilot, the report).
    provenance : dict, optional
        What made the study (command, files, arguments), recorded first in the
        manifest; by default ``{"command": "run_study"}`` and the experiment file.
    force : bool
        Write into ``out`` even when it holds other results (see
        :func:`flowsim.storage.claim_folder`).

    Returns
    -------
    StudyRun

    Raises
    ------
    OSError
        When the folder or a file in it cannot be written.
    ValueError
        When the MSER-5 warm-up names a series that is not a daily time series;
        :class:`~flowsim.storage.FolderTaken` when ``out`` holds other results.
    """
    folder = study_folder(experiment, out)
    claim_folder(folder, {"study": experiment.name, "seed": experiment.seed}, force)
    folder.mkdir(parents=True, exist_ok=True)
    # One study at a time in a folder: a second one would mix its tables with these.
    with folder_lock(folder):
        warmup_note = None
        if experiment.warmup is not None:
            _status(progress, "choosing the warm-up: a pilot run of the reference ...")
            experiment, warmup_note = _choose_warmup(experiment, experiment.warmup, folder)

        def meanwhile() -> None:
            # This process only waits while the workers run: do now what the end would
            # otherwise do alone, on one core (the first statistics load SciPy, the report
            # matplotlib and the charts).
            for s in experiment.scenarios:
                write_text(folder / "configs" / f"{safe_name(s.name)}.yaml", dump_yaml(s.params))
            modules = ["scipy.stats"] + (["flowsim.reporting.html"] if report else [])
            for module in modules:
                # Only a head start: if one fails to load, the step that needs it fails
                # there and says why, after every replication is stored.
                with contextlib.suppress(Exception):
                    importlib.import_module(module)

        run = run_experiment(
            experiment,
            folder,
            workers=workers,
            scheduler=scheduler,
            progress=progress,
            while_running=meanwhile,
        )
        metrics = [c for c in run.per_rep.columns if c not in ("scenario", "replication")]
        scenarios = scenario_table(run.per_rep, metrics)
        differences = paired_differences(run.per_rep, experiment.reference, metrics)
        write_frame(folder / "per_replication.parquet", run.per_rep)
        write_frame(folder / "per_replication.csv", run.per_rep)
        write_frame(folder / "scenarios.csv", scenarios)
        write_frame(folder / "differences.csv", differences)
        write_frame(folder / "timeseries.parquet", run.timeseries)
        write_frame(folder / "customers.parquet", run.customers)
        check = None if warmup_note else check_warmup(experiment, run)
        write_manifest(folder, _manifest(experiment, run, warmup_note, check, provenance))
    study = StudyRun(experiment, run, scenarios, differences, folder, warmup_note, check)
    if report:
        # The one step above this layer: matplotlib and the charts, loaded only when asked.
        from flowsim.reporting.html import write_report

        _status(progress, "writing the report and its charts ...")
        study.report = write_report(folder)
    return study


def _status(progress: bool, line: str) -> None:
    """A line on a terminal's standard error (never in a pipe, a log or a notebook)."""
    if progress and sys.stderr.isatty():
        print(line, file=sys.stderr, flush=True)


def _choose_warmup(
    experiment: Experiment, spec: WarmupSpec, folder: Path
) -> tuple[Experiment, str]:
    """Choose the warm-up by MSER-5 on a pilot of the reference; write the pilot series."""
    pilot = pilot_series(experiment, spec.series, spec.pilot_replications)
    days = mser5(pilot[spec.series].to_numpy())
    horizon = experiment.scenario(experiment.reference).params.simulation.horizon_weeks
    # MSER-5 searches the first half of the series; never cut more than that.
    weeks = min(days / DAYS_PER_WEEK, horizon / 2)
    write_frame(folder / "warmup.csv", pilot.assign(truncation_day=days))
    note = f"warm-up chosen by MSER-5 on {spec.series}: {weeks:g} weeks"
    return with_warmup(experiment, weeks), note


def check_warmup(experiment: Experiment, run: ExperimentRun) -> WarmupCheck | None:
    """Check the fixed warm-ups of a finished study by MSER-5 on the reference's open work.

    The reference's daily ``open_items``, averaged over its replications by day (from
    the study's own time series: no extra run), is truncated by MSER-5, and the
    truncation is set against the reference's ``simulation.warmup_weeks``.

    Parameters
    ----------
    experiment : Experiment
        The study as run, every scenario with its own fixed warm-up.
    run : ExperimentRun
        Its replications, with their daily time series.

    Returns
    -------
    WarmupCheck or None
        None when the time series has no ``open_items`` or no row of the reference.
    """
    series = run.timeseries
    if CHECK_SERIES not in series or "day" not in series:
        return None
    reference = series[series["scenario"] == experiment.reference]
    if reference.empty:
        return None
    mean = reference.groupby("day", sort=True)[CHECK_SERIES].mean().to_numpy()
    warmups = [s.params.simulation.warmup_weeks for s in experiment.scenarios]
    used = experiment.scenario(experiment.reference).params.simulation.warmup_weeks
    suggested = mser5(mean)
    best = mser_statistic(mean, suggested)
    at_used = mser_statistic(mean, round(used * DAYS_PER_WEEK))
    per_rep = run.per_rep
    ref_reps = per_rep[per_rep["scenario"] == experiment.reference]
    unstable = "unstable" in ref_reps and bool((ref_reps["unstable"] > 0).any())
    return WarmupCheck(
        used_weeks=used,
        shortest=min(warmups),
        longest=max(warmups),
        suggested_weeks=suggested / DAYS_PER_WEEK,
        reference_unstable=unstable,
        gain=at_used / best - 1 if best > 0 else math.inf,
    )


def _manifest(
    experiment: Experiment,
    run: ExperimentRun,
    warmup_note: str | None,
    check: WarmupCheck | None,
    provenance: dict[str, Any] | None,
) -> dict[str, Any]:
    if provenance is None:
        provenance = {"command": "run_study"}
        if experiment.source is not None:
            provenance |= {"experiment_file": experiment.source, "experiment": experiment.spec}
    return {
        **provenance,
        "study": experiment.name,
        "description": experiment.description,
        "seed": experiment.seed,
        "replications": experiment.replications,
        "reference": experiment.reference,
        "metrics": experiment.metrics,
        "warmup": warmup_note or (check.note if check else FIXED_WARMUP),
        **({"warmup_check": check.manifest()} if check else {}),
        "scenarios": [
            {
                "name": s.name,
                "overlays": list(s.overlays),
                "sets": list(s.sets),
                "config_hash": config_hash(s.params),
                "resolved_config": s.params.model_dump(mode="json", by_alias=True),
            }
            for s in experiment.scenarios
        ],
        "replications_reused": run.reused,
        "replications_computed": run.computed,
        "wall_time_seconds": round(run.wall_time, 3),
    }
