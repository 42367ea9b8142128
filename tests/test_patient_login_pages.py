"""The patient's login pages, driven through NiceGUI's simulated user against the whole app."""

from nicegui import ui
from nicegui.testing import User

from models.portal_account import LoginToken
from services import magic_link
from tests import factories
from tests.mail import SmtpServer, code_in, link_in

SAME_WORDS = 'belongs to a patient portal account, we have just sent a login link to it'


def _path(url: str) -> str:
    return url.removeprefix('http://portal.test')


async def _ask_for_link(user: User, email: str) -> None:
    await user.open('/login')
    user.find('Email address').type(email)
    user.find('Email me a login link').click()


async def test_known_and_unknown_addresses_get_the_same_answer(user: User, smtp_server: SmtpServer):
    patient = await factories.make_active_patient()
    await _ask_for_link(user, patient.email)
    await user.should_see(SAME_WORDS)
    await user.should_see('spam or junk folder')
    await smtp_server.wait_for(patient.email)

    await _ask_for_link(user, 'nobody.here@example.com')
    await user.should_see(SAME_WORDS)
    assert smtp_server.to('nobody.here@example.com') == []


async def test_invalid_email_is_explained(user: User):
    await _ask_for_link(user, 'jamie at example')
    await user.should_see('is not a valid email address')


async def test_asking_twice_within_a_minute_says_to_wait(user: User, smtp_server: SmtpServer):
    patient = await factories.make_active_patient()
    await _ask_for_link(user, patient.email)
    await user.should_see(SAME_WORDS)
    await _ask_for_link(user, patient.email)
    await user.should_see('Please wait a minute before asking for another link.')


async def test_opening_the_link_changes_nothing_until_continue_is_clicked(user: User, smtp_server: SmtpServer):
    patient = await factories.make_active_patient()
    await magic_link.request_login_link(patient.email, '127.0.0.1')
    link = link_in(await smtp_server.wait_for(patient.email))

    for _ in range(3):  # a mail scanner, a preview, the patient
        await user.open(_path(link))
        await user.should_see('Continue')
    assert await LoginToken.filter(used_at__isnull=False).count() == 0

    user.find(kind=ui.button, content='Continue').click()
    await user.should_see('Log out', retries=100)
    assert await LoginToken.filter(used_at__isnull=False).count() == 1


async def test_a_used_link_gets_a_clear_page_with_a_way_back(user: User, smtp_server: SmtpServer):
    patient = await factories.make_active_patient()
    await magic_link.request_login_link(patient.email, '127.0.0.1')
    link = link_in(await smtp_server.wait_for(patient.email))
    await magic_link.sign_in_with_link(link.rsplit('/', 1)[1], '127.0.0.1')

    await user.open(_path(link))
    await user.should_see("This link can't be used")
    await user.should_see('already been used')
    user.find('Get a new login link').click()
    await user.should_see('Email me a login link')


async def test_a_tampered_link_gets_a_clear_page(user: User):
    await user.open('/login/link/eyJhbGciOiJIUzI1NiJ9.e30.not-a-real-signature')
    await user.should_see("This link can't be used")
    await user.should_see('not a valid login link')


async def test_the_code_from_the_email_logs_in_on_the_device_that_asked(user: User, smtp_server: SmtpServer):
    patient = await factories.make_active_patient()
    await _ask_for_link(user, patient.email)
    await user.should_see('6-digit code')
    code = code_in(await smtp_server.wait_for(patient.email))
    user.find(kind=ui.input).type(code)
    user.find('Log in with code').click()
    await user.should_see('Log out', retries=100)


async def test_logout_ends_the_session(user: User, smtp_server: SmtpServer):
    patient = await factories.make_active_patient()
    await magic_link.request_login_link(patient.email, '127.0.0.1')
    link = link_in(await smtp_server.wait_for(patient.email))
    await user.open(_path(link))
    user.find(kind=ui.button, content='Continue').click()
    await user.should_see('Log out', retries=100)
    await user.open('/logout')
    await user.should_see('Email me a login link')
    await user.open('/prescriptions')
    await user.should_see('Email me a login link')
