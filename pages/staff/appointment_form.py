"""The console's one appointment form and its companions: schedule a patient's request, book a visit,
reschedule one (same form), cancel with a reason, decline a request with a reply.

The Requests inbox, the Schedule and the Patient Profile all open these dialogs, so the rules the form
shows (the patient's preferences, the provider's overlapping visits, the confirmation to book over them)
are the same wherever staff start from. Times are the practice's wall clock; the services store UTC.
"""

from datetime import date, time, timedelta

from nicegui import ui

from models.appointment import Appointment, AppointmentRequest, VisitType
from models.patient import Patient
from pages.access import StaffViewer
from pages.dialog import ask_reason, titled_dialog
from services import appointment_requests, appointments, locations, providers
from services.appointments import ProviderBusy, Slot, today_in
from services.errors import DomainError

VISIT_TYPES = {v.value: v.label for v in VisitType}
STATUS_BADGES = {  # label and a colour dark enough for white text
    'booked': ('Booked', 'green-9'),
    'cancelled': ('Cancelled', 'red-9'),
    'completed': ('Completed', 'blue-grey-8'),
    'no_show': ('No-show', 'deep-orange-10'),
}
DEFAULT_START = time(9, 0)


class FormProblem(ValueError):
    """A field the browser let through that is not a date or time."""


def _day(value: str | None) -> date:
    try:
        return date.fromisoformat(value or '')
    except ValueError:
        raise FormProblem('Please enter the date of the visit.') from None


def _time(value: str | None) -> time:
    try:
        return time.fromisoformat(value or '')
    except ValueError:
        raise FormProblem('Please enter the time of the visit, for example 09:30.') from None


def status_badge(status: str) -> ui.badge:
    label, color = STATUS_BADGES.get(status, (status.capitalize(), 'grey-8'))
    return ui.badge(label, color=color)


def zone_note(time_zone: str) -> str:
    return f'Times are in {time_zone.replace("_", " ")} time (the practice’s time zone).'


