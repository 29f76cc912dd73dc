"""Sensitivity: the assumptions file, the design, the indices, the verdicts and the runs.

On the reduced model, where the M/M/1 formula gives the answer, the study must rank
the ticket load first for the ticket wait, give an assumption whose mechanism is
switched off exactly no effect, call a policy that helps everywhere a win everywhere,
and reproduce itself from its seed and after a kill.
"""

from __future__ import annotations

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
from flowsim.cli import main
from flowsim.config import ConfigError, dump_yaml, load_config
from flowsim.config.experiment import load_experiment
from flowsim.config.sensitivity import load_sensitivity
from flowsim.model.reduction import mm1_time_in_system_days
from flowsim.sensitivity import analyse_sensitivity, run_sensitivity
from flowsim.sensitivity.analysis import LOSES, UNCALLED, WINS, conditions, outcome_shares
from flowsim.sensitivity.design import indices
from flowsim.stats import wilson_interval

ROOT = Path(__file__).resolve().parents[1]
WAIT = "ticket_resolution_mean_days"
UNCERTAIN = {
    "name": "mm1_uncertain",
    "method": "morris",
    "samples": 4,
    "replications": 4,
    "seed": 11,
    "batch": 3,
    "metrics": [WAIT, "tickets_closed_per_week"],
    "decide": {WAIT: "lower"},
    "assumptions": [
        # rho from 0.2 to 0.6 at 40 h a week and a mean effort of 1 h
        {"name": "ticket_load", "key": "tickets.per_customer_per_week", "low": 8, "high": 24},
        # both mechanisms are off in the reduced model: no effect, exactly
        {"name": "resume_cost", "key": "interrupts.resume_cost_hours", "low": 0, "high": 1},
        {"name": "call_hours", "key": "status_calls.call_hours", "low": 0.25, "high": 2},
    ],
}


