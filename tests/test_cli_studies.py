"""``flowsim experiment``, ``compare`` and ``sweep``: the table a user reads and the folder
they keep.

A study's results folder must be enough to read, check and reproduce it: the
per-replication rows, the summary and paired-difference tables, the daily time
series, each scenario's resolved config and a manifest with the root seed, the
replications, and every scenario's config hash and resolved config.  Bad input is
one ``error:`` line and exit status 2, never a traceback, and nothing is run.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner, Result

from conftest import write_mixed_study, write_small_study
from flowsim import __version__
from flowsim.cli import main
from flowsim.config import config_hash, load_config
from flowsim.model.catalogue import presumes_steady_state
from flowsim.stats import DIFFERENCE_COLUMNS, mser5

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"
BASELINE = str(CONFIGS / "baseline.yaml")
ADVISOR = str(CONFIGS / "policies" / "advisor.yaml")
CALLS = str(CONFIGS / "policies" / "calls_without_lead.yaml")
SHORT = ["--set", "simulation.horizon_weeks=8", "--set", "simulation.warmup_weeks=1"]
FILES = (
    "per_replication.parquet",
    "per_replication.csv",
    "scenarios.csv",
    "differences.csv",
    "timeseries.parquet",
    "manifest.json",
)

NAMES = ["baseline", "advisor", "wip[limit=1]"]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def study(tmp_path: Path) -> Path:
    return write_small_study(tmp_path)


def counts(result: Result) -> tuple[int, int]:
    """The ``N replications reused, M computed`` line of a study's output."""
    found = re.search(r"(\d+) replications reused, (\d+) computed", result.output)
    assert found, result.output
    return int(found[1]), int(found[2])


def check_folder(out: Path, names: list[str], reps: int, seed: int, reference: str) -> dict:
    """Check a study's results folder and return its manifest."""
    for name in FILES:
        assert (out / name).is_file(), name
    assert not list(out.rglob("*.tmp")), "temporary files left behind"

    per_rep = pd.read_parquet(out / "per_replication.parquet")
    pd.testing.assert_frame_equal(
        per_rep, pd.read_csv(out / "per_replication.csv"), check_dtype=False
    )
    assert list(per_rep["scenario"]) == [n for n in names for _ in range(reps)]
    assert list(per_rep["replication"]) == list(range(reps)) * len(names)

    scenarios = pd.read_csv(out / "scenarios.csv")
    assert list(scenarios["scenario"].unique()) == names
    assert {"metric", "mean", "ci_low", "ci_high", "half_width", "n"} <= set(scenarios)
    assert (scenarios["n"] <= reps).all()

    differences = pd.read_csv(out / "differences.csv")
    assert set(differences["scenario"]) == set(names) - {reference}
    assert (differences["reference"] == reference).all()
    assert list(differences) == DIFFERENCE_COLUMNS

    series = pd.read_parquet(out / "timeseries.parquet")
    assert list(series["scenario"].unique()) == names
    assert set(series["replication"]) == set(range(reps))

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["flowsim_version"] == __version__
    assert manifest["seed"] == seed and manifest["replications"] == reps
    assert manifest["reference"] == reference
    assert [s["name"] for s in manifest["scenarios"]] == names
    for entry in manifest["scenarios"]:
        # The resolved config written beside the results loads back to the same hash,
        # and the manifest records that hash and the resolved config itself.
        params = load_config(out / "configs" / f"{entry['name']}.yaml")
        assert config_hash(params) == entry["config_hash"]
        assert entry["resolved_config"] == params.model_dump(mode="json", by_alias=True)
    assert manifest["environment"]["flowsim"] == __version__
    return manifest


