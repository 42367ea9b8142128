"""A patient's upcoming appointments, and writing times the way the practice's patients read them."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from models.appointment import Appointment

HIDDEN_STATUSES = ('cancelled', 'canceled', 'no_show', 'completed')


async def upcoming_for(patient_id: int, now: datetime | None = None) -> list[Appointment]:
    """Appointments still ahead, soonest first, with provider and location: one query, however many."""
    now = now or datetime.now(UTC)
    return (
        await Appointment.filter(patient_id=patient_id, starts_at__gte=now)
        .exclude(status__in=HIDDEN_STATUSES)
        .select_related('provider', 'location')
        .order_by('starts_at', 'id')
    )


def local_time(moment: datetime, time_zone: str) -> datetime:
    """An aware UTC time in the practice's zone (falls back to UTC for an unknown zone name)."""
    try:
        zone = ZoneInfo(time_zone)
    except (KeyError, ValueError):
        zone = ZoneInfo('UTC')
    return moment.astimezone(zone)


def today_in(time_zone: str) -> date:
    """The practice's calendar date: a prescription expires at the practice's midnight, not the server's."""
    return local_time(datetime.now(UTC), time_zone).date()


def format_day(moment: datetime, time_zone: str) -> str:
    """'Tuesday, March 4, 2025' in the practice's zone."""
    local = local_time(moment, time_zone)
    return f'{local:%A, %B} {local.day}, {local.year}'


def format_time(moment: datetime, time_zone: str) -> str:
    """'9:30 AM EST' in the practice's zone: the zone name says whose clock it is."""
    local = local_time(moment, time_zone)
    hour = local.hour % 12 or 12
    return f'{hour}:{local:%M %p %Z}'.strip()
