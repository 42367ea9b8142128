"""Prescriptions tab: every prescription of the signed-in patient, latest first, expired ones marked."""

from datetime import date

from fastapi.responses import RedirectResponse
from nicegui import ui

from models.prescription import Prescription
from pages.patient import router
from pages.patient.frame import frame
from pages.patient.rx_table import rx_table
from portal.guards import current_patient, patient_actor
from services import patient_portal, prescriptions
from services.appointments import today_in
from services.prescriptions import long_date

BUTTON = 'outline no-caps'


@router.page('/')
async def home_page() -> RedirectResponse:
    """Prescriptions are what most patients come for: the portal opens on them."""
    if await current_patient() is None:
        return RedirectResponse('/login', status_code=303)
    return RedirectResponse('/prescriptions', status_code=303)


@router.page('/prescriptions')
async def prescriptions_page() -> RedirectResponse | None:
    account = await current_patient()
    if account is None:
        return RedirectResponse('/login', status_code=303)
    patient = await patient_portal.signed_in_patient(account)
    items = await prescriptions.prescriptions_for(patient.id)
    await prescriptions.record_list_view(patient.id, items, patient_actor(account))
    today = today_in(patient.practice.time_zone)
    with frame('Prescriptions', active='Prescriptions', patient=patient):
        ui.label('Your prescriptions').classes('text-h5').props('role=heading aria-level=1')
        if not items:
            ui.label(
                'No prescriptions yet. After your eye exam, your glasses or contact lens prescription will appear here.'
            ).classes('text-body1')
        for rx in items:
            _card(rx, today)
    return None


def _card(rx: Prescription, today: date) -> None:
    expired = prescriptions.is_expired(rx, today)
    with ui.card().classes('w-full q-pa-md gap-2').props('flat bordered'):
        with ui.row().classes('w-full items-center justify-between no-wrap'):
            ui.label(f'{prescriptions.kind_label(rx)} prescription').classes('text-h6').props(
                'role=heading aria-level=2'
            )
            ui.badge('Expired' if expired else 'Current', color='grey-8' if expired else 'positive').classes(
                'text-body2 q-px-sm'
            )
        with ui.column().classes('gap-0 text-body2 text-grey-9'):
            ui.label(f'Issued {long_date(rx.issue_date)}')
            ui.label(f'{"Expired" if expired else "Expires"} {long_date(rx.expiry_date)}')
            ui.label(f'Prescriber: {rx.provider.display_name}')
        rx_table(prescriptions.eye_rows(rx), contact_lens=rx.kind == 'contact_lens')
        if expired:
            ui.label('This prescription has expired: book an exam for a new one.').classes('text-body2')
        # Real links (QBtn with href): they work before the websocket connects and open in a new tab on long press.
        with ui.row().classes('w-full gap-2'):
            ui.button('View / print', icon='print').props(f'{BUTTON} href=/rx/{rx.id}').classes('col-grow').style(
                'min-height: 44px'
            )
            ui.button('Download PDF', icon='download').props(f'{BUTTON} href=/rx/{rx.id}.pdf').classes(
                'col-grow'
            ).style('min-height: 44px')
