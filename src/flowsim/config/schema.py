"""The parameter schema seen as a tree of config keys.

A config file addresses parameters by key paths such as ``lead.wip_limit`` or
``onboarding.task_effort.mean``.  :class:`Node` describes what the schema
expects at one such path, read from the pydantic models in
:mod:`flowsim.model.params`, so that error messages, ``--set`` checks and the
generated reference all speak the user's vocabulary (aliases, not attribute
names) and never drift from the models.
"""

from __future__ import annotations

import types
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types as at
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from flowsim.model.params import Params

NodeKind = Literal["section", "distribution", "mapping", "list", "choice", "value"]

_VALUE_NOUNS: dict[Any, tuple[str, str]] = {
    float: ("a number", "numbers"),
    int: ("an integer", "integers"),
    bool: ("true or false", "true/false values"),
    str: ("a string", "strings"),
}


@dataclass(frozen=True)
class Node:
    """What the schema expects at one key path.

    Attributes
    ----------
    kind : str
        ``section`` (a pydantic model), ``distribution`` (a union told apart by
        its ``kind`` key), ``mapping`` (a ``dict`` field), ``list``, ``choice``
        (a ``Literal``) or ``value`` (a plain number, string or boolean).
    ann : Any
        The annotation with ``Annotated`` and ``None`` stripped.
    nullable : bool
        Whether ``null`` is accepted.
    constraints : tuple
        The field's ``annotated_types`` constraints (``Gt``, ``Ge``, ``MinLen``...).
    info : FieldInfo or None
        The pydantic field, when the node is a model field (holds the default).
    """

    kind: NodeKind
    ann: Any
    nullable: bool = False
    constraints: tuple[Any, ...] = ()
    info: FieldInfo | None = field(default=None, compare=False)

    @property
    def fields(self) -> dict[str, FieldInfo]:
        """Fields of a section, by the key a config uses (the alias)."""
        return fields_by_key(self.ann) if self.kind == "section" else {}

    @property
    def members(self) -> dict[str, type[BaseModel]]:
        """Models of a distribution, by their ``kind`` tag."""
        if self.kind != "distribution":
            return {}
        return {m.model_fields["kind"].default: m for m in get_args(self.ann)}

    @property
    def mapping_keys(self) -> tuple[Any, ...] | None:
        """Allowed keys of a mapping, or None when any key goes."""
        key_ann = _strip_annotated(get_args(self.ann)[0])[0]
        return get_args(key_ann) if get_origin(key_ann) is Literal else None

    @property
    def choices(self) -> tuple[Any, ...]:
        """Allowed values of a choice."""
        return get_args(self.ann) if self.kind == "choice" else ()

    def known_keys(self) -> list[str]:
        """Keys a config may write under this node (empty if it takes no keys)."""
        if self.kind == "section":
            return list(self.fields)
        if self.kind == "distribution":
            keys: dict[str, None] = {}
            for member in self.members.values():
                keys.update(dict.fromkeys(fields_by_key(member)))
            return list(keys)
        if self.kind == "mapping":
            return [str(k) for k in self.mapping_keys or ()]
        return []

    def child(self, key: Any) -> Node | None:
        """The node under ``key``, or None if the schema has no such key.

        A distribution has no children of its own: pick a member with
        :meth:`member` first, because its keys depend on the ``kind``.
        """
        if self.kind == "section":
            info = self.fields.get(key) if isinstance(key, str) else None
            return None if info is None else node_for(info.annotation, info)
        if self.kind == "mapping":
            allowed = self.mapping_keys
            if allowed is not None and key not in allowed:
                return None
            return node_for(get_args(self.ann)[1])
        if self.kind == "list" and isinstance(key, int):
            return node_for(get_args(self.ann)[0])
        return None

    def member(self, tag: Any) -> Node | None:
        """The section node of the distribution with ``kind: tag``, if any."""
        model = self.members.get(tag) if isinstance(tag, str) else None
        return None if model is None else node_for(model)

    def default(self) -> Any:
        """The field's default as plain config data (by alias), or None if required."""
        if self.info is None or self.info.is_required():
            return None
        return to_data(self.info.get_default(call_default_factory=True))

    def describe(self) -> str:
        """What a value here must be, phrased for an ``expected ...`` message."""
        text = self._noun(plural=False)
        return f"{text} or null" if self.nullable else text

    def _noun(self, plural: bool) -> str:
        bounds = bounds_text(self.constraints)
        if self.kind == "value":
            one, many = _VALUE_NOUNS.get(self.ann, ("a value", "values"))
            text = many if plural else one
            return f"{text} {bounds}" if bounds and self.ann in (int, float) else text
        if self.kind == "choice":
            options = ", ".join(repr(c) for c in self.choices)
            return f"values among {options}" if plural else f"one of {options}"
        if self.kind == "distribution":
            return "distributions" if plural else "a distribution (a mapping with a 'kind' key)"
        if self.kind == "list":
            item = node_for(get_args(self.ann)[0])._noun(plural=True)
            least = next((c.min_length for c in self.constraints if isinstance(c, at.MinLen)), 0)
            if plural:
                return f"lists of {item}"
            if least > 1:
                return f"a list of at least {least} {item}"
            return f"a non-empty list of {item}" if least else f"a list of {item}"
        return "mappings" if plural else "a mapping"


