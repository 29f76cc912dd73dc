"""What a sensitivity study shows: which assumptions drive each metric, and for each
policy where in the assumption space it wins, loses or cannot be called.

- *Drivers*: the method's indices (see :mod:`flowsim.sensitivity.design`) of each
  scenario's mean of each metric over the points (``kind = level``), and of each
  policy's paired difference from the reference on each deciding metric
  (``kind = effect``): what decides *whether* a policy helps can differ from what
  drives the metric's level.
- *Verdicts*: at each point, a policy wins on a deciding metric when the 95% CI of its
  paired difference from the reference (same seeds, replication by replication)
  excludes zero in the better direction, loses when it excludes zero in the other,
  and cannot be called otherwise.  The shares of points come with Wilson intervals:
  they estimate the share of the assumption space, to the precision the points allow.
- *Conditions*: a shallow classification tree (scikit-learn's CART) over the
  assumptions separates the points where a policy wins from the rest; its leaves where
  it mostly wins are read out as rules ("call_hours <= 0.6 and sales >= 1.2").
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from flowsim.sensitivity.design import indices
from flowsim.sensitivity.run import SensitivityRun
from flowsim.stats import t_quantile, wilson_interval

WINS, LOSES, UNCALLED = "wins", "loses", "cannot be called"
TREE_DEPTH = 2
"""Rules of at most two conditions: what a manager can read and check."""


def point_means(run: SensitivityRun) -> pd.DataFrame:
    """Mean of every metric over the replications, per (point, scenario)."""
    metrics = run.design.metrics
    return run.runs.groupby(["point", "scenario"], sort=False)[metrics].mean().reset_index()


def _paired(run: SensitivityRun, policy: str, metric: str) -> pd.DataFrame:
    """Per point and replication: the policy's value minus the reference's."""
    ref = run.design.experiment.reference
    wide = run.runs.pivot_table(
        index=["point", "replication"], columns="scenario", values=metric, dropna=False
    )
    return (wide[policy] - wide[ref]).rename("difference").reset_index()


def policies(run: SensitivityRun) -> list[str]:
    ref = run.design.experiment.reference
    return [s.name for s in run.design.experiment.scenarios if s.name != ref]


def drivers(run: SensitivityRun) -> pd.DataFrame:
    """Every index: a row per (kind, scenario, metric, assumption)."""
    means = point_means(run)
    frames = []
    for s in run.design.experiment.scenarios:
        mine = means[means["scenario"] == s.name].sort_values("point")
        for metric in run.design.metrics:
            frame = indices(run.design, run.units, mine[metric].to_numpy(dtype=float))
            frames.append(frame.assign(kind="level", scenario=s.name, metric=metric))
    for policy in policies(run):
        for metric in run.design.spec.decide:
            diff = _paired(run, policy, metric).groupby("point")["difference"].mean()
            frame = indices(run.design, run.units, diff.sort_index().to_numpy(dtype=float))
            frames.append(frame.assign(kind="effect", scenario=policy, metric=metric))
    table = pd.concat(frames, ignore_index=True)
    lead = ["kind", "scenario", "metric", "assumption", "importance", "importance_conf"]
    return table[lead + [c for c in table.columns if c not in lead]]


def verdicts(run: SensitivityRun) -> pd.DataFrame:
    """A row per (point, policy, deciding metric): the paired difference, its 95% CI and
    the verdict; with the point's assumption values."""
    rows = []
    for policy in policies(run):
        for metric, better in run.design.spec.decide.items():
            paired = _paired(run, policy, metric)
            for point, group in paired.groupby("point", sort=True):
                d = group["difference"].to_numpy(dtype=float)
                d = d[np.isfinite(d)]
                mean = float(d.mean()) if len(d) else math.nan
                half = math.nan
                if len(d) >= 2:
                    sd = float(d.std(ddof=1))
                    half = t_quantile(0.975, len(d) - 1) * sd / math.sqrt(len(d))
                verdict = UNCALLED
                if len(d) >= 2 and (half > 0 or mean != 0):
                    sign = 1 if better == "higher" else -1
                    if sign * mean - half > 0:
                        verdict = WINS
                    elif sign * mean + half < 0:
                        verdict = LOSES
                rows.append(
                    {
                        "point": point,
                        "policy": policy,
                        "metric": metric,
                        "better": better,
                        "difference": mean,
                        "ci_low": mean - half,
                        "ci_high": mean + half,
                        "replications": len(d),
                        "verdict": verdict,
                    }
                )
    table = pd.DataFrame(rows)
    return table.merge(run.values, left_on="point", right_index=True, how="left")


