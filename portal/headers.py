"""Security headers on every response: content policy, framing, referrer, sniffing, HSTS, caching.

Two content policies. Plain responses (the server-rendered entry pages, error bodies, anything not drawn
by NiceGUI) get a strict one: no inline script, no eval. NiceGUI pages cannot run under it, so they get
the tightest policy NiceGUI 3.x runs under; why each allowance is there is written in docs/security.md.
A response that sets its own Content-Security-Policy keeps it.

A pure ASGI middleware (not `BaseHTTPMiddleware`): it only adds headers to `http.response.start`, so
downloads stream as before.
"""

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

STRICT_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
# NiceGUI renders its page with inline <script> blocks (the element tree, the Vue app) and evaluates
# props and handlers with `new Function`/`eval`; Vue compiles templates at runtime (eval); Quasar and
# NiceGUI set inline styles. Everything else stays on our own origin; the websocket is same-origin.
NICEGUI_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; manifest-src 'self'; "
    "form-action 'self'; base-uri 'self'; frame-ancestors 'none'"
)
FRAME_ONLY_CSP = "frame-ancestors 'none'"  # PDFs: the browser's viewer must run, only framing is refused
HSTS = 'max-age=31536000'
# Their address carries a credential (a login or set-password token): no Referer leaves them, not even
# to this site's own pages.
LINK_PATHS = ('/login/link', '/staff/set-password', '/verify')  # /verify?code=: the code reads an Rx
CACHEABLE_ASSETS = ('/_nicegui/', '/static/')  # versioned scripts and styles (NiceGUI's, ours) keep their caching
# Stylesheets, scripts, fonts and images hold nothing of a patient: they may be cached wherever they are
# served (pages, PDFs, CSV, calendar files and JSON may not).
ASSET_TYPES = (b'text/css', b'text/javascript', b'application/javascript', b'font/', b'image/')


def is_nicegui_page(scope: Scope) -> bool:
    """NiceGUI marks the request of every page (and of its HTML error pages) when it builds the client.

    An error page's client belongs to NiceGUI's path-less page, marked with '' (not absent): under the
    strict policy its scripts would not run and the person would read nothing.
    """
    return scope.get('nicegui_page_path') is not None


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, https: bool = False) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope['type'] != 'http':
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message['type'] == 'http.response.start':
                message['headers'] = self._headers(scope, list(message.get('headers', [])))
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _headers(self, scope: Scope, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        path: str = scope.get('path', '')
        present = {name.lower() for name, _ in headers}
        content_type = next((value for name, value in headers if name.lower() == b'content-type'), b'').lower()

        def put(name: str, value: str, *, replace: bool = True) -> None:
            key = name.lower().encode()
            if key in present:
                if not replace:
                    return
                headers[:] = [(n, v) for n, v in headers if n.lower() != key]
            headers.append((key, value.encode()))

        if content_type.startswith(b'text/html') and is_nicegui_page(scope):
            policy = NICEGUI_CSP
        elif content_type.startswith(b'application/pdf'):
            policy = FRAME_ONLY_CSP
        else:
            policy = STRICT_CSP
        put('Content-Security-Policy', policy, replace=False)
        put('X-Frame-Options', 'DENY')
        put('X-Content-Type-Options', 'nosniff')
        put('Referrer-Policy', 'no-referrer' if path.startswith(LINK_PATHS) else 'same-origin')
        if self.https:
            put('Strict-Transport-Security', HSTS)
        if not path.startswith(CACHEABLE_ASSETS) and not content_type.startswith(ASSET_TYPES):
            put('Cache-Control', 'no-store')  # signed-in pages and downloads must not outlive the session
        return headers
