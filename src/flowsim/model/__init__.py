"""The simulation model: SimPy processes, no I/O, no plotting."""

from flowsim.model.params import Params
from flowsim.model.results import Result, simulate

__all__ = ["Params", "Result", "simulate"]
