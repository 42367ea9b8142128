"""The Patient Profile (`/staff/patients/{id}`): demographics, portal status and messages, the ⋯ menu;
its Prescriptions, Appointments and Billing sections."""

import asyncio

from nicegui import context, ui

from models.outbox import OutboxMessage, Status
from models.patient import Patient
from pages.access import StaffViewer
from pages.dialog import titled_dialog
from pages.staff.billing import billing_section
from pages.staff.components import activation_help, local_time, portal_badge, us_date
from pages.staff.page import staff_page
from pages.staff.patient_appointments import AppointmentsSection
from pages.staff.patient_form import patient_dialog
from pages.staff.prescriptions import PrescriptionsSection
from portal.ids import parse_id
from services import audit, events, notifications, outbox, portal_access
from services.errors import DomainError, NotFound
from services.patients import InvalidPhone, PatientInput, get_patient, textable_phone, update_patient
from services.phones import display_phone

PURPOSES = {
    'login_link': 'Login link',
    'invitation': 'Portal invitation',
    'text_invitation': 'Portal invitation',
    'appointment': 'Appointment',
    'reminder': 'Appointment reminder',
}
CHANNELS = {'email': 'Email', 'sms': 'Text'}
STATUSES = {  # what each status claims, and no more: a copied text was not sent by the portal
    Status.QUEUED: ('Queued', 'warning'),
    Status.SENDING: ('Sending', 'warning'),
    Status.SENT: ('Sent', 'positive'),
    Status.FAILED: ('Failed', 'negative'),
    Status.COPIED: ('Copied, not sent', 'grey-8'),
}
COPY_TEXT = 'Copy text for your phone system'


@staff_page('/patients/{patient_id}', title='Patient Profile')
async def patient_profile_page(viewer: StaffViewer, patient_id: str) -> None:
    try:
        patient = await get_patient(number) if (number := parse_id(patient_id)) is not None else None
    except NotFound:
        patient = None
    if patient is None:
        context.client.status_code = 404
        with ui.card().classes('w-full'):
            ui.label('Patient not found').classes('text-h5').props('role=heading aria-level=1')
            ui.label(f'There is no patient with the number {patient_id!r}. It may have been mistyped.')
            ui.link('Back to patient search', '/staff')
        return
    ui.page_title(f'{patient.full_name} · Staff console')
    await audit.chart_opened(patient.id, viewer.actor)
    await PatientProfile(patient, viewer).show()