def write(folder: Path, name: str, data: dict) -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def experiment_file(folder: Path) -> Path:
    """The reduced model at 40 lead hours a week (the reference), 60 (a policy that can
    only help) and 34 (one that can only hurt)."""
    params = reduced_params(horizon_weeks=30, warmup_weeks=3)
    (folder / "mm1.yaml").write_text(dump_yaml(params), encoding="utf-8")
    return write(
        folder,
        "experiment.yaml",
        {
            "name": "mm1_capacity",
            "base": "mm1.yaml",
            "replications": 4,
            "seed": 5,
            "reference": "lead40",
            "metrics": [WAIT],
            "scenarios": [
                {"name": "lead40"},
                {"name": "lead60", "set": {"lead.capacity_hours_per_week": 60}},
                {"name": "lead34", "set": {"lead.capacity_hours_per_week": 34}},
            ],
        },
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("sensitivity")
    return experiment_file(folder), write(folder, "uncertain.yaml", UNCERTAIN)


def design_of(files, **changes):
    experiment_path, uncertain = files
    return load_sensitivity(load_experiment(experiment_path), uncertain, **changes)


@pytest.fixture(scope="module")
def study(files, tmp_path_factory):
    out = tmp_path_factory.mktemp("study") / "out"
    run = run_sensitivity(design_of(files), out, workers=2, progress=False)
    return run, analyse_sensitivity(run), out


def level(tables, metric: str, scenario: str = "lead40") -> pd.DataFrame:
    d = tables.drivers
    rows = d[(d["kind"] == "level") & (d["scenario"] == scenario) & (d["metric"] == metric)]
    return rows.set_index("assumption")


# ---------------------------------------------------------------- what the study finds
def test_switched_off_assumptions_have_exactly_no_effect(study):
    run, tables, _ = study
    for metric in UNCERTAIN["metrics"]:
        rows = level(tables, metric)
        assert rows.loc["resume_cost", "mu_star"] == 0
        assert rows.loc["call_hours", "mu_star"] == 0
        assert rows.loc["ticket_load", "mu_star"] > 0


def test_ticket_load_drives_ticket_wait_as_the_mm1_formula_says(study):
    """The simulated mu* of the ticket load is the formula's, at the same points."""
    run, tables, _ = study
    rows = level(tables, WAIT)
    assert rows["importance"].idxmax() == "ticket_load"
    assert rows.loc["ticket_load", "mu_star"] - rows.loc["ticket_load", "mu_star_conf"] > 0
    ref = run.design.experiment.scenario("lead40").params
    formula = np.array(
        [
            mm1_time_in_system_days(run.design.params(ref, values))
            for values in run.values.to_dict("records")
        ]
    )
    expected = indices(run.design, run.units, formula).set_index("assumption")
    assert expected.loc["ticket_load", "mu_star"] > 0.1  # days over the range: not a flat line
    assert rows.loc["ticket_load", "mu_star"] == pytest.approx(
        expected.loc["ticket_load", "mu_star"], rel=0.25
    )


def test_a_policy_that_only_helps_wins_everywhere_and_one_that_only_hurts_loses(study):
    _, tables, _ = study
    shares = tables.shares.set_index("policy")
    assert shares.loc["lead60", "wins"] == 1.0
    assert shares.loc["lead34", "loses"] == 1.0
    rules = tables.conditions.set_index("policy")
    assert rules.loc["lead60", "rule"] == "wins at every point sampled"
    # more capacity matters most where the queue is long: the load decides the effect
    effect = tables.drivers[(tables.drivers["kind"] == "effect")]
    lead60 = effect[effect["scenario"] == "lead60"].set_index("assumption")
    assert lead60["importance"].idxmax() == "ticket_load"


def test_runs_are_the_same_on_one_or_two_workers(files, tmp_path):
    design = design_of(files, samples=2)
    serial = run_sensitivity(design, None, workers=1, progress=False)
    parallel = run_sensitivity(design, tmp_path / "p", workers=2, progress=False)
    pd.testing.assert_frame_equal(serial.runs, parallel.runs)
    assert len(serial.runs) == 2 * 4 * 3 * 4  # points x scenarios x replications


def test_a_rerun_reuses_every_point_and_another_design_is_refused(study, files):
    run, _, out = study
    again = run_sensitivity(design_of(files), out, workers=1, progress=False)
    assert again.computed == 0 and again.reused == len(run.values)
    pd.testing.assert_frame_equal(again.runs, run.runs)
    with pytest.raises(ValueError, match="another sensitivity study"):
        run_sensitivity(design_of(files, replications=3), out, workers=1, progress=False)


@pytest.mark.slow
def test_a_killed_study_resumes_to_the_same_result(files, tmp_path):
    experiment_path, uncertain = files
    args = [
        str(Path(sys.executable).parent / "flowsim"),
        "sensitivity",
        str(experiment_path),
        "--over",
        str(uncertain),
        "--workers",
        "2",
        "--no-charts",
    ]
    whole = tmp_path / "whole"
    subprocess.run([*args, "--out", str(whole)], check=True, capture_output=True, cwd=ROOT)
    cut = tmp_path / "cut"
    proc = subprocess.Popen(
        [*args, "--out", str(cut)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while not (cut / "runs.parquet").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    stored = pd.read_parquet(cut / "runs.parquet")["point"].nunique()
    assert 0 < stored < 16, "the kill should land after the first batch and before the end"
    subprocess.run([*args, "--out", str(cut)], check=True, capture_output=True, cwd=ROOT)
    for name in ("runs.parquet", "drivers.csv", "verdicts.csv", "outcomes.csv"):
        read = pd.read_parquet if name.endswith(".parquet") else pd.read_csv
        pd.testing.assert_frame_equal(read(cut / name), read(whole / name), obj=name)


# ---------------------------------------------------------------- the pieces
def test_multiply_and_shortfall_scale_each_scenarios_own_value(files):
    experiment_path, _ = files
    data = {
        **UNCERTAIN,
        "assumptions": [
            {"name": "lead", "key": "lead.capacity_hours_per_week", "scale": "multiply"}
            | {"low": 0.5, "high": 1.5},
            {"name": "switching", "key": "context_switching.efficiency", "scale": "shortfall"}
            | {"low": 0.5, "high": 1.3},
        ],
    }
    design = load_sensitivity(
        load_experiment(experiment_path), write(experiment_path.parent, "scaled.yaml", data)
    )
    lead60 = design.experiment.scenario("lead60").params
    params = design.params(lead60, {"lead": 0.5, "switching": 0.5})
    assert params.lead.capacity_hours_per_week == 30  # the policy's own 60, halved
    assert params.context_switching.efficiency == pytest.approx([1.0, 0.9, 0.8, 0.7, 0.625])
    assert params.simulation.event_log is False


def test_conditions_read_the_region_where_a_policy_wins():
    rng = np.random.default_rng(3)
    x = pd.DataFrame({"calls": rng.uniform(0, 1, 200), "noise": rng.uniform(0, 1, 200)})
    table = x.assign(policy="p", metric="m", verdict=np.where(x["calls"] > 0.6, WINS, UNCALLED))
    rules = conditions(table, ["calls", "noise"])
    assert len(rules) == 1
    rule = rules.iloc[0]
    variable, sign, cut = rule["rule"].split()
    assert (variable, sign) == ("calls", ">") and float(cut) == pytest.approx(0.6, abs=0.01)
    assert rule["wins_in_rule"] == rule["points_in_rule"] == int((x["calls"] > 0.6).sum())
    shares = outcome_shares(table.assign(difference=1.0)).iloc[0]
    assert shares["wins"] == pytest.approx((x["calls"] > 0.6).mean())
    assert shares["loses"] == 0 and shares["loses_low"] == 0
    everywhere = conditions(table.assign(verdict=LOSES), ["calls", "noise"])
    assert everywhere.iloc[0]["rule"] == "wins at no point sampled"


def test_wilson_interval_matches_the_textbook():
    # Newcombe (1998), table I: 0/10 -> [0, 0.2775]; 81/263 -> [0.2553, 0.3662]
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson_interval(81, 263) == pytest.approx((0.2553, 0.3662), abs=1e-4)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"assumptions": [{"name": "a", "key": "lead.nope", "low": 0, "high": 1}] * 2}, "unique"),
        (
            {
                "assumptions": [
                    {"name": "a", "key": "lead.nope", "low": 0, "high": 1},
                    {"name": "b", "key": "status_calls.call_hours", "low": 0.5, "high": 1},
                ]
            },
            "'lead.nope' is not a key",
        ),
        ({"decide": {"no_such_metric": "higher"}}, "unknown metric 'no_such_metric'"),
        ({"method": "anova"}, "method"),
        ({"method": "sobol", "samples": 12}, "power of 2"),
        ({"method": "lhs", "samples": 20}, "at least 50"),
        (
            {
                "assumptions": [
                    {"name": "a", "key": "lead.capacity_hours_per_week", "low": 30, "high": 50},
                    {"name": "b", "key": "status_calls.call_hours", "low": 0.5, "high": 1},
                ]
            },
            "scenario 'lead60' changes lead.capacity_hours_per_week",
        ),
        (
            {
                "assumptions": [
                    {"name": "a", "key": "tickets.per_customer_per_week", "low": -5, "high": 5},
                    {"name": "b", "key": "status_calls.call_hours", "low": 0.5, "high": 1},
                ]
            },
            "cannot take a=-5",
        ),
        (
            {
                "assumptions": [
                    {"name": "a", "key": "tickets.classes", "scale": "multiply"}
                    | {"low": 1, "high": 2},
                    {"name": "b", "key": "status_calls.call_hours", "low": 0.5, "high": 1},
                ]
            },
            "expected a number or a list of numbers",
        ),
    ],
)
def test_a_bad_assumptions_file_names_what_is_wrong(files, tmp_path, change, message):
    experiment_path, uncertain = files
    bad = write(tmp_path, "bad.yaml", UNCERTAIN | change)
    with pytest.raises(ConfigError, match=message):
        load_sensitivity(load_experiment(experiment_path), bad)


