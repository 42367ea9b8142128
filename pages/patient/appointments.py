"""Appointments tab: upcoming visits (date, time, provider, location with a map link, *Add to calendar*),
the patient's requests with what became of each, the request form, and past visits below.

Times are the practice's clock. The tab follows the patient's appointment events, so a request the
practice schedules or declines, or a visit it moves or cancels, changes here without a reload.
Cards are light HTML blocks (`pages.patient.blocks`); only the few controls are NiceGUI elements.
"""

from dataclasses import dataclass
from html import escape

from fastapi.responses import RedirectResponse, Response
from nicegui import ui

from models.appointment import Appointment, AppointmentRequest, AppointmentStatus, RequestStatus, VisitType
from models.practice import Location, Practice
from pages.access import PatientViewer
from pages.dialog import titled_dialog
from pages.patient import blocks, icons, router
from pages.patient.page import download_viewer, login_url, patient_page
from pages.theme import add_style
from services import appointment_requests, appointments, calendar_file, events, locations
from services.appointment_requests import DAYS, MAX_PENDING, TIMES, Preferences
from services.errors import DomainError, NotFound
from services.phones import dial_string
from services.prescriptions import long_date

REQUEST_ANCHOR = 'request'  # /appointments#request: where an expired Rx sends the patient

CSS = """
.pp-badge.scheduled, .pp-badge.booked { background: #1b7f3b; }
.pp-badge.declined, .pp-badge.cancelled { background: #b3261e; }
.pp-badge.withdrawn, .pp-badge.completed, .pp-badge.no_show { background: #424242; }
.pp-reply { background: #f5f5f5; border-left: 4px solid #757575; padding: 8px; white-space: pre-wrap;
  overflow-wrap: anywhere; }
.pp-urgent { background: #fdecea; border: 1px solid #b3261e; border-radius: 4px; padding: 12px 16px;
  color: #5f1410; }
.pp-urgent a { color: #8c1d18; font-weight: 700; display: inline-block; min-height: 44px; line-height: 44px; }
.pp-card a.pp-inline { display: inline-block; min-height: 44px; line-height: 44px; }
"""
REQUEST_BADGES = {
    RequestStatus.PENDING: ('Pending', 'pending'),
    RequestStatus.SCHEDULED: ('Scheduled', 'scheduled'),
    RequestStatus.DECLINED: ('Declined', 'declined'),
    RequestStatus.WITHDRAWN: ('Withdrawn', 'withdrawn'),
}
VISIT_BADGES = {
    AppointmentStatus.BOOKED: ('Booked', 'booked'),
    AppointmentStatus.CANCELLED: ('Cancelled', 'cancelled'),
    AppointmentStatus.COMPLETED: ('Completed', 'completed'),
    AppointmentStatus.NO_SHOW: ('Missed', 'no_show'),
}
ANY_LOCATION = 0


def urgent_notice(practice: Practice) -> str:
    """Said plainly above the form: a request waits for office hours; these cannot wait."""
    call = (
        f'call us now at <a href="tel:{escape(dial_string(practice.phone))}">{escape(practice.phone)}</a>'
        if practice.phone
        else 'call the practice now'
    )
    return (
        '<div class="pp-urgent" role="note" data-testid="urgent">'
        '<strong>Sudden vision loss, flashes of light or new floaters, eye pain, or an eye injury need care now, '
        f'not a request.</strong> Please {call}, or go to an emergency room or call 911.</div>'
    )


# Registered before the page, like the other downloads of the portal.
@router.get('/appointments/{appointment_id:id}.ics', response_model=None)
async def calendar_download(appointment_id: int) -> Response:
    viewer = await download_viewer()
    if viewer is None:
        return RedirectResponse(login_url(), status_code=303)
    try:
        appointment = await appointments.patient_appointment(viewer.patient.id, appointment_id)
    except NotFound as error:  # another patient's appointment answers exactly like a missing one
        return Response(str(error), status_code=404, media_type='text/plain')
    practice = viewer.practice
    return Response(
        calendar_file.ics_for(appointment, practice),
        media_type='text/calendar',
        headers={
            'Content-Disposition': f'attachment; filename="{calendar_file.file_name(appointment, practice)}"',
            'Cache-Control': 'no-store',
        },
    )


