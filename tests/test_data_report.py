"""The report on imported tracker data: its charts, its table and its Kaplan-Meier
percentiles (``flowsim.reporting.data_report``, ``flowsim.reporting.charts.tracker``)."""

from __future__ import annotations

import base64
import io
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from flowsim.data import import_export
from flowsim.data.items import DataError, empty_columns, make_items
from flowsim.reporting.charts.tracker import (
    KM_NOTE,
    cfd_counts,
    cycle_stats,
    items_ageing_wip,
    items_cumulative_flow,
    items_cycle_time_scatter,
    items_throughput,
    weekly_counts,
)
from flowsim.reporting.data_report import (
    data_table,
    format_data_table,
    read_items,
    write_data_report,
)
from flowsim.stats import product_limit
from flowsim.storage import write_frame

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "examples" / "data"
SAMPLES = {
    "tracker": (DATA / "tracker.csv", None),
    "jira_export": (DATA / "jira_export.csv", DATA / "jira_map.yaml"),
    "trello_board": (DATA / "trello_board.json", DATA / "trello_map.yaml"),
}
PNG = b"\x89PNG\r\n\x1a\n"
T0 = pd.Timestamp("2025-03-03T09:00:00Z")  # a Monday
CHARTS = (items_cumulative_flow, items_cycle_time_scatter, items_throughput, items_ageing_wip)


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each sample export imported into a table, as ``flowsim import`` writes it."""
    folder = tmp_path_factory.mktemp("items")
    paths = {}
    for name, (export, mapping) in SAMPLES.items():
        paths[name] = folder / f"{name}.parquet"
        write_frame(paths[name], import_export(export, mapping=mapping).items)
    return paths


def items(
    rows: list[tuple[float, float | None, float | None]], kind: str = "ticket"
) -> pd.DataFrame:
    """A table of work items from (created, started, done) in days after ``T0``."""
    columns = empty_columns()

    def at(days: float | None) -> pd.Timestamp | None:
        return None if days is None else T0 + pd.Timedelta(days=days)

    for i, (created, started, done) in enumerate(rows):
        values = {"id": f"X-{i}", "kind": kind, "created": at(created), "started": at(started)}
        values |= {"done": at(done), "source_row": i + 2}
        for name in columns:
            columns[name].append(values.get(name))
    return make_items(columns)


def rendered(fig: object) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=40)  # type: ignore[attr-defined]
    return buffer.getvalue()


# ---------------------------------------------------------------- the report
@pytest.mark.parametrize("name", list(SAMPLES))
def test_the_report_of_each_sample_embeds_its_charts(samples: dict[str, Path], name: str) -> None:
    page = write_data_report(samples[name])
    assert page == samples[name].with_name(f"{name}_report.html")
    text = page.read_text(encoding="utf-8")
    folder = page.parent / f"{name}_figures"
    pngs = sorted(folder.glob("*.png"))
    assert [p.stem for p in pngs] == ["ageing_wip", "cumulative_flow", "cycle_time", "throughput"]
    for png in pngs:
        data = png.read_bytes()
        assert data.startswith(PNG)
        assert base64.b64encode(data).decode("ascii") in text
    assert "Kaplan-Meier" in text and "naive p85" in text
    for kind in ("ticket", "onboarding", "ask"):
        assert f"<td>{kind}</td>" in text


def test_the_report_goes_where_it_is_told_and_reads_csv(samples: dict[str, Path], tmp_path: Path):
    csv = tmp_path / "items.csv"
    write_frame(csv, read_items(samples["tracker"]))
    out = tmp_path / "elsewhere" / "flow.html"
    assert write_data_report(csv, out) == out
    assert out.read_text(encoding="utf-8").startswith("<!doctype html>")
    assert len(list((out.parent / "items_figures").glob("*.png"))) == 4
    pd.testing.assert_frame_equal(
        data_table(read_items(csv)), data_table(read_items(samples["tracker"]))
    )


def test_a_file_that_is_not_a_table_of_items_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(DataError, match="columns 'id' and 'kind' and 'created'"):
        read_items(path)


def test_kaplan_meier_reproduces_the_textbook_6mp_example() -> None:
    """Freireich et al.'s 6-MP remission times in weeks, + censored (Gehan 1965), the
    classic worked example of the product-limit estimate (e.g. Kleinbaum and Klein,
    Survival Analysis, ch. 2): S = .857, .807, .753, .690, .627, .538, .448 at
    6, 7, 10, 13, 16, 22, 23 weeks, so the median is 23."""
    text = "6 6 6 6+ 7 9+ 10 10+ 11+ 13 16 17+ 19+ 20+ 22 23 25+ 32+ 32+ 34+ 35+"
    x = np.array([float(t.rstrip("+")) for t in text.split()])
    observed = np.array([not t.endswith("+") for t in text.split()])
    curve, low, high = product_limit(x, observed)
    assert list(curve.index) == [6, 7, 10, 13, 16, 22, 23]
    expected = [0.857, 0.807, 0.753, 0.690, 0.627, 0.538, 0.448]
    assert np.allclose(curve.to_numpy(), expected, atol=5e-4)
    assert ((low <= curve.to_numpy()) & (curve.to_numpy() <= high)).all()
    assert cycle_stats(x, observed).km[50] == 23.0


# ---------------------------------------------------------------- Kaplan-Meier
def test_kaplan_meier_matches_the_product_limit_by_hand() -> None:
    # Durations 1, 3, 4, 6 done; 2 and 5 still open (censored).  Product limit:
    # S(1) = 5/6, at 2 one leaves the risk set, S(3) = 5/6 * 3/4 = 0.625,
    # S(4) = 0.625 * 2/3 = 0.4167 <= 0.5, so the median is 4; at 5 one leaves, and
    # S(6) = 0, so the 85th and 95th percentiles are 6.
    stats = cycle_stats([1, 2, 3, 4, 5, 6], [True, False, True, True, False, True])
    assert stats.km == {50.0: 4.0, 85.0: 6.0, 95.0: 6.0}
    assert stats.naive[50] == 3.0  # the done ones alone: 1, 3, 4, 6
    assert (stats.done, stats.censored) == (4, 2)
    assert stats.low[50] <= stats.km[50] <= stats.high[50]


def test_five_items_two_censored() -> None:
    # S(2) = 4/5, S(5) = 4/5 * 2/3 = 0.533, S(9) = 0: the median is 9, not 5.
    stats = cycle_stats([2, 3, 5, 7, 9], [True, False, True, False, True])
    assert stats.km[50] == 9.0
    assert stats.naive[50] == 5.0


@pytest.mark.parametrize("n", [1, 7, 20, 40, 101])
def test_without_open_items_kaplan_meier_is_the_naive_percentile(n: int) -> None:
    days = np.random.default_rng(n).exponential(3.0, n).round(2)
    stats = cycle_stats(days, np.ones(n, dtype=bool))
    assert stats.km == stats.naive


def test_a_percentile_not_reached_is_infinite_and_none_done_is_nan() -> None:
    stats = cycle_stats([1, 10, 10, 10], [True, False, False, False])
    assert stats.km[50] == math.inf and stats.longest == 10
    none = cycle_stats([3, 4], [False, False])
    assert all(math.isnan(v) for v in none.km.values())


def test_old_open_items_raise_kaplan_meier_above_the_naive_percentile() -> None:
    # 44 done: 30 in a day, 10 in two, 4 in ten; 6 in progress for five days.  Of the
    # done items alone, 85% took two days at most; but the 6 open ones are already
    # older, and by Kaplan-Meier S(2) = 20/50 * 10/20 = 0.2 > 0.15: the 85th
    # percentile is the next done time, 10 days (the median stays at a day).
    done = [(d, d, d + 1) for d in range(30)] + [(d, d, d + 2) for d in range(10)]
    done += [(d, d, d + 10) for d in range(4)]
    frame = items(done + [(50, 55, None)] * 6)
    ticket = data_table(frame, end=T0 + pd.Timedelta(days=60)).loc["ticket"]
    assert (ticket["naive_p50"], ticket["naive_p85"]) == (1.0, 2.0)
    assert (ticket["km_p50"], ticket["km_p85"]) == (1.0, 10.0)  # S(1) = 0.4 <= 0.5
    # More old open work than the done items can account for: not reached.
    table = data_table(items(done + [(0, 1, None)] * 30), end=T0 + pd.Timedelta(days=60))
    assert table.loc["ticket", "km_p85"] == math.inf
    assert "> 59" in format_data_table(table)


def test_the_table_goes_through_the_clock_of_each_kind() -> None:
    # Started items measure start to done; the waiting one has not started: left out.
    frame = items([(0, 2, 3), (0, 1, 4), (0, None, None), (5, 6, None)])
    table = data_table(frame, end=T0 + pd.Timedelta(days=8))
    row = table.loc["ticket"]
    assert row["clock"] == "start" and row["censored"] == 1
    assert cycle_stats([1, 3, 2], [True, True, False]).km[50] == row["km_p50"]
    # With no start known for the done items, every item counts from its creation.
    unknown = items([(0, None, 3), (0, None, 4), (1, 2, None)])
    row = data_table(unknown, end=T0 + pd.Timedelta(days=8)).loc["ticket"]
    assert row["clock"] == "created" and row["censored"] == 1
    assert row["km_p50"] == 4.0 and row["lead_p85"] == row["km_p85"]


# ---------------------------------------------------------------- flow
@pytest.mark.parametrize("name", list(SAMPLES))
def test_the_cfd_bands_add_up_to_the_arrivals_every_day(samples: dict[str, Path], name: str):
    frame = read_items(samples[name])
    for kind in ("ticket", "onboarding", "ask"):
        flow = cfd_counts(frame, kind=kind)
        assert (flow["waiting"] + flow["in_progress"] + flow["done"] == flow["arrived"]).all()
        assert (flow[["waiting", "in_progress", "done"]] >= 0).all().all()
        created = frame.loc[frame["kind"] == kind, "created"].dt.tz_localize(None)
        ends = flow.index + pd.Timedelta(days=1)
        assert flow["arrived"].tolist() == [int((created < e).sum()) for e in ends]
        assert flow["done"].iloc[-1] == frame.loc[frame["kind"] == kind, "done"].notna().sum()


@pytest.mark.parametrize("name", list(SAMPLES))
def test_throughput_per_week_is_a_groupby_by_calendar_week(samples: dict[str, Path], name: str):
    frame = read_items(samples[name])
    weekly = weekly_counts(frame, "done")
    done = frame[frame["done"].notna()]
    week = done["done"].dt.tz_localize(None).dt.to_period("W-SUN").dt.start_time
    expected = done.groupby([week, done["kind"].astype(object)]).size().unstack(fill_value=0)
    first = frame["created"].min().tz_localize(None).to_period("W-SUN").start_time
    every_week = pd.date_range(first, weekly.index[-1], freq="7D")
    expected = expected.reindex(index=every_week, columns=weekly.columns, fill_value=0)
    assert (weekly.to_numpy() == expected.to_numpy()).all()
    assert (weekly.index == every_week).all()
    table = data_table(frame)
    for kind in weekly.columns:
        assert table.loc[kind, "done_per_week"] == pytest.approx(expected[kind].mean())


# ---------------------------------------------------------------- every chart, every state
def _titles(fig: object) -> str:
    axes = fig.get_axes()  # type: ignore[attr-defined]
    return fig.get_suptitle() + " " + " ".join(ax.get_title(loc="left") for ax in axes)  # type: ignore[attr-defined]


def test_every_chart_renders_with_no_item_done() -> None:
    frame = items([(0, None, None), (1, 2, None), (3, None, None)], "onboarding")
    for chart in CHARTS:
        fig = chart(frame)
        assert rendered(fig).startswith(PNG)
        assert "no item done yet" in fig.get_suptitle(), chart.__name__
    assert "none done" in _titles(items_ageing_wip(frame))


def test_every_chart_renders_with_no_open_item() -> None:
    frame = items([(0, 1, 2), (1, None, 4), (3, 3, 9)], "ask")
    for chart in CHARTS:
        assert rendered(chart(frame)).startswith(PNG)
    assert "no open item at the data's end" in items_ageing_wip(frame).get_suptitle()
    assert KM_NOTE in items_cycle_time_scatter(frame).get_suptitle()


def test_a_single_kind_and_an_empty_table() -> None:
    frame = items([(d, d + 0.5, d + 2) for d in range(12)] + [(10, 11, None)], "ticket")
    for chart in CHARTS:
        fig = chart(frame)
        assert rendered(fig).startswith(PNG)
        assert "ticket:" in _titles(fig)
    assert list(data_table(frame).index) == ["ticket", "all"]
    empty = frame.iloc[0:0]
    for chart in CHARTS:
        fig = chart(empty)
        assert rendered(fig).startswith(PNG)
        assert "no work items" in fig.get_suptitle()
    assert list(data_table(empty).index) == ["all"]


def test_flowsim_report_on_imported_data_prints_the_table_and_writes_the_report(
    tmp_path: Path,
) -> None:
    from click.testing import CliRunner

    from flowsim.cli import main

    data = tmp_path / "items.parquet"
    sample = ROOT / "examples" / "data" / "tracker.csv"
    assert CliRunner().invoke(main, ["import", str(sample), "--out", str(data)]).exit_code == 0
    result = CliRunner().invoke(main, ["report", str(data)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("kind ") and "onboarding" in result.output
    assert (tmp_path / "items_report.html").stat().st_size > 0
    assert (tmp_path / "items_figures" / "cycle_time.png").is_file()
    bad = tmp_path / "other.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    refused = CliRunner().invoke(main, ["report", str(bad)])
    assert refused.exit_code == 2 and len(refused.output.strip().splitlines()) == 1, refused.output
