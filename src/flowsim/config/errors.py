"""One-line config errors that point at the file, line and key to fix.

pydantic reports a ``ValidationError`` as a location tuple in model terms
(with union tags and ``[key]`` markers in it) and a sentence per error.  A user
editing YAML needs the opposite: where the offending key is written, its
dotted path, what it should be and what it is.  :func:`explain` does that
translation with the help of the schema tree and of the origin of every key.
"""

from __future__ import annotations

import difflib
import re
from typing import Any, NamedTuple

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from flowsim.config.schema import ROOT, Node

_VALIDATOR_ERRORS = ("value_error", "assertion_error")

KeyPath = tuple[str | int, ...]
"""A key path into config data, e.g. ``("hiring", "plan", 0, "role")``."""


class Origin(NamedTuple):
    """Where a key was last set: a file and line, or a ``--set`` option (no line)."""

    source: str
    line: int | None = None


Origins = dict[KeyPath, Origin]


class ConfigError(Exception):
    """A config cannot be read or is invalid; the message is a single line.

    The message reads ``<source>:<line>: <key.path>: <detail>``, leaving out the
    parts that are unknown.  When the source is the ``--set`` option that set
    the key itself, the key path is not repeated.

    Parameters
    ----------
    detail : str
        What is wrong, e.g. ``expected a number > 0, got -1``.
    source : str, optional
        The config file, or ``--set KEY=VALUE``.
    line : int, optional
        1-based line in ``source``.
    key : str, optional
        Dotted key path of the offending value.
    """

    def __init__(
        self,
        detail: str,
        *,
        source: str | None = None,
        line: int | None = None,
        key: str | None = None,
    ) -> None:
        self.detail = " ".join(detail.splitlines())
        self.source = source
        self.line = line
        self.key = key
        super().__init__(self._format())

    def _format(self) -> str:
        parts = []
        if self.source is not None:
            parts.append(self.source if self.line is None else f"{self.source}:{self.line}")
        if self.key and not (self.source or "").startswith(f"--set {self.key}="):
            parts.append(self.key)
        parts.append(self.detail)
        return ": ".join(parts)


def dotted(path: KeyPath) -> str:
    """Render a key path the way ``--set`` takes it: ``hiring.plan.0.role``."""
    return ".".join(str(p) for p in path)


