"""``flowsim snapshot``: the open work at a date, from the table ``flowsim import`` wrote,
as a state file a forecast can start from."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from flowsim.cli.common import exit_on_config_error, fail

if TYPE_CHECKING:
    from flowsim.model.state import StartState

ORDER = {"urgent": 0, "normal": 1, "how_to": 2}


@click.command("snapshot")
@click.argument("data", type=click.Path(), metavar="DATA.parquet")
@click.option(
    "--at",
    required=True,
    metavar="DATE",
    help="When: a date (its start, UTC), e.g. 2026-01-05, or an ISO time.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False),
    metavar="STATE.yaml",
    help="Where to write the state file.",
)
@click.option(
    "--live",
    default=None,
    metavar="N|NAMES",
    help="The live customers, instead of reading them from the tickets: a count, or "
    "names separated by commas.",
)
@click.option(
    "--live-weeks",
    type=click.FloatRange(min=0),
    default=13.0,
    show_default=True,
    help="A customer who raised a ticket in this many weeks before --at is live.",
)
def snapshot_command(data: str, at: str, out: str, live: str | None, live_weeks: float) -> None:
    """Write the open work at a date as a state file (see docs/state.md).

    DATA is the table of work items `flowsim import` wrote (.parquet, or .csv).
    The state holds what was known at --at: the live customers, each customer
    being onboarded with its open tasks and asks, and the open tickets with their
    ages in working days; what it leaves out is listed in its notes.
    """
    from flowsim.config.state import dump_state
    from flowsim.data.items import read_items
    from flowsim.data.snapshot import snapshot
    from flowsim.storage import write_text

    path = Path(data)
    if path.suffix.lower() not in (".parquet", ".csv"):
        fail(f"{data}: expected the table flowsim import writes (.parquet or .csv)")
    if not path.is_file():
        fail(f"no such file: {data}")
    with exit_on_config_error():
        try:
            items = read_items(path)
        except (OSError, ValueError) as exc:
            fail(f"cannot read {data}: {' '.join(str(exc).split())}")
        state = snapshot(items, at, live=_live(live), live_weeks=live_weeks, source=data)
    target = Path(out)
    try:
        write_text(target, dump_state(state))
    except OSError as exc:
        fail(f"cannot write {target}: {exc.strerror or exc}")
    click.echo(summary(state))
    click.echo(f"wrote {target}")


def _live(text: str | None) -> int | list[str] | None:
    if text is None:
        return None
    if text.strip().isdigit():
        return int(text)
    names = [n.strip() for n in text.split(",")]
    if not all(names):
        fail(f"--live {text}: expected a count or names separated by commas, e.g. alder,aspen")
    return names


def summary(state: StartState) -> str:
    """The state in a few lines: live customers, onboardings (ages in working days), open
    tickets by class, notes."""
    lines = [
        f"{state.source}: {len(state.live)} live customers, {len(state.onboarding)} "
        f"onboarding, {len(state.signed)} signed, {len(state.tickets)} open tickets"
    ]
    if state.onboarding:
        lines.append(
            f"  {'onboarding':<14}{'age':>8}{'done':>6}{'open tasks':>12}{'open asks':>11}"
        )
        for o in state.onboarding:
            tasks = sum(1 for i in o.open if i.kind == "task")
            lines.append(
                f"  {o.customer:<14}{o.age_days:>8.1f}{o.tasks_done:>6}{tasks:>12}"
                f"{len(o.open) - tasks:>11}"
            )
    if state.tickets:
        classes = sorted(
            {t.cls for t in state.tickets}, key=lambda c: (c not in ORDER, ORDER.get(c, 0), c)
        )
        counts = ", ".join(f"{c} {sum(1 for t in state.tickets if t.cls == c)}" for c in classes)
        oldest = max(t.age_days for t in state.tickets)
        lines.append(f"  open tickets: {counts} (oldest {oldest:.1f} working days)")
    lines += [f"  note: {note}" for note in state.notes]
    return "\n".join(lines)
