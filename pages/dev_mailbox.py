"""/dev/mailbox: read what the built-in dev mailbox received. Exists only without real SMTP.

The messages carry working login links, so outside demo mode the page is for signed-in staff only:
a portal deployed without PORTAL_SMTP_HOST must not hand every patient's login link to anyone who
guesses the URL. A polling timer is acceptable here (a developer tool, not a patient page).
"""

import html
import re

from nicegui import APIRouter, ui

from pages.access import current_staff
from pages.theme import apply_theme
from portal import app as portal_app
from portal.config import get_settings
from portal.devmail import DevMailbox, MailboxMessage

router = APIRouter()
URL = re.compile(r'https?://[^\s<>"\']+[^\s<>"\'.,;:!?)\]]')
CODE = re.compile(r'\bcode\b\D{0,40}\b(\d{6})\b', re.IGNORECASE)
REFRESH_SECONDS = 2.0


def linkify(text: str) -> str:
    """Plain text as safe HTML: everything escaped, http(s) URLs turned into links."""
    pieces, last = [], 0
    for match in URL.finditer(text):
        url = match.group(0)
        pieces.append(html.escape(text[last : match.start()]))
        pieces.append(f'<a href="{html.escape(url)}" rel="noopener noreferrer">{html.escape(url)}</a>')
        last = match.end()
    pieces.append(html.escape(text[last:]))
    return ''.join(pieces)


def _message_card(message: MailboxMessage) -> None:
    with ui.card().classes('w-full q-pa-md gap-1').props('flat bordered'):
        ui.label(message.subject or '(no subject)').classes('text-subtitle1 text-weight-medium').style(
            'overflow-wrap: anywhere'
        )
        ui.label(f'To {message.to}').classes('text-body2').style('overflow-wrap: anywhere')
        ui.label(f'From {message.sender} · {message.received_at:%Y-%m-%d %H:%M:%S} UTC').classes(
            'text-caption text-grey-8'
        ).style('overflow-wrap: anywhere')
        with ui.row().classes('items-center gap-4 q-my-sm'):
            if link := URL.search(message.body):
                ui.link('Open the link in this message', link.group(0)).classes(
                    'text-weight-medium text-primary'
                ).props('rel="noopener noreferrer"')
            if code := CODE.search(message.body):
                ui.label(f'Code {code.group(1)}').classes('text-weight-medium').style('letter-spacing: 0.1em')
        ui.html(linkify(message.body), tag='pre').classes('text-body2 q-ma-none').style(
            'white-space: pre-wrap; overflow-wrap: anywhere; font-family: inherit'
        )


def _staff_only_notice() -> None:
    with ui.column().classes('w-full max-w-2xl mx-auto q-pa-md gap-3'):
        ui.label('Dev mailbox').classes('text-h5').props('role=heading aria-level=1')
        ui.label(
            'This mailbox holds working login links, so outside demo mode it is for signed-in staff only. '
            'Sign in to the staff console, then open this page again.'
        ).classes('text-body1')
        ui.link('Staff sign-in', '/staff/login')


@router.page('/dev/mailbox', title='Dev mailbox')
async def dev_mailbox_page() -> None:
    apply_theme()
    mailbox = portal_app.dev_mailbox
    if mailbox is None:  # the router is only included with a dev mailbox; this keeps the page honest
        ui.label('There is no dev mailbox: this portal sends mail through a real SMTP server.')
        return
    if not get_settings().demo and await current_staff() is None:
        _staff_only_notice()
        return
    ui.query('body').classes('bg-grey-1')
    _mailbox_view(mailbox)


def _mailbox_view(mailbox: DevMailbox) -> None:
    seen = {'latest': mailbox.latest_id()}

    with ui.column().classes('w-full max-w-3xl mx-auto q-pa-md gap-3'):
        with ui.row().classes('w-full items-center justify-between no-wrap'):
            ui.label('Dev mailbox').classes('text-h5').props('role=heading aria-level=1')
            with ui.row().classes('gap-1 no-wrap'):
                ui.button(icon='refresh', on_click=lambda: show.refresh()).props(
                    'flat round aria-label=Refresh'
                ).tooltip('Refresh')
                ui.button(icon='delete_sweep', on_click=lambda: confirm.open()).props(
                    'flat round aria-label="Delete all messages"'
                )
        ui.label(
            'Mail the portal sent while no PORTAL_SMTP_HOST is configured, newest first. '
            'It updates by itself when new mail arrives.'
        ).classes('text-body2 text-grey-8')

        @ui.refreshable
        def show() -> None:
            messages = mailbox.messages()
            seen['latest'] = messages[0].id if messages else ''
            if not messages:
                ui.label('No messages yet. Ask for a login link at /login and it will appear here.').classes(
                    'text-body1 q-my-lg'
                )
                return
            total = mailbox.count()
            shown = f'{len(messages)} of {total} messages' if total > len(messages) else f'{total} messages'
            ui.label(shown if total != 1 else '1 message').classes('text-caption text-grey-8')
            for message in messages:
                _message_card(message)

        show()

    with ui.dialog() as confirm, ui.card():
        ui.label('Delete all messages in the dev mailbox?')
        with ui.row().classes('w-full justify-end'):
            ui.button('Cancel', on_click=confirm.close).props('flat')

            def clear() -> None:
                mailbox.clear()
                confirm.close()
                show.refresh()

            ui.button('Delete all', on_click=clear).props('color=negative')

    def check_for_new_mail() -> None:
        if mailbox.latest_id() != seen['latest']:
            show.refresh()

    ui.timer(REFRESH_SECONDS, check_for_new_mail)