@dataclass
class Visits:
    upcoming: list[Appointment]
    earlier: list[Appointment]
    requests: list[AppointmentRequest]
    can_request: bool


async def load(patient_id: int) -> Visits:
    upcoming, earlier = await appointments.visits_for(patient_id)
    requests, can_request = await appointment_requests.history_and_room(patient_id)
    return Visits(upcoming=upcoming, earlier=earlier, requests=requests, can_request=can_request)


@patient_page('/appointments', title='Appointments', tab='Appointments')
async def appointments_page(viewer: PatientViewer) -> None:
    patient, practice = viewer.patient, viewer.practice
    visits = await load(patient.id)
    places = await locations.list_locations(active_only=True)
    blocks.use_css()
    add_style(CSS)

    @ui.refreshable
    def current(visits: Visits) -> None:
        """The visits ahead and the requests, as one HTML element (its Withdraw buttons: one listener)."""
        parts = [blocks.heading('Upcoming appointments', 1, 'text-h5')]
        if not visits.upcoming:
            parts.append('<div class="text-body1">You have no upcoming appointments.</div>')
        parts += [_visit_card(appointment, practice, upcoming=True) for appointment in visits.upcoming]
        if visits.requests:
            parts.append(blocks.heading('Your requests', 2, 'text-h6 q-mt-md'))
            upcoming_ids = {a.id for a in visits.upcoming}
            for request in visits.requests:
                parts.append(_request_card(request, practice, upcoming_ids))
                if request.status == RequestStatus.PENDING:
                    parts.append(blocks.action_button('Withdraw this request', 'withdraw', request.id))
        blocks.on_actions(blocks.block(blocks.stack(*parts)).mark('visits'), withdraw)

    @ui.refreshable
    def request_form(can_request: bool) -> None:
        blocks.block(
            blocks.stack(
                f'<span id="{REQUEST_ANCHOR}"></span>'  # NiceGUI owns its elements' ids, not those inside HTML
                + blocks.heading('Request an appointment', 2, 'text-h6 q-mt-md'),
                urgent_notice(practice),
            )
        )
        if not can_request:
            ui.label(
                f'You have {MAX_PENDING} requests waiting for the practice, the most you can send at once. '
                'The practice will contact you about them; you can withdraw one above to send another.'
            ).classes('text-body1').props('role=status').mark('request-limit')
            return
        _form(viewer, places)

    @ui.refreshable
    def past(visits: Visits) -> None:
        parts = []
        if visits.earlier:
            parts.append(blocks.heading('Past and cancelled appointments', 2, 'text-h6 q-mt-md'))
            parts += [_visit_card(appointment, practice, upcoming=False) for appointment in visits.earlier]
        if practice.phone:
            parts.append(
                f'<div class="text-body2">Need to change or cancel an appointment? Call {escape(practice.phone)}.</div>'
            )
        if parts:
            blocks.block(blocks.stack(*parts))

    async def reload() -> None:
        nonlocal visits  # what the tab shows, for `withdraw`
        fresh = await load(patient.id)
        form_changes = fresh.can_request != visits.can_request  # redrawn only then: a half-typed request stays
        visits = fresh
        current.refresh(fresh)
        past.refresh(fresh)
        if form_changes:
            request_form.refresh(fresh.can_request)

    async def withdraw(action: str, request_id: int) -> None:
        """Only for a waiting request the tab shows: an id sent from the browser's console does nothing."""
        request = next((r for r in visits.requests if r.id == request_id), None)
        if action != 'withdraw' or request is None or request.status != RequestStatus.PENDING:
            return
        with titled_dialog('Withdraw this request?', classes='q-pa-md gap-2') as dialog:
            ui.label(request.reason).style('overflow-wrap: anywhere')
            with ui.row().classes('w-full justify-end gap-2'):
                ui.button('Keep it', on_click=lambda: dialog.submit(False)).props('flat no-caps').style(
                    'min-height: 44px'
                )
                ui.button('Withdraw', on_click=lambda: dialog.submit(True)).props('no-caps').style(
                    'min-height: 44px'
                ).mark('confirm-withdraw')
        dialog.open()
        confirmed = await dialog
        dialog.delete()
        if not confirmed:
            return
        try:
            await appointment_requests.withdraw(patient.id, request.id, viewer.actor)
        except DomainError as error:  # handled by the practice meanwhile: show what became of it
            ui.notify(str(error), type='warning')
            await reload()
        else:
            ui.notify('Request withdrawn.', type='positive')  # the change event redraws the tab

    current(visits)
    request_form(visits.can_request)
    past(visits)

    async def on_change(event: events.Event) -> None:
        if event.topic == events.APPOINTMENTS:
            await reload()

    unsubscribe = events.subscribe(patient.id, on_change)
    ui.context.client.on_delete(unsubscribe)


