"""Prescriptions tab: the signed-in patient's released prescriptions, current ones first, replaced ones
below, expired ones marked. A newly signed Rx appears without a reload (change events).

The FTC rules accept digital release only with the patient's consent given first: until it is on file
(or the practice is exempt) the tab asks for it and shows no prescription.
"""

from datetime import date
from html import escape

from fastapi.responses import RedirectResponse
from nicegui import context, ui

from models.patient import Patient
from models.prescription import Prescription
from pages.access import PatientViewer, current_patient
from pages.dialog import titled_dialog
from pages.patient import blocks, icons, router
from pages.patient.page import patient_page
from pages.patient.rx import verification_block
from services import audit, events, prescriptions, rx_release, rx_verification
from services.appointments import today_in
from services.prescriptions import long_date

CONSENT_TEXT = (
    'Your prescriptions can be delivered to you here, in this patient portal, instead of on paper. '
    'To do that, the practice needs your consent first.'
)


@router.page('/')
async def home_page() -> RedirectResponse:
    """Prescriptions are what most patients come for: the portal opens on them."""
    if await current_patient() is None:
        return RedirectResponse('/login', status_code=303)
    return RedirectResponse('/prescriptions', status_code=303)


class _RxList:
    """The list and the consent question; reloads itself when the practice signs or replaces an Rx."""

    def __init__(self, patient: Patient, actor: audit.Actor) -> None:
        self.patient = patient
        self.actor = actor
        self.allowed = False
        self.items: list[Prescription] = []
        self.codes: dict[int, str] = {}

    async def load(self) -> None:
        shown = await rx_verification.patient_list(self.patient.id, self.patient.practice)
        self.allowed, self.items, self.codes = shown.allowed, shown.items, shown.codes
        await prescriptions.record_list_view(self.patient.id, self.items, self.actor)

    async def on_change(self, event: events.Event) -> None:
        if event.topic == events.PRESCRIPTIONS:
            await self.load()
            self.show.refresh()

    async def consent(self) -> None:
        """Record the tick; the change event it publishes redraws this list (and any other open tab)."""
        await rx_release.record_consent(self.patient.id, 'portal', self.actor)

    @ui.refreshable_method
    def show(self) -> None:
        if not self.allowed:
            self._consent_form()
            return
        if not self.items:
            ui.label(
                'No prescriptions yet. After your eye exam, your glasses or contact lens prescription will appear here.'
            ).classes('text-body1')
            return
        today = today_in(self.patient.practice.time_zone)
        with ui.column().classes('w-full').mark('rx-list') as cards:
            for rx in self.items:
                share = rx_verification.share_for(self.codes.get(rx.id), self.patient.practice)
                _card(rx, today, self._share_buttons(rx) if share is not None else '')
        blocks.on_actions(cards, self._act)

    @staticmethod
    def _share_buttons(rx: Prescription) -> str:
        """Share (the QR, the code, the link to copy) and Stop sharing (a new code; the old one stops working)."""
        return (
            '<div class="pp-actions">'
            + blocks.action_button('Share with an optician or store', 'share', rx.id, icons.SHARE)
            + blocks.action_button('Stop sharing', 'stop-sharing', rx.id, flat=True)
            + '</div>'
        )

    def _act(self, action: str, rx_id: int) -> None:
        """A share button of the list: only for a prescription this list shows with its share code."""
        rx = next((rx for rx in self.items if rx.id == rx_id), None)
        share = rx_verification.share_for(self.codes.get(rx_id), self.patient.practice) if rx else None
        if rx is None or share is None:
            return
        if action == 'share':
            self._share_dialog(share)
        elif action == 'stop-sharing':
            self._stop_dialog(rx.id, prescriptions.kind_label(rx).lower())

    def _share_dialog(self, share: rx_verification.Share) -> None:
        with titled_dialog('Share this prescription', style='max-width: 420px') as dialog:
            ui.label(
                'An optician or a contact lens store can check this prescription: let them scan the code, '
                'or send them the link. They see the prescription and whether it is current, nothing else.'
            ).classes('text-body2')
            verification_block(share)

            def copy() -> None:
                ui.clipboard.write(share.url)
                ui.notify('Link copied. Paste it into an email or a message to the store.')

            with ui.row().classes('w-full gap-2'):
                ui.button('Copy link', on_click=copy).props('no-caps').classes('col-grow').style('min-height: 44px')
                ui.button('Close', on_click=dialog.close).props('flat no-caps').style('min-height: 44px')
        dialog.open()

    def _stop_dialog(self, rx_id: int, kind: str) -> None:
        with titled_dialog('Stop sharing this prescription?', style='max-width: 420px') as dialog:
            ui.label(
                f'Anyone holding the code or QR of this {kind} prescription, printed or sent, will no longer see it. '
                'Your prescription gets a new code for the next time you share it.'
            ).classes('text-body2')

            async def stop() -> None:
                await rx_verification.stop_sharing(self.patient.id, rx_id, self.actor)
                dialog.close()
                ui.notify('Sharing stopped. The old code no longer works.')

            with ui.row().classes('w-full gap-2'):
                ui.button('Stop sharing', on_click=stop).props('no-caps color=negative').style('min-height: 44px').mark(
                    'confirm-stop-sharing'
                )
                ui.button('Keep sharing', on_click=dialog.close).props('flat no-caps').style('min-height: 44px')
        dialog.open()

    def _consent_form(self) -> None:
        with ui.card().classes('w-full q-pa-md gap-3').props('flat bordered'):
            ui.label('Receive your prescriptions here').classes('text-h6').props('role=heading aria-level=2')
            ui.label(CONSENT_TEXT).classes('text-body1')
            agree = ui.checkbox(
                'I agree to receive my eyeglass and contact lens prescriptions through this patient portal.'
            ).style('min-height: 44px')
            button = ui.button('Show my prescriptions', on_click=self.consent).props('no-caps')
            button.style('min-height: 44px').bind_enabled_from(agree, 'value')
            ui.label(
                'Without it, the practice gives you a printed copy at your visit. Questions? Call '
                f'{self.patient.practice.phone}.'
            ).classes('text-body2 text-grey-8')


