"""Charts of a study (``flowsim.reporting.charts``): each draws what it says, from the data.

One small study (baseline, the advisor's levers, and a WIP-limit sweep of three
values; 3 replications of 30 weeks, 4 of them warm-up) is run once through the CLI
and read back with ``read_study``.  Each chart is checked against numbers recomputed
here from the study's frames, not from the chart code: percentile lines against
``numpy.percentile`` of the customers' lead times, the CI band against
``flowsim.stats.mean_ci``, the stacked week against the per-replication hours, and
so on; every figure is also rendered to a PNG.
"""

from __future__ import annotations

import dataclasses
import re
import struct
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.colors import to_hex
from matplotlib.container import BarContainer, ErrorbarContainer
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.text import Text

from conftest import deep_merge, reduced_params
from flowsim.cli import main
from flowsim.config import dump_yaml
from flowsim.model.catalogue import LEAD_ACTIVITIES
from flowsim.model.params import Params
from flowsim.model.reduction import mm1_time_in_system_days
from flowsim.reporting import charts
from flowsim.reporting.charts.base import BASELINE_GREY
from flowsim.stats import mean_ci
from flowsim.storage import StudyResults, read_study

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
WARMUP_DAYS = 4 * 5
HORIZON_DAYS = 30 * 5
NAMES = ["baseline", "advisor", "wip[limit=1]", "wip[limit=2]", "wip[limit=4]"]
SWEEP = ["wip[limit=1]", "wip[limit=2]", "wip[limit=4]"]
METRICS = [
    "go_lives_per_quarter",
    "onboarding_lead_time_p85_days",
    "promises_kept_share",
    "arr_at_horizon",
]
STUDY = f"""
    name: plots_small
    description: a small study for the chart tests
    base: {CONFIGS}/baseline.yaml
    replications: 3
    seed: 11
    horizon_weeks: 30
    warmup_weeks: 4
    reference: advisor
    metrics: [{", ".join(METRICS)}]
    scenarios:
      - name: baseline
      - name: advisor
        overlays: [{CONFIGS}/policies/advisor.yaml]
    sweeps:
      - name: wip
        overlays: [{CONFIGS}/policies/advisor.yaml]
        set: {{intake.policy: wip_limit}}
        grid: {{intake.limit: [1, 2, 4]}}
"""


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> StudyResults:
    return run_small_study(tmp_path_factory.mktemp("plots_study"), STUDY)


def run_small_study(root: Path, text: str) -> StudyResults:
    """Run the study spec ``text`` through the CLI into ``root`` and read it back."""
    spec = root / "study.yaml"
    spec.write_text(textwrap.dedent(text), encoding="utf-8")
    out = root / "results"
    result = CliRunner().invoke(
        main, ["experiment", str(spec), "--out", str(out), "--workers", "1", "--no-report"]
    )
    assert result.exit_code == 0, result.output
    return read_study(out)


@pytest.fixture(scope="module")
def live_scenario(study: StudyResults) -> str:
    """The sweep scenario with the most go-lives after the warm-up (there must be some)."""
    go_lives = study.per_rep.groupby("scenario")["go_lives"].sum()
    name = str(go_lives.loc[SWEEP].idxmax())
    assert go_lives[name] > 0, "the small study needs go-lives to draw lead times"
    return name


NO_SALES_STUDY = f"""
    name: plots_no_sales
    description: the company signing nobody, for the chart of a scenario without go-lives
    base: {CONFIGS}/baseline.yaml
    replications: 3
    seed: 11
    horizon_weeks: 30
    warmup_weeks: 4
    metrics: [{", ".join(METRICS)}]
    scenarios:
      - name: no_sales
        set: {{sales.new_customers_per_month: 0}}
      - name: advisor_no_sales
        overlays: [{CONFIGS}/policies/advisor.yaml]
        set: {{sales.new_customers_per_month: 0}}
"""


@pytest.fixture(scope="module")
def no_sales_study(tmp_path_factory: pytest.TempPathFactory) -> StudyResults:
    """The baseline, and the advisor's levers, with no customer signed: nobody starts
    onboarding (none is onboarding at the start), so nobody can go live, whatever the
    workload."""
    return run_small_study(tmp_path_factory.mktemp("no_sales_study"), NO_SALES_STUDY)


# ---------------------------------------------------------------- helpers
def only(study: StudyResults, names: list[str]) -> StudyResults:
    """The study restricted to the scenarios ``names``: manifest and every frame."""
    scenarios = [s for s in study.manifest["scenarios"] if s["name"] in names]
    frames = {
        field: frame[frame["scenario"].isin(names)].reset_index(drop=True)
        for field in ("per_rep", "scenarios", "differences", "timeseries", "customers")
        for frame in [getattr(study, field)]
    }
    return dataclasses.replace(study, manifest={**study.manifest, "scenarios": scenarios}, **frames)


