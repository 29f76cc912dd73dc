"""The estimators behind the observables: exact Poisson intervals of rates,
percentiles of times with their intervals (complete, or with open items censored),
and a change-point test on weekly counts."""

from __future__ import annotations

import math

import numpy as np

from flowsim.stats import product_limit


def poisson_interval(count: int, exposure: float) -> tuple[float, float]:
    """Garwood's exact 95% interval of a Poisson rate ``count / exposure``."""
    from scipy.stats import chi2

    if exposure <= 0:
        return math.nan, math.nan
    low = 0.0 if count == 0 else float(chi2.ppf(0.025, 2 * count)) / 2
    high = float(chi2.ppf(0.975, 2 * count + 2)) / 2
    return low / exposure, high / exposure


def order_percentile(times: np.ndarray, q: float) -> tuple[float, float, float]:
    """The ``q``-quantile (0-1) of complete times, as the model's metrics compute it
    (linear interpolation), with the distribution-free 95% interval between two order
    statistics (binomial); an end beyond the data is 0 below or ``inf`` above."""
    from scipy.stats import binom

    x = np.sort(np.asarray(times, dtype=float))
    n = len(x)
    if n == 0:
        return math.nan, math.nan, math.nan
    lo = int(binom.ppf(0.025, n, q))  # 1-based rank of the lower end
    hi = int(binom.ppf(0.975, n, q)) + 1
    low = float(x[lo - 1]) if lo >= 1 else 0.0
    high = float(x[hi - 1]) if hi <= n else math.inf
    return float(np.percentile(x, 100 * q)), low, high


def km_percentile(times: np.ndarray, done: np.ndarray, q: float) -> tuple[float, float, float]:
    """The ``q``-quantile (0-1) of times, open items censored: the Kaplan-Meier curve's
    crossing of ``1 - q``, with the crossings of its 95% bounds (``inf`` if never)."""
    times = np.asarray(times, dtype=float)
    done = np.asarray(done, dtype=bool)
    if not done.any():
        return math.nan, math.nan, math.inf
    survival, low, high = product_limit(times, done)
    at = survival.index.to_numpy()

    def crossing(curve: np.ndarray) -> float:
        below = np.nonzero(curve <= 1 - q + 1e-12)[0]
        return float(at[below[0]]) if len(below) else math.inf

    value = crossing(survival.to_numpy())
    return (math.nan if not math.isfinite(value) else value), crossing(low), crossing(high)


# ---------------------------------------------------------------- change points
def _poisson_ll(counts: np.ndarray) -> float:
    total = counts.sum()
    if total == 0:
        return 0.0
    return float(total * math.log(total / len(counts)))


def change_points(counts: np.ndarray, alpha: float = 0.05, min_size: int = 6) -> list[int]:
    """Weeks where the Poisson rate of weekly ``counts`` moved: binary segmentation.

    Each segment is split where the likelihood-ratio statistic of "two rates" against
    "one rate" is largest, if it passes the chi-square(1) critical value at ``alpha``
    divided by the number of splits tried (Bonferroni: the largest of many statistics
    is not chi-square); then each part is examined again.  Segments are at least
    ``min_size`` weeks.  Returns the first week of each new segment, in order.
    """
    from scipy.stats import chi2

    counts = np.asarray(counts, dtype=float)
    found: list[int] = []

    def split(lo: int, hi: int) -> None:
        seg = counts[lo:hi]
        candidates = range(min_size, len(seg) - min_size + 1)
        if len(candidates) < 1:
            return
        whole = _poisson_ll(seg)
        stats = [2 * (_poisson_ll(seg[:k]) + _poisson_ll(seg[k:]) - whole) for k in candidates]
        best = int(np.argmax(stats))
        critical = float(chi2.ppf(1 - alpha / len(candidates), 1))
        if stats[best] > critical:
            k = lo + candidates[best]
            found.append(k)
            split(lo, k)
            split(k, hi)

    split(0, len(counts))
    return sorted(found)
