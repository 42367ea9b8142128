"""The entry pages (login, link sent, the login link's Continue, help, logout) and the 404 page, served as
server-rendered HTML from the same app: plain FastAPI routes with Jinja2 templates and one small
stylesheet, every form a plain POST with a CSRF token (`pages.csrf`). They work without JavaScript and
without a websocket (a weak signal is what makes a NiceGUI login fail), and an anonymous visitor holds
no NiceGUI client. The signed-in tabs stay NiceGUI pages; both share the session in `app.storage.user`.
"""

from fastapi import APIRouter

router = APIRouter()

# Importing the route modules registers their routes on `router`.
from pages.entry import help, login, stylesheet  # noqa: E402, F401