def texts(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


def legend_labels(fig: Figure) -> list[str]:
    legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes)]
    return [t.get_text() for leg in legends if leg is not None for t in leg.get_texts()]


def has_unit(label: str) -> bool:
    """An axis label names its unit in brackets, e.g. 'time (weeks)'."""
    return re.search(r"\([^)]*\)", label) is not None


def assert_units(fig: Figure) -> None:
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        for label in (ax.get_xlabel(), ax.get_ylabel()):
            if label:
                assert has_unit(label), f"axis label without a unit: {label!r}"


def assert_no_overlap(labels: list[Text]) -> None:
    """Tick labels of one axis do not overlap each other once drawn."""
    boxes = [t.get_window_extent() for t in labels if t.get_text()]
    for a, b in zip(boxes, boxes[1:], strict=False):
        assert not a.overlaps(b), "overlapping tick labels"


def mean_daily(study: StudyResults, scenario: str, column: str) -> pd.Series:
    rows = study.timeseries[study.timeseries["scenario"] == scenario]
    return rows.groupby("day")[column].mean()


def lead_times_after_warmup(study: StudyResults, scenario: str) -> np.ndarray:
    """Lead times (working days) of the go-lives after the warm-up, from the customer table."""
    cust = study.customers[study.customers["scenario"] == scenario]
    live = cust[(cust["live_day"] > 0) & (cust["live_day"] >= WARMUP_DAYS)]
    return (live["live_day"] - live["onboarding_day"]).to_numpy()


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def stack_top(ax: Axes) -> np.ndarray:
    """The upper edge of a stack plot: per x, the highest vertex of the last band."""
    polys = [c for c in ax.collections if isinstance(c, PolyCollection)]
    verts = np.asarray(polys[-1].get_paths()[0].vertices)
    return pd.Series(verts[:, 1]).groupby(verts[:, 0]).max().to_numpy()


def bars(ax: Axes) -> dict[str, list[Rectangle]]:
    """The bars of each labelled bar series (``ax.bar``/``barh`` containers)."""
    return {
        str(c.get_label()): list(c.patches) for c in ax.containers if isinstance(c, BarContainer)
    }


def row_totals(ax: Axes) -> list[float]:
    """Per horizontal bar row, top row first: the summed widths of the stacked bars."""
    totals: dict[float, float] = {}
    for patches in bars(ax).values():
        for bar in patches:
            row = round(bar.get_y() + bar.get_height() / 2, 6)
            totals[row] = totals.get(row, 0.0) + bar.get_width()
    return [totals[row] for row in sorted(totals, reverse=True)]


# ---------------------------------------------------------------- colours
def test_scenario_colours_are_stable_distinct_and_grouped(study: StudyResults):
    colours = charts.scenario_colours(study.names)
    assert colours == charts.scenario_colours(list(study.names)), "same names, same colours"
    assert list(colours) == NAMES
    assert all(re.fullmatch(r"#[0-9a-f]{6}", c) for c in colours.values())
    assert len(set(colours.values())) == len(NAMES), "every scenario its own colour"
    assert colours["baseline"] == BASELINE_GREY
    # a sweep reads light to dark with the swept value
    lightness = [sum(int(colours[n][i : i + 2], 16) for i in (1, 3, 5)) for n in SWEEP]
    assert lightness == sorted(lightness, reverse=True)


# ---------------------------------------------------------------- flow
def test_cumulative_flow_onboarding_stacks_up_to_the_signed_curve(study: StudyResults):
    fig = charts.cumulative_flow(study, "onboarding", "wip[limit=2]")
    (ax,) = fig.axes
    assert "Cumulative flow" in ax.get_title() and "wip[limit=2]" in ax.get_title()
    assert_units(fig)
    assert "(weeks)" in ax.get_xlabel()
    labels = legend_labels(fig)
    for band in ("went live", "onboarding", "signed, waiting to start", "lost waiting to start"):
        assert band in labels
    assert any("warm-up" in label for label in labels)
    signed = mean_daily(study, "wip[limit=2]", "signed").to_numpy()
    np.testing.assert_allclose(stack_top(ax), signed, atol=1e-9)
    top_line = next(ln for ln in ax.get_lines() if str(ln.get_label()).startswith("signed"))
    np.testing.assert_allclose(np.asarray(top_line.get_ydata(), dtype=float), signed)


def test_cumulative_flow_tickets_and_default_scenario(study: StudyResults):
    fig = charts.cumulative_flow(study, "tickets")
    (ax,) = fig.axes
    assert study.reference in ax.get_title(), "defaults to the reference scenario"
    assert {"closed", "open (incl. forgotten)"} <= set(legend_labels(fig))
    created = mean_daily(study, study.reference, "tickets_created").to_numpy()
    np.testing.assert_allclose(stack_top(ax), created, atol=1e-9)
    with pytest.raises(ValueError, match="kind"):
        charts.cumulative_flow(study, "deals")
    with pytest.raises(ValueError, match="unknown scenario"):
        charts.cumulative_flow(study, "onboarding", "nope")


