"""NiceGUI's three `BaseHTTPMiddleware`s, as plain ASGI middlewares that do the same.

A Starlette `BaseHTTPMiddleware` runs the rest of the app in a task group and pipes every response through
a memory stream: work each request pays for, once per such middleware, to set a context variable or touch
a header (issue 11, `bench.page_cost`). NiceGUI adds three:

- `RequestTrackingMiddleware` (with the storage secret; what lets `app.storage.user` work in a request).
  `RequestTracking` does its four things in the request's own task: the request in NiceGUI's context
  variable, a session id in the session cookie, the browser's user storage loaded before the page runs,
  and the in-flight count that keeps NiceGUI from pruning that storage mid-request. Unlike NiceGUI's, it
  makes every request of a session wait for that one load (`_user_storage_loaded`).
- `RedirectWithPrefixMiddleware`: a redirect to `/path` goes to `X-Forwarded-Prefix` + `/path`, for an app
  served under a sub-path by a proxy. `PrefixedRedirects` does it too, but only for a prefix that is a plain
  path: NiceGUI's would turn `//elsewhere.example` into a redirect off the site.
- `SetCacheControlMiddleware`: NiceGUI's versioned files (not its dynamic resources) are cached for a year.
  `StaticCacheControl` sets the same header on the same paths.

`install` swaps each in where NiceGUI put its own, so the order of the middlewares stays NiceGUI's.
"""

import asyncio
import re
import uuid
from typing import Any

from nicegui import __version__ as nicegui_version
from nicegui import app as nicegui_app
from nicegui.middlewares import RedirectWithPrefixMiddleware, SetCacheControlMiddleware
from nicegui.storage import RequestTrackingMiddleware, request_contextvar
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PLAIN_PREFIX = re.compile(r'(/[A-Za-z0-9._~-]+)+')
VERSIONED = f'/_nicegui/{nicegui_version}/'
DYNAMIC = f'/_nicegui/{nicegui_version}/dynamic_resources/'


class RequestTracking:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope['type'] != 'http':
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        request_contextvar.set(request)  # this task's context: the request's own, as under BaseHTTPMiddleware
        session_id = scope['session'].setdefault('id', str(uuid.uuid4()))
        request.state.responded = False
        storage = nicegui_app.storage
        in_flight = storage._active_request_sessions
        in_flight[session_id] += 1
        try:
            await _user_storage_loaded(storage, session_id)

            async def send_tracked(message: Message) -> None:
                if message['type'] == 'http.response.start':
                    request.state.responded = True  # the browser's cookie storage can no longer change
                await send(message)

            await self.app(scope, receive, send_tracked)
        finally:
            in_flight[session_id] -= 1
            if in_flight[session_id] <= 0:
                del in_flight[session_id]


_loading: dict[str, asyncio.Future[None]] = {}


async def _user_storage_loaded(storage: Any, session_id: str) -> None:
    """The browser's user storage, loaded before the request goes on. NiceGUI puts it away when the browser
    has had no open page for a while, and registers it again before it has been read back from disk: a
    second request arriving meanwhile found it empty and was sent to the sign-in page. Every request of the
    session waits for the one load."""
    loading = _loading.get(session_id)
    if loading is None:
        if session_id in storage._users:
            return
        loading = _loading[session_id] = asyncio.ensure_future(storage._create_user_storage(session_id))
        loading.add_done_callback(lambda _: _loading.pop(session_id, None))
    await asyncio.shield(loading)


class PrefixedRedirects:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        prefix = Headers(scope=scope).get('x-forwarded-prefix', '') if scope['type'] == 'http' else ''
        if not PLAIN_PREFIX.fullmatch(prefix):
            await self.app(scope, receive, send)
            return

        async def send_prefixed(message: Message) -> None:
            if message['type'] == 'http.response.start':
                headers = MutableHeaders(scope=message)
                if headers.get('location', '').startswith('/'):
                    headers['location'] = prefix + headers['location']
            await send(message)

        await self.app(scope, receive, send_prefixed)


class StaticCacheControl:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get('path', '') if scope['type'] == 'http' else ''
        if not path.startswith(VERSIONED) or path.startswith(DYNAMIC):
            await self.app(scope, receive, send)
            return

        async def send_cached(message: Message) -> None:
            if message['type'] == 'http.response.start':
                MutableHeaders(scope=message)['cache-control'] = nicegui_app.config.cache_control_directives
            await send(message)

        await self.app(scope, receive, send_cached)


REPLACEMENTS: dict[type, type] = {
    RequestTrackingMiddleware: RequestTracking,
    RedirectWithPrefixMiddleware: PrefixedRedirects,
    SetCacheControlMiddleware: StaticCacheControl,
}


def install(app: Any) -> None:
    """Put each plain middleware where NiceGUI added its own (at start-up, once `ui.run` has added them).

    The middleware stack is built again on the next request; one already built (for the lifespan) keeps
    NiceGUI's, which only requests would pass through.
    """
    replaced = [
        Middleware(REPLACEMENTS[middleware.cls]) if middleware.cls in REPLACEMENTS else middleware
        for middleware in app.user_middleware
    ]
    if replaced != app.user_middleware:
        app.user_middleware[:] = replaced
        app.middleware_stack = None
