"""The mapping file: how a tracker's issue types, labels, lists and fields become the
tidy table's kinds, classes, customers and times.

A Jira mapping::

    format: jira
    kinds:                        # first matching rule wins
      - kind: skip                # epics are the onboarding projects, not tasks
        issue_types: [Epic]
      - kind: ticket
        issue_types: [Bug, Support]
      - kind: onboarding
        labels: [onboarding]
    otherwise: ask                # kind of an item no rule matches: a kind, skip or error
    classes:                      # tickets only: labels first, then the priority
      labels: {how-to: how_to}
      priority: {Highest: urgent, High: urgent, Medium: normal, Low: normal}
      default: normal
    customer:
      label_prefix: "customer:"   # or column: "Custom field (Customer)"
    jira:
      started_statuses: [In Progress, In Review]

A Trello mapping has ``lists`` in its rules, no ``issue_types`` nor ``priority``,
names the customer by ``label_prefix`` or ``custom_field``, and has a ``trello``
section (``started_lists``, ``done_lists``).  Every top-level key left out keeps
its default for the format (:func:`default_mapping`); a key given replaces that
default whole.  Names (issue types, labels, lists, statuses, priorities) match
whatever their case.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from flowsim.config.errors import ConfigError, Origins, dotted, spec_error
from flowsim.config.loader import read_yaml

Format = Literal["jira", "trello"]
ClassName = Literal["urgent", "normal", "how_to"]
RuleKind = Literal["ticket", "onboarding", "ask", "skip"]
Otherwise = Literal["ticket", "onboarding", "ask", "skip", "error"]
JIRA_DATE = "%d/%b/%y %I:%M %p"
"""Jira's default date format in CSV exports, e.g. ``05/Dec/26 3:21 PM``."""


def fold(name: str) -> str:
    """A name as it is matched: stripped and case-folded."""
    return name.strip().casefold()


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


class KindRule(_Spec):
    """A rule: items matching every criterion given are of ``kind`` (``skip``: left out).

    Within a criterion any name matches: ``labels: [a, b]`` matches an item with
    label ``a`` or ``b``.
    """

    kind: RuleKind = Field(description="ticket, onboarding, ask, or skip (leave it out).")
    issue_types: list[str] = Field(default_factory=list, description="Jira: the Issue Type.")
    labels: list[str] = Field(default_factory=list, description="Any of these labels.")
    lists: list[str] = Field(default_factory=list, description="Trello: the card's list.")

    @model_validator(mode="after")
    def _criteria(self) -> KindRule:
        if not (self.issue_types or self.labels or self.lists):
            raise ValueError("a rule needs at least one of issue_types, labels, lists")
        return self


class Classes(_Spec):
    """A ticket's class: from its labels first, then (Jira) its priority."""

    labels: dict[str, ClassName] = Field(default_factory=dict, description="Label -> class.")
    priority: dict[str, ClassName] = Field(
        default_factory=dict, description="Jira: Priority -> class."
    )
    default: ClassName | None = Field(
        None, description="Class of a ticket nothing above gives one (null: missing)."
    )

    def classifier(self) -> Callable[[list[str], str], str | None]:
        """``class_of(labels, priority)``, both already :func:`fold`-ed."""
        by_label = {fold(k): v for k, v in self.labels.items()}
        by_priority = {fold(k): v for k, v in self.priority.items()}

        def class_of(labels: list[str], priority: str) -> str | None:
            for label in labels:
                if label in by_label:
                    return by_label[label]
            return by_priority.get(priority, self.default)

        return class_of