# ---------------------------------------------------------------- experiment
def test_experiment_prints_table_and_writes_complete_folder(runner, study, tmp_path):
    """``flowsim experiment FILE`` prints one block per metric with every scenario and
    the paired comparison, and writes the whole results folder."""
    out = tmp_path / "out"
    result = runner.invoke(main, ["experiment", str(study), "--out", str(out), "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert "small: three scenarios for the study tests" in result.output
    assert "mean over 3 replications" in result.output
    assert "paired by replication" in result.output
    for name in NAMES:
        assert f"  {name} " in result.output
    assert "go_lives:" in result.output and "ticket_resolution_mean_days:" in result.output
    assert "promises_kept_share:" not in result.output  # not among the file's metrics
    assert counts(result) == (0, 9)
    manifest = check_folder(out, NAMES, reps=3, seed=7, reference="baseline")
    assert manifest["command"] == "experiment"
    assert manifest["experiment_file"] == str(study)
    assert manifest["experiment"]["name"] == "small"
    assert (manifest["replications_reused"], manifest["replications_computed"]) == (0, 9)
    # Every metric is stored, not only those shown.
    assert "promises_kept_share" in pd.read_csv(out / "per_replication.csv")


def test_experiment_rerun_reuses_and_rewrites_the_same_results(runner, study, tmp_path):
    """Rerunning into the same folder prints ``9 replications reused, 0 computed`` and
    leaves the same per-replication results."""
    out = tmp_path / "out"
    first = runner.invoke(main, ["experiment", str(study), "--out", str(out), "--workers", "1"])
    assert first.exit_code == 0, first.output
    before = pd.read_parquet(out / "per_replication.parquet")
    again = runner.invoke(main, ["experiment", str(study), "--out", str(out), "--workers", "1"])
    assert again.exit_code == 0, again.output
    assert "reused" in again.output and counts(again) == (9, 0)
    pd.testing.assert_frame_equal(before, pd.read_parquet(out / "per_replication.parquet"))
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["replications_reused"], manifest["replications_computed"]) == (9, 0)


def test_experiment_options_override_the_file(runner, study, tmp_path):
    """``--reps``, ``--seed`` and ``--metric`` override the file's replications, seed and
    shown metrics, and the manifest records what was run."""
    out = tmp_path / "out"
    result = runner.invoke(
        main,
        [
            "experiment",
            str(study),
            "--reps",
            "2",
            "--seed",
            "99",
            "--metric",
            "churned",
            "--out",
            str(out),
            "--workers",
            "1",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "mean over 2 replications" in result.output
    assert "churned:" in result.output and "go_lives:" not in result.output
    assert counts(result) == (0, 6)
    manifest = check_folder(out, NAMES, reps=2, seed=99, reference="baseline")
    assert manifest["metrics"] == ["churned"]


# ---------------------------------------------------------------- compare and sweep
def test_compare_prints_table_and_writes_folder(runner, tmp_path):
    """``flowsim compare CONFIG --policy A --policy B`` compares the config (reference)
    with one scenario per overlay, named after the overlay file."""
    out = tmp_path / "out"
    result = runner.invoke(
        main,
        [
            "compare",
            BASELINE,
            "--policy",
            ADVISOR,
            "--policy",
            CALLS,
            *SHORT,
            "--reps",
            "2",
            "--seed",
            "3",
            "--out",
            str(out),
            "--workers",
            "2",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "difference from 'baseline' paired by replication" in result.output
    for name in ("baseline", "advisor", "calls_without_lead"):
        assert f"  {name} " in result.output
    assert counts(result) == (0, 6)
    names = ["baseline", "advisor", "calls_without_lead"]
    manifest = check_folder(out, names, reps=2, seed=3, reference="baseline")
    assert manifest["command"] == "compare"
    assert manifest["scenarios"][1]["overlays"] == [ADVISOR]
    assert manifest["scenarios"][1]["resolved_config"]["simulation"]["horizon_weeks"] == 8
    rerun = runner.invoke(
        main,
        [
            "compare",
            BASELINE,
            "--policy",
            ADVISOR,
            "--policy",
            CALLS,
            *SHORT,
            "--reps",
            "2",
            "--seed",
            "3",
            "--out",
            str(out),
            "--workers",
            "1",
        ],
    )
    assert rerun.exit_code == 0, rerun.output
    assert "reused" in rerun.output and counts(rerun) == (6, 0)


def test_sweep_prints_table_and_writes_folder(runner, tmp_path):
    """``flowsim sweep CONFIG --param KEY=V1,V2`` makes one scenario per value, named
    ``key=value``, the first the reference, each config written under ``configs/``."""
    out = tmp_path / "out"
    result = runner.invoke(
        main,
        [
            "sweep",
            BASELINE,
            "--param",
            "intake.limit=1,3",
            "--set",
            "intake.policy=wip_limit",
            *SHORT,
            "--reps",
            "2",
            "--metric",
            "go_lives",
            "--out",
            str(out),
            "--workers",
            "2",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "difference from 'limit=1' paired by replication" in result.output
    assert "  limit=3 " in result.output
    names = ["limit=1", "limit=3"]
    manifest = check_folder(
        out, names, reps=2, seed=load_config(BASELINE).simulation.seed, reference="limit=1"
    )
    assert manifest["command"] == "sweep" and manifest["metrics"] == ["go_lives"]
    assert load_config(out / "configs" / "limit=3.yaml").intake.limit == 3
    rerun = runner.invoke(
        main,
        [
            "sweep",
            BASELINE,
            "--param",
            "intake.limit=1,3",
            "--set",
            "intake.policy=wip_limit",
            *SHORT,
            "--reps",
            "2",
            "--metric",
            "go_lives",
            "--out",
            str(out),
        ],
    )
    assert rerun.exit_code == 0, rerun.output
    assert "reused" in rerun.output and counts(rerun) == (4, 0)


# ---------------------------------------------------------------- bad input
def bad_cases(tmp_path: Path) -> dict[str, tuple[list[str], str]]:
    invalid = tmp_path / "invalid.yaml"
    invalid.write_text(f"name: t\nbase: {BASELINE}\nreplications: 1\nscenarios:\n  - name: a\n")
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text(f"name: t\nbase: {BASELINE}\nscenarios:\n  - name: a\n    colour: red\n")
    valid = tmp_path / "valid.yaml"
    valid.write_text(f"name: t\nbase: {BASELINE}\nscenarios:\n  - name: a\n")
    out = ["--out", str(tmp_path / "out")]
    return {
        "missing experiment file": (
            ["experiment", str(tmp_path / "nothere.yaml"), *out],
            "nothere.yaml",
        ),
        "invalid experiment file": (
            ["experiment", str(invalid), *out],
            f"{invalid}:3: replications",
        ),
        "unknown key in experiment file": (
            ["experiment", str(unknown), *out],
            f"{unknown}:5: scenarios.0.colour",
        ),
        "experiment unknown metric": (
            ["experiment", str(valid), "--metric", "nope", *out],
            "unknown metric 'nope'",
        ),
        "bad --param": (
            ["sweep", BASELINE, "--param", "intake.limit", *out],
            "--param: expected KEY=V1",
        ),
        "--param naming a missing key": (
            ["sweep", BASELINE, "--param", "lead.nope=1,2", *out],
            "no such key 'nope'",
        ),
        "--param with a bad value": (
            ["sweep", BASELINE, "--param", "lead.wip_limit=1,abc", *out],
            "'abc'",
        ),
        "unknown policy overlay file": (
            ["compare", BASELINE, "--policy", str(tmp_path / "nope.yaml"), *out],
            "nope.yaml",
        ),
        "compare unknown metric": (
            ["compare", BASELINE, "--policy", ADVISOR, "--metric", "nope", *out],
            "unknown metric 'nope'",
        ),
        "missing config": (
            ["compare", str(tmp_path / "noconfig.yaml"), "--policy", ADVISOR, *out],
            "noconfig.yaml",
        ),
    }


CASES = [
    "missing experiment file",
    "invalid experiment file",
    "unknown key in experiment file",
    "experiment unknown metric",
    "bad --param",
    "--param naming a missing key",
    "--param with a bad value",
    "unknown policy overlay file",
    "compare unknown metric",
    "missing config",
]


@pytest.mark.parametrize("case", CASES)
def test_bad_input_exits_2_with_one_line_and_no_traceback(runner, tmp_path, case):
    """Bad input is reported as exactly one ``error: ...`` line on standard error, exit
    status 2, no traceback, and no study is run (no results folder is written)."""
    args, expected = bad_cases(tmp_path)[case]
    result = runner.invoke(main, args)
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert expected in lines[0], lines[0]
    assert not (tmp_path / "out" / "manifest.json").exists()
    assert not (tmp_path / "out" / "replications").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["experiment", "x.yaml", "--reps", "1"],
        ["sweep", BASELINE],
        ["compare", BASELINE],
        ["experiment", "x.yaml", "--workers", "0"],
    ],
    ids=["reps-1", "sweep-without-param", "compare-without-policy", "workers-0"],
)
def test_usage_errors_exit_2_without_traceback(runner, args):
    """Usage errors (a study needs at least two replications, one ``--param`` or
    ``--policy``, at least one worker) are click's: exit 2, no traceback."""
    result = runner.invoke(main, args)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "Error:" in result.stderr


def test_two_policies_with_the_same_file_name_is_bad_input(runner, tmp_path):
    """Two policy overlays with one file name (from different folders) would make two
    scenarios with one name; this should be bad input (exit 2, one line), not a
    ``ValueError`` traceback from the paired comparison."""
    other = tmp_path / "policies"
    other.mkdir()
    shutil.copy(ADVISOR, other / "advisor.yaml")
    result = runner.invoke(
        main,
        [
            "compare",
            BASELINE,
            "--policy",
            ADVISOR,
            "--policy",
            str(other / "advisor.yaml"),
            *SHORT,
            "--reps",
            "2",
            "--workers",
            "1",
            "--out",
            str(tmp_path / "out"),
        ],
    )
    assert result.exit_code == 2, result.output
    assert len(result.stderr.splitlines()) == 1


def test_mser5_warmup_is_chosen_recorded_and_applied(runner, tmp_path):
    """With ``warmup_weeks: {method: mser5}`` the study runs a pilot of the reference,
    prints and records the chosen warm-up, writes the pilot series to ``warmup.csv``
    and runs every scenario with that warm-up (at most half the horizon)."""
    path = tmp_path / "mser.yaml"
    path.write_text(
        f"name: mser\nbase: {BASELINE}\nreplications: 2\nhorizon_weeks: 20\n"
        "warmup_weeks: {method: mser5, pilot_replications: 2}\nmetrics: [go_lives]\n"
        "scenarios:\n  - name: a\n  - name: b\n    set: {lead.capacity_hours_per_week: 40}\n"
    )
    out = tmp_path / "out"
    result = runner.invoke(main, ["experiment", str(path), "--out", str(out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    chosen = re.search(r"warm-up chosen by MSER-5 on lead_backlog: ([\d.]+) weeks", result.output)
    assert chosen, result.output
    weeks = float(chosen[1])
    assert 0 <= weeks <= 10
    pilot = pd.read_csv(out / "warmup.csv")
    assert {"day", "lead_backlog", "truncation_day"} <= set(pilot)
    manifest = check_folder(out, ["a", "b"], reps=2, seed=0, reference="a")
    assert manifest["warmup"] == chosen[0]
    assert "warmup_check" not in manifest  # chosen, not fixed: nothing to check
    assert "warm-up: 13 weeks (fixed)" not in result.output
    for entry in manifest["scenarios"]:
        assert entry["resolved_config"]["simulation"]["warmup_weeks"] == weeks
    # The report shows the chosen warm-up under its Warm-up heading.
    page = (out / "report.html").read_text(encoding="utf-8")
    assert f"<h3>Warm-up</h3><p>{chosen[0]}.</p>" in page


# ---------------------------------------------------------------- did the scenarios settle?
@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Result, Path]:
    """The mixed study (``conftest.write_mixed_study``) run from the command line."""
    root = tmp_path_factory.mktemp("mixed")
    spec = write_mixed_study(root)
    out = root / "out"
    result = CliRunner().invoke(
        main, ["experiment", str(spec), "--out", str(out), "--workers", "2", "--no-report"]
    )
    assert result.exit_code == 0, result.output
    per_rep = pd.read_csv(out / "per_replication.csv").groupby("scenario")["unstable"]
    assert per_rep.min()["overloaded"] == 1 and per_rep.max()["light"] == 0, "the premise"
    return result, out


def table_line(output: str, metric: str, scenario: str) -> str:
    """The line of ``scenario`` in the block of ``metric`` of a study's table."""
    block = output.split(f"\n{metric}: ", 1)[1].split("\n\n", 1)[0]
    return next(ln for ln in block.splitlines() if ln.startswith(f"  {scenario} "))


def test_only_the_unstable_scenario_is_marked_in_the_table(mixed):
    """``overloaded`` carries ⚠ on every line, and † on its steady-state average only; a
    block after the table gives its unstable replications and open-work growth, with
    one footnote line; ``light`` carries neither mark."""
    result, out = mixed
    output = result.output
    for metric in ("tickets_closed_per_week", "ticket_resolution_mean_days"):
        assert table_line(output, metric, "overloaded \u26a0")
        light = table_line(output, metric, "light")
        assert "\u26a0" not in light and "\u2020" not in light
    assert "\u2020" in table_line(output, "ticket_resolution_mean_days", "overloaded")
    assert "\u2020" not in table_line(output, "tickets_closed_per_week", "overloaded")
    block = output.split("\nunstable: 1 of 2 scenarios in at least half their", 1)[1]
    found = re.search(
        r"\n  overloaded \u26a0 +3 of 3 replications unstable, "
        r"open work \+([\d.]+) \[([\d.]+), ([\d.]+)\] items/week\n",
        block,
    )
    assert found, output
    trends = pd.read_csv(out / "per_replication.csv").groupby("scenario")[
        "open_work_trend_per_week"
    ]
    assert float(found[2]) < trends.mean()["overloaded"] < float(found[3])
    assert "light" not in block.split("\n\n")[0]
    footnotes = [ln for ln in output.splitlines() if ln.startswith("\u2020 ")]
    assert len(footnotes) == 1 and "depends on the horizon" in footnotes[0]


def test_scenarios_csv_carries_the_unstable_share_and_the_flags(mixed):
    """scenarios.csv: per scenario the share of unstable replications (on every row, and
    as the mean of the ``unstable`` metric), and ``horizon_dependent`` only on the
    steady-state metrics of the unstable scenario."""
    _, out = mixed
    table = pd.read_csv(out / "scenarios.csv")
    share = table.groupby("scenario")["unstable_share"].agg(["min", "max"])
    assert share.loc["light"].tolist() == [0, 0]
    assert share.loc["overloaded"].tolist() == [1, 1]
    verdict = table[table["metric"] == "unstable"].set_index("scenario")["mean"]
    assert verdict.to_dict() == {"light": 0, "overloaded": 1}
    flagged = table[table["horizon_dependent"]]
    assert set(flagged["scenario"]) == {"overloaded"}
    assert all(presumes_steady_state(m) for m in flagged["metric"])
    overloaded = table[table["scenario"] == "overloaded"]
    steady = overloaded["metric"].map(presumes_steady_state)
    assert (overloaded["horizon_dependent"] == steady).all()
    assert {"ticket_resolution_mean_days", "lead_backlog_mean"} <= set(flagged["metric"])


def test_a_fixed_warmup_is_checked_by_mser5_printed_and_recorded(mixed):
    """With fixed warm-ups the study computes MSER-5 on the reference's daily open work
    (averaged over its replications, from its own time series), prints it under the
    title and records it in the manifest."""
    result, out = mixed
    found = re.search(
        r"^warm-up: 4 weeks \(fixed\); MSER-5 on the reference's open work suggests "
        r"([\d.]+) weeks?$",
        result.output,
        re.MULTILINE,
    )
    assert found, result.output
    series = pd.read_parquet(out / "timeseries.parquet")
    light = series[series["scenario"] == "light"].groupby("day")["open_items"].mean()
    assert float(found[1]) == mser5(light.to_numpy()) / 5
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["warmup"] == found[0]
    check = manifest["warmup_check"]
    assert check["used_weeks"] == 4 and check["mser5_weeks"] == float(found[1])
    assert check["series"] == "open_items" and check["reference_unstable"] is False
    # A warning exactly when MSER-5 asks for more than was used.
    assert (check["warning"] is not None) == (float(found[1]) > 4)
    assert ("warning: MSER-5" in result.output) == (float(found[1]) > 4)
