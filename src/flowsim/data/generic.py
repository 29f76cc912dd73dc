"""The generic CSV export: one row per work item in the tidy table's own columns.

::

    id,kind,class,customer,created,started,done,assignee,blocked_hours
    T-1,ticket,urgent,alder,2025-01-06T09:12:00Z,2025-01-06T10:00:00Z,2025-01-06T15:30:00Z,lead,
    O-1,onboarding,,hawthorn,2025-02-03T09:00:00Z,,,,

Every column but ``blocked_hours`` must be there (it may be empty); other columns
are ignored.  Times are ISO 8601; one without an offset is in UTC.  An empty
``started`` means never started (or unknown), an empty ``done`` means still open.

Also here: :func:`read_cells`, the CSV reading that the Jira importer shares.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from flowsim.config.errors import ConfigError, closest
from flowsim.data.items import (
    DataError,
    Imported,
    check_items,
    csv_row,
    empty_columns,
    make_items,
    time_parser,
)

REQUIRED = ("id", "kind", "class", "customer", "created", "started", "done", "assignee")
OPTIONAL = ("blocked_hours",)
ISO_EXAMPLE = "an ISO 8601 time such as 2025-03-04T09:30:00Z"


@dataclass
class Cells:
    """A CSV file as text cells: its header and its rows (the header is row 1)."""

    source: str
    header: list[str]
    rows: pd.DataFrame
    """One column per header cell (named by position), every cell a stripped str."""

    def first(self, name: str) -> int | None:
        """The position of the first column called ``name``, if any."""
        return self.header.index(name) if name in self.header else None

    def all(self, name: str) -> list[int]:
        """The positions of every column called ``name`` (Jira repeats some)."""
        return [k for k, h in enumerate(self.header) if h == name]

    def column(self, name: str) -> list[str]:
        """The cells of the first column called ``name``; they must exist."""
        position = self.first(name)
        assert position is not None, name
        return self.rows[position].tolist()

    def require(self, names: tuple[str, ...] | list[str], what: str) -> None:
        """Raise a :class:`DataError` naming the first of ``names`` the header lacks."""
        for name in names:
            if name not in self.header:
                near = closest(name, [h for h in self.header if h not in names])
                hint = f" (found {near!r}: a misspelling?)" if near else ""
                if len(self.header) == 1 and any(sep in self.header[0] for sep in ";\t|"):
                    hint = " (the header is one column: is the file separated by ';' or tabs?)"
                raise DataError(
                    f"missing column {name!r}: {what} needs the columns {', '.join(names)}{hint}",
                    source=self.source,
                    where="row 1 (the header)",
                )


def read_cells(path: str | os.PathLike[str]) -> Cells:
    """Read a CSV file as text: every cell a stripped string, empty where blank.

    Raises
    ------
    ConfigError
        If the file is missing, unreadable, not UTF-8, empty, not CSV, or has no
        row after the header.
    """
    source = os.fspath(path)
    if not Path(path).is_file():
        raise ConfigError(f"no such export file: {source}")
    try:
        raw = pd.read_csv(
            path,
            header=None,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            encoding="utf-8-sig",
            skip_blank_lines=True,
        )
    except pd.errors.EmptyDataError:
        raise ConfigError(
            "empty file: expected a header line and a row per item", source=source
        ) from None
    except pd.errors.ParserError as exc:
        detail = str(exc).split("C error: ")[-1].strip().rstrip(".")
        detail = detail[:1].lower() + detail[1:]
        raise ConfigError(f"cannot read as CSV: {detail}", source=source) from None
    except UnicodeDecodeError:
        raise ConfigError("not a UTF-8 text file", source=source) from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", source=source) from None
    raw = raw.fillna("")
    header = [str(h).strip() for h in raw.iloc[0]]
    rows = raw.iloc[1:].reset_index(drop=True)
    rows.columns = pd.RangeIndex(len(header))
    rows = rows.apply(lambda c: c.str.strip())
    if rows.empty:
        raise ConfigError("no rows after the header: nothing to import", source=source)
    return Cells(source, header, rows)


def source_rows(cells: Cells) -> list[int]:
    """The spreadsheet row of each data row: the header is row 1, so the first item is 2."""
    return list(range(2, len(cells.rows) + 2))


def read_generic(cells: Cells) -> Imported:
    """Read a generic CSV (see the module's doc) into the tidy table."""
    cells.require(list(REQUIRED), "a generic CSV export")
    for name in [*REQUIRED, *OPTIONAL]:
        if len(cells.all(name)) > 1:
            raise DataError(
                f"column {name!r} appears {len(cells.all(name))} times, expected once",
                source=cells.source,
                where="row 1 (the header)",
            )
    rows = source_rows(cells)
    parse = time_parser(["ISO8601"])
    out = empty_columns()
    out["source_row"] = rows
    for name in ("id", "kind", "class", "customer", "assignee"):
        out[name] = [v or None for v in cells.column(name)]
    for name in ("created", "started", "done"):
        values: list[pd.Timestamp | None] = []
        for row, text in zip(rows, cells.column(name), strict=True):
            if not text:
                values.append(None)
                continue
            stamp = parse(text)
            if stamp is None:
                raise DataError(
                    f"expected {ISO_EXAMPLE}, found {text!r}",
                    source=cells.source,
                    where=csv_row(row),
                    column=name,
                )
            values.append(stamp)
        out[name] = values
    blocked: list[float | None] = [None] * len(rows)
    if cells.first("blocked_hours") is not None:
        for k, (row, text) in enumerate(zip(rows, cells.column("blocked_hours"), strict=True)):
            if not text:
                continue
            try:
                hours = float(text)
            except ValueError:
                hours = math.nan
            if not math.isfinite(hours):
                raise DataError(
                    f"expected a number of hours (or an empty cell), found {text!r}",
                    source=cells.source,
                    where=csv_row(row),
                    column="blocked_hours",
                )
            blocked[k] = hours
    out["blocked_hours"] = blocked
    frame = check_items(make_items(out), cells.source, csv_row)
    return Imported(frame, cells.source, "csv")