class PatientProfile:
    """One open profile: state for its refreshable sections and the handlers of the ⋯ menu.

    It follows the patient's change events, so a background retry, a login or another receptionist's
    action shows up here without a click. Rendering is synchronous from data loaded beforehand, and
    loads are taken one at a time, so two refreshes can neither interleave nor leave older data on top.
    """

    def __init__(self, patient: Patient, viewer: StaffViewer) -> None:
        self.patient = patient
        self.staff = viewer.staff
        self.viewer = viewer
        self.actor: audit.Actor = viewer.actor
        self.problem = ''  # the last refusal, kept on screen until the next action
        self.problem_link: tuple[str, str] | None = None  # (label, url) that leads to the fix, if any
        self.next_steps = False  # offered right after Enable Patient Portal
        self.status = portal_access.PortalStatus(active=False)
        self.messages: list[OutboxMessage] = []
        self._loading = asyncio.Lock()

    @property
    def time_zone(self) -> str:
        return self.patient.practice.time_zone

    async def show(self) -> None:
        with ui.row().classes('items-center gap-1 text-grey-8'):
            ui.link('Patients', '/staff')
            ui.icon('chevron_right')
            ui.label(self.patient.full_name)
            if self.viewer.is_admin:
                ui.link('Who opened this chart', f'/staff/audit?patient={self.patient.id}').classes('q-ml-md').mark(
                    'who-opened'
                )
        self.status = await portal_access.portal_status(self.patient.id)
        self.messages = await outbox.messages_for_patient(self.patient.id)
        self.content()
        self.prescriptions = PrescriptionsSection(self.patient, self.staff, self.actor)
        await self.prescriptions.show()
        self.appointments = AppointmentsSection(self.patient, self.viewer)
        await self.appointments.show()
        self.dialogs = ui.element()  # outside the refreshable parts, so a refresh never closes an open dialog
        self.billing = await billing_section(self.patient, self.viewer)
        unsubscribe = events.subscribe(self.patient.id, self.on_change)
        ui.context.client.on_delete(unsubscribe)  # deleted = gone for good (a brief reconnect keeps following)

    async def on_change(self, event: events.Event) -> None:
        if event.topic == events.MESSAGES:
            await self.refresh_messages()
        elif event.topic == events.PORTAL:
            await self.refresh()
        elif event.topic == events.BILLING:
            await self.billing.on_change(event)
        elif event.topic == events.PRESCRIPTIONS:
            await self.prescriptions.reload()
        elif event.topic == events.APPOINTMENTS:
            await self.appointments.on_change(event)

    @ui.refreshable_method
    def content(self) -> None:
        status, patient = self.status, self.patient
        with ui.row().classes('w-full items-center justify-between no-wrap'):
            with ui.column().classes('gap-0'):
                ui.label(f'{patient.last_name}, {patient.first_name}').classes('text-h5').props(
                    'role=heading aria-level=1'
                )
                ui.label(
                    f'Born {us_date(patient.date_of_birth)}'
                    + (f' · Chart {patient.chart_number}' if patient.chart_number else '')
                ).classes('text-grey-8')
            with ui.row().classes('items-center gap-2'):
                portal_badge('active' if status.active else ('disabled' if status.disabled_at else 'none'))
                self.actions_menu(status.active)
        if self.problem:
            with (
                ui.card().classes('w-full bg-red-1 text-negative q-pa-sm').props('flat bordered role=alert'),
                ui.row().classes('items-center no-wrap'),
            ):
                ui.icon('error_outline', size='sm')
                ui.label(self.problem).mark('portal-problem')
                if self.problem_link:
                    ui.link(*self.problem_link).classes('text-weight-medium').mark('problem-link')
        if self.next_steps and status.active:
            self.next_steps_card()
        with ui.row().classes('w-full items-stretch gap-4'):
            self.demographics(status.active)
            self.portal_panel(status)
        self.messages_panel()
        activation_help(expanded=not status.active)

    # -- sections ---------------------------------------------------------------------------

    def actions_menu(self, active: bool) -> None:
        button = ui.button(icon='more_vert').props('round outline aria-label="Patient actions"').mark('patient-actions')
        with button:
            ui.tooltip('Portal and patient actions')
        with button, ui.menu().props('anchor="bottom right" self="top right"'):
            if active:
                ui.menu_item('Send login link by email', on_click=self.send_login_link)
                ui.menu_item(self.text_action, on_click=self.notify_by_text)
                ui.separator()
                ui.menu_item('Disable Patient Portal', on_click=self.disable)
            else:
                ui.menu_item('Enable Patient Portal', on_click=self.enable)
                ui.menu_item(self.text_action, on_click=self.notify_by_text)
            ui.separator()
            ui.menu_item('Edit demographics', on_click=self.edit)

    @property
    def text_action(self) -> str:
        return 'Notify by text' if notifications.can_send_texts() else COPY_TEXT

    def next_steps_card(self) -> None:
        with ui.card().classes('w-full bg-green-1 q-pa-md').props('flat bordered').mark('next-steps'):
            ui.label('Portal enabled. Next steps:').classes('text-subtitle1 text-weight-medium')
            ui.label(
                'Email the invitation now (it explains the portal and carries a login link), or text the patient. '
                'Later visits: the patient enters their email address on the portal and gets a link.'
            )
            with ui.row().classes('gap-2'):
                ui.button('Email the invitation now', icon='mail', on_click=self.send_login_link).mark('next-email')
                ui.button(self.text_action, icon='sms', on_click=self.notify_by_text).props('outline').mark('next-text')

    def demographics(self, portal_active: bool) -> None:
        patient = self.patient
        with ui.card().classes('col-12 col-md q-pa-md').props('flat bordered'):
            with ui.row().classes('w-full items-center justify-between'):
                ui.label('Demographics').classes('text-subtitle1 text-weight-medium')
                ui.button('Edit', icon='edit', on_click=self.edit).props('flat dense').mark('edit-patient')
            with ui.grid(columns='auto 1fr').classes('gap-x-4 gap-y-1'):
                for label, value in (
                    ('Name', patient.full_name),
                    ('Date of birth', us_date(patient.date_of_birth)),
                    ('Email', patient.email),
                    ('Mobile phone', display_phone(patient.phone)),
                    ('Address', patient.address),
                    ('Chart number', patient.chart_number),
                ):
                    ui.label(label).classes('text-grey-7')
                    ui.label(value or 'not on file').classes('' if value else 'text-grey-6 text-italic')
            if patient.text_blocked_reason:
                ui.label(f'Not reachable by text: {patient.text_blocked_reason}').classes(
                    'text-caption text-negative'
                ).mark('text-blocked')
            if portal_active:
                ui.label('The email is the portal login and is locked while the portal is active.').classes(
                    'text-caption text-grey-7'
                )

    def portal_panel(self, status: portal_access.PortalStatus) -> None:
        zone = self.time_zone
        with ui.card().classes('col-12 col-md q-pa-md').props('flat bordered').mark('portal-panel'):
            ui.label('Patient portal').classes('text-subtitle1 text-weight-medium')
            if status.active:
                with ui.row().classes('items-center gap-2'):
                    ui.icon('check_circle', color='positive')
                    ui.label('Active').classes('text-positive text-weight-medium')
                rows = [
                    ('Login email', status.login_email),
                    ('Activated', f'{local_time(status.enabled_at, zone)} by {status.enabled_by or "unknown"}'),
                    ('Last login', local_time(status.last_login_at, zone) or 'never'),
                ]
            else:
                with ui.row().classes('items-center gap-2'):
                    ui.icon('block', color='grey-7')
                    ui.label('Inactive').classes('text-grey-8 text-weight-medium')
                rows = []
                if status.disabled_at:
                    rows = [
                        ('Disabled', f'{local_time(status.disabled_at, zone)} by {status.disabled_by or "unknown"}'),
                        ('Last login', local_time(status.last_login_at, zone) or 'never'),
                    ]
                else:
                    ui.label('Not enabled yet. Use the ⋯ menu: Enable Patient Portal.').classes('text-grey-8')
            if rows:
                with ui.grid(columns='auto 1fr').classes('gap-x-4 gap-y-1'):
                    for label, value in rows:
                        ui.label(label).classes('text-grey-7')
                        ui.label(value)

    @ui.refreshable_method
    def messages_panel(self) -> None:
        messages = self.messages
        with ui.card().classes('w-full q-pa-md').props('flat bordered').mark('messages'):
            with ui.row().classes('w-full items-center justify-between'):
                ui.label('Messages sent to this patient').classes('text-subtitle1 text-weight-medium')
                ui.button('Refresh', icon='refresh', on_click=self.refresh).props('flat dense')
            if not messages:
                ui.label('No emails or texts yet.').classes('text-grey-7')
                return
            ui.label(f'Times in {self.time_zone.replace("_", " ")} time.').classes('text-caption text-grey-7')
            with ui.element('q-markup-table').props('flat dense separator=horizontal').classes('w-full'):
                with ui.element('thead'), ui.element('tr'):
                    for heading in ('Created', 'Message', 'To', 'Sent by', 'Status', 'Attempts', 'Server / details'):
                        with ui.element('th').classes('text-left'):
                            ui.label(heading)
                with ui.element('tbody'):
                    for message in messages:
                        self.message_row(message)

    def message_row(self, message: OutboxMessage) -> None:
        zone = self.time_zone
        label, color = STATUSES.get(message.status, (message.status.capitalize(), 'grey'))
        with ui.element('tr'):
            with ui.element('td'):
                ui.label(local_time(message.created_at, zone))
            with ui.element('td'):
                kind = CHANNELS.get(message.channel, message.channel)
                ui.label(f'{kind} · {PURPOSES.get(message.purpose, message.purpose)}')
            with ui.element('td'):
                to = message.to_address
                ui.label(display_phone(to) if to.startswith('+') else to).style('white-space: nowrap')
            with ui.element('td'):
                ui.label(outbox.sent_by_label(message))
            with ui.element('td'):
                ui.badge(label, color=color)
            with ui.element('td'):
                ui.label(str(message.attempts))
            with ui.element('td').style('white-space: normal; max-width: 28rem'):
                if message.sent_at:
                    ui.label(f'Accepted {local_time(message.sent_at, zone)}').classes('text-caption')
                if message.server_reply:
                    ui.label(message.server_reply).classes('text-grey-8')
                if message.last_error:
                    ui.label(message.last_error).classes('text-negative')
                if message.status == Status.QUEUED and message.next_attempt_at and message.attempts:
                    ui.label(f'Next try {local_time(message.next_attempt_at, zone)}').classes('text-caption')

    # -- actions ------------------------------------------------------------------------------

    async def refresh(self) -> None:
        async with self._loading:
            self.patient = await get_patient(self.patient.id)
            self.status = await portal_access.portal_status(self.patient.id)
            self.messages = await outbox.messages_for_patient(self.patient.id)
            await self.content.refresh()

    async def refresh_messages(self) -> None:
        async with self._loading:
            self.messages = await outbox.messages_for_patient(self.patient.id)
            await self.messages_panel.refresh()

    async def _run(self, action: str, success: str) -> bool:
        """Shared shape of the menu actions: run, show the refusal or the success, refresh the panel."""
        self.problem, self.problem_link, self.next_steps = '', None, False
        actor = self.actor
        try:
            if action == 'enable':
                await portal_access.enable_portal(self.patient.id, self.staff, actor)
            elif action == 'disable':
                await portal_access.disable_portal(self.patient.id, self.staff, actor)
        except DomainError as error:
            self.problem = str(error)
            if other_id := getattr(error, 'other_patient_id', None):
                self.problem_link = (
                    f"Open {getattr(error, 'other_patient_name', 'the other patient')}'s profile",
                    f'/staff/patients/{other_id}',
                )
            await self.refresh()
            return False
        ui.notify(success, type='positive')
        await self.refresh()
        return True

    async def enable(self) -> None:
        self.next_steps = await self._run('enable', f'The patient portal is now active for {self.patient.full_name}.')
        if self.next_steps:
            await self.content.refresh()

    async def disable(self) -> None:
        with (
            self.dialogs,
            titled_dialog('Disable the patient portal?', style='max-width: 480px') as dialog,
        ):
            ui.label(
                f'{self.patient.full_name} will no longer be able to log in. Login links already sent stop working '
                'and any open portal session ends at once. You can enable the portal again later.'
            )
            with ui.row().classes('w-full justify-end'):
                ui.button('Cancel', on_click=lambda: dialog.submit(False)).props('flat')
                ui.button('Disable portal', color='negative', on_click=lambda: dialog.submit(True)).mark(
                    'confirm-disable'
                )
        dialog.open()
        confirmed = await dialog
        dialog.delete()
        if confirmed:
            await self._run('disable', f'The patient portal is now disabled for {self.patient.full_name}.')

    async def send_login_link(self) -> None:
        self.problem, self.problem_link, self.next_steps = '', None, False
        try:
            message = await notifications.send_login_link_email(self.patient.id, self.actor)
        except DomainError as error:
            self.problem = str(error)
        else:
            if message.status == Status.SENT:
                ui.notify(
                    f'Invitation with a login link sent to {message.to_address}. '
                    f'The mail server accepted it: {message.server_reply}',
                    type='positive',
                    multi_line=True,
                )
            else:
                self.problem = (
                    f'The mail server did not accept the invitation for {message.to_address} yet '
                    f'({message.last_error}). It stays in the outbox and is retried automatically.'
                )
        await self.refresh()

    async def notify_by_text(self) -> None:
        """Send the rule-6 text through the SMS provider or, without one, copy it for the practice's phone system."""
        patient = self.patient = await get_patient(self.patient.id)  # a STOP may have arrived since the page opened
        text = notifications.text_invitation(patient.practice)
        can_send = notifications.can_send_texts()
        try:
            phone = textable_phone(patient.phone)
            phone_problem = ''
        except InvalidPhone as error:
            phone, phone_problem = '', str(error)
        active = (await portal_access.portal_status(patient.id)).active
        blocked = (
            str(notifications.NotReachableByText(patient.text_blocked_reason)) if patient.text_blocked_reason else ''
        )
        with (
            self.dialogs,
            titled_dialog('Notify by text' if can_send else COPY_TEXT, style='max-width: 560px') as dialog,
        ):
            ui.label(f'To {patient.full_name}, {display_phone(patient.phone) or "no phone on file"}').classes(
                'text-grey-8'
            )
            ui.label(text).classes('bg-grey-2 rounded-borders q-pa-sm').style('white-space: pre-wrap').mark(
                'text-preview'
            )
            ui.label(notifications.REPLIES_NOT_READ).classes('text-caption text-grey-8').mark('replies-note')
            if not can_send:
                ui.label(
                    'The portal has no SMS provider: copy the text into your phone system and send it from there. '
                    'The Messages table records it as copied, not sent.'
                ).classes('text-caption text-grey-8')
            problem = ui.label(
                phone_problem or blocked or ('' if active else str(notifications.TextNeedsActivePortal()))
            )
            problem.classes('text-negative').props('role=alert')

            async def send() -> None:
                try:
                    message = await notifications.send_text_invitation(patient.id, self.actor)
                except DomainError as error:
                    problem.text = str(error)
                    return
                dialog.submit(message)

            async def copy_for_phone_system() -> None:
                ui.clipboard.write(text)
                try:
                    message = await notifications.record_copied_text_invitation(patient.id, self.actor)
                except DomainError as error:
                    problem.text = str(error)
                    return
                dialog.submit(message)

            def copy() -> None:
                ui.clipboard.write(text)
                ui.notify('Message copied to the clipboard.')

            with ui.row().classes('w-full justify-end'):
                ui.button('Close', on_click=lambda: dialog.submit(None)).props('flat')
                if can_send:
                    ui.button('Copy text', icon='content_copy', on_click=copy).props('outline')
                    action = ui.button('Send', icon='sms', on_click=send).mark('send-text')
                    action.set_enabled(bool(phone) and active and not blocked)
                else:
                    action = ui.button(COPY_TEXT, icon='content_copy', on_click=copy_for_phone_system).mark('copy-text')
                    action.set_enabled(bool(phone) and active)
        dialog.open()
        message = await dialog
        dialog.delete()
        if isinstance(message, OutboxMessage):
            self.problem, self.problem_link = '', None
            shown_to = display_phone(message.to_address)
            if message.status == Status.COPIED:
                ui.notify(f'Text copied for {shown_to}. Send it from your phone system.', type='info')
            elif message.status == Status.SENT:
                ui.notify(f'Text accepted by the SMS provider for {shown_to}.', type='positive')
            else:
                self.problem = f'The text to {shown_to} was not sent: {message.last_error}'
            await self.refresh()

    async def edit(self) -> None:
        active = (await portal_access.portal_status(self.patient.id)).active

        async def save(data: PatientInput) -> None:
            await update_patient(self.patient.id, data, self.actor)

        with self.dialogs:
            saved = await patient_dialog('Edit demographics', save, patient=self.patient, email_locked=active)
        if saved:
            ui.notify('Patient details saved.', type='positive')
            await self.refresh()
