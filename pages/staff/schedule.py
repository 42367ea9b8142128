"""The Schedule (`/staff/schedule`): a day or a week at one location, one column per provider, each
visit with its patient, visit type and status; book, reschedule and cancel from here.

Days are the practice's days (its midnights, so a week across a DST change is 167 or 169 hours) and
every time is on the practice's clock. The grid follows every patient's appointment events, so a visit
booked at another desk appears without a reload.
"""

import asyncio
from datetime import date, timedelta
from urllib.parse import urlencode

from nicegui import ui

from models.appointment import Appointment, AppointmentStatus, VisitType
from pages.access import StaffViewer
from pages.dialog import titled_dialog
from pages.staff.appointment_form import appointment_dialog, cancel_dialog, status_badge, zone_note
from pages.staff.page import staff_page
from portal.ids import parse_id
from services import appointments, events, locations
from services.appointments import Grid, today_in
from services.errors import DomainError, NotFound
from services.patients import get_patient, search_patients

VIEWS = {'day': 1, 'week': 7}


def _day(value: str, default: date) -> date:
    try:
        return date.fromisoformat(value) if value else default
    except ValueError:
        return default


@staff_page('/schedule', title='Schedule')
async def schedule_page(viewer: StaffViewer, location: str = '', day: str = '', view: str = 'day') -> None:
    ui.label('Schedule').classes('text-h5').props('role=heading aria-level=1')
    if viewer.practice is None:
        ui.label('Set the practice up first.').classes('text-grey-8')
        return
    places = await locations.list_locations()
    if not places:
        ui.label('Add a location under Practice settings first.').classes('text-grey-8')
        return
    zone = viewer.practice.time_zone
    chosen = parse_id(location)
    location_id = chosen if chosen in {p.id for p in places} else places[0].id
    schedule = Schedule(viewer, {p.id: p.name for p in places}, location_id, _day(day, today_in(zone)), view)
    await schedule.show()


