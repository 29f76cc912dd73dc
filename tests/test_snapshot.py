"""Snapshots (flowsim.data.snapshot) and ``flowsim snapshot``: the open work at a date,
from the table of work items, knowing only what was known then."""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from flowsim.cli.snapshot import snapshot_command
from flowsim.config import ConfigError
from flowsim.config.state import load_state
from flowsim.data import import_export
from flowsim.data.items import empty_columns, make_items
from flowsim.data.snapshot import snapshot
from flowsim.model.state import OpenItem

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "examples" / "data"


def table(rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    """Items from (id, kind, class, customer, created, started, done), times as ISO text."""
    columns = empty_columns()
    for n, (id_, kind, cls, customer, created, started, done) in enumerate(rows, start=2):
        times = [None if t is None else pd.Timestamp(t, tz="UTC") for t in (created, started, done)]
        for name, value in zip(
            ("id", "kind", "class", "customer", "created", "started", "done"),
            (id_, kind, cls, customer, *times),
            strict=True,
        ):
            columns[name].append(value)
        columns["assignee"].append(None)
        columns["blocked_hours"].append(None)
        columns["source_row"].append(n)
    return make_items(columns)


# At Monday 2025-03-03: 'acme' onboarding (one task done, one started, one waiting, one
# done only later, an ask), 'bolt' finished onboarding, 'cask' and 'dune' raising tickets.
ROWS = [
    ("A1", "onboarding", None, "acme", "2025-01-06T09:00", "2025-01-07T09:00", "2025-01-20T12:00"),
    ("A2", "onboarding", None, "acme", "2025-01-08T09:00", "2025-02-24T09:00", None),
    ("A3", "onboarding", None, "acme", "2025-02-10T12:00", None, None),
    ("A4", "onboarding", None, "acme", "2025-02-11T12:00", "2025-03-04T09:00", "2025-03-10T09:00"),
    ("A5", "onboarding", None, "acme", "2025-03-05T09:00", None, None),  # raised after: unknown
    ("K1", "ask", None, "acme", "2025-02-28T15:00", None, None),
    ("K2", "ask", None, "cask", "2025-02-27T09:00", None, None),
    ("K3", "ask", None, None, "2025-02-27T09:00", None, "2025-03-07T09:00"),
    ("B1", "onboarding", None, "bolt", "2025-01-06T10:00", None, "2025-02-03T10:00"),
    ("T1", "ticket", "urgent", "cask", "2025-02-28T12:00", "2025-02-28T13:00", None),
    ("T2", "ticket", None, "dune", "2025-02-25T00:00", None, "2025-03-05T00:00"),
    ("T3", "ticket", "normal", "cask", "2025-02-20T00:00", None, "2025-02-21T00:00"),
    ("T4", "ticket", "how_to", "acme", "2025-03-03T00:00", None, None),
    ("T5", "ticket", "normal", "gone", "2024-10-01T00:00", None, "2024-10-02T00:00"),
]
AT = "2025-03-03"


def test_the_open_work_at_a_date() -> None:
    state = snapshot(table(ROWS), AT, source="t.parquet")
    assert state.as_of == dt.date(2025, 3, 3)
    assert state.source == "t.parquet at 2025-03-03T00:00:00Z"
    (acme,) = state.onboarding
    assert acme.customer == "acme"
    assert acme.age_days == pytest.approx(40.0)  # 8 weeks, from 09:00: a working day's start
    assert acme.tasks_done == 1
    assert acme.tasks_left is None
    assert [(i.id, i.kind, i.started) for i in acme.open] == [
        ("A2", "task", True),
        ("A3", "task", False),
        ("A4", "task", False),  # done after the date: open at it
        ("K1", "ask", False),
    ]
    assert acme.open[-1].age_days == 0.25  # Friday 15:00 to Monday: 2 of its 8 hours
    # bolt's onboarding is done, cask and dune raised tickets; gone's was too long ago.
    assert state.live == ("bolt", "cask", "dune")
    assert [(t.id, t.cls, t.customer, t.started) for t in state.tickets] == [
        ("T2", "normal", "dune", False),  # no class: read as normal, noted
        ("T1", "urgent", "cask", True),
        ("T4", "how_to", "acme", False),  # of a customer onboarding: tied to none, noted
    ]
    assert state.tickets[0].age_days == 4.0
    notes = " | ".join(state.notes)
    assert "2 open ask(s) of no customer being onboarded left out" in notes  # K2, K3
    assert "1 open ticket(s) without a class read as normal" in notes
    assert "1 open ticket(s) of customers not live (acme)" in notes


def test_a_later_date_knows_more() -> None:
    state = snapshot(table(ROWS), "2025-03-06T12:00:00+01:00")
    (acme,) = state.onboarding
    assert [i.id for i in acme.open] == ["A2", "A3", "A4", "K1", "A5"]  # by creation
    assert acme.open[2].started  # A4 started on the 4th
    assert [t.id for t in state.tickets] == ["T1", "T4"]  # T2 done on the 5th


def test_live_customers_can_be_given() -> None:
    assert snapshot(table(ROWS), AT, live=2).live == ("live_1", "live_2")
    state = snapshot(table(ROWS), AT, live=["cask", "x"])
    assert state.live == ("cask", "x")
    assert any("live customers given" in n for n in state.notes)
    with pytest.raises(ConfigError, match="acme onboarding at the snapshot, so not live"):
        snapshot(table(ROWS), AT, live=["acme"])
    # A longer window reaches back to gone's ticket.
    assert "gone" in snapshot(table(ROWS), AT, live_weeks=30).live


@pytest.mark.parametrize(
    ("at", "words"),
    [
        ("2024-09-30", "at: 2024-09-30T00:00:00Z is before the first item, created 2024-10-01"),
        ("2025-03-12", "at: 2025-03-12T00:00:00Z is after the end of the table (2025-03-11"),
        ("soon", "at: expected a date such as 2026-01-05 or an ISO time"),
        ("2025-02-30", "at: expected a date"),
    ],
)
def test_a_date_outside_the_table_is_refused(at: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        snapshot(table(ROWS), at)
    assert words in str(caught.value)


def test_the_day_after_the_last_time_is_allowed() -> None:
    # The last time is Monday 2025-03-10 09:00: the table ends on Tuesday's start.
    assert snapshot(table(ROWS), "2025-03-11").as_of == dt.date(2025, 3, 11)


def test_a_table_without_the_columns_is_refused() -> None:
    with pytest.raises(ConfigError, match="no such column"):
        snapshot(table(ROWS).drop(columns=["customer"]), AT, source="x.csv")


# ---------------------------------------------------------------- the shipped sample
@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return import_export(SAMPLES / "tracker.csv").items


@pytest.fixture(scope="module")
def company() -> list[dict[str, Any]]:
    spec = importlib.util.spec_from_file_location("make_samples", SAMPLES / "make_samples.py")
    assert spec is not None and spec.loader is not None
    module: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [i for i in module.company() if i["kind"] != "epic"]


def test_the_sample_at_its_export(sample: pd.DataFrame, company: list[dict[str, Any]]) -> None:
    state = snapshot(sample, "2026-01-05")
    # make_samples: two of the four customers still onboarding at the export.
    assert [o.customer for o in state.onboarding] == ["sycamore", "yew"]
    for o in state.onboarding:
        tasks = [i for i in company if i["kind"] == "onboarding" and i["customer"] == o.customer]
        assert o.tasks_done == sum(i["done"] is not None for i in tasks)
        assert {i.id for i in o.open} == {i["key"] for i in tasks if i["done"] is None}
    # The 20 customers live all year, and the two onboarded during it.
    assert len(state.live) == 22 and {"hawthorn", "poplar"} <= set(state.live)
    open_tickets = {i["key"] for i in company if i["kind"] == "ticket" and i["done"] is None}
    assert {t.id for t in state.tickets} == open_tickets
    assert all(t.customer in state.live for t in state.tickets)


def test_the_sample_mid_year(sample: pd.DataFrame, company: list[dict[str, Any]]) -> None:
    at = dt.datetime(2025, 6, 2, tzinfo=dt.UTC)
    state = snapshot(sample, at.date())
    assert [o.customer for o in state.onboarding] == ["hawthorn", "poplar"]
    known = [i for i in company if i["created"] <= at]
    for o in state.onboarding:
        tasks = [i for i in known if i["kind"] == "onboarding" and i["customer"] == o.customer]
        done = [i for i in tasks if i["done"] is not None and i["done"] <= at]
        assert o.tasks_done == len(done)
        assert {i.id for i in o.open} == {i["key"] for i in tasks} - {i["key"] for i in done}
    assert len(state.live) == 20 and not {"hawthorn", "poplar"} & set(state.live)
    open_tickets = {
        i["key"] for i in known if i["kind"] == "ticket" and (i["done"] is None or i["done"] > at)
    }
    assert {t.id for t in state.tickets} == open_tickets
    assert all(isinstance(t, OpenItem) and t.age_days >= 0 for t in state.tickets)


# ---------------------------------------------------------------- the command
def run(*args: object) -> Any:
    return CliRunner().invoke(snapshot_command, [str(a) for a in args])


def test_the_command_writes_a_state_file(tmp_path: Path, sample: pd.DataFrame) -> None:
    data = tmp_path / "items.parquet"
    sample.to_parquet(data, index=False)
    out = tmp_path / "state.yaml"
    result = run(data, "--at", "2026-01-05", "--out", out)
    assert result.exit_code == 0, result.output
    assert "22 live customers, 2 onboarding, 0 signed, 9 open tickets" in result.output
    assert "open tickets: urgent 1, normal 5, how_to 3" in result.output
    assert f"wrote {out}" in result.output
    assert load_state(out) == snapshot(sample, "2026-01-05", source=str(data))
    # The CSV that flowsim import --out x.csv writes reads the same.
    csv = tmp_path / "items.csv"
    sample.to_csv(csv, index=False)
    again = tmp_path / "again.yaml"
    assert run(csv, "--at", "2026-01-05", "--out", again, "--live", "3").exit_code == 0
    state = load_state(again)
    assert state.live == ("live_1", "live_2", "live_3")
    assert state.onboarding == load_state(out).onboarding


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["missing.parquet", "--at", "2026-01-05"], "no such file: missing.parquet"),
        (["{tracker}", "--at", "2026-01-05"], "expected the table flowsim import writes"),
        (["{data}", "--at", "2027-01-05"], "is after the end of"),
        (["{data}", "--at", "when"], "at: expected a date"),
        (["{data}", "--at", "2026-01-05", "--live", "a,,b"], "--live a,,b: expected a count"),
        (["{bad}", "--at", "2026-01-05"], "cannot read"),
        (["{nocols}", "--at", "2026-01-05"], "no such column"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, sample: pd.DataFrame, args: list[str], words: str
) -> None:
    data = tmp_path / "items.parquet"
    sample.to_parquet(data, index=False)
    bad = tmp_path / "bad.parquet"
    bad.write_text("not parquet")
    nocols = tmp_path / "nocols.csv"
    nocols.write_text("a,b\n1,2\n")
    paths = {"data": data, "bad": bad, "nocols": nocols, "tracker": SAMPLES / "tracker.json"}
    out = tmp_path / "state.yaml"
    result = run(*(a.format(**paths) for a in args), "--out", out)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert words in lines[0]
    assert not out.exists()