def test_lead_time_scatter_percentile_lines(study: StudyResults, live_scenario: str):
    fig = charts.lead_time_scatter(study, live_scenario)
    (ax,) = fig.axes
    assert live_scenario in ax.get_title()
    assert_units(fig)
    lead = lead_times_after_warmup(study, live_scenario)
    # the window's go-lives are the ones the summary metric counts
    per_rep = study.per_rep[study.per_rep["scenario"] == live_scenario]
    assert len(lead) == per_rep["go_lives"].sum()
    lines = {str(ln.get_label()): ln for ln in ax.get_lines() if "%:" in str(ln.get_label())}
    for q in (50, 85, 95):
        value = float(np.percentile(lead, q))
        label = f"{q}%: {value:.0f} days"
        assert label in lines, f"missing {label!r}; have {sorted(lines)}"
        assert float(np.asarray(lines[label].get_ydata())[0]) == pytest.approx(value)
        assert label in texts(fig), "the line is labelled on the chart, not only the legend"
    dots = sum(
        len(np.asarray(c.get_offsets()))
        for c in ax.collections
        if str(c.get_label()).startswith("went")
    )
    cust = study.customers[study.customers["scenario"] == live_scenario]
    assert dots == int((cust["live_day"] > 0).sum()), "one dot per go-live of every replication"


def test_lead_time_scatter_custom_percentiles(study: StudyResults, live_scenario: str):
    fig = charts.lead_time_scatter(study, live_scenario, percentiles=(70,))
    lead = lead_times_after_warmup(study, live_scenario)
    assert f"70%: {np.percentile(lead, 70):.0f} days" in legend_labels(fig)


def test_lead_time_scatter_without_go_lives_renders_a_note(
    no_sales_study: StudyResults, tmp_path: Path
):
    assert no_sales_study.per_rep["go_lives"].sum() == 0
    assert (no_sales_study.customers["live_day"] == 0).all(), "the premise: no new customer"
    fig = charts.lead_time_scatter(no_sales_study, "no_sales")
    assert "no customer went live" in texts(fig)
    assert_units(fig)
    fig.savefig(tmp_path / "empty.png")
    assert png_size(tmp_path / "empty.png")[0] > 300


def test_throughput_run_chart(study: StudyResults, live_scenario: str):
    fig = charts.throughput_run_chart(study, live_scenario)
    assert len(fig.axes) == 4, "go-lives, tickets, WIP and the backlog's twin axis"
    assert_units(fig)
    ax_live, ax_tickets, ax_wip, ax_backlog = fig.axes
    assert "customers/week" in ax_live.get_ylabel()
    assert "tickets/week" in ax_tickets.get_ylabel()
    assert "onboardings" in ax_wip.get_ylabel() and "backlog" in ax_backlog.get_ylabel()
    # the weekly bars add up to the go-lives by the last whole week
    (weekly,) = bars(ax_live).values()
    total = sum(p.get_height() for p in weekly)
    rows = study.timeseries[study.timeseries["scenario"] == live_scenario]
    last_week_end = rows["day"][rows["day"] % 5 == 0].max()
    expected = rows[rows["day"] == last_week_end]["went_live"].mean()
    assert total == pytest.approx(expected)
    wip = next(ln for ln in ax_wip.get_lines() if ln.get_label() == "onboardings in progress")
    np.testing.assert_allclose(
        np.asarray(wip.get_ydata(), dtype=float),
        mean_daily(study, live_scenario, "onboarding").to_numpy(),
    )


def test_ageing_wip_dots_and_history(study: StudyResults, live_scenario: str):
    fig = charts.ageing_wip(study, live_scenario)
    (ax,) = fig.axes
    assert_units(fig)
    cust = study.customers[study.customers["scenario"] == live_scenario]
    open_now = cust[cust["state"] == "onboarding"]
    ages = np.sort(HORIZON_DAYS - open_now["onboarding_day"].to_numpy())
    (dots,) = [c for c in ax.collections if c.get_label() == "open onboarding"]
    np.testing.assert_allclose(np.sort(np.asarray(dots.get_offsets())[:, 1]), ages)
    lead = lead_times_after_warmup(study, live_scenario)
    for q in (50, 85, 95):
        assert f"{q}%: {np.percentile(lead, q):.0f} days" in legend_labels(fig)


