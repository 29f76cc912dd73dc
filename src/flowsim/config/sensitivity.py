"""Sensitivity files: the assumptions nobody knows, each with the range it may take,
and how a policy is judged to win.

::

    name: story_uncertainties
    method: morris             # morris | sobol | lhs
    samples: 10                # trajectories (morris), base samples (sobol) or points (lhs)
    replications: 10           # per point and scenario, on common random numbers
    decide:                    # a policy wins where its paired CI excludes 0 this way
      go_lives_per_quarter: higher
    assumptions:
      - name: call_hours
        key: status_calls.call_hours
        low: 0.25
        high: 1.0
        source: MODEL.md, 1 h a call
      - name: switching_penalty
        key: context_switching.efficiency
        scale: shortfall       # each efficiency's shortfall from 1, times the value
        low: 0.5
        high: 1.5

An assumption sets one or more config keys in every scenario of the experiment:
``scale: value`` (the default) sets the key to the sampled value; ``multiply``
multiplies each scenario's own value (a number or a list of numbers) by it, which
keeps what a policy changes at that key; ``shortfall`` multiplies each number's
distance from 1 (for efficiencies and shares: 1.5 makes every loss half as large
again).  A ``value`` assumption on a key that a scenario changes would erase the
policy there, so it is refused: use ``multiply``.
"""

from __future__ import annotations

import copy
import math
import os
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from flowsim.config.errors import ConfigError, spec_error
from flowsim.config.experiment import Experiment
from flowsim.config.loader import read_yaml
from flowsim.model.catalogue import metric_names
from flowsim.model.params import Params

_NAME = r"^[A-Za-z0-9_]+$"
Method = Literal["morris", "sobol", "lhs"]
Scale = Literal["value", "multiply", "shortfall"]
MIN_LHS = 50
RESERVED_NAMES = frozenset({"point", "scenario", "replication"})
"""Columns of the runs table besides the assumptions and metrics."""


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Assumption(_Spec):
    """One uncertain assumption: the config keys it sets and the range it may take."""

    name: str = Field(pattern=_NAME, description="Short name, shown in tables and charts.")
    key: str | list[str] = Field(description="Dotted config key(s), as with --set.")
    low: float
    high: float
    scale: Scale = Field("value", description="value, multiply or shortfall (see above).")
    log: bool = Field(False, description="Sample on a log scale (both bounds > 0).")
    integer: bool = False
    source: str = Field("", description="Where the range comes from.")

    @model_validator(mode="after")
    def _bounds(self) -> Assumption:
        if not self.low < self.high:
            raise ValueError(f"expected low < high, got low={self.low:g}, high={self.high:g}")
        if self.log and self.low <= 0:
            raise ValueError("a log-scale assumption needs low > 0")
        return self

    @property
    def keys(self) -> list[str]:
        return [self.key] if isinstance(self.key, str) else list(self.key)

    def value(self, unit: float) -> float:
        """The assumption's value at ``unit`` in [0, 1] of its range."""
        if self.log:
            x = math.exp(math.log(self.low) + unit * (math.log(self.high) - math.log(self.low)))
        else:
            x = self.low + unit * (self.high - self.low)
        return float(round(x)) if self.integer else x


class UncertainSpec(_Spec):
    """A sensitivity file."""

    name: str = Field(pattern=_NAME, description="Name of the study (its results folder).")
    description: str = ""
    method: Method = Field("morris", description="morris, sobol or lhs.")
    samples: int = Field(
        10,
        ge=2,
        le=4096,
        description="Morris trajectories, Sobol base samples (a power of 2), or LHS points.",
    )
    levels: int = Field(4, ge=2, le=20, description="Morris: levels of the grid.")
    replications: int = Field(10, ge=2, le=200, description="Per point and scenario.")
    seed: int | None = Field(None, ge=0, description="Root seed (default: the experiment's).")
    batch: int = Field(
        4, ge=1, le=256, description="Points run and stored at once (resume granularity)."
    )
    metrics: list[str] | None = Field(
        None, description="Metrics whose drivers are reported (default: the experiment's)."
    )
    decide: dict[str, Literal["higher", "lower"]] = Field(
        min_length=1, description="Metric -> the better direction, for wins and losses."
    )
    assumptions: list[Assumption] = Field(min_length=2)

    @model_validator(mode="after")
    def _unique(self) -> UncertainSpec:
        if self.method == "sobol" and self.samples & (self.samples - 1):
            raise ValueError(f"sobol needs samples a power of 2, got {self.samples}")
        if self.method == "lhs" and self.samples < MIN_LHS:
            raise ValueError(
                f"lhs needs at least {MIN_LHS} samples for delta's estimates, got {self.samples}"
            )
        names = [a.name for a in self.assumptions]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"assumption names must be unique, repeated: {', '.join(repeated)}")
        taken = sorted(set(names) & RESERVED_NAMES)
        if taken:
            raise ValueError(f"assumption names {', '.join(taken)} are taken by the runs table")
        return self


