"""The entry pages' one stylesheet, served by the app under a content-hashed name (cached for a year:
a new version has a new name). It copies the look of the NiceGUI pages (Quasar's colors, type and
spacing) in a few KiB, with no script and no web font."""

import hashlib
from pathlib import Path

from fastapi.responses import Response

from pages.entry import router
from pages.theme import PRIMARY

_CSS = (Path(__file__).parent / 'portal.css').read_text().replace('var(--primary)', PRIMARY)
STYLESHEET_URL = f'/static/portal-{hashlib.sha256(_CSS.encode()).hexdigest()[:12]}.css'


@router.api_route(STYLESHEET_URL, methods=['GET', 'HEAD'], include_in_schema=False)
async def stylesheet() -> Response:
    return Response(_CSS, media_type='text/css', headers={'Cache-Control': 'public, max-age=31536000, immutable'})
