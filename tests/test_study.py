"""``flowsim.run_study``: a whole study from the library, as the study commands run it.

It returns what the commands print (the scenario and paired-difference tables, the
reused and computed counts, the warm-up note) and writes the same results folder;
it prints nothing and raises, rather than exits, on a problem.  The worker processes
store their own replications, which must change nothing: the per-replication
numbers are the same bit for bit whatever the number of workers, and a rerun into
the folder reuses every replication.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import flowsim
from conftest import write_small_study
from flowsim.cli import main
from flowsim.config.experiment import Experiment, load_experiment
from flowsim.stats import mser5
from flowsim.storage import FolderTaken, ReplicationStore
from flowsim.study import StudyRun, WarmupCheck, run_study, study_folder


def small(folder: Path, warmup: str = "1", horizon: int = 8) -> Experiment:
    """Three scenarios over the baseline, three replications of ``horizon`` weeks."""
    return load_experiment(write_small_study(folder, warmup, horizon))


def test_run_study_returns_the_tables_and_writes_the_folder(tmp_path, capsys):
    """The returned tables are the folder's tables; nothing is printed."""
    exp = small(tmp_path)
    out = tmp_path / "out"
    study = flowsim.run_study(exp, out, workers=2, report=False, progress=False)
    assert isinstance(study, StudyRun)
    assert capsys.readouterr().out == ""
    assert study.folder == out and study.report is None and study.warmup_note is None
    assert (study.reused, study.computed) == (0, 9)
    assert not (out / "report.html").exists()

    results = flowsim.read_study(out)
    pd.testing.assert_frame_equal(results.per_rep, study.per_rep)
    pd.testing.assert_frame_equal(results.scenarios, study.scenarios, check_dtype=False)
    pd.testing.assert_frame_equal(results.differences, study.differences, check_dtype=False)
    assert results.names == ["baseline", "advisor", "wip[limit=1]"]
    for name in results.names:
        assert (out / "configs" / f"{name}.yaml").is_file()
    manifest = results.manifest
    assert manifest["command"] == "run_study"
    assert manifest["experiment_file"] == exp.source
    assert (manifest["replications_reused"], manifest["replications_computed"]) == (0, 9)
    assert not list(out.rglob("*.tmp")), "temporary files left behind"


def test_provenance_is_recorded_first_in_the_manifest(tmp_path):
    exp = small(tmp_path)
    provenance = {"command": "notebook", "who": "me"}
    run_study(exp, tmp_path / "out", workers=1, report=False, progress=False, provenance=provenance)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["command"] == "notebook" and manifest["who"] == "me"
    assert "experiment_file" not in manifest


def test_rerun_reuses_every_replication(tmp_path):
    exp = small(tmp_path)
    out = tmp_path / "out"
    first = run_study(exp, out, workers=2, report=False, progress=False)
    again = run_study(exp, out, workers=2, report=False, progress=False)
    assert (again.reused, again.computed) == (9, 0)
    pd.testing.assert_frame_equal(first.per_rep, again.per_rep)
    pd.testing.assert_frame_equal(first.run.timeseries, again.run.timeseries)


def test_workers_store_their_own_replications(tmp_path, monkeypatch):
    """With a process pool the workers store what they compute: this process stores
    nothing, yet every replication is in the store, and is reused by a serial rerun."""
    saved: list[int] = []
    original = ReplicationStore.save

    def counting_save(self, *args, **kwargs):
        saved.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(ReplicationStore, "save", counting_save)
    exp = small(tmp_path)
    out = tmp_path / "out"
    run_study(exp, out, workers=2, report=False, progress=False)
    assert saved == []  # only the workers' copies of this list grew
    assert len(list((out / "replications").glob("*/rep-*.json"))) == 9
    assert run_study(exp, out, workers=1, report=False, progress=False).reused == 9
    run_study(exp, tmp_path / "serial", workers=1, report=False, progress=False)
    assert len(saved) == 9  # serial: this process stores each replication


def test_results_do_not_depend_on_the_number_of_workers(tmp_path):
    """per_replication.csv and timeseries.parquet are identical, byte for byte and frame
    for frame, with one worker (in this process) and with two (a pool)."""
    exp = small(tmp_path)
    one = run_study(exp, tmp_path / "one", workers=1, report=False, progress=False)
    two = run_study(exp, tmp_path / "two", workers=2, report=False, progress=False)
    assert (one.folder / "per_replication.csv").read_bytes() == (
        two.folder / "per_replication.csv"
    ).read_bytes()
    pd.testing.assert_frame_equal(
        pd.read_parquet(one.folder / "timeseries.parquet"),
        pd.read_parquet(two.folder / "timeseries.parquet"),
    )
    pd.testing.assert_frame_equal(one.differences, two.differences)


def test_report_is_written_when_asked(tmp_path):
    study = run_study(small(tmp_path), tmp_path / "out", workers=2, progress=False)
    assert study.report == tmp_path / "out" / "report.html"
    assert study.report.is_file() and list((tmp_path / "out" / "figures").glob("*.png"))


