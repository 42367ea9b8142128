"""Builds the NiceGUI app: settings, services, database, routers, guards, background loops."""

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi.responses import RedirectResponse
from nicegui import app, ui
from nicegui.storage import Storage
from starlette.types import ASGIApp, Receive, Scope, Send
from tortoise.contrib.fastapi import RegisterTortoise

from pages.access import PATIENT_SESSION_KEY, STAFF_SESSION_KEY
from portal import handler_signatures, keys, nicegui_middleware
from portal.config import Settings, use_settings
from portal.db import apply_migrations, tortoise_config
from portal.devmail import DevMailbox
from portal.errors import TOKEN_IN_PATH, FriendlyErrorMiddleware, redact_framework_logs
from portal.headers import SecurityHeadersMiddleware
from portal.mail import smtp_transport
from services import events, magic_link, outbox, reminders, sessions, staff_totp, throttle
from services.csv_import import jobs as import_jobs
from services.transports import TwilioTransport

log = logging.getLogger('portal')

OUTBOX_RETRY_SECONDS = 30
# Default deny: every path needs a session of its tree except these (each also covers what is below it).
# A new public route joins one of these lists explicitly; anything else, added later, is guarded.
PUBLIC_PATIENT_PATHS = ('/login', '/help', '/logout', '/static', '/verify')  # /static: entry pages' stylesheet
PUBLIC_STAFF_PATHS = ('/staff/login', '/staff/logout', '/staff/set-password')
# Machine-to-machine APIs: no browser session, so the session guard lets them through and each route
# requires its own credential (the FHIR API: an API client's bearer token, else 401, never a redirect).
TOKEN_PATHS = ('/fhir',)
FRAMEWORK_PATHS = ('/_nicegui', '/_nicegui_ws', '/favicon.ico')  # NiceGUI's scripts, styles and websocket
DEV_MAILBOX_PATH = '/dev/mailbox'  # public only in demo mode (its links belong to demo patients)

dev_mailbox: DevMailbox | None = None
# NiceGUI's own lifespan, kept once: each page test builds the app again and must not stack wrappers.
_NICEGUI_LIFESPAN = app.router.lifespan_context


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == prefix or path.startswith(prefix + '/') for prefix in prefixes)


def is_public(path: str, *, demo: bool) -> bool:
    """Whether an anonymous visitor may reach `path` (the allow-list; everything else is guarded)."""
    if _under(path, FRAMEWORK_PATHS) or _under(path, TOKEN_PATHS):
        return True
    if path == '/staff' or path.startswith('/staff/'):
        return _under(path, PUBLIC_STAFF_PATHS)
    return _under(path, PUBLIC_PATIENT_PATHS) or (demo and _under(path, (DEV_MAILBOX_PATH,)))


class GuardMiddleware:
    """First line of defence, deny by default: anonymous visitors reach only the public list.

    Staff paths (and the dev mailbox outside demo mode) need a staff session; every other path a patient
    session. Pages check the session again, against the database, through their decorators
    (`pages.patient.page`, `pages.staff.page`) when they load and before every event.
    A pure ASGI middleware: `BaseHTTPMiddleware` cost each page about a millisecond of the server's time
    (a task group and a stream around every response) to read one key (issue 11, `bench.page_cost`).
    """

    def __init__(self, app_: ASGIApp, demo: bool) -> None:
        self.app = app_
        self.demo = demo

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope['type'] == 'http':
            redirect = self.redirect_for(scope['path'])
            if redirect is not None:
                await RedirectResponse(redirect, status_code=303)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def redirect_for(self, path: str) -> str | None:
        """Where an anonymous visitor to `path` is sent, or None when they may go on."""
        if is_public(path, demo=self.demo):
            return None
        if path == '/staff' or path.startswith(('/staff/', DEV_MAILBOX_PATH)):
            if not app.storage.user.get(STAFF_SESSION_KEY):
                return f'/staff/login?next={quote(path)}'
        elif not app.storage.user.get(PATIENT_SESSION_KEY):
            return '/login'
        return None