def test_cli_sensitivity_prints_the_findings_and_bad_input_is_one_line(files, study, tmp_path):
    experiment_path, uncertain = files
    _, _, out = study
    args = ["sensitivity", str(experiment_path), "--over", str(uncertain), "--workers", "1"]
    result = CliRunner().invoke(main, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "16 points reused, 0 computed" in result.output
    assert "lead60" in result.output and "ticket_load" in result.output
    for name in ("sensitivity.md", "drivers.png", f"outcomes_{WAIT}.png", "manifest.json"):
        assert (out / name).is_file(), name
    bad = write(tmp_path, "bad.yaml", UNCERTAIN | {"decide": {"nope": "higher"}})
    result = CliRunner().invoke(main, ["sensitivity", str(experiment_path), "--over", str(bad)])
    assert result.exit_code == 2
    assert result.output.startswith("error: ") and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "path", sorted((ROOT / "experiments" / "sensitivity").glob("*.yaml")), ids=lambda p: p.stem
)
def test_shipped_study_is_valid_on_the_flagship(path):
    experiment = load_experiment(ROOT / "experiments" / "slow_down_to_speed_up.yaml")
    design = load_sensitivity(experiment, path)
    assert len(design.spec.assumptions) >= 6
    assert all(a.source for a in design.spec.assumptions)
    baseline = load_config(ROOT / "configs" / "baseline.yaml")
    assert design.params(baseline, {}).tickets == baseline.tickets


@pytest.mark.parametrize("method", ["sobol", "lhs"])
def test_sobol_and_lhs_rank_the_ticket_load_first(files, method):
    design = design_of(files, method=method, samples=16 if method == "sobol" else 50)
    run = run_sensitivity(design, None, workers=2, progress=False)
    rows = level(analyse_sensitivity(run), WAIT)
    assert rows["importance"].idxmax() == "ticket_load"
    if method == "sobol":  # the switched-off assumptions: exactly no variance explained
        assert rows.loc["resume_cost", "ST"] == 0 and rows.loc["call_hours", "S1"] == 0
        assert rows.loc["ticket_load", "ST"] > 0.5  # nothing else moves the wait
