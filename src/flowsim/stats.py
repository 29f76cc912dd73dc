"""Statistics across replications: means with confidence intervals, paired differences."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from flowsim.model.catalogue import presumes_steady_state, value_range


def t_quantile(p: float, dof: float) -> float:
    """The ``p`` quantile of Student's t with ``dof`` degrees of freedom."""
    # SciPy takes about 0.4 s to import: pay for it when a statistic is computed, not
    # whenever this module is imported (by the CLI, or a notebook that reads results).
    from scipy import stats as sps

    return float(sps.t.ppf(p, dof))


@dataclass(frozen=True)
class Estimate:
    """A mean over replications with its two-sided confidence interval."""

    mean: float
    half_width: float
    n: int
    level: float = 0.95

    @property
    def low(self) -> float:
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        return self.mean + self.half_width


def mean_ci(values: np.ndarray | pd.Series | list[float], level: float = 0.95) -> Estimate:
    """Mean and Student-t confidence interval of independent replication values.

    NaN values (a metric undefined in some replication, e.g. a lead time with no
    go-live) are left out; the count says how many remain.
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return Estimate(math.nan, math.nan, 0, level)
    mean = float(x.mean())
    if n == 1:
        return Estimate(mean, math.nan, 1, level)
    sd = float(x.std(ddof=1))
    half = t_quantile(0.5 + level / 2, n - 1) * sd / math.sqrt(n)
    return Estimate(mean, half, n, level)


def summarise_replications(per_rep: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """One row per metric: mean, CI bounds, half-width and the number of replications.

    ``per_rep`` has one row per replication and one column per metric; non-numeric
    columns are ignored.
    """
    rows = []
    for metric in per_rep.select_dtypes("number").columns:
        if metric == "replication":
            continue
        rows.append({"metric": metric, **_row(metric, mean_ci(per_rep[metric], level))})
    return pd.DataFrame(rows)


def _row(metric: str, est: Estimate) -> dict[str, float]:
    # The interval clipped to the values the metric can take (no negative count, no
    # share above 1); the half-width stays the t-interval's.
    low, high = value_range(metric)
    return {
        "mean": est.mean,
        "ci_low": max(est.low, low),
        "ci_high": min(est.high, high),
        "half_width": est.half_width,
        "n": est.n,
    }


def scenario_table(per_rep: pd.DataFrame, metrics: list[str], level: float = 0.95) -> pd.DataFrame:
    """Per scenario and metric: mean and confidence interval across replications.

    ``per_rep`` has one row per (scenario, replication) and a column per metric.
    Scenarios keep their order of first appearance.

    Two columns say whether each scenario settled, so that a reader of any row sees
    it without looking up another: ``unstable_share``, the share of the scenario's
    replications whose open work kept growing (the mean of their ``unstable``
    metric, repeated on every row of the scenario; NaN when ``per_rep`` has no
    ``unstable`` column), and ``horizon_dependent``, true on the rows of metrics that
    presume a steady state (:func:`~flowsim.model.catalogue.presumes_steady_state`)
    in a scenario with at least one unstable replication: there the mean is not an
    estimate of a steady-state value but depends on how long the runs were.

    The t-interval is clipped to the values the metric can take
    (:func:`~flowsim.model.catalogue.value_range`: no negative count, no share above
    1); ``half_width`` stays the unclipped one.
    """
    rows = []
    for scenario, group in per_rep.groupby("scenario", sort=False):
        share = float(group["unstable"].mean()) if "unstable" in group else math.nan
        for metric in metrics:
            rows.append(
                {
                    "scenario": scenario,
                    "metric": metric,
                    **_row(metric, mean_ci(group[metric], level)),
                    "unstable_share": share,
                    "horizon_dependent": bool(share >= 0.5 and presumes_steady_state(metric)),
                }
            )
    return pd.DataFrame(rows)


DIFFERENCE_COLUMNS = [
    "scenario",
    "metric",
    "reference",
    "diff",
    "ci_low",
    "ci_high",
    "half_width",
    "relative",
    "unpaired_half_width",
    "n",
    "verdict",
]


def paired_differences(
    per_rep: pd.DataFrame, reference: str, metrics: list[str], level: float = 0.95
) -> pd.DataFrame:
    """Each scenario against the reference, paired by replication (common random numbers).

    For every other scenario and metric: the mean of the per-replication
    differences (scenario - reference) with its confidence interval, the relative
    change against the reference mean, the unpaired (Welch) half-width for
    comparison, and a verdict: ``higher`` or ``lower`` when the interval excludes
    zero, otherwise ``CI too wide to call``.
    """
    ref = per_rep[per_rep["scenario"] == reference].set_index("replication")
    rows = []
    for scenario, group in per_rep.groupby("scenario", sort=False):
        if scenario == reference:
            continue
        other = group.set_index("replication")
        common = other.index.intersection(ref.index)
        for metric in metrics:
            a = other.loc[common, metric].to_numpy(dtype=float)
            b = ref.loc[common, metric].to_numpy(dtype=float)
            ok = ~(np.isnan(a) | np.isnan(b))
            diff = mean_ci(a[ok] - b[ok], level)
            ref_mean = float(np.mean(b[ok])) if ok.any() else math.nan
            if np.isnan(b).all():
                verdict = "no value in the reference"
            elif diff.n < 2 or math.isnan(diff.half_width):
                verdict = "not enough replications"
            elif diff.low > 0:
                verdict = "higher"
            elif diff.high < 0:
                verdict = "lower"
            elif diff.half_width == 0:
                verdict = "no difference"
            else:
                verdict = "CI too wide to call"
            rows.append(
                {
                    "scenario": scenario,
                    "metric": metric,
                    "reference": reference,
                    "diff": diff.mean,
                    "ci_low": diff.low,
                    "ci_high": diff.high,
                    "half_width": diff.half_width,
                    "relative": diff.mean / ref_mean if ref_mean else math.nan,
                    "unpaired_half_width": welch_half_width(a[ok], b[ok], level),
                    "n": diff.n,
                    "verdict": verdict,
                }
            )
    # The columns even with no row: a one-scenario study has nothing to compare.
    return pd.DataFrame(rows, columns=DIFFERENCE_COLUMNS)


def welch_half_width(a: np.ndarray, b: np.ndarray, level: float = 0.95) -> float:
    """Half-width of the unpaired (Welch) interval for mean(a) - mean(b)."""
    na, nb = len(a), len(b)
    if na < 2 or nb < 2:
        return math.nan
    va, vb = np.var(a, ddof=1) / na, np.var(b, ddof=1) / nb
    se = math.sqrt(va + vb)
    if se == 0:
        return 0.0
    dof = (va + vb) ** 2 / (va**2 / (na - 1) + vb**2 / (nb - 1))
    return t_quantile(0.5 + level / 2, dof) * se


def mser_statistic(series: np.ndarray | list[float], drop: int, batch: int = 5) -> float:
    """The MSER statistic (squared standard error of the mean of what remains) after
    dropping the first ``drop`` observations, counted in whole batches of ``batch``."""
    x = np.asarray(series, dtype=float)
    n_batches = len(x) // batch
    means = x[: n_batches * batch].reshape(n_batches, batch).mean(axis=1)
    rest = means[min(drop // batch, max(n_batches - 1, 0)) :]
    return float(((rest - rest.mean()) ** 2).sum()) / len(rest) ** 2 if len(rest) else math.nan


def mser5(series: np.ndarray | list[float], batch: int = 5) -> int:
    """Warm-up truncation point by MSER-5 (White 1997; White, Cobb & Spratt 2000).

    The series is cut into batches of ``batch`` observations; the truncation d
    (in batches, searched over the first half) minimises the squared standard error
    of the mean of what remains.  Returns the number of *observations* to drop.
    """
    x = np.asarray(series, dtype=float)
    n_batches = len(x) // batch
    if n_batches < 4:
        return 0
    means = x[: n_batches * batch].reshape(n_batches, batch).mean(axis=1)
    best_d, best = 0, math.inf
    for d in range(n_batches // 2 + 1):
        rest = means[d:]
        stat = float(((rest - rest.mean()) ** 2).sum()) / len(rest) ** 2
        if stat < best:
            best_d, best = d, stat
    return best_d * batch


def wilson_interval(successes: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a share ``successes / n``: stays within [0, 1] and is
    honest for shares near 0 or 1, where the normal interval is not."""
    if n == 0:
        return math.nan, math.nan
    from scipy import stats as sps

    z = float(sps.norm.ppf(0.5 + level / 2))
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    low = 0.0 if successes == 0 else max(0.0, centre - half)  # exact ends, not 1e-18
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


