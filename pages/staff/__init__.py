"""The staff console route tree (`/staff`)."""

from nicegui import APIRouter

router = APIRouter(prefix='/staff')

from pages.staff import login  # noqa: E402, F401
