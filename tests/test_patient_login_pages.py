"""The patient's entry pages (server-rendered HTML, plain form POSTs with a CSRF token), driven the way a
browser without JavaScript would: through the simulated user's HTTP client against the whole app."""

import re
from datetime import UTC, datetime, timedelta

import httpx
from nicegui import Client
from nicegui.testing import User

from models.portal_account import LoginToken, PortalAccount
from models.sessions import PortalSession, StaffSession
from pages import csrf
from services import audit, magic_link
from tests import factories
from tests.mail import SmtpServer, code_in, link_in
from tests.portal_user import link_path, log_out, plain_page, sign_in, submit

SAME_WORDS = 'belongs to a patient portal account, we have just sent a login link to it'


async def _ask_for_link(user: User, email: str) -> None:
    await user.open('/login')
    await submit(user, 'Email me a login link', email=email)


async def _emailed_link(smtp_server: SmtpServer, email: str, count: int = 1) -> str:
    return link_path(link_in(await smtp_server.wait_for(email, count=count)))


async def test_known_and_unknown_addresses_get_the_same_answer(user: User, smtp_server: SmtpServer):
    patient = await factories.make_active_patient()
    await _ask_for_link(user, patient.email)
    known = plain_page(user)
    await user.should_see(SAME_WORDS)
    await user.should_see('spam or junk folder')
    await smtp_server.wait_for(patient.email)

    await _ask_for_link(user, 'nobody.here@example.com')
    unknown = plain_page(user)
    assert smtp_server.to('nobody.here@example.com') == []
    assert (known.path, known.status_code) == (unknown.path, unknown.status_code) == ('/login/sent', 200)
    assert known.text.replace(patient.email, 'ADDRESS') == unknown.text.replace('nobody.here@example.com', 'ADDRESS')


async def test_the_entry_pages_need_no_nicegui_client_and_name_the_practice(user: User):
    await factories.make_practice(name='Lakeside Family Eye Care', phone='(207) 555-0134')
    clients = len(Client.instances)
    for path in ('/login', '/help', '/login/link/not-a-link'):
        response = await user.http_client.get(path)
        assert response.status_code == 200
        assert 'X-Nicegui-Content' not in response.headers
        assert '<script' not in response.text  # works with JavaScript disabled: there is none
        assert 'Lakeside Family Eye Care' in response.text
        assert 'href="tel:+12075550134"' in response.text
    assert len(Client.instances) == clients  # an anonymous visitor holds no NiceGUI client


async def test_a_form_without_the_right_csrf_token_is_refused(user: User, smtp_server: SmtpServer):
    patient = await factories.make_active_patient()
    await user.open('/login')
    async with httpx.AsyncClient(transport=user.http_client._transport, base_url='http://test') as other:  # noqa: SLF001
        others_page = await other.get('/login')  # another visitor: another session cookie, another token
    others_token = re.search(r'name="csrf_token" value="(\w+)"', others_page.text).group(1)
    for token in (None, 'forged', others_token):
        data = {'email': patient.email} | ({csrf.FIELD: token} if token else {})
        response = await user.http_client.post('/login', data=data)
        assert response.status_code == 403
        assert 'nothing was done' in response.text
    assert await LoginToken.all().count() == 0

    await submit(user, 'Email me a login link', email=patient.email)  # the page's own token
    assert plain_page(user).path == '/login/sent'


async def test_invalid_email_is_explained(user: User):
    await _ask_for_link(user, 'jamie at example')
    assert plain_page(user).status_code == 400
    await user.should_see('is not a valid email address')


async def test_asking_twice_within_a_minute_says_to_wait(user: User, smtp_server: SmtpServer):
    patient = await factories.make_active_patient()
    await _ask_for_link(user, patient.email)
    await user.should_see(SAME_WORDS)
    await _ask_for_link(user, patient.email)
    assert plain_page(user).status_code == 429
    await user.should_see('Please wait a minute before asking for another link.')


async def test_opening_the_link_consumes_nothing_until_continue_is_posted(user: User, smtp_server: SmtpServer):
    patient = await factories.make_active_patient()
    await magic_link.request_login_link(patient.email, '127.0.0.1')
    link = await _emailed_link(smtp_server, patient.email)

    assert (await user.http_client.head(link)).status_code == 200  # a mail scanner
    for _ in range(2):  # a preview, the patient
        await user.open(link)
        await user.should_see('Continue')
    assert await LoginToken.filter(used_at__isnull=False).count() == 0
    assert not await PortalSession.exists()

    forged = await user.http_client.post(link, data={csrf.FIELD: 'forged'})
    assert forged.status_code == 403
    assert await LoginToken.filter(used_at__isnull=False).count() == 0

    response = await submit(user, 'Continue')
    assert response.history[0].headers['location'] == '/'
    await user.should_see('Log out')
    assert await LoginToken.filter(used_at__isnull=False).count() == 1


async def test_without_javascript_request_open_continue_signs_in(user: User, smtp_server: SmtpServer):
    """Only HTML and form POSTs, as a browser with JavaScript disabled: then the NiceGUI tabs know the patient."""
    patient = await factories.make_active_patient(first_name='Robin')
    await _ask_for_link(user, patient.email)
    assert plain_page(user).path == '/login/sent'
    await user.open(await _emailed_link(smtp_server, patient.email))
    await user.should_see('Welcome')
    await submit(user, 'Continue')
    assert user.client is not None  # the portal's tabs are NiceGUI pages
    await user.should_see('Hello, Robin')
    assert (await user.http_client.get('/login')).headers['location'] == '/'  # the entry pages see it too