def show(value: Any, limit: int = 60) -> str:
    """``repr`` of a value given by the user, cut short if long."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def closest(given: Any, options: list[str]) -> str | None:
    """The option ``given`` is most likely a misspelling of, if any."""
    if not isinstance(given, str):
        return None
    close = difflib.get_close_matches(given, options, n=1)
    return close[0] if close else None


def did_you_mean(given: Any, options: list[str]) -> str:
    """A ``; did you mean 'x'?`` hint for a close misspelling, else empty."""
    match = closest(given, options)
    return f"; did you mean {match!r}?" if match else ""


def unknown_key(key: Any, known: list[str]) -> str:
    """Detail for a key the schema does not have at that place."""
    return f"unknown key {show(key)} (known keys: {', '.join(known)}){did_you_mean(key, known)}"


def explain(exc: ValidationError, origins: Origins, fallback: Origin) -> ConfigError:
    """Turn the first error of a pydantic ``ValidationError`` into a :class:`ConfigError`.

    Parameters
    ----------
    exc : ValidationError
        Raised by ``Params.model_validate`` on merged config data.
    origins : dict
        Where each key path was last set.
    fallback : Origin
        Where to point when no key of the error has an origin (the base file).

    Returns
    -------
    ConfigError
        Names the key path, what was expected and what was given; a count of
        any further errors is appended, because fixing one at a time is easier
        to follow than a screenful.
    """
    # A misspelt key also makes the real key "missing"; the unknown key is the
    # useful report, so key errors go first (sorted() keeps pydantic's order otherwise).
    errors = sorted(exc.errors(include_url=False), key=lambda e: not _is_key_error(e))
    path, detail, anchor = _describe(errors[0])
    from_validator = errors[0]["type"] in _VALIDATOR_ERRORS
    origin = _locate(anchor, detail if from_validator else "", origins) or fallback
    if len(errors) > 1:
        more = len(errors) - 1
        detail += f" (and {more} more error{'s' if more > 1 else ''})"
    return ConfigError(detail, source=origin.source, line=origin.line, key=dotted(path) or None)


def _is_key_error(error: ErrorDetails) -> bool:
    return error["type"] == "extra_forbidden" or "[key]" in error["loc"]


def _describe(error: ErrorDetails) -> tuple[KeyPath, str, KeyPath]:
    """Return the key path to name, the detail, and the key path whose line to show."""
    path, nodes, key_error = _walk(error["loc"])
    node, parent = nodes[-1], (nodes[-2] if len(nodes) > 1 else None)
    kind, given = error["type"], error.get("input")
    if key_error or kind == "extra_forbidden":
        # The key itself is wrong: name its parent, point at the key's own line.
        known = parent.known_keys() if parent is not None else []
        return path[:-1], unknown_key(path[-1], known), path
    if kind == "missing":
        return path[:-1], f"missing required key {show(path[-1])}", path[:-1]
    if kind == "union_tag_invalid" and node is not None:
        tags = list(node.members)
        expected = ", ".join(repr(t) for t in tags)
        tag = error.get("ctx", {}).get("tag")
        detail = f"expected one of {expected}, got {show(tag)}{did_you_mean(tag, tags)}"
        return (*path, "kind"), detail, (*path, "kind")
    if kind == "union_tag_not_found" and node is not None:
        expected = ", ".join(repr(t) for t in node.members)
        return path, f"missing key 'kind' of the distribution (one of {expected})", path
    if kind in _VALIDATOR_ERRORS:
        cause = error.get("ctx", {}).get("error")
        return path, str(cause) if cause is not None else error["msg"], path
    if node is None:
        # Not reached for Params; kept so that a schema change degrades to pydantic's words.
        words = error["msg"].replace("Input should be", "expected")
        return path, f"{words}, got {show(given)}", path
    hint = did_you_mean(given, [str(c) for c in node.choices]) if node.kind == "choice" else ""
    return path, f"expected {node.describe()}, got {show(given)}{hint}", path


def _walk(loc: tuple[str | int, ...]) -> tuple[KeyPath, list[Node | None], bool]:
    """Follow a pydantic error location through the schema.

    Returns the key path as a user writes it (union tags dropped), the nodes
    along it (``nodes[0]`` is the root, ``None`` past an unknown key), and
    whether the error is about a mapping key rather than a value.
    """
    path: list[str | int] = []
    nodes: list[Node | None] = [ROOT]
    for part in loc:
        node = nodes[-1]
        if part == "[key]":
            return tuple(path), nodes, True
        if node is not None and node.kind == "distribution" and part in node.members:
            # pydantic inserts the chosen member's tag; the config has no such key.
            nodes[-1] = node.member(part)
            continue
        path.append(part)
        nodes.append(node.child(part) if node is not None else None)
    return tuple(path), nodes, False


def _locate(anchor: KeyPath, message: str, origins: Origins) -> Origin | None:
    """Find where to point for an error at ``anchor``.

    A model-level validator reports its whole section (or the whole config);
    its ``message`` names the fields involved, so the first named field that
    the user actually set is the most useful line.  Otherwise the closest key
    path that has an origin wins.
    """
    for word in re.findall(r"[A-Za-z_][\w.]*\w", message):
        named = tuple(word.split("."))
        for candidate in ((*anchor, *named), named):
            if len(candidate) > len(anchor) and candidate in origins:
                return origins[candidate]
    for size in range(len(anchor), 0, -1):
        if anchor[:size] in origins:
            return origins[anchor[:size]]
    return None


_SPEC_WORDS = {
    "extra_forbidden": "unknown key",
    # Names of these files become folder and file names: say so rather than a regex.
    "string_pattern_mismatch": "expected a name of letters, digits and _ (experiments "
    "also - . = , + [ ]), not starting with a dot: it names a results folder",
}


def spec_error(exc: ValidationError, origins: Origins, source: str) -> ConfigError:
    """A :class:`ConfigError` for the first problem of a file that is not a config
    (an experiment, a calibration's targets): its line, key, what and what was given."""
    err = exc.errors()[0]
    loc = tuple(str(p) for p in err["loc"] if not str(p).startswith("function-"))
    origin = origins.get(tuple(err["loc"])) or origins.get(tuple(err["loc"][:1]))
    line = origin.line if origin is not None else None
    if err["type"] in ("value_error", "assertion_error"):
        # A check on a whole section: its message says it all; the input would only
        # repeat the section.
        what, given = str(err["ctx"].get("error", err["msg"])), ""
    else:
        given = f", got {show(err.get('input'))}" if err["type"] != "missing" else ""
        what = _SPEC_WORDS.get(err["type"], err["msg"])
    return ConfigError(f"{what}{given}", source=source, line=line, key=dotted(loc))
