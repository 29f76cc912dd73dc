"""Trello's board export ("Print and export > Export as JSON").

A board is a JSON object with its ``lists``, ``labels``, ``members``,
``customFields``, ``cards`` and ``actions`` (the newest 1000 at most).  A card is
one work item:

* its kind comes from its labels (or its list), by the mapping's rules;
* ``created`` is the date of its ``createCard`` action (or ``copyCard``,
  ``convertToCardFromCheckItem``, ``moveCardToBoard``), else the time encoded
  in the first 8 hex digits of its id (a Unix timestamp);
* ``done`` is its first move (an ``updateCard`` action with ``data.listAfter``)
  into a done list, if the card is still in a done list (a card moved back out
  is open again); when that move is not among the actions, its
  ``dateLastActivity``;
* ``started`` is its first move into a started list (being created in one counts),
  before it was done;
* ``assignee`` is its first member; ``customer`` comes from a label prefix or a
  custom field.

An archived card that is not in a done list was dropped, not done: it is left
out of the table and counted.
"""

from __future__ import annotations

import json
import os
import string
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from dateutil.parser import isoparse

from flowsim.config.errors import ConfigError, show
from flowsim.data.items import DataError, Imported, check_items, empty_columns, make_items
from flowsim.data.mapping import Mapping, fold

CREATION = frozenset({"createCard", "copyCard", "convertToCardFromCheckItem", "moveCardToBoard"})
MOVE = "updateCard"
Event = tuple[datetime, str]
"""When a card entered a list, and the list's (folded) name."""