class Customer(_Spec):
    """Where the customer's name is: exactly one of these."""

    label_prefix: str | None = Field(
        None, description="A label starting with this names it, e.g. customer:alder."
    )
    column: str | None = Field(None, description="Jira: a column holding it.")
    custom_field: str | None = Field(None, description="Trello: a custom field holding it.")

    @model_validator(mode="after")
    def _one(self) -> Customer:
        given = [k for k in ("label_prefix", "column", "custom_field") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError(
                "expected exactly one of label_prefix, column, custom_field, "
                f"got {', '.join(given) or 'none'}"
            )
        return self


class JiraSection(_Spec):
    """Jira's columns for the times; its CSV export has no history of transitions."""

    started_statuses: list[str] = Field(
        default_factory=lambda: ["In Progress", "In Review"],
        description="An open issue in one of these has started, at status_changed_column.",
    )
    status_changed_column: str = Field(
        "Status Category Changed",
        description="When the issue last changed status category (if the export has it).",
    )
    start_column: str | None = Field(
        None, description="A column holding the start date of every issue (overrides the above)."
    )
    done_column: str = Field("Resolved", description="When the issue was resolved.")
    date_format: str = Field(
        JIRA_DATE, description="strftime format of the dates; ISO 8601 is always accepted."
    )
    timezone: str = Field("UTC", description="Time zone of the export's times (IANA name).")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (expected e.g. Europe/Berlin)") from None
        return value


class TrelloSection(_Spec):
    """Which Trello lists mean work has started, and which that it is done."""

    started_lists: list[str] = Field(
        default_factory=lambda: ["Doing", "In Progress", "In Review"],
        description="A card's first move into one of these is its start.",
    )
    done_lists: list[str] = Field(
        default_factory=lambda: ["Done"],
        description="A card's first move into one of these is its end (if it is still there).",
    )


class Mapping(_Spec):
    """A mapping file; see the module's doc."""

    format: Format | None = Field(None, description="jira or trello: checked against the import.")
    kinds: list[KindRule] = Field(min_length=1, description="Rules, the first match wins.")
    otherwise: Otherwise = Field(description="Kind of an item no rule matches, skip or error.")
    classes: Classes = Field(default_factory=Classes)
    customer: Customer | None = Field(None, description="Where the customer is (null: nowhere).")
    jira: JiraSection = Field(default_factory=JiraSection)
    trello: TrelloSection = Field(default_factory=TrelloSection)

    def classifier(self) -> Callable[[str, set[str], str], str]:
        """``kind_of(issue_type, labels, list_name)``, all already :func:`fold`-ed: the kind
        of the first rule the item matches (or ``skip``), else :attr:`otherwise`."""
        rules = [
            (
                rule.kind,
                {fold(t) for t in rule.issue_types},
                {fold(x) for x in rule.labels},
                {fold(x) for x in rule.lists},
            )
            for rule in self.kinds
        ]

        def kind_of(issue_type: str, labels: set[str], list_name: str) -> str:
            for kind, types, wanted, lists in rules:
                if types and issue_type not in types:
                    continue
                if wanted and not labels & wanted:
                    continue
                if lists and list_name not in lists:
                    continue
                return kind
            return self.otherwise

        return kind_of


_JIRA_CLASSES = Classes(
    labels={"how-to": "how_to", "how_to": "how_to"},
    priority={
        "Highest": "urgent",
        "High": "urgent",
        "Medium": "normal",
        "Low": "normal",
        "Lowest": "normal",
    },
)
_TRELLO_CLASSES = Classes(
    labels={"urgent": "urgent", "normal": "normal", "how-to": "how_to", "how_to": "how_to"},
)


def default_mapping(fmt: Format) -> Mapping:
    """The mapping used without ``--map``, and for every key a mapping file leaves out.

    Jira: issue types Bug and Support are tickets, Epics and Stories labelled
    ``onboarding`` are onboarding work, anything else is an ask; the class comes
    from a ``how-to`` label or the priority; the customer from a label
    ``customer:NAME``.  Trello: the labels ``ticket``, ``onboarding`` and ``ask``
    give the kind (a card with none is an error); the labels ``urgent``,
    ``normal`` and ``how-to`` the class; a label ``customer:NAME`` the customer.
    """
    if fmt == "jira":
        return Mapping(
            format="jira",
            kinds=[
                KindRule(kind="ticket", issue_types=["Bug", "Support"]),
                KindRule(kind="onboarding", issue_types=["Epic", "Story"], labels=["onboarding"]),
            ],
            otherwise="ask",
            classes=_JIRA_CLASSES,
            customer=Customer(label_prefix="customer:"),
        )
    return Mapping(
        format="trello",
        kinds=[KindRule(kind=k, labels=[k]) for k in ("ticket", "onboarding", "ask")],
        otherwise="error",
        classes=_TRELLO_CLASSES,
        customer=Customer(label_prefix="customer:"),
    )


# Keys that mean something for one format only: (path in the file, the format).
_ONLY = (
    (("kinds", "*", "issue_types"), "jira"),
    (("kinds", "*", "lists"), "trello"),
    (("classes", "priority"), "jira"),
    (("customer", "column"), "jira"),
    (("customer", "custom_field"), "trello"),
    (("jira",), "jira"),
    (("trello",), "trello"),
)


def load_mapping(path: str | os.PathLike[str], fmt: Format) -> Mapping:
    """Read a mapping file for an import of format ``fmt``, over its defaults.

    Raises
    ------
    ConfigError
        Naming the file, line and key: unreadable YAML, an unknown key, a value
        of the wrong type, a key of the other format, or a ``format`` that is not
        the import's.
    """
    source = os.fspath(path)
    if not Path(path).is_file():
        raise ConfigError(f"no such mapping file: {source}")
    data, origins = read_yaml(path)
    try:
        given = Mapping.model_validate(_with_placeholders(data))
    except ValidationError as exc:
        raise spec_error(exc, origins, source) from exc
    if given.format is not None and given.format != fmt:
        raise _error(
            f"this mapping is for {given.format} exports, the import is {fmt}",
            source,
            origins,
            ("format",),
        )
    for path_, only in _ONLY:
        if only == fmt:
            continue
        for found in _find(data, path_):
            detail = f"applies to {only} exports only, the import is {fmt}"
            raise _error(detail, source, origins, found)
    chosen = {name: getattr(given, name) for name in given.model_fields_set if name in data}
    return default_mapping(fmt).model_copy(update=chosen)


def _with_placeholders(data: dict[str, Any]) -> dict[str, Any]:
    """The file's data with the required keys it leaves to the defaults filled in, so
    that pydantic checks what is there (the placeholders are replaced by the defaults)."""
    filled = dict(data)
    filled.setdefault("kinds", [{"kind": "ask", "labels": ["-"]}])
    filled.setdefault("otherwise", "error")
    return filled


def _find(data: Any, path: tuple[str, ...]) -> list[tuple[str | int, ...]]:
    """The key paths in ``data`` that match ``path`` (``*`` matches any list index)."""
    if not path:
        return [()]
    head, rest = path[0], path[1:]
    found: list[tuple[str | int, ...]] = []
    if head == "*" and isinstance(data, list):
        for k, item in enumerate(data):
            found += [(k, *p) for p in _find(item, rest)]
    elif isinstance(data, dict) and head in data and data[head] is not None:
        found += [(head, *p) for p in _find(data[head], rest)]
    return found


def _error(detail: str, source: str, origins: Origins, key: tuple[str | int, ...]) -> ConfigError:
    origin = origins.get(key)
    return ConfigError(detail, source=source, line=origin.line if origin else None, key=dotted(key))