# ---------------------------------------------------------------- the lead and the team
def test_lead_week_stacks_add_up_to_the_total_hours(study: StudyResults):
    fig = charts.lead_week(study)
    (ax,) = fig.axes
    assert_units(fig)
    assert "hours/week" in ax.get_xlabel()
    ticks = [t.get_text().replace("\n", "") for t in ax.get_yticklabels()]
    assert ticks == NAMES
    columns = [f"lead_{a}_hours_per_week" for a in LEAD_ACTIVITIES]
    totals = study.per_rep.groupby("scenario")[columns].mean().sum(axis=1)
    series = bars(ax)
    assert list(series) == [charts.ACTIVITY_LABELS[a] for a in LEAD_ACTIVITIES]
    assert all(len(patches) == len(NAMES) for patches in series.values())
    drawn = row_totals(ax)
    np.testing.assert_allclose(drawn, totals.loc[NAMES].to_numpy())
    np.testing.assert_allclose(drawn, 45.0, rtol=1e-6)  # the lead's capacity, every hour booked
    labels = legend_labels(fig)
    assert labels[: len(LEAD_ACTIVITIES)] == [charts.ACTIVITY_LABELS[a] for a in LEAD_ACTIVITIES]
    assert "capacity (hours/week)" in labels
    capacity = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert capacity and capacity[0].get_label() == "capacity (hours/week)"
    # each activity has its fixed colour, and its segments are the per-replication means
    for activity in LEAD_ACTIVITIES:
        patches = series[charts.ACTIVITY_LABELS[activity]]
        assert {to_hex(b.get_facecolor()) for b in patches} == {charts.ACTIVITY_COLOURS[activity]}
        means = study.per_rep.groupby("scenario")[f"lead_{activity}_hours_per_week"].mean()
        np.testing.assert_allclose([b.get_width() for b in patches], means.loc[NAMES])
    assert_no_overlap(ax.get_yticklabels())


def test_lead_week_subset(study: StudyResults):
    fig = charts.lead_week(study, ["wip[limit=4]", "baseline"])
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert ticks == ["wip[limit=4]", "baseline"]
    with pytest.raises(ValueError, match="unknown scenario"):
        charts.lead_week(study, ["nope"])


def test_contractor_time_sums_to_one(study: StudyResults):
    fig = charts.contractor_time(study)
    (ax,) = fig.axes
    assert_units(fig)
    assert "%" in ax.get_xlabel()
    np.testing.assert_allclose(row_totals(ax), 1.0, atol=1e-9)
    means = study.per_rep.groupby("scenario")["contractor_blocked_share"].mean()
    (blocked,) = [p for label, p in bars(ax).items() if label.startswith("blocked")]
    np.testing.assert_allclose([b.get_width() for b in blocked], means.loc[NAMES].to_numpy())


# ---------------------------------------------------------------- customers and revenue
def test_health_mix(study: StudyResults):
    fig = charts.health_mix(study, "wip[limit=4]")
    ax, churn = fig.axes
    assert_units(fig)
    assert "wip[limit=4]" in ax.get_title()
    labels = legend_labels(fig)
    assert {"green (healthy)", "yellow (at risk)", "red (unhappy)"} <= set(labels)
    active = sum(mean_daily(study, "wip[limit=4]", c) for c in ("green", "yellow", "red"))
    np.testing.assert_allclose(stack_top(ax), active.to_numpy(), atol=1e-9)
    (line,) = churn.get_lines()
    np.testing.assert_allclose(
        np.asarray(line.get_ydata(), dtype=float),
        mean_daily(study, "wip[limit=4]", "churned").to_numpy(),
    )


def test_arr_over_time_lines_and_ci_bands(study: StudyResults):
    fig = charts.arr_over_time(study)
    (ax,) = fig.axes
    assert_units(fig)
    assert "95% CI" in ax.get_title()
    lines = [ln for ln in ax.get_lines() if not str(ln.get_label()).startswith("_")]
    assert [ln.get_label() for ln in lines] == NAMES
    colours = charts.scenario_colours(study.names)
    assert [to_hex(ln.get_color()) for ln in lines] == [colours[n] for n in NAMES]
    assert set(NAMES) <= set(legend_labels(fig))
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == len(NAMES), "one CI band per scenario"
    # the band at one day is the t-interval across replications
    name, day = "wip[limit=4]", 100.0
    rows = study.timeseries[
        (study.timeseries["scenario"] == name) & (study.timeseries["day"] == day)
    ]
    est = mean_ci(rows["arr"])
    band = np.asarray(bands[NAMES.index(name)].get_paths()[0].vertices)
    at_day = band[np.isclose(band[:, 0], day / 5), 1]
    assert est.half_width > 0
    assert min(at_day) == pytest.approx(est.low) and max(at_day) == pytest.approx(est.high)