def number_text(x: float) -> str:
    """Three significant digits (thousands with separators); "n/a" for what is not finite;
    0 for floating-point dust such as a mean of differences that cancel (1.7e-18)."""
    if not math.isfinite(x):
        return "n/a"
    if abs(x) < 1e-12:
        return "0"
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:,.0f}"


def product_limit(
    x: np.ndarray, observed: np.ndarray, level: float = 0.95
) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """The Kaplan-Meier estimate of the survival curve at each event time, with its
    exponential Greenwood ("log-log") bounds at ``level``: the textbook estimator
    (Kaplan and Meier 1958; the bounds as in Kalbfleisch and Prentice), a few lines
    here rather than a survival library whose pins would hold back pandas.

    ``x``: each item's time (done) or age so far (censored); ``observed``: done.
    """
    from scipy.stats import norm  # loaded on first use, as in mean_ci

    times = np.unique(x[observed])
    ordered = np.sort(x)
    at_risk = len(x) - np.searchsorted(ordered, times, side="left")
    events = np.array([np.count_nonzero((x == t) & observed) for t in times])
    survival = np.cumprod(1 - events / at_risk)
    with np.errstate(divide="ignore", invalid="ignore"):
        greenwood = np.cumsum(events / (at_risk * (at_risk - events)))
        log_s = np.log(survival)
        spread = norm.ppf(0.5 + level / 2) * np.sqrt(greenwood) / np.abs(log_s)
        centre = np.log(-log_s)
        low = np.exp(-np.exp(centre + spread))
        high = np.exp(-np.exp(centre - spread))
    # Where the curve reaches 0 (or a variance is undefined) the bounds are the curve's.
    low = np.where(np.isfinite(low), low, survival)
    high = np.where(np.isfinite(high), high, survival)
    return pd.Series(survival, index=times), low, high
