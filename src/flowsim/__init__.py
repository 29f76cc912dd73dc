"""flowsim: why a small software business must slow down to speed up.

The Python API for notebooks and scripts::

    import flowsim
    params = flowsim.load_config("configs/baseline.yaml")
    result = flowsim.simulate(params, seed=1)
    result.summary, result.events, result.timeseries

    study = flowsim.load_experiment("experiments/policy_levers.yaml", reps=10)
    run = flowsim.run_experiment(study)
    flowsim.paired_differences(run.per_rep, study.reference, ["go_lives"])

    done = flowsim.run_study(study, out="results/policy_levers")   # the whole study
    results = flowsim.read_study("results/slow_down_to_speed_up")
    flowsim.plots.sweep_curve(results)

Every name is imported on first use (PEP 562), so ``import flowsim`` and
``flowsim --version`` load neither pandas nor SciPy nor matplotlib.
"""

import importlib
from typing import TYPE_CHECKING, Any

from flowsim.version import __version__

# Where each name of the API lives; a module imports only when one of its names is used.
_API = {
    "ConfigError": "flowsim.config",
    "config_hash": "flowsim.config",
    "load_config": "flowsim.config",
    "compare_experiment": "flowsim.config.experiment",
    "load_experiment": "flowsim.config.experiment",
    "sweep_experiment": "flowsim.config.experiment",
    "Params": "flowsim.model",
    "Result": "flowsim.model",
    "simulate": "flowsim.model",
    "run_experiment": "flowsim.runner",
    "run_replications": "flowsim.runner",
    "mean_ci": "flowsim.stats",
    "paired_differences": "flowsim.stats",
    "scenario_table": "flowsim.stats",
    "read_study": "flowsim.storage",
    "run_study": "flowsim.study",
}
# Names that are whole modules.
_MODULES = {"plots": "flowsim.reporting.charts"}

__all__ = [
    "ConfigError",
    "Params",
    "Result",
    "__version__",
    "compare_experiment",
    "config_hash",
    "load_config",
    "load_experiment",
    "mean_ci",
    "paired_differences",
    "plots",
    "read_study",
    "run_experiment",
    "run_replications",
    "run_study",
    "scenario_table",
    "simulate",
    "sweep_experiment",
]

if TYPE_CHECKING:  # the same names for type checkers and editors, which do not run __getattr__
    from flowsim.config import ConfigError, config_hash, load_config
    from flowsim.config.experiment import compare_experiment, load_experiment, sweep_experiment
    from flowsim.model import Params, Result, simulate
    from flowsim.reporting import charts as plots
    from flowsim.runner import run_experiment, run_replications
    from flowsim.stats import mean_ci, paired_differences, scenario_table
    from flowsim.storage import read_study
    from flowsim.study import run_study


def __getattr__(name: str) -> Any:
    if name in _API:
        value = getattr(importlib.import_module(_API[name]), name)
    elif name in _MODULES:
        value = importlib.import_module(_MODULES[name])
    else:
        raise AttributeError(f"module 'flowsim' has no attribute {name!r}")
    globals()[name] = value  # later look-ups find it without coming back here
    return value


def __dir__() -> list[str]:
    # The API and the module's dunders; not the helpers this file imports for itself.
    return sorted(set(__all__) | {name for name in globals() if name.startswith("__")})
