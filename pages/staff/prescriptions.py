"""The Prescriptions section of the Patient Profile: the patient's Rx with status, the Rx form, signing
(with the supersede confirmation), void, digital-delivery consent and the paper-release confirmation.

Also the console's printable copy (`/staff/rx/{id}.pdf`): what staff hand over when the patient has not
consented to digital delivery.
"""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from nicegui import ui

from models.audit import AuditEvent
from models.consent import DigitalDeliveryConsent
from models.patient import Patient
from models.practice import Provider
from models.prescription import Prescription, RxKind, RxStatus
from models.staff import StaffUser
from pages.dialog import ask_reason, titled_dialog
from pages.entry.not_found import not_found_page
from pages.staff import router
from pages.staff.components import local_time, us_date
from pages.staff.page import download_viewer, login_url
from services import audit, prescriptions, rx_lifecycle, rx_pdf, rx_release, rx_verification
from services.appointments import today_in
from services.errors import DomainError, NotFound
from services.rx_lifecycle import SupersedeConfirmationNeeded
from services.rx_validation import EYES, EyeInput, RxInput

STATUS_COLORS = {'draft': 'grey-8', 'final': 'green-9', 'superseded': 'blue-grey-8', 'void': 'red-9'}
PURPOSE_OPTIONS = {p: label.split(' (')[0] for p, label in prescriptions.PURPOSE_LABELS.items()}
SPECTACLE_FIELDS = (
    ('sphere', 'Sphere', 'e.g. -2.25 or PL'),
    ('cylinder', 'Cylinder', 'blank or DS if none'),
    ('axis', 'Axis', '1-180'),
    ('add', 'Add', '+0.50 to +4.00'),
    ('prism_horizontal', 'Prism H', 'prism diopters'),
    ('prism_horizontal_base', 'Base H', ''),
    ('prism_vertical', 'Prism V', 'prism diopters'),
    ('prism_vertical_base', 'Base V', ''),
)
CONTACT_FIELDS = (
    ('sphere', 'Power', 'e.g. -3.50 or PL'),
    ('cylinder', 'Cylinder', 'toric only'),
    ('axis', 'Axis', '1-180'),
    ('add', 'Add', '+1.50 or LOW/MED/HIGH'),
    ('base_curve', 'Base curve', '6.00-10.50 mm'),
    ('diameter', 'Diameter', '7.0-24.0 mm'),
    ('dominance', 'D / N', ''),
    ('manufacturer', 'Manufacturer', ''),
    ('brand', 'Brand', ''),
)
SELECTS = {
    'prism_horizontal_base': ['', 'BI', 'BO'],
    'prism_vertical_base': ['', 'BU', 'BD'],
    'dominance': ['', 'D', 'N'],
}


@router.get('/rx/{rx_id:id}.pdf', response_model=None)
async def staff_rx_pdf(request: Request, rx_id: int) -> Response:
    """The copy staff print and hand over (paper release); drafts and void ones are marked as such."""
    viewer = await download_viewer()
    if viewer is None:
        return RedirectResponse(login_url(), status_code=303)
    try:
        document = await prescriptions.document_for_staff(rx_id)
    except NotFound as error:
        return await not_found_page(request, str(error))
    share = await rx_verification.share_of(document)
    content = await asyncio.to_thread(rx_pdf.render, document, today_in(document.practice.time_zone), share)
    await prescriptions.record_release(document, 'rx.staff_printed', viewer.actor)
    return Response(
        content,
        media_type='application/pdf',
        headers={'Content-Disposition': f'inline; filename="{rx_pdf.filename(document)}"', 'Cache-Control': 'no-store'},
    )


