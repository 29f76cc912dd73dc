"""flowsim fit: observables of a table of work items, the fit, and the command line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from flowsim.cli.fit import fit_command
from flowsim.config.loader import load_config
from flowsim.data.items import COLUMNS
from flowsim.fitting.fit import fit_company
from flowsim.fitting.observed import (
    change_points,
    km_percentile,
    observe_items,
    order_percentile,
    poisson_interval,
)
from flowsim.fitting.synthetic import items_from_result
from flowsim.model.results import simulate

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "configs" / "baseline.yaml"


def table(rows: list[dict[str, object]]) -> pd.DataFrame:
    """A tidy table from rows giving some columns (times as ISO text)."""
    frame = pd.DataFrame(rows)
    for name, dtype in COLUMNS.items():
        if name not in frame:
            frame[name] = None
        if dtype.startswith("datetime"):
            frame[name] = pd.to_datetime(frame[name], utc=True)
        elif dtype == "string":
            frame[name] = frame[name].astype("string")
    frame["source_row"] = np.arange(2, len(frame) + 2)
    frame["blocked_hours"] = np.nan
    return frame[list(COLUMNS)]


def hand_made() -> pd.DataFrame:
    rows = []
    # Two customers, live all along, over four weeks (2025-01-06 is a Monday).
    for k in range(8):
        day = pd.Timestamp("2025-01-06") + pd.Timedelta(days=(k // 2) * 7 + 1)
        rows.append(
            {
                "id": f"T{k}",
                "kind": "ticket",
                "class": "urgent" if k < 2 else "normal",
                "customer": "a" if k % 2 else "b",
                "created": f"{day:%Y-%m-%d}T10:00:00Z",
                "done": None if k == 7 else f"{day + pd.Timedelta(days=1):%Y-%m-%d}T10:00:00Z",
                "assignee": "Lead" if k < 6 else "Contractor",
            }
        )
    rows.append(
        {
            "id": "X",
            "kind": "ask",
            "created": "2025-02-03T10:00:00Z",
            "done": "2025-02-03T12:00:00Z",
            "assignee": "Lead",
        }
    )
    return table(rows)


def test_observables_of_a_hand_made_table() -> None:
    obs = observe_items(hand_made())
    assert obs.lead == "Lead"  # the assignee of the most items
    assert obs.value("ticket_urgent_share") == pytest.approx(2 / 8)
    assert obs.value("ticket_normal_lead_share") == pytest.approx(4 / 6)
    assert obs.value("ask_lead_share") == 1.0
    # Eight tickets from two customers live for the whole span.
    weeks = obs.weeks
    assert obs.value("tickets_per_customer_per_week") == pytest.approx(8 / (2 * weeks))
    assert obs.value("live_customers_at_start") == 2
    # Tuesday 10:00 to Wednesday 10:00 is one working day.
    assert obs.value("ticket_urgent_p85_days_km") == pytest.approx(1.0)
    assert obs.value("tickets_open_at_end") == 1


def test_percentiles_count_open_items_as_censored() -> None:
    times = np.array([1.0, 2.0, 3.0, 4.0])
    value, low, high = km_percentile(times, np.array([True, True, False, True]), 0.5)
    assert value == 2.0  # S(1) = 3/4, S(2) = 1/2
    assert low <= value <= high
    # All open: no estimate; the curve never falls to 0.15 when the longest is open.
    assert np.isnan(km_percentile(times, np.zeros(4, dtype=bool), 0.5)[0])
    assert np.isnan(km_percentile(times, np.array([True, True, True, False]), 0.85)[0])
    assert km_percentile(times, np.ones(4, dtype=bool), 0.85)[0] == 4.0
    v, lo, hi = order_percentile(np.arange(1.0, 101.0), 0.85)
    assert v == pytest.approx(85.15) and lo < v < hi
    assert np.isinf(order_percentile(np.array([1.0, 2.0]), 0.5)[2])


def test_poisson_interval_and_change_points() -> None:
    low, high = poisson_interval(10, 5.0)
    assert low < 2.0 < high
    assert poisson_interval(0, 5.0)[0] == 0.0
    rng = np.random.default_rng(1)
    step = np.concatenate([rng.poisson(5, 30), rng.poisson(15, 20)])
    found = change_points(step)
    assert len(found) >= 1 and min(abs(k - 30) for k in found) <= 2
    assert change_points(rng.poisson(8, 50)) == []


def synthetic(effort: float, seed: int) -> pd.DataFrame:
    sets = (
        "simulation.horizon_weeks=39",
        "churn.monthly_hazard=0",
        "sales.new_customers_per_month=0.5",
        f"tickets.classes.normal.effort.mean={effort}",
    )
    result = simulate(load_config(BASE, (), sets), seed=seed)
    return items_from_result(result, "2025-01-06", since_day=65)  # the warm-up left out


def test_fit_recovers_the_config_a_table_was_simulated_from(tmp_path: Path) -> None:
    items = synthetic(4.0, seed=3)
    fit = fit_company(
        items,
        BASE,
        budget=8,
        workers=1,
        folder=tmp_path / "fit",
        free=["tickets.classes.normal.effort.mean"],
        replications=2,
        confirm=3,
    )
    p = fit.parameters.set_index("key")
    truth = {
        "tickets.per_customer_per_week": 0.853,
        "tickets.classes.normal.share": 0.5,
        "tickets.classes.urgent.lead_share": 0.7,
        "tickets.classes.normal.lead_share": 0.7,
    }
    for key, value in truth.items():
        assert p.loc[key, "low"] <= value <= p.loc[key, "high"], key
    assert p.loc["customers.initial_live", "value"] >= 18
    # The written config loads, and the report compares each target.
    (tmp_path / "company.yaml").write_text(fit.config_text)
    loaded = load_config(tmp_path / "company.yaml")
    assert (
        loaded.tickets.classes["normal"].effort.mean
        == fit.run.best["tickets.classes.normal.effort.mean"]
    )
    assert "# estimated from the table" in fit.config_text and "# fitted" in fit.config_text
    assert {"target", "estimate"} <= set(fit.report["role"])
    assert (tmp_path / "fit" / "report.md").exists()


def test_more_effort_in_the_data_fits_more_effort() -> None:
    fitted = {}
    for effort in (2.0, 8.0):
        fit = fit_company(
            synthetic(effort, seed=5),
            BASE,
            budget=12,
            workers=1,
            free=["tickets.classes.normal.effort.mean"],
            replications=2,
            confirm=2,
        )
        fitted[effort] = fit.run.best["tickets.classes.normal.effort.mean"]
    assert fitted[8.0] > fitted[2.0]


def test_until_cuts_what_was_known() -> None:
    items = hand_made()
    obs = observe_items(items, until=pd.Timestamp("2025-01-14T12:00", tz="UTC"))
    assert obs.get("tickets_open_at_end") is not None
    assert obs.end == pd.Timestamp("2025-01-14T12:00", tz="UTC")
    assert obs.value("tickets_open_at_end") == 2  # done after the cutoff: open then


@pytest.mark.parametrize(
    ("make", "args", "says"),
    [
        (None, [], "no such table of work items"),
        (lambda: pd.DataFrame({"x": [1, 2]}), [], "expected the table of work items"),
        (lambda: hand_made().iloc[:0], [], "no work items"),
        (hand_made, ["--until", "2020-01-01"], "before the table's tickets"),
        (hand_made, ["--until", "soon"], "expected a date"),
        (hand_made, ["--lead", "Nobody"], "no assignee"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, make, args, says) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "items.parquet"
    if make is not None:
        make().to_parquet(data)
    result = CliRunner().invoke(
        fit_command, [str(data), "--base", str(BASE), "--out", str(tmp_path / "c.yaml"), *args]
    )
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and says in lines[0], lines
    assert "Traceback" not in result.output
    assert not (tmp_path / "c.yaml").exists()


def test_the_team_is_read_from_the_assignees() -> None:
    """Whoever besides the lead holds onboarding work is a developer; whoever holds only
    tickets is support; someone holding a stray item or two is neither."""
    rows = []
    for k in range(30):
        who = ("Lead", "Dev A", "Desk")[k % 3]
        kind = "onboarding" if who == "Dev A" else "ticket"
        rows.append(
            {
                "id": f"I{k}",
                "kind": kind,
                "class": "how_to" if kind == "ticket" else None,
                "customer": "c" if kind == "onboarding" else "d",
                "created": f"2025-01-{6 + k % 20:02d}T10:00:00Z",
                "assignee": who,
            }
        )
    rows.append(
        {
            "id": "Z",
            "kind": "ticket",
            "class": "normal",
            "customer": "d",
            "created": "2025-01-07T10:00:00Z",
            "assignee": "Passer-by",
        }
    )
    obs = observe_items(table(rows), lead="Lead")
    assert obs.value("team_developers") == 1
    assert obs.value("team_support") == 1
    assert obs.get("team_support")["note"] == "Desk"


def test_the_onboarding_task_cycle_time_follows_the_task_effort() -> None:
    """The model's onboarding task p85 (the fit's target for task effort) grows with
    the effort, on the same seeds."""
    light = load_config(BASE, (), ["simulation.horizon_weeks=40", "onboarding.task_effort.mean=1"])
    heavy = load_config(BASE, (), ["simulation.horizon_weeks=40", "onboarding.task_effort.mean=12"])
    low = [simulate(light, s).summary["onboarding_task_p85_days"] for s in (1, 2, 3)]
    high = [simulate(heavy, s).summary["onboarding_task_p85_days"] for s in (1, 2, 3)]
    assert np.mean(high) > np.mean(low)
