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
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from flowsim.config import config_hash, dump_yaml
from flowsim.config.experiment import Experiment, WarmupSpec
from flowsim.runner import ExperimentRun, pilot_series, run_experiment, with_warmup
from flowsim.stats import mser5, paired_differences, scenario_table
from flowsim.storage import safe_name, write_frame, write_manifest, write_text

FIXED_WARMUP = "fixed (each scenario's simulation.warmup_weeks)"
"""The manifest's ``warmup`` when it was not chosen by MSER-5."""


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
    report : Path or None
        The HTML report, or None when it was not asked for.
    """

    experiment: Experiment
    run: ExperimentRun
    scenarios: pd.DataFrame
    differences: pd.DataFrame
    folder: Path
    warmup_note: str | None = None
    report: Path | None = None

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
) -> StudyRun:
    """Run a study and write its results folder, resumably; print nothing.

    In order: the warm-up, if the experiment asks for MSER-5 (a pilot of the
    reference scenario, written to ``warmup.csv``); every replication, in parallel,
    each stored as it finishes under ``replications/`` (a rerun reuses them), while
    each scenario's resolved config goes to ``configs/<scenario>.yaml``; the
    statistics; ``per_replication.parquet``/``.csv``, ``scenarios.csv``,
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
        Show a progress bar on a terminal.
    provenance : dict, optional
        What made the study (command, files, arguments), recorded first in the
        manifest; by default ``{"command": "run_study"}`` and the experiment file.

    Returns
    -------
    StudyRun

    Raises
    ------
    OSError
        When the folder or a file in it cannot be written.
    ValueError
        When the MSER-5 warm-up names a series that is not a daily time series.
    """
    folder = study_folder(experiment, out)
    folder.mkdir(parents=True, exist_ok=True)
    warmup_note = None
    if experiment.warmup is not None:
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
    write_manifest(folder, _manifest(experiment, run, warmup_note, provenance))
    study = StudyRun(experiment, run, scenarios, differences, folder, warmup_note)
    if report:
        # The one step above this layer: matplotlib and the charts, loaded only when asked.
        from flowsim.reporting.html import write_report

        study.report = write_report(folder)
    return study


def _choose_warmup(
    experiment: Experiment, spec: WarmupSpec, folder: Path
) -> tuple[Experiment, str]:
    """Choose the warm-up by MSER-5 on a pilot of the reference; write the pilot series."""
    pilot = pilot_series(experiment, spec.series, spec.pilot_replications)
    days = mser5(pilot[spec.series].to_numpy())
    horizon = experiment.scenario(experiment.reference).params.simulation.horizon_weeks
    # MSER-5 searches the first half of the series; never cut more than that.
    weeks = min(days / 5, horizon / 2)
    write_frame(folder / "warmup.csv", pilot.assign(truncation_day=days))
    note = f"warm-up chosen by MSER-5 on {spec.series}: {weeks:g} weeks"
    return with_warmup(experiment, weeks), note


def _manifest(
    experiment: Experiment,
    run: ExperimentRun,
    warmup_note: str | None,
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
        "warmup": warmup_note or FIXED_WARMUP,
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
