"""The patient portal route tree (`/`): Prescriptions, Appointments, Billing (the entry pages are in `pages.entry`)."""

from nicegui import APIRouter

router = APIRouter()

# Importing the page modules registers their routes on `router`.
from pages.patient import appointments, billing, prescriptions, rx  # noqa: E402, F401
