"""The patient portal route tree (`/`): login by magic link, then Prescriptions, Appointments, Billing."""

from nicegui import APIRouter

router = APIRouter()

# Importing the page modules registers their routes on `router`.
from pages.patient import appointments, billing, help, login, prescriptions, rx  # noqa: E402, F401
