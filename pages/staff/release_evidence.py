"""Release evidence (admin): for a patient or an issue-date range, each signed Rx with when it was made
available, viewed, printed and downloaded, the patient's consent and any signed confirmation; CSV export.

The FTC Eyeglass and Contact Lens Rules ask a practice to keep this for at least three years; nothing in
the app deletes it.
"""

from datetime import date

from fastapi.responses import Response
from nicegui import ui

from pages.access import StaffViewer
from pages.staff import router
from pages.staff.components import local_time, us_date
from pages.staff.page import download_viewer, staff_page
from portal.ids import parse_id
from services import audit, prescriptions, rx_release

COLUMNS = [
    {'name': 'patient', 'label': 'Patient', 'field': 'patient', 'align': 'left'},
    {'name': 'rx', 'label': 'Rx', 'field': 'rx', 'align': 'left'},
    {'name': 'status', 'label': 'Status', 'field': 'status', 'align': 'left'},
    {'name': 'signed', 'label': 'Signed', 'field': 'signed', 'align': 'left'},
    {'name': 'made_available', 'label': 'Made available', 'field': 'made_available', 'align': 'left'},
    {'name': 'viewed', 'label': 'Viewed', 'field': 'viewed'},
    {'name': 'printed', 'label': 'Printed', 'field': 'printed'},
    {'name': 'downloaded', 'label': 'Downloaded', 'field': 'downloaded'},
    {'name': 'verified', 'label': 'Looked up at /verify', 'field': 'verified'},
    {'name': 'consent', 'label': 'Consent', 'field': 'consent', 'align': 'left'},
    {'name': 'confirmation', 'label': 'Signed confirmation', 'field': 'confirmation', 'align': 'left'},
]


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _patient_id(text: str) -> int | None:
    return parse_id(text)


@router.get('/release-evidence.csv', response_model=None)
async def release_evidence_csv(patient: str = '', start: str = '', end: str = '') -> Response:
    viewer = await download_viewer(role='admin')
    if viewer is None:
        return Response('Only administrators can export release evidence.', status_code=403, media_type='text/plain')
    patient_id, issued_from, issued_to = _patient_id(patient), _day(start), _day(end)
    rows = await rx_release.release_evidence(patient_id=patient_id, issued_from=issued_from, issued_to=issued_to)
    await audit.record(  # what was exported, as understood: the raw query may hold anything (PostgreSQL refuses NUL)
        'rx.evidence_exported',
        viewer.actor,
        detail={
            'patient': patient_id,
            'from': issued_from.isoformat() if issued_from else None,
            'to': issued_to.isoformat() if issued_to else None,
            'rows': len(rows),
        },
    )
    return Response(
        rx_release.evidence_csv(rows),
        media_type='text/csv; charset=utf-8',
        headers={'Content-Disposition': 'attachment; filename="rx-release-evidence.csv"', 'Cache-Control': 'no-store'},
    )


@staff_page('/release-evidence', title='Release evidence', role='admin')
async def release_evidence_page(viewer: StaffViewer, patient: str = '', start: str = '', end: str = '') -> None:
    rows = await rx_release.release_evidence(
        patient_id=_patient_id(patient), issued_from=_day(start), issued_to=_day(end)
    )
    zone = 'UTC'  # the export is in UTC too: one time base for an auditor
    ui.label('Release evidence').classes('text-h5').props('role=heading aria-level=1')
    ui.label(
        'Each signed prescription with when it was made available to the patient, viewed, printed and '
        "downloaded, the patient's consent to digital delivery and any signed confirmation of receipt. "
        'Times are UTC.'
    ).classes('text-grey-8')
    with ui.row().classes('items-end gap-4'):
        patient_input = ui.input('Patient number', value=patient).props('clearable')
        start_input = ui.input('Issued from', value=start).props('type=date')
        end_input = ui.input('Issued to', value=end).props('type=date')

        def query() -> str:
            return f'?patient={patient_input.value or ""}&start={start_input.value or ""}&end={end_input.value or ""}'

        ui.button('Show', on_click=lambda: ui.navigate.to(f'/staff/release-evidence{query()}')).props('no-caps')
        ui.button('Download CSV', icon='download').props(
            f'no-caps outline href=/staff/release-evidence.csv?patient={patient}&start={start}&end={end}'
        ).mark('evidence-csv')
    if not rows:
        ui.label('No signed prescriptions match.').classes('text-body1')
        return
    table_rows = []
    for row in rows:
        rx = row.prescription
        made = next((e.at for e in row.events if e.action == 'rx.made_available'), None)
        table_rows.append(
            {
                'id': rx.id,
                'patient': f'{rx.patient.full_name} (#{rx.patient_id})',  # type: ignore[attr-defined]
                'rx': f'{prescriptions.kind_label(rx)}, issued {us_date(rx.issue_date)}',
                'status': prescriptions.STATUS_LABELS[rx.status.value],
                'signed': (
                    f'{rx.signed_by.name if rx.signed_by else ""} {local_time(rx.signed_at, zone)}'.strip()
                    if rx.signed_at
                    else 'before signing was recorded'
                ),
                'made_available': local_time(made, zone) if made else '',
                'viewed': row.count('rx.viewed') + row.count('rx.list_viewed'),
                'printed': row.count('rx.printed') + row.count('rx.staff_printed'),
                'downloaded': row.count('rx.downloaded'),
                'verified': row.count('rx.verified'),
                'consent': (
                    f'{rx_release.METHOD_LABELS[row.consent.method]}, {local_time(row.consent.given_at, zone)}, '
                    f'{row.consent.recorded_by_label}'
                    if row.consent
                    else 'none'
                ),
                'confirmation': '; '.join(
                    f'{rx_release.CONFIRMATION_LABELS[c.kind]} ({local_time(c.recorded_at, zone)}, '
                    f'{c.recorded_by_label})'
                    for c in row.confirmations
                ),
            }
        )
    # A narrow screen scrolls the table sideways: the scrolling box takes keyboard focus (Quasar's own does not).
    ui.add_css('.keyboard-scroll .q-table__middle { overflow: visible; }')
    with (
        ui.element('div')
        .classes('w-full keyboard-scroll')
        .style('overflow-x: auto')
        .props('tabindex=0 role=region aria-label="Release evidence"')
    ):
        ui.table(columns=COLUMNS, rows=table_rows, row_key='id').classes('w-full').props('flat bordered wrap-cells')
