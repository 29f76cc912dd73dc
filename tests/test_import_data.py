"""``flowsim import``: tracker exports (generic CSV, Jira CSV, Trello JSON) into one tidy
table of work items, and a one-line error naming the row and column for anything else.

* the sample exports in examples/data are what ``make_samples.py`` writes, and each
  imports to the work its generator made;
* small exports built here give exactly the expected table (dates in Jira's formats,
  Trello's transitions, creation from a card's id, open items);
* bad exports and mappings each exit with status 2 and one line, no traceback;
* any valid generic CSV round-trips (hypothesis).
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import tempfile
import textwrap
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowsim.cli.importing import import_command
from flowsim.data import COLUMNS, import_export
from test_imports import loaded_after

SAMPLES = Path(__file__).resolve().parents[1] / "examples" / "data"
HEADER = "id,kind,class,customer,created,started,done,assignee,blocked_hours\n"


def make_samples() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_samples", SAMPLES / "make_samples.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def invoke(*args: str | Path) -> Result:
    result = CliRunner().invoke(import_command, [str(a) for a in args])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def imported(*args: str | Path, out: Path) -> pd.DataFrame:
    result = invoke(*args, "--out", out)
    assert result.exit_code == 0, result.output
    return pd.read_parquet(out)


def values(column: pd.Series) -> list[Any]:
    """A column's values, with None where missing."""
    return [None if pd.isna(v) else v for v in column]


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC").as_unit("ns")


# ---------------------------------------------------------------- the samples
def test_the_samples_are_what_make_samples_writes(tmp_path: Path) -> None:
    written = make_samples().write_samples(tmp_path)
    assert [p.name for p in written] == [
        "tracker.csv",
        "jira_export.csv",
        "jira_map.yaml",
        "trello_board.json",
        "trello_map.yaml",
    ]
    for path in written:
        assert (SAMPLES / path.name).read_bytes() == path.read_bytes(), (
            f"{path.name} drifted: regenerate with python examples/data/make_samples.py"
        )
        assert path.stat().st_size < 300 * 1024


@pytest.fixture(scope="module")
def truth() -> pd.DataFrame:
    """The generator's own items (epics apart), in the tidy table's terms."""
    items = [i for i in make_samples().company() if i["kind"] != "epic"]
    return pd.DataFrame(
        {
            "id": [i["key"] for i in items],
            "kind": [i["kind"] for i in items],
            "created": [i["created"] for i in items],
            "done": [i["done"] for i in items],
        }
    )


def by_kind(frame: pd.DataFrame) -> dict[str, tuple[int, int]]:
    """Items and open items of each kind."""
    return {
        str(kind): (len(group), int(group["done"].isna().sum()))
        for kind, group in frame.groupby("kind")
    }


def test_generic_sample_imports_the_generated_work(tmp_path: Path, truth: pd.DataFrame) -> None:
    table = imported(SAMPLES / "tracker.csv", out=tmp_path / "items.parquet")
    assert dict(table.dtypes.astype(str)) == COLUMNS
    assert table["id"].tolist() == truth["id"].tolist()
    assert table["kind"].tolist() == truth["kind"].tolist()
    assert by_kind(table) == by_kind(truth)
    assert (table["created"] == pd.to_datetime(truth["created"], utc=True)).all()
    assert table["source_row"].tolist() == list(range(2, len(truth) + 2))
    assert table["done"].isna().sum() > 10  # some open work at the export
    assert table.loc[table["kind"] == "ticket", "class"].notna().all()
    assert table.loc[table["kind"] == "onboarding", "blocked_hours"].notna().any()


