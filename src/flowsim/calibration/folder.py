"""A calibration's results folder: the calibrated overlay, the target table, the trials,
the charts of the search, and the manifest (written last).

Files::

    calibrated.yaml   the fitted values as an overlay, each with its range and source
    targets.csv       each target against what the best fit reproduces (mean, 95% CI)
    targets.md        the same as a Markdown table, with the targets not met and why
    trials.csv        every candidate: its values, objective and target means
    confirm.csv       the fresh replications of the best fit (and stability.csv)
    search.png        the objective over the trials
    parameters.png    each parameter's trials, fitted value and profile range
    manifest.json     config, files, hashes, seed, flowsim version
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from flowsim.calibration.search import PROFILE_DELTA, CalibrationRun, spec_hash
from flowsim.config import config_hash
from flowsim.stats import mean_ci, number_text
from flowsim.storage import write_frame, write_manifest, write_text

FILES = (
    *("trials.csv", "search.json", "calibrated.yaml", "targets.csv", "targets.md"),
    *("confirm.csv", "stability.csv", "search.png", "parameters.png"),
)
"""Everything a calibration writes into its folder (the manifest last)."""


def target_table(run: CalibrationRun) -> pd.DataFrame:
    """Each target: what was wanted, what the best fit reproduces on fresh seeds
    (mean and 95% CI), how far off (z), whether it is met, and whether any trial met it.

    A target is *met* when the mean lies in its band (the range, or the value plus or
    minus two standard deviations).  One not met that some trial met alone could not
    be met together with the others; one that no trial met is out of reach within the
    free parameters' bounds.
    """
    rows = []
    for t in run.spec.targets.targets:
        est = mean_ci(run.confirm[t.name])
        low, high = t.band
        met = bool(low <= est.mean <= high)
        by_trial = run.trials[t.name].between(low, high)
        if met:
            verdict = "met"
        elif by_trial.any():
            verdict = "not met together with the others"
        else:
            verdict = "out of reach within the bounds"
        rows.append(
            {
                "target": t.name,
                "observable": t.observable,
                "wanted": t.wanted(),
                "mean": est.mean,
                "ci_low": est.low,
                "ci_high": est.high,
                "z": t.z(est.mean),
                "met": met,
                "trials_meeting_it": int(by_trial.sum()),
                "verdict": verdict,
                "weight": t.weight,
                "source": t.source,
            }
        )
    return pd.DataFrame(rows)


def stability_share(run: CalibrationRun) -> tuple[int, int] | None:
    """Replications that settled over the stability horizon, and how many ran."""
    if run.stability is None:
        return None
    unstable = run.stability["unstable"].to_numpy(dtype=float)
    return int((unstable == 0).sum()), len(unstable)


def targets_markdown(run: CalibrationRun, table: pd.DataFrame) -> str:
    """The target table in Markdown, then the targets not met and the stability check."""
    ts = run.spec.targets
    lines = [
        "| target | observable | wanted | best fit, mean [95% CI] | z | verdict | source |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for _, r in table.iterrows():
        lines.append(
            f"| {r['target']} | `{r['observable']}` | {r['wanted']} | "
            f"{number_text(r['mean'])} [{number_text(r['ci_low'])}, {number_text(r['ci_high'])}] | "
            f"{r['z']:+.2f} | {r['verdict']} | {r['source']} |"
        )
    lines.append("")
    lines.append(
        f"Best of {len(run.trials)} candidates, each on {ts.replications} replications "
        f"(common random numbers); the table is {ts.confirm_replications} fresh replications "
        "of the best fit."
    )
    missed = table[~table["met"]]
    if len(missed):
        lines.append("")
        lines.append(
            "Not met: " + "; ".join(f"{r.target} ({r.verdict})" for r in missed.itertuples()) + "."
        )
    share = stability_share(run)
    if share is not None:
        settled, n = share
        lines.append("")
        lines.append(
            f"Stability: open work settled in {settled} of {n} replications over "
            f"{ts.stability_weeks:g} weeks."
        )
    return "\n".join(lines) + "\n"


def overlay_yaml(run: CalibrationRun) -> str:
    """The fitted values as a commented overlay, nested by key path."""
    ts = run.spec.targets
    lines = [
        f"# Calibrated by flowsim calibrate: targets '{ts.name}' ({run.spec.targets_file}),",
        f"# free parameters {run.spec.free_file}; {len(run.trials)} candidates, seed {ts.seed}.",
        "# Each value: the best fit; its range over the candidates within "
        f"{PROFILE_DELTA} of the best objective",
        "# (an approximate 95% profile interval); the bounds searched; their source.",
    ]
    tree: dict[str, Any] = {}
    for f in run.spec.free.free:
        node = tree
        *parents, leaf = f.key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = f

    def emit(node: dict[str, Any], depth: int) -> None:
        for name, child in node.items():
            pad = "  " * depth
            if isinstance(child, dict):
                lines.append(f"{pad}{name}:")
                emit(child, depth + 1)
                continue
            value = run.best[child.key]
            lo, hi = run.ranges[child.key]
            note = f"fitted; range {number_text(lo)}-{number_text(hi)}"
            note += f"; bounds {child.low:g}-{child.high:g}"
            edge = child.at_bound(value)
            if edge:
                note += f" ({edge}: the fit would go further)"
            if child.source:
                note += f"; {child.source}"
            lines.append(f"{pad}{name}: {value!r}  # {note}")

    emit(tree, 0)
    return "\n".join(lines) + "\n"


def write_calibration(
    run: CalibrationRun, out: Path, provenance: dict[str, Any], charts: bool = True
) -> pd.DataFrame:
    """Write the folder's files (the trials are already there), the manifest last;
    return the target table it wrote."""
    table = target_table(run)
    write_text(out / "calibrated.yaml", overlay_yaml(run))
    write_frame(out / "targets.csv", table)
    write_text(out / "targets.md", targets_markdown(run, table))
    write_frame(out / "confirm.csv", run.confirm)
    if run.stability is not None:
        write_frame(out / "stability.csv", run.stability)
    if charts:
        from flowsim.reporting.charts.calibration import parameter_fits, search_progress

        search_progress(run.trials).savefig(out / "search.png", dpi=100)
        parameter_fits(run.trials, run.spec.free.free, run.best, run.ranges).savefig(
            out / "parameters.png", dpi=100
        )
    spec = run.spec
    write_manifest(
        out,
        {
            **provenance,
            "calibration": spec.targets.name,
            "config": spec.config,
            "overlays": list(spec.overlays),
            "sets": list(spec.sets),
            "config_hash": config_hash(spec.params({})),
            "calibrated_config_hash": config_hash(spec.params(run.best)),
            "targets_file": spec.targets_file,
            "free_file": spec.free_file,
            "spec_hash": spec_hash(spec),
            "targets": spec.targets.model_dump(mode="json"),
            "free": spec.free.model_dump(mode="json"),
            "seed": spec.targets.seed,
            "candidates": len(run.trials),
            "candidates_reused": run.reused,
            "candidates_computed": run.computed,
            "best": run.best,
            "wall_time_seconds": round(run.wall_time, 3),
        },
    )
    return table
