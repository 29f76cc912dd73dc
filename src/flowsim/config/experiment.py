"""Experiment files: a base config, named scenarios and sweeps, replications and a seed.

An experiment file is YAML validated like a config (unknown keys, wrong types and
bad values are errors naming the file, line and key), and resolves into one
validated ``Params`` per scenario.  Paths inside it are relative to the file.

Example::

    name: policy_levers
    base: ../configs/baseline.yaml
    replications: 30
    seed: 2026
    reference: baseline
    metrics: [go_lives, onboarding_lead_time_p85_days, promises_kept_share]
    scenarios:
      - name: baseline
      - name: wip_limit
        overlays: [../configs/policies/intake_wip_limit.yaml]
    sweeps:
      - name: limit
        set: {intake.policy: wip_limit}
        grid: {intake.limit: [1, 2, 4]}
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from flowsim.config.errors import ConfigError, spec_error
from flowsim.config.loader import load_config, read_yaml
from flowsim.model.catalogue import metric_names
from flowsim.model.params import Params

# One part of a path (results/<name>/): no separator, and no leading dot ("..").
_NAME = r"^[A-Za-z0-9_=,+\-\[\]][A-Za-z0-9_.=,+\-\[\]]*$"


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScenarioSpec(_Spec):
    """One scenario: overlays and single-value overrides applied to the base config."""

    name: str = Field(pattern=_NAME, description="Short name, shown in tables and file names.")
    description: str = Field("", description="What the scenario changes.")
    overlays: list[str] = Field(default_factory=list, description="Overlay files, in order.")
    set: dict[str, Any] = Field(
        default_factory=dict, description="Dotted key paths and values, as with --set."
    )


class SweepSpec(_Spec):
    """A grid over one or more keys: one scenario per combination of values."""

    name: str = Field(pattern=_NAME, description="Prefix of the scenario names.")
    overlays: list[str] = Field(default_factory=list, description="Overlays for every point.")
    set: dict[str, Any] = Field(default_factory=dict, description="Overrides for every point.")
    grid: dict[str, list[Any]] = Field(
        min_length=1, description="Key path -> the values to try (the grid is their product)."
    )

    @model_validator(mode="after")
    def _non_empty(self) -> SweepSpec:
        for key, values in self.grid.items():
            if not values:
                raise ValueError(f"grid key '{key}' needs at least one value")
        return self


class WarmupSpec(_Spec):
    """Warm-up chosen by MSER-5 on a pilot run of the reference scenario."""

    method: Literal["mser5"] = "mser5"
    series: str = Field(
        "lead_backlog", description="Daily time-series column the truncation point is chosen on."
    )
    pilot_replications: int = Field(5, ge=1, description="Replications of the pilot.")


class ExperimentSpec(_Spec):
    """A whole experiment file."""

    name: str = Field(pattern=_NAME)
    description: str = ""
    base: str = Field(description="The base config, relative to this file.")
    replications: int = Field(30, ge=2, description="Replications per scenario.")
    seed: int = Field(0, ge=0, description="Root seed of the experiment.")
    horizon_weeks: float | None = Field(None, gt=0, description="Overrides every scenario's.")
    warmup_weeks: float | WarmupSpec | None = Field(
        None,
        description="A number of weeks for every scenario, or {method: mser5} to choose it "
        "from a pilot; null keeps each config's own.",
    )
    reference: str | None = Field(
        None, description="Scenario the others are compared with (default: the first)."
    )
    metrics: list[str] = Field(
        default_factory=lambda: [
            "go_lives",
            "onboarding_lead_time_p85_days",
            "ticket_resolution_mean_days",
            "promises_kept_share",
            "churned",
            "arr_at_horizon",
        ],
        min_length=1,
        description="Summary metrics shown in the table (every metric is stored).",
    )
    scenarios: list[ScenarioSpec] = Field(default_factory=list)
    sweeps: list[SweepSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _something_to_run(self) -> ExperimentSpec:
        if not self.scenarios and not self.sweeps:
            raise ValueError("an experiment needs at least one scenario or sweep")
        return self


@dataclass(frozen=True)
class Scenario:
    """A resolved scenario: its name, validated parameters and where they came from."""

    name: str
    params: Params
    overlays: tuple[str, ...] = ()
    sets: tuple[str, ...] = ()
    description: str = ""


@dataclass
class Experiment:
    """A resolved experiment, ready for the runner."""

    name: str
    scenarios: list[Scenario]
    replications: int
    seed: int
    reference: str
    metrics: list[str]
    description: str = ""
    source: str | None = None
    warmup: WarmupSpec | None = None
    spec: dict[str, Any] = field(default_factory=dict)

    def scenario(self, name: str) -> Scenario:
        return next(s for s in self.scenarios if s.name == name)


def yaml_value(value: Any) -> str:
    """A value as YAML flow text, the form ``--set`` reads."""
    text = yaml.safe_dump(value, default_flow_style=True, width=10_000).strip()
    return text.removesuffix("...").strip()


def set_items(mapping: dict[str, Any]) -> list[str]:
    return [f"{key}={yaml_value(value)}" for key, value in mapping.items()]


def load_experiment(
    path: str | os.PathLike[str], reps: int | None = None, sets: Iterable[str] = ()
) -> Experiment:
    """Read, validate and resolve an experiment file into scenarios of validated Params.

    ``reps`` overrides the file's replications; ``sets`` (``KEY=VALUE``) override
    a parameter in every scenario, after the scenario's own overrides.
    """
    data, origins = read_yaml(path)
    try:
        spec = ExperimentSpec.model_validate(data)
    except ValidationError as exc:
        raise spec_error(exc, origins, os.fspath(path)) from exc
    folder = Path(path).parent

    def rel(p: str) -> str:
        return os.fspath(folder / p)

    common: list[str] = []
    if spec.horizon_weeks is not None:
        common.append(f"simulation.horizon_weeks={yaml_value(spec.horizon_weeks)}")
    if isinstance(spec.warmup_weeks, int | float):
        common.append(f"simulation.warmup_weeks={yaml_value(spec.warmup_weeks)}")
    base = rel(spec.base)
    extra = tuple(sets)

    def resolve(name: str, overlays: list[str], sets: list[str], description: str) -> Scenario:
        overlay_paths = tuple(rel(o) for o in overlays)
        all_sets = (*common, *sets, *extra, f"name={yaml_value(name)}")
        try:
            params = load_config(base, overlay_paths, all_sets)
        except ConfigError as exc:
            raise ConfigError(f"scenario '{name}': {exc}", source=os.fspath(path)) from exc
        return Scenario(name, params, overlay_paths, tuple(sets), description)

    if reps is not None and reps < 2:
        raise ConfigError(f"replications: expected at least 2, got {reps}", source=os.fspath(path))
    scenarios = [
        resolve(s.name, s.overlays, set_items(s.set), s.description) for s in spec.scenarios
    ]
    for sweep in spec.sweeps:
        keys = list(sweep.grid)
        for values in itertools.product(*(sweep.grid[k] for k in keys)):
            point = dict(zip(keys, values, strict=True))
            label = ",".join(f"{k.rsplit('.', 1)[-1]}={_label(v)}" for k, v in point.items())
            scenarios.append(
                resolve(
                    f"{sweep.name}[{label}]",
                    sweep.overlays,
                    set_items(sweep.set) + set_items(point),
                    "",
                )
            )
    names = _unique_names(scenarios, os.fspath(path))
    reference = spec.reference or names[0]
    if reference not in names:
        raise ConfigError(
            f"expected the name of a scenario ({', '.join(names)}), got {reference!r}",
            source=os.fspath(path),
            line=_line(origins, ("reference",)),
            key="reference",
        )
    known = metric_names(list(scenarios[0].params.tickets.classes))
    for metric in spec.metrics:
        if metric not in known:
            raise ConfigError(
                f"unknown metric {metric!r} (known: {', '.join(known)})",
                source=os.fspath(path),
                line=_line(origins, ("metrics",)),
                key="metrics",
            )
    return Experiment(
        name=spec.name,
        description=spec.description,
        scenarios=scenarios,
        replications=reps if reps is not None else spec.replications,
        seed=spec.seed,
        reference=reference,
        metrics=list(spec.metrics),
        source=os.fspath(path),
        warmup=spec.warmup_weeks if isinstance(spec.warmup_weeks, WarmupSpec) else None,
        spec=spec.model_dump(mode="json"),
    )


def _line(origins: Any, key: tuple[str, ...]) -> int | None:
    origin = origins.get(key)
    return origin.line if origin is not None else None


DEFAULT_METRICS: list[str] = ExperimentSpec.model_fields["metrics"].get_default(
    call_default_factory=True
)


def compare_experiment(
    config: str,
    policies: list[str],
    reps: int,
    seed: int | None = None,
    overlays: tuple[str, ...] = (),
    sets: tuple[str, ...] = (),
    metrics: list[str] | None = None,
) -> Experiment:
    """The base config against each policy overlay (the ``flowsim compare`` study)."""
    base = load_config(config, overlays, sets)
    scenarios = [Scenario(base.name, base, tuple(overlays), tuple(sets))]
    for policy in policies:
        name = Path(policy).stem
        params = load_config(config, (*overlays, policy), (*sets, f"name={yaml_value(name)}"))
        scenarios.append(Scenario(name, params, (*overlays, policy), tuple(sets)))
    return _adhoc("compare", scenarios, reps, seed, base, metrics)


def sweep_experiment(
    config: str,
    grid: list[str],
    reps: int,
    seed: int | None = None,
    overlays: tuple[str, ...] = (),
    sets: tuple[str, ...] = (),
    metrics: list[str] | None = None,
) -> Experiment:
    """One scenario per point of a grid given as ``KEY=V1,V2,...`` (the ``flowsim sweep`` study)."""
    axes: list[tuple[str, list[str]]] = []
    for text in grid:
        key, eq, values = text.partition("=")
        if not eq or not key.strip() or not values.strip():
            raise ConfigError(f"expected KEY=V1,V2,..., got {text!r}", source="--param")
        axes.append((key.strip(), [v.strip() for v in values.split(",")]))
    base = load_config(config, overlays, sets)
    scenarios = []
    for point in itertools.product(*(values for _, values in axes)):
        point_sets = [f"{key}={value}" for (key, _), value in zip(axes, point, strict=True)]
        name = ",".join(
            f"{key.rsplit('.', 1)[-1]}={_clean(value)}"
            for (key, _), value in zip(axes, point, strict=True)
        )
        params = load_config(config, overlays, (*sets, *point_sets, f"name={yaml_value(name)}"))
        scenarios.append(Scenario(name, params, tuple(overlays), (*sets, *point_sets)))
    return _adhoc("sweep", scenarios, reps, seed, base, metrics)


def _label(value: Any) -> str:
    """A grid value as a short, file-name-friendly label."""
    return _clean(yaml_value(value))


def _clean(text: str) -> str:
    return text.replace(" ", "").replace("/", "_")


def _unique_names(scenarios: list[Scenario], source: str) -> list[str]:
    names = [s.name for s in scenarios]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(
            f"scenario names must be unique, repeated: {', '.join(duplicates)} "
            "(give each policy or grid value its own name)",
            source=source,
        )
    return names


def _adhoc(
    kind: str,
    scenarios: list[Scenario],
    reps: int,
    seed: int | None,
    base: Params,
    metrics: list[str] | None,
) -> Experiment:
    _unique_names(scenarios, f"flowsim {kind}")
    if reps < 2:
        raise ConfigError(f"expected at least 2 replications, got {reps}", source="--reps")
    chosen = metrics or DEFAULT_METRICS
    known = metric_names(list(base.tickets.classes))
    for metric in chosen:
        if metric not in known:
            raise ConfigError(
                f"unknown metric {metric!r} (known: {', '.join(known)})", source="--metric"
            )
    return Experiment(
        name=f"{kind}-{base.name}",
        scenarios=scenarios,
        replications=reps,
        seed=base.simulation.seed if seed is None else seed,
        reference=scenarios[0].name,
        metrics=list(chosen),
    )
