"""The working calendar: how many working hours make a day, a week, a month, a quarter, a year.

Simulated time is continuous, in working hours; nights and weekends are not
simulated.  Every length below is counted in working days, so only
``hours_per_day`` varies between configs.
"""

from __future__ import annotations

from dataclasses import dataclass

DAYS_PER_WEEK = 5
DAYS_PER_MONTH = 21  # working days in an average month
WEEKS_PER_QUARTER = 13
WEEKS_PER_YEAR = 52


@dataclass(frozen=True)
class Calendar:
    """Lengths of the calendar's periods in clock hours, for a working day of ``hours_per_day``."""

    hours_per_day: float

    @property
    def day(self) -> float:
        return self.hours_per_day

    @property
    def week(self) -> float:
        return DAYS_PER_WEEK * self.hours_per_day

    @property
    def month(self) -> float:
        return DAYS_PER_MONTH * self.hours_per_day

    @property
    def quarter(self) -> float:
        return WEEKS_PER_QUARTER * self.week

    @property
    def year(self) -> float:
        return WEEKS_PER_YEAR * self.week
