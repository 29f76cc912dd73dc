"""Calibration files: what is observed of the company as it is, and what may move to fit it.

A *targets* file lists observables (a summary metric, or a statistic of a daily
series over the steady-state window), each with a value or a range, a weight and,
optionally, the observation's own uncertainty (``sd``)::

    name: story
    replications: 4            # per candidate, on common random numbers
    targets:
      - name: live_customers
        metric: live_customers_at_horizon
        value: 20
        sd: 4
        source: '"about 20 B2B customers"'
      - name: onboarding_at_once
        series: onboarding
        stat: mean
        range: [8, 20]

A *free parameters* file lists the config keys the fit may move, each within bounds,
optionally on a log scale or with a prior (a normal ``mean`` and ``sd``)::

    free:
      - key: tickets.per_customer_per_week
        low: 0.3
        high: 1.5
        prior: {mean: 1.0, sd: 0.5}
        source: MODEL.md, "complex niche product"

Both are validated like configs: a mistake names the file, line and key.
"""

from __future__ import annotations

import copy
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from flowsim.config.errors import ConfigError, Origins, spec_error
from flowsim.config.experiment import set_items
from flowsim.config.loader import apply_set, merge_config, read_yaml, validate_config
from flowsim.model.catalogue import TIMESERIES_COLUMNS, metric_names
from flowsim.model.params import Params

_NAME = r"^[A-Za-z0-9_]+$"
RESERVED_NAMES = frozenset({"trial", "batch", "objective", "unstable"})
"""Columns of a calibration's trials table besides the targets'."""
SeriesStat = Literal["mean", "last", "min", "max", "trend_per_week"]
DEFAULT_RELATIVE_SD = 0.1
"""A target without ``sd`` is read as known to within 10% of its value, or of its range's
midpoint, one standard deviation (a range centred on 0: a quarter of its width)."""


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _refuse_repeats(what: str, names: list[str]) -> None:
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"{what} must be unique, repeated: {', '.join(repeated)}")


class Target(_Spec):
    """One observable of the company as it is."""

    name: str = Field(pattern=_NAME, description="Short name, shown in tables.")
    metric: str | None = Field(None, description="A summary metric (see docs/metrics.md).")
    series: str | None = Field(None, description="A daily series, summarised by `stat`.")
    stat: SeriesStat = Field("mean", description="The series' statistic over the window.")
    value: float | None = Field(None, description="The observed value.")
    range: tuple[float, float] | None = Field(None, description="An observed range [low, high].")
    sd: float | None = Field(
        None,
        gt=0,
        description="The observation's own uncertainty (one standard deviation, same unit). "
        "Default: 10% of a value, or of a range's midpoint.",
    )
    weight: float = Field(1.0, gt=0, description="Weight in the fit's objective.")
    source: str = Field("", description="Where the target comes from (quoted in reports).")

    @model_validator(mode="after")
    def _one_of_each(self) -> Target:
        if (self.metric is None) == (self.series is None):
            raise ValueError("give either metric or series, not both or neither")
        if (self.value is None) == (self.range is None):
            raise ValueError("give either value or range, not both or neither")
        if self.range is not None and not self.range[0] < self.range[1]:
            raise ValueError(f"range must be [low, high] with low < high, got {list(self.range)}")
        if self.value is not None and self.sd is None and self.value == 0:
            raise ValueError("a target value of 0 needs an sd (its uncertainty)")
        if self.series is not None and self.series not in TIMESERIES_COLUMNS:
            raise ValueError(
                f"unknown series {self.series!r} (known: {', '.join(TIMESERIES_COLUMNS[1:])})"
            )
        return self

    @property
    def observable(self) -> str:
        """What is measured, as a label: ``metric`` or ``series (stat)``."""
        return self.metric if self.metric is not None else f"{self.series} ({self.stat})"

    @property
    def scale(self) -> float:
        """One standard deviation of the observation."""
        if self.sd is not None:
            return self.sd
        if self.range is not None:
            low, high = self.range
            middle = abs(low + high) / 2
            return middle * DEFAULT_RELATIVE_SD if middle > 0 else (high - low) / 4
        assert self.value is not None
        return abs(self.value) * DEFAULT_RELATIVE_SD

    @property
    def band(self) -> tuple[float, float]:
        """The values that count as meeting the target: the range, or value +/- 2 sd."""
        if self.range is not None:
            return self.range
        assert self.value is not None
        return self.value - 2 * self.scale, self.value + 2 * self.scale

    def z(self, simulated: float) -> float:
        """How far a simulated mean is from the target, in standard deviations (0 in range)."""
        if not math.isfinite(simulated):
            return math.inf
        if self.range is not None:
            low, high = self.range
            gap = simulated - low if simulated < low else max(0.0, simulated - high)
            return gap / self.scale
        assert self.value is not None
        return (simulated - self.value) / self.scale

    def wanted(self) -> str:
        """The target as text: ``20 +/- 4`` or ``[8, 20]``."""
        if self.range is not None:
            return f"[{self.range[0]:g}, {self.range[1]:g}]"
        return f"{self.value:g} ± {self.scale:g}"


