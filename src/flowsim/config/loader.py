"""Read a flowsim config: a YAML file, overlays and ``--set`` overrides, into ``Params``.

Layers, lowest first:

1. the base YAML file; keys it leaves out take the model defaults;
2. overlay files, deep-merged in order: mappings merge key by key, lists and
   scalars replace.  One exception: a mapping whose ``kind`` differs from the
   one it lands on is a different distribution and replaces it whole, since
   the old distribution's parameters would be meaningless (and rejected);
3. ``--set KEY=VALUE`` overrides, in order, each replacing the value at
   ``KEY``.  A ``--set`` below a value no layer wrote (``onboarding.task_effort.mean``)
   starts from that value's default, so it changes one parameter only.

Every key path remembers the file and line (or the ``--set``) that last set
it, so that a validation error points where the fix goes.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NoReturn

import yaml
from pydantic import ValidationError
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from flowsim.config import schema
from flowsim.config.errors import (
    ConfigError,
    KeyPath,
    Origin,
    Origins,
    closest,
    dotted,
    explain,
    show,
)
from flowsim.model.params import Params

StrPath = str | os.PathLike[str]

_MERGE_TAG = "tag:yaml.org,2002:merge"
# A config is a few hundred values a few levels deep. Far beyond that is a mistake or
# an attack: aliases that expand exponentially ("billion laughs") or nesting deep
# enough to exhaust the recursion of the parser and of every walk after it.
MAX_YAML_NODES = 100_000
MAX_YAML_DEPTH = 50


log = logging.getLogger("flowsim")


class LineLoader(yaml.SafeLoader):
    """A ``yaml.SafeLoader`` that records the line of every mapping key and list item.

    After ``get_single_data()``, ``key_lines`` maps each key path, e.g.
    ``("lead", "wip_limit")``, to its 1-based line; ``()`` is the document.
    Duplicate keys are an error, not a silent "last one wins". A document nested
    deeper than ``MAX_YAML_DEPTH`` or larger than ``MAX_YAML_NODES`` values once its
    aliases are expanded is refused before anything walks it.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.key_lines: dict[KeyPath, int] = {}
        self._depth = 0
        self._expanded: dict[int, int] = {}  # id(node) -> its size with aliases expanded

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise yaml.composer.ComposerError(
                    None,
                    None,
                    f"nested deeper than {MAX_YAML_DEPTH} levels",
                    self.peek_event().start_mark,
                )
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if node is not None and id(node) not in self._expanded:
            children: list[yaml.Node] = []
            if isinstance(node, SequenceNode):
                children = node.value
            elif isinstance(node, MappingNode):
                children = [n for pair in node.value for n in pair]
            size = 1 + sum(self._expanded.get(id(c), 1) for c in children)
            self._expanded[id(node)] = size
            if size > MAX_YAML_NODES:
                raise yaml.composer.ComposerError(
                    None,
                    None,
                    f"more than {MAX_YAML_NODES:,} values once its aliases (*name) are expanded",
                    node.start_mark,
                )
        return node

    def construct_document(self, node: yaml.Node) -> Any:
        self.key_lines[()] = node.start_mark.line + 1
        self._record(node, (), set())
        return super().construct_document(node)

    def _record(self, node: yaml.Node, path: KeyPath, active: set[int]) -> None:
        if id(node) in active:
            raise yaml.constructor.ConstructorError(
                None, None, "an alias refers to a node that contains it", node.start_mark
            )
        active.add(id(node))
        if isinstance(node, MappingNode):
            for key_node, value_node in node.value:
                if not isinstance(key_node, ScalarNode) or key_node.tag == _MERGE_TAG:
                    continue
                key = self.construct_object(key_node)
                line = key_node.start_mark.line + 1
                if (*path, key) in self.key_lines:
                    first = self.key_lines[(*path, key)]
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        f"duplicate key {key!r} (first on line {first})",
                        key_node.start_mark,
                    )
                self.key_lines[(*path, key)] = line
                self._record(value_node, (*path, key), active)
        elif isinstance(node, SequenceNode):
            for index, item in enumerate(node.value):
                self.key_lines[(*path, index)] = item.start_mark.line + 1
                self._record(item, (*path, index), active)
        active.discard(id(node))