def _get(data: dict[str, Any], key: str) -> Any:
    node: Any = data
    for part in key.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise KeyError(key)
    return node


def _put(data: dict[str, Any], key: str, value: Any) -> None:
    *parents, leaf = key.split(".")
    node: Any = _get(data, ".".join(parents)) if parents else data
    if isinstance(node, list):
        node[int(leaf)] = value
    else:
        node[leaf] = value


def _scaled(current: Any, factor: float, scale: Scale) -> Any:
    if isinstance(current, list):
        return [_scaled(x, factor, scale) for x in current]
    if isinstance(current, bool) or not isinstance(current, int | float):
        raise TypeError(f"expected a number or a list of numbers, got {current!r}")
    if scale == "multiply":
        return current * factor
    return 1 - (1 - current) * factor


@dataclass(frozen=True)
class SensitivityDesign:
    """An experiment, the assumptions to vary over it, and how policies are judged."""

    experiment: Experiment
    spec: UncertainSpec
    source: str

    @property
    def seed(self) -> int:
        return self.experiment.seed if self.spec.seed is None else self.spec.seed

    @property
    def metrics(self) -> list[str]:
        chosen = self.spec.metrics or self.experiment.metrics
        return list(dict.fromkeys([*chosen, *self.spec.decide]))

    @property
    def names(self) -> list[str]:
        return [a.name for a in self.spec.assumptions]

    def params(self, scenario: Params, values: dict[str, float]) -> Params:
        """A scenario's config with the assumptions named in ``values`` at their values,
        without the event log."""
        data = scenario.model_dump(mode="json", by_alias=True)
        for a in self.spec.assumptions:
            if a.name not in values:
                continue
            for key in a.keys:
                current = _get(data, key)
                value = values[a.name]
                _put(data, key, value if a.scale == "value" else _scaled(current, value, a.scale))
        data["simulation"]["event_log"] = False
        return Params.model_validate(copy.deepcopy(data))


def load_sensitivity(
    experiment: Experiment,
    path: str | os.PathLike[str],
    method: Method | None = None,
    samples: int | None = None,
    replications: int | None = None,
) -> SensitivityDesign:
    """Read and check a sensitivity file against an experiment: every key is in every
    scenario's config and takes both bounds there; metrics are known; a ``value``
    assumption's key is the same in every scenario."""
    source = os.fspath(path)
    data, origins = read_yaml(path)
    changes = {"method": method, "samples": samples, "replications": replications}
    data |= {k: v for k, v in changes.items() if v is not None}
    try:
        spec = UncertainSpec.model_validate(data)
    except ValidationError as exc:
        raise spec_error(exc, origins, source) from exc
    design = SensitivityDesign(experiment, spec, source)
    known = metric_names(list(experiment.scenarios[0].params.tickets.classes))
    for where, names in (("metrics", spec.metrics or []), ("decide", list(spec.decide))):
        for metric in names:
            if metric not in known:
                raise ConfigError(
                    f"unknown metric {metric!r} (known: {', '.join(known)})",
                    source=source,
                    key=where,
                )
    reference = experiment.scenario(experiment.reference)
    for k, a in enumerate(spec.assumptions):
        for key in a.keys:
            _check_key(design, k, a, key, reference.params, source)
    return design


def _check_key(
    design: SensitivityDesign, k: int, a: Assumption, key: str, reference: Params, source: str
) -> None:
    where = f"assumptions.{k}"
    own = reference.model_dump(mode="json", by_alias=True)
    for scenario in design.experiment.scenarios:
        mine = scenario.params.model_dump(mode="json", by_alias=True)
        try:
            current = _get(mine, key)
        except KeyError:
            raise ConfigError(
                f"{key!r} is not a key of scenario {scenario.name!r}'s config",
                source=source,
                key=where,
            ) from None
        if a.scale == "value" and current != _get(own, key):
            raise ConfigError(
                f"scenario {scenario.name!r} changes {key} (to {current!r}): setting it "
                "would erase the policy there; use scale: multiply",
                source=source,
                key=where,
            )
        for unit in (0.0, 1.0):
            try:
                design.params(scenario.params, {a.name: a.value(unit)})
            except (TypeError, ValueError, KeyError) as exc:
                raise ConfigError(
                    f"{key} cannot take {a.name}={a.value(unit):g} in scenario "
                    f"{scenario.name!r}: {_first_line(exc)}",
                    source=source,
                    key=where,
                ) from None


def _first_line(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        return f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}"
    return str(exc).splitlines()[0]
