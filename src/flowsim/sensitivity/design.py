"""The points of the assumption space a study runs, and the indices computed from them,
both by SALib.

Why SALib: it is the reference implementation of Morris screening, Sobol indices and
the moment-independent delta measure, each with bootstrap confidence intervals, and it
keeps sampling and analysis apart, so that the points can be run (and stored, and
resumed) by our own runner.  Points are drawn on the unit cube and mapped to each
assumption's range (on a log scale or rounded where the file says), so that an index
reads "over the assumption's whole range".

- ``morris``: ``samples`` trajectories of ``k + 1`` points on a grid of ``levels``;
  mu* (the mean absolute elementary effect, in the metric's units over the whole
  range), its 95% bootstrap interval, and sigma (interactions and non-linearity).
- ``sobol``: Saltelli's scheme, ``samples * (k + 2)`` points; first-order (S1) and
  total (ST) indices, shares of the metric's variance, with 95% intervals.
- ``lhs``: ``samples`` points of a Latin hypercube (at least 50, for delta's density
  estimates); Borgonovo's delta (the moment-independent importance, 0 to 1, in its
  original "raw" estimator) and S1, with 95% intervals.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from typing import Any

import numpy as np
import pandas as pd

from flowsim.config.sensitivity import SensitivityDesign

IMPORTANCE = {"morris": "mu_star", "sobol": "ST", "lhs": "delta"}
"""The index that ranks the assumptions, by method."""
BOOTSTRAP = 1000


def problem(design: SensitivityDesign) -> dict[str, Any]:
    names = design.names
    return {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}


def method_seed(design: SensitivityDesign) -> int:
    """A seed for SALib's sampling and bootstrap, independent of the replications' seeds."""
    return int(np.random.SeedSequence([design.seed, 2]).generate_state(1)[0] % 2**31)


def unit_points(design: SensitivityDesign) -> np.ndarray:
    """The design's points on the unit cube, one row per point."""
    spec = design.spec
    seed = method_seed(design)
    if spec.method == "morris":
        from SALib.sample import morris

        return np.asarray(
            morris.sample(problem(design), spec.samples, num_levels=spec.levels, seed=seed)
        )
    if spec.method == "sobol":
        from SALib.sample import sobol

        return np.asarray(
            sobol.sample(problem(design), spec.samples, calc_second_order=False, seed=seed)
        )
    from SALib.sample import latin

    return np.asarray(latin.sample(problem(design), spec.samples, seed=seed))


def point_values(design: SensitivityDesign, units: np.ndarray) -> pd.DataFrame:
    """Each point's assumption values in their own units, a column per assumption."""
    return pd.DataFrame(
        {
            a.name: [a.value(float(u)) for u in units[:, j]]
            for j, a in enumerate(design.spec.assumptions)
        }
    )


def indices(design: SensitivityDesign, units: np.ndarray, y: np.ndarray) -> pd.DataFrame:
    """Each assumption's indices for one output ``y`` (one value per point), with their
    95% intervals: a row per assumption, ``importance`` and ``importance_conf`` being the
    method's ranking index.  Rows of NaN when ``y`` is not finite at every point (a
    metric some point cannot measure, such as a lead time with no go-live)."""
    spec = design.spec
    names = design.names
    if not np.all(np.isfinite(y)):
        return pd.DataFrame({"assumption": names, "importance": np.nan, "importance_conf": np.nan})
    seed = method_seed(design)
    if spec.method == "morris":
        from SALib.analyze import morris

        r = morris.analyze(
            problem(design), units, y, num_resamples=BOOTSTRAP, num_levels=spec.levels, seed=seed
        )
        cols = {"mu_star": r["mu_star"], "mu_star_conf": r["mu_star_conf"], "mu": r["mu"]}
        cols["sigma"] = r["sigma"]
    elif spec.method == "sobol":
        from SALib.analyze import sobol

        r = sobol.analyze(
            problem(design), y, calc_second_order=False, num_resamples=BOOTSTRAP, seed=seed
        )
        cols = {"ST": r["ST"], "ST_conf": r["ST_conf"], "S1": r["S1"], "S1_conf": r["S1_conf"]}
    else:
        from SALib.analyze import delta

        # SALib prints and warns its binning notes, resetting the warning filters and
        # the global formatter as it goes: record the notes away and restore the formatter.
        formatter = warnings.formatwarning
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings(record=True):
            r = delta.analyze(problem(design), units, y, num_resamples=BOOTSTRAP, seed=seed)
        warnings.formatwarning = formatter
        cols = {"delta": r["delta_raw"], "delta_conf": r["delta_raw_conf"], "S1": r["S1"]}
        cols["S1_conf"] = r["S1_conf"]
    key = IMPORTANCE[spec.method]
    frame = pd.DataFrame(
        {"assumption": names, **{k: np.asarray(v, float) for k, v in cols.items()}}
    )
    frame.insert(1, "importance", frame[key])
    frame.insert(2, "importance_conf", frame[f"{key}_conf"])
    return frame