def outcome_shares(table: pd.DataFrame) -> pd.DataFrame:
    """Per (policy, metric): the share of points where it wins, loses or cannot be
    called, each with its Wilson 95% interval, and the median difference."""
    rows = []
    for (policy, metric), group in table.groupby(["policy", "metric"], sort=False):
        n = len(group)
        row: dict[str, object] = {"policy": policy, "metric": metric, "points": n}
        for verdict, col in ((WINS, "wins"), (LOSES, "loses"), (UNCALLED, "uncalled")):
            k = int((group["verdict"] == verdict).sum())
            low, high = wilson_interval(k, n)
            row |= {col: k / n, f"{col}_low": low, f"{col}_high": high}
        row["median_difference"] = float(group["difference"].median())
        rows.append(row)
    return pd.DataFrame(rows)


def conditions(table: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Per (policy, metric): the rules under which the policy wins, read off a shallow
    classification tree, with how many points each rule holds and wins in."""
    rows = []
    for (policy, metric), group in table.groupby(["policy", "metric"], sort=False):
        wins = (group["verdict"] == WINS).to_numpy()
        n, k = len(group), int(wins.sum())
        if k == 0 or k == n:
            where = "at every point" if k else "at no point"
            rows.append(_rule(policy, metric, f"wins {where} sampled", n, k, n))
            continue
        for rule, size, won in _tree_rules(group[names], wins):
            rows.append(_rule(policy, metric, rule, size, won, n))
    return pd.DataFrame(rows)


def _rule(policy: str, metric: str, rule: str, size: int, won: int, n: int) -> dict[str, object]:
    return {
        "policy": policy,
        "metric": metric,
        "rule": rule,
        "points_in_rule": size,
        "wins_in_rule": won,
        "share_of_points": size / n,
    }


def _tree_rules(x: pd.DataFrame, wins: np.ndarray) -> list[tuple[str, int, int]]:
    """The leaves of a depth-2 tree where most points win, as readable rules."""
    from sklearn.tree import DecisionTreeClassifier

    leaf_size = max(3, len(x) // 10)
    tree = DecisionTreeClassifier(max_depth=TREE_DEPTH, min_samples_leaf=leaf_size, random_state=0)
    tree.fit(x.to_numpy(dtype=float), wins)
    t = tree.tree_
    leaves = tree.apply(x.to_numpy(dtype=float))
    out: list[tuple[str, int, int]] = []

    def under(node: int) -> list[int]:
        if t.children_left[node] == -1:
            return [node]
        return under(t.children_left[node]) + under(t.children_right[node])

    def mostly_wins(leaf: int) -> bool:
        return bool(wins[leaves == leaf].sum() > (leaves == leaf).sum() / 2)

    def walk(node: int, path: list[str]) -> None:
        # The highest node whose every leaf mostly wins: one rule, not one per leaf.
        if all(mostly_wins(leaf) for leaf in under(node)):
            members = np.isin(leaves, under(node))
            rule = " and ".join(path) or "everywhere"
            out.append((rule, int(members.sum()), int(wins[members].sum())))
            return
        if t.children_left[node] == -1:
            return
        name, cut = x.columns[t.feature[node]], t.threshold[node]
        walk(t.children_left[node], [*path, f"{name} <= {cut:.3g}"])
        walk(t.children_right[node], [*path, f"{name} > {cut:.3g}"])

    walk(0, [])
    if not out:
        out.append(("no region where it mostly wins", 0, 0))
    return out
