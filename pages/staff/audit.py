"""Audit (`/staff/audit`, admin): read the append-only trail; filter by patient, actor, action and dates; CSV.

The Patient Profile links here filtered to its patient ("Who opened this chart"). Times are shown on the
practice's clock; the export is in UTC, one time base for an auditor.
"""

from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi.responses import Response
from nicegui import ui

from models.audit import AuditEvent
from models.staff import StaffUser
from pages.access import StaffViewer
from pages.staff import router
from pages.staff.components import local_time
from pages.staff.page import download_viewer, staff_page
from portal.ids import parse_id
from services import audit, team
from services.errors import NotFound
from services.patients import get_patient

ANY = ''
COLUMNS = [
    {'name': 'at', 'label': 'Time', 'field': 'at', 'align': 'left'},
    {'name': 'action', 'label': 'Action', 'field': 'action', 'align': 'left'},
    {'name': 'actor', 'label': 'Who', 'field': 'actor', 'align': 'left'},
    {'name': 'patient', 'label': 'Patient', 'field': 'patient', 'align': 'left'},
    {'name': 'object', 'label': 'Record', 'field': 'object', 'align': 'left'},
    {'name': 'client', 'label': 'From', 'field': 'client', 'align': 'left'},
]


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _where(patient: str, actor: str, action: str, start: str, end: str, zone: str) -> audit.TrailFilter:
    """The query string, understood: anything malformed is left out rather than refused."""
    tz = ZoneInfo(zone)
    since, until = _day(start), _day(end)
    return audit.TrailFilter(
        patient_id=parse_id(patient),
        actor=actor[:40],
        action=action[:50],
        since=datetime.combine(since, time.min, tz).astimezone(UTC) if since else None,
        until=datetime.combine(until + timedelta(days=1), time.min, tz).astimezone(UTC) if until else None,
    )


def _actor(event: AuditEvent) -> str:
    if event.actor_type == 'staff':
        return f'{event.actor_label} (staff #{event.actor_id})'
    if event.actor_type == 'patient':
        return f'patient (portal account #{event.actor_id})'
    return event.actor_label or event.actor_type


@router.get('/audit.csv', response_model=None)
async def audit_csv(patient: str = '', actor: str = '', action: str = '', start: str = '', end: str = '') -> Response:
    viewer = await download_viewer(role='admin')
    if viewer is None:
        return Response('Only administrators can export the audit trail.', status_code=403, media_type='text/plain')
    zone = viewer.practice.time_zone if viewer.practice else 'UTC'
    where = _where(patient, actor, action, start, end, zone)
    events = await audit.trail(where)
    await audit.record(  # reading the trail is itself on the trail
        'audit.exported',
        viewer.actor,
        patient_id=where.patient_id,
        detail={
            'actor': where.actor,
            'action': where.action,
            'from': _day(start) and start,
            'to': _day(end) and end,
            'rows': len(events),
        },
    )
    return Response(
        audit.trail_csv(events),
        media_type='text/csv; charset=utf-8',
        headers={'Content-Disposition': 'attachment; filename="audit-trail.csv"'},
    )


@staff_page('/audit', title='Audit', role='admin')
async def audit_page(
    viewer: StaffViewer, patient: str = '', actor: str = '', action: str = '', start: str = '', end: str = ''
) -> None:
    zone = viewer.practice.time_zone if viewer.practice else 'UTC'
    where = _where(patient, actor, action, start, end, zone)
    events = await audit.trail(where)
    staff: list[StaffUser] = await team.list_team()
    actions = await audit.known_actions()

    ui.label('Audit').classes('text-h5').props('role=heading aria-level=1')
    ui.label(
        'Every sign-in, portal change, view, print and download of a prescription or invoice, and every staff '
        f'change, newest first (at most {audit.MAX_ROWS} rows: narrow the filters to reach older ones). '
        'The database refuses to change or delete these rows.'
    ).classes('text-grey-8')
    actor_options = {ANY: 'Anyone'} | {f'staff:{s.id}': s.name for s in staff}
    actor_options |= {'patient': 'Patients (portal)', 'system': 'System', 'api': 'API clients'}
    action_options = {ANY: 'Any action'} | {a: a for a in actions}
    with ui.row().classes('items-end gap-4'):
        patient_input = ui.input('Patient number', value=str(where.patient_id or '')).props('clearable')
        actor_input = ui.select(actor_options, value=actor if actor in actor_options else ANY, label='Who')
        action_input = ui.select(action_options, value=action if action in action_options else ANY, label='Action')
        start_input = ui.input('From', value=start if _day(start) else '').props('type=date')
        end_input = ui.input('To', value=end if _day(end) else '').props('type=date')

        def query() -> str:
            values = {
                'patient': patient_input.value or '',
                'actor': actor_input.value or '',
                'action': action_input.value or '',
                'start': start_input.value or '',
                'end': end_input.value or '',
            }
            return urlencode({k: v for k, v in values.items() if v})

        ui.button('Show', on_click=lambda: ui.navigate.to(f'/staff/audit?{query()}')).props('no-caps')
        current = urlencode(
            {k: v for k, v in dict(patient=patient, actor=actor, action=action, start=start, end=end).items() if v}
        )
        ui.button('Download CSV', icon='download').props(f'no-caps outline href="/staff/audit.csv?{current}"').mark(
            'audit-csv'
        )
    if where.patient_id is not None:
        try:
            name = (await get_patient(where.patient_id)).full_name
        except NotFound:
            name = 'no longer on file'
        ui.label(f'Showing patient #{where.patient_id} ({name}) only.').mark('audit-patient')
    if not events:
        ui.label('No audit rows match.').classes('text-body1')
        return
    rows = [
        {
            'id': e.id,
            'at': local_time(e.at, zone),
            'action': e.action,
            'actor': _actor(e),
            'patient': '' if e.patient_id is None else f'#{e.patient_id}',
            'object': f'{e.object_type} #{e.object_id}' if e.object_type and e.object_id else e.object_type,
            'client': e.client_address,
        }
        for e in events
    ]
    # A narrow screen scrolls the table sideways: the scrolling box takes keyboard focus (Quasar's own does not).
    ui.add_css('.keyboard-scroll .q-table__middle { overflow: visible; }')
    with (
        ui.element('div')
        .classes('w-full keyboard-scroll')
        .style('overflow-x: auto')
        .props('tabindex=0 role=region aria-label="Audit trail"')
    ):
        ui.table(columns=COLUMNS, rows=rows, row_key='id', pagination=50).classes('w-full').props(
            'flat bordered wrap-cells'
        ).mark('audit-table')
