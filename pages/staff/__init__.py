"""The staff console route tree (`/staff`)."""

from nicegui import APIRouter

router = APIRouter(prefix='/staff')

# Importing the page modules registers their routes on `router`.
from pages.staff import (  # noqa: E402, F401
    api_clients,
    audit,
    csv_import,
    email_upkeep,
    login,
    practice_settings,
    prescriptions,
    profile,
    release_evidence,
    requests,
    schedule,
    search,
    set_password,
    setup,
    team,
    two_factor,
    verifications,
)