# ---------------------------------------------------------------- comparisons
def test_forest_plot(study: StudyResults):
    fig = charts.forest_plot(study)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == len(METRICS), "one panel per metric"
    assert_units(fig)
    others = [n for n in NAMES if n != study.reference]
    colours = charts.scenario_colours(study.names)
    diffs = study.differences.set_index(["scenario", "metric"])
    for ax, metric in zip(visible, METRICS, strict=True):
        assert metric in ax.get_title()
        assert ax.get_xlabel().startswith("difference (")
        assert any(
            isinstance(ln, Line2D) and np.allclose(ln.get_xdata(), 0) for ln in ax.get_lines()
        ), "zero line"
        points = {
            str(c.get_label()): c.lines[0]
            for c in ax.containers
            if isinstance(c, ErrorbarContainer)
        }
        scale = 100 if metric == "promises_kept_share" else 1
        for name in others:
            diff = diffs.loc[(name, metric), "diff"]
            if np.isnan(diff):
                assert name not in points
                continue
            point = points[name]
            assert to_hex(point.get_color()) == colours[name], "points coloured by scenario"
            assert float(np.asarray(point.get_xdata())[0]) == pytest.approx(diff * scale)
    ticks = [t.get_text().replace("\n", "") for t in visible[0].get_yticklabels()]
    assert ticks == others
    assert "pp" in visible[2].get_xlabel() or "percentage points" in visible[2].get_xlabel()


def test_forest_plot_chosen_metrics(study: StudyResults):
    fig = charts.forest_plot(study, ["churned"])
    assert [ax.get_visible() for ax in fig.axes] == [True]
    with pytest.raises(ValueError, match="no paired differences"):
        charts.forest_plot(study, ["not_a_metric"])


def test_sweep_curve_knee_ci_and_littles_law(study: StudyResults):
    fig = charts.sweep_curve(study)
    ax_live, ax_lead = fig.axes
    assert_units(fig)
    assert "customers/quarter" in ax_live.get_ylabel()
    assert "working days" in ax_lead.get_ylabel()
    assert "WIP limit" in ax_live.get_xlabel()
    assert [float(t) for t in ax_live.get_xticks()] == [1.0, 2.0, 4.0]
    table = study.scenarios[study.scenarios["metric"] == "go_lives_per_quarter"]
    means = table.set_index("scenario").loc[SWEEP, "mean"].to_numpy()
    line = next(ln for ln in ax_live.get_lines() if ln.get_label() == "go-lives per quarter")
    np.testing.assert_allclose(np.asarray(line.get_ydata(), dtype=float), means)
    knee_value = [1, 2, 4][int(np.argmax(means))]
    knee = [ln for ln in ax_live.get_lines() if str(ln.get_label()).startswith("knee")]
    assert len(knee) == 1 and f"limit={knee_value}" in str(knee[0].get_label())
    assert float(np.asarray(knee[0].get_xdata())[0]) == knee_value
    bands = [c for c in ax_live.collections if isinstance(c, PolyCollection)]
    assert bands and "95% CI" in str(bands[0].get_label())
    littles = next(ln for ln in ax_lead.get_lines() if ln.get_label() == "Little's law: L/λ")
    rate = means / 65  # go-lives per working day
    expected = np.where(rate > 0, np.array([1, 2, 4]) / np.where(rate > 0, rate, 1), np.nan)
    np.testing.assert_allclose(np.asarray(littles.get_ydata(), dtype=float), expected)
    assert fig is not charts.sweep_curve(study, "wip")


def test_sweep_curve_needs_a_sweep(study: StudyResults):
    with pytest.raises(ValueError, match="no scenario named like 'nope"):
        charts.sweep_curve(study, "nope")
    no_sweep = only(study, ["baseline", "advisor"])
    with pytest.raises(ValueError, match="at least 3"):
        charts.sweep_curve(no_sweep)
    assert "sweep_curve" not in charts.study_figures(no_sweep)


def test_warmup_plot(study: StudyResults):
    with pytest.raises(ValueError, match="MSER-5"):
        charts.warmup_plot(study)
    days = np.arange(150.0)
    pilot = pd.DataFrame(
        {"day": days, "lead_backlog": np.minimum(days, 40.0), "truncation_day": 40}
    )
    fig = charts.warmup_plot(dataclasses.replace(study, warmup=pilot))
    (ax,) = fig.axes
    assert_units(fig)
    assert "truncation: day 40 (week 8)" in legend_labels(fig)
    assert "MSER-5" in ax.get_title()