class PrescriptionsSection:
    """One patient's prescriptions on the open profile; reloads on the patient's change events."""

    def __init__(self, patient: Patient, staff: StaffUser, actor: audit.Actor) -> None:
        self.patient = patient
        self.staff = staff
        self.actor = actor
        self.items: list[Prescription] = []
        self.providers: list[Provider] = []
        self.consent: DigitalDeliveryConsent | None = None
        self.verified: dict[int, list[AuditEvent]] = {}
        self.dialogs: ui.element | None = None

    async def load(self) -> None:
        self.items = await rx_lifecycle.prescriptions_for_staff(self.patient.id)
        self.consent = await rx_release.current_consent(self.patient.id)
        self.verified = {}
        for event in await rx_verification.verified_views(self.patient.id):
            self.verified.setdefault(event.object_id or 0, []).append(event)
        self.providers = await Provider.filter(practice_id=self.patient.practice_id, is_active=True).order_by('name')  # type: ignore[attr-defined]

    async def show(self) -> None:
        await self.load()
        self.section()
        self.dialogs = ui.element()

    async def reload(self) -> None:
        await self.load()
        self.section.refresh()

    # -- drawing ----------------------------------------------------------------------------

    @ui.refreshable_method
    def section(self) -> None:
        with ui.card().classes('w-full').mark('rx-section'):
            with ui.row().classes('w-full items-center justify-between'):
                ui.label('Prescriptions').classes('text-h6').props('role=heading aria-level=2')
                with ui.row().classes('gap-2'):
                    ui.button('New glasses Rx', icon='add', on_click=lambda: self.open_form(RxKind.SPECTACLE)).props(
                        'no-caps outline'
                    )
                    ui.button(
                        'New contact lens Rx', icon='add', on_click=lambda: self.open_form(RxKind.CONTACT_LENS)
                    ).props('no-caps outline')
            self.consent_line()
            if self.staff.role == 'admin':
                ui.link('Release evidence for this patient', f'/staff/release-evidence?patient={self.patient.id}')
            if not self.items:
                ui.label('No prescriptions on file.').classes('text-grey-8')
            for rx in self.items:
                self.row(rx)

    def consent_line(self) -> None:
        practice = self.patient.practice
        with ui.row().classes('w-full items-center gap-2'):
            if self.consent is not None:
                ui.icon('verified', color='positive')
                method = rx_release.METHOD_LABELS[self.consent.method].lower()
                ui.label(
                    f'Digital delivery consent on file: {method}, '
                    f'{local_time(self.consent.given_at, practice.time_zone)} ({self.consent.recorded_by_label}).'
                ).mark('rx-consent')
            else:
                ui.icon('info', color='warning')
                text = (
                    'No digital delivery consent, but the practice is exempt: signed Rx show in the portal.'
                    if practice.eyewear_sales_exemption
                    else 'No digital delivery consent: the portal shows no Rx until the patient consents. '
                    "Print each signed Rx and record the patient's signed confirmation."
                )
                ui.label(text).mark('rx-consent')
                ui.button('Record consent', on_click=self.record_consent_dialog).props('no-caps flat dense')

    def row(self, rx: Prescription) -> None:
        kind = prescriptions.kind_label(rx)
        purpose = prescriptions.purpose_label(rx)
        with ui.row().classes('w-full items-center justify-between q-py-xs border-t').mark(f'rx-{rx.id}'):
            with ui.column().classes('gap-0'):
                with ui.row().classes('items-center gap-2'):
                    ui.label(f'{kind}' + (f' · {purpose}' if purpose else '')).classes('text-weight-medium')
                    ui.badge(prescriptions.STATUS_LABELS[rx.status.value], color=STATUS_COLORS[rx.status.value])
                detail = (
                    f'Exam {us_date(rx.exam_date)} · issued {us_date(rx.issue_date)} '
                    f'· expires {us_date(rx.expiry_date)}'
                )
                ui.label(f'{detail} · {rx.provider.display_name}').classes('text-body2 text-grey-8')
                if rx.signed_at:
                    signer = rx.signed_by.name if rx.signed_by else 'unknown'
                    if rx.signed_by is None and rx.imported:  # signed in the practice's EHR, sent through the API
                        signer = f'{rx.provider.display_name} in another system (imported)'
                    ui.label(
                        f'Signed by {signer}, {local_time(rx.signed_at, self.patient.practice.time_zone)}'
                    ).classes('text-caption text-grey-8')
                if rx.status == RxStatus.VOID:
                    ui.label(f'Void: {rx.void_reason}').classes('text-caption text-negative')
                if views := self.verified.get(rx.id):
                    ui.label(self.verified_line(views)).classes('text-caption text-grey-8').mark(f'rx-verified-{rx.id}')
            with ui.row().classes('gap-1'):
                if rx.status == RxStatus.DRAFT:
                    ui.button('Edit', on_click=lambda rx=rx: self.open_form(RxKind(rx.kind), rx)).props('no-caps flat')
                    if self.staff.provider_id == rx.provider_id:  # type: ignore[attr-defined]
                        ui.button('Sign', on_click=lambda rx=rx: self.sign(rx.id)).props('no-caps').mark(
                            f'rx-sign-{rx.id}'
                        )
                ui.button('PDF', icon='print').props(f'no-caps flat href=/staff/rx/{rx.id}.pdf target=_blank')
                if rx.status in (RxStatus.FINAL, RxStatus.SUPERSEDED) and self.consent is None:
                    ui.button('Record receipt', on_click=lambda rx=rx: self.confirmation_dialog(rx.id)).props(
                        'no-caps flat'
                    )
                if rx.status in (RxStatus.DRAFT, RxStatus.FINAL):
                    void = ui.button('Void', on_click=lambda rx=rx: self.void_dialog(rx.id))
                    void.props('no-caps flat color=negative').mark(f'rx-void-{rx.id}')

    def verified_line(self, views: list[AuditEvent]) -> str:
        """'Verified by a viewer at 10:42 on November 26, 2026 (from 203.0.113.7); 2 earlier': /verify looks."""
        latest = views[0]
        moment = latest.at.astimezone(ZoneInfo(self.patient.practice.time_zone))
        text = f'Verified by a viewer at {moment:%H:%M} on {prescriptions.long_date(moment.date())}'
        if latest.client_address:
            text += f' (from {latest.client_address})'
        if len(views) > 1:
            text += f'; {len(views) - 1} earlier'
        return text

    # -- the form ---------------------------------------------------------------------------

    def open_form(self, kind: RxKind, rx: Prescription | None = None) -> None:
        assert self.dialogs is not None
        with self.dialogs:
            RxForm(self, kind, rx).open()

    # -- actions ----------------------------------------------------------------------------

    async def sign(self, rx_id: int, *, confirm: bool = False) -> None:
        try:
            result = await rx_lifecycle.sign(rx_id, self.staff, self.actor, confirm_supersede=confirm)
        except SupersedeConfirmationNeeded as question:
            self.confirm_supersede(rx_id, str(question))
            return
        except DomainError as error:
            ui.notify(str(error), type='negative', multi_line=True)
            return
        ui.notify('Prescription signed.', type='positive')
        await self.reload()
        if result.paper_confirmation_needed:
            self.paper_release_dialog(rx_id)

    def confirm_supersede(self, rx_id: int, question: str) -> None:
        assert self.dialogs is not None
        with (
            self.dialogs,
            titled_dialog('Replace the current prescription?', style='max-width: 520px') as dialog,
        ):
            ui.label(question)

            async def confirm() -> None:
                dialog.close()
                await self.sign(rx_id, confirm=True)

            with ui.row().classes('w-full justify-end'):
                ui.button('Cancel', on_click=dialog.close).props('flat no-caps')
                ui.button('Sign and replace', on_click=confirm).props('no-caps')
        dialog.open()

    def paper_release_dialog(self, rx_id: int) -> None:
        assert self.dialogs is not None
        with (
            self.dialogs,
            titled_dialog('Print it for the patient', style='max-width: 560px') as dialog,
        ):
            ui.label(
                'This patient has not consented to receiving prescriptions in the portal, so the portal does not '
                'show it. Print the prescription, give it to the patient, and record that they signed for it or '
                'refused to sign. If they consent now, record the consent instead.'
            )
            ui.button('Open the PDF to print', icon='print').props(
                f'no-caps outline href=/staff/rx/{rx_id}.pdf target=_blank'
            )
            self._confirmation_buttons(rx_id, dialog)
        dialog.open()

    def confirmation_dialog(self, rx_id: int) -> None:
        assert self.dialogs is not None
        with (
            self.dialogs,
            titled_dialog('Record receipt of the printed Rx', style='max-width: 520px') as dialog,
        ):
            self._confirmation_buttons(rx_id, dialog)
        dialog.open()

    def _confirmation_buttons(self, rx_id: int, dialog: ui.dialog) -> None:
        note = ui.input('Note (optional)').classes('w-full')

        def record(kind: str) -> Callable[[], Awaitable[None]]:
            async def handler() -> None:
                try:
                    await rx_release.record_confirmation(rx_id, kind, self.actor, staff=self.staff, note=note.value)
                except DomainError as error:
                    ui.notify(str(error), type='negative')
                    return
                dialog.close()
                ui.notify('Recorded.', type='positive')

            return handler

        with ui.row().classes('w-full justify-end gap-2'):
            ui.button('Later', on_click=dialog.close).props('flat no-caps')
            ui.button('Patient refused to sign', on_click=record('refused')).props('outline no-caps')
            ui.button('Patient signed', on_click=record('signed')).props('no-caps')

    async def void_dialog(self, rx_id: int) -> None:
        assert self.dialogs is not None
        if await ask_reason(
            self.dialogs,
            title='Void this prescription?',
            explanation='The patient no longer sees it; the record and its reason are kept.',
            label='Reason',
            confirm='Void',
            action=lambda reason: rx_lifecycle.void(rx_id, reason, self.actor),
            done='Prescription void.',
            marks=('void-reason', 'void-confirm'),
            style='max-width: 520px',
        ):
            await self.reload()

    def record_consent_dialog(self) -> None:
        assert self.dialogs is not None
        with (
            self.dialogs,
            titled_dialog('Consent to digital delivery', style='max-width: 520px') as dialog,
        ):
            ui.label(
                'The patient agrees to receive their eyeglass and contact lens prescriptions through the patient '
                'portal. Record how they gave it; you are recorded as the staff member who took it.'
            )
            method = ui.radio(
                {'in_office': 'Signed in the office', 'phone': 'Recorded by phone'}, value='in_office'
            ).mark('consent-method')

            async def save() -> None:
                try:
                    await rx_release.record_consent(self.patient.id, method.value, self.actor, staff=self.staff)
                except DomainError as error:
                    ui.notify(str(error), type='negative')
                    return
                dialog.close()
                ui.notify('Consent recorded.', type='positive')
                await self.reload()

            with ui.row().classes('w-full justify-end'):
                ui.button('Cancel', on_click=dialog.close).props('flat no-caps')
                ui.button('Record consent', on_click=save).props('no-caps').mark('consent-save')
        dialog.open()