def load_board(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a Trello board export and check its shape.

    Raises
    ------
    ConfigError
        If the file is missing, not UTF-8, not JSON, or not a Trello board (an
        object with lists of ``cards`` and ``lists``).
    """
    source = os.fspath(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"no such export file: {source}") from None
    except UnicodeDecodeError:
        raise ConfigError("not a UTF-8 text file", source=source) from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", source=source) from None
    if not text.strip():
        raise ConfigError("empty file: expected a Trello board export (JSON)", source=source)
    try:
        board = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"invalid JSON: {exc.msg} (column {exc.colno})", source=source, line=exc.lineno
        ) from None
    shape = "an object with lists 'cards' and 'lists'"
    if not isinstance(board, dict):
        found = f"a JSON {type(board).__name__.replace('dict', 'object')}"
        raise ConfigError(
            f"not a Trello board export: expected {shape}, found {found}", source=source
        )
    for key in ("cards", "lists"):
        if not isinstance(board.get(key), list):
            found = "none" if key not in board else show(board[key], 30)
            raise ConfigError(
                f"not a Trello board export: expected {shape}, found {key!r}: {found}",
                source=source,
            )
    if not board["cards"]:
        raise ConfigError("the board has no cards: nothing to import", source=source)
    return board


def read_trello(
    path: str | os.PathLike[str], mapping: Mapping, mapping_source: str | None = None
) -> Imported:
    """Read a Trello board export into the tidy table, as the mapping says.

    Raises
    ------
    DataError
        Naming the card (its place in ``cards``, id and name) or the action, and
        the field: a card or action that is not what Trello writes, a date that
        cannot be read, a card no rule gives a kind to (when ``otherwise`` is
        ``error``), or times out of order.
    """
    source = os.fspath(path)
    board = load_board(path)
    lists = _names(board, "lists", source)
    labels = _names(board, "labels", source)
    members = {
        m.get("id"): m.get("fullName") or m.get("username")
        for m in board.get("members") or []
        if isinstance(m, dict)
    }
    started_lists = {fold(x) for x in mapping.trello.started_lists}
    done_lists = {fold(x) for x in mapping.trello.done_lists}
    created, entries = _history(board.get("actions") or [], lists, source)
    customer_of = _customer(board, mapping, source)
    kind_of = mapping.classifier()
    class_of = mapping.classes.classifier()

    out = empty_columns()
    places: dict[int, str] = {}
    skipped: dict[str, int] = defaultdict(int)
    for k, card in enumerate(board["cards"], start=1):
        where = f"card {k}"
        if not isinstance(card, dict):
            detail = f"expected a card (an object), found {show(card, 30)}"
            raise DataError(detail, source=source, where=where)
        cid = _text(card, "id", source, where)
        where = f"card {k} ({cid}, {show(card.get('name', ''), 40)})"
        list_name = fold(lists.get(_text(card, "idList", source, where), ""))
        card_labels = _labels(card, labels)
        folded = {fold(x) for x in card_labels}
        in_done = list_name in done_lists
        if card.get("closed") and not in_done:
            skipped["archived without reaching a done list"] += 1
            continue
        kind = kind_of("", folded, list_name)
        if kind == "skip":
            skipped["skipped by the mapping"] += 1
            continue
        if kind == "error":
            raise DataError(
                f"labels {card_labels} in list {lists.get(card['idList'], '')!r} match no rule "
                "of the mapping's kinds, and its 'otherwise' is 'error' (label the card "
                "ticket, onboarding or ask, or map it)",
                source=source,
                where=where,
                column="idLabels",
                noun="field",
            )
        born = created.get(cid) or _from_id(cid, source, where)
        moves = entries.get(cid, [])
        done = next((t for t, name in moves if name in done_lists), None) if in_done else None
        if in_done and done is None:
            done = _date(card.get("dateLastActivity"), source, where, "dateLastActivity")
        started = next(
            (t for t, name in moves if name in started_lists and (done is None or t <= done)),
            None,
        )
        places[k] = where
        out["id"].append(cid)
        out["kind"].append(kind)
        is_ticket = kind == "ticket"
        out["class"].append(class_of([fold(x) for x in card_labels], "") if is_ticket else None)
        out["customer"].append(customer_of(card, card_labels))
        out["created"].append(pd.Timestamp(born).as_unit("ns"))
        out["started"].append(None if started is None else pd.Timestamp(started).as_unit("ns"))
        out["done"].append(None if done is None else pd.Timestamp(done).as_unit("ns"))
        ids = card.get("idMembers") or []
        out["assignee"].append(members.get(ids[0]) if ids else None)
        out["blocked_hours"].append(None)
        out["source_row"].append(k)
    if not places:
        raise ConfigError("no card left to import (all archived or skipped)", source=source)
    frame = check_items(make_items(out), source, places.__getitem__, noun="field")
    return Imported(frame, source, "trello", mapping_source, dict(skipped))


def _names(board: dict[str, Any], key: str, source: str) -> dict[str, str]:
    """``id -> name`` of the board's lists or labels."""
    found: dict[str, str] = {}
    for k, entry in enumerate(board.get(key) or [], start=1):
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            raise DataError(
                f"expected an object with an 'id', found {show(entry, 40)}",
                source=source,
                where=f"{key[:-1]} {k} of '{key}'",
            )
        found[entry["id"]] = str(entry.get("name") or "")
    return found


def _text(card: dict[str, Any], key: str, source: str, where: str) -> str:
    value = card.get(key)
    if not isinstance(value, str) or not value:
        raise DataError(
            f"expected a string, found {show(value, 40)}",
            source=source,
            where=where,
            column=key,
            noun="field",
        )
    return value


def _labels(card: dict[str, Any], labels: dict[str, str]) -> list[str]:
    """A card's label names: from its ``labels`` objects, else its ``idLabels``."""
    if isinstance(card.get("labels"), list):
        return [str(x.get("name") or "") for x in card["labels"] if isinstance(x, dict)]
    return [labels.get(i, "") for i in card.get("idLabels") or []]


def _date(value: Any, source: str, where: str, key: str) -> datetime:
    """An ISO 8601 time of the export (UTC when it has no offset)."""
    try:
        if not isinstance(value, str):
            raise ValueError
        stamp = isoparse(value)
    except (ValueError, OverflowError):
        raise DataError(
            f"expected an ISO 8601 time such as 2025-03-04T09:30:00.000Z, found {show(value, 40)}",
            source=source,
            where=where,
            column=key,
            noun="field",
        ) from None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def _from_id(cid: str, source: str, where: str) -> datetime:
    """The creation time a Trello id encodes: its first 8 hex digits, in Unix seconds."""
    if len(cid) < 8 or not set(cid[:8]) <= set(string.hexdigits):
        raise DataError(
            "expected a Trello id starting with 8 hex digits (its creation time, read when "
            f"the card has no createCard action), found {cid!r}",
            source=source,
            where=where,
            column="id",
            noun="field",
        )
    return datetime.fromtimestamp(int(cid[:8], 16), UTC)


def _history(
    actions: Any, lists: dict[str, str], source: str
) -> tuple[dict[str, datetime], dict[str, list[Event]]]:
    """Each card's creation time, and its entries into lists in time order."""
    if not isinstance(actions, list):
        found_actions = show(actions, 30)
        raise ConfigError(f"expected 'actions' to be a list, found {found_actions}", source=source)
    created: dict[str, datetime] = {}
    entries: dict[str, list[Event]] = defaultdict(list)
    found: list[tuple[datetime, int, str, str, dict[str, Any] | None]] = []
    for k, action in enumerate(actions, start=1):
        if not isinstance(action, dict) or action.get("type") not in CREATION | {MOVE}:
            continue
        data = action.get("data")
        where = f"action {k} ({action.get('type')})"
        if not isinstance(data, dict) or not isinstance(data.get("card"), dict):
            raise DataError(
                f"expected data.card, found {show(data, 40)}",
                source=source,
                where=where,
                column="data",
                noun="field",
            )
        into = data.get("list") if action["type"] in CREATION else data.get("listAfter")
        if action["type"] == MOVE and not isinstance(into, dict):
            continue  # an update of something other than the card's list
        when = _date(action.get("date"), source, where, "date")
        found.append((when, k, action["type"], str(data["card"].get("id")), into))
    # The export lists the newest first; equal times keep creation before moves.
    for when, _k, kind, cid, into in sorted(found, key=lambda f: (f[0], f[2] == MOVE, -f[1])):
        if kind in CREATION:
            created.setdefault(cid, when)
        if isinstance(into, dict):
            name = lists.get(str(into.get("id")), str(into.get("name") or ""))
            entries[cid].append((when, fold(name)))
    return created, dict(entries)


def _customer(board: dict[str, Any], mapping: Mapping, source: str) -> Any:
    """``customer_of(card, labels)`` as the mapping says (a label prefix or a custom field)."""
    rule = mapping.customer
    if rule is None:
        return lambda card, labels: None
    if rule.label_prefix is not None:
        prefix = rule.label_prefix

        def by_label(card: dict[str, Any], labels: list[str]) -> str | None:
            for label in labels:
                if label.casefold().startswith(prefix.casefold()):
                    return label[len(prefix) :].strip() or None
            return None

        return by_label
    fields = [f for f in board.get("customFields") or [] if isinstance(f, dict)]
    wanted = fold(rule.custom_field or "")
    match = [f for f in fields if fold(str(f.get("name") or "")) == wanted]
    if not match:
        have = ", ".join(repr(f.get("name")) for f in fields) or "none"
        raise ConfigError(
            f"the mapping names the custom field {rule.custom_field!r} for the customer, "
            f"but the board has no such field (it has: {have})",
            source=source,
        )
    field_id = match[0].get("id")
    options = {
        o.get("id"): (o.get("value") or {}).get("text")
        for o in match[0].get("options") or []
        if isinstance(o, dict)
    }

    def by_field(card: dict[str, Any], labels: list[str]) -> str | None:
        for item in card.get("customFieldItems") or []:
            if not isinstance(item, dict) or item.get("idCustomField") != field_id:
                continue
            if item.get("idValue"):
                return options.get(item["idValue"])
            value = item.get("value") or {}
            text = value.get("text") if isinstance(value, dict) else None
            return str(text).strip() or None if text is not None else None
        return None

    return by_field
