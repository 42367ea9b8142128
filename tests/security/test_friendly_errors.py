"""A failure on our side shows a sentence, never a traceback: plain routes, NiceGUI pages and their handlers.

The causes are simulated here (a service raising), so these run on SQLite and PostgreSQL alike; the real
database cut, through a proxy, is `test_database_outage.py`.
"""

import html
import logging

import pytest
from nicegui import ui
from nicegui.testing import User

from models.appointment import AppointmentRequest
from pages.failures import FAILED, UNAVAILABLE
from portal.headers import NICEGUI_CSP, STRICT_CSP
from services import patient_portal, prescriptions, rx_release, sessions
from tests import factories
from tests.mail import SmtpServer
from tests.portal_user import sign_in, wait_until

SECRET_EMAIL = 'jamie.secret@example.com'


def _fail_with(error: Exception):
    async def fail(*args: object, **kwargs: object) -> None:
        raise error

    return fail


def _logged(caplog: pytest.LogCaptureFixture) -> str:
    """What the server logged (messages and tracebacks, as a handler prints them); then forgets the ERROR
    lines the `user` fixture would otherwise fail the test for: here they are expected."""
    formatter = logging.Formatter()
    text = '\n'.join(formatter.format(record) for record in caplog.records)
    caplog.clear()
    return text


async def test_an_unexpected_error_in_a_plain_route_answers_the_friendly_500_page_and_logs_the_traceback_masked(
    user: User, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    monkeypatch.setattr(patient_portal, 'practice_contact', _fail_with(RuntimeError(f'bug near {SECRET_EMAIL}')))

    response = await user.http_client.get('/help')

    assert response.status_code == 500
    assert FAILED in response.text
    for leak in ('Traceback', 'RuntimeError', 'bug near', SECRET_EMAIL):
        assert leak not in response.text
    assert response.headers['content-security-policy'] == STRICT_CSP  # the headers apply to error pages too
    assert response.headers['x-frame-options'] == 'DENY'
    assert '<script' not in response.text
    logged = _logged(caplog)
    assert 'Traceback' in logged and 'RuntimeError' in logged and 'GET /help answered 500' in logged
    assert SECRET_EMAIL not in logged and 'j***@e***.com' in logged


async def test_a_lost_database_connection_in_a_plain_route_answers_503_try_again_in_a_minute(
    user: User, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    monkeypatch.setattr(patient_portal, 'practice_contact', _fail_with(ConnectionResetError(104, 'reset by peer')))

    response = await user.http_client.get('/login')

    assert response.status_code == 503
    assert UNAVAILABLE in html.unescape(response.text) and 'Try again' in response.text
    assert 'Traceback' not in response.text and 'ConnectionResetError' not in response.text
    assert response.headers['retry-after'] == '60'
    assert response.headers['content-security-policy'] == STRICT_CSP and '<script' not in response.text
    assert 'GET /login answered 503' in _logged(caplog)


async def test_a_staff_plain_route_failing_answers_in_the_consoles_look(
    user: User, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    from pages.entry import not_found

    monkeypatch.setattr(not_found, 'page', _fail_with(ConnectionRefusedError(111, 'refused')))
    response = await user.http_client.get('/staff/login/no-such-page', follow_redirects=False)

    assert response.status_code == 503
    assert 'Staff console' in response.text and UNAVAILABLE in html.unescape(response.text)
    _logged(caplog)


async def test_a_nicegui_page_failing_while_built_shows_the_words_without_a_traceback(
    user: User, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    patient = await factories.make_active_patient()
    await factories.make_spectacle_rx(patient)
    await sign_in(user, smtp_server, patient)
    monkeypatch.setattr(prescriptions, 'released_with_codes', _fail_with(ValueError(f'bad row of {SECRET_EMAIL}')))

    response = await user.http_client.get('/prescriptions')

    assert response.status_code == 500  # NiceGUI's status for a page that failed; the words are ours
    assert response.headers['x-nicegui-content'] == 'page'  # drawn by NiceGUI in the portal's frame
    assert response.headers['content-security-policy'] == NICEGUI_CSP  # the policy its scripts run under
    assert FAILED in response.text and 'Patient Portal' in response.text and 'Try again' in response.text
    for leak in ('Traceback', 'ValueError', 'bad row', SECRET_EMAIL):
        assert leak not in response.text
    logged = _logged(caplog)
    assert 'ValueError' in logged and SECRET_EMAIL not in logged


async def test_a_click_whose_handler_loses_the_database_says_so_on_the_page(
    user: User, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    patient = await factories.make_active_patient()
    await factories.make_spectacle_rx(patient, consent=False)
    await sign_in(user, smtp_server, patient)
    await user.open('/prescriptions')
    monkeypatch.setattr(rx_release, 'record_consent', _fail_with(ConnectionResetError(104, 'reset by peer')))

    user.find(kind=ui.checkbox).click()
    user.find('Show my prescriptions').click()

    await user.should_see(UNAVAILABLE)
    await user.should_see('Receive your prescriptions here')  # nothing pretended to work
    _logged(caplog)


def _type_as_the_browser_does(user: User, label: str, text: str) -> None:
    """The browser's value event (`User.type` sets the value on the server, past the page's event guard)."""
    [field] = user.find(kind=ui.textarea, content=label).elements
    [listener] = [li for li in field._event_listeners.values() if li.type.startswith('update:')]  # noqa: SLF001
    field._handle_event({'listener_id': listener.id, 'args': text})  # noqa: SLF001


async def test_text_typed_while_the_session_cannot_be_checked_is_kept_and_sent_once_the_database_is_back(
    user: User, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    patient = await factories.make_active_patient()
    await sign_in(user, smtp_server, patient)
    await user.open('/appointments')
    resolve = sessions.resolve_patient_session
    monkeypatch.setattr(sessions, 'resolve_patient_session', _fail_with(ConnectionResetError(104, 'reset by peer')))

    _type_as_the_browser_does(user, 'Reason for the visit', 'Glasses feel weak')
    user.find(kind=ui.button, content='Send request').click()
    await user.should_see(UNAVAILABLE)  # the click is refused: no session check, no action
    assert not await AppointmentRequest.filter(patient_id=patient.id).exists()

    monkeypatch.setattr(sessions, 'resolve_patient_session', resolve)
    user.find(kind=ui.button, content='Send request').click()
    await wait_until(lambda: AppointmentRequest.filter(patient_id=patient.id, reason='Glasses feel weak').exists())
    _logged(caplog)