def test_jira_sample_with_its_mapping_matches_the_generic_one(tmp_path: Path) -> None:
    generic = imported(SAMPLES / "tracker.csv", out=tmp_path / "g.parquet")
    jira = imported(
        SAMPLES / "jira_export.csv",
        "--map",
        SAMPLES / "jira_map.yaml",
        out=tmp_path / "j.parquet",
    )
    same = ["id", "kind", "class", "customer", "created", "done", "assignee"]
    pd.testing.assert_frame_equal(jira[same], generic[same])
    # Jira's CSV has no transitions: only open issues in progress know their start.
    assert jira.loc[jira["done"].notna(), "started"].isna().all()
    in_progress = jira["started"].notna()
    assert in_progress.any()
    assert (jira.loc[in_progress, "started"] == generic.loc[in_progress, "started"]).all()
    # The rows are the spreadsheet's: the four epics (skipped) take rows of their own.
    assert jira["source_row"].iloc[-1] == len(jira) + 1 + 4


def test_jira_sample_without_a_mapping_uses_the_defaults(
    tmp_path: Path, truth: pd.DataFrame
) -> None:
    result = invoke(SAMPLES / "jira_export.csv", "--out", tmp_path / "j.parquet")
    assert result.exit_code == 0, result.output
    table = pd.read_parquet(tmp_path / "j.parquet")
    # The defaults count each onboarding's Epic (labelled onboarding) as onboarding work.
    items, open_ = by_kind(truth)["onboarding"]
    assert by_kind(table)["onboarding"][0] == items + 4
    assert by_kind(table)["ticket"] == by_kind(truth)["ticket"]
    assert "(jira)" in result.stdout.splitlines()[0]


def test_trello_sample_imports_the_board(tmp_path: Path) -> None:
    samples = make_samples()
    board = samples.on_board(samples.company())
    out = tmp_path / "t.parquet"
    result = invoke(
        SAMPLES / "trello_board.json", "--map", SAMPLES / "trello_map.yaml", "--out", out
    )
    assert result.exit_code == 0, result.output
    assert "left out: 3 (archived without reaching a done list)" in result.stdout
    table = pd.read_parquet(out)
    # The cards are the board's items in order (the three archived, never done, last).
    assert table["kind"].tolist() == [i["kind"] for i in board]
    assert values(table["customer"]) == [i["customer"] for i in board]
    assert table["done"].isna().tolist() == [i["done"] is None for i in board]
    # Creation from createCard, or from the card's id where the action is gone.
    assert table["created"].tolist() == [pd.Timestamp(i["created"]).as_unit("ns") for i in board]
    assert table.loc[table["kind"] == "ticket", "class"].tolist() == [
        i["cls"] for i in board if i["kind"] == "ticket"
    ]
    # Started and done from the moves where the export kept them.
    assert table["started"].notna().sum() > len(table) / 2
    assert table["source_row"].tolist() == list(range(1, len(board) + 1))


def test_summary_lists_kinds_dates_and_output(tmp_path: Path) -> None:
    out = tmp_path / "items.parquet"
    result = invoke(SAMPLES / "tracker.csv", "--out", out)
    lines = result.stdout.splitlines()
    assert lines[0].endswith("tracker.csv (csv): 1139 work items")
    assert lines[1].split() == ["kind", "items", "done", "open"]
    assert [line.split()[0] for line in lines[2:6]] == ["ticket", "onboarding", "ask", "all"]
    assert lines[-3].startswith("created 2025-01-06 to ")
    assert lines[-1] == f"wrote {out}"


def test_importing_the_command_stays_light() -> None:
    assert not loaded_after("import flowsim.cli.importing") & {"pandas", "flowsim.data"}