def test_mser5_warmup_is_chosen_and_applied(tmp_path):
    exp = small(tmp_path, warmup="{method: mser5, pilot_replications: 2}", horizon=20)
    study = run_study(exp, tmp_path / "out", workers=1, report=False, progress=False)
    assert study.warmup_note is not None
    assert study.warmup_note.startswith("warm-up chosen by MSER-5 on lead_backlog: ")
    weeks = float(study.warmup_note.split(": ")[1].split()[0])
    assert study.experiment.warmup is None
    assert {s.params.simulation.warmup_weeks for s in study.experiment.scenarios} == {weeks}
    assert (tmp_path / "out" / "warmup.csv").is_file()
    assert flowsim.read_study(tmp_path / "out").manifest["warmup"] == study.warmup_note
    assert study.warmup_check is None and study.warmup_lines == [study.warmup_note]


def test_a_warmup_series_that_does_not_exist_is_a_value_error(tmp_path):
    exp = small(tmp_path, warmup="{method: mser5, series: nope, pilot_replications: 2}", horizon=20)
    with pytest.raises(ValueError, match="'nope'"):
        run_study(exp, tmp_path / "out", workers=1, report=False, progress=False)
    result = CliRunner().invoke(
        main, ["experiment", str(exp.source), "--out", str(tmp_path / "cli"), "--workers", "1"]
    )
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "'nope'" in lines[0]


def test_an_unwritable_folder_is_an_os_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    exp = small(tmp_path)
    # Refused before any replication runs: nothing computed is lost.
    with pytest.raises(FolderTaken, match="is a file"):
        run_study(exp, blocker / "out", workers=1, report=False, progress=False)
    result = CliRunner().invoke(
        main, ["experiment", str(exp.source), "--out", str(blocker / "out"), "--workers", "1"]
    )
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: cannot create {blocker / 'out'}: ")
    assert len(result.stderr.splitlines()) == 1


def test_default_folder_is_named_after_the_study(tmp_path):
    exp = small(tmp_path)
    assert study_folder(exp) == Path("results") / "small"
    assert study_folder(exp, tmp_path) == tmp_path


@pytest.mark.parametrize(
    ("check", "note", "warning"),
    [
        (
            WarmupCheck(13, 13, 13, 9, reference_unstable=False),
            "warm-up: 13 weeks (fixed); MSER-5 on the reference's open work suggests 9 weeks",
            None,
        ),
        (
            WarmupCheck(1, 1, 1, 6, reference_unstable=False),
            "warm-up: 1 week (fixed); MSER-5 on the reference's open work suggests 6 weeks",
            "warning: MSER-5 suggests more than the 1 week used: the averages may still "
            "include the start-up",
        ),
        (
            WarmupCheck(13, 4, 13, 52, reference_unstable=True),
            "warm-up: 13 weeks in the reference (fixed; 4 to 13 weeks across scenarios); "
            "MSER-5 on the reference's open work suggests 52 weeks",
            "warning: MSER-5 suggests more than the 13 weeks used, but the reference's open "
            "work is still growing in this window: a longer horizon may show whether it "
            "settles",
        ),
    ],
    ids=["shorter", "longer", "unstable-reference"],
)
def test_warmup_check_says_what_was_used_and_warns_when_mser5_wants_more(check, note, warning):
    assert check.note == note
    assert check.warning == warning
    assert check.manifest()["warning"] == warning
    study = StudyRun(None, None, None, None, Path("."), warmup_check=check)  # type: ignore[arg-type]
    assert study.warmup_lines == [note, *([warning] if warning else [])]


def test_a_fixed_warmup_is_checked_and_recorded(tmp_path):
    """With fixed warm-ups the study checks them by MSER-5 on the reference's open work
    and records the check in the manifest; a chosen warm-up is not checked again."""
    study = run_study(small(tmp_path), tmp_path / "out", workers=1, report=False, progress=False)
    check = study.warmup_check
    assert check is not None and check.used_weeks == 1
    series = study.run.timeseries
    ref = series[series["scenario"] == "baseline"].groupby("day")["open_items"].mean()
    assert check.suggested_weeks == mser5(ref.to_numpy()) / 5
    assert study.warmup_lines[0] == check.note
    manifest = flowsim.read_study(study.folder).manifest
    assert manifest["warmup"] == check.note
    assert manifest["warmup_check"] == check.manifest()


def test_no_warning_when_a_longer_warmup_gains_little() -> None:
    """On a flat noisy series MSER-5 may pick a long warm-up for a gain of a few percent."""
    check = WarmupCheck(4, 4, 4, 18, reference_unstable=False, gain=0.05)
    assert not check.longer and check.warning is None


def test_mser_statistic_is_the_one_mser5_minimises() -> None:
    from flowsim.stats import mser5, mser_statistic

    rng = np.random.default_rng(0)
    series = np.concatenate([np.linspace(0, 10, 50), 10 + rng.normal(0, 1, 400)])
    best = mser5(series)
    assert all(mser_statistic(series, best) <= mser_statistic(series, d) for d in range(0, 225, 5))
