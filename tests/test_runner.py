"""The experiment runner: parallel, reproducible, resumable replications.

What a study's numbers must not depend on: the number of workers, the order in
which replications finish, how many replications were asked for, whether the
run was interrupted and resumed, or whether it ran on a Dask cluster.  What
they must share: replication r of every scenario uses the same seed (common
random numbers), which is what makes the paired comparison narrower than an
unpaired one.  Every check here compares whole frames bit for bit
(``assert_frame_equal`` with its exact default for identical computations).
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from flowsim.cli import main
from flowsim.config.experiment import Experiment, compare_experiment, load_experiment
from flowsim.model.catalogue import LEAD_ACTIVITIES
from flowsim.runner import ExperimentRun, replicate, run_experiment, run_replications
from flowsim.stats import paired_differences

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"
BASELINE = CONFIGS / "baseline.yaml"

SMALL = """
    name: small
    base: {configs}/baseline.yaml
    replications: {reps}
    seed: 7
    horizon_weeks: {horizon}
    warmup_weeks: 1
    metrics: [go_lives, ticket_resolution_mean_days]
    scenarios:
      - name: baseline
      - name: advisor
        overlays: [{configs}/policies/advisor.yaml]
        set: {{lead.capacity_hours_per_week: {capacity}}}
    sweeps:
      - name: wip
        set: {{intake.policy: wip_limit}}
        grid: {{intake.limit: [1]}}
"""


def write_study(
    folder: Path, reps: int = 3, horizon: float = 8, capacity: float = 45, name: str = "small.yaml"
) -> Path:
    """A three-scenario study over the baseline with a short horizon, written to ``folder``."""
    path = folder / name
    text = textwrap.dedent(SMALL).format(
        configs=CONFIGS.as_posix(), reps=reps, horizon=horizon, capacity=capacity
    )
    path.write_text(text.lstrip())
    return path


def small(folder: Path, **kwargs: Any) -> Experiment:
    return load_experiment(write_study(folder, **kwargs))


def assert_same_frames(a: ExperimentRun, b: ExperimentRun) -> None:
    pd.testing.assert_frame_equal(a.per_rep, b.per_rep)
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries)


def stored(out: Path) -> list[Path]:
    """The replications stored under a results folder (one summary file each)."""
    return sorted((out / "replications").glob("*/rep-*.json"))


class PermutingExecutor(Executor):
    """Runs every submitted call in this process, in the reverse of the submission order,
    once ``expected`` calls have been submitted; records the order it ran them in."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.submitted: list[tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]] = []
        self.ran: list[int] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        assert not kwargs
        future: Future[Any] = Future()
        self.submitted.append((future, fn, args))
        if len(self.submitted) == self.expected:
            for index in reversed(range(self.expected)):
                fut, call, call_args = self.submitted[index]
                self.ran.append(index)
                fut.set_result(call(*call_args))
        return future


# ---------------------------------------------------------------- workers and order
def test_frames_layout(tmp_path):
    """One row per (scenario, replication), in scenario then replication order, with
    every summary metric; the time series carries the same two keys."""
    exp = small(tmp_path)
    run = run_experiment(exp, workers=1, progress=False)
    names = [s.name for s in exp.scenarios]
    assert list(run.per_rep["scenario"]) == [n for n in names for _ in range(3)]
    assert list(run.per_rep["replication"]) == [0, 1, 2] * len(names)
    assert {"go_lives", "ticket_resolution_mean_days", "arr_at_horizon"} <= set(run.per_rep)
    assert run.timeseries.groupby(["scenario", "replication"], sort=False).ngroups == 9
    assert list(run.timeseries["scenario"].unique()) == names
    assert run.reused == 0 and run.computed == 9


def test_serial_equals_parallel_bit_for_bit(tmp_path):
    """``workers=1`` (in this process) and ``workers=2`` (a process pool, finishing in
    whatever order) give identical per-replication and time-series frames."""
    exp = small(tmp_path)
    serial = run_experiment(exp, workers=1, progress=False)
    parallel = run_experiment(exp, workers=2, progress=False)
    assert_same_frames(serial, parallel)
    assert parallel.computed == 9