# ---------------------------------------------------------------- the generic CSV
def test_generic_csv_gives_exactly_the_expected_table(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "t.csv",
        HEADER + "T-1,ticket,urgent,alder,2025-03-03T09:00:00Z,2025-03-03T09:30:00+00:00,"
        "2025-03-03T11:00:00Z,lead,\n"
        + "O-1, onboarding ,,hawthorn,2025-03-04 10:00,2025-03-05T10:00:00+02:00,,"
        "Contractor A,12.5\n" + "A-1,ask,,,2025-03-05,,,,\n",
    )
    table = imported(path, out=tmp_path / "t.parquet")
    na = pd.NA
    expected = pd.DataFrame(
        {
            "id": ["T-1", "O-1", "A-1"],
            "kind": ["ticket", "onboarding", "ask"],
            "class": ["urgent", na, na],
            "customer": ["alder", "hawthorn", na],
            "created": [utc("2025-03-03 09:00"), utc("2025-03-04 10:00"), utc("2025-03-05")],
            "started": [utc("2025-03-03 09:30"), utc("2025-03-05 08:00"), pd.NaT],
            "done": [utc("2025-03-03 11:00"), pd.NaT, pd.NaT],
            "assignee": ["lead", "Contractor A", na],
            "blocked_hours": [float("nan"), 12.5, float("nan")],
            "source_row": [2, 3, 4],
        }
    ).astype(COLUMNS)
    pd.testing.assert_frame_equal(table, expected)


def test_a_csv_with_an_issue_key_is_read_as_jira_and_format_overrides(tmp_path: Path) -> None:
    path = write(
        tmp_path, "export.csv", JIRA_HEADER + "OPS-1,Bug,Done,High,05/Dec/26 3:21 PM,,,,,\n"
    )
    assert import_export(path).format == "jira"
    result = invoke(path, "--format", "csv", "--out", tmp_path / "o.parquet")
    assert result.exit_code == 2
    assert "missing column 'id'" in result.stderr


# ---------------------------------------------------------------- Jira
JIRA_HEADER = (
    "Issue key,Issue Type,Status,Priority,Created,Resolved,Assignee,Labels,Labels,"
    "Status Category Changed\n"
)


def test_jira_dates_in_the_default_format_and_iso(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "jira.csv",
        JIRA_HEADER + "OPS-1,Bug,Done,High,05/Dec/26 3:21 PM,06/Dec/26 9:05 AM,Sam,customer:oak,,"
        "06/Dec/26 9:05 AM\n"
        + "OPS-2,Support,In Progress,Low,2026-12-05T15:21:00+01:00,,,how-to,customer:elm,"
        "2026-12-07 08:00\n"
        + "OPS-3,Story,To Do,Medium,2026-12-05 15:21,,,onboarding,customer:yew,"
        "05/Dec/26 3:21 PM\n"
        + "OPS-4,Task,In Progress,Medium,01/Jan/26 12:00 AM,,,,,01/Jan/26 12:00 PM\n",
    )
    table = import_export(path).items
    assert table["created"].tolist() == [
        utc("2026-12-05 15:21"),
        utc("2026-12-05 14:21"),
        utc("2026-12-05 15:21"),
        utc("2026-01-01 00:00"),
    ]
    assert table["done"].tolist()[0] == utc("2026-12-06 09:05")
    assert table["done"].iloc[1:].isna().all()
    # Started only for open issues in a started status, at their status change.
    assert table["started"].tolist()[1] == utc("2026-12-07 08:00")
    assert table["started"].tolist()[3] == utc("2026-01-01 12:00")
    assert table["started"].iloc[[0, 2]].isna().all()
    assert table["kind"].tolist() == ["ticket", "ticket", "onboarding", "ask"]
    assert table["class"].tolist()[:2] == ["urgent", "how_to"]
    assert values(table["customer"]) == ["oak", "elm", "yew", None]
    assert table["assignee"].tolist()[0] == "Sam"


def test_jira_times_are_read_in_the_mappings_time_zone(tmp_path: Path) -> None:
    path = write(tmp_path, "jira.csv", JIRA_HEADER + "OPS-1,Bug,Done,High,05/Jul/26 3:21 PM,,,,,\n")
    mapping = write(tmp_path, "map.yaml", "jira:\n  timezone: Europe/Berlin\n")
    table = import_export(path, mapping=mapping).items
    assert table["created"].iloc[0] == utc("2026-07-05 13:21")


