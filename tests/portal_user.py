"""Signing a simulated patient in the honest way: ask for a link, open it, press Continue."""

import asyncio
import time
from collections.abc import Awaitable, Callable

from nicegui import ui
from nicegui.testing import User

from models.patient import Patient
from services import magic_link
from tests.conftest import TEST_BASE_URL
from tests.mail import SmtpServer, link_in


async def sign_in(user: User, smtp_server: SmtpServer, patient: Patient) -> None:
    """Leaves `user` signed in as `patient`, on the page the portal lands on after login."""
    already = len(smtp_server.to(patient.email))
    await magic_link.request_login_link(patient.email, '127.0.0.1')
    link = link_in(await smtp_server.wait_for(patient.email, count=already + 1))
    await user.open(link.removeprefix(TEST_BASE_URL))
    user.find(kind=ui.button, content='Continue').click()  # the page's text says 'Continue' too
    await user.should_see('Log out', retries=100)  # signing in and navigating take a few event-loop turns


async def wait_until(condition: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
    """Click handlers run as tasks: wait for their effect with a deadline, never a fixed sleep."""
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f'condition not met within {timeout} s')
        await asyncio.sleep(0.02)
