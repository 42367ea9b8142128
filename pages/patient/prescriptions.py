"""Prescriptions tab: every prescription of the signed-in patient, latest first, expired ones marked."""

from datetime import date
from html import escape

from fastapi.responses import RedirectResponse
from nicegui import ui

from models.prescription import Prescription
from pages.access import PatientViewer, current_patient
from pages.patient import blocks, icons, router
from pages.patient.page import patient_page
from services import prescriptions
from services.appointments import today_in
from services.prescriptions import long_date


@router.page('/')
async def home_page() -> RedirectResponse:
    """Prescriptions are what most patients come for: the portal opens on them."""
    if await current_patient() is None:
        return RedirectResponse('/login', status_code=303)
    return RedirectResponse('/prescriptions', status_code=303)


@patient_page('/prescriptions', title='Prescriptions', tab='Prescriptions')
async def prescriptions_page(viewer: PatientViewer) -> None:
    patient = viewer.patient
    items = await prescriptions.prescriptions_for(patient.id)
    await prescriptions.record_list_view(patient.id, items, viewer.actor)
    today = today_in(patient.practice.time_zone)
    ui.label('Your prescriptions').classes('text-h5').props('role=heading aria-level=1')
    if not items:
        ui.label(
            'No prescriptions yet. After your eye exam, your glasses or contact lens prescription will appear here.'
        ).classes('text-body1')
    blocks.use_css()
    for rx in items:
        _card(rx, today)


def _card(rx: Prescription, today: date) -> None:
    expired = prescriptions.is_expired(rx, today)
    kind = prescriptions.kind_label(rx)
    note = '<p class="q-ma-none text-body2">This prescription has expired: book an exam for a new one.</p>'
    blocks.block(
        f'<section class="pp-card" aria-label="{escape(kind)} prescription issued {long_date(rx.issue_date)}">'
        f'<div class="pp-head"><h2 class="text-h6">{escape(kind)} prescription</h2>'
        f'{blocks.badge("Expired", "expired") if expired else blocks.badge("Current", "current")}</div>'
        '<div class="pp-meta">'
        f'<span>Issued {long_date(rx.issue_date)}</span>'
        f'<span>{"Expired" if expired else "Expires"} {long_date(rx.expiry_date)}</span>'
        f'<span>Prescriber: {escape(rx.provider.display_name)}</span></div>'
        f'{blocks.rx_table(prescriptions.eye_rows(rx), contact_lens=rx.kind == "contact_lens")}'
        f'{note if expired else ""}'
        '<div class="pp-actions">'
        f'{blocks.link_button("View / print", f"/rx/{rx.id}", icons.PRINT)}'
        f'{blocks.link_button("Download PDF", f"/rx/{rx.id}.pdf", icons.DOWNLOAD, download=True)}'
        '</div></section>'
    )
