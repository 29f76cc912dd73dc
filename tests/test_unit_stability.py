"""``flowsim.model.stability``: the trend of a run's open work and the unstable verdict.

Pinned: the batch-means slope recovers a known trend; its interval covers the true
slope about as often as it says, also with autocorrelated days (AR(1) noise, as
queue lengths are); a flat series is not unstable however noisy; a real but small
growth (less than a quarter of the level) is not unstable; a series too short for
the batches gives no verdict.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from flowsim.model.stability import BATCHES, GROWTH_SHARE, trend

DAYS = np.arange(0, 455, dtype=float)  # 91 weeks of working days


def ar1(rng: np.random.Generator, n: int, phi: float = 0.9, sd: float = 3.0) -> np.ndarray:
    noise = np.empty(n)
    noise[0] = rng.normal(0, sd)
    for k in range(1, n):
        noise[k] = phi * noise[k - 1] + rng.normal(0, sd)
    return noise


def test_a_linear_growth_is_recovered_and_unstable() -> None:
    values = 10 + 2.0 * DAYS / 5  # 2 items a week
    t = trend(DAYS, values, 5)
    assert t.per_week == pytest.approx(2.0)
    assert t.low == pytest.approx(2.0) and t.high == pytest.approx(2.0)
    assert t.unstable


def test_a_flat_noisy_series_is_not_unstable() -> None:
    rng = np.random.default_rng(1)
    t = trend(DAYS, 50 + ar1(rng, len(DAYS)), 5)
    assert t.low < 0 < t.high
    assert not t.unstable


def test_a_small_real_growth_is_not_called_unstable() -> None:
    """Growth over the window below GROWTH_SHARE of the level: settled enough."""
    rng = np.random.default_rng(2)
    weeks = DAYS[-1] / 5
    slope = 0.5 * GROWTH_SHARE * 400 / weeks
    t = trend(DAYS, 400 + slope * DAYS / 5 + rng.normal(0, 1, len(DAYS)), 5)
    assert t.low > 0
    assert not t.unstable


def test_the_interval_covers_the_true_slope_about_95_percent_of_the_time() -> None:
    """With autocorrelated noise, batch means keep the interval honest (days alone would
    not).  200 series: a correct 95% interval covers 190 on average; 176 or more
    accepts a correct method with probability above 99.9%."""
    rng = np.random.default_rng(3)
    covered = 0
    for _ in range(200):
        values = 20 + 0.3 * DAYS / 5 + ar1(rng, len(DAYS), phi=0.8, sd=2.0)
        t = trend(DAYS, values, 5)
        covered += t.low <= 0.3 <= t.high
    assert covered >= 176


def test_too_short_a_series_gives_no_verdict() -> None:
    t = trend(DAYS[: 2 * BATCHES - 1], DAYS[: 2 * BATCHES - 1], 5)
    assert math.isnan(t.per_week) and not t.unstable