# ---------------------------------------------------------------- Trello
def trello_id(when: datetime, n: int) -> str:
    return f"{int(when.timestamp()):08x}{n:016x}"


T0 = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
LISTS = {"inbox": "Inbox", "doing": "Doing", "done": "Done"}


def stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def board(cards: list[dict[str, Any]], actions: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": "b" * 24,
        "name": "Board",
        "lists": [{"id": k, "name": v} for k, v in LISTS.items()],
        "labels": [
            {"id": f"l-{n}", "name": n} for n in ("ticket", "ask", "urgent", "customer:oak")
        ],
        "members": [{"id": "m1", "fullName": "Sam"}],
        "cards": cards,
        "actions": actions,
    }


def card(cid: str, where: str, labels: list[str], **more: Any) -> dict[str, Any]:
    return {"id": cid, "name": f"card {cid[-2:]}", "idList": where, "idLabels": labels} | more


def move(cid: str, when: datetime, before: str, after: str) -> dict[str, Any]:
    return {
        "type": "updateCard",
        "date": stamp(when),
        "data": {
            "card": {"id": cid},
            "listBefore": {"id": before, "name": LISTS[before]},
            "listAfter": {"id": after, "name": LISTS[after]},
        },
    }


def create(cid: str, when: datetime, into: str) -> dict[str, Any]:
    data = {"card": {"id": cid}, "list": {"id": into, "name": LISTS[into]}}
    return {"type": "createCard", "date": stamp(when), "data": data}


def test_trello_transitions_and_creation_from_the_card_id(tmp_path: Path) -> None:
    hour = timedelta(hours=1)
    a, b, c, d, e = (trello_id(T0 - timedelta(days=k), k) for k in range(1, 6))
    cards = [
        card(a, "done", ["l-ticket", "l-urgent", "l-customer:oak"], idMembers=["m1"]),
        card(b, "doing", ["l-ask"]),  # no createCard: created from its id
        card(c, "done", ["l-ask"], closed=True, dateLastActivity=stamp(T0 + 9 * hour)),
        card(d, "doing", ["l-ticket"]),  # done, then moved back: open again
        card(e, "inbox", ["l-ask"], closed=True),  # archived before it was done
    ]
    actions = [  # newest first, as Trello writes them
        move(d, T0 + 6 * hour, "done", "doing"),
        move(d, T0 + 5 * hour, "doing", "done"),
        move(a, T0 + 4 * hour, "doing", "done"),
        move(b, T0 + 3 * hour, "inbox", "doing"),
        move(a, T0 + 2 * hour, "inbox", "doing"),
        move(d, T0 + 2 * hour, "inbox", "doing"),
        create(a, T0 + hour, "inbox"),
        create(d, T0, "inbox"),
        {"type": "commentCard", "date": "not read", "data": {}},
    ]
    path = tmp_path / "board.json"
    path.write_text(json.dumps(board(cards, actions)), encoding="utf-8")
    result = import_export(path)
    table = result.items
    assert result.skipped == {"archived without reaching a done list": 1}
    assert table["id"].tolist() == [a, b, c, d]
    assert table["kind"].tolist() == ["ticket", "ask", "ask", "ticket"]
    assert table["created"].tolist() == [
        utc("2025-06-02 10:00"),
        pd.Timestamp(T0 - timedelta(days=2)).as_unit("ns"),
        pd.Timestamp(T0 - timedelta(days=3)).as_unit("ns"),
        utc("2025-06-02 09:00"),
    ]
    assert table["started"].tolist()[:2] == [utc("2025-06-02 11:00"), utc("2025-06-02 12:00")]
    assert pd.isna(table["started"].iloc[2])
    assert table["started"].iloc[3] == utc("2025-06-02 11:00")
    assert table["done"].tolist()[0] == utc("2025-06-02 13:00")
    assert table["done"].iloc[2] == utc("2025-06-02 18:00")  # its last activity
    assert table["done"].iloc[[1, 3]].isna().all()  # open
    assert table["class"].tolist()[0] == "urgent"
    assert values(table["customer"]) == ["oak", None, None, None]
    assert values(table["assignee"]) == ["Sam", None, None, None]
    assert table["source_row"].tolist() == [1, 2, 3, 4]


