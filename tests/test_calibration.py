"""Calibration: the targets and free-parameter files, the objective, and the search.

The search must recover parameters it did not know from targets the model itself
produced at a known setting, be reproducible from its seed, and resume after a kill
to the same result as a run that was never interrupted.
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from conftest import reduced_params
from flowsim.calibration import calibrate, target_table, write_calibration
from flowsim.calibration.search import objective, profile_ranges
from flowsim.cli import main
from flowsim.config import ConfigError, dump_yaml
from flowsim.config.calibration import Prior, Target, load_calibration
from flowsim.model.results import simulate
from flowsim.model.streams import replication_seeds

TRUE_RATE = 20.0  # tickets per week: rho = 0.5 at a mean effort of 1 h and 40 h a week
TRUE_EFFORT = 1.0
FREE = {
    "free": [
        {"key": "tickets.per_customer_per_week", "low": 5, "high": 35},
        {"key": "tickets.classes.normal.effort.mean", "low": 0.4, "high": 1.6},
    ]
}


# ---------------------------------------------------------------- targets and the objective
def test_z_is_zero_inside_a_range_and_grows_outside_it():
    t = Target(name="x", metric="go_lives", range=(10, 20))
    assert t.z(15) == 0 and t.z(10) == 0 and t.z(20) == 0
    assert t.scale == pytest.approx(1.5)  # 10% of the midpoint
    assert t.z(23) == pytest.approx(2.0) and t.z(7) == pytest.approx(-2.0)
    assert t.z(float("nan")) == math.inf


def test_a_value_target_defaults_to_ten_percent_and_0_needs_an_sd():
    assert Target(name="x", metric="go_lives", value=20).z(22) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="needs an sd"):
        Target(name="x", metric="go_lives", value=0)
    with pytest.raises(ValueError, match="either metric or series"):
        Target(name="x", value=1)
    with pytest.raises(ValueError, match="unknown series"):
        Target(name="x", series="nope", value=1)


def write(folder: Path, name: str, data: dict) -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def mm1_config(folder: Path) -> Path:
    """The reduced model: one live customer's tickets in front of the lead (M/M/1)."""
    params = reduced_params(horizon_weeks=30, warmup_weeks=3, tickets_per_week=TRUE_RATE)
    path = folder / "mm1.yaml"
    path.write_text(dump_yaml(params), encoding="utf-8")
    return path


def observed_targets(config: Path, reps: int = 12) -> list[dict]:
    """Targets the model produces at the true setting, on seeds the search never uses:
    their mean, and the spread of one replication as the observation's uncertainty."""
    from flowsim.config import load_config

    params = load_config(config)
    runs = [simulate(params, seed=s).summary for s in replication_seeds(99, reps)]
    frame = pd.DataFrame(runs)
    out = []
    for metric in ("tickets_closed_per_week", "lead_utilisation", "ticket_resolution_mean_days"):
        values = frame[metric].to_numpy(dtype=float)
        out.append(
            {
                "name": metric,
                "metric": metric,
                "value": float(values.mean()),
                "sd": float(values.std(ddof=1)),
            }
        )
    return out


@pytest.fixture(scope="module")
def mm1_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    folder = tmp_path_factory.mktemp("calibration")
    config = mm1_config(folder)
    targets = {
        "name": "mm1",
        "replications": 3,
        "confirm_replications": 6,
        "stability_weeks": None,
        "batch": 4,
        "startup_trials": 8,
        "seed": 7,
        "targets": observed_targets(config),
    }
    return config, write(folder, "targets.yaml", targets), write(folder, "free.yaml", FREE)


def test_objective_is_the_weighted_sum_of_squared_z_plus_the_priors(mm1_files):
    config, targets, free = mm1_files
    spec = load_calibration(str(config), targets, free)
    means = {t.name: t.value + 2 * t.scale for t in spec.targets.targets}  # 2 sd off each
    values = {"tickets.per_customer_per_week": 20.0, "tickets.classes.normal.effort.mean": 1.0}
    assert objective(spec, means, values) == pytest.approx(3 * 4.0)
    spec.free.free[0].prior = Prior(mean=10, sd=5)  # 2 sd from 20
    assert objective(spec, means, values) == pytest.approx(3 * 4.0 + 4.0)