class RedactTokens(logging.Filter):
    """Access logs print request paths; a login link's path is a credential and must not appear."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(TOKEN_IN_PATH.sub(r'\1[redacted]', a) if isinstance(a, str) else a for a in record.args)
        return True


def create_app(settings: Settings) -> None:
    """Wire everything for one process. Called by `main.py`, and again by each page test."""
    global dev_mailbox
    use_settings(settings)
    configure_logging()
    handler_signatures.install()  # before any element is made
    access_log = logging.getLogger('uvicorn.access')
    if not any(isinstance(f, RedactTokens) for f in access_log.filters):
        access_log.addFilter(RedactTokens())
    redact_framework_logs()  # NiceGUI logs a failed page's traceback, uvicorn an escaped one: masked too
    if settings.redis_url:
        Storage.redis_url = settings.redis_url
    # NiceGUI's user storage references sessions: in the data directory (not the cwd), owner-only.
    Storage.path = _private_dir(Path(os.environ.get('NICEGUI_STORAGE_PATH') or settings.data_dir / 'nicegui'))
    throttle.configure(settings.redis_url)
    bus = events.configure(settings.redis_url)
    sessions.configure(settings.session_idle_minutes, settings.session_absolute_hours)
    staff_totp.configure(keys.totp_key(settings.secret_key))
    magic_link.configure(
        magic_link.LinkSettings(
            secret=keys.link_key(settings.secret_key),
            base_url=settings.base_url,
            valid_minutes=settings.link_valid_minutes,
        )
    )
    dev_mailbox = DevMailbox(settings.data_dir / 'devmail', settings.dev_mailbox_port) if settings.dev_mailbox else None
    outbox.configure(smtp_transport(settings, dev_mailbox.port if dev_mailbox else None), sms=_sms_transport(settings))

    orm = RegisterTortoise(config=tortoise_config(settings.database_url))
    retry_task: asyncio.Task | None = None

    async def startup() -> None:
        nonlocal retry_task
        await apply_migrations(settings.database_url)
        await orm.init_orm()
        await bus.start()
        if settings.demo:
            from portal.cli import print_demo_banner
            from services.demo_practice import seed_demo_practice

            print_demo_banner(settings, await seed_demo_practice(settings.base_url))
        if dev_mailbox:
            dev_mailbox.start()
        retry_task = asyncio.create_task(_retry_outbox_forever())
        await import_jobs.resume_waiting()  # a job queued or interrupted before this start goes on

    async def shutdown() -> None:
        if retry_task:
            retry_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await retry_task
        await outbox.wait_for_pending()
        await import_jobs.stop_background()
        await bus.close()
        if dev_mailbox:
            dev_mailbox.stop()
        await orm.close_orm()

    @contextlib.asynccontextmanager
    async def lifespan(fastapi_app: Any) -> AsyncIterator[None]:
        # NiceGUI runs async on_startup handlers as background tasks, so a request (or a test) could
        # arrive before the schema exists. The database is ready before NiceGUI starts serving.
        nicegui_middleware.install(app)  # NiceGUI added its own when ui.run started the server
        await startup()
        try:
            async with _NICEGUI_LIFESPAN(fastapi_app):
                yield
        finally:
            await shutdown()

    app.router.lifespan_context = lifespan
    app.add_middleware(GuardMiddleware, demo=settings.demo)
    app.add_middleware(FriendlyErrorMiddleware)  # a failing plain route answers a page, never a traceback
    app.add_middleware(SecurityHeadersMiddleware, https=settings.https)  # outside the guard: its redirects too

    from api import fhir
    from pages import csrf, entry, failures, patient, staff, verify
    from pages.entry.not_found import handle_404

    csrf.configure(keys.csrf_key(settings.secret_key))
    app.include_router(fhir.router)
    app.include_router(entry.router)
    app.include_router(staff.router)
    app.include_router(patient.router)
    app.include_router(verify.router)
    app.add_exception_handler(404, handle_404)  # the portal's own 404 page, not NiceGUI's raw one
    app.on_page_exception(failures.nicegui_page)  # a NiceGUI page failing while built: the same words
    if dev_mailbox:
        from pages import dev_mailbox as dev_mailbox_page

        app.include_router(dev_mailbox_page.router)

    # Quasar's ajax bar flashes an unnamed progressbar outside any landmark on every request (two axe
    # violations) and says nothing a person needs: the pages show their own progress where it matters.
    app.config.quasar_config['loadingBar']['skipHijack'] = True
    ui.run(
        host=settings.host,
        port=settings.port,
        title='Patient Portal',
        storage_secret=keys.cookie_key(settings.secret_key),
        session_middleware_kwargs={'https_only': settings.https},  # the session cookie is Secure behind https
        reload=False,
        show=False,
        language='en-US',
        favicon='👁️',
        tailwind=False,
        uvicorn_logging_level='info',
    )


def _private_dir(path: Path) -> Path:
    """A directory only the portal's user can enter (NiceGUI's user storage lives there, not in the cwd)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)  # also when it existed with wider permissions
    return path.resolve()


def _sms_transport(settings: Settings) -> TwilioTransport | None:
    if settings.sms_provider != 'twilio':
        return None  # staff copy texts into their own phone system
    return TwilioTransport(
        account_sid=settings.twilio_account_sid or '',
        auth_token=settings.twilio_auth_token or '',
        from_number=settings.twilio_from or '',
        api_url=settings.twilio_api_url or '',
    )


def configure_logging() -> None:
    """Print the app's own INFO lines (uvicorn configures only its loggers). Emails are masked where they
    are logged; the Twilio library logs whole requests (numbers and texts) at INFO, so it is held to WARNING."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter('%(levelname)s:     %(name)s: %(message)s'))
    for name in ('portal', 'services', 'pages'):
        logger = logging.getLogger(name)
        logger.setLevel(logging.INFO)
        if not logger.handlers:
            logger.addHandler(handler)
    logging.getLogger('twilio').setLevel(logging.WARNING)


async def _retry_outbox_forever() -> None:
    while True:
        await asyncio.sleep(OUTBOX_RETRY_SECONDS)
        try:
            await outbox.retry_due()
        except Exception:  # a bad row or a database hiccup must not stop retries for good
            log.exception('outbox retry pass failed')
        try:
            await reminders.send_due()  # claimed atomically: two instances never queue the same reminder
        except Exception:
            log.exception('appointment reminder pass failed')
        try:
            await import_jobs.resume_waiting()  # claimed atomically: a job runs on one instance only
        except Exception:
            log.exception('import pass failed')
