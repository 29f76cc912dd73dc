"""Forecasts from a company's open work, and backtests of them against what happened.

:func:`forecast` runs the company (under each policy) forward from a
:class:`~flowsim.model.state.StartState` many times, on common random numbers;
:mod:`flowsim.forecast.summary` turns the runs into go-live dates at 50/85/95%, counts
by a date and paired comparisons; :func:`backtest` fits the company on the data before
a cutoff, forecasts from the open work at the cutoff and scores the forecast against
what happened after it.
"""

from flowsim.forecast.run import Forecast, forecast

run_forecast = forecast
"""The same function, as the package root names it (``flowsim.forecast`` is this package)."""

__all__ = ["Forecast", "forecast", "run_forecast"]
