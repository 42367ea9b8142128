"""The dev mailbox: without PORTAL_SMTP_HOST, real mail goes to a built-in SMTP server and /dev/mailbox."""

import asyncio
import time
from email.message import EmailMessage

import aiosmtplib
import pytest
from nicegui import ui
from nicegui.testing import User

from models.sessions import StaffSession
from portal import app as portal_app
from portal.devmail import DevMailbox
from services.demo_practice import DEMO_PATIENT_EMAIL
from tests import factories
from tests.factories import STAFF_PASSWORD
from tests.portal_user import submit

ATTACK = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture
def dev_mail(app_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Requested before `user`: the app starts without a real SMTP server, so it runs the dev mailbox."""
    monkeypatch.delenv('PORTAL_SMTP_HOST')
    monkeypatch.delenv('PORTAL_SMTP_PORT')


@pytest.fixture
def demo(dev_mail: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('PORTAL_DEMO', 'true')


def mailbox() -> DevMailbox:
    assert portal_app.dev_mailbox is not None
    return portal_app.dev_mailbox


async def wait_for_mail(count: int = 1, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while mailbox().count() < count:
        if time.monotonic() > deadline:
            raise AssertionError(f'the dev mailbox did not receive {count} message(s) within {timeout} s')
        await asyncio.sleep(0.05)


async def sign_in_staff(user: User) -> None:
    """Through the real sign-in form; `next` keeps this test independent of the console's other pages."""
    staff = await factories.make_staff('staff')  # a password is enough: no code step to type
    await user.open('/staff/login?next=/staff/login')
    user.find('Email').type(staff.email)
    user.find('Password').type(STAFF_PASSWORD)
    user.find('Sign in').click()
    deadline = time.monotonic() + 10
    while not await StaffSession.filter(staff_id=staff.id).exists():
        assert time.monotonic() < deadline, 'staff sign-in did not complete'
        await asyncio.sleep(0.05)


async def ask_for_login_link(user: User, email: str) -> None:
    await user.open('/login')
    await submit(user, 'Email me a login link', email=email)
    await user.should_see('Check your email')


async def send_raw(subject: str, body: str) -> None:
    message = EmailMessage()
    message['From'] = 'someone@example.org'
    message['To'] = 'staff@example.org'
    message['Subject'] = subject
    message.set_content(body)
    await aiosmtplib.send(message, hostname='127.0.0.1', port=mailbox().port)


async def test_login_link_travels_through_the_outbox_into_the_dev_mailbox(dev_mail, user: User):
    patient = await factories.make_active_patient()
    await sign_in_staff(user)
    await ask_for_login_link(user, patient.email)
    await wait_for_mail()

    await user.open('/dev/mailbox')
    await user.should_see('Your login link for the Clearview Eye Care patient portal')
    await user.should_see(f'To {patient.email}')
    [link] = user.find(ui.link).elements
    assert '/login/link/' in link.props['href']
    await user.should_see('Code ')  # the one-time code, for the patient on another device


async def test_newest_message_comes_first_and_new_mail_appears_without_reloading(dev_mail, user: User):
    await sign_in_staff(user)
    await send_raw('First message', 'one')
    await wait_for_mail(1)
    await user.open('/dev/mailbox')
    await user.should_see('First message')

    await send_raw('Second message', 'two')
    await wait_for_mail(2)
    await user.should_see('Second message', retries=100)  # the page's timer picks it up
    in_page_order = user.client.layout.descendants()
    subjects = [e.text for e in in_page_order if isinstance(e, ui.label) and e.text.endswith(' message')]
    assert subjects == ['Second message', 'First message']


async def test_message_content_is_escaped_and_only_web_links_become_links(dev_mail, user: User):
    await sign_in_staff(user)
    await send_raw(ATTACK, f'{ATTACK}\nSee https://portal.example.com/help?a=1&b=2. And javascript:alert(1)\n')
    await wait_for_mail()
    await user.open('/dev/mailbox')
    await user.should_see(ATTACK)  # the subject, shown as text
    [body] = user.find(ui.html).elements
    assert '<script>' not in body.content and '<img' not in body.content
    assert '&lt;script&gt;' in body.content
    assert '<a href="https://portal.example.com/help?a=1&amp;b=2" rel="noopener noreferrer">' in body.content
    assert 'href="javascript' not in body.content


async def test_outside_demo_mode_the_mailbox_is_for_signed_in_staff_only(dev_mail, user: User):
    await send_raw('A login link', 'https://portal.example.com/login/link/secret')
    await wait_for_mail()
    await user.open('/dev/mailbox')  # default deny: anonymous visitors are sent to the staff sign-in
    await user.should_see('Staff sign-in')
    await user.should_not_see('A login link')


async def test_in_demo_mode_the_demo_patient_can_fetch_a_login_link_from_the_mailbox(demo, user: User):
    await ask_for_login_link(user, DEMO_PATIENT_EMAIL)
    await wait_for_mail()
    await user.open('/dev/mailbox')
    await user.should_see(f'To {DEMO_PATIENT_EMAIL}')
    await user.should_see('Lakeside Family Eye Care')


async def test_with_a_real_smtp_server_there_is_no_dev_mailbox(user: User):
    assert portal_app.dev_mailbox is None
    response = await user.http_client.get('/dev/mailbox')
    assert response.status_code == 303  # not public outside demo mode, and not there at all
    assert response.headers['location'].startswith('/staff/login')
