"""The verification desk (`/staff/verifications`): sellers' contact-lens verification requests, by time left.

Staff log a request as it arrives (phone, fax, email) with the time it was received; the desk matches it
to the patient's current contact-lens Rx, shows which stated values differ, and counts down the eight
business hours. Answering emails the seller. Silence past the deadline shows as "Passively verified".
"""

import asyncio
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from nicegui import ui

from models.prescription import Prescription
from models.verification import InvalidReason, RequestChannel
from pages.access import StaffViewer
from pages.dialog import titled_dialog
from pages.staff.components import local_time, us_date
from pages.staff.page import staff_page
from services import events, patients, prescriptions
from services import verification_requests as desk
from services.appointments import today_in
from services.errors import DomainError

REASON_OPTIONS = {
    InvalidReason.EXPIRED.value: 'Expired',
    InvalidReason.NO_RX.value: 'No prescription on file',
    InvalidReason.NOT_OUR_PATIENT.value: 'Not our patient',
}
NOT_FOUND = 0


def time_left(row: desk.DeskRow) -> str:
    if row.passive:
        return 'Deadline passed'
    hours = row.hours_left
    whole, minutes = int(hours), round((hours - int(hours)) * 60)
    return f'{whole} h {minutes:02d} min of business hours left'


@staff_page('/verifications', title='Verifications')
async def verifications_page(viewer: StaffViewer) -> None:
    page = VerificationDesk(viewer)
    await page.show()


