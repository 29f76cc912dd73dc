"""Calibration: fit the company as it is to what is observed of it.

:func:`calibrate` searches the free parameters for the values that best reproduce
the targets (see :mod:`flowsim.config.calibration` for the files), and
:func:`write_calibration` writes the results folder.  Only the company as it is is
fitted; a policy's effect is then a prediction, never a target.
"""

from flowsim.calibration.folder import target_table, write_calibration
from flowsim.calibration.search import CalibrationRun, calibrate

__all__ = ["CalibrationRun", "calibrate", "target_table", "write_calibration"]
