"""An exception escaping a plain route becomes a page a person understands, and a log line ops can use.

Without this, Starlette answers "Internal Server Error" (or, in debug, a traceback) and uvicorn logs the
traceback as it is, emails and tokens included. Here the visitor gets `pages.failures.plain_page` (503
when the database is out of reach, 500 otherwise) and the log gets the traceback with emails masked and
credentials cut out. NiceGUI pages handle their own failures (`app.on_page_exception`), so what reaches
this middleware comes from the plain routes: entry pages, `/verify`, downloads, the 404 page.

A pure ASGI middleware inside `SecurityHeadersMiddleware`, so the error page gets the same headers and
the strict content policy as any other plain page.
"""

import logging
import re
import traceback
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.requests import Request

from services.email_addresses import mask_email

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger('portal.errors')

TOKEN_IN_PATH = re.compile(r'(/login/link/|/staff/set-password/|/verify\?code=)[^\s?"]+')  # credentials: never in logs
JWT = re.compile(r'eyJ[\w-]+\.[\w-]+\.[\w-]+')  # a login link's token, wherever an exception message quotes it
EMAIL = re.compile(r'[\w.+-]+@[\w-]+(?:\.[\w-]+)+')


def redact(text: str) -> str:
    """Log text with credentials removed and email addresses masked."""
    text = TOKEN_IN_PATH.sub(r'\1[redacted]', text)
    text = JWT.sub('[redacted]', text)
    return EMAIL.sub(lambda match: mask_email(match.group()), text)


class RedactTracebacks(logging.Filter):
    """For loggers we do not write ourselves (NiceGUI's, uvicorn's errors): the message and the traceback
    pass through `redact` before any handler formats them."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = redact(record.getMessage())
        record.msg, record.args = message, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(''.join(traceback.format_exception(*record.exc_info)).rstrip('\n'))
        return True


def redact_framework_logs() -> None:
    for name in ('nicegui', 'uvicorn.error'):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTracebacks) for f in logger.filters):
            logger.addFilter(RedactTracebacks())


class FriendlyErrorMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope['type'] != 'http':
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message['type'] == 'http.response.start':
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as error:
            from pages import failures  # pages import portal modules: looked up when first needed

            request = Request(scope, receive)
            status = failures.status_code(error)
            log.log(
                logging.WARNING if status == 503 else logging.ERROR,
                '%s %s answered %d:\n%s',
                request.method,
                redact(request.url.path + (f'?{request.url.query}' if request.url.query else '')),
                status,
                redact(''.join(traceback.format_exception(error)).rstrip('\n')),
            )
            if started:
                raise  # part of the response is out (a stream): the server can only cut the connection
            await failures.plain_page(request, error)(scope, receive, send)
