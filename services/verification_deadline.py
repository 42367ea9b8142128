"""When a seller's contact-lens verification request must be answered: eight business hours (16 CFR 315.5).

16 CFR 315.2 defines a business hour as an hour between 9 a.m. and 5 p.m. on a weekday, federal holidays
excluded, in the prescriber's time zone; a seller may also count Saturday hours (the request records
whether it does). The practice's own opening hours do not stop the clock. Silence past the deadline
counts as verification, so the desk sorts requests by this deadline.

The hours are wall-clock hours, so the count is done in local time and only the result is converted to
UTC: a daylight-saving change overnight neither adds nor removes a business hour.
"""

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

BUSINESS_HOURS = 8
DAY_STARTS = time(9)
DAY_ENDS = time(17)
SATURDAY = 5


@cache
def _federal_holidays(year: int) -> holidays.HolidayBase:
    """US federal holidays of one year, with the observed Friday or Monday of a weekend holiday."""
    return holidays.country_holidays('US', years=year)


def is_federal_holiday(day: date) -> bool:
    return day in _federal_holidays(day.year)


def is_business_day(day: date, *, count_saturday: bool = False) -> bool:
    weekday = day.weekday()
    if weekday > SATURDAY or (weekday == SATURDAY and not count_saturday):
        return False
    return not is_federal_holiday(day)


def deadline(
    received_at: datetime, time_zone: str, *, count_saturday: bool = False, hours: int = BUSINESS_HOURS
) -> datetime:
    """The moment (aware, UTC) at which `hours` business hours have passed since `received_at`."""
    if received_at.tzinfo is None:
        raise ValueError('received_at must be an aware datetime')
    zone = ZoneInfo(time_zone)
    local = received_at.astimezone(zone).replace(tzinfo=None)  # wall clock in the prescriber's zone
    remaining = timedelta(hours=hours)
    day, clock = local.date(), local.time()
    while True:
        if is_business_day(day, count_saturday=count_saturday) and clock < DAY_ENDS:
            start = datetime.combine(day, max(clock, DAY_STARTS))
            available = datetime.combine(day, DAY_ENDS) - start
            if remaining <= available:
                return (start + remaining).replace(tzinfo=zone).astimezone(UTC)
            remaining -= available
        day, clock = day + timedelta(days=1), time(0)


def business_hours_left(due_at: datetime, now: datetime, time_zone: str, *, count_saturday: bool = False) -> float:
    """Business hours between `now` and the deadline (0 once passed): what the desk shows as 'time left'."""
    if now >= due_at:
        return 0.0
    zone = ZoneInfo(time_zone)
    start, end = now.astimezone(zone).replace(tzinfo=None), due_at.astimezone(zone).replace(tzinfo=None)
    total = timedelta()
    day = start.date()
    while day <= end.date():
        if is_business_day(day, count_saturday=count_saturday):
            window_start = max(datetime.combine(day, DAY_STARTS), start)
            window_end = min(datetime.combine(day, DAY_ENDS), end)
            if window_end > window_start:
                total += window_end - window_start
        day += timedelta(days=1)
    return total.total_seconds() / 3600
