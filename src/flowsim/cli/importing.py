"""``flowsim import``: a tracker export (generic CSV, Jira CSV, Trello JSON) into one tidy
table of work items."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, cast

import click

from flowsim.cli.common import exit_on_config_error, fail

if TYPE_CHECKING:
    from flowsim.data import Format, Imported


@click.command("import")
@click.argument("export", type=click.Path(), metavar="EXPORT")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "jira", "trello"]),
    default=None,
    help="The export's format (default: trello for .json; for .csv, jira if it has an "
    "'Issue key' column, else the generic csv).",
)
@click.option(
    "--map",
    "mapping",
    type=click.Path(),
    default=None,
    metavar="MAP.yaml",
    help="How issue types, labels, lists and fields become kinds, classes, customers and "
    "times (Jira and Trello; default: the documented defaults).",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False),
    metavar="DATA.parquet",
    help="Where to write the table (Parquet; .csv writes CSV).",
)
def import_command(export: str, fmt: str | None, mapping: str | None, out: str) -> None:
    """Read a tracker EXPORT into one table of work items, one row each.

    The table has the columns id, kind (ticket, onboarding or ask), class, customer,
    created, started, done (empty while open), assignee, blocked_hours and
    source_row (where the item is in the export).  Anything that cannot be read is
    reported as one line naming the file, the row (or card) and the column.  The
    formats and the mapping file are described in docs/data.md.
    """
    from flowsim.data import import_export
    from flowsim.storage import write_frame

    with exit_on_config_error():
        imported = import_export(export, cast("Format | None", fmt), mapping)
    target = Path(out)
    try:
        write_frame(target, imported.items)
    except OSError as exc:
        fail(f"cannot write {target}: {exc.strerror or exc}")
    click.echo(summary(imported))
    click.echo(f"wrote {target}")


def summary(imported: Imported) -> str:
    """Items by kind (done and open), what was left out, and the range of the dates."""
    from flowsim.data import counts

    items = imported.items
    how = imported.format if imported.mapping is None else f"{imported.format}, {imported.mapping}"
    lines = [f"{imported.source} ({how}): {len(items)} work items"]
    table = counts(items)
    lines.append(f"  {'kind':<12}{'items':>7}{'done':>7}{'open':>7}")
    for kind, row in table.iterrows():
        lines.append(f"  {kind:<12}{row['items']:>7}{row['done']:>7}{row['open']:>7}")
    for reason, count in imported.skipped.items():
        lines.append(f"  left out: {count} ({reason})")
    created = items["created"]
    lines.append(f"created {created.min():%Y-%m-%d} to {created.max():%Y-%m-%d}")
    done = items["done"].dropna()
    if len(done):
        lines.append(f"done    {done.min():%Y-%m-%d} to {done.max():%Y-%m-%d}")
    return "\n".join(lines)
