"""/verify: a plain page anyone can open (no login, no script) that shows a shared Rx and its status in words."""

import logging
import re

from nicegui.testing import User

from models.audit import AuditEvent
from portal.app import RedactTokens
from services import audit, rx_lifecycle, rx_verification, verification_codes
from tests import factories
from tests.test_rx_lifecycle import glasses


async def _patient_with_rx():
    practice = await factories.make_practice(fax='(555) 010-2001')
    provider = await factories.make_provider(practice, npi='1234567893')
    prescriber = await factories.make_prescriber(provider)
    patient = await factories.make_patient(practice, first_name='Jamie', last_name='Rivera', address='12 Elm St')
    await factories.give_consent(patient)
    actor = audit.Actor.staff(prescriber)
    draft = await rx_lifecycle.save_draft(patient.id, glasses(provider.id), actor, staff=prescriber)
    rx = (await rx_lifecycle.sign(draft.id, prescriber, actor)).prescription
    return patient, provider, prescriber, rx, await rx_verification.current_code(rx)


async def _post(user: User, code: str):
    """Type a code into the form as a browser would: the page's CSRF token goes with it."""
    page = await user.http_client.get('/verify')
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    return await user.http_client.post('/verify', data={'code': code, 'csrf_token': token})


async def test_the_qr_address_shows_the_rx_as_issued_and_current_without_a_login(user: User):
    patient, provider, _, rx, code = await _patient_with_rx()

    response = await user.http_client.get(f'/verify?code={verification_codes.display(code)}')

    assert response.status_code == 200
    page = response.text
    assert re.search(r'class="rx-status current"[^>]*>Current<', page)
    for shown in ('Jamie Rivera', provider.display_name, '1234567893', 'Exam date', 'Expiry date', '-1.75', 'DS'):
        assert shown in page, shown
    assert 'Date of birth' not in page and '12 Elm St' not in page and patient.email not in page
    assert '<script' not in page
    assert "script-src 'self'" in response.headers['content-security-policy']
    assert 'not a contact lens verification request' in page
    event = await AuditEvent.get(action='rx.verified', object_id=rx.id)
    assert event.client_address and event.actor_type == 'public'


async def test_a_typed_code_is_posted_and_statuses_follow_the_rx(user: User):
    _, provider, prescriber, rx, code = await _patient_with_rx()
    typed = ' ' + verification_codes.display(code).lower().replace('-', ' ') + ' '

    assert '>Current<' in (await _post(user, typed)).text

    actor = audit.Actor.staff(prescriber)
    newer = await rx_lifecycle.save_draft(rx.patient_id, glasses(provider.id, issue_date=factories.today()), actor)
    await rx_lifecycle.sign(newer.id, prescriber, actor, confirm_supersede=True)
    assert '>Replaced by a newer prescription<' in (await _post(user, code)).text


async def test_unknown_and_withdrawn_codes_answer_alike(user: User):
    patient, _, _, rx, code = await _patient_with_rx()
    await rx_verification.stop_sharing(patient.id, rx.id, audit.SYSTEM)

    never_issued = verification_codes.new_code()
    withdrawn = await _post(user, code)
    unknown = await _post(user, never_issued)

    assert withdrawn.status_code == unknown.status_code == 404
    assert withdrawn.text.replace(code, 'CODE') == unknown.text.replace(never_issued, 'CODE')  # word for word
    assert rx_verification.NOT_SHARED in withdrawn.text and rx_verification.NOT_SHARED in unknown.text
    assert 'Jamie' not in withdrawn.text


async def test_the_empty_page_asks_for_the_code(user: User):
    response = await user.http_client.get('/verify')
    assert response.status_code == 200
    assert 'Verification code' in response.text and '<form method="post" action="/verify">' in response.text
    stylesheet = re.search(r'<link rel="stylesheet" href="(/static/portal-[0-9a-f]+\.css)">', response.text).group(1)
    assert (await user.http_client.get(stylesheet)).headers['content-type'].startswith('text/css')


async def test_a_post_without_the_pages_token_looks_nothing_up(user: User):
    _, _, _, rx, code = await _patient_with_rx()
    response = await user.http_client.post('/verify', data={'code': code})
    assert response.status_code == 403 and 'type the code again' in response.text
    assert 'Jamie' not in response.text
    assert not await AuditEvent.exists(action='rx.verified', object_id=rx.id)


def test_a_code_in_the_address_is_redacted_from_the_access_log():
    record = logging.LogRecord(
        'uvicorn.access', logging.INFO, '', 0, '%s "%s"', ('1.2.3.4', 'GET /verify?code=ACDE-FGHJ HTTP/1.1'), None
    )
    RedactTokens().filter(record)
    assert 'ACDE' not in record.getMessage() and '/verify?code=[redacted]' in record.getMessage()