def test_completion_order_does_not_matter(tmp_path):
    """Replications that finish in the reverse of the order they were submitted in are
    still assembled in scenario and replication order, identical to a serial run."""
    exp = small(tmp_path)
    serial = run_experiment(exp, workers=1, progress=False)
    executor = PermutingExecutor(expected=9)
    shuffled = run_experiment(exp, executor=executor, progress=False)
    assert executor.ran == list(range(8, -1, -1))
    assert_same_frames(serial, shuffled)


def test_replication_results_do_not_depend_on_the_number_of_replications(tmp_path):
    """Replication r of a 3-replication run equals replication r of a 5-replication run
    (seeds are spawned children r of the root, whatever their number), so adding
    replications later keeps the ones already made."""
    three = run_experiment(small(tmp_path, reps=3), workers=1, progress=False)
    five = run_experiment(small(tmp_path, reps=5), workers=1, progress=False)
    first = five.per_rep[five.per_rep["replication"] < 3].reset_index(drop=True)
    pd.testing.assert_frame_equal(first, three.per_rep)
    series = five.timeseries[five.timeseries["replication"] < 3].reset_index(drop=True)
    pd.testing.assert_frame_equal(series, three.timeseries)


def test_replication_r_gets_the_same_seed_in_every_scenario(tmp_path):
    """Two scenarios with identical configs (only the name differs) give identical rows
    replication by replication: replication r has one seed across scenarios (common
    random numbers).  The replications themselves differ from each other."""
    path = tmp_path / "twins.yaml"
    path.write_text(
        f"name: twins\nbase: {BASELINE.as_posix()}\nreplications: 3\nseed: 3\n"
        "horizon_weeks: 8\nwarmup_weeks: 1\nscenarios:\n  - name: a\n  - name: b\n"
    )
    run = run_experiment(load_experiment(path), workers=2, progress=False)
    rows = {
        name: group.drop(columns="scenario").reset_index(drop=True)
        for name, group in run.per_rep.groupby("scenario")
    }
    pd.testing.assert_frame_equal(rows["a"], rows["b"])
    series = {
        name: group.drop(columns="scenario").reset_index(drop=True)
        for name, group in run.timeseries.groupby("scenario")
    }
    pd.testing.assert_frame_equal(series["a"], series["b"])
    assert rows["a"]["ticket_resolution_mean_days"].nunique() == 3


def test_experiment_replication_matches_flowsim_run(tmp_path):
    """A scenario's replication r is the replication r that ``run_replications`` (the
    ``flowsim run`` command) makes from the same root seed: one seeding scheme."""
    exp = small(tmp_path)
    run = run_experiment(exp, workers=1, progress=False)
    params = exp.scenario("advisor").params
    direct = run_replications(params, 3, seed=exp.seed).per_rep
    ours = run.per_rep[run.per_rep["scenario"] == "advisor"].drop(columns="scenario")
    pd.testing.assert_frame_equal(
        ours.reset_index(drop=True), direct[ours.columns].reset_index(drop=True)
    )
    summary, _, _ = replicate(params, exp.seed, 2, 3)
    pd.testing.assert_series_equal(
        pd.Series(summary), ours.iloc[2].drop("replication").astype(float), check_names=False
    )


# ---------------------------------------------------------------- resume
def test_rerun_reuses_every_stored_replication(tmp_path):
    """A rerun into the same folder computes nothing and returns identical frames."""
    exp = small(tmp_path)
    out = tmp_path / "out"
    first = run_experiment(exp, out, workers=2, progress=False)
    assert (first.reused, first.computed) == (0, 9)
    assert len(stored(out)) == 9
    again = run_experiment(exp, out, workers=2, progress=False)
    assert (again.reused, again.computed) == (9, 0)
    assert_same_frames(first, again)
    assert not list(out.rglob("*.tmp")), "temporary files left behind"