# ---------------------------------------------------------------- bad input
GOOD_ROW = "T-1,ticket,normal,oak,2025-01-02T09:00:00Z,,,,\n"
ROW2 = "row 2 (counting the header as row 1)"
ROW3 = "row 3 (counting the header as row 1)"
BAD_BOARD = json.dumps(board([card(trello_id(T0, 1), "inbox", [])], []))
BAD_ACTION = json.dumps(
    board(
        [card(trello_id(T0, 1), "inbox", ["l-ask"])],
        [
            {
                "type": "updateCard",
                "date": "yesterday",
                "data": {"card": {"id": "x"}, "listAfter": {}},
            }
        ],
    )
)
BAD = {
    "missing column": ("t.csv", HEADER.replace(",done", "") + "T-1,ask,,,2025-01-02,,,\n", None,
                       "row 1 (the header): missing column 'done'"),
    "bad date": ("t.csv", HEADER + GOOD_ROW + "T-2,ask,,,2025-13-01,,,,\n", None,
                 f"{ROW3}, column 'created': expected an ISO 8601 time such as "),
    "done before created": ("t.csv", HEADER + "T-1,ask,,,2025-01-02,,2025-01-01,,\n", None,
                            f"{ROW2}, columns 'created' and 'done': expected created <= done"),
    "started before created": ("t.csv", HEADER + "T-1,ask,,,2025-01-02,2025-01-01,,,\n", None,
                               f"{ROW2}, columns 'created' and 'started': "),
    "duplicate id": ("t.csv", HEADER + GOOD_ROW + GOOD_ROW, None,
                     f"{ROW3}, column 'id': duplicate id 'T-1' (first at row 2)"),
    "unknown kind": ("t.csv", HEADER + "T-1,tiket,,,2025-01-02,,,,\n", None,
                     f"{ROW2}, column 'kind': expected one of 'ticket', 'onboarding', 'ask', "
                     "found 'tiket'; did you mean 'ticket'?"),
    "class on an ask": ("t.csv", HEADER + "T-1,ask,urgent,,2025-01-02,,,,\n", None,
                        f"{ROW2}, column 'class': only tickets have a class, "
                        "found 'urgent' on an ask"),
    "bad hours": ("t.csv", HEADER + "T-1,ask,,,2025-01-02,,,,-3\n", None,
                  f"{ROW2}, column 'blocked_hours': expected hours >= 0, found -3"),
    "hours not a number": ("t.csv", HEADER + "T-1,ask,,,2025-01-02,,,,lots\n", None,
                           f"{ROW2}, column 'blocked_hours': expected a number of hours"),
    "empty file": ("t.csv", "", None, "t.csv: empty file"),
    "header only": ("t.csv", HEADER, None, "no rows after the header"),
    "ragged csv": ("t.csv", HEADER + "T-1,ask,,,2025-01-02,,,,,,,\n", None, "cannot read as CSV: "),
    "empty id": ("t.csv", HEADER + ",ask,,,2025-01-02,,,,\n", None, f"{ROW2}, column 'id': "),
    "jira bad date": ("j.csv", JIRA_HEADER + "OPS-1,Bug,Done,High,5 Dec 2026,,,,,\n", None,
                      f"{ROW2}, column 'Created': expected a date like 05/Dec/26 3:21 PM"),
    "jira missing column": ("j.csv", JIRA_HEADER.replace("Issue Type,", "Type,")
                            + "OPS-1,Bug,Done,High,05/Dec/26 3:21 PM,,,,,\n", None,
                            "missing column 'Issue Type'"),
    "jira done before created": (
        "j.csv", JIRA_HEADER + "OPS-1,Bug,Done,High,05/Dec/26 3:21 PM,04/Dec/26 3:21 PM,,,,\n",
        None, f"{ROW2}, columns 'Created' and 'Resolved': "),
    "bad mapping key": ("j.csv", JIRA_HEADER + "OPS-1,Bug,Done,High,05/Dec/26 3:21 PM,,,,,\n",
                        "kinds:\n  - kind: ticket\n    isue_types: [Bug]\n",
                        "map.yaml:3: kinds.0.isue_types: unknown key"),
    "bad mapping class": ("j.csv", JIRA_HEADER + "OPS-1,Bug,Done,High,05/Dec/26 3:21 PM,,,,,\n",
                          "classes:\n  priority:\n    High: urgnt\n",
                          "map.yaml:3: classes.priority.High: "),
    "mapping of the other format": (
        "j.csv", JIRA_HEADER + "OPS-1,Bug,Done,High,05/Dec/26 3:21 PM,,,,,\n",
        "kinds:\n  - kind: ask\n    lists: [Doing]\n",
        "map.yaml:3: kinds.0.lists: applies to trello exports only"),
    "mapping for trello": ("j.csv", JIRA_HEADER + "OPS-1,Bug,Done,High,05/Dec/26 3:21 PM,,,,,\n",
                           "format: trello\n", "map.yaml:1: format: this mapping is for trello"),
    "unknown time zone": ("j.csv", JIRA_HEADER + "OPS-1,Bug,Done,High,05/Dec/26 3:21 PM,,,,,\n",
                          "jira:\n  timezone: Mars/Olympus\n", "map.yaml:2: jira.timezone: "),
    "no kind rule": ("j.csv", JIRA_HEADER + "OPS-1,Task,Done,High,05/Dec/26 3:21 PM,,,,,\n",
                     "otherwise: error\n", f"{ROW2}, columns 'Issue Type' and 'Labels': "),
    "json not a board": ("b.json", '[{"cards": []}]', None,
                         "not a Trello board export: expected an object with lists 'cards' and "
                         "'lists', found a JSON list"),
    "json without cards": ("b.json", '{"name": "x", "lists": []}', None,
                           "found 'cards': none"),
    "invalid json": ("b.json", '{"cards": [\n}', None, "b.json:2: invalid JSON: "),
    "card without a kind": ("b.json", BAD_BOARD, None, "card 1 ("),
    "action with a bad date": ("b.json", BAD_ACTION, None,
                               "action 1 (updateCard), field 'date': expected an ISO 8601 time"),
    "mapping for a generic csv": ("t.csv", HEADER + GOOD_ROW, "otherwise: ask\n",
                                  "a mapping file applies to Jira and Trello exports"),
    "separated by semicolons": ("t.csv", HEADER.replace(",", ";") + "T-1;ask;;;2025-01-02;;;;\n",
                                None, "is the file separated by ';' or tabs?"),
    "missing mapping file": ("j.csv", JIRA_HEADER + "OPS-1,Bug,Done,High,05/Dec/26 3:21 PM,,,,,\n",
                             None, "no such mapping file: "),
    "no such custom field": ("b.json", BAD_BOARD, "customer:\n  custom_field: Client\n",
                             "the board has no such field"),
    "unknown extension": ("t.txt", HEADER + GOOD_ROW, None, "cannot tell the format"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD), ids=str)
