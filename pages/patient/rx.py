"""One prescription to view and print (`/rx/{id}`) or download as a PDF (`/rx/{id}.pdf`).

Each view, print and download is audited: that log is the practice's evidence that the Rx was released.
Another patient's prescription answers exactly like a missing one (404, same words).
"""

import asyncio
from html import escape

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from nicegui import context, ui

from pages.access import PatientViewer
from pages.entry.not_found import not_found_page
from pages.patient import blocks, icons, router
from pages.patient.page import download_viewer, login_url, patient_page
from pages.theme import add_style
from services import prescriptions, rx_pdf, rx_verification
from services.appointments import today_in
from services.errors import NotFound
from services.prescriptions import RxDocument

VERIFY_CSS = """
.rx-verify { display: flex; gap: 12px; align-items: center; flex-wrap: wrap; }
.rx-qr svg { display: block; width: 132px; height: 132px; }
.rx-code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 1.05rem; font-weight: 700;
  letter-spacing: .04em; overflow-wrap: anywhere; }
"""
FACTS_CSS = """
.rx-facts { margin: 0; }
.rx-facts > div { display: flex; gap: 12px; padding: 3px 0; }
.rx-facts dt { flex: 0 0 6.5rem; font-weight: 500; color: #424242; }
.rx-facts dd { margin: 0; min-width: 0; overflow-wrap: anywhere; color: #212121; }
.print-sheet { position: relative; overflow: hidden; }
.rx-stamp { position: absolute; top: 40%; left: 50%; transform: translate(-50%, -50%) rotate(-30deg);
  font-size: clamp(3rem, 14vw, 7rem); font-weight: 800; letter-spacing: .1em; color: transparent;
  -webkit-text-stroke: 2px #b00020; pointer-events: none; white-space: nowrap; }
"""


# Registered before the page so `/rx/5.pdf` never reaches the page route (the int convertor keeps them apart too).
@router.get('/rx/{rx_id:id}.pdf', response_model=None)
async def rx_pdf_download(request: Request, rx_id: int) -> Response:
    viewer = await download_viewer()
    if viewer is None:
        return RedirectResponse(login_url(), status_code=303)
    try:
        document = await prescriptions.prescription_for(viewer.patient.id, rx_id)
    except NotFound as error:
        return await not_found_page(request, str(error))
    share = await rx_verification.share_of(document)
    content = await asyncio.to_thread(rx_pdf.render, document, today_in(document.practice.time_zone), share)
    await prescriptions.record_release(document, 'rx.downloaded', viewer.actor)
    return Response(
        content,
        media_type='application/pdf',
        headers={
            'Content-Disposition': f'attachment; filename="{rx_pdf.filename(document)}"',
            'Cache-Control': 'no-store',
        },
    )


@patient_page('/rx/{rx_id:id}', title='Prescription', tab='Prescriptions')
async def rx_page(viewer: PatientViewer, rx_id: int) -> None:
    try:
        document = await prescriptions.prescription_for(viewer.patient.id, rx_id)
    except NotFound as error:
        context.client.status_code = 404
        ui.label('Prescription not found').classes('text-h5').props('role=heading aria-level=1')
        ui.label(str(error)).classes('text-body1')
        ui.button('Back to prescriptions', icon=icons.ARROW_BACK).props('outline no-caps href=/prescriptions').style(
            'min-height: 44px'
        )
        return
    await prescriptions.record_release(document, 'rx.viewed', viewer.actor)
    ui.page_title(f'{document.kind} prescription · {document.practice.name} · Patient Portal')
    ui.button('All prescriptions', icon=icons.ARROW_BACK).props('flat no-caps href=/prescriptions').classes(
        'no-print self-start'
    ).style('min-height: 44px')

    async def print_rx() -> None:
        await prescriptions.record_release(document, 'rx.printed', viewer.actor)
        ui.run_javascript('window.print()')

    with ui.row().classes('w-full gap-2 no-print'):
        ui.button('Print', icon=icons.PRINT, on_click=print_rx).props('no-caps').classes('col-grow').style(
            'min-height: 44px'
        )
        ui.button('Download PDF', icon=icons.DOWNLOAD).props(f'outline no-caps href=/rx/{rx_id}.pdf').classes(
            'col-grow'
        ).style('min-height: 44px')
    _sheet(document, await rx_verification.share_of(document))


def _sheet(document: RxDocument, share: rx_verification.Share | None = None) -> None:
    """The printable prescription: everything DESIGN rule 7 asks a released Rx to carry."""
    practice = document.practice
    stamp = document.stamp(today_in(practice.time_zone))
    blocks.use_css()
    with ui.card().classes('w-full q-pa-md gap-3 print-sheet').props('flat bordered'):
        with ui.column().classes('gap-0'):
            ui.label(practice.name).classes('text-subtitle1 text-weight-bold')
            if practice.address:
                ui.label(practice.address).classes('text-body2')
            if practice.phone:
                ui.label(f'Phone: {practice.phone}').classes('text-body2')
            if practice.fax:
                ui.label(f'Fax: {practice.fax}').classes('text-body2')
        ui.label(f'{document.kind} prescription' + (f' ({stamp.lower()})' if stamp else '')).classes('text-h5').props(
            'role=heading aria-level=1'
        )
        _facts(document.facts())
        blocks.block(blocks.rx_table(document.eyes, contact_lens=document.is_contact_lens))
        if document.prescription.notes:
            _facts([('Notes', document.prescription.notes)])
        ui.label('Prescriber').classes('text-subtitle1 text-weight-medium').props('role=heading aria-level=2')
        _facts(document.prescriber_facts())
        if document.signature:
            ui.label(document.signature).classes('text-body1 text-weight-medium')
        if document.release_note:
            ui.label(document.release_note).classes('text-body2')
        if share:
            verification_block(share)
        if stamp:
            ui.html(f'<div class="rx-stamp" aria-hidden="true">{stamp}</div>', sanitize=False)


def verification_block(share: rx_verification.Share) -> None:
    """The QR and the typed code: how an optician or a store checks that this copy is genuine and current."""
    add_style(VERIFY_CSS)
    ui.html(
        '<div class="rx-verify">'
        f'<div class="rx-qr" role="img" aria-label="QR code that opens the check page for this prescription">'
        f'{share.qr_svg()}</div>'
        '<div><p class="q-ma-none text-weight-medium">Check this prescription</p>'
        f'<p class="q-ma-none text-body2">Scan the code, or go to {escape(share.verify_page)} and enter:</p>'
        f'<p class="q-ma-none rx-code" data-testid="rx-code">{escape(share.display)}</p></div></div>',
        sanitize=False,
    ).classes('w-full')


def _facts(pairs: list[tuple[str, str]]) -> None:
    """A definition list as one HTML element; every value is escaped."""
    add_style(FACTS_CSS)
    rows = ''.join(f'<div><dt>{escape(label)}</dt><dd>{escape(value)}</dd></div>' for label, value in pairs)
    ui.html(f'<dl class="rx-facts">{rows}</dl>', sanitize=False).classes('w-full')
