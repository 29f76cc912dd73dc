"""``flowsim run``: the table a user reads and the results folder they keep."""

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import reduced_params
from flowsim.cli import main
from flowsim.config import config_hash, dump_yaml, load_config

ROOT = Path(__file__).resolve().parents[1]
BASELINE = str(ROOT / "configs" / "baseline.yaml")
MISSING_OVERLAY = str(ROOT / "configs" / "policies" / "nope.yaml")
SHORT = ["--set", "simulation.horizon_weeks=12", "--set", "simulation.warmup_weeks=2"]
# MODEL.md's starting table for the six numbers the baseline fits to the story: a
# workload about twice the lead's capacity, whose open work piles up from the start.
OVERLOADED = [
    arg
    for setting in (
        "sales.new_customers_per_month=2",
        "onboarding.task_effort.mean=12",
        "onboarding.lead_share=0.6",
        "tickets.per_customer_per_week=1",
        "status_calls.call_hours=1",
        "churn.monthly_hazard=0.01",
    )
    for arg in ("--set", setting)
]


@pytest.fixture
def runner():
    return CliRunner()


def test_run_prints_table_and_writes_complete_results(runner, tmp_path):
    out = tmp_path / "res"
    result = runner.invoke(
        main, ["run", BASELINE, *SHORT, "--reps", "3", "--seed", "5", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "mean over 3 replications" in result.output
    assert "lead hours on calls" in result.output
    for name in (
        "events.parquet",
        "timeseries.parquet",
        "customers.parquet",
        "summary.parquet",
        "summary.csv",
        "summary_stats.csv",
        "config.yaml",
        "manifest.json",
    ):
        assert (out / name).is_file(), name
    assert not list(out.glob("*.tmp")), "temporary files left behind"
    manifest = json.loads((out / "manifest.json").read_text())
    params = load_config(BASELINE, sets=SHORT[1::2])
    assert manifest["config_hash"] == config_hash(params)
    assert manifest["seed"] == 5 and manifest["replications"] == 3
    assert manifest["flowsim_version"]
    per_rep = pd.read_parquet(out / "summary.parquet")
    assert list(per_rep["replication"]) == [0, 1, 2]
    events = pd.read_parquet(out / "events.parquet")
    assert set(events["replication"]) == {0, 1, 2}
    # The resolved config written beside the results loads back to the same parameters.
    assert config_hash(load_config(out / "config.yaml")) == config_hash(params)


def test_same_seed_same_results_folder(runner, tmp_path):
    outs = [tmp_path / "a", tmp_path / "b"]
    for out in outs:
        result = runner.invoke(main, ["run", BASELINE, *SHORT, "--reps", "2", "--out", str(out)])
        assert result.exit_code == 0, result.output
    a, b = (pd.read_parquet(o / "events.parquet") for o in outs)
    pd.testing.assert_frame_equal(a, b)


def test_no_events_skips_the_log(runner, tmp_path):
    out = tmp_path / "res"
    result = runner.invoke(main, ["run", BASELINE, *SHORT, "--no-events", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert not (out / "events.parquet").exists()
    assert (out / "summary.csv").is_file()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run", "missing.yaml"], "no such config file"),
        (["run", BASELINE, "--set", "lead.nope=1"], "nope"),
        (["run", BASELINE, "--set", "sales.new_customers_per_month=-1"], ">= 0"),
        (["run", BASELINE, "--set", "simulation.warmup_weeks=200"], "shorter than"),
        (["run", BASELINE, "--set", "lead.prioritisation.policy=random"], "expected one of"),
        (
            ["run", BASELINE, "--overlay", MISSING_OVERLAY],
            "nope.yaml",
        ),
        (["run", BASELINE, "--reps", "0"], "0"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_no_traceback(runner, args, expected):
    result = runner.invoke(main, args)
    assert result.exit_code == 2
    assert expected in result.output
    assert "Traceback" not in result.output


# ---------------------------------------------------------------- did the run settle?
def horizon_marked(output: str, meaning: str) -> bool:
    """Whether the table line of ``meaning`` carries the † after its mean."""
    line = next(ln for ln in output.splitlines() if ln.strip().startswith(meaning))
    return "\u2020" in line


def test_an_unstable_run_says_so_and_marks_averages_that_depend_on_the_horizon(runner, tmp_path):
    """The company with MODEL.md's starting table (about twice the lead's capacity), over
    30 weeks: open work piles up in every replication.  The line after the table says so
    with the growth and its CI, the averages that presume a steady state are marked †,
    the others are not, and summary_stats.csv gains nothing."""
    out = tmp_path / "res"
    args = ["run", BASELINE, *OVERLOADED, "--set", "simulation.horizon_weeks=30", "--reps", "3"]
    result = runner.invoke(main, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    per_rep = pd.read_csv(out / "summary.csv")
    assert (per_rep["unstable"] == 1).all(), "the premise: the overloaded company does not settle"
    found = re.search(
        r"^unstable: 3 of 3 replications \(open work grows ([\d.]+) \[([\d.]+), ([\d.]+)\] "
        r"items a week; averages marked \u2020 depend on the horizon\)$",
        result.output,
        re.MULTILINE,
    )
    assert found, result.output
    mean = per_rep["open_work_trend_per_week"].mean()
    assert float(found[1]) == pytest.approx(mean, abs=0.06)
    assert float(found[2]) < mean < float(found[3])
    assert horizon_marked(result.output, "age of onboardings still open at the horizon")
    assert horizon_marked(result.output, "normal ticket resolution time, mean")
    assert not horizon_marked(result.output, "tickets resolved per week")
    assert not horizon_marked(result.output, "lead hours on calls")
    # Lead times with no go-live are n/a: nothing to mark.
    assert not horizon_marked(result.output, "onboarding start to go-live, median")
    stats = pd.read_csv(out / "summary_stats.csv")
    assert list(stats.columns) == ["metric", "mean", "ci_low", "ci_high", "half_width", "n"]


def test_a_settled_run_says_settled_and_marks_nothing(runner, tmp_path):
    """Every mechanism off and the lead half busy with tickets: the queue settles."""
    config = tmp_path / "light.yaml"
    params = reduced_params(tickets_per_week=20, horizon_weeks=40, warmup_weeks=4)
    config.write_text(dump_yaml(params), encoding="utf-8")
    out = tmp_path / "res"
    result = runner.invoke(main, ["run", str(config), "--reps", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (pd.read_csv(out / "summary.csv")["unstable"] == 0).all()
    assert "\nsettled: 0 of 3 replications unstable\n" in result.output
    assert "\u2020" not in result.output and "unstable:" not in result.output


@pytest.mark.parametrize("where", ["group", "command"])
def test_verbose_says_what_is_done_and_quiet_runs_say_nothing(runner, tmp_path, where):
    args = ["run", BASELINE, *SHORT, "--reps", "2", "--out", str(tmp_path / "r"), "-q"]
    args = ["-v", *args] if where == "group" else [*args, "--verbose"]
    result = runner.invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("flowsim: ")]
    assert any(f"config {BASELINE}" in line and "hash" in line for line in lines), lines
    assert any("2 replication(s)" in line for line in lines), lines
    assert any("wrote" in line for line in lines), lines
    # The next command, without -v, logs nothing.
    again = runner.invoke(main, args[1:] if where == "group" else args[:-1] + ["--force"])
    assert "flowsim: " not in again.stderr
