"""``flowsim report`` and the report a study writes by default."""

import base64
import html
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import write_mixed_study
from flowsim.cli import main
from flowsim.config.experiment import load_experiment
from flowsim.reporting.charts import study_figures
from flowsim.storage import read_study
from flowsim.study import run_study

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


# ---------------------------------------------------------------- stability and warm-up
@pytest.fixture(scope="module")
def mixed_report(tmp_path_factory) -> tuple[str, dict, Path]:
    """The report of a study whose ``overloaded`` scenario does not settle (every
    mechanism off, the lead asked for 1.5 times his week) and whose ``light`` one does."""
    root = tmp_path_factory.mktemp("mixed")
    spec = write_mixed_study(root)
    study = run_study(load_experiment(spec), root / "out", workers=1, progress=False)
    assert study.report is not None
    by = study.per_rep.groupby("scenario")["unstable"]
    assert by.min()["overloaded"] == 1 and by.max()["light"] == 0, "the premise"
    page = study.report.read_text(encoding="utf-8")
    return page, read_study(study.folder).manifest, study.folder


def section(page: str, start: str, end: str) -> str:
    return page.split(start, 1)[1].split(end, 1)[0]


def rows(html_table: str) -> dict[str, str]:
    """Each row of an HTML table by the plain text of its first cell."""
    out = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", html_table):
        first = re.sub(r"<[^>]+>", "", row.split("</td>", 1)[0]).strip()
        out[first] = row
    return out


def test_report_marks_only_the_unstable_scenario(mixed_report):
    """In each metric's table ``overloaded`` carries ⚠, and † on its steady-state mean
    only, with one footnote; ``light`` carries neither."""
    page = mixed_report[0]
    results = section(page, '<h2 id="table">', '<h2 id="stability">')
    closed = rows(section(results, "tickets_closed_per_week</code>", "</table>"))
    waits = rows(section(results, "ticket_resolution_mean_days</code>", "</table>"))
    for table in (closed, waits):
        assert "light" in table and "overloaded \u26a0" in table
        assert "\u26a0" not in table["light"] and "\u2020" not in table["light"]
    assert "\u2020" in waits["overloaded \u26a0"]
    assert "\u2020" not in closed["overloaded \u26a0"]
    assert results.count('<p class="note">\u2020 ') == 1


def test_report_has_a_stability_section_and_the_warmup(mixed_report):
    """The Stability section gives each scenario's unstable replications, share and
    open-work trend with its CI; the Warm-up line is the check the manifest records."""
    page, manifest, _ = mixed_report
    assert '<a href="#stability">Stability</a>' in page
    stability = section(page, '<h2 id="stability">Stability</h2>', '<h2 id="charts">')
    table = rows(section(stability, "<table>", "</table>"))
    assert re.search(r"<td>0 of 3</td><td>0\.0%</td><td>[+-][\d.]+</td><td>\[", table["light"])
    assert re.search(
        r"<td>3 of 3</td><td>100\.0%</td><td>\+[\d.]+</td><td>\[[\d.]+, [\d.]+\]</td>",
        table["overloaded \u26a0"],
    )
    assert manifest["warmup"].startswith("warm-up: 4 weeks (fixed); MSER-5 on the reference's")
    warmup = section(stability, "<h3>Warm-up</h3>", "<h2")
    assert html.escape(manifest["warmup"]) in warmup
    warning = manifest["warmup_check"]["warning"]
    assert (warning is not None) == (manifest["warmup_check"]["mser5_weeks"] > 4)
    if warning:
        assert f'<p class="warn">{html.escape(warning)}.</p>' in warmup


def test_report_markdown_prints_the_study_table(mixed_report):
    """``--markdown`` prints a row per scenario with each metric's mean and CI, marks
    the unstable scenario, and lists the metrics a bad ``--metric`` could have been."""
    folder = mixed_report[2]
    result = CliRunner().invoke(main, ["report", str(folder), "--markdown"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "| scenario | tickets_closed_per_week | ticket_resolution_mean_days |"
    light = next(ln for ln in lines if ln.startswith("| `light` |"))
    heavy = next(ln for ln in lines if ln.startswith("| `overloaded` \u26a0 |"))
    cell = r" [\d.]+ \[[\d.]+, [\d.]+\] "
    assert re.fullmatch(rf"\| `light` \|{cell}\|{cell}\|", light)
    assert "\u2020" in heavy.split("|")[3] and "\u2020" not in heavy.split("|")[2]
    assert not (folder / "report.md").exists()
    one = CliRunner().invoke(main, ["report", str(folder), "--markdown", "--metric", "churned"])
    assert one.exit_code == 0 and one.output.splitlines()[0] == "| scenario | churned |"
    bad = CliRunner().invoke(main, ["report", str(folder), "--markdown", "--metric", "nope"])
    assert bad.exit_code == 2 and "Traceback" not in bad.output
    assert "--metric: nope not in this study; expected one of " in bad.output
    assert "tickets_closed_per_week" in bad.output


def test_report_markdown_vs_prints_paired_differences(mixed_report):
    """``--vs`` gives each other scenario minus the named one, paired by replication:
    here the overloaded scenario closes more tickets a week than the light one, by a
    difference whose interval sits above zero; an unknown scenario is bad input."""
    folder = mixed_report[2]
    args = ["report", str(folder), "--markdown", "--metric", "tickets_closed_per_week"]
    result = CliRunner().invoke(main, [*args, "--vs", "light"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("paired difference from `light`")
    assert not any(ln.startswith("| `light`") for ln in lines)
    row = next(ln for ln in lines if ln.startswith("| `overloaded` |"))
    diff, low, high = (float(x) for x in re.findall(r"[+-][\d.]+", row))
    assert 0 < low <= diff <= high
    bad = CliRunner().invoke(main, [*args, "--vs", "nope"])
    assert bad.exit_code == 2 and "--vs: no scenario 'nope'" in bad.output
    assert "light, overloaded" in bad.output
