from nicegui.testing import User

from services import magic_link
from tests import factories
from tests.mail import link_in


async def test_active_patient_receives_a_login_link(db, smtp_server):
    patient = await factories.make_active_patient()
    await magic_link.request_login_link(patient.email, '127.0.0.1')
    message = await smtp_server.wait_for(patient.email)
    assert '/login/link/' in link_in(message)


async def test_login_page_asks_for_email(user: User):
    await user.open('/login')
    await user.should_see('Email me a login link')