class Schedule:
    def __init__(self, viewer: StaffViewer, places: dict[int, str], location_id: int, day: date, view: str) -> None:
        self.viewer = viewer
        self.practice = viewer.practice
        self.places = places
        self.location_id = location_id
        self.view = view if view in VIEWS else 'day'
        self.day = day - timedelta(days=day.weekday()) if self.view == 'week' else day
        self.grid: Grid | None = None
        self._loading = asyncio.Lock()

    @property
    def zone(self) -> str:
        return self.practice.time_zone

    async def show(self) -> None:
        with ui.row().classes('w-full items-center gap-2'):
            ui.select(self.places, value=self.location_id, label='Location', on_change=self.set_location).props(
                'outlined dense'
            ).style('min-width: 200px').mark('schedule-location')
            ui.toggle({'day': 'Day', 'week': 'Week'}, value=self.view, on_change=self.set_view).props('no-caps').mark(
                'schedule-view'
            )
            ui.button(icon='chevron_left', on_click=lambda: self.move(-1)).props(
                'flat round aria-label="Earlier"'
            ).mark('schedule-earlier')
            self.day_input = ui.input('Date', value=self.day.isoformat(), on_change=self.set_day)
            self.day_input.props('type=date outlined dense').mark('schedule-day')
            ui.button(icon='chevron_right', on_click=lambda: self.move(1)).props('flat round aria-label="Later"').mark(
                'schedule-later'
            )
            ui.button('Today', on_click=self.today).props('flat no-caps')
            ui.space()
            ui.button('New appointment', icon='add', on_click=self.new_appointment).props('no-caps')
        ui.label(zone_note(self.zone)).classes('text-caption text-grey-8')
        self.dialogs = ui.element()
        await self.load()
        self.board()
        unsubscribe = events.subscribe(events.ANY_PATIENT, self.on_change)
        ui.context.client.on_delete(unsubscribe)

    async def load(self) -> None:
        self.grid = await appointments.schedule_grid(self.practice, self.location_id, self.day, VIEWS[self.view])

    async def reload(self) -> None:
        async with self._loading:
            await self.load()
            self.board.refresh()
        query = {'location': self.location_id, 'day': self.day.isoformat(), 'view': self.view}
        ui.navigate.history.replace(f'/staff/schedule?{urlencode(query)}')

    async def on_change(self, event: events.Event) -> None:
        if event.topic == events.APPOINTMENTS:
            async with self._loading:
                await self.load()
                self.board.refresh()

    # -- navigation ---------------------------------------------------------------------------

    async def set_location(self, event: object) -> None:
        self.location_id = getattr(event, 'value', self.location_id)
        await self.reload()

    async def set_view(self, event: object) -> None:
        self.view = getattr(event, 'value', 'day') or 'day'
        if self.view == 'week':
            self.day -= timedelta(days=self.day.weekday())
        await self._show_day()

    async def set_day(self, event: object) -> None:
        picked = _day(getattr(event, 'value', '') or '', self.day)
        if self.view == 'week':
            picked -= timedelta(days=picked.weekday())
        if picked != self.day:
            self.day = picked
            await self._show_day()

    async def move(self, steps: int) -> None:
        self.day += timedelta(days=steps * VIEWS[self.view])
        await self._show_day()

    async def today(self) -> None:
        today = today_in(self.zone)
        self.day = today - timedelta(days=today.weekday()) if self.view == 'week' else today
        await self._show_day()

    async def _show_day(self) -> None:
        if self.day_input.value != self.day.isoformat():
            self.day_input.value = self.day.isoformat()  # its change handler finds the day unchanged
        await self.reload()

    # -- the grid -----------------------------------------------------------------------------

    @ui.refreshable_method
    def board(self) -> None:
        grid = self.grid
        if grid is None:
            return
        first, last = grid.days[0], grid.days[-1]
        span = f'{first:%A, %B} {first.day}, {first.year}'
        if last != first:
            span = f'Week of {first:%B} {first.day}, {first.year} to {last:%B} {last.day}'
        ui.label(f'{grid.location.name}: {span}').classes('text-subtitle1 text-weight-medium').props(
            'role=heading aria-level=2'
        ).mark('schedule-heading')
        if not grid.providers:
            ui.label('No providers yet: add them under Practice settings.').classes('text-grey-8')
            return
        columns = f'max-content repeat({len(grid.providers)}, minmax(180px, 1fr))'
        scroller = ui.element('div').classes('w-full').style('overflow-x: auto')
        scroller.props('tabindex=0 role=region aria-label="Schedule grid"')  # scrollable by keyboard too
        with (
            scroller,
            ui.grid().classes('w-full gap-1').style(f'grid-template-columns: {columns}').mark('schedule-grid'),
        ):
            ui.label('')
            for provider in grid.providers:
                ui.label(provider.display_name).classes('text-weight-medium q-pa-xs bg-grey-2')
            for day in grid.days:
                ui.label(f'{day:%a %b} {day.day}').classes('text-weight-medium q-pa-xs').style('white-space: nowrap')
                for provider in grid.providers:
                    with ui.column().classes('gap-1 q-pa-xs bg-grey-1 rounded-borders').style('min-height: 48px'):
                        visits = grid.cell(provider.id, day)
                        for visit in visits:
                            self.visit_card(visit)

    def visit_card(self, visit: Appointment) -> None:
        zone = self.zone
        cancelled = visit.status == AppointmentStatus.CANCELLED
        card = ui.card().classes('w-full q-pa-xs gap-0').props('flat bordered').mark(f'appointment-{visit.id}')
        with card:
            with ui.row().classes('w-full items-center justify-between no-wrap gap-1'):
                times = f'{appointments.format_clock(visit.starts_at, zone)}–'
                times += appointments.format_clock(appointments.ends_at(visit), zone)
                ui.label(times).classes('text-weight-medium' + (' text-strike text-grey-8' if cancelled else ''))
                status_badge(visit.status)
            ui.link(visit.patient.full_name, f'/staff/patients/{visit.patient_id}').classes('text-body2')
            ui.label(VisitType(visit.visit_type).label).classes('text-caption text-grey-8')
            if cancelled and visit.cancel_reason:
                ui.label(f'Reason: {visit.cancel_reason}').classes('text-caption text-grey-8')
            if visit.status == AppointmentStatus.BOOKED:
                with ui.row().classes('gap-1'):
                    ui.button('Reschedule', on_click=lambda v=visit: self.reschedule(v.id)).props(
                        'flat dense no-caps size=sm'
                    )
                    ui.button('Cancel', on_click=lambda v=visit: self.cancel(v.id)).props(
                        'flat dense no-caps size=sm color=negative'
                    )

    # -- actions ------------------------------------------------------------------------------

    async def reschedule(self, appointment_id: int) -> None:
        try:
            visit = await appointments.get_appointment(appointment_id)
        except NotFound as error:
            ui.notify(str(error), type='negative')
            return
        await appointment_dialog(self.dialogs, self.viewer, visit.patient, appointment=visit)

    async def cancel(self, appointment_id: int) -> None:
        try:
            visit = await appointments.get_appointment(appointment_id)
        except NotFound as error:
            ui.notify(str(error), type='negative')
            return
        await cancel_dialog(self.dialogs, self.viewer, visit, visit.patient)

    async def new_appointment(self) -> None:
        """Find the patient first, then the appointment form for them on this day and location."""
        title = 'New appointment: find the patient'
        with (
            self.dialogs,
            titled_dialog(title, style='width: 520px; max-width: 95vw', classes='q-pa-md gap-2') as dialog,
        ):
            query = ui.input('Name, date of birth, email or phone').props('outlined dense autofocus clearable')
            query.classes('w-full').mark('patient-query')

            @ui.refreshable
            async def matches(text: str) -> None:
                if len(text.strip()) < 2:
                    ui.label('Type at least two characters.').classes('text-grey-8')
                    return
                rows = await search_patients(text, limit=10)
                if not rows:
                    ui.label('No patient matches.').classes('text-grey-8')
                for row in rows:
                    born = f'{row.date_of_birth:%m/%d/%Y}'
                    ui.button(f'{row.name} · born {born}', on_click=lambda r=row: dialog.submit(r.id)).props(
                        'flat no-caps align=left'
                    ).classes('w-full')

            async def search(event: object) -> None:
                await matches.refresh(getattr(event, 'value', '') or '')

            await matches('')
            query.on_value_change(search)
            with ui.row().classes('w-full justify-end'):
                ui.button('Close', on_click=lambda: dialog.submit(None)).props('flat no-caps')
        dialog.open()
        patient_id = await dialog
        dialog.delete()
        if patient_id is None:
            return
        try:
            patient = await get_patient(patient_id)
        except DomainError as error:
            ui.notify(str(error), type='negative')
            return
        await appointment_dialog(
            self.dialogs, self.viewer, patient, day=max(self.day, today_in(self.zone)), location_id=self.location_id
        )
