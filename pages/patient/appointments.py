"""Appointments tab: upcoming visits in the practice's time zone, and asking for a new one."""

from nicegui import ui

from models.appointment import Appointment, AppointmentRequest
from models.practice import Practice
from pages.access import PatientViewer
from pages.patient.page import patient_page
from services import appointment_requests, appointments
from services.appointment_requests import DAYS, TIMES, Preferences
from services.errors import DomainError
from services.prescriptions import long_date


@patient_page('/appointments', title='Appointments', tab='Appointments')
async def appointments_page(viewer: PatientViewer) -> None:
    patient = viewer.patient
    practice = patient.practice
    upcoming = await appointments.upcoming_for(patient.id)
    pending = await appointment_requests.pending_for(patient.id)

    ui.label('Upcoming appointments').classes('text-h5').props('role=heading aria-level=1')
    if not upcoming:
        ui.label('You have no upcoming appointments.').classes('text-body1')
    for appointment in upcoming:
        _appointment_card(appointment, practice)

    @ui.refreshable
    def pending_list(requests: list[AppointmentRequest]) -> None:
        if not requests:
            return
        ui.label('Waiting for the practice').classes('text-h6 q-mt-md').props('role=heading aria-level=2')
        for request in requests:
            _request_card(request, practice)

    pending_list(pending)

    ui.label('Request an appointment').classes('text-h6 q-mt-md').props('role=heading aria-level=2')
    ui.label('Tell us why and when suits you; the practice will contact you to confirm a time.').classes('text-body2')
    with ui.card().classes('w-full q-pa-md gap-3').props('flat bordered'):
        reason = (
            ui.textarea('Reason for the visit')
            .props(f'outlined rows=3 maxlength={appointment_requests.REASON_MAX} aria-required=true')
            .classes('w-full')
        )
        days = ui.select(list(DAYS), multiple=True, label='Preferred days (optional)').props('outlined use-chips')
        times = ui.select(list(TIMES), multiple=True, label='Preferred times (optional)').props('outlined use-chips')
        for field in (days, times):
            field.classes('w-full')
        note = (
            ui.input('Anything else about timing (optional)')
            .props(f'outlined maxlength={appointment_requests.NOTE_MAX}')
            .classes('w-full')
        )
        error = ui.label().classes('text-negative').props('role=alert aria-live=polite')

        async def send() -> None:
            error.text = ''
            preferences = Preferences(tuple(days.value or ()), tuple(times.value or ()), note.value or '')
            try:
                await appointment_requests.request_appointment(
                    patient.id, reason.value or '', preferences, viewer.actor
                )
            except DomainError as problem:
                error.text = str(problem)
                return
            reason.value, days.value, times.value, note.value = '', [], [], ''
            pending_list.refresh(await appointment_requests.pending_for(patient.id))
            ui.notify('Request sent. The practice will contact you to confirm a time.', type='positive')

        ui.button('Send request', icon='send', on_click=send).props('no-caps size=lg').classes('w-full')
    if practice.phone:
        ui.label(f'Need to change or cancel an appointment? Call {practice.phone}.').classes('text-body2')


def _appointment_card(appointment: Appointment, practice: Practice) -> None:
    zone = practice.time_zone
    with ui.card().classes('w-full q-pa-md gap-1').props('flat bordered'):
        ui.label(appointments.format_day(appointment.starts_at, zone)).classes('text-subtitle1 text-weight-bold')
        ui.label(appointments.format_time(appointment.starts_at, zone)).classes('text-body1')
        if appointment.reason:
            ui.label(appointment.reason).classes('text-body2')
        if appointment.provider:
            ui.label(f'With {appointment.provider.display_name}').classes('text-body2')
        if appointment.location:
            place = ', '.join(p for p in (appointment.location.name, appointment.location.address) if p)
            ui.label(place).classes('text-body2 text-grey-9')


def _request_card(request: AppointmentRequest, practice: Practice) -> None:
    with ui.card().classes('w-full q-pa-md gap-1').props('flat bordered'):
        with ui.row().classes('w-full items-center justify-between no-wrap'):
            ui.label(request.reason).classes('text-subtitle1').style('min-width: 0; overflow-wrap: anywhere')
            ui.badge('Pending', color='orange-9').classes('text-body2 q-px-sm')
        if request.preferred_times:
            ui.label(f'Preferred: {request.preferred_times}').classes('text-body2')
        sent = appointments.local_time(request.created_at, practice.time_zone).date()
        ui.label(f'Sent {long_date(sent)}').classes('text-body2 text-grey-9')
