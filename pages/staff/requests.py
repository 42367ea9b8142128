"""The Requests inbox (`/staff/requests`): patients' appointment requests waiting for an answer, oldest
first, filterable by location; each is scheduled into an appointment or declined with a reply.

The list follows every patient's appointment events, so a request sent, withdrawn or handled at another
desk shows here without a reload.
"""

import asyncio
from datetime import UTC, datetime

from nicegui import ui

from models.appointment import AppointmentRequest, VisitType
from pages.access import StaffViewer
from pages.staff.appointment_form import appointment_dialog, decline_dialog
from pages.staff.components import local_time
from pages.staff.page import staff_page
from portal.ids import parse_id
from services import appointment_requests, events, locations

ALL = 0


def age(moment: datetime, now: datetime | None = None) -> str:
    """'just now', '3 hours', '2 days': how long the patient has been waiting."""
    seconds = max(((now or datetime.now(UTC)) - moment).total_seconds(), 0)
    for unit, size in (('day', 86400), ('hour', 3600), ('minute', 60)):
        if seconds >= size:
            count = int(seconds // size)
            return f'{count} {unit}{"s" if count != 1 else ""}'
    return 'just now'


@staff_page('/requests', title='Requests')
async def requests_page(viewer: StaffViewer, location: str = '') -> None:
    inbox = RequestsInbox(viewer, parse_id(location) or ALL)
    await inbox.show()


class RequestsInbox:
    def __init__(self, viewer: StaffViewer, location_id: int) -> None:
        self.viewer = viewer
        self.location_id = location_id
        self.requests: list[AppointmentRequest] = []
        self._drawn: list[tuple] = []  # what the list shows (`_shown()` when it was drawn)
        self._loading = asyncio.Lock()

    @property
    def time_zone(self) -> str:
        return self.viewer.practice.time_zone if self.viewer.practice else 'UTC'

    async def show(self) -> None:
        ui.label('Appointment requests').classes('text-h5').props('role=heading aria-level=1')
        if self.viewer.practice is None:
            ui.label('Set the practice up first.').classes('text-grey-8')
            return
        options = {ALL: 'All locations'} | {loc.id: loc.name for loc in await locations.list_locations()}
        if self.location_id not in options:
            self.location_id = ALL
        with ui.row().classes('items-center gap-4'):
            ui.select(options, value=self.location_id, label='Preferred location', on_change=self.filter).props(
                'outlined dense'
            ).style('min-width: 240px').mark('location-filter')
            ui.label('Oldest first. Scheduling or declining emails the patient.').classes('text-grey-8')
        self.dialogs = ui.element()
        await self.load()
        self.listing()
        unsubscribe = events.subscribe(events.ANY_PATIENT, self.on_change)
        ui.context.client.on_delete(unsubscribe)

    async def load(self) -> None:
        practice = self.viewer.practice
        self.requests = await appointment_requests.open_requests(practice.id, self.location_id or None)

    async def on_change(self, event: events.Event) -> None:
        if event.topic == events.APPOINTMENTS:
            await self.reload()

    async def reload(self) -> None:
        """Redrawn only when what it shows changed: every appointment event of the practice arrives here,
        and a redraw for another patient's booking would delete a Schedule button under a click on its way."""
        async with self._loading:
            await self.load()
            if self._shown() != self._drawn:
                self.listing.refresh()

    def _shown(self) -> list[tuple]:
        now = datetime.now(UTC)
        return [
            (r.id, r.patient.full_name, r.reason, r.visit_type, r.preferred_times, r.location_id)  # type: ignore[attr-defined]
            + (age(r.created_at, now),)
            for r in self.requests
        ]

    async def filter(self, event: object) -> None:
        self.location_id = getattr(event, 'value', ALL) or ALL
        query = f'?location={self.location_id}' if self.location_id else ''
        ui.navigate.history.replace(f'/staff/requests{query}')
        await self.reload()

    @ui.refreshable_method
    def listing(self) -> None:
        self._drawn = self._shown()
        count = len(self.requests)
        ui.label(f'{count} open request{"s" if count != 1 else ""}').classes('text-subtitle1').props(
            'role=status'
        ).mark('request-count')
        if not self.requests:
            ui.label('No requests are waiting. New ones appear here as patients send them.').classes('text-grey-8')
            return
        now = datetime.now(UTC)
        for request in self.requests:
            self.request_card(request, now)

    def request_card(self, request: AppointmentRequest, now: datetime) -> None:
        patient = request.patient
        card = ui.card().classes('w-full q-pa-md gap-1').props('flat bordered').mark(f'request-{request.id}')
        with card, ui.row().classes('w-full items-start justify-between no-wrap'):
            with ui.column().classes('gap-1').style('min-width: 0'):
                with ui.row().classes('items-baseline gap-3'):
                    ui.link(patient.full_name, f'/staff/patients/{patient.id}').classes(
                        'text-subtitle1 text-weight-medium'
                    )
                    ui.label(f'waiting {age(request.created_at, now)}').classes('text-grey-8').tooltip(
                        f'Sent {local_time(request.created_at, self.time_zone)}'
                    )
                ui.label(request.reason).style('overflow-wrap: anywhere')
                details = [
                    VisitType(request.visit_type).label,
                    f'Preferred: {request.preferred_times or "no preference"}',
                    f'Location: {request.location.name if request.location else "any"}',
                ]
                ui.label(' · '.join(details)).classes('text-grey-8')
            with ui.row().classes('gap-2 no-wrap'):
                ui.button('Schedule', icon='event', on_click=lambda r=request: self.schedule(r)).props('no-caps')
                ui.button('Decline', on_click=lambda r=request: self.decline(r)).props('outline no-caps')

    # A handled request leaves the list through its appointment event (one redraw, not two racing).

    async def schedule(self, request: AppointmentRequest) -> None:
        await appointment_dialog(self.dialogs, self.viewer, request.patient, request=request)

    async def decline(self, request: AppointmentRequest) -> None:
        await decline_dialog(self.dialogs, self.viewer, request, request.patient)