ROOT: Node = Node("section", Params)
"""The node of a whole config."""


def fields_by_key(model: type[BaseModel]) -> dict[str, FieldInfo]:
    """Fields of ``model`` keyed by what a config writes: the alias if any, else the name."""
    return {info.alias or name: info for name, info in model.model_fields.items()}


def node_for(ann: Any, info: FieldInfo | None = None) -> Node:
    """Classify an annotation (and its field, which carries the constraints)."""
    ann, constraints = _strip_annotated(ann)
    if info is not None:
        constraints = tuple(info.metadata) + constraints
    nullable = False
    if get_origin(ann) in (Union, types.UnionType):
        members = [a for a in get_args(ann) if a is not type(None)]
        nullable = len(members) < len(get_args(ann))
        if len(members) == 1:
            ann, more = _strip_annotated(members[0])
            constraints += more
        elif all(_is_model(m) and "kind" in m.model_fields for m in members):
            return Node("distribution", ann, nullable, constraints, info)
    origin = get_origin(ann)
    kind: NodeKind
    if _is_model(ann):
        kind = "section"
    elif origin is dict:
        kind = "mapping"
    elif origin is list:
        kind = "list"
    elif origin is Literal:
        kind = "choice"
    else:
        kind = "value"
    return Node(kind, ann, nullable, constraints, info)


def bounds_text(constraints: tuple[Any, ...]) -> str:
    """Numeric bounds as ``> 0``, ``>= 0 and <= 1``; empty if unbounded."""
    symbols = {at.Gt: (">", "gt"), at.Ge: (">=", "ge"), at.Lt: ("<", "lt"), at.Le: ("<=", "le")}
    parts = []
    for c in constraints:
        if type(c) in symbols:
            symbol, attr = symbols[type(c)]
            parts.append(f"{symbol} {number_text(getattr(c, attr))}")
    return " and ".join(parts)


def number_text(value: Any) -> str:
    """A number without a useless ``.0`` (the schema stores ``gt=0`` as ``0.0``)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def to_data(value: Any) -> Any:
    """Turn model instances (also nested in lists and dicts) into plain data, by alias."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    if isinstance(value, dict):
        return {k: to_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_data(v) for v in value]
    return value


def _strip_annotated(ann: Any) -> tuple[Any, tuple[Any, ...]]:
    constraints: tuple[Any, ...] = ()
    while get_origin(ann) is Annotated:
        ann, *meta = get_args(ann)
        for m in meta:
            # Field(...) inside Annotated keeps its constraints in its own metadata.
            constraints += tuple(m.metadata) if isinstance(m, FieldInfo) else (m,)
    constraints = tuple(c for c in constraints if isinstance(c, at.BaseMetadata))
    return ann, constraints


def _is_model(ann: Any) -> bool:
    return isinstance(ann, type) and issubclass(ann, BaseModel)
