"""The eight-business-hour deadline of a contact-lens verification request, as 16 CFR 315.2 counts hours."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.verification_deadline import business_hours_left, deadline, is_federal_holiday

NEW_YORK = 'America/New_York'
ET = ZoneInfo(NEW_YORK)


def at(year: int, month: int, day: int, hour: int, minute: int = 0, zone: ZoneInfo = ET) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone)


def test_a_request_at_3_pm_on_the_wednesday_before_thanksgiving_is_due_at_3_pm_on_friday():
    assert deadline(at(2026, 11, 25, 15), NEW_YORK) == at(2026, 11, 27, 15)


def test_a_request_in_the_morning_is_due_at_the_end_of_the_same_business_day():
    assert deadline(at(2026, 12, 1, 9), NEW_YORK) == at(2026, 12, 1, 17)


def test_a_request_received_overnight_starts_counting_at_9_am():
    assert deadline(at(2026, 12, 1, 22, 30), NEW_YORK) == at(2026, 12, 2, 17)
    assert deadline(at(2026, 12, 2, 6), NEW_YORK) == at(2026, 12, 2, 17)


def test_a_request_received_at_5_pm_sharp_counts_from_the_next_morning():
    assert deadline(at(2026, 12, 1, 17), NEW_YORK) == at(2026, 12, 2, 17)


def test_a_friday_afternoon_request_runs_over_the_weekend_to_monday():
    assert deadline(at(2026, 12, 4, 14, 15), NEW_YORK) == at(2026, 12, 7, 14, 15)


def test_a_seller_counting_saturdays_gets_the_answer_due_on_saturday():
    assert deadline(at(2026, 12, 4, 14), NEW_YORK, count_saturday=True) == at(2026, 12, 5, 14)


def test_a_weekend_holiday_is_observed_on_the_friday_before():
    # July 4, 2026 is a Saturday: the federal holiday is observed on Friday, July 3.
    assert is_federal_holiday(at(2026, 7, 3, 12).date())
    assert deadline(at(2026, 7, 2, 13), NEW_YORK) == at(2026, 7, 6, 13)


def test_counting_saturday_still_skips_a_holiday_on_saturday():
    assert deadline(at(2026, 7, 2, 13), NEW_YORK, count_saturday=True) == at(2026, 7, 6, 13)


def test_a_daylight_saving_change_over_the_weekend_neither_adds_nor_removes_an_hour():
    # US clocks spring forward on Sunday, March 14, 2027: the deadline is 3 p.m. local, now EDT.
    due = deadline(at(2027, 3, 12, 15), NEW_YORK)
    assert due == at(2027, 3, 15, 15)
    assert due - datetime(2027, 3, 12, 20, tzinfo=UTC) == timedelta(days=2, hours=23)  # one wall-clock hour less


def test_the_prescribers_time_zone_decides_not_the_servers():
    received = datetime(2026, 12, 1, 23, tzinfo=UTC)  # 6 p.m. in New York, 3 p.m. in Los Angeles
    assert deadline(received, NEW_YORK) == at(2026, 12, 2, 17)
    la = ZoneInfo('America/Los_Angeles')
    assert deadline(received, 'America/Los_Angeles') == at(2026, 12, 2, 15, zone=la)


def test_time_left_counts_only_business_hours():
    due = deadline(at(2026, 11, 25, 15), NEW_YORK)
    assert business_hours_left(due, at(2026, 11, 25, 16), NEW_YORK) == pytest.approx(7)
    assert business_hours_left(due, at(2026, 11, 26, 12), NEW_YORK) == pytest.approx(6)  # Thanksgiving
    assert business_hours_left(due, at(2026, 11, 27, 15), NEW_YORK) == 0


def test_a_naive_time_is_refused():
    with pytest.raises(ValueError):
        deadline(datetime(2026, 12, 1, 9), NEW_YORK)
