"""Patients ask for a visit; staff turn the request into an appointment or decline it."""

from dataclasses import dataclass

from tortoise.transactions import in_transaction

from models.appointment import AppointmentRequest
from services import audit, events
from services.errors import DomainError

DAYS = ('Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat')
TIMES = ('Morning', 'Afternoon', 'Evening')
REASON_MAX = 300
PREFERENCES_MAX = 300
NOTE_MAX = 200
MAX_PENDING = 3


class InvalidAppointmentRequest(DomainError):
    """What is wrong with the form, in words the patient can act on."""


class TooManyPendingRequests(DomainError):
    def __init__(self) -> None:
        super().__init__(
            f'You already have {MAX_PENDING} requests waiting. The practice will contact you about them; '
            'please call if it is urgent.'
        )


@dataclass(frozen=True)
class Preferences:
    """When the patient would like to come in: any of `DAYS`, any of `TIMES`, and a free note."""

    days: tuple[str, ...] = ()
    times: tuple[str, ...] = ()
    note: str = ''

    def describe(self) -> str:
        days = ', '.join(d for d in DAYS if d in self.days) or 'Any day'
        times = ', '.join(t.lower() for t in TIMES if t in self.times) or 'any time'
        text = f'{days}; {times}'
        return f'{text}; {self.note}' if self.note else text


def _validated(reason: str, preferences: Preferences) -> tuple[str, str]:
    reason = ' '.join((reason or '').split())
    if not reason:
        raise InvalidAppointmentRequest('Please tell us the reason for your visit.')
    if len(reason) > REASON_MAX:
        raise InvalidAppointmentRequest(f'Please keep the reason under {REASON_MAX} characters.')
    unknown = [d for d in preferences.days if d not in DAYS] + [t for t in preferences.times if t not in TIMES]
    if unknown:
        raise InvalidAppointmentRequest('Please choose days and times from the list.')
    note = ' '.join((preferences.note or '').split())
    if len(note) > NOTE_MAX:
        raise InvalidAppointmentRequest(f'Please keep the note on days and times under {NOTE_MAX} characters.')
    described = Preferences(preferences.days, preferences.times, note).describe()
    return reason, described[:PREFERENCES_MAX]


async def request_appointment(
    patient_id: int, reason: str, preferences: Preferences, actor: audit.Actor
) -> AppointmentRequest:
    """Create a pending request for staff to handle; a patient cannot flood the front desk."""
    reason, preferred = _validated(reason, preferences)
    if await AppointmentRequest.filter(patient_id=patient_id, status='pending').count() >= MAX_PENDING:
        raise TooManyPendingRequests()
    async with in_transaction():  # the request and its audit row are written together or not at all
        request = await AppointmentRequest.create(patient_id=patient_id, reason=reason, preferred_times=preferred)
        await audit.record(
            'appointment.requested',
            actor,
            patient_id=patient_id,
            object_type='appointment_request',
            object_id=request.id,
        )
    await events.publish(patient_id, events.APPOINTMENTS)
    return request


async def pending_for(patient_id: int) -> list[AppointmentRequest]:
    """The patient's requests still waiting for the practice, newest first."""
    return await AppointmentRequest.filter(patient_id=patient_id, status='pending').order_by('-created_at', '-id')
