"""State files (flowsim.config.state): what a valid one reads as, the round trip through
``dump_state``, and one clear line, naming the line and key, for each kind of mistake."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from flowsim.config import ConfigError
from flowsim.config.state import dump_state, load_state
from flowsim.model.state import OpenItem, OpenOnboarding, SignedCustomer, StartState

EXAMPLE = """\
as_of: 2026-01-05              # a Monday
live: [alder, aspen, beech]
onboarding:
  - customer: sycamore
    since: 2025-10-06
    tasks_done: 6
    tasks_left: 2
    open:
      - {id: OPS-1101, kind: task, created: 2025-12-01, started: true}
      - {id: OPS-1107, kind: ask, created: 2025-12-19}
signed:
  - {customer: zelkova, signed: 2025-12-20}    # a Saturday: counts from Monday
tickets:
  - {id: OPS-1120, class: urgent, customer: oak, created: 2026-01-02T15:00:00Z}
  - {id: 1121, class: how_to, age_days: 3.5}
"""


def write(tmp_path: Path, text: str, name: str = "state.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_example_reads_as_ages_in_working_days(tmp_path: Path) -> None:
    state = load_state(write(tmp_path, EXAMPLE))
    assert state.as_of == dt.date(2026, 1, 5)
    assert state.live == ("alder", "aspen", "beech")
    (o,) = state.onboarding
    # 2025-10-06 to 2026-01-05: 13 weeks and a day, 65 working days.
    assert (o.customer, o.age_days, o.tasks_done, o.tasks_left) == ("sycamore", 65.0, 6, 2)
    assert o.open == (
        OpenItem("OPS-1101", "task", 25.0, customer="sycamore", started=True),
        OpenItem("OPS-1107", "ask", 11.0, customer="sycamore"),
    )
    assert state.signed == (SignedCustomer("zelkova", 10.0),)
    urgent, how_to = state.tickets
    # Friday 15:00 to Monday's start: the last quarter of Friday's 09:00-17:00.
    assert urgent == OpenItem("OPS-1120", "ticket", 0.25, cls="urgent", customer="oak")
    assert how_to == OpenItem("1121", "ticket", 3.5, cls="how_to")
    assert state.open_items == 4


def test_a_count_of_live_customers_names_them(tmp_path: Path) -> None:
    state = load_state(write(tmp_path, "as_of: 2026-01-05\nlive: 3\n"))
    assert state.live == ("live_1", "live_2", "live_3")
    assert state.onboarding == state.signed == state.tickets == ()


def test_times_with_an_offset_are_read_in_utc(tmp_path: Path) -> None:
    text = (
        "as_of: 2026-01-06\ntickets:\n"
        "  - {id: T, class: normal, created: 2026-01-05T17:00:00+02:00}\n"
    )
    (ticket,) = load_state(write(tmp_path, text)).tickets
    assert ticket.age_days == pytest.approx(0.25)  # 15:00 UTC on the 5th: 2 of its 8 hours


def test_quoted_dates_are_read_too(tmp_path: Path) -> None:
    text = "as_of: '2026-01-05'\nsigned:\n  - {customer: z, signed: '2025-12-29'}\n"
    assert load_state(write(tmp_path, text)).signed == (SignedCustomer("z", 5.0),)


def test_the_example_round_trips(tmp_path: Path) -> None:
    state = load_state(write(tmp_path, EXAMPLE))
    text = dump_state(state)
    assert text.startswith("# flowsim state file")
    assert "age_days: 65.0  # since about 2025-10-06" in text
    assert load_state(write(tmp_path, text, "again.yaml")) == state


def test_awkward_names_and_notes_round_trip(tmp_path: Path) -> None:
    state = StartState(
        as_of=dt.date(2025, 6, 2),
        live=("yes", "1", "null", "a: b", "#hash", "Ünïcode", *(f"c{n}" for n in range(30))),
        onboarding=(
            OpenOnboarding("o'brien", 12.345678, 0, (), None),
            OpenOnboarding(
                "2025-01-01",
                0.0,
                4,
                (OpenItem("x, y", "ask", 1e-3, customer="2025-01-01", started=True),),
                0,
            ),
        ),
        signed=(SignedCustomer("true", 0.5),),
        tickets=(OpenItem("[T]", "ticket", 7 / 3, cls="normal", customer="no"),),
        source="a 'quoted' source: here",
        notes=("one: two", '"three"', "- four"),
    )
    assert load_state(write(tmp_path, dump_state(state))) == state


def test_an_empty_state_round_trips(tmp_path: Path) -> None:
    state = StartState(as_of=dt.date(2026, 1, 5))
    assert load_state(write(tmp_path, dump_state(state))) == state


BAD = [
    # (file text, expected line, key, words in the message)
    ("live: 3\n", None, "as_of", "missing required key"),
    ("as_of: 2026-01-05T10:00:00Z\n", 1, "as_of", "expected a date such as 2026-01-05"),
    ("as_of: soon\n", 1, "as_of", "expected a date"),
    ("as_of: 2026-01-05\nlive: yes\n", 2, "live", "expected a list of customer names or a count"),
    ("as_of: 2026-01-05\nlive: -2\n", 2, "live", "expected a count >= 0"),
    ("as_of: 2026-01-05\nliv: 3\n", 2, "liv", "unknown key"),
    (
        "as_of: 2026-01-05\ntickets:\n  - {id: T1, class: urgnt, age_days: 1}\n",
        3,
        "tickets.0.class",
        "expected 'urgent', 'normal' or 'how_to', got 'urgnt'",
    ),
    (
        "as_of: 2026-01-05\ntickets:\n  - {id: T1, class: urgent, created: 2026-01-07}\n",
        3,
        "tickets.0.created",
        "expected a time no later than as_of (2026-01-05), got 2026-01-07",
    ),
    (
        "as_of: 2026-01-05\ntickets:\n"
        "  - {id: T1, class: urgent,\n     created: 2026-01-05T00:01:00Z}\n",
        4,
        "tickets.0.created",
        "got 2026-01-05T00:01:00Z",
    ),
    (
        "as_of: 2026-01-05\nonboarding:\n  - customer: a\n    since: 2025-13-01\n",
        4,
        None,
        "'2025-13-01' is not a valid date or time (month must be in 1..12)",
    ),
    (
        "as_of: 2026-01-05\nonboarding:\n  - customer: a\n    age_days: 3\n"
        "    open:\n      - {id: X, kind: task, created: yesterday}\n",
        6,
        "onboarding.0.open.0.created",
        "expected a date such as 2025-12-01 or an ISO time",
    ),
    (
        "as_of: 2026-01-05\nonboarding:\n  - customer: a\n    age_days: 3\n"
        "    open:\n      - {id: X, kind: bug, age_days: 1}\n",
        6,
        "onboarding.0.open.0.kind",
        "expected 'task' or 'ask', got 'bug'",
    ),
    (
        "as_of: 2026-01-05\nonboarding:\n  - customer: a\n    age_days: 3\n    tasks_done: -1\n",
        5,
        "onboarding.0.tasks_done",
        "expected a number >= 0, got -1",
    ),
    (
        "as_of: 2026-01-05\nonboarding:\n  - customer: a\n    age_days: 3\n    tasks_left: 2.5\n",
        5,
        "onboarding.0.tasks_left",
        "got 2.5",
    ),
    (
        "as_of: 2026-01-05\nonboarding:\n  - customer: a\n    tasks_done: 1\n",
        3,
        "onboarding.0",
        "give either since (a date) or age_days, not both or neither",
    ),
    (
        "as_of: 2026-01-05\ntickets:\n"
        "  - {id: T1, class: urgent, age_days: 3, created: 2026-01-01}\n",
        3,
        "tickets.0",
        "give either created (a date) or age_days",
    ),
    (
        "as_of: 2026-01-05\ntickets:\n  - {id: T1, class: urgent, age_days: .nan}\n",
        3,
        "tickets.0.age_days",
        "expected a finite number, got nan",
    ),
    (
        "as_of: 2026-01-05\ntickets:\n  - {id: T1, class: urgent, age_days: -1}\n",
        3,
        "tickets.0.age_days",
        "expected a number >= 0, got -1",
    ),
    (
        "as_of: 2026-01-05\ntickets:\n  - {id: T1, class: urgent, age_days: 3, started: 'yes'}\n",
        3,
        "tickets.0.started",
        "expected a valid boolean, got 'yes'",
    ),
    (
        "as_of: 2026-01-05\ntickets:\n  - {id: T1, class: urgent, age_days: 3, colour: red}\n",
        3,
        "tickets.0.colour",
        "unknown key",
    ),
    (
        "as_of: 2026-01-05\ntickets:\n  - {id: T1, class: urgent, age_days: 3}\n"
        "  - {id: T1, class: normal, age_days: 1}\n",
        4,
        "tickets.1.id",
        "repeated id 'T1' (first at tickets.0.id)",
    ),
    (
        "as_of: 2026-01-05\nlive: [a, b]\nsigned:\n  - {customer: a, age_days: 2}\n",
        4,
        "signed.0.customer",
        "customer 'a' appears twice (first at live.0)",
    ),
    (
        "as_of: 2026-01-05\nlive: 2\nonboarding:\n  - {customer: live_2, age_days: 1}\n",
        4,
        "onboarding.0.customer",
        "customer 'live_2' appears twice",
    ),
    ("as_of: 2026-01-05\nlive: [a, '']\n", 2, "live", "expected customer names, got ''"),
    ("as_of: 2026-01-05\nas_of: 2026-01-06\n", 2, None, "duplicate key 'as_of'"),
    ("- as_of: 2026-01-05\n", 1, None, "expected a mapping"),
    ("as_of: 2026-01-05\ntickets: {id: T1}\n", 2, "tickets", "expected a valid list"),
]


@pytest.mark.parametrize(("text", "line", "key", "words"), BAD)
def test_a_mistake_is_one_line_naming_the_line_and_key(
    tmp_path: Path, text: str, line: int | None, key: str | None, words: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_state(path)
    message = str(caught.value)
    assert "\n" not in message
    where = f"{path}:{line}: " if line is not None else f"{path}: "
    assert message.startswith(where + (f"{key}: " if key else "")), message
    assert words in message, message


def test_a_missing_or_empty_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load_state(tmp_path / "none.yaml")
    with pytest.raises(ConfigError, match="missing required key 'as_of'"):
        load_state(write(tmp_path, "# nothing yet\n"))
