"""NiceGUI's request tracking (what lets `app.storage.user` work during a request), as a plain ASGI middleware.

NiceGUI adds `RequestTrackingMiddleware` with the storage secret. It is a Starlette `BaseHTTPMiddleware`,
which runs the rest of the app in a task group and pipes every response through a memory stream: work a
page pays for on every load, to set one context variable (issue 11, `bench.page_cost`). `RequestTracking`
does the same four things in the request's own task: the request in NiceGUI's context variable, a session
id in the session cookie, the browser's user storage loaded before the page runs, and the in-flight count
that keeps NiceGUI from pruning that storage mid-request. `install` swaps it in where NiceGUI put its own,
so the order of the middlewares stays NiceGUI's.
"""

import uuid
from typing import Any

from nicegui import app as nicegui_app
from nicegui.storage import RequestTrackingMiddleware, request_contextvar
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send


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
            if session_id not in storage._users:
                await storage._create_user_storage(session_id)

            async def send_tracked(message: Message) -> None:
                if message['type'] == 'http.response.start':
                    request.state.responded = True  # the browser's cookie storage can no longer change
                await send(message)

            await self.app(scope, receive, send_tracked)
        finally:
            in_flight[session_id] -= 1
            if in_flight[session_id] <= 0:
                del in_flight[session_id]


def install(app: Any) -> None:
    """Put `RequestTracking` where NiceGUI added its own (at start-up, once `ui.run` has added it).

    The middleware stack is built again on the next request; one already built (for the lifespan) keeps
    NiceGUI's, which only requests would pass through.
    """
    replaced = [
        Middleware(RequestTracking) if middleware.cls is RequestTrackingMiddleware else middleware
        for middleware in app.user_middleware
    ]
    if replaced != app.user_middleware:
        app.user_middleware[:] = replaced
        app.middleware_stack = None