def test_profile_range_spans_the_trials_near_the_best():
    trials = pd.DataFrame({"a": [1.0, 2.0, 3.0, 9.0], "objective": [5.0, 1.0, 4.5, 4.9]})
    assert profile_ranges(trials, ["a"]) == {"a": (2.0, 3.0)}


# ---------------------------------------------------------------- the search
@pytest.fixture(scope="module")
def mm1_fit(mm1_files, tmp_path_factory):
    config, targets, free = mm1_files
    spec = load_calibration(str(config), targets, free)
    out = tmp_path_factory.mktemp("fit")
    run = calibrate(spec, budget=48, out=out, workers=1, progress=False)
    write_calibration(run, out, {"command": "test"})
    return run, out


def test_calibration_recovers_the_parameters_that_made_the_targets(mm1_fit):
    run, _ = mm1_fit
    truth = {"tickets.per_customer_per_week": TRUE_RATE, "tickets.classes.normal.effort.mean": 1.0}
    for key, true in truth.items():
        low, high = run.ranges[key]
        assert low <= true <= high, (key, run.ranges[key], run.best[key])
        assert run.best[key] == pytest.approx(true, rel=0.15), (key, run.best[key])
    # and the range says something: narrower than half the bounds searched
    for f in run.spec.free.free:
        low, high = run.ranges[f.key]
        assert high - low < (f.high - f.low) / 2, (f.key, run.ranges[f.key])


def test_the_fit_reproduces_its_targets_on_fresh_seeds(mm1_fit):
    run, out = mm1_fit
    table = target_table(run)
    assert table["met"].all(), table
    stored = pd.read_csv(out / "targets.csv")
    assert list(stored["target"]) == list(table["target"])
    overlay = yaml.safe_load((out / "calibrated.yaml").read_text(encoding="utf-8"))
    assert overlay["tickets"]["per_customer_per_week"] == run.best["tickets.per_customer_per_week"]
    assert "fitted; range" in (out / "calibrated.yaml").read_text(encoding="utf-8")
    for name in ("trials.csv", "search.png", "parameters.png", "targets.md", "manifest.json"):
        assert (out / name).is_file(), name


def test_a_wrong_model_is_reported_as_a_target_it_cannot_meet(mm1_files, tmp_path):
    """With the effort fixed far from the truth, utilisation and resolution time cannot
    both be met: the table says which, instead of bending the model to fit."""
    config, targets, _ = mm1_files
    free = write(tmp_path, "free.yaml", {"free": [FREE["free"][0]]})
    spec = load_calibration(
        str(config), targets, free, sets=("tickets.classes.normal.effort.mean=0.5",)
    )
    run = calibrate(spec, budget=16, out=None, workers=1, progress=False)
    table = target_table(run).set_index("target")
    assert not table["met"].all(), table
    assert set(table["verdict"]) - {"met"}, table


def test_same_seed_same_trials_and_more_budget_extends_the_same_search(mm1_files, tmp_path):
    """Resuming (a rerun into the folder with a larger budget) gives the trials of one
    uninterrupted run: candidates depend only on the seed and the trials before them."""
    config, targets, free = mm1_files
    spec = load_calibration(str(config), targets, free)
    whole = calibrate(spec, budget=16, out=None, workers=1, progress=False)
    again = calibrate(spec, budget=16, out=None, workers=2, progress=False)
    pd.testing.assert_frame_equal(whole.trials, again.trials)
    folder = tmp_path / "resumed"
    first = calibrate(spec, budget=8, out=folder, workers=1, progress=False)
    assert first.computed == 8
    resumed = calibrate(spec, budget=16, out=folder, workers=1, progress=False)
    assert (resumed.reused, resumed.computed) == (8, 8)
    pd.testing.assert_frame_equal(resumed.trials, whole.trials, check_dtype=False)
    assert resumed.best == whole.best


def test_a_folder_of_another_calibration_is_refused(mm1_files, tmp_path):
    config, targets, free = mm1_files
    spec = load_calibration(str(config), targets, free)
    calibrate(spec, budget=4, out=tmp_path, workers=1, progress=False)
    other = load_calibration(str(config), targets, free, sets=("lead.capacity_hours_per_week=50",))
    with pytest.raises(ValueError, match="another config"):
        calibrate(other, budget=4, out=tmp_path, workers=1, progress=False)