async def appointment_dialog(
    container: ui.element,
    viewer: StaffViewer,
    patient: Patient,
    *,
    request: AppointmentRequest | None = None,
    appointment: Appointment | None = None,
    day: date | None = None,
    provider_id: int | None = None,
    location_id: int | None = None,
) -> Appointment | None:
    """Open the form (inside `container`, which outlives refreshes) and return the appointment it saved.

    With `request` it schedules that request, starting from the patient's preferences; with `appointment`
    it reschedules that visit; otherwise it books a new one for `patient`."""
    practice = viewer.practice
    zone = practice.time_zone if practice else 'UTC'
    today = today_in(zone)
    provider_options = {p.id: p.display_name for p in await providers.list_providers(active_only=True)}
    location_options = {loc.id: loc.name for loc in await locations.list_locations(active_only=True)}
    start = {
        'provider_id': provider_id or next(iter(provider_options), None),
        'location_id': location_id or next(iter(location_options), None),
        'day': day or today + timedelta(days=1),
        'start': DEFAULT_START,
        'visit_type': VisitType.EYE_EXAM,
        'duration_minutes': appointments.DEFAULT_DURATIONS[VisitType.EYE_EXAM],
        'note': '',
    }
    if appointment is not None:
        local = appointments.local_time(appointment.starts_at, zone)
        if appointment.provider_id and appointment.provider_id not in provider_options and appointment.provider:
            provider_options[appointment.provider_id] = appointment.provider.display_name
        if appointment.location_id and appointment.location_id not in location_options and appointment.location:
            location_options[appointment.location_id] = appointment.location.name
        start.update(
            provider_id=appointment.provider_id or start['provider_id'],
            location_id=appointment.location_id or start['location_id'],
            day=local.date(),
            start=local.time().replace(second=0, microsecond=0),
            visit_type=VisitType(appointment.visit_type),
            duration_minutes=appointment.duration_minutes,
            note=appointment.reason,
        )
        title, action = f'Reschedule {patient.full_name}’s appointment', 'Save the new time'
    elif request is not None:
        suggested = appointment_requests.suggested_slot(request, today)
        start.update(
            {k: v for k, v in suggested.items() if k in start and v is not None},
            note=request.reason[:200],
        )
        title, action = f'Schedule the request from {patient.full_name}', 'Schedule'
    else:
        title, action = f'New appointment for {patient.full_name}', 'Book'

    with container, titled_dialog(title, style='width: 560px; max-width: 95vw', classes='q-pa-md gap-2') as dialog:
        if request is not None:
            with ui.column().classes('gap-0 bg-grey-2 rounded-borders q-pa-sm w-full').mark('request-summary'):
                ui.label(f'Reason: {request.reason}')
                ui.label(f'Visit type asked for: {VisitType(request.visit_type).label}')
                ui.label(f'Preferred: {request.preferred_times or "no preference given"}')
                if request.location_id:
                    ui.label(f'Preferred location: {location_options.get(request.location_id, "not active")}')
        ui.label(zone_note(zone)).classes('text-caption text-grey-8')
        with ui.row().classes('w-full gap-2 no-wrap'):
            provider = ui.select(provider_options, label='Provider', value=start['provider_id']).classes('col')
            location = ui.select(location_options, label='Location', value=start['location_id']).classes('col')
        with ui.row().classes('w-full gap-2 no-wrap'):
            when = ui.input('Date', value=start['day'].isoformat()).props('type=date').classes('col')
            at = ui.input('Time', value=start['start'].strftime('%H:%M')).props('type=time step=300').classes('col')
        with ui.row().classes('w-full gap-2 no-wrap'):
            visit_type = ui.select(VISIT_TYPES, label='Visit type', value=start['visit_type'].value).classes('col')
            duration = ui.number('Duration (minutes)', value=start['duration_minutes'], min=5, step=5, precision=0)
            duration.classes('col')
        note = ui.input('Reason (the patient sees it; optional)', value=start['note']).props('maxlength=200')
        note.classes('w-full')
        for field in (provider, location, when, at, visit_type, duration, note):
            field.props('outlined dense')
        warnings = ui.label().classes('text-warning text-weight-medium').props('role=status').mark('overlap-warnings')
        problem = ui.label().classes('text-negative').props('role=alert').mark('appointment-problem')
        confirm = ui.checkbox('Book it anyway: I know the provider is busy then').mark('confirm-overlap')
        confirm.set_visibility(False)

        def slot() -> Slot:
            return Slot(
                provider_id=provider.value,
                location_id=location.value,
                day=_day(when.value),
                start=_time(at.value),
                duration_minutes=int(duration.value or 0),
                visit_type=visit_type.value,
                note=note.value or '',
            )

        async def show_overlaps() -> None:
            try:
                wanted = slot()
            except FormProblem:
                warnings.text = ''
                return
            if not wanted.provider_id:
                return
            exclude = appointment.id if appointment is not None else None
            clashes = await appointments.overlap_warnings(wanted, zone, exclude)
            name = provider_options.get(wanted.provider_id, 'The provider')
            warnings.text = f'Overlaps: {name} already has {"; ".join(clashes)}.' if clashes else ''
            if not clashes:
                confirm.set_visibility(False)
                confirm.value = False

        for field in (provider, when, at, duration):
            field.on_value_change(show_overlaps)

        async def save() -> None:
            problem.text = ''
            try:
                wanted = slot()
                if appointment is not None:
                    saved = await appointments.reschedule(
                        appointment.id, wanted, viewer.actor, confirm_overlap=confirm.value
                    )
                elif request is not None:
                    saved = await appointment_requests.schedule(
                        request.id, wanted, viewer.actor, confirm_overlap=confirm.value
                    )
                else:
                    saved = await appointments.book(patient.id, wanted, viewer.actor, confirm_overlap=confirm.value)
            except ProviderBusy as error:
                problem.text = f'{error} Tick the box below to book it anyway, or choose another time.'
                confirm.set_visibility(True)
                return
            except (DomainError, FormProblem) as error:
                problem.text = str(error)
                return
            dialog.submit(saved)

        with ui.row().classes('w-full justify-end'):
            ui.button('Close', on_click=lambda: dialog.submit(None)).props('flat no-caps')
            ui.button(action, on_click=save).props('no-caps').mark('appointment-save')
    await show_overlaps()
    dialog.open()
    result = await dialog
    dialog.delete()
    if isinstance(result, Appointment):
        day_text = appointments.format_day(result.starts_at, zone)
        ui.notify(
            f'{patient.full_name}: {day_text} at {appointments.format_time(result.starts_at, zone)}. '
            'The patient is emailed.',
            type='positive',
        )
        return result
    return None


async def cancel_dialog(container: ui.element, viewer: StaffViewer, appointment: Appointment, patient: Patient) -> bool:
    """Cancel a booked visit with a reason the patient reads (by email and in the portal)."""
    zone = viewer.practice.time_zone if viewer.practice else 'UTC'
    starts = appointment.starts_at
    return await ask_reason(
        container,
        title=f'Cancel {patient.full_name}’s appointment?',
        explanation=f'{appointments.format_day(starts, zone)} at {appointments.format_time(starts, zone)}',
        label='Reason (the patient reads it)',
        max_length=appointments.CANCEL_REASON_MAX,
        keep='Keep it',
        confirm='Cancel the appointment',
        action=lambda reason: appointments.cancel(appointment.id, reason, viewer.actor),
        done='Appointment cancelled. The patient is emailed.',
        marks=('cancel-reason', 'cancel-save'),
    )


async def decline_dialog(
    container: ui.element, viewer: StaffViewer, request: AppointmentRequest, patient: Patient
) -> bool:
    """Answer a request without booking it: the reply is what the patient reads, by email and in the portal."""
    return await ask_reason(
        container,
        title=f'Decline the request from {patient.full_name}',
        explanation=f'Reason: {request.reason}. The patient gets your reply by email and sees it in the portal.',
        label='Reply to the patient',
        multiline=True,
        max_length=appointment_requests.REPLY_MAX,
        keep='Close',
        confirm='Send the reply and decline',
        danger=False,
        action=lambda reply: appointment_requests.decline(request.id, reply, viewer.actor),
        done='Request declined. The patient is emailed your reply.',
        marks=('decline-reply', 'decline-save'),
        style='width: 520px; max-width: 95vw',
    )
