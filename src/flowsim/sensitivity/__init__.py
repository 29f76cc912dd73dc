"""Sensitivity: which assumptions drive each metric, and where each policy wins.

:func:`run_sensitivity` runs every scenario of an experiment at points of the space
of uncertain assumptions (see :mod:`flowsim.config.sensitivity` for the file);
:func:`write_sensitivity` analyses them and writes the results folder.  The
assumptions are what nobody knows of the company; a policy's conclusion is worth
stating only with the share of that space in which it holds.
"""

from flowsim.sensitivity.folder import SensitivityTables, analyse_sensitivity, write_sensitivity
from flowsim.sensitivity.run import SensitivityRun, run_sensitivity

__all__ = [
    "SensitivityRun",
    "SensitivityTables",
    "analyse_sensitivity",
    "run_sensitivity",
    "write_sensitivity",
]
