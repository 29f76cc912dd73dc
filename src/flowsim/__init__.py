"""flowsim: why a small software business must slow down to speed up.

The Python API for notebooks and scripts::

    import flowsim
    params = flowsim.load_config("configs/baseline.yaml")
    result = flowsim.simulate(params, seed=1)
    result.summary, result.events, result.timeseries

    study = flowsim.load_experiment("experiments/policy_levers.yaml", reps=10)
    run = flowsim.run_experiment(study)
    flowsim.paired_differences(run.per_rep, study.reference, ["go_lives"])

    results = flowsim.read_study("results/slow_down_to_speed_up")
    flowsim.plots.sweep_curve(results)
"""

__version__ = "0.1.0"

from flowsim.config import ConfigError, config_hash, load_config  # noqa: E402
from flowsim.config.experiment import (  # noqa: E402
    compare_experiment,
    load_experiment,
    sweep_experiment,
)
from flowsim.model import Params, Result, simulate  # noqa: E402
from flowsim.runner import run_experiment, run_replications  # noqa: E402
from flowsim.stats import mean_ci, paired_differences, scenario_table  # noqa: E402
from flowsim.storage import read_study  # noqa: E402


def __getattr__(name: str) -> object:
    # The charts need matplotlib; load them on first use, not on every import.
    if name == "plots":
        from flowsim.reporting import charts as plots

        return plots
    raise AttributeError(f"module 'flowsim' has no attribute {name!r}")


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
    "scenario_table",
    "simulate",
    "sweep_experiment",
]