# The form's fields, styled by their class: a select re-renders its options on every later change of its
# props, and each `.props()` or `.classes()` call after making an element is one more update to send.
_FIELD = 'outlined'
_ARROW = f'dropdown-icon="{icons.ARROW_DROP_DOWN}"'  # Quasar's default arrow needs the 126 KiB icon font


class _Select(ui.select, default_props=f'{_FIELD} {_ARROW}', default_classes='w-full'):
    pass


class _Choices(ui.select, default_props=f'{_FIELD} {_ARROW} use-chips hint=Optional', default_classes='w-full'):
    pass


class _Text(ui.input, default_props=_FIELD, default_classes='w-full'):
    pass


class _Area(ui.textarea, default_props=f'{_FIELD} rows=3', default_classes='w-full'):
    pass


def _form(viewer: PatientViewer, places: list[Location]) -> None:
    patient = viewer.patient
    ui.label('Tell us what the visit is for and when suits you; the practice will contact you to confirm a time.')
    with ui.card().classes('w-full q-pa-md gap-3').props('flat bordered'):
        visit_type = _Select(
            {v.value: v.label for v in VisitType}, label='Type of visit', value=VisitType.EYE_EXAM.value
        )
        location = None
        if len(places) > 1:
            options = {ANY_LOCATION: 'Any location'} | {p.id: _place(p) for p in places}
            location = _Select(options, label='Preferred location', value=ANY_LOCATION)
        reason = _Area('Reason for the visit').props(f'maxlength={appointment_requests.REASON_MAX} aria-required=true')
        # Short labels with 'Optional' as a hint below: a longer label is cut off inside the field at 320 px.
        days = _Choices(list(DAYS), multiple=True, label='Preferred days')
        times = _Choices(list(TIMES), multiple=True, label='Preferred times')
        note = _Text('Other timing wishes').props(f'hint=Optional maxlength={appointment_requests.NOTE_MAX}')
        error = ui.label().classes('text-negative').props('role=alert aria-live=polite')

        async def send() -> None:
            error.text = ''
            preferences = Preferences(tuple(days.value or ()), tuple(times.value or ()), note.value or '')
            try:
                await appointment_requests.request_appointment(
                    patient.id,
                    reason.value or '',
                    preferences,
                    viewer.actor,
                    visit_type=visit_type.value,
                    location_id=_location_id(location, places),
                )
            except DomainError as problem:
                error.text = str(problem)
                return
            reason.value, days.value, times.value, note.value = '', [], [], ''
            ui.notify('Request sent. The practice will contact you to confirm a time.', type='positive')
            # the change event redraws the tab (and any other tab the patient has open)

        ui.button('Send request', icon=icons.SEND, on_click=send).props('no-caps size=lg').classes('w-full')


def _location_id(field: ui.select | None, places: list[Location]) -> int | None:
    """The patient's choice; with one location there is nothing to choose."""
    if field is not None:
        return field.value or None
    return places[0].id if places else None