class TargetsSpec(_Spec):
    """A targets file."""

    name: str = Field(pattern=_NAME, description="Name of the calibration (its results folder).")
    description: str = ""
    horizon_weeks: float | None = Field(None, gt=0, le=1040, description="Horizon of each run.")
    warmup_weeks: float | None = Field(None, ge=0, description="Warm-up excluded from metrics.")
    replications: int = Field(4, ge=1, le=100, description="Replications per candidate.")
    confirm_replications: int = Field(
        20, ge=2, le=500, description="Fresh replications of the best fit, for the target table."
    )
    stability_weeks: float | None = Field(
        208, gt=0, le=1040, description="Horizon of the stability check of the fit (null: none)."
    )
    batch: int = Field(
        4,
        ge=1,
        le=64,
        description="Candidates proposed at once (fixed: results do not depend "
        "on the number of workers).",
    )
    startup_trials: int = Field(
        16, ge=1, description="Random candidates before the model-based search."
    )
    seed: int = Field(2026, description="Root seed: replications and the search.")
    targets: list[Target] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> TargetsSpec:
        names = [t.name for t in self.targets]
        _refuse_repeats("target names", names)
        taken = sorted(set(names) & RESERVED_NAMES)
        if taken:
            raise ValueError(f"target names {', '.join(taken)} are taken by the trials table")
        return self


class Prior(_Spec):
    mean: float
    sd: float = Field(gt=0)


class FreeParam(_Spec):
    """One config key the fit may move."""

    key: str = Field(description="Dotted config key, as with --set.")
    low: float
    high: float
    log: bool = Field(False, description="Search on a log scale (both bounds > 0).")
    integer: bool = False
    prior: Prior | None = Field(None, description="Normal prior: a penalty ((x - mean)/sd)^2.")
    source: str = Field("", description="Where the bounds come from.")

    @model_validator(mode="after")
    def _bounds(self) -> FreeParam:
        if not self.low < self.high:
            raise ValueError(f"expected low < high, got low={self.low:g}, high={self.high:g}")
        if self.log and self.low <= 0:
            raise ValueError("a log-scale parameter needs low > 0")
        return self

    def at_bound(self, value: float) -> str:
        """ "at the lower bound" or "at the upper bound" (within 2% of the span), else ""."""
        edge = 0.02 * (self.high - self.low)
        if value <= self.low + edge:
            return "at the lower bound"
        if value >= self.high - edge:
            return "at the upper bound"
        return ""


class FreeSpec(_Spec):
    """A free-parameters file."""

    free: list[FreeParam] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> FreeSpec:
        _refuse_repeats("free keys", [f.key for f in self.free])
        return self


def _validated(model: type[_Spec], path: str | os.PathLike[str]) -> Any:
    data, origins = read_yaml(path)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise spec_error(exc, origins, os.fspath(path)) from exc


@dataclass(frozen=True)
class CalibrationSpec:
    """A config to fit, its targets and its free parameters, resolved and checked.

    The config, its overlays and ``--set`` overrides are read once (``data``); each
    candidate is that data with its values set, validated.
    """

    config: str
    overlays: tuple[str, ...]
    sets: tuple[str, ...]
    targets: TargetsSpec
    free: FreeSpec
    targets_file: str
    free_file: str
    data: dict[str, Any] = field(repr=False)
    origins: Origins = field(repr=False)

    def params(self, values: dict[str, float], extra: dict[str, Any] | None = None) -> Params:
        """The config with ``values`` of the free keys, the targets' horizon and warm-up,
        ``extra`` overrides, and no event log (a fit needs only the summaries)."""
        window = {
            "simulation.horizon_weeks": self.targets.horizon_weeks,
            "simulation.warmup_weeks": self.targets.warmup_weeks,
        }
        data, origins = copy.deepcopy(self.data), dict(self.origins)
        changes = {k: v for k, v in window.items() if v is not None} | (extra or {}) | values
        for text in set_items(changes | {"simulation.event_log": False}):
            apply_set(data, origins, text)
        return validate_config(data, origins, self.config)


def load_calibration(
    config: str,
    targets: str | os.PathLike[str],
    free: str | os.PathLike[str],
    overlays: tuple[str, ...] = (),
    sets: tuple[str, ...] = (),
) -> CalibrationSpec:
    """Read and check a calibration: every target names a known metric or series, and
    every free key is a number in the config that accepts both of its bounds."""
    targets_spec: TargetsSpec = _validated(TargetsSpec, targets)
    free_spec: FreeSpec = _validated(FreeSpec, free)
    data, origins = merge_config(config, overlays, sets)
    spec = CalibrationSpec(
        config,
        tuple(overlays),
        tuple(sets),
        targets_spec,
        free_spec,
        os.fspath(targets),
        os.fspath(free),
        data,
        origins,
    )
    base = spec.params({})
    known = metric_names(list(base.tickets.classes))
    for k, target in enumerate(targets_spec.targets):
        if target.metric is not None and target.metric not in known:
            raise ConfigError(
                f"unknown metric {target.metric!r} (known: {', '.join(known)})",
                source=os.fspath(targets),
                key=f"targets.{k}.metric",
            )
    for k, param in enumerate(free_spec.free):
        for bound in (param.low, param.high):
            value: float = round(bound) if param.integer else bound
            try:
                spec.params({param.key: value})
            except ConfigError as exc:
                raise ConfigError(
                    f"{param.key} cannot take the bound {bound:g}: {exc.detail}",
                    source=os.fspath(free),
                    key=f"free.{k}",
                ) from exc
    return spec


def results_folder(spec: CalibrationSpec, out: str | os.PathLike[str] | None) -> Path:
    return Path(out) if out is not None else Path("results") / f"calibration_{spec.targets.name}"
