"""The Patient Profile (`/staff/patients/{id}`): demographics, portal status and messages, the ⋯ menu."""

import asyncio

from nicegui import context, ui

from models.outbox import OutboxMessage
from models.patient import Patient
from pages.access import StaffViewer
from pages.staff.components import activation_help, local_time, portal_badge, us_date
from pages.staff.page import staff_page
from pages.staff.patient_form import patient_dialog
from services import audit, events, notifications, outbox, portal_access
from services.errors import DomainError, NotFound
from services.patients import InvalidPhone, PatientInput, get_patient, textable_phone, update_patient

PURPOSES = {'login_link': 'Login link', 'invitation': 'Login link', 'text_invitation': 'Portal invitation'}
STATUS_COLORS = {'sent': 'positive', 'queued': 'warning', 'failed': 'negative'}


@staff_page('/patients/{patient_id}', title='Patient Profile')
async def patient_profile_page(viewer: StaffViewer, patient_id: str) -> None:
    try:
        patient = await get_patient(int(patient_id)) if patient_id.isdigit() else None
    except NotFound:
        patient = None
    if patient is None:
        context.client.status_code = 404
        with ui.card().classes('w-full'):
            ui.label('Patient not found').classes('text-h6')
            ui.label(f'There is no patient with the number {patient_id!r}. It may have been mistyped.')
            ui.link('Back to patient search', '/staff')
        return
    ui.page_title(f'{patient.full_name} · Staff console')
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
        self.actor: audit.Actor = viewer.actor
        self.problem = ''  # the last refusal, kept on screen until the next action
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
        self.status = await portal_access.portal_status(self.patient.id)
        self.messages = await outbox.messages_for_patient(self.patient.id)
        self.content()
        self.dialogs = ui.element()  # outside the refreshable parts, so a refresh never closes an open dialog
        unsubscribe = events.subscribe(self.patient.id, self.on_change)
        ui.context.client.on_delete(unsubscribe)  # deleted = gone for good (a brief reconnect keeps following)

    async def on_change(self, event: events.Event) -> None:
        if event.topic == events.MESSAGES:
            await self.refresh_messages()
        elif event.topic == events.PORTAL:
            await self.refresh()

    @ui.refreshable_method
    def content(self) -> None:
        status, patient = self.status, self.patient
        with ui.row().classes('w-full items-center justify-between no-wrap'):
            with ui.column().classes('gap-0'):
                ui.label(f'{patient.last_name}, {patient.first_name}').classes('text-h5')
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
                ui.menu_item('Notify by text', on_click=self.notify_by_text)
                ui.separator()
                ui.menu_item('Disable Patient Portal', on_click=self.disable)
            else:
                ui.menu_item('Enable Patient Portal', on_click=self.enable)
                ui.menu_item('Notify by text', on_click=self.notify_by_text)
            ui.separator()
            ui.menu_item('Edit demographics', on_click=self.edit)

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
                    ('Mobile phone', patient.phone),
                    ('Address', patient.address),
                    ('Chart number', patient.chart_number),
                ):
                    ui.label(label).classes('text-grey-7')
                    ui.label(value or 'not on file').classes('' if value else 'text-grey-6 text-italic')
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
                    for heading in ('Created', 'Message', 'To', 'Status', 'Attempts', 'Mail server / details'):
                        with ui.element('th').classes('text-left'):
                            ui.label(heading)
                with ui.element('tbody'):
                    for message in messages:
                        self.message_row(message)

    def message_row(self, message: OutboxMessage) -> None:
        zone = self.time_zone
        log_only = message.channel == 'sms' and message.server_reply == outbox.SMS_LOG_REPLY
        with ui.element('tr'):
            with ui.element('td'):
                ui.label(local_time(message.created_at, zone))
            with ui.element('td'):
                kind = 'Text' if message.channel == 'sms' else 'Email'
                ui.label(f'{kind} · {PURPOSES.get(message.purpose, message.purpose)}')
            with ui.element('td'):
                ui.label(message.to_address)
            with ui.element('td'):
                if log_only:
                    ui.badge('Log only: not sent to a phone', color='orange-9')
                else:
                    ui.badge(message.status.capitalize(), color=STATUS_COLORS.get(message.status, 'grey'))
            with ui.element('td'):
                ui.label(str(message.attempts))
            with ui.element('td').style('white-space: normal; max-width: 28rem'):
                if message.sent_at:
                    ui.label(f'Accepted {local_time(message.sent_at, zone)}').classes('text-caption')
                if message.server_reply:
                    ui.label(message.server_reply).classes('text-orange-10' if log_only else 'text-grey-8')
                if message.last_error:
                    ui.label(message.last_error).classes('text-negative')
                if message.status == 'queued' and message.next_attempt_at and message.attempts:
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
        self.problem = ''
        actor = self.actor
        try:
            if action == 'enable':
                await portal_access.enable_portal(self.patient.id, self.staff, actor)
            elif action == 'disable':
                await portal_access.disable_portal(self.patient.id, self.staff, actor)
        except DomainError as error:
            self.problem = str(error)
            await self.refresh()
            return False
        ui.notify(success, type='positive')
        await self.refresh()
        return True

    async def enable(self) -> None:
        await self._run('enable', f'The patient portal is now active for {self.patient.full_name}.')

    async def disable(self) -> None:
        with self.dialogs, ui.dialog() as dialog, ui.card().classes('q-pa-md').style('max-width: 480px'):
            ui.label('Disable the patient portal?').classes('text-h6')
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
        self.problem = ''
        try:
            message = await notifications.send_login_link_email(self.patient.id, self.actor)
        except DomainError as error:
            self.problem = str(error)
        else:
            if message.status == 'sent':
                ui.notify(
                    f'Login link sent to {message.to_address}. The mail server accepted it: {message.server_reply}',
                    type='positive',
                    multi_line=True,
                )
            else:
                self.problem = (
                    f'The mail server did not accept the login link for {message.to_address} yet '
                    f'({message.last_error}). It stays in the outbox and is retried automatically.'
                )
        await self.refresh()

    async def notify_by_text(self) -> None:
        practice = self.patient.practice
        text = notifications.text_invitation(practice)
        try:
            phone = textable_phone(self.patient.phone)
            phone_problem = ''
        except InvalidPhone as error:
            phone, phone_problem = '', str(error)
        active = (await portal_access.portal_status(self.patient.id)).active
        with self.dialogs, ui.dialog() as dialog, ui.card().classes('q-pa-md').style('max-width: 560px'):
            ui.label('Notify by text').classes('text-h6')
            ui.label(f'To {self.patient.full_name}, {self.patient.phone or "no phone on file"}').classes('text-grey-8')
            ui.label(text).classes('bg-grey-2 rounded-borders q-pa-sm').style('white-space: pre-wrap').mark(
                'text-preview'
            )
            problem = ui.label(phone_problem or ('' if active else str(notifications.TextNeedsActivePortal())))
            problem.classes('text-negative').props('role=alert')

            async def send() -> None:
                try:
                    message = await notifications.send_text_invitation(self.patient.id, self.actor)
                except DomainError as error:
                    problem.text = str(error)
                    return
                dialog.submit(message)

            def copy() -> None:
                ui.clipboard.write(text)
                ui.notify('Message copied to the clipboard.')

            with ui.row().classes('w-full justify-end'):
                ui.button('Close', on_click=lambda: dialog.submit(None)).props('flat')
                ui.button('Copy text', icon='content_copy', on_click=copy).props('outline')
                send_button = ui.button('Send', icon='sms', on_click=send).mark('send-text')
                send_button.set_enabled(bool(phone) and active)
        dialog.open()
        message = await dialog
        dialog.delete()
        if isinstance(message, OutboxMessage):
            self.problem = ''
            if message.server_reply == outbox.SMS_LOG_REPLY:
                ui.notify(
                    f'Text recorded for {message.to_address}. {outbox.SMS_LOG_REPLY}', type='warning', multi_line=True
                )
            else:
                ui.notify(f'Text sent to {message.to_address}.', type='positive')
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
