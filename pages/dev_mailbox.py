"""/dev/mailbox: read what the built-in dev mailbox received. Exists only without real SMTP."""

import html
import re

from nicegui import APIRouter, ui

from portal import app as portal_app

router = APIRouter()
URL = re.compile(r'(https?://[^\s<]+)')


@router.page('/dev/mailbox', title='Dev mailbox')
def dev_mailbox_page() -> None:
    ui.label('Dev mailbox').classes('text-h5')
    ui.label('Mail sent by the portal while no real SMTP server is configured. Newest first.').classes('text-grey-8')
    mailbox = portal_app.dev_mailbox
    messages = mailbox.messages() if mailbox else []
    if not messages:
        ui.label('No messages yet.')
    for message in messages:
        with ui.card().classes('w-full max-w-3xl'):
            ui.label(message.subject).classes('text-subtitle1 text-weight-medium')
            ui.label(f'To {message.to} · {message.received_at:%Y-%m-%d %H:%M:%S} UTC').classes('text-caption')
            body = URL.sub(r'<a href="\1">\1</a>', html.escape(message.body))
            ui.html(f'<pre style="white-space: pre-wrap; word-break: break-all">{body}</pre>', sanitize=False)