class VerificationDesk:
    def __init__(self, viewer: StaffViewer) -> None:
        self.viewer = viewer
        self.rows: list[desk.DeskRow] = []
        self.records: dict[int, Prescription] = {}
        self._loading = asyncio.Lock()

    @property
    def zone(self) -> str:
        return self.viewer.practice.time_zone

    async def show(self) -> None:
        ui.label('Verification requests').classes('text-h5').props('role=heading aria-level=1')
        if self.viewer.practice is None:
            ui.label('Set the practice up first.').classes('text-grey-8')
            return
        ui.label(
            "Contact lens sellers' requests to verify a prescription. Answer within eight business hours of "
            'receipt (9 to 5 on weekdays, federal holidays excluded, in the practice time zone): after that, '
            'the seller may fill it as it stands.'
        ).classes('text-body2 text-grey-9')
        ui.button('Log a request', icon='add', on_click=self.log_dialog).props('no-caps').style('min-height: 44px')
        await self.load()
        self.listing()
        unsubscribe = events.subscribe(events.ANY_PATIENT, self.on_change)
        ui.context.client.on_delete(unsubscribe)

    async def load(self) -> None:
        self.rows = await desk.desk(self.viewer.practice)
        patient_ids = {r.request.patient_id for r in self.rows if r.is_open and r.request.patient_id}  # type: ignore[attr-defined]
        self.records = await desk.current_contact_lens_rxs(patient_ids) if patient_ids else {}

    async def on_change(self, event: events.Event) -> None:
        if event.topic in (events.VERIFICATIONS, events.PRESCRIPTIONS):
            await self.reload()

    async def reload(self) -> None:
        async with self._loading:
            await self.load()
            self.listing.refresh()

    @ui.refreshable_method
    def listing(self) -> None:
        if not self.rows:
            ui.label('No verification requests yet.').classes('text-body1').mark('no-verifications')
            return
        for row in self.rows:
            self.card(row)

    def card(self, row: desk.DeskRow) -> None:
        request = row.request
        with ui.card().classes('w-full q-pa-md gap-2').props('flat bordered').mark(f'verification-{request.id}'):
            with ui.row().classes('w-full items-center justify-between gap-2'):
                ui.label(f'{request.seller_name} · {request.patient_name}').classes('text-h6').props(
                    'role=heading aria-level=2'
                )
                color = {'Open': 'deep-orange-10' if row.due_today else 'blue-grey-8'}.get(row.state, 'grey-9')
                if row.passive:
                    color = 'red-10'
                label = 'Due today' if row.due_today else row.state
                ui.badge(label, color=color).classes('text-body2 q-px-sm').mark(f'state-{request.id}')
            channel = desk.CHANNEL_LABELS[request.channel]
            contact = ', '.join(p for p in (request.seller_email, request.seller_phone, request.seller_fax) if p)
            ui.label(f'{channel} · received {local_time(request.received_at, self.zone)} · {contact}').classes(
                'text-body2'
            )
            saturdays = ' (seller counts Saturdays)' if request.count_saturday else ''
            ui.label(f'Due {local_time(request.due_at, self.zone)}{saturdays}').classes('text-body2')
            if row.is_open and not row.passive:
                ui.label(time_left(row)).classes('text-body2 text-weight-medium')
            if row.passive:
                ui.label(
                    'No answer went out before the deadline: the prescription counts as verified and the seller '
                    'may fill it. You can still send an answer.'
                ).classes('text-body2 text-negative')
            if not row.is_open:
                who = request.answered_at and local_time(request.answered_at, self.zone)
                reason = REASON_OPTIONS.get(request.invalid_reason, '')
                ui.label(f'Answered {row.state}{f" ({reason})" if reason else ""} on {who}').classes('text-body2')
                return
            if request.patient is None:
                ui.label('Not matched to a patient of the practice.').classes('text-body2 text-grey-9')
            else:
                dob = f', born {us_date(request.patient.date_of_birth)}'
                ui.link(f'Patient: {request.patient.full_name}{dob}', f'/staff/patients/{request.patient.id}')
                self.comparison(row)
            with ui.row().classes('gap-2'):
                for outcome, text in (('verified', 'Verified'), ('inaccurate', 'Inaccurate'), ('invalid', 'Invalid')):
                    ui.button(text, on_click=lambda o=outcome, r=request.id: self.answer_dialog(r, o)).props(
                        'outline no-caps'
                    ).style('min-height: 44px').mark(f'answer-{outcome}-{request.id}')

    def comparison(self, row: desk.DeskRow) -> None:
        rx = self.records.get(row.request.patient_id)  # type: ignore[attr-defined]
        if rx is None:
            ui.label('No current contact lens prescription on file.').classes('text-body2 text-negative')
            return
        compared = desk.compare(row.request, rx)
        mismatches = [c for c in compared if c.stated and not c.matches]
        summary = (
            'The stated values match the current prescription.'
            if not mismatches
            else f'{len(mismatches)} stated value{"s differ" if len(mismatches) != 1 else " differs"} from the record.'
        )
        expired = prescriptions.is_expired(rx, today_in(self.zone))
        ends = (
            f'expired {us_date(rx.expiry_date)} (answer Invalid)' if expired else f'expires {us_date(rx.expiry_date)}'
        )
        ui.label(f'Current contact lens Rx: issued {us_date(rx.issue_date)}, {ends}. {summary}').classes(
            'text-body2 ' + ('text-positive' if not mismatches else 'text-negative')
        ).mark(f'match-{row.request.id}')
        columns = [
            {'name': 'what', 'label': 'Value', 'field': 'what', 'align': 'left'},
            {'name': 'stated', 'label': 'Seller states', 'field': 'stated', 'align': 'left'},
            {'name': 'record', 'label': 'On record', 'field': 'record', 'align': 'left'},
            {'name': 'ok', 'label': 'Match', 'field': 'ok', 'align': 'left'},
        ]
        rows = [
            {
                'what': f'{c.eye} {c.label}'.strip(),
                'stated': c.stated or '—',
                'record': c.on_record or '—',
                'ok': ('Yes' if c.matches else 'No') if c.stated else 'Not stated',
            }
            for c in compared
            if c.stated or c.on_record
        ]
        # A narrow screen scrolls the table sideways: the scrolling box takes keyboard focus (Quasar's own does not).
        ui.add_css('.keyboard-scroll .q-table__middle { overflow: visible; }')
        with (
            ui.element('div')
            .classes('w-full keyboard-scroll')
            .style('overflow-x: auto')
            .props(f'tabindex=0 role=region aria-label="Stated values and the record, request {row.request.id}"')
        ):
            ui.table(columns=columns, rows=rows, row_key='what').props('dense flat bordered').classes('w-full')

    def answer_dialog(self, request_id: int, outcome: str) -> None:
        label = desk.OUTCOME_LABELS[desk.RequestStatus(outcome)]
        with titled_dialog(f'Answer {label}') as dialog:
            explanation = {
                'verified': 'The seller is told the prescription they stated is accurate, with the values on record.',
                'inaccurate': 'The seller is told it is not accurate and receives the correct prescription from '
                'the record.',
                'invalid': 'The seller is told not to fill it, and why.',
            }[outcome]
            ui.label(explanation).classes('text-body2')
            reason = None
            if outcome == 'invalid':
                reason = ui.radio(REASON_OPTIONS).props('aria-label="Why it is invalid"').mark('invalid-reason')
            problem = ui.label('').classes('text-negative').props('role=alert')

            async def send() -> None:
                try:
                    await desk.answer(
                        request_id,
                        outcome,
                        self.viewer.actor,
                        self.viewer.staff,
                        reason=(reason.value or '') if reason is not None else '',
                    )
                except DomainError as error:
                    problem.text = str(error)
                    return
                dialog.close()
                ui.notify(f'Answer sent to the seller: {label}.')
                await self.reload()

            with ui.row().classes('gap-2'):
                ui.button(f'Send {label}', on_click=send).props('no-caps').style('min-height: 44px').mark('send-answer')
                ui.button('Cancel', on_click=dialog.close).props('flat no-caps').style('min-height: 44px')
        dialog.open()

    def log_dialog(self) -> None:
        zone = ZoneInfo(self.zone)
        now = datetime.now(UTC).astimezone(zone)
        with titled_dialog('Log a verification request', style='max-width: 720px; width: 100%') as dialog:
            with ui.row().classes('w-full gap-2'):
                seller = ui.input('Seller').props('outlined dense').classes('col-grow').mark('seller')
                email = (
                    ui.input('Seller email (the answer goes here)')
                    .props('outlined dense type=email')
                    .classes('col-grow')
                    .mark('seller-email')
                )
            with ui.row().classes('w-full gap-2'):
                phone = ui.input('Seller phone (optional)').props('outlined dense').classes('col-grow')
                fax = ui.input('Seller fax (optional)').props('outlined dense').classes('col-grow')
            channel = (
                ui.radio({c.value: desk.CHANNEL_LABELS[c] for c in RequestChannel}, value='phone')
                .props('inline aria-label="Arrived by"')
                .mark('channel')
            )
            with ui.row().classes('w-full gap-2 items-center'):
                day = ui.input('Date received', value=now.date().isoformat()).props('type=date outlined dense')
                at = ui.input('Time received', value=now.strftime('%H:%M')).props('type=time outlined dense')
                saturday = ui.checkbox('The seller counts Saturday business hours').mark('count-saturday')
            with ui.row().classes('w-full gap-2 items-center'):
                name = (
                    ui.input('Patient name as stated').props('outlined dense').classes('col-grow').mark('patient-name')
                )
                dob = ui.input('Date of birth as stated').props('type=date outlined dense').mark('patient-dob')
            match = ui.select({NOT_FOUND: 'Not found among our patients'}, value=NOT_FOUND, label='Our patient')
            match.props('outlined dense').classes('w-full').mark('patient-match')

            async def find() -> None:
                found = await patients.search_patients(name.value or '', limit=20)
                born = patients.parse_date(dob.value or '') if dob.value else None
                if born is not None:
                    found = [p for p in found if p.date_of_birth == born]
                match.options = {NOT_FOUND: 'Not found among our patients'} | {
                    p.id: f'{p.last_name}, {p.first_name} (born {us_date(p.date_of_birth)})' for p in found
                }
                match.value = found[0].id if len(found) == 1 else NOT_FOUND
                match.update()

            ui.button('Find in our records', on_click=find).props('outline no-caps').style('min-height: 44px').mark(
                'find-patient'
            )
            with ui.row().classes('w-full gap-2'):
                brand = ui.input('Lens brand stated').props('outlined dense').classes('col-grow').mark('brand')
                quantity = ui.input('Quantity (optional)').props('outlined dense')
            eyes: dict[str, dict[str, ui.input]] = {}
            for eye in desk.EYES:
                with ui.row().classes('w-full gap-1 items-center no-wrap'):
                    ui.label(eye).classes('text-weight-bold').style('width: 2rem')
                    eyes[eye] = {
                        key: ui.input(f'{eye} {label}').props('outlined dense').classes('col').mark(f'{eye}-{key}')
                        for key, label in desk.STATED_FIELDS
                    }
            problem = ui.label('').classes('text-negative').props('role=alert').mark('log-problem')

            async def save() -> None:
                try:
                    received = datetime.combine(date.fromisoformat(day.value), time.fromisoformat(at.value), zone)
                except (TypeError, ValueError):
                    problem.text = 'Enter the date and time the request was received.'
                    return
                born = patients.parse_date(dob.value or '') if dob.value else None
                form = desk.RequestInput(
                    seller_name=seller.value or '',
                    seller_email=email.value or '',
                    seller_phone=phone.value or '',
                    seller_fax=fax.value or '',
                    channel=channel.value or '',
                    received_at=received,
                    count_saturday=bool(saturday.value),
                    patient_name=name.value or '',
                    patient_dob=born,
                    patient_id=match.value or None,
                    brand=brand.value or '',
                    quantity=quantity.value or '',
                    eyes={
                        eye: {key: field.value or '' for key, field in fields.items()} for eye, fields in eyes.items()
                    },
                )
                try:
                    await desk.log_request(self.viewer.practice, form, self.viewer.actor, self.viewer.staff)
                except DomainError as error:
                    problem.text = str(error)
                    return
                dialog.close()
                ui.notify('Request logged.')
                await self.reload()

            with ui.row().classes('gap-2'):
                ui.button('Log request', on_click=save).props('no-caps').style('min-height: 44px').mark('save-request')
                ui.button('Cancel', on_click=dialog.close).props('flat no-caps').style('min-height: 44px')
        dialog.open()
