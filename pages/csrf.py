"""One CSRF mechanism for every form POST of both trees (the entry pages, patient and staff logout).

The token is an HMAC of the visitor's session id (the id inside the signed, HttpOnly session cookie that
NiceGUI's middleware gives every request), under a key derived from the app secret for this purpose
only (`portal.keys.csrf_key`). A page puts it in a hidden field; the POST must bring it back. Another
site can make a browser send the cookie, but it cannot read the cookie or our pages, so it cannot know
the token: a forged POST is refused. It works without JavaScript, and a token lives as long as the session cookie.
"""

import hashlib
import hmac

from nicegui.storage import request_contextvar
from starlette.requests import Request

FIELD = 'csrf_token'
_key: bytes | None = None


def configure(key: str) -> None:
    """`key`: the CSRF key derived from the app secret (`portal.keys.csrf_key`), used for nothing else."""
    global _key
    _key = key.encode()


def _session_id(request: Request) -> str:
    return str(request.session.get('id', '')) if 'session' in request.scope else ''


def token(request: Request | None = None) -> str:
    """The token for the current visitor (the request being served, by default)."""
    request = request or request_contextvar.get()
    if _key is None or request is None:
        raise RuntimeError('csrf.configure() was not called, or no request is being served')
    session_id = _session_id(request)
    if not session_id:
        raise RuntimeError('no session: NiceGUI gives every request one before the routes run')
    return hmac.new(_key, session_id.encode(), hashlib.sha256).hexdigest()


def is_valid(request: Request, submitted: object) -> bool:
    """Whether a POSTed token belongs to this visitor's session (constant-time comparison)."""
    if not isinstance(submitted, str) or not submitted or _key is None or not _session_id(request):
        return False
    return hmac.compare_digest(submitted, token(request))
