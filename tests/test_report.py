"""``flowsim report`` and the report a study writes by default."""

import base64
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from flowsim.cli import main
from flowsim.reporting.charts import study_figures
from flowsim.storage import read_study

ROOT = Path(__file__).resolve().parents[1]

STUDY = """
name: tiny
description: a tiny study for the report tests
base: {base}
replications: 2
seed: 3
horizon_weeks: 16
warmup_weeks: 2
reference: unlimited
scenarios:
  - name: unlimited
    overlays: [{advisor}]
    set: {{intake.policy: accept_all}}
sweeps:
  - name: wip
    overlays: [{advisor}]
    set: {{intake.policy: wip_limit}}
    grid: {{intake.limit: [1, 2, 4]}}
"""


@pytest.fixture(scope="module")
def study_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("study")
    spec = folder / "tiny.yaml"
    spec.write_text(
        STUDY.format(
            base=ROOT / "configs" / "baseline.yaml",
            advisor=ROOT / "configs" / "policies" / "advisor.yaml",
        )
    )
    out = folder / "out"
    result = CliRunner().invoke(
        main, ["experiment", str(spec), "--workers", "1", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "report:" in result.output
    return out


def test_experiment_writes_a_self_contained_report_with_every_chart(study_dir):
    page = (study_dir / "report.html").read_text()
    names = list(study_figures(read_study(study_dir)))
    images = re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,([^"]+)"', page)
    assert [alt for alt, _ in images] == names
    for _, data in images:
        assert base64.b64decode(data)[:8] == b"\x89PNG\r\n\x1a\n"
    assert 'src="http' not in page and "<link" not in page  # nothing fetched from outside
    for name in names:
        png = study_dir / "figures" / f"{name}.png"
        assert png.is_file() and png.stat().st_size > 5_000, name
    # The table of every chosen metric, with the paired comparison, and the manifest.
    assert "paired by replication" in page and "go_lives" in page
    assert "config hash" in page and "tiny" in page


def test_report_command_rewrites_to_another_file(study_dir, tmp_path):
    target = tmp_path / "copy.html"
    result = CliRunner().invoke(main, ["report", str(study_dir), "--out", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_text().count("<img ") == len(study_figures(read_study(study_dir)))


def test_no_report_flag_skips_it(tmp_path):
    spec = tmp_path / "tiny.yaml"
    spec.write_text(
        STUDY.format(
            base=ROOT / "configs" / "baseline.yaml",
            advisor=ROOT / "configs" / "policies" / "advisor.yaml",
        ).replace("[1, 2, 4]", "[1]")
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["experiment", str(spec), "--workers", "1", "--no-report", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert not (out / "report.html").exists()


def test_report_on_a_folder_that_is_not_a_study_is_bad_input(tmp_path):
    result = CliRunner().invoke(main, ["report", str(tmp_path)])
    assert result.exit_code == 2
    assert "not a flowsim results folder" in result.output
    assert "Traceback" not in result.output
