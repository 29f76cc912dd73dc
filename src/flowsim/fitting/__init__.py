"""Fitting a company's config to its tracker's table of work items (``flowsim fit``).

``observed`` reads the observables off the table, ``build`` turns them into config
values and calibration targets, ``fit`` runs the fit (:func:`fit_company`), and
``synthetic`` makes a table from a simulation's event log (:func:`items_from_result`).
"""

from flowsim.fitting.fit import CompanyFit, fit_company
from flowsim.fitting.observed import FitError, Observed, observe_items
from flowsim.fitting.synthetic import items_from_result

__all__ = [
    "CompanyFit",
    "FitError",
    "Observed",
    "fit_company",
    "items_from_result",
    "observe_items",
]