def test_rerun_computes_only_missing_or_damaged_replications(tmp_path):
    """Deleting a stored summary, deleting a stored time series and truncating one (as a
    crash mid-write would) make exactly those three replications run again; the
    frames equal the first run's."""
    exp = small(tmp_path)
    out = tmp_path / "out"
    first = run_experiment(exp, out, workers=1, progress=False)
    summaries = stored(out)
    summaries[0].unlink()
    summaries[4].with_suffix(".parquet").unlink()
    damaged = summaries[8].with_suffix(".parquet")
    damaged.write_bytes(damaged.read_bytes()[: damaged.stat().st_size // 2])
    again = run_experiment(exp, out, workers=2, progress=False)
    assert (again.reused, again.computed) == (6, 3)
    assert_same_frames(first, again)
    # A truncated summary (JSON) is recomputed too.
    summary = stored(out)[1]
    summary.write_text(summary.read_text()[:20])
    third = run_experiment(exp, out, workers=1, progress=False)
    assert (third.reused, third.computed) == (8, 1)
    assert_same_frames(first, third)


def test_changing_one_scenario_recomputes_only_that_scenario(tmp_path):
    """Editing one scenario's config (the advisor's capacity) reruns its replications
    only; the other scenarios are reused unchanged, and the edited one changes: the
    lead's hours by activity add up to the new capacity."""
    out = tmp_path / "out"
    first = run_experiment(small(tmp_path), out, workers=1, progress=False)
    edited = small(tmp_path, capacity=30)
    again = run_experiment(edited, out, workers=2, progress=False)
    assert (again.reused, again.computed) == (6, 3)
    reference = run_experiment(edited, workers=1, progress=False)
    assert_same_frames(again, reference)
    keep = first.per_rep["scenario"] != "advisor"
    pd.testing.assert_frame_equal(first.per_rep[keep], again.per_rep[keep])
    hours = [f"lead_{activity}_hours_per_week" for activity in LEAD_ACTIVITIES]
    np.testing.assert_allclose(first.per_rep[~keep][hours].sum(axis=1), 45, rtol=1e-9)
    np.testing.assert_allclose(again.per_rep[~keep][hours].sum(axis=1), 30, rtol=1e-9)


def test_more_replications_reuse_the_earlier_ones(tmp_path):
    """Asking for 5 replications after 3 computes only replications 3 and 4 of each
    scenario, and the result equals a clean 5-replication run."""
    out = tmp_path / "out"
    run_experiment(small(tmp_path, reps=3), out, workers=1, progress=False)
    five = run_experiment(small(tmp_path, reps=5), out, workers=2, progress=False)
    assert (five.reused, five.computed) == (9, 6)
    assert_same_frames(five, run_experiment(small(tmp_path, reps=5), workers=1, progress=False))


def test_changing_the_root_seed_recomputes_everything(tmp_path):
    """A rerun into the same folder with another root seed must not reuse replications
    made with the old seed: it should equal a clean run with the new seed."""
    exp = small(tmp_path)
    out = tmp_path / "out"
    run_experiment(exp, out, workers=1, progress=False)
    other = dataclasses.replace(exp, seed=exp.seed + 1)
    again = run_experiment(other, out, workers=1, progress=False)
    clean = run_experiment(other, workers=1, progress=False)
    assert again.computed == 9
    assert_same_frames(again, clean)


def flowsim_script() -> str:
    """The ``flowsim`` console script of this environment (there is no ``__main__``)."""
    beside = Path(sys.executable).parent / "flowsim"
    found = str(beside) if beside.is_file() else shutil.which("flowsim")
    assert found, "the flowsim console script is not installed"
    return found


def test_study_killed_hard_resumes_where_it_stopped(tmp_path):
    """``flowsim experiment`` killed with SIGKILL (no cleanup at all) after some
    replications are stored: a rerun reuses exactly those, computes the rest, and
    writes the same ``per_replication.csv`` as an uninterrupted run.

    The subprocess gets its own session so that the kill also reaches its worker
    processes (by process-group id)."""
    study = write_study(tmp_path, reps=8, horizon=40)
    total = 3 * 8
    out = tmp_path / "killed"
    proc = subprocess.Popen(
        [flowsim_script(), "experiment", str(study), "--out", str(out), "--workers", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while proc.poll() is None and len(stored(out)) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert proc.poll() is None, "the study ended before it could be killed; lengthen it"
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert not (out / "manifest.json").exists()
    kept = len(stored(out))
    assert 0 < kept < total

    runner = CliRunner()
    result = runner.invoke(main, ["experiment", str(study), "--out", str(out), "--workers", "2"])
    assert result.exit_code == 0, result.output
    counts = re.search(r"(\d+) replications reused, (\d+) computed", result.output)
    assert counts, result.output
    reused, computed = int(counts[1]), int(counts[2])
    assert reused == kept and reused > 0 and reused + computed == total

    clean = tmp_path / "clean"
    result = runner.invoke(main, ["experiment", str(study), "--out", str(clean), "--workers", "2"])
    assert result.exit_code == 0, result.output
    pd.testing.assert_frame_equal(
        pd.read_csv(out / "per_replication.csv"), pd.read_csv(clean / "per_replication.csv")
    )
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / "timeseries.parquet"), pd.read_parquet(clean / "timeseries.parquet")
    )


# ---------------------------------------------------------------- common random numbers
def test_common_random_numbers_narrow_the_paired_interval():
    """On the shipped comparison baseline vs ``calls_without_lead`` (20 weeks, 8
    replications), the paired interval of the difference is narrower than the
    unpaired (Welch) one for ticket resolution time and tickets closed: replication r
    of both scenarios sees the same customers and tickets, so the noise they share
    cancels in the difference.  (Were the seeds not shared, the two half-widths would
    be about equal.)"""
    exp = compare_experiment(
        os.fspath(BASELINE),
        [os.fspath(CONFIGS / "policies" / "calls_without_lead.yaml")],
        reps=8,
        seed=1,
        sets=("simulation.horizon_weeks=20", "simulation.warmup_weeks=2"),
    )
    run = run_experiment(exp, workers=2, progress=False)
    metrics = ["ticket_resolution_mean_days", "tickets_closed_per_week"]
    diffs = paired_differences(run.per_rep, exp.reference, metrics).set_index("metric")
    for metric in metrics:
        paired, unpaired = diffs.loc[metric, ["half_width", "unpaired_half_width"]]
        assert paired < 0.75 * unpaired, (metric, paired, unpaired)
        assert diffs.loc[metric, "n"] == 8


# ---------------------------------------------------------------- Dask
def test_dask_cluster_gives_the_serial_frames(tmp_path):
    """On a two-process Dask ``LocalCluster``, by scheduler address and through a
    client's executor, the frames equal a serial run's bit for bit."""
    from distributed import Client, LocalCluster

    exp = small(tmp_path)
    serial = run_experiment(exp, workers=1, progress=False)
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        by_address = run_experiment(exp, scheduler=cluster.scheduler_address, progress=False)
        by_executor = run_experiment(exp, executor=client.get_executor(), progress=False)
    assert by_address.computed == 9
    assert_same_frames(serial, by_address)
    assert_same_frames(serial, by_executor)


def test_process_pool_executor_passed_in_is_not_closed(tmp_path):
    """An executor the caller passes in is used and left open for the next study."""
    exp = small(tmp_path)
    with ProcessPoolExecutor(max_workers=2) as pool:
        first = run_experiment(exp, executor=pool, progress=False)
        second = run_experiment(exp, executor=pool, progress=False)
        assert pool.submit(int, "3").result() == 3
    assert_same_frames(first, second)


@pytest.mark.parametrize("weeks", [8, 9.5, -1])
def test_a_warmup_that_leaves_no_window_is_an_error(tmp_path: Path, weeks: float) -> None:
    """with_warmup (the MSER-5 path) refuses a warm-up as long as the horizon, or negative."""
    from flowsim.runner import with_warmup

    exp = small(tmp_path)  # 8-week horizon
    with pytest.raises(ValueError, match="must be at least 0 and shorter than scenario"):
        with_warmup(exp, weeks)
    assert with_warmup(exp, 7.5).scenarios[0].params.simulation.warmup_weeks == 7.5