async def test_a_used_link_says_why_and_offers_a_new_one(user: User, smtp_server: SmtpServer):
    patient = await factories.make_active_patient()
    await magic_link.request_login_link(patient.email, '127.0.0.1')
    link = await _emailed_link(smtp_server, patient.email)
    await magic_link.sign_in_with_link(link.rsplit('/', 1)[1], '127.0.0.1')

    await user.open(link)
    await user.should_see("This link can't be used")
    await user.should_see('already been used')
    assert '<a class="button large" href="/login">Get a new login link</a>' in plain_page(user).html


async def test_a_link_that_expires_while_its_page_is_open_says_so_on_continue(user: User, smtp_server: SmtpServer):
    patient = await factories.make_active_patient()
    await _ask_for_link(user, patient.email)
    await user.open(await _emailed_link(smtp_server, patient.email))
    await LoginToken.all().update(expires_at=datetime.now(UTC) - timedelta(seconds=1))

    await submit(user, 'Continue')
    await user.should_see('The link has expired. Login links work for 15 minutes.')
    await user.should_see('Get a new login link')
    await user.open('/login')  # the address this browser asked with is filled in again
    assert f'value="{patient.email}"' in plain_page(user).html


async def test_a_superseded_link_says_a_newer_one_was_sent(user: User, smtp_server: SmtpServer):
    patient = await factories.make_active_patient()
    await magic_link.request_login_link(patient.email, '127.0.0.1')
    older = await _emailed_link(smtp_server, patient.email)
    account = await PortalAccount.get(patient_id=patient.id)
    await magic_link.issue_link(account, audit.Actor.patient(account.id, '127.0.0.1'), purpose='login_link')
    await user.open(older)
    await user.should_see('A newer login link was sent after this one.')


async def test_a_tampered_link_gets_a_clear_page(user: User):
    await user.open('/login/link/eyJhbGciOiJIUzI1NiJ9.e30.not-a-real-signature')
    await user.should_see("This link can't be used")
    await user.should_see('not a valid login link')


async def test_the_code_from_the_email_logs_in_on_the_device_that_asked(user: User, smtp_server: SmtpServer):
    patient = await factories.make_active_patient()
    await _ask_for_link(user, patient.email)
    await user.should_see('6-digit code')
    code = code_in(await smtp_server.wait_for(patient.email))
    await submit(user, 'Log in with code', code='000000' if code != '000000' else '111111')
    await user.should_see('That code is not correct')
    await submit(user, 'Log in with code', code=code)
    await user.should_see('Log out')


async def test_logout_is_a_post_with_the_token_and_says_so_on_the_login_page(user: User, smtp_server: SmtpServer):
    patient = await factories.make_active_patient()
    await _ask_for_link(user, patient.email)
    await user.open(await _emailed_link(smtp_server, patient.email))
    await submit(user, 'Continue')
    await user.should_see('Log out')

    await user.open('/logout')  # a GET (another site's image tag, say) only offers the button
    assert (await user.http_client.get('/prescriptions')).status_code == 200
    forged = await user.http_client.post('/logout', data={csrf.FIELD: 'forged'})
    assert forged.status_code == 403
    assert (await user.http_client.get('/prescriptions')).status_code == 200

    await user.open('/prescriptions')
    response = await log_out(user)
    assert response.history[0].headers['location'] == '/login?reason=signed_out'
    await user.should_see('You have logged out.')
    assert f'value="{patient.email}"' not in plain_page(user).html  # logout forgets the remembered address
    assert (await user.http_client.get('/login/sent')).headers['location'] == '/login'
    response = await user.http_client.get('/prescriptions')
    assert (response.status_code, response.headers['location']) == (303, '/login')


async def test_the_login_page_says_why_a_session_ended(user: User):
    for reason, words in (
        ('timed_out', 'after a period without activity'),
        ('disabled', 'turned off by the practice'),
        ('signed_out', 'You have logged out.'),
    ):
        await user.open(f'/login?reason={reason}')
        await user.should_see(words)
    await user.open('/login?reason=<b>nonsense</b>')
    assert 'nonsense' not in plain_page(user).text


async def test_unknown_addresses_get_a_404_page_with_a_way_back_in_both_trees(user: User, smtp_server: SmtpServer):
    await user.open('/login/nothing-here')
    page = plain_page(user)
    assert page.status_code == 404
    assert 'Page not found' in page.text and 'href="/"' in page.html
    assert 'HTTPException' not in page.html

    patient = await factories.make_active_patient()
    await sign_in(user, smtp_server, patient)
    for path in ('/no-such-page', '/billing/no/such/thing'):
        response = await user.http_client.get(path)
        assert response.status_code == 404, path
        assert 'Page not found' in response.text and 'Back to the portal' in response.text
        assert 'Log out' in response.text  # still in the signed-in frame
    missing_pdf = await user.http_client.get('/rx/999999.pdf')
    assert missing_pdf.status_code == 404
    assert 'could not be found' in missing_pdf.text and 'Back to the portal' in missing_pdf.text


async def test_staff_sign_out_is_a_post_with_the_token(user: User):
    from tests.test_staff_console import staff_sign_in

    staff = await staff_sign_in(user)
    live = StaffSession.filter(staff_id=staff.id, revoked_at=None).exists
    assert (await user.http_client.get('/staff/logout')).headers['location'] == '/staff'  # a GET changes nothing
    await user.http_client.post('/staff/logout', data={csrf.FIELD: 'forged'})
    assert await live()

    missing = await user.http_client.get('/staff/no-such-page')
    assert missing.status_code == 404
    assert 'Back to the staff console' in missing.text

    await user.open('/staff/team')
    response = await log_out(user, '/staff/logout')  # the frame's Sign out form, with the page's token
    assert response.history[0].headers['location'] == '/staff/login?reason=signed_out'
    await user.should_see('You have signed out.')
    assert not await live()
