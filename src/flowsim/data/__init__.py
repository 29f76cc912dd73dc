"""Real tracker data: exports of a generic CSV, Jira or Trello read into one tidy table.

Typical use::

    imported = import_export("jira_export.csv", mapping="jira_map.yaml")
    imported.items          # one row per work item; see flowsim.data.items
    imported.skipped        # what was left out, and why

The formats, the mapping file and the table are documented in docs/data.md.
Every problem with an export or a mapping raises a :class:`ConfigError` (a
:class:`~flowsim.data.items.DataError` for the export) whose one-line message
names the file, the row or card, and the column.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal, cast

from flowsim.config.errors import ConfigError
from flowsim.data.items import COLUMNS, KINDS, DataError, Imported, counts
from flowsim.data.mapping import Mapping, default_mapping, load_mapping

Format = Literal["csv", "jira", "trello"]
FORMATS: tuple[Format, ...] = ("csv", "jira", "trello")

__all__ = [
    "COLUMNS",
    "FORMATS",
    "KINDS",
    "DataError",
    "Format",
    "Imported",
    "Mapping",
    "counts",
    "default_mapping",
    "import_export",
    "load_mapping",
]


def import_export(
    path: str | os.PathLike[str],
    format: Format | None = None,
    mapping: str | os.PathLike[str] | None = None,
) -> Imported:
    """Read a tracker export into the tidy table of work items.

    Parameters
    ----------
    path : str or os.PathLike
        The export: a CSV file (generic or Jira's) or a Trello board's JSON.
    format : {"csv", "jira", "trello"}, optional
        Default: ``trello`` for a ``.json`` file; for a ``.csv`` file ``jira`` if
        it has an ``Issue key`` column, else ``csv`` (the generic format).
    mapping : str or os.PathLike, optional
        A mapping file (Jira and Trello only); default: :func:`default_mapping`.

    Raises
    ------
    ConfigError
        If the export or the mapping cannot be read, or the format cannot be told.
    """
    from flowsim.data.generic import read_cells, read_generic
    from flowsim.data.jira import has_issue_key, read_jira
    from flowsim.data.trello import read_trello

    source = os.fspath(path)
    suffix = Path(path).suffix.lower()
    if format is None:
        if suffix == ".json":
            format = "trello"
        elif suffix != ".csv":
            raise ConfigError(
                "cannot tell the format from the file's extension (expected .csv or .json): "
                "give --format csv, jira or trello",
                source=source,
            )
    if format == "trello":
        return read_trello(path, _mapping(mapping, "trello"), _name(mapping))
    cells = read_cells(path)
    if format is None:
        format = "jira" if has_issue_key(cells) else "csv"
    if format == "jira":
        return read_jira(cells, _mapping(mapping, "jira"), _name(mapping))
    if mapping is not None:
        raise ConfigError(
            f"a mapping file applies to Jira and Trello exports; {source} is read as a "
            "generic CSV, whose columns are already the table's (give --format jira if it "
            "is a Jira export)"
        )
    return read_generic(cells)


def _mapping(path: str | os.PathLike[str] | None, fmt: str) -> Mapping:
    kind = cast(Literal["jira", "trello"], fmt)
    return default_mapping(kind) if path is None else load_mapping(path, kind)


def _name(path: str | os.PathLike[str] | None) -> str | None:
    return None if path is None else os.fspath(path)
