"""The simulation model: SimPy processes, no I/O, no plotting.

``Params``, ``Result`` and ``simulate`` are imported on first use, so that importing a
part of the model (its catalogue of metrics, say) does not load pandas.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flowsim.model.params import Params
    from flowsim.model.results import Result, simulate

_API = {
    "Params": "flowsim.model.params",
    "Result": "flowsim.model.results",
    "simulate": "flowsim.model.results",
}

__all__ = ["Params", "Result", "simulate"]


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'flowsim.model' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