# ---------------------------------------------------------------- all of them
def test_study_figures_keys_and_pngs(study: StudyResults, tmp_path: Path):
    figures = charts.study_figures(study)
    assert list(figures) == [
        "sweep_curve",
        "forest",
        "lead_week",
        "contractors",
        "arr",
        "health",
        "cfd_onboarding",
        "cfd_tickets",
        "lead_time_scatter",
        "throughput",
        "ageing_wip",
        *(
            f"{chart}__{re.sub(r'[^A-Za-z0-9]+', '_', best).strip('_')}"
            for best in [charts.best_scenario(study)]
            if best is not None
            for chart in (
                "health",
                "cfd_onboarding",
                "lead_time_scatter",
                "throughput",
                "ageing_wip",
            )
        ),
    ]
    assert charts.best_scenario(study) != study.reference
    for name, fig in figures.items():
        assert isinstance(fig, Figure)
        assert fig.axes, name
        assert fig.get_suptitle() or any(ax.get_title() for ax in fig.axes), f"{name}: no title"
        assert_units(fig)
        path = tmp_path / f"{name}.png"
        fig.savefig(path, dpi=80)
        width, height = png_size(path)
        assert width >= 500 and height >= 250, name
        assert path.stat().st_size > 15_000, f"{name}: a nearly empty image"
    # a notebook cell ending in a chart shows it, without pyplot's inline backend
    week = figures["lead_week"]
    assert isinstance(week, charts.ChartFigure)
    assert week._repr_png_().startswith(b"\x89PNG")
    pilot = pd.DataFrame({"day": [0.0, 1.0, 2.0], "lead_backlog": [0, 1, 1], "truncation_day": 1})
    with_pilot = charts.study_figures(dataclasses.replace(study, warmup=pilot))
    assert list(with_pilot)[-1] == "warmup"


MM1_STUDY = """
    name: mm1
    base: {base}
    replications: 3
    seed: 5
    horizon_weeks: 60
    warmup_weeks: 5
    metrics: [ticket_resolution_mean_days]
    sweeps:
      - name: rate
        grid: {{tickets.per_customer_per_week: [20, 28, 32]}}
"""
# Customers who ping the lead directly: with interrupts off the pings join his backlog,
# a second arrival stream in front of him, so the model is no longer M/M/1.
DIRECT_PINGS = {
    "interrupts": {
        "enabled": False,
        "direct_access": {"enabled": True, "customers": 1, "pings_per_week": 3},
    }
}


