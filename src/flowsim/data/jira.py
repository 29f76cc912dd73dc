"""Jira's standard CSV export ("Export > CSV (all fields)" or "current fields").

The columns read (others are ignored):

* ``Issue key`` (the id), ``Issue Type``, ``Created``, and ``Resolved`` (empty
  while the issue is open): always;
* ``Labels``, which Jira repeats once per label of the issue that has most;
* ``Priority``: when the mapping gives ticket classes by priority;
* ``Status`` and ``Status Category Changed``: an open issue whose status is one
  of the mapping's started statuses started when its status category last
  changed (the CSV export holds no history of transitions, so ``started`` is
  unknown for a resolved issue unless the mapping names a start-date column);
* ``Assignee``; and the customer's column, if the mapping names one.

Dates are in Jira's default format (``05/Dec/26 3:21 PM``, or the mapping's
``date_format``) or ISO 8601, in the mapping's time zone unless they carry an
offset.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from flowsim.data.generic import Cells, source_rows
from flowsim.data.items import (
    DataError,
    Imported,
    check_items,
    csv_row,
    empty_columns,
    make_items,
    time_parser,
)
from flowsim.data.mapping import JIRA_DATE, Mapping, fold

KEY, TYPE, CREATED, STATUS, PRIORITY = "Issue key", "Issue Type", "Created", "Status", "Priority"
LABELS, ASSIGNEE = "Labels", "Assignee"
JIRA_EXAMPLE = "05/Dec/26 3:21 PM"  # Jira writes the hour without a leading zero


def has_issue_key(cells: Cells) -> bool:
    """Whether a CSV looks like a Jira export (it has an ``Issue key`` column)."""
    return KEY in cells.header


def read_jira(cells: Cells, mapping: Mapping, mapping_source: str | None = None) -> Imported:
    """Read a Jira CSV export into the tidy table, as the mapping says.

    Raises
    ------
    DataError
        Naming the row (counting the header as row 1) and the column: a column
        the import needs is missing, an issue key is empty or repeated, a date
        cannot be read, the dates are out of order, or an issue matches no rule
        of a mapping whose ``otherwise`` is ``error``.
    """
    jira = mapping.jira
    required = [KEY, TYPE, CREATED, jira.done_column]
    if mapping.classes.priority:
        required.append(PRIORITY)
    if mapping.customer is not None and mapping.customer.column:
        required.append(mapping.customer.column)
    if jira.start_column:
        required.append(jira.start_column)
    cells.require(required, "this Jira import (see the mapping)")

    n = len(cells.rows)
    rows = source_rows(cells)

    def column(name: str | None) -> list[str]:
        return cells.column(name) if name and cells.first(name) is not None else [""] * n

    label_columns = [cells.rows[k].tolist() for k in cells.all(LABELS)]
    labels = [[c[i] for c in label_columns if c[i]] for i in range(n)]
    types, priorities = column(TYPE), column(PRIORITY)
    statuses = column(STATUS)
    parse = time_parser([jira.date_format, "ISO8601"], jira.timezone)
    example = (
        JIRA_EXAMPLE
        if jira.date_format == JIRA_DATE
        else datetime(2026, 12, 5, 15, 21).strftime(jira.date_format)
    )
    kind_of = mapping.classifier()
    class_of = mapping.classes.classifier()
    started_statuses = {fold(s) for s in jira.started_statuses}
    changed = cells.first(jira.status_changed_column) is not None
    customer = mapping.customer
    customers = column(customer.column if customer is not None else None)

    texts = {
        name: column(name)
        for name in (CREATED, jira.done_column, jira.start_column, jira.status_changed_column)
        if name
    }

    def time(name: str, k: int) -> pd.Timestamp | None:
        text = texts[name][k]
        if not text:
            return None
        stamp = parse(text)
        if stamp is None:
            raise DataError(
                f"expected a date like {example} ({jira.date_format}) or ISO 8601, found {text!r}",
                source=cells.source,
                where=csv_row(rows[k]),
                column=name,
            )
        return stamp

    out = empty_columns()
    keep: list[int] = []
    skipped = 0
    for k in range(n):
        folded = [fold(x) for x in labels[k]]
        kind = kind_of(fold(types[k]), set(folded), "")
        if kind == "skip":
            skipped += 1
            continue
        if kind == "error":
            raise DataError(
                f"issue type {types[k]!r} with labels {labels[k]} matches no rule of the "
                "mapping's kinds, and its 'otherwise' is 'error'",
                source=cells.source,
                where=csv_row(rows[k]),
                column=[TYPE, LABELS],
            )
        keep.append(k)
        out["kind"].append(kind)
        out["class"].append(class_of(folded, fold(priorities[k])) if kind == "ticket" else None)
        done = time(jira.done_column, k)
        if jira.start_column:
            started = time(jira.start_column, k)
        elif done is None and changed and fold(statuses[k]) in started_statuses:
            started = time(jira.status_changed_column, k)
        else:
            started = None
        out["created"].append(time(CREATED, k))
        out["started"].append(started)
        out["done"].append(done)
        if customer is None:
            out["customer"].append(None)
        elif customer.column:
            out["customer"].append(customers[k] or None)
        else:
            out["customer"].append(_by_prefix(labels[k], customer.label_prefix or ""))
    keys, assignees = column(KEY), column(ASSIGNEE)
    out["id"] = [keys[k] or None for k in keep]
    out["assignee"] = [assignees[k] or None for k in keep]
    out["blocked_hours"] = [None] * len(keep)
    out["source_row"] = [rows[k] for k in keep]
    started_name = jira.start_column or jira.status_changed_column
    names = {"id": KEY, "created": CREATED, "started": started_name, "done": jira.done_column}
    frame = check_items(make_items(out), cells.source, csv_row, names)
    skips = {"skipped by the mapping": skipped} if skipped else {}
    return Imported(frame, cells.source, "jira", mapping_source, skips)


def _by_prefix(labels: list[str], prefix: str) -> str | None:
    """The customer named by the first label starting with ``prefix`` (any case)."""
    wanted = prefix.casefold()
    for label in labels:
        if label.casefold().startswith(wanted):
            return label[len(prefix) :].strip() or None
    return None