@pytest.mark.slow
def test_calibrate_resumes_after_a_kill_to_the_uninterrupted_result(mm1_files, tmp_path):
    config, targets, free = mm1_files
    flowsim = str(Path(sys.executable).parent / "flowsim")
    args = [
        flowsim, "calibrate", str(config), "--targets", str(targets), "--free", str(free),
        "--budget", "24", "--workers", "1", "--no-charts",
    ]  # fmt: skip
    killed = tmp_path / "killed"
    proc = subprocess.Popen([*args, "--out", str(killed)], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not (killed / "trials.csv").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = len(pd.read_csv(killed / "trials.csv"))
    assert 0 < partial < 24
    subprocess.run([*args, "--out", str(killed)], check=True, capture_output=True)
    subprocess.run([*args, "--out", str(tmp_path / "whole")], check=True, capture_output=True)
    resumed = pd.read_csv(killed / "trials.csv")
    whole = pd.read_csv(tmp_path / "whole" / "trials.csv")
    pd.testing.assert_frame_equal(resumed, whole)
    assert (killed / "calibrated.yaml").read_text() == (
        tmp_path / "whole" / "calibrated.yaml"
    ).read_text()


# ---------------------------------------------------------------- files and the command line
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"targets": [{"name": "a", "metric": "nope", "value": 1}]}, "unknown metric 'nope'"),
        ({"targets": [{"name": "a", "metric": "go_lives"}]}, "either value or range"),
        ({"replications": 0}, "replications"),
        ({"targets": [{"name": "objective", "metric": "go_lives", "value": 1}]}, "taken by"),
        (
            {"targets": [{"name": "a", "metric": "go_lives", "value": 1, "colour": 2}]},
            "unknown key",
        ),
    ],
)
def test_a_bad_targets_file_names_what_is_wrong(mm1_files, tmp_path, change, message):
    config, targets, free = mm1_files
    data = yaml.safe_load(targets.read_text(encoding="utf-8")) | change
    bad = write(tmp_path, "bad.yaml", data)
    with pytest.raises(ConfigError, match=message):
        load_calibration(str(config), bad, free)


@pytest.mark.parametrize(
    ("free", "message"),
    [
        ({"free": [{"key": "lead.nope", "low": 1, "high": 2}]}, "lead.nope"),
        ({"free": [{"key": "tickets.per_customer_per_week", "low": 3, "high": 2}]}, "low < high"),
        ({"free": [{"key": "lead.wip_limit", "low": 0, "high": 4}]}, "cannot take the bound 0"),
        ({"free": [{"key": "team.spec_share", "low": 0, "high": 1, "log": True}]}, "low > 0"),
    ],
)
def test_a_bad_free_file_names_the_key_and_the_problem(mm1_files, tmp_path, free, message):
    config, targets, _ = mm1_files
    with pytest.raises(ConfigError, match=message):
        load_calibration(str(config), targets, write(tmp_path, "free.yaml", free))


def test_cli_calibrate_prints_the_table_and_writes_the_folder(mm1_files, tmp_path):
    config, targets, free = mm1_files
    out = tmp_path / "cal"
    args = ["calibrate", str(config), "--targets", str(targets), "--free", str(free)]
    result = CliRunner().invoke(main, [*args, "--budget", "8", "--workers", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "tickets_closed_per_week" in result.output and "fitted" in result.output
    assert (out / "calibrated.yaml").is_file() and (out / "manifest.json").is_file()
    again = CliRunner().invoke(main, [*args, "--budget", "8", "--workers", "1", "--out", str(out)])
    assert "8 candidates reused, 0 computed" in again.output


def test_cli_calibrate_bad_input_is_one_line_and_exit_2(mm1_files, tmp_path):
    config, targets, _ = mm1_files
    bad = write(tmp_path, "free.yaml", {"free": [{"key": "lead.nope", "low": 1, "high": 2}]})
    result = CliRunner().invoke(
        main, ["calibrate", str(config), "--targets", str(targets), "--free", str(bad)]
    )
    assert result.exit_code == 2
    assert result.output.startswith("error: ") and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_shipped_story_files_are_valid():
    root = Path(__file__).resolve().parents[1]
    spec = load_calibration(
        str(root / "configs" / "baseline.yaml"),
        root / "configs" / "calibration" / "story_targets.yaml",
        root / "configs" / "calibration" / "story_free.yaml",
    )
    assert len(spec.targets.targets) >= 6
    assert all(t.source for t in spec.targets.targets)
    assert all(f.source for f in spec.free.free)
    assert np.isfinite([f.low for f in spec.free.free]).all()
