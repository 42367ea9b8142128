"""An appointment as an `.ics` file: the patient's calendar app adds it with the right time and place."""

from datetime import UTC, datetime
from urllib.parse import urlsplit

from icalendar import Calendar, Event

from models.appointment import Appointment, AppointmentStatus, VisitType
from models.practice import Practice
from services import appointments

PRODUCT_ID = '-//Eyecare Patient Portal//Appointments//EN'


def ics_for(appointment: Appointment, practice: Practice, now: datetime | None = None) -> bytes:
    """One VEVENT with start and end in UTC (calendar apps show it in the phone's own zone) and the
    location's name and address. A cancelled visit is exported as cancelled, so a re-import removes it."""
    host = urlsplit(practice.portal_url).hostname or 'eyecare-portal.invalid'
    calendar = Calendar()
    calendar.add('prodid', PRODUCT_ID)
    calendar.add('version', '2.0')
    calendar.add('method', 'PUBLISH')
    event = Event()
    event.add('uid', f'appointment-{appointment.id}@{host}')
    event.add('dtstamp', now or datetime.now(UTC))
    event.add('dtstart', appointment.starts_at.astimezone(UTC))
    event.add('dtend', appointments.ends_at(appointment).astimezone(UTC))
    event.add('summary', f'{VisitType(appointment.visit_type).label} at {practice.name}')
    where = appointments.place(appointment.location)
    if where:
        event.add('location', where)
    details = []
    if appointment.provider:
        details.append(f'With {appointment.provider.display_name}.')
    if practice.phone:
        details.append(f'To change or cancel, call {practice.phone}.')
    if details:
        event.add('description', ' '.join(details))
    event.add('status', 'CANCELLED' if appointment.status == AppointmentStatus.CANCELLED else 'CONFIRMED')
    calendar.add_component(event)
    return calendar.to_ical()


def file_name(appointment: Appointment, practice: Practice) -> str:
    day = appointments.local_time(appointment.starts_at, practice.time_zone).date()
    return f'appointment-{day.isoformat()}.ics'