@pytest.fixture(scope="module")
def mm1_study(tmp_path_factory: pytest.TempPathFactory) -> StudyResults:
    """A sweep of the ticket rate on the model reduced to M/M/1 (conftest's reduced config)."""
    root = tmp_path_factory.mktemp("mm1_study")
    base = root / "mm1.yaml"
    base.write_text(dump_yaml(reduced_params()), encoding="utf-8")
    spec = root / "mm1_sweep.yaml"
    spec.write_text(textwrap.dedent(MM1_STUDY.format(base=base)), encoding="utf-8")
    out = root / "out"
    result = CliRunner().invoke(
        main, ["experiment", str(spec), "--workers", "1", "--no-report", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    return read_study(out)


def with_configs(
    study: StudyResults, edit: Callable[[dict[str, Any]], dict[str, Any]]
) -> StudyResults:
    """The study with each scenario's resolved config in the manifest replaced by ``edit(it)``."""
    scenarios = [
        {**s, "resolved_config": edit(s["resolved_config"])} for s in study.manifest["scenarios"]
    ]
    return dataclasses.replace(study, manifest={**study.manifest, "scenarios": scenarios})


def mm1_lines(fig: Figure) -> list[Line2D]:
    return [ln for ax in fig.axes for ln in ax.get_lines() if ln.get_label().startswith("M/M/1")]


def test_sweep_curve_adds_the_mm1_formula_where_the_model_reduces_to_it(mm1_study: StudyResults):
    """A sweep of the ticket rate on the model reduced to M/M/1 gets a third panel: the
    measured mean time in system against W = 1/(mu - lambda) from each scenario's config."""
    fig = charts.sweep_curve(mm1_study, "rate")
    assert len(fig.axes) == 3
    (line,) = mm1_lines(fig)
    assert line.axes is fig.axes[2]
    # lead at speed 1 (40 h/week), efforts of mean 1 h: W = 1/(1 - lambda) hours, 8 h a day
    expected = [1 / (1 - r / 40) / 8 for r in (20, 28, 32)]
    np.testing.assert_allclose(line.get_ydata(), expected)
    formula = [
        mm1_time_in_system_days(Params.model_validate(s["resolved_config"]))
        for s in mm1_study.manifest["scenarios"]
    ]
    np.testing.assert_allclose(formula, expected)
    measured = mm1_study.scenarios.query("metric == 'ticket_resolution_mean_days'")["mean"]
    np.testing.assert_allclose(measured.to_numpy(), expected, rtol=0.25)


def test_sweep_curve_without_resolved_configs_has_no_mm1_reference(mm1_study: StudyResults):
    fig = charts.sweep_curve(with_configs(mm1_study, lambda config: {}), "rate")
    assert len(fig.axes) == 2
    assert not mm1_lines(fig)


def test_direct_access_pings_get_no_mm1_reference(mm1_study: StudyResults):
    """Direct pings with interrupts off used to be missed: the chart drew the M/M/1 formula
    for a queue with a second arrival stream."""
    assert mm1_time_in_system_days(reduced_params()) is not None
    assert mm1_time_in_system_days(reduced_params(DIRECT_PINGS)) is None
    pinged = with_configs(mm1_study, lambda config: deep_merge(config, DIRECT_PINGS))
    fig = charts.sweep_curve(pinged, "rate")
    assert len(fig.axes) == 2, "no M/M/1 panel"
    assert not mm1_lines(fig)


# ---------------------------------------------------------------- the scenarios a report features
def with_means(study: StudyResults, metric: str, means: dict[str, float]) -> StudyResults:
    """The study with ``metric`` of each named scenario's replications set to a constant."""
    per_rep = study.per_rep.copy()
    for name, value in means.items():
        per_rep.loc[per_rep["scenario"] == name, metric] = value
    return dataclasses.replace(study, per_rep=per_rep)


def expected_best(study: StudyResults) -> str | None:
    """The rule, recomputed: the first metric (in the study's order, all four of the
    small study's have a better direction) on which a scenario's mean beats the
    reference's; the best mean on it wins."""
    higher = {"go_lives_per_quarter": True, "onboarding_lead_time_p85_days": False}
    higher |= {"promises_kept_share": True, "arr_at_horizon": True}
    for metric in study.metrics:
        means = study.per_rep.groupby("scenario")[metric].mean().dropna()
        sign = 1 if higher[metric] else -1
        others = (means * sign).drop(study.reference)
        winners = others[others > means[study.reference] * sign + 1e-9]
        if not winners.empty:
            return str(winners.idxmax())
    return None


def test_best_scenario_does_best_on_the_first_metric_and_a_tie_is_no_win(study: StudyResults):
    assert charts.best_scenario(study) == expected_best(study)
    # wip[limit=2] has the most go-lives: it is the best, whatever the other metrics say
    rigged = with_means(study, "go_lives_per_quarter", {n: 1.0 for n in NAMES})
    rigged = with_means(rigged, "go_lives_per_quarter", {"wip[limit=2]": 9.0})
    assert charts.best_scenario(rigged) == "wip[limit=2]"
    assert charts.scenario_role(rigged, "wip[limit=2]") == "highest go_lives_per_quarter"
    assert charts.scenario_role(rigged, study.reference) == "reference"
    assert charts.scenario_role(rigged, "baseline") == ""
    # a tie with the reference is no win: the next metric decides (lower is better)
    tied = with_means(study, "go_lives_per_quarter", {n: 2.0 for n in NAMES})
    tied = with_means(tied, "onboarding_lead_time_p85_days", {n: 50.0 for n in NAMES})
    tied = with_means(tied, "onboarding_lead_time_p85_days", {"wip[limit=1]": 10.0})
    assert charts.best_scenario(tied) == "wip[limit=1]"
    assert "lowest onboarding_lead_time_p85_days" in charts.best_reason(tied)
    assert "No scenario beats the reference on go_lives_per_quarter" in charts.best_reason(tied)
    nobody = with_means(study, "go_lives_per_quarter", {n: 2.0 for n in NAMES})
    for metric in METRICS[1:]:
        nobody = with_means(nobody, metric, {n: 0.5 for n in NAMES})
    assert charts.best_scenario(nobody) is None


def test_single_scenario_charts_are_drawn_for_the_reference_and_the_best(study: StudyResults):
    rigged = with_means(study, "go_lives_per_quarter", {"wip[limit=2]": 99.0})
    figures = charts.study_figures(rigged)
    role = "wip[limit=2] (highest go_lives_per_quarter)"
    for chart in ("cfd_onboarding", "lead_time_scatter", "throughput", "ageing_wip", "health"):
        reference, best = figures[chart], figures[f"{chart}__wip_limit_2"]
        assert charts.figure_scenario(rigged, chart) == rigged.reference
        assert charts.figure_scenario(rigged, f"{chart}__wip_limit_2") == "wip[limit=2]"
        titles = [best.get_suptitle(), *(ax.get_title() for ax in best.axes)]
        assert any(role in t for t in titles), f"{chart}: the best is named with its role"
        titles = [reference.get_suptitle(), *(ax.get_title() for ax in reference.axes)]
        assert any(f"{rigged.reference} (reference)" in t for t in titles), chart
    # the best's own data: its onboarding flow tops out at its own signed curve
    (ax,) = figures["cfd_onboarding__wip_limit_2"].axes
    np.testing.assert_allclose(
        stack_top(ax), mean_daily(study, "wip[limit=2]", "signed").to_numpy(), atol=1e-9
    )
    assert not [k for k in figures if "__" in k and "wip_limit_2" not in k], "only the best"


def test_a_study_of_few_scenarios_draws_every_scenario(study: StudyResults):
    few = only(study, ["baseline", "advisor", "wip[limit=4]"])
    figures = charts.study_figures(few)
    for tag in ("baseline", "wip_limit_4"):
        assert {f"{c}__{tag}" for c in ("cfd_onboarding", "throughput", "ageing_wip")} <= set(
            figures
        )
    assert "wip[limit=4]" in figures["lead_time_scatter__wip_limit_4"].axes[0].get_title()


def test_percentile_labels_sit_outside_the_data_area(study: StudyResults, live_scenario: str):
    for fig in (
        charts.lead_time_scatter(study, live_scenario),
        charts.ageing_wip(study, live_scenario),
    ):
        fig.draw_without_rendering()
        ax = fig.axes[0]
        right = ax.get_window_extent().x1
        labels = [t for t in ax.texts if "%:" in t.get_text()]
        assert len(labels) == 3
        boxes = [t.get_window_extent() for t in labels]
        assert all(box.x0 >= right for box in boxes), "labels right of the axes"
        for a, b in zip(boxes, boxes[1:], strict=False):
            assert not a.overlaps(b), "percentile labels overlap"


def test_arr_highlights_the_reference_and_the_best_and_labels_each_line(study: StudyResults):
    rigged = with_means(study, "go_lives_per_quarter", {"wip[limit=2]": 99.0})
    fig = charts.arr_over_time(rigged)
    (ax,) = fig.axes
    lines = {str(ln.get_label()): ln for ln in ax.get_lines()}
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    bands = dict(zip(NAMES, bands, strict=True))
    strong = {rigged.reference, "wip[limit=2]"}
    thin = [n for n in NAMES if n not in strong]
    for name in strong:
        for other in thin:
            assert lines[name].get_linewidth() > 2 * lines[other].get_linewidth()
            assert (lines[name].get_alpha() or 1.0) > (lines[other].get_alpha() or 1.0)
            assert bands[name].get_alpha() > 3 * bands[other].get_alpha()
            assert lines[name].get_zorder() > lines[other].get_zorder(), "drawn on top"
    assert "wip[limit=2] (highest go_lives_per_quarter)" in legend_title(fig)
    # every line named at its right end, outside the axes, no two labels overlapping
    fig.draw_without_rendering()
    right = ax.get_window_extent().x1
    labels = {t.get_text().split(":")[0]: t for t in ax.texts}
    assert set(labels) == {
        *thin,
        f"{rigged.reference} (reference)",
        "wip[limit=2] (highest go_lives_per_quarter)",
    }
    # the text's own box (an annotation's box also spans its leader line)
    boxes = sorted((Text.get_window_extent(t) for t in labels.values()), key=lambda b: b.y0)
    assert all(box.x0 >= right for box in boxes)
    for a, b in zip(boxes, boxes[1:], strict=False):
        assert not a.overlaps(b), "end labels overlap"


def legend_title(fig: Figure) -> str:
    return " ".join(leg.get_title().get_text() for leg in fig.legends)


def test_labels_are_nudged_apart_within_bounds():
    from flowsim.reporting.charts.base import _spread

    placed = _spread([5.0, 5.0, 5.1, 20.0, 0.0], gap=1.0, low=0.0, high=21.0)
    assert placed[3] == 20.0 and placed[4] == 0.0, "labels with room stay at their values"
    middle = sorted(placed[:3])
    assert np.diff(middle) == pytest.approx([1.0, 1.0])
    assert np.mean(middle) == pytest.approx(np.mean([5.0, 5.0, 5.1]))
    crowded = _spread([10.0, 10.0, 10.0], gap=1.0, low=0.0, high=10.0)
    assert max(crowded) == pytest.approx(10.0) and sorted(crowded) == pytest.approx([8, 9, 10])


def test_report_captions_name_scenarios_as_the_study_does(study: StudyResults):
    from flowsim.reporting.html import figure_caption, write_report

    rigged = with_means(study, "go_lives_per_quarter", {"wip[limit=2]": 99.0})
    caption = figure_caption(rigged, "cfd_onboarding__wip_limit_2")
    assert "<code>wip[limit=2]</code>" in caption and "wip_limit_2" not in caption
    assert "highest go_lives_per_quarter" in caption
    assert f"<code>{rigged.reference}</code> (reference)" in figure_caption(rigged, "throughput")
    assert "wip[limit=2]" in figure_caption(rigged, "arr")
    page = write_report(study.folder).read_text(encoding="utf-8")
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", page, flags=re.S)
    assert captions and not any(re.search(r"wip_limit_\d", c) for c in captions)
    best = charts.best_scenario(study)
    if best is not None:
        assert any(f"<code>{best}</code>" in c for c in captions)
