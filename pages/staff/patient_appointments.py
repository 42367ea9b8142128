"""The Appointments section of the Patient Profile: open requests (schedule or decline), upcoming visits
(reschedule or cancel), and past and cancelled ones (a past visit still booked is marked completed or
no-show); book a new visit. The dialogs are the same as the
Requests inbox and the Schedule use (`pages.staff.appointment_form`)."""

import asyncio
from datetime import UTC, datetime

from nicegui import ui

from models.appointment import Appointment, AppointmentRequest, AppointmentStatus, RequestStatus, VisitType
from models.patient import Patient
from pages.access import StaffViewer
from pages.staff.appointment_form import appointment_dialog, cancel_dialog, decline_dialog, status_badge
from services import appointment_requests, appointments, events
from services.errors import DomainError, NotFound


class AppointmentsSection:
    """Refreshed on the patient's appointment events (a request sent from the portal, a visit booked at
    another desk), through the profile's one subscription."""

    def __init__(self, patient: Patient, viewer: StaffViewer) -> None:
        self.patient = patient
        self.viewer = viewer
        self.visits: list[Appointment] = []
        self.requests: list[AppointmentRequest] = []
        self._loading = asyncio.Lock()

    @property
    def zone(self) -> str:
        return self.patient.practice.time_zone

    async def show(self) -> None:
        await self.load()
        self.dialogs = ui.element()
        self.panel()

    async def load(self) -> None:
        self.visits = await appointments.booked_for_patient(self.patient.id)
        self.requests = [
            r for r in await appointment_requests.history_for(self.patient.id) if r.status == RequestStatus.PENDING
        ]

    async def on_change(self, event: events.Event) -> None:
        if event.topic == events.APPOINTMENTS:
            await self.reload()

    async def reload(self) -> None:
        """Redrawn only when what it shows changed: a second event about the same change would otherwise delete
        the buttons of the first redraw under a click that is on its way."""
        async with self._loading:
            shown = self._shown()
            await self.load()
            if self._shown() != shown:
                self.panel.refresh()

    def _shown(self) -> list[tuple]:
        visits = [
            (v.id, v.status, v.starts_at, v.duration_minutes, v.visit_type, v.reason, v.cancel_reason)
            + (v.provider_id, v.location_id)  # type: ignore[attr-defined]
            for v in self.visits
        ]
        requests = [
            (r.id, r.status, r.reason, r.preferred_times, r.visit_type, r.location_id)  # type: ignore[attr-defined]
            for r in self.requests
        ]
        return visits + requests

    def when(self, moment: datetime) -> str:
        return f'{appointments.format_day(moment, self.zone)}, {appointments.format_time(moment, self.zone)}'

    @ui.refreshable_method
    def panel(self) -> None:
        now = datetime.now(UTC)
        upcoming = [v for v in self.visits if v.status == AppointmentStatus.BOOKED and v.starts_at >= now]
        upcoming.reverse()  # soonest first
        earlier = [v for v in self.visits if v not in upcoming]
        with ui.card().classes('w-full q-pa-md').props('flat bordered').mark('appointments-section'):
            with ui.row().classes('w-full items-center justify-between'):
                ui.label('Appointments').classes('text-h6').props('role=heading aria-level=2')
                ui.button('New appointment', icon='add', on_click=self.book).props('outline no-caps')
            if self.requests:
                ui.label('Open requests').classes('text-subtitle2').props('role=heading aria-level=3')
                for request in self.requests:
                    self.request_row(request)
            ui.label('Upcoming').classes('text-subtitle2').props('role=heading aria-level=3')
            if not upcoming:
                ui.label('No upcoming appointments.').classes('text-grey-8')
            for visit in upcoming:
                self.visit_row(visit, actions=True)
            if earlier:
                ui.label('Past and cancelled').classes('text-subtitle2').props('role=heading aria-level=3')
                for visit in earlier:
                    self.visit_row(visit, actions=False)

    def request_row(self, request: AppointmentRequest) -> None:
        with ui.row().classes('w-full items-center justify-between no-wrap').mark(f'profile-request-{request.id}'):
            with ui.column().classes('gap-0').style('min-width: 0'):
                ui.label(request.reason).style('overflow-wrap: anywhere')
                ui.label(
                    f'{VisitType(request.visit_type).label} · Preferred: {request.preferred_times or "no preference"}'
                    + (f' · {request.location.name}' if request.location else '')
                ).classes('text-caption text-grey-8')
            with ui.row().classes('gap-2 no-wrap'):
                ui.button('Schedule', on_click=lambda r=request: self.schedule(r)).props('no-caps dense')
                ui.button('Decline', on_click=lambda r=request: self.decline(r)).props('outline no-caps dense')

    def visit_row(self, visit: Appointment, *, actions: bool) -> None:
        with ui.row().classes('w-full items-center justify-between no-wrap').mark(f'profile-appointment-{visit.id}'):
            with ui.column().classes('gap-0').style('min-width: 0'):
                with ui.row().classes('items-center gap-2'):
                    ui.label(self.when(visit.starts_at)).classes('text-weight-medium')
                    status_badge(visit.status)
                details = [VisitType(visit.visit_type).label, f'{visit.duration_minutes} min']
                if visit.provider:
                    details.append(visit.provider.display_name)
                if visit.location:
                    details.append(visit.location.name)
                ui.label(' · '.join(details)).classes('text-caption text-grey-8')
                if visit.status == AppointmentStatus.CANCELLED and visit.cancel_reason:
                    ui.label(f'Cancelled: {visit.cancel_reason}').classes('text-caption text-grey-8')
            if not actions and visit.status == AppointmentStatus.BOOKED:  # the time has passed: how did it go?
                with ui.row().classes('gap-2 no-wrap'):
                    ui.button(
                        'Completed', on_click=lambda v=visit: self.outcome(v.id, AppointmentStatus.COMPLETED)
                    ).props('no-caps dense flat').mark(f'completed-{visit.id}')
                    ui.button('No-show', on_click=lambda v=visit: self.outcome(v.id, AppointmentStatus.NO_SHOW)).props(
                        'no-caps dense flat'
                    ).mark(f'no-show-{visit.id}')
            if actions:
                with ui.row().classes('gap-2 no-wrap'):
                    ui.button('Reschedule', on_click=lambda v=visit: self.reschedule(v.id)).props('no-caps dense flat')
                    ui.button('Cancel', on_click=lambda v=visit: self.cancel(v.id)).props(
                        'no-caps dense flat color=negative'
                    )

    # -- actions ------------------------------------------------------------------------------
    # A change redraws the section through its appointment event (one redraw: a second one racing it
    # would delete the buttons under the next click); a refusal redraws it here, as nothing changed.

    async def book(self) -> None:
        await appointment_dialog(self.dialogs, self.viewer, self.patient)

    async def schedule(self, request: AppointmentRequest) -> None:
        await appointment_dialog(self.dialogs, self.viewer, self.patient, request=request)

    async def decline(self, request: AppointmentRequest) -> None:
        await decline_dialog(self.dialogs, self.viewer, request, self.patient)

    async def outcome(self, appointment_id: int, status: AppointmentStatus) -> None:
        try:
            await appointments.set_outcome(appointment_id, status, self.viewer.actor)
        except DomainError as error:
            ui.notify(str(error), type='warning')
            await self.reload()

    async def _visit(self, appointment_id: int) -> Appointment | None:
        try:
            return await appointments.get_appointment(appointment_id)
        except NotFound as error:
            ui.notify(str(error), type='negative')
            return None

    async def reschedule(self, appointment_id: int) -> None:
        visit = await self._visit(appointment_id)
        if visit:
            await appointment_dialog(self.dialogs, self.viewer, self.patient, appointment=visit)

    async def cancel(self, appointment_id: int) -> None:
        visit = await self._visit(appointment_id)
        if visit:
            await cancel_dialog(self.dialogs, self.viewer, visit, self.patient)