def test_bad_input_exits_2_with_one_line(tmp_path: Path, case: str) -> None:
    name, text, mapping, message = BAD[case]
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    args: list[str | Path] = [path, "--out", tmp_path / "out.parquet"]
    if mapping is not None:
        args += ["--map", write(tmp_path, "map.yaml", mapping)]
    elif case == "missing mapping file":
        args += ["--map", tmp_path / "map.yaml"]
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("error: ")
    assert message in result.stderr, result.stderr
    assert not (tmp_path / "out.parquet").exists()


def test_missing_export_and_unwritable_output(tmp_path: Path) -> None:
    result = invoke(tmp_path / "none.csv", "--out", tmp_path / "o.parquet")
    assert (result.exit_code, result.stderr) == (
        2,
        f"error: no such export file: {tmp_path / 'none.csv'}\n",
    )
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    result = invoke(SAMPLES / "tracker.csv", "--out", blocker / "o.parquet")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: cannot write {blocker / 'o.parquet'}: ")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(HEADER.encode() + "T-1,ask,,Zürich,2025-01-02,,,,\n".encode("latin-1"))
    result = invoke(path, "--out", tmp_path / "o.parquet")
    assert (result.exit_code, result.stderr) == (2, f"error: {path}: not a UTF-8 text file\n")