def _construct_timestamp(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    """A date or time, or a clear error with its line for one that only looks like one
    (``2025-13-01``): PyYAML's own raises a bare ``ValueError``."""
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError as exc:
        raise yaml.constructor.ConstructorError(
            None, None, f"{node.value!r} is not a valid date or time ({exc})", node.start_mark
        ) from None


LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def read_yaml(path: StrPath) -> tuple[dict[str, Any], Origins]:
    """Read one config file.

    Parameters
    ----------
    path : str or os.PathLike
        The YAML file.  An empty file is an empty mapping.

    Returns
    -------
    data : dict
        The top-level mapping.
    origins : dict
        ``Origin(file, line)`` of every key path in it.

    Raises
    ------
    ConfigError
        If the file is missing or unreadable, is not valid YAML, or its top
        level is not a mapping.
    """
    # "-" is standard input, as for most command-line tools: `... | flowsim run -`.
    stdin = os.fspath(path) == "-"
    label = "<stdin>" if stdin else os.fspath(path)
    try:
        text = sys.stdin.read() if stdin else Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"no such config file: {label}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {label}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError("not a UTF-8 text file", source=label) from None
    loader = LineLoader(text)
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "unreadable"
        context = f" ({exc.context})" if exc.problem and exc.context else ""
        line = mark.line + 1 if mark else None
        raise ConfigError(f"invalid YAML: {problem}{context}", source=label, line=line) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", source=label) from None
    finally:
        loader.dispose()
    if data is None:
        return {}, {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"expected a mapping of sections at the top level, got {show(data)}",
            source=label,
            line=loader.key_lines.get(()),
        )
    origins = {p: Origin(label, line) for p, line in loader.key_lines.items() if p}
    return _unshare(data), origins


def _unshare(value: Any) -> Any:
    """Copy nested dicts and lists so that no two key paths share one object.

    YAML aliases (``*name``) share objects; merging into one must not change the other.
    """
    if isinstance(value, dict):
        return {k: _unshare(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unshare(v) for v in value]
    return value


def deep_merge(
    base: dict[str, Any], overlay: dict[str, Any], origins: Origins, overlay_origins: Origins
) -> None:
    """Merge ``overlay`` into ``base`` in place, keeping ``origins`` up to date.

    Mappings merge recursively; anything else replaces, and so does a mapping
    whose ``kind`` differs from the existing one (a different distribution).
    """
    _merge_at(base, overlay, (), origins, overlay_origins)


def _merge_at(
    base: dict[str, Any], overlay: dict[str, Any], path: KeyPath, origins: Origins, new: Origins
) -> None:
    for key, value in overlay.items():
        here = (*path, key)
        old = base.get(key)
        if isinstance(old, dict) and isinstance(value, dict) and not _kind_changes(old, value):
            if here in new:
                origins[here] = new[here]
            _merge_at(old, value, here, origins, new)
        else:
            base[key] = copy.deepcopy(value)
            _forget(origins, here)
            origins.update({p: o for p, o in new.items() if p[: len(here)] == here})


def _kind_changes(old: dict[str, Any], new: dict[str, Any]) -> bool:
    return "kind" in new and new["kind"] != old.get("kind")


def _forget(origins: Origins, path: KeyPath) -> None:
    """Drop the origins of ``path`` and everything below it (it was replaced)."""
    for p in [p for p in origins if p[: len(path)] == path]:
        del origins[p]


def apply_set(data: dict[str, Any], origins: Origins, text: str) -> None:
    """Apply one ``KEY=VALUE`` override to config data in place.

    Parameters
    ----------
    data : dict
        Merged config data.
    origins : dict
        Updated so that errors about this key name the ``--set``.
    text : str
        ``a.b.c=value``; the value is read as YAML (``5``, ``0.3``, ``true``,
        ``null``, ``[1, 2]``, ``{kind: constant, value: 1}``, ``fifo``).

    Raises
    ------
    ConfigError
        If ``text`` is not ``KEY=VALUE``, the value is not valid YAML, or the
        schema has no such key path.
    """
    key_text, sep, value_text = text.partition("=")
    key_text = key_text.strip()
    parts = key_text.split(".")
    if not sep or not all(parts):
        raise ConfigError(f"--set {text}: expected KEY=VALUE, e.g. lead.wip_limit=3")
    if not value_text.strip():
        raise ConfigError(f"--set {text}: missing value (write null for none, '' for empty text)")
    try:
        value = LineLoader(value_text).get_single_data()
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or exc
        raise ConfigError(f"--set {text}: cannot read the value as YAML: {problem}") from None
    origin = Origin(f"--set {key_text}={value_text}")
    node = schema.ROOT
    container: dict[str, Any] | list[Any] = data
    path: KeyPath = ()
    for depth, part in enumerate(parts):
        key, child = _step(node, container, part, key_text, dotted(path))
        path = (*path, key)
        if depth == len(parts) - 1:
            container[key] = value
            _forget(origins, path)
            origins[path] = origin
            return
        current = container[key] if _has(container, key) else None
        if not isinstance(current, list if child.kind == "list" else dict):
            current = _seed(child)
            container[key] = current
            origins[path] = origin
        node, container = child, current


def _seed(node: schema.Node) -> dict[str, Any] | list[Any]:
    """What a ``--set`` below a value no layer wrote (or wrote wrongly) starts from.

    A distribution, mapping or list starts from its default, so that only the
    named parameter changes (a distribution keeps its kind and other
    parameters).  A section starts empty: the model fills in its defaults.
    """
    empty: dict[str, Any] | list[Any] = [] if node.kind == "list" else {}
    default = node.default() if node.kind != "section" else None
    return default if isinstance(default, type(empty)) else empty


def _has(container: dict[str, Any] | list[Any], key: Any) -> bool:
    if isinstance(container, list):
        return 0 <= key < len(container)
    return key in container


def _step(
    node: schema.Node, container: dict[str, Any] | list[Any], part: str, key_text: str, owner: str
) -> tuple[Any, schema.Node]:
    """Resolve one part of a ``--set`` key: the key to use in the data and its node.

    ``owner`` is the dotted path walked so far, for the error message.
    """
    if node.kind == "distribution":
        member = node.member(container.get("kind")) if isinstance(container, dict) else None
        node = member or node
        if member is not None:
            child = member.child(part)
            if child is not None:
                return part, child
        elif part == "kind" or part in node.known_keys():
            # Without a valid kind we cannot tell the keys apart; validation will.
            return part, schema.Node("value", object)
    elif node.kind == "list":
        if isinstance(container, list) and part.isdigit() and int(part) < len(container):
            child = node.child(int(part))
            assert child is not None  # a list node always has an item node
            return int(part), child
        size = len(container) if isinstance(container, list) else 0
        raise ConfigError(
            f"--set {key_text}: no such key ({owner} has {size} entries; "
            f"set the whole list instead, e.g. {owner}=[...])"
        )
    else:
        child = node.child(part)
        if child is not None:
            return part, child
    return _no_such_key(node, part, key_text, owner)


def _no_such_key(node: schema.Node, part: str, key_text: str, owner: str) -> NoReturn:
    known = node.known_keys()
    if not known:
        raise ConfigError(
            f"--set {key_text}: no such key ({owner} is {node.describe()}, which has no keys)"
        )
    where = f"under {owner}" if owner else "at the top level"
    if node.kind == "section" and "kind" in node.fields:
        where = f"for the {node.fields['kind'].default} distribution at {owner}"
    match = closest(part, known)
    hint = f"; did you mean {'.'.join(filter(None, [owner, match]))!r}?" if match else ""
    raise ConfigError(
        f"--set {key_text}: no such key {part!r} {where} (known keys: {', '.join(known)}){hint}"
    )


def resolve_config(
    path: StrPath, overlays: Iterable[StrPath] = (), sets: Iterable[str] = ()
) -> tuple[Params, dict[str, Any]]:
    """Read, merge, override and validate a config.

    Parameters
    ----------
    path : str or os.PathLike
        The base YAML file.
    overlays : iterable of paths
        Partial YAML files deep-merged over the base, in order.
    sets : iterable of str
        ``KEY=VALUE`` overrides applied last, in order.

    Returns
    -------
    params : Params
        The validated parameters.
    data : dict
        The merged config data that was validated (what the user wrote; the
        defaults it leaves out are not filled in).

    Raises
    ------
    ConfigError
        For any problem, with a one-line message naming where and what.
    """
    overlays, sets = list(overlays), list(sets)
    data, origins = merge_config(path, overlays, sets)
    params = validate_config(data, origins, path)
    if log.isEnabledFor(logging.INFO):
        extra = "".join(f" + {os.fspath(o)}" for o in overlays)
        extra += "".join(f" --set {t}" for t in sets)
        log.info(f"config {os.fspath(path)}{extra}: {params.name}, hash {config_hash(params)[:12]}")
    return params, data


def merge_config(
    path: StrPath, overlays: Iterable[StrPath] = (), sets: Iterable[str] = ()
) -> tuple[dict[str, Any], Origins]:
    """Read the base, merge the overlays and apply the overrides, without validating:
    the config data and where each key came from."""
    data, origins = read_yaml(path)
    for overlay in overlays:
        overlay_data, overlay_origins = read_yaml(overlay)
        deep_merge(data, overlay_data, origins, overlay_origins)
    for text in sets:
        apply_set(data, origins, text)
    return data, origins


def validate_config(data: dict[str, Any], origins: Origins, path: StrPath) -> Params:
    """Validate merged config data; a problem names the file (or ``--set``) it came from."""
    try:
        return Params.model_validate(data)
    except ValidationError as exc:
        raise explain(exc, origins, fallback=Origin(os.fspath(path))) from exc


def load_config(
    path: StrPath, overlays: Iterable[StrPath] = (), sets: Iterable[str] = ()
) -> Params:
    """Read and validate a config; see :func:`resolve_config` for the arguments."""
    return resolve_config(path, overlays, sets)[0]


def config_hash(params: Params) -> str:
    """SHA-256 hex digest of the resolved parameters, independent of key order.

    Two configs that resolve to the same parameters (however written) share a
    hash, which is what result caching and run records need.
    """
    canonical = json.dumps(
        params.model_dump(mode="json", by_alias=True), sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class _ReadableDumper(yaml.SafeDumper):
    """Block style for sections, flow style for distributions and lists of scalars."""


def _represent_dict(dumper: yaml.SafeDumper, data: dict[str, Any]) -> yaml.MappingNode:
    flow = "kind" in data and all(not isinstance(v, dict) for v in data.values())
    return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=flow)


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.SequenceNode:
    flow = all(not isinstance(v, dict | list) for v in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


def _represent_float(dumper: yaml.SafeDumper, data: float) -> yaml.ScalarNode:
    # 104 reads better than 104.0, and validation turns it back into the same float.
    if data.is_integer() and abs(data) < 1e15:
        return dumper.represent_int(int(data))
    return dumper.represent_float(data)


_ReadableDumper.add_representer(dict, _represent_dict)
_ReadableDumper.add_representer(float, _represent_float)
_ReadableDumper.add_representer(list, _represent_list)


def dump_yaml(params: Params) -> str:
    """The resolved config as YAML, by alias, in the schema's order of sections and keys.

    Loading the result gives back the same parameters (and the same hash).
    """
    data = params.model_dump(mode="json", by_alias=True)
    return yaml.dump(data, Dumper=_ReadableDumper, sort_keys=False, allow_unicode=True, width=100)
