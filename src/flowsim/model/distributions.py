"""Probability distributions declared in configs.

Each distribution is a small validated object that knows its mean and can hand
out a fast sampler bound to one ``numpy.random.Generator``.  Samplers draw in
blocks because a numpy call per scalar costs more than the simulation step that
uses it; the block size never changes the sequence of values, so results do not
depend on it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

Sampler = Callable[[], float]
_BLOCK = 256


class _Dist(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False
    )

    @property
    def mean(self) -> float:  # pragma: no cover - every subclass overrides it
        raise NotImplementedError

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw ``size`` values as a float array."""
        raise NotImplementedError  # pragma: no cover

    def sampler(self, rng: np.random.Generator) -> Sampler:
        """Return a zero-argument callable giving the next value of this stream."""

        def blocks() -> Iterator[float]:
            while True:
                yield from self.draw(rng, _BLOCK).tolist()

        return blocks().__next__


class Exponential(_Dist):
    """Exponential with the given mean (memoryless service or inter-arrival times)."""

    kind: Literal["exponential"] = "exponential"
    mean_value: float = Field(alias="mean", gt=0, description="Mean, in the unit of the quantity.")

    @property
    def mean(self) -> float:
        return self.mean_value

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.exponential(self.mean_value, size)


class Lognormal(_Dist):
    """Lognormal given by its mean and coefficient of variation (heavy-tailed efforts)."""

    kind: Literal["lognormal"] = "lognormal"
    mean_value: float = Field(alias="mean", gt=0, description="Mean, in the unit of the quantity.")
    cv: float = Field(gt=0, description="Coefficient of variation: standard deviation / mean.")

    @property
    def mean(self) -> float:
        return self.mean_value

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        sigma2 = math.log1p(self.cv**2)
        mu = math.log(self.mean_value) - sigma2 / 2
        return rng.lognormal(mu, math.sqrt(sigma2), size)


class Triangular(_Dist):
    """Triangular on [low, high] with the given mode (expert three-point estimates)."""

    kind: Literal["triangular"] = "triangular"
    low: float = Field(ge=0, description="Smallest value.")
    mode: float = Field(ge=0, description="Most likely value.")
    high: float = Field(ge=0, description="Largest value.")

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not (self.low <= self.mode <= self.high) or self.low == self.high:
            raise ValueError(
                f"triangular needs low <= mode <= high and low < high, "
                f"got low={self.low}, mode={self.mode}, high={self.high}"
            )
        return self

    @property
    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.triangular(self.low, self.mode, self.high, size)


class Uniform(_Dist):
    """Continuous uniform on [low, high]."""

    kind: Literal["uniform"] = "uniform"
    low: float = Field(ge=0, description="Smallest value.")
    high: float = Field(ge=0, description="Largest value.")

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high < self.low:
            raise ValueError(f"uniform needs low <= high, got low={self.low}, high={self.high}")
        return self

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.uniform(self.low, self.high, size)


class IntegerUniform(_Dist):
    """Whole numbers from low to high inclusive, equally likely (counts such as tasks)."""

    kind: Literal["integers"] = "integers"
    low: int = Field(ge=0, description="Smallest count.")
    high: int = Field(ge=0, description="Largest count (inclusive).")

    @model_validator(mode="after")
    def _ordered(self) -> IntegerUniform:
        if self.high < self.low:
            raise ValueError(f"integers needs low <= high, got low={self.low}, high={self.high}")
        return self

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.integers(self.low, self.high + 1, size).astype(float)


class Poisson(_Dist):
    """Poisson counts with the given mean."""

    kind: Literal["poisson"] = "poisson"
    mean_value: float = Field(alias="mean", ge=0, description="Mean count.")

    @property
    def mean(self) -> float:
        return self.mean_value

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.poisson(self.mean_value, size).astype(float)


class Constant(_Dist):
    """Always the same value (deterministic durations, M/D/1 checks)."""

    kind: Literal["constant"] = "constant"
    value: float = Field(ge=0, description="The value, in the unit of the quantity.")

    @property
    def mean(self) -> float:
        return self.value

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        # Consume the generator anyway, so that switching a stream between a constant
        # and a random distribution does not shift the other draws of that stream.
        rng.random(size)
        return np.full(size, self.value)


class Empirical(_Dist):
    """Resample, with replacement and equal weight, from observed values."""

    kind: Literal["empirical"] = "empirical"
    samples: list[float] = Field(min_length=1, description="Observed values, at least one.")

    @model_validator(mode="after")
    def _non_negative(self) -> Empirical:
        if min(self.samples) < 0:
            raise ValueError("empirical samples must be >= 0")
        return self

    @property
    def mean(self) -> float:
        return float(np.mean(self.samples))

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.choice(np.asarray(self.samples, dtype=float), size)


Distribution = Annotated[
    Exponential
    | Lognormal
    | Triangular
    | Uniform
    | IntegerUniform
    | Poisson
    | Constant
    | Empirical,
    Field(discriminator="kind"),
]
"""Any distribution a config may declare, chosen by its ``kind`` key."""


def exponential(mean: float) -> Exponential:
    return Exponential.model_validate({"mean": mean})


def lognormal(mean: float, cv: float) -> Lognormal:
    return Lognormal.model_validate({"mean": mean, "cv": cv})


def constant(value: float) -> Constant:
    return Constant(value=value)