@patient_page('/prescriptions', title='Prescriptions', tab='Prescriptions')
async def prescriptions_page(viewer: PatientViewer) -> None:
    view = _RxList(viewer.patient, viewer.actor)
    await view.load()
    ui.label('Your prescriptions').classes('text-h5').props('role=heading aria-level=1')
    blocks.use_css()
    view.show()
    unsubscribe = events.subscribe(viewer.patient.id, view.on_change)
    context.client.on_delete(unsubscribe)


def _card(rx: Prescription, today: date, sharing: str) -> None:
    expired = prescriptions.is_expired(rx, today)
    replaced = rx.status == 'superseded'
    kind = prescriptions.kind_label(rx)
    purpose = prescriptions.purpose_label(rx)
    title = f'{kind} prescription'
    if replaced:
        badge, note = blocks.badge('Replaced', 'expired'), 'A newer prescription replaces this one.'
    elif expired:
        badge, note = (
            blocks.badge('Expired', 'expired'),
            'This prescription has expired: request an exam for a new one.',
        )
    else:
        badge, note = blocks.badge('Current', 'current'), ''
    blocks.block(
        '<div class="pp-item">'
        f'<section class="pp-card" aria-label="{escape(title)} issued {long_date(rx.issue_date)}">'
        f'<div class="pp-head"><h2 class="text-h6">{escape(title)}</h2>{badge}</div>'
        '<div class="pp-meta">'
        + (f'<span>For: {escape(purpose)}</span>' if purpose else '')
        + f'<span>Issued {long_date(rx.issue_date)}</span>'
        f'<span>{"Expired" if expired else "Expires"} {long_date(rx.expiry_date)}</span>'
        f'<span>Prescriber: {escape(rx.provider.display_name)}</span>'
        + (f'<span>PD: {escape(prescriptions.format_pd(rx))}</span>' if prescriptions.format_pd(rx) else '')
        + '</div>'
        f'{blocks.rx_table(prescriptions.eye_rows(rx), contact_lens=rx.kind == "contact_lens")}'
        + (f'<p class="q-ma-none text-body2">{escape(note)}</p>' if note else '')
        + '<div class="pp-actions">'
        # no dead end: straight to the request form (a full-size button, not a link inside the sentence)
        + (
            blocks.link_button('Request an exam', '/appointments#request', icons.EVENT)
            if expired and not replaced
            else ''
        )
        + f'{blocks.link_button("View / print", f"/rx/{rx.id}", icons.PRINT)}'
        f'{blocks.link_button("Download PDF", f"/rx/{rx.id}.pdf", icons.DOWNLOAD, download=True)}'
        f'</div></section>{sharing}</div>'
    )