def _place(location: Location | None) -> str:
    return appointments.place(location)


def _visit_card(appointment: Appointment, practice: Practice, *, upcoming: bool) -> str:
    zone = practice.time_zone
    label, kind = VISIT_BADGES.get(AppointmentStatus(appointment.status), ('', 'booked'))
    lines = [f'{appointments.format_time(appointment.starts_at, zone)} · {VisitType(appointment.visit_type).label}']
    if appointment.reason:
        lines.append(appointment.reason)
    if appointment.provider:
        lines.append(f'With {appointment.provider.display_name}')
    location = appointment.location
    if location is not None:
        lines.append(location.name)
        if location.address:
            lines.append(location.address)
    extra = ''
    if appointment.status == AppointmentStatus.CANCELLED and appointment.cancel_reason:
        extra = f'<div class="pp-reply">Cancelled: {escape(appointment.cancel_reason)}</div>'
    actions = ''
    if upcoming:
        buttons = [
            blocks.link_button('Add to calendar', f'/appointments/{appointment.id}.ics', icons.EVENT, download=True)
        ]
        if location is not None and location.address:
            buttons.append(blocks.link_button('Map', appointments.map_url(location.address), icons.PLACE, new_tab=True))
        actions = f'<div class="pp-actions">{"".join(buttons)}</div>'
    day = appointments.format_day(appointment.starts_at, zone)
    heading = 'h2' if upcoming else 'h3'  # under the page's h1, or under the h2 of the past ones
    return (
        f'<section class="pp-card" id="appointment-{appointment.id}" aria-label="Appointment {escape(day)}">'
        f'<div class="pp-head"><{heading} class="text-subtitle1 text-weight-bold">{escape(day)}</{heading}>'
        f'{"" if upcoming else blocks.badge(label, kind)}</div>'
        f'<div class="pp-meta">{"".join(f"<span>{escape(line)}</span>" for line in lines)}</div>'
        f'{extra}{actions}</section>'
    )


def _request_card(request: AppointmentRequest, practice: Practice, upcoming_ids: set[int]) -> str:
    zone = practice.time_zone
    label, kind = REQUEST_BADGES[RequestStatus(request.status)]
    sent = appointments.local_time(request.created_at, zone).date()
    lines = [VisitType(request.visit_type).label]
    if request.preferred_times:
        lines.append(f'Preferred: {request.preferred_times}')
    if request.location is not None:
        lines.append(f'Location: {request.location.name}')
    lines.append(f'Sent {long_date(sent)}')
    outcome = ''
    if request.status == RequestStatus.SCHEDULED and request.appointment is not None:
        visit = request.appointment
        when = f'{appointments.format_day(visit.starts_at, zone)} at {appointments.format_time(visit.starts_at, zone)}'
        if visit.id in upcoming_ids:
            outcome = f'<div>Scheduled for <a class="pp-inline" href="#appointment-{visit.id}">{escape(when)}</a></div>'
        else:
            state = 'cancelled' if visit.status == AppointmentStatus.CANCELLED else 'past'
            outcome = f'<div>Scheduled for {escape(when)} ({state}, see below)</div>'
    elif request.status == RequestStatus.DECLINED:
        outcome = f'<div>The practice replied:</div><div class="pp-reply">{escape(request.reply)}</div>'
    elif request.status == RequestStatus.WITHDRAWN:
        outcome = '<div>You withdrew this request.</div>'
    elif request.status == RequestStatus.PENDING:
        outcome = '<div>Waiting for the practice. They will contact you to confirm a time.</div>'
    return (
        f'<section class="pp-card" aria-label="Request: {escape(request.reason)}" data-request="{request.id}">'
        f'<div class="pp-head"><h3 class="text-subtitle1">{escape(request.reason)}</h3>'
        f'{blocks.badge(label, kind)}</div>'
        f'<div class="pp-meta">{"".join(f"<span>{escape(line)}</span>" for line in lines)}</div>'
        f'{outcome}</section>'
    )
