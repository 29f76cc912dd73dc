"""``flowsim forecast`` and ``flowsim backtest`` as a user runs them, on the shipped samples.

Each bad input ends with exit status 2 and one line naming it, never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from flowsim.cli import main

ROOT = Path(__file__).resolve().parents[1]
BASELINE = str(ROOT / "configs" / "baseline.yaml")
ADVISOR = str(ROOT / "configs" / "policies" / "advisor.yaml")
STATE = """\
as_of: 2026-01-05
live: 18
onboarding:
  - customer: sycamore
    since: 2025-10-06
    tasks_done: 6
    open:
      - {id: OPS-1101, kind: task, created: 2025-12-01, started: true}
  - customer: yew
    age_days: 30
    tasks_done: 1
    tasks_left: 4
tickets:
  - {id: OPS-1120, class: urgent, customer: live_3, created: 2026-01-02T10:00:00Z}
  - {id: OPS-1121, class: normal, created: 2025-12-12}
"""


def invoke(args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def items(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "items.parquet"
    code, _, err = invoke(["import", str(ROOT / "examples/data/tracker.csv"), "--out", str(path)])
    assert code == 0, err
    return path


@pytest.fixture
def state(tmp_path: Path) -> Path:
    path = tmp_path / "state.yaml"
    path.write_text(STATE)
    return path


def test_a_forecast_side_by_side_with_a_policy(tmp_path: Path, state: Path) -> None:
    out = tmp_path / "fc"
    args = ["forecast", BASELINE, "--state", str(state), "--overlay", ADVISOR]
    args += ["--by", "2026-03-31", "--reps", "12", "--workers", "1", "--out", str(out)]
    code, stdout, err = invoke(args)
    assert code == 0, err
    assert "sycamore  baseline" in stdout and "advisor" in stdout
    assert "by 2026-03-31" in stdout
    for name in ("golive.csv", "items.csv", "counts.csv", "outcomes.parquet", "forecast.png"):
        assert (out / name).is_file(), name
    golive = pd.read_csv(out / "golive.csv")
    assert set(golive["name"]) == {"sycamore", "yew"}
    assert set(golive["scenario"]) == {"baseline", "advisor"}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["as_of"] == "2026-01-05" and manifest["replications"] == 12


def test_a_forecast_from_a_tracker_table_as_json(tmp_path: Path, items: Path) -> None:
    args = ["forecast", BASELINE, "--state", str(items), "--reps", "6", "--workers", "1"]
    args += ["--out", str(tmp_path / "fc"), "--json", "--no-charts"]
    code, stdout, err = invoke(args)
    assert code == 0, err
    doc = json.loads(stdout)
    assert doc["as_of"] == "2026-01-05"  # the working day after the table's last time
    assert {r["name"] for r in doc["golive"]} == {"sycamore", "yew"}


def test_a_backtest_with_a_given_config(tmp_path: Path, items: Path) -> None:
    out = tmp_path / "bt"
    args = ["backtest", str(items), "--cutoff", "2025-09-01", "--config", BASELINE]
    args += ["--reps", "12", "--workers", "1", "--out", str(out)]
    code, stdout, err = invoke(args)
    assert code == 0, err
    assert "| tickets closed per week |" in stdout
    for name in ("backtest.md", "weekly.csv", "items.csv", "calibration.csv", "backtest.png"):
        assert (out / name).is_file(), name
    weekly = pd.read_csv(out / "weekly.csv")
    assert len(weekly) == 18  # whole working weeks from the cutoff to the data's end
    calibration = pd.read_csv(out / "calibration.csv")
    assert set(calibration["interval"]) == {"50%", "85%"}
    assert (calibration["inside"] <= calibration["scored"]).all()


def test_a_backtest_that_fits_first(tmp_path: Path, items: Path) -> None:
    out = tmp_path / "bt"
    args = ["backtest", str(items), "--cutoff", "2025-09-01", "--budget", "8"]
    args += ["--reps", "8", "--workers", "1", "--out", str(out), "-q"]
    code, stdout, err = invoke(args)
    assert code == 0, err
    assert stdout == ""
    company = (out / "company.yaml").read_text()
    assert "name: fitted" in company
    assert (out / "fit" / "report.md").is_file()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["fitted"] is True


BAD = {
    "no state file": (["--state", "nope.yaml"], "nope.yaml"),
    "a bad date": (["--state", "{state}", "--by", "31/03/2026"], "--by: expected a date"),
    "by before the state": (["--state", "{state}", "--by", "2025-01-01"], "before the state's"),
    "at with a state file": (["--state", "{state}", "--at", "2026-01-01"], "--at applies"),
    "no such overlay": (["--state", "{state}", "--overlay", "nope.yaml"], "nope.yaml"),
    "by past the weeks": (
        ["--state", "{state}", "--by", "2027-06-01", "--weeks", "4"],
        "past the 4 weeks",
    ),
    "an unknown class": (
        [
            "--state",
            "{state}",
            "--set",
            "tickets.classes={{normal: {{share: 1, effort: "
            "{{kind: constant, value: 1}}, target_days: 5}}}}",
        ],
        "class 'urgent' is not one of the config's ticket classes",
    ),
    "at before the data": (["--state", "{items}", "--at", "2020-01-01"], "before the first item"),
}


@pytest.mark.parametrize(("args", "says"), BAD.values(), ids=BAD.keys())
def test_bad_forecast_input_is_one_line(
    tmp_path: Path, state: Path, items: Path, args: list[str], says: str
) -> None:
    filled = [a.format(state=state, items=items) for a in args]
    out = tmp_path / "fc"
    code, stdout, err = invoke(["forecast", BASELINE, *filled, "--reps", "2", "--out", str(out)])
    assert code == 2, (stdout, err)
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert says in err, err
    assert "Traceback" not in err


BAD_BACKTEST = {
    "no such table": (["nope.parquet", "--cutoff", "2025-09-01"], "nope.parquet"),
    "a bad cutoff": (["{items}", "--cutoff", "next week"], "--cutoff: expected a date"),
    "before the data": (["{items}", "--cutoff", "2024-01-01"], "no work item was created"),
    "at the end": (["{items}", "--cutoff", "2026-01-02"], "less than a working week"),
    "base and config": (
        ["{items}", "--cutoff", "2025-09-01", "--base", BASELINE, "--config", BASELINE],
        "not both",
    ),
}


@pytest.mark.parametrize(("args", "says"), BAD_BACKTEST.values(), ids=BAD_BACKTEST.keys())
def test_bad_backtest_input_is_one_line(
    tmp_path: Path, items: Path, args: list[str], says: str
) -> None:
    filled = [a.format(items=items) for a in args]
    out = tmp_path / "bt"
    code, stdout, err = invoke(
        ["backtest", *filled, "--config", BASELINE, "--out", str(out)]
        if "--config" not in filled and "--base" not in filled
        else ["backtest", *filled, "--out", str(out)]
    )
    assert code == 2, (stdout, err)
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert says in err, err
