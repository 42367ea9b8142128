"""The staff console route tree (`/staff`)."""

from nicegui import APIRouter

router = APIRouter(prefix='/staff')

# Importing the page modules registers their routes on `router`.
from pages.staff import email_upkeep, login, profile, search  # noqa: E402, F401
