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

    design = flowsim.load_sensitivity(study, "experiments/sensitivity/story_uncertainties.yaml")
    tables = flowsim.analyse_sensitivity(flowsim.run_sensitivity(design))
    tables.drivers, tables.shares, tables.conditions     # what drives what; where each wins

    items = flowsim.import_export("jira.csv", mapping="jira_map.yaml").items  # a tracker
    fit = flowsim.fit_company(items, "configs/baseline.yaml")             # the company in it
    state = flowsim.snapshot(items)                                        # its open work now
    fc = flowsim.run_forecast({"as is": fit.params}, state)                # go-live dates
    flowsim.backtest(items, "2025-09-01").scores.calibration               # to be trusted?

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
    "load_calibration": "flowsim.config.calibration",
    "calibrate": "flowsim.calibration",
    "write_calibration": "flowsim.calibration",
    "load_sensitivity": "flowsim.config.sensitivity",
    "run_sensitivity": "flowsim.sensitivity",
    "analyse_sensitivity": "flowsim.sensitivity",
    "write_sensitivity": "flowsim.sensitivity",
    "import_export": "flowsim.data",
    "read_items": "flowsim.data.items",
    "snapshot": "flowsim.data.snapshot",
    "load_state": "flowsim.config.state",
    "StartState": "flowsim.model.state",
    "fit_company": "flowsim.fitting",
    "run_forecast": "flowsim.forecast",
    "backtest": "flowsim.forecast.backtest",
}
# Names that are whole modules.
_MODULES = {"plots": "flowsim.reporting.charts"}

__all__ = [
    "ConfigError",
    "Params",
    "Result",
    "StartState",
    "backtest",
    "fit_company",
    "run_forecast",
    "import_export",
    "load_state",
    "read_items",
    "snapshot",
    "__version__",
    "analyse_sensitivity",
    "calibrate",
    "compare_experiment",
    "config_hash",
    "load_calibration",
    "load_config",
    "load_experiment",
    "load_sensitivity",
    "mean_ci",
    "paired_differences",
    "plots",
    "read_study",
    "run_experiment",
    "run_replications",
    "run_sensitivity",
    "run_study",
    "scenario_table",
    "simulate",
    "sweep_experiment",
    "write_calibration",
    "write_sensitivity",
]

if TYPE_CHECKING:  # the same names for type checkers and editors, which do not run __getattr__
    from flowsim.calibration import calibrate, write_calibration
    from flowsim.config import ConfigError, config_hash, load_config
    from flowsim.config.calibration import load_calibration
    from flowsim.config.experiment import compare_experiment, load_experiment, sweep_experiment
    from flowsim.config.sensitivity import load_sensitivity
    from flowsim.config.state import load_state
    from flowsim.data import import_export
    from flowsim.data.items import read_items
    from flowsim.data.snapshot import snapshot
    from flowsim.fitting import fit_company
    from flowsim.forecast import run_forecast
    from flowsim.forecast.backtest import backtest
    from flowsim.model import Params, Result, simulate
    from flowsim.model.state import StartState
    from flowsim.reporting import charts as plots
    from flowsim.runner import run_experiment, run_replications
    from flowsim.sensitivity import analyse_sensitivity, run_sensitivity, write_sensitivity
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