# ---------------------------------------------------------------- any valid CSV round-trips
TEXT = (
    st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")),
        min_size=1,
        max_size=12,
    )
    .map(str.strip)
    .filter(bool)
)
WHEN = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2030, 1, 1))
DELAY = st.none() | st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400))
OFFSET = st.sampled_from(
    [UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5, minutes=-30))]
)


@st.composite
def item_rows(draw: st.DrawFn) -> list[dict[str, Any]]:
    ids = draw(st.lists(TEXT, min_size=1, max_size=8, unique=True))
    rows = []
    for item_id in ids:
        kind = draw(st.sampled_from(["ticket", "onboarding", "ask"]))
        created = draw(WHEN).replace(tzinfo=UTC)
        wait, work = draw(DELAY), draw(DELAY)
        started = None if wait is None else created + wait
        done = None if work is None else (started or created) + work
        rows.append(
            {
                "id": item_id,
                "kind": kind,
                "class": draw(st.none() | st.sampled_from(["urgent", "normal", "how_to"]))
                if kind == "ticket"
                else None,
                "customer": draw(st.none() | TEXT),
                "created": created,
                "started": started,
                "done": done,
                "assignee": draw(st.none() | TEXT),
                "blocked_hours": draw(st.none() | st.floats(0, 1e4, allow_nan=False)),
                "offset": draw(OFFSET),
            }
        )
    return rows


def as_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER.strip().split(","))
    for r in rows:
        times = [
            "" if r[k] is None else r[k].astimezone(r["offset"]).isoformat()
            for k in ("created", "started", "done")
        ]
        hours = "" if r["blocked_hours"] is None else repr(r["blocked_hours"])
        writer.writerow(
            [
                r["id"],
                r["kind"],
                r["class"] or "",
                r["customer"] or "",
                *times,
                r["assignee"] or "",
                hours,
            ]
        )
    return out.getvalue()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=item_rows())
def test_any_valid_generic_csv_round_trips(rows: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "items.csv"
        path.write_text(as_csv(rows), encoding="utf-8")
        table = imported(path, out=Path(folder) / "items.parquet")

    def times(key: str) -> pd.Series:
        stamps = [pd.NaT if r[key] is None else pd.Timestamp(r[key]) for r in rows]
        return pd.Series(stamps, dtype=COLUMNS[key])

    expected = pd.DataFrame(
        {
            "id": [r["id"] for r in rows],
            "kind": [r["kind"] for r in rows],
            "class": [r["class"] for r in rows],
            "customer": [r["customer"] for r in rows],
            "created": times("created"),
            "started": times("started"),
            "done": times("done"),
            "assignee": [r["assignee"] for r in rows],
            "blocked_hours": [
                float("nan") if r["blocked_hours"] is None else r["blocked_hours"] for r in rows
            ],
            "source_row": list(range(2, len(rows) + 2)),
        }
    ).astype(COLUMNS)
    pd.testing.assert_frame_equal(table, expected)
