"""The working calendar: how many working hours make a day, a week, a month, a quarter, a year.

Simulated time is continuous, in working hours; nights and weekends are not
simulated.  Every length below is counted in working days, so only
``hours_per_day`` varies between configs.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

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


WORKDAY_OPENS = 9
WORKDAY_HOURS = 8
"""Where a tracker's times fall on the model's clock: a working day runs from 09:00 to
17:00 (in the times' own zone, UTC for an imported table), and its eight hours are the
model's working day.  Nights and weekends are not simulated, so a time outside them
counts as the nearest edge of a working day."""


def working_days(start: object, end: object) -> float:
    """Working days (Monday to Friday) from ``start`` to ``end``, both datetimes or dates,
    as the model's clock counts them: a date is the start of its day; a time counts the
    share of the working day (09:00-17:00) gone by then.

    Weekends are skipped; a time on a weekend, or after 17:00 on a Friday, counts as the
    start of the next Monday.  Negative when ``end`` is before ``start``.
    """
    return _working_point(end) - _working_point(start)


def working_date(start: object, days: float) -> np.datetime64:
    """The date ``days`` working days after ``start`` (a date), weekends skipped."""
    import numpy as np

    whole = int(np.floor(days))
    return np.busday_offset(np.datetime64(_as_date(start), "D"), whole, roll="forward")


def _as_date(when: object) -> dt.date:
    if isinstance(when, dt.datetime):
        return when.date()
    if isinstance(when, dt.date):
        return when
    import numpy as np

    return np.datetime64(str(when), "D").astype(object)  # type: ignore[no-any-return]


def _working_point(when: object) -> float:
    """Working days from 1970-01-01 (a Thursday) to ``when``, with the day's fraction."""
    import numpy as np

    day = _as_date(when)
    whole = int(np.busday_count(np.datetime64("1970-01-01", "D"), np.datetime64(day, "D")))
    if not np.is_busday(np.datetime64(day, "D")) or not isinstance(when, dt.datetime):
        return float(whole)
    opens = dt.datetime.combine(day, dt.time(WORKDAY_OPENS), tzinfo=when.tzinfo)
    hours = (when - opens).total_seconds() / 3600
    return whole + min(max(hours / WORKDAY_HOURS, 0.0), 1.0)


def working_time(start: object, days: float) -> dt.datetime:
    """The time ``days`` working days after the start of ``start`` (a date), in UTC: the
    inverse of :func:`working_days` within the working day."""
    date = working_date(start, days).astype(object)
    hours = WORKDAY_OPENS + (days - math.floor(days)) * WORKDAY_HOURS
    return dt.datetime.combine(date, dt.time(), tzinfo=dt.UTC) + dt.timedelta(hours=hours)