class RxForm:
    """The dialog to write (or change) a draft: per eye values, prescriber, exam date, purpose or lens."""

    def __init__(self, section: PrescriptionsSection, kind: RxKind, rx: Prescription | None) -> None:
        self.section = section
        self.kind = kind
        self.rx = rx
        self.fields = SPECTACLE_FIELDS if kind == RxKind.SPECTACLE else CONTACT_FIELDS
        self.inputs: dict[tuple[str, str], ui.input | ui.select] = {}

    def _initial(self) -> RxInput:
        section, rx = self.section, self.rx
        default_provider = section.staff.provider_id or (section.providers[0].id if section.providers else None)  # type: ignore[attr-defined]
        if rx is None:
            return RxInput(
                kind=self.kind.value,
                provider_id=default_provider,
                exam_date=today_in(section.patient.practice.time_zone),
                purpose='distance' if self.kind == RxKind.SPECTACLE else '',
            )
        eyes = {}
        for eye in rx.eyes:
            row = prescriptions.EyeRow.of(eye)
            eyes[eye.eye] = EyeInput(
                sphere=row.sphere,
                cylinder='' if row.cylinder == 'DS' else row.cylinder,
                axis=row.axis,
                add=row.add,
                prism_horizontal=f'{eye.prism:.2f}' if eye.prism else '',
                prism_horizontal_base=eye.prism_base,
                prism_vertical=f'{eye.prism_vertical:.2f}' if eye.prism_vertical else '',
                prism_vertical_base=eye.prism_vertical_base,
                base_curve=row.base_curve,
                diameter=f'{eye.diameter:.1f}' if eye.diameter is not None else '',
                dominance=eye.dominance,
                manufacturer=eye.manufacturer,
                brand=eye.brand,
            )
        return RxInput(
            kind=rx.kind,
            provider_id=rx.provider_id,  # type: ignore[attr-defined]
            exam_date=rx.exam_date,
            issue_date=rx.issue_date,
            purpose=rx.purpose.value if rx.purpose else '',
            expiry_date=rx.expiry_date,
            expiry_reason=rx.expiry_reason,
            notes=rx.notes,
            pd_binocular=f'{rx.pd_binocular:.1f}' if rx.pd_binocular is not None else '',
            pd_od=f'{rx.pd_od:.1f}' if rx.pd_od is not None else '',
            pd_os=f'{rx.pd_os:.1f}' if rx.pd_os is not None else '',
            replacement_schedule=rx.replacement_schedule,
            eyes={**{e: EyeInput() for e in EYES}, **eyes},
        )

    def open(self) -> None:
        initial = self._initial()
        title = 'Glasses prescription' if self.kind == RxKind.SPECTACLE else 'Contact lens prescription'
        with titled_dialog(
            f'{title} (draft)' if self.rx else f'New {title.lower()}',
            style='max-width: 1100px; width: 100%',
            classes='q-pa-md',
        ) as self.dialog:
            with ui.row().classes('w-full gap-4 items-end'):
                self.provider = ui.select(
                    {p.id: p.display_name for p in self.section.providers},
                    value=initial.provider_id,
                    label='Prescriber',
                ).classes('min-w-[14rem]')
                self.exam_date = ui.input('Exam date', value=initial.exam_date.isoformat() if initial.exam_date else '')
                self.exam_date.props('type=date')
                if self.kind == RxKind.SPECTACLE:
                    self.purpose = ui.select(PURPOSE_OPTIONS, value=initial.purpose or None, label='Purpose').classes(
                        'min-w-[10rem]'
                    )
                self.expiry = ui.input(
                    'Expiry date (blank: default)',
                    value=initial.expiry_date.isoformat() if (self.rx and initial.expiry_date) else '',
                ).props('type=date')
            with ui.grid(columns=len(self.fields) + 1).classes('w-full gap-2 items-center'):
                ui.label('')
                for _, label, _hint in self.fields:
                    ui.label(label).classes('text-weight-medium')
                for eye in EYES:
                    ui.label(eye).classes('text-weight-bold')
                    values = initial.eyes[eye]
                    for name, label, hint in self.fields:
                        value = getattr(values, name)
                        if name in SELECTS:
                            widget = ui.select(SELECTS[name], value=value or '').props(f'aria-label="{eye} {label}"')
                        else:
                            widget = ui.input(placeholder=hint, value=value).props(f'dense aria-label="{eye} {label}"')
                        widget.mark(f'{eye}-{name}')
                        self.inputs[(eye, name)] = widget
            with ui.row().classes('w-full gap-4'):
                if self.kind == RxKind.SPECTACLE:
                    self.pd_binocular = ui.input('PD binocular (mm)', value=initial.pd_binocular).mark('pd')
                    self.pd_od = ui.input('PD OD (mm)', value=initial.pd_od)
                    self.pd_os = ui.input('PD OS (mm)', value=initial.pd_os)
                else:
                    self.schedule = ui.input('Replacement schedule', value=initial.replacement_schedule).mark(
                        'replacement'
                    )
                    self.reason = ui.input(
                        'Medical reason for an expiry under one year (kept, not printed)', value=initial.expiry_reason
                    ).classes('min-w-[24rem]')
            self.notes = ui.textarea('Notes', value=initial.notes).classes('w-full').props('autogrow')
            self.problem = ui.label('').classes('text-negative').props('role=alert').mark('rx-problem')
            with ui.row().classes('w-full justify-end gap-2'):
                ui.button('Cancel', on_click=self.dialog.close).props('flat no-caps')
                ui.button('Save draft', on_click=self.save).props('outline no-caps')
                ui.button('Save and sign', on_click=lambda: self.save(sign=True)).props('no-caps')
        self.dialog.open()

    def _form(self) -> RxInput:
        def text(widget: ui.input | ui.select) -> str:
            return str(widget.value or '')

        def day(widget: ui.input) -> date | None:
            try:
                return date.fromisoformat(widget.value) if widget.value else None
            except ValueError:
                return None

        spectacle = self.kind == RxKind.SPECTACLE
        return RxInput(
            kind=self.kind.value,
            provider_id=self.provider.value,
            exam_date=day(self.exam_date),
            issue_date=self.rx.issue_date if self.rx else None,
            purpose=text(self.purpose) if spectacle else '',
            expiry_date=day(self.expiry),
            expiry_reason='' if spectacle else text(self.reason),
            notes=text(self.notes),
            pd_binocular=text(self.pd_binocular) if spectacle else '',
            pd_od=text(self.pd_od) if spectacle else '',
            pd_os=text(self.pd_os) if spectacle else '',
            replacement_schedule='' if spectacle else text(self.schedule),
            eyes={
                eye: EyeInput(**{name: text(self.inputs[(eye, name)]) for name, _, _ in self.fields}) for eye in EYES
            },
        )

    def _eye(self, eye: str, text: Callable[[ui.input | ui.select], str]) -> EyeInput:
        return EyeInput(**{name: text(self.inputs[(eye, name)]) for name, _, _ in self.fields})

    async def save(self, sign: bool = False) -> None:
        section = self.section
        try:
            rx = await rx_lifecycle.save_draft(
                section.patient.id,
                self._form(),
                section.actor,
                staff=section.staff,
                rx_id=self.rx.id if self.rx else None,
            )
        except DomainError as error:
            self.problem.text = str(error)
            return
        self.dialog.close()
        await section.reload()
        if sign:
            await section.sign(rx.id)
        else:
            ui.notify('Draft saved. The patient does not see it until it is signed.', type='positive')
