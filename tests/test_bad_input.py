"""Bad input gets one clear line and exit 2, never a traceback, a hang or a write
outside ``--out``; and the odd-but-valid inputs (one scenario, one sweep value) just
work.

Each case runs the real command line and checks that the files already in the
results folder are untouched.
"""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from flowsim.cli import main
from flowsim.stats import paired_differences, scenario_table

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "configs" / "baseline.yaml"
SHORT = ("--set", "simulation.horizon_weeks=10", "--set", "simulation.warmup_weeks=1")


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` but a study's lock (which holds no results)."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file() and p.name != ".lock"
    }


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """A results folder holding earlier results that no failed command may touch."""
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "earlier.csv").write_text("metric,mean\ngo_lives,3\n", encoding="utf-8")
    return folder


def refused(args: list[str], out: Path, cwd: Path, expect: str) -> None:
    """The command exits 2 with one line naming the problem, and changes nothing."""
    before, around = snapshot(out), snapshot(cwd)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error: "), lines
    assert expect in lines[0], lines[0]
    assert "Traceback" not in result.output
    assert snapshot(out) == before
    assert snapshot(cwd) == around


# ---------------------------------------------------------------- numbers
NUMBERS = {
    "infinite horizon": ("simulation.horizon_weeks=.inf", "<= 52000, got inf"),
    "horizon beyond a float": ("simulation.horizon_weeks=1e400", "simulation.horizon_weeks"),
    "horizon of millennia": ("simulation.horizon_weeks=10000000", "<= 52000"),
    "infinite ticket rate": ("tickets.per_customer_per_week=.inf", "got inf"),
    "nan ticket rate": ("tickets.per_customer_per_week=.nan", "got nan"),
    "a million sales a month": ("sales.new_customers_per_month=1e6", "max_work_items"),
    "a million tickets a week": ("tickets.per_customer_per_week=1e6", "max_work_items"),
    "infinite pings": ("interrupts.direct_access.pings_per_week=.inf", "got inf"),
    "a million pings": ("interrupts.direct_access.pings_per_week=1e7", "max_work_items"),
    "nan effort": ("onboarding.task_effort.mean=.nan", "got nan"),
    "infinite effort": ("onboarding.task_effort.mean=.inf", "got inf"),
    "nan in a list": ("context_switching.efficiency=[1, .nan]", "efficiency.1"),
    "negative infinity": ("churn.monthly_hazard=-.inf", "churn.monthly_hazard"),
    "infinite warm-up": ("simulation.warmup_weeks=.inf", "simulation.warmup_weeks"),
    "nan hours a day": ("simulation.hours_per_day=.nan", "got nan"),
    "infinite call": ("status_calls.call_hours=.inf", "got inf"),
}


@pytest.mark.parametrize("setting, expect", NUMBERS.values(), ids=NUMBERS.keys())
def test_numbers_must_be_finite_and_within_their_limits(setting, expect, out, tmp_path):
    args = ["run", str(BASELINE), "--reps", "2", "--out", str(out), "--set", setting]
    refused(args, out, tmp_path, expect)


def test_a_large_company_runs_when_its_limit_is_raised_knowingly():
    from flowsim.config import load_config

    sets = ("tickets.per_customer_per_week=1000",)
    with pytest.raises(Exception, match="max_work_items"):
        load_config(BASELINE, sets=sets)
    params = load_config(BASELINE, sets=(*sets, "simulation.max_work_items=10000000"))
    assert params.expected_work_items() > 1_000_000


# ---------------------------------------------------------------- YAML
def billion_laughs() -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    previous = "a"
    for name in "bcdefghi":
        lines.append(f"{name}: &{name} [{', '.join(['*' + previous] * 9)}]")
        previous = name
    return "\n".join(lines) + "\n"


YAML = {
    "alias bomb": (billion_laughs(), "aliases"),
    "deep lists": ("a: " + "[" * 5000 + "]" * 5000 + "\n", "nested deeper than 50"),
    "deep mappings": (
        "a:\n" + "".join("  " * i + "b:\n" for i in range(1, 3000)),
        "nested deeper than 50",
    ),
    "deep flow mappings": ("a: " + "{b: " * 2000 + "1" + "}" * 2000 + "\n", "nested deeper"),
    "not a mapping": ("- 1\n- 2\n", "expected a mapping"),
    "a tab": ("lead:\n\twip_limit: 3\n", "invalid YAML"),
    "duplicate key": ("name: a\nname: b\n", "duplicate key"),
    "alias to itself": ("a: &a [*a]\n", "alias"),
    "unclosed bracket": ("lead: {wip_limit: 3\n", "invalid YAML"),
    "binary": ("\udcff", "not a UTF-8 text file"),
    "impossible date": ("name: 2025-13-01\n", "'2025-13-01' is not a valid date or time"),
}


@pytest.mark.parametrize("text, expect", YAML.values(), ids=YAML.keys())
def test_hostile_or_broken_yaml_is_one_line(text, expect, out, tmp_path):
    config = tmp_path / "company.yaml"
    config.write_bytes(text.encode("utf-8", "surrogateescape"))
    refused(["run", str(config), "--reps", "2", "--out", str(out)], out, out, expect)


def test_a_deep_set_value_is_refused(out, tmp_path):
    deep = "[" * 3000 + "]" * 3000
    args = ["run", str(BASELINE), "--reps", "2", "--out", str(out), "--set", f"lead.x={deep}"]
    refused(args, out, tmp_path, "nested deeper than 50")


# ---------------------------------------------------------------- names are not paths
NAMES = {
    "parent": "..",
    "current": ".",
    "hidden": ".cache",
    "relative path": "a/b",
    "climbing path": "../../configs/baseline",
    "absolute path": "/tmp/x",
    "backslash": "a\\b",
    "drive": "C:x",
    "empty": "''",
    "too long": "x" * 101,
}


@pytest.mark.parametrize("name", NAMES.values(), ids=NAMES.keys())
def test_a_config_name_is_never_a_path(name, tmp_path, monkeypatch):
    """``flowsim run`` writes ``results/<name>/`` by default: a name that is a path
    would write anywhere."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "results").mkdir()
    refused(
        ["run", str(BASELINE), "--reps", "2", *SHORT, "--set", f"name={name}"],
        tmp_path / "results",
        tmp_path,
        "name",
    )


def experiment(name: str, scenario: str = "baseline", sweep: str = "wip") -> str:
    return textwrap.dedent(
        f"""\
        name: {name!r}
        base: {BASELINE}
        replications: 2
        horizon_weeks: 10
        warmup_weeks: 1
        scenarios:
          - name: {scenario!r}
        sweeps:
          - name: {sweep!r}
            grid: {{lead.wip_limit: [2, 3]}}
        """
    )


SPEC_NAMES = {
    "experiment named ..": {"name": ".."},
    "experiment named a path": {"name": "../configs"},
    "experiment named absolute": {"name": "/tmp"},
    "scenario named ..": {"name": "ok", "scenario": ".."},
    "scenario named a path": {"name": "ok", "scenario": "../../configs/baseline"},
    "sweep named a path": {"name": "ok", "sweep": "a/b"},
    "sweep named hidden": {"name": "ok", "sweep": ".w"},
}


@pytest.mark.parametrize("names", SPEC_NAMES.values(), ids=SPEC_NAMES.keys())
def test_experiment_and_scenario_names_are_never_paths(names, tmp_path, monkeypatch):
    """The case that once overwrote ``configs/baseline.yaml``: an experiment named
    ``..`` with a scenario named ``baseline`` wrote into the working directory."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "baseline.yaml").write_text("name: mine\n", encoding="utf-8")
    spec = tmp_path / "study.yaml"
    spec.write_text(experiment(**names), encoding="utf-8")
    refused(["experiment", str(spec)], tmp_path / "configs", tmp_path, "name")


# ---------------------------------------------------------------- odd but valid
def test_a_one_scenario_experiment_writes_its_table_and_report(tmp_path):
    spec = tmp_path / "one.yaml"
    text = experiment("one").split("sweeps:")[0]
    spec.write_text(text, encoding="utf-8")
    out = tmp_path / "one"
    result = CliRunner().invoke(main, ["experiment", str(spec), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "report.html").stat().st_size > 0
    assert pd.read_csv(out / "differences.csv").empty
    again = CliRunner().invoke(main, ["report", str(out), "--markdown"])
    assert again.exit_code == 0, again.output
    assert "`baseline`" in again.output


def test_a_one_value_sweep_just_works(tmp_path):
    out = tmp_path / "sweep"
    args = ["sweep", str(BASELINE), "--param", "lead.wip_limit=3", "--reps", "2", *SHORT]
    result = CliRunner().invoke(main, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "report.html").exists()


# ---------------------------------------------------------------- honest intervals
def test_intervals_of_counts_and_shares_stay_within_their_range():
    per_rep = pd.DataFrame(
        {
            "scenario": ["a"] * 3,
            "replication": [0, 1, 2],
            "go_lives": [0.0, 0.0, 9.0],
            "promises_kept_share": [0.0, 1.0, 1.0],
            "open_work_trend_per_week": [-3.0, 0.0, 3.0],
        }
    )
    table = scenario_table(
        per_rep, ["go_lives", "promises_kept_share", "open_work_trend_per_week"]
    ).set_index("metric")
    assert table.loc["go_lives", "ci_low"] == 0.0
    assert table.loc["promises_kept_share", "ci_low"] == 0.0
    assert table.loc["promises_kept_share", "ci_high"] == 1.0
    # A trend takes either sign: not clipped; the half-width is always the t-interval's.
    assert table.loc["open_work_trend_per_week", "ci_low"] < 0
    half = table.loc["go_lives", "half_width"]
    assert math.isclose(table.loc["go_lives", "mean"] + half, table.loc["go_lives", "ci_high"])


def test_a_reference_without_a_value_is_named_as_the_cause():
    per_rep = pd.DataFrame(
        {
            "scenario": ["ref"] * 3 + ["b"] * 3,
            "replication": [0, 1, 2] * 2,
            "onboarding_lead_time_p85_days": [np.nan] * 3 + [10.0, 12.0, 11.0],
        }
    )
    diff = paired_differences(per_rep, "ref", ["onboarding_lead_time_p85_days"])
    assert diff["verdict"].tolist() == ["no value in the reference"]


# ---------------------------------------------------------------- results are not replaced
def test_a_run_never_replaces_other_results_without_force(tmp_path):
    out = tmp_path / "results"
    first = ["run", str(BASELINE), "--reps", "2", *SHORT, "--out", str(out)]
    assert CliRunner().invoke(main, first).exit_code == 0
    # The same run again refreshes it; more replications of it extend it.
    assert CliRunner().invoke(main, first).exit_code == 0
    assert CliRunner().invoke(main, [*first[:3], "3", *first[4:]]).exit_code == 0
    other = [*first, "--set", "tickets.per_customer_per_week=0.5"]
    refused(other, out, tmp_path, "holds the results of another run")
    study = tmp_path / "one.yaml"
    study.write_text(experiment("one").split("sweeps:")[0], encoding="utf-8")
    refused(["experiment", str(study), "--out", str(out)], out, tmp_path, "another run")
    forced = CliRunner().invoke(main, [*other, "--force"])
    assert forced.exit_code == 0, forced.output
    assert "0.5" in (out / "config.yaml").read_text(encoding="utf-8")


def test_a_folder_of_other_files_is_not_written_into(out, tmp_path):
    args = ["run", str(BASELINE), "--reps", "2", *SHORT, "--out", str(out)]
    refused(args, out, tmp_path, "holds no flowsim results")
    afile = tmp_path / "afile"
    afile.write_text("keep me\n", encoding="utf-8")
    refused([*args[:-1], str(afile / "sub")], out, tmp_path, "is a file")


def test_an_interrupted_study_resumes_into_its_folder(tmp_path):
    spec = tmp_path / "one.yaml"
    spec.write_text(experiment("one").split("sweeps:")[0], encoding="utf-8")
    out = tmp_path / "one"
    (out / "replications").mkdir(parents=True)  # what an interrupted study leaves,
    (out / "scenarios.csv").write_text("scenario\n", encoding="utf-8")  # before its manifest
    result = CliRunner().invoke(main, ["experiment", str(spec), "--out", str(out)])
    assert result.exit_code == 0, result.output
    again = CliRunner().invoke(main, ["experiment", str(spec), "--out", str(out)])
    assert again.exit_code == 0 and "2 replications reused" in again.output, again.output


def test_more_workers_than_cores_gets_a_warning(tmp_path, monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    spec = tmp_path / "one.yaml"
    spec.write_text(experiment("one").split("sweeps:")[0], encoding="utf-8")
    args = ["experiment", str(spec), "--out", str(tmp_path / "o"), "--workers", "3"]
    result = CliRunner().invoke(main, [*args, "--no-report"])
    assert result.exit_code == 0, result.output
    assert "warning: --workers 3 on 2 cores" in result.stderr


def test_replications_stored_by_another_flowsim_version_are_recomputed(tmp_path):
    spec = tmp_path / "one.yaml"
    spec.write_text(experiment("one").split("sweeps:")[0], encoding="utf-8")
    out = tmp_path / "o"
    args = ["experiment", str(spec), "--out", str(out), "--no-report", "--workers", "1"]
    assert CliRunner().invoke(main, args).exit_code == 0
    for summary in (out / "replications").rglob("rep-*.json"):
        record = json.loads(summary.read_text(encoding="utf-8"))
        summary.write_text(json.dumps({**record, "flowsim_version": "0.0.1"}), encoding="utf-8")
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 0
    assert "0 replications reused, 2 computed" in again.output, again.output


def test_one_replication_is_singular_and_a_zero_reference_has_no_relative_change(tmp_path):
    result = CliRunner().invoke(
        main, ["run", str(BASELINE), "--reps", "1", *SHORT, "--out", str(tmp_path / "r")]
    )
    assert result.exit_code == 0, result.output
    assert "mean over 1 replication;" in result.output
    spec = tmp_path / "two.yaml"
    spec.write_text(
        experiment("two", sweep="wip").replace("lead.wip_limit: [2, 3]", "intake.limit: [1]")
        + "metrics: [lost_deals]\n",
        encoding="utf-8",
    )
    spec.write_text(
        spec.read_text(encoding="utf-8").replace(
            "grid:", "set: {intake.policy: wip_limit}\n    grid:"
        ),
        encoding="utf-8",
    )
    study = CliRunner().invoke(main, ["experiment", str(spec), "--out", str(tmp_path / "s")])
    assert study.exit_code == 0, study.output
    line = next(x for x in study.output.splitlines() if x.strip().startswith("wip[limit=1]"))
    assert "n/a" in line and "999" not in line, line


@pytest.mark.parametrize("command", [[], *[[name] for name in main.commands]])
def test_dash_h_is_help_everywhere(command):
    result = CliRunner().invoke(main, [*command, "-h"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Usage: ")


def test_init_writes_a_commented_config_that_loads_and_never_overwrites(tmp_path, monkeypatch):
    from flowsim.config import load_config
    from flowsim.model.params import Params

    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["init"])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "company.yaml").read_text(encoding="utf-8")
    assert "# Hours he works per week" in text
    loaded = load_config(tmp_path / "company.yaml")
    assert loaded.model_copy(update={"name": "baseline"}) == Params()
    refused(["init"], tmp_path, tmp_path, "exists")
    assert CliRunner().invoke(main, ["init", "--force"]).exit_code == 0


def test_a_config_from_standard_input(tmp_path):
    text = BASELINE.read_text(encoding="utf-8")
    out = tmp_path / "r"
    args = ["run", "-", "--reps", "2", *SHORT, "--out", str(out)]
    result = CliRunner().invoke(main, args, input=text)
    assert result.exit_code == 0, result.output
    bad = CliRunner().invoke(main, ["validate", "-"], input="lead: {wip_limit: -1}\n")
    assert bad.exit_code == 2
    assert bad.output.strip() == (
        "error: <stdin>:1: lead.wip_limit: expected an integer >= 1 or null, got -1"
    )


def test_json_and_quiet_output(tmp_path):
    args = ["run", str(BASELINE), "--reps", "2", *SHORT]
    result = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "r"), "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["replications"] == 2
    go_lives = next(row for row in document["summary"] if row["metric"] == "go_lives")
    assert go_lives["ci_low"] <= go_lives["mean"] <= go_lives["ci_high"]
    spec = tmp_path / "s.yaml"
    spec.write_text(experiment("s"), encoding="utf-8")
    study = ["experiment", str(spec), "--no-report", "--workers", "1"]
    result = CliRunner().invoke(main, [*study, "--out", str(tmp_path / "s"), "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["reference"] == "baseline" and document["computed"] == 6
    assert {row["scenario"] for row in document["differences"]} == {
        "wip[wip_limit=2]",
        "wip[wip_limit=3]",
    }
    quiet = CliRunner().invoke(main, [*study, "--out", str(tmp_path / "q"), "-q"])
    assert quiet.exit_code == 0 and quiet.stdout == "", quiet.stdout


@pytest.mark.parametrize(
    "address, expect",
    [("not an address", "--scheduler 'not an address'"), ("tcp://127.0.0.1:1", "cannot reach")],
)
def test_a_wrong_scheduler_is_one_line(address, expect, tmp_path, monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setattr("flowsim.runner.SCHEDULER_TIMEOUT", 1)
    spec = tmp_path / "one.yaml"
    spec.write_text(experiment("one").split("sweeps:")[0], encoding="utf-8")
    out = tmp_path / "o"
    out.mkdir()
    args = ["experiment", str(spec), "--out", str(out), "--scheduler", address, "--no-report"]
    refused(args, out, tmp_path, expect)


# ---------------------------------------------------------------- every kind claims its folder
CALIBRATION = ROOT / "configs" / "calibration"


def _a_run(folder: Path) -> None:
    args = ["run", str(BASELINE), "--reps", "2", *SHORT, "--out", str(folder)]
    assert CliRunner().invoke(main, args).exit_code == 0


OTHER_KINDS = {
    "calibrate": [
        "calibrate",
        str(BASELINE),
        "--targets",
        str(CALIBRATION / "story_targets.yaml"),
        "--free",
        str(CALIBRATION / "story_free.yaml"),
        "--budget",
        "1",
        "--out",
    ],
    "sensitivity": [
        "sensitivity",
        str(ROOT / "experiments" / "slow_down_to_speed_up.yaml"),
        "--over",
        str(ROOT / "experiments" / "sensitivity" / "story_uncertainties.yaml"),
        "--out",
    ],
    "forecast": ["forecast", str(BASELINE), "--state", "{state}", "--reps", "2", "--out"],
}


@pytest.mark.parametrize("args", OTHER_KINDS.values(), ids=OTHER_KINDS.keys())
def test_no_kind_of_results_is_written_over_another(tmp_path, args):
    """Calibrations, sensitivity analyses and forecasts claim their --out as runs and
    studies do: a folder of a run's results is refused, and so is one of other files."""
    state = tmp_path / "state.yaml"
    state.write_text("as_of: 2026-01-05\nlive: 3\n", encoding="utf-8")
    filled = [a.format(state=state) for a in args]
    run = tmp_path / "run"
    _a_run(run)
    refused([*filled, str(run)], run, tmp_path, "holds the results of another run")
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine\n", encoding="utf-8")
    refused([*filled, str(other)], other, tmp_path, "holds no flowsim results")


def test_fit_never_writes_over_a_config_it_did_not_write(tmp_path):
    hand = tmp_path / "company.yaml"
    hand.write_text("name: mine\n", encoding="utf-8")
    items = tmp_path / "items.csv"
    assert (
        CliRunner()
        .invoke(main, ["import", str(ROOT / "examples/data/tracker.csv"), "--out", str(items)])
        .exit_code
        == 0
    )
    refused(
        ["fit", str(items), "--out", str(hand)],
        tmp_path / "none",
        tmp_path,
        "is a config flowsim fit did not write",
    )


def test_a_forecast_refuses_the_folder_of_another_forecast(tmp_path):
    state = tmp_path / "state.yaml"
    state.write_text("as_of: 2026-01-05\nlive: 3\n", encoding="utf-8")
    other = tmp_path / "other.yaml"
    other.write_text("as_of: 2026-01-05\nlive: 4\n", encoding="utf-8")
    out = tmp_path / "fc"
    base = ["forecast", str(BASELINE), "--reps", "2", "--workers", "1", "--out", str(out)]
    assert CliRunner().invoke(main, [*base, "--state", str(state)]).exit_code == 0
    assert CliRunner().invoke(main, [*base, "--state", str(state)]).exit_code == 0  # refreshed
    refused([*base, "--state", str(other)], out, tmp_path, "flowsim forecast")
    assert CliRunner().invoke(main, [*base, "--state", str(other), "--force"]).exit_code == 0
