"""Magic-link login: email in, link out, no password; scanners cannot burn links, attackers cannot use them."""

import asyncio
import logging
import re
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from tortoise import connections

from models.audit import AuditEvent
from models.outbox import OutboxMessage
from models.portal_account import LoginToken, PortalAccount
from models.sessions import PortalSession
from services import audit, magic_link, outbox, sessions, throttle
from services.magic_link import CodeRejected, LinkUnusable, TooManyRequests
from services.portal_access import disable_portal
from services.throttle import MemoryCounter, Throttle
from tests import factories
from tests.conftest import TEST_BASE_URL
from tests.mail import code_in, link_in
from tests.test_throttle import FakeClock

CLIENT = '203.0.113.9'


@pytest.fixture
def clock() -> FakeClock:
    """The throttle's time, moved by the tests instead of waiting."""
    fake = FakeClock()
    throttle.use(Throttle(MemoryCounter(clock=fake)))
    return fake


def _token(url: str) -> str:
    return url.rsplit('/', 1)[1]


async def _link_for(email: str, smtp_server, count: int = 1) -> tuple[str, str]:
    """Ask for a link like the patient does; returns (token, code) from the email that arrived."""
    await magic_link.request_login_link(email, CLIENT)
    message = await smtp_server.wait_for(email.strip().lower(), count)
    await outbox.wait_for_pending()
    return _token(link_in(message)), code_in(message)


def _claims(token: str) -> dict:
    return jwt.decode(token, options={'verify_signature': False})


def _forge(claims: dict, key: str | None, algorithm: str = 'HS256') -> str:
    return jwt.encode(claims, key, algorithm=algorithm)


async def _reason(token: str) -> str:
    with pytest.raises(LinkUnusable) as error:
        await magic_link.check_link(token)
    with pytest.raises(LinkUnusable) as again:
        await magic_link.sign_in_with_link(token, CLIENT)
    assert error.value.reason == again.value.reason
    return error.value.reason


# --- asking for a link ---------------------------------------------------------------------------


async def test_unknown_inactive_and_active_addresses_get_the_same_answer(db, smtp_server, clock):
    staff = await factories.make_staff()
    active = await factories.make_active_patient(staff, email='active@example.com')
    inactive = await factories.make_patient(email='inactive@example.com')
    disabled = await factories.make_active_patient(staff, email='disabled@example.com')
    await disable_portal(disabled.id, staff, audit.Actor('staff', staff.id, staff.name))

    answers = [
        await magic_link.request_login_link(address, CLIENT)
        for address in ('nobody@example.com', inactive.email, disabled.email, active.email)
    ]

    assert answers == [None, None, None, None]
    await smtp_server.wait_for('active@example.com')
    await outbox.wait_for_pending()
    assert [str(m['To']) for m in smtp_server.messages] == ['active@example.com']
    assert await OutboxMessage.filter(purpose='login_link').count() == 1


async def test_active_patient_gets_a_link_and_a_code_by_email(db, smtp_server, clock):
    patient = await factories.make_active_patient(email='jamie@example.com')
    await magic_link.request_login_link(' Jamie@Example.com ', CLIENT)
    message = await smtp_server.wait_for('jamie@example.com')
    assert link_in(message).startswith(TEST_BASE_URL + '/login/link/')
    assert re.fullmatch(r'\d{6}', code_in(message))
    assert 'Clearview Eye Care' in message['Subject']
    event = await AuditEvent.get(action='portal.login_link_sent')
    assert (event.patient_id, event.actor_type, event.client_address) == (patient.id, 'patient', CLIENT)


async def test_link_is_a_signed_jwt_with_the_claims_the_design_asks_for(db, smtp_server, clock, secret_key):
    patient = await factories.make_active_patient(email='jamie@example.com')
    token, _ = await _link_for(patient.email, smtp_server)
    account = await PortalAccount.get(patient_id=patient.id)

    assert jwt.get_unverified_header(token)['alg'] == 'HS256'
    claims = jwt.decode(token, secret_key, algorithms=['HS256'], audience=magic_link.AUDIENCE, issuer=TEST_BASE_URL)
    assert claims['sub'] == str(account.id)
    assert claims['exp'] - claims['iat'] == 15 * 60
    assert len(claims['jti']) >= 20


async def test_database_keeps_only_hashes_of_the_token_jti_and_code(db, smtp_server, clock):
    patient = await factories.make_active_patient(email='jamie@example.com')
    token, code = await _link_for(patient.email, smtp_server)
    jti = _claims(token)['jti']

    connection = connections.get('default')
    tables = [m._meta.db_table for m in (LoginToken, OutboxMessage, AuditEvent, PortalAccount, PortalSession)]
    for table in tables:
        _, rows = await connection.execute_query(f'SELECT * FROM "{table}"')
        for row in rows:
            for value in dict(row).values():
                text = str(value)
                assert token not in text and jti not in text, (table, text)
                if not re.match(r'\d{4}-\d{2}-\d{2}', text):  # timestamps may carry any six digits
                    assert not re.search(rf'(?<!\d){code}(?!\d)', text), (table, text)
    row = await LoginToken.get(account__patient_id=patient.id)
    assert len(row.jti_hash) == 64 and len(row.code_hash) == 64


async def test_a_new_link_replaces_the_older_ones(db, smtp_server, clock):
    patient = await factories.make_active_patient(email='jamie@example.com')
    older, _ = await _link_for(patient.email, smtp_server)
    clock.advance(61)
    newer, _ = await _link_for(patient.email, smtp_server, count=2)
    assert await _reason(older) == 'replaced'
    await magic_link.sign_in_with_link(newer, CLIENT)


# --- using a link ----------------------------------------------------------------------------------


async def test_link_fetched_by_a_mail_scanner_still_works_for_the_patient(db, smtp_server, clock):
    patient = await factories.make_active_patient(email='jamie@example.com')
    token, _ = await _link_for(patient.email, smtp_server)
    for _ in range(5):
        await magic_link.check_link(token)
    assert await LoginToken.filter(used_at__not_isnull=True).count() == 0
    assert await PortalSession.all().count() == 0

    account, session_token = await magic_link.sign_in_with_link(token, CLIENT)

    assert account.patient_id == patient.id
    assert (await sessions.resolve_patient_session(session_token)).id == account.id
    event = await AuditEvent.get(action='portal.login')
    assert (event.patient_id, event.client_address, event.detail) == (patient.id, CLIENT, {'method': 'link'})


async def test_a_link_works_only_once(db, smtp_server, clock):
    patient = await factories.make_active_patient(email='jamie@example.com')
    token, _ = await _link_for(patient.email, smtp_server)
    await magic_link.sign_in_with_link(token, CLIENT)
    assert await _reason(token) == 'used'


async def test_a_double_click_opens_exactly_one_session(db, smtp_server, clock):
    patient = await factories.make_active_patient(email='jamie@example.com')
    token, _ = await _link_for(patient.email, smtp_server)
    results = await asyncio.gather(
        magic_link.sign_in_with_link(token, CLIENT), magic_link.sign_in_with_link(token, CLIENT), return_exceptions=True
    )
    errors = [r for r in results if isinstance(r, BaseException)]
    assert len(errors) == 1 and isinstance(errors[0], LinkUnusable) and errors[0].reason == 'used', results
    assert await PortalSession.all().count() == 1
    assert await AuditEvent.filter(action='portal.login').count() == 1


async def test_an_expired_link_is_refused(db, smtp_server, clock):
    patient = await factories.make_active_patient(email='jamie@example.com')
    token, _ = await _link_for(patient.email, smtp_server)
    await LoginToken.all().update(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    assert await _reason(token) == 'expired'


async def test_a_link_past_its_signed_expiry_is_refused(db, smtp_server, clock, secret_key):
    patient = await factories.make_active_patient(email='jamie@example.com')
    token, _ = await _link_for(patient.email, smtp_server)
    claims = _claims(token)
    claims['exp'] = int((datetime.now(UTC) - timedelta(minutes=1)).timestamp())
    assert await _reason(_forge(claims, secret_key)) == 'expired'


async def test_expired_reason_tells_how_long_links_work(db):
    assert '15 minutes' in str(LinkUnusable('expired'))


async def test_a_link_with_a_tampered_signature_is_refused(db, smtp_server, clock):
    patient = await factories.make_active_patient(email='jamie@example.com')
    token, _ = await _link_for(patient.email, smtp_server)
    assert await _reason(_forge(_claims(token), 'an-attacker-guessed-this-secret-0123456789')) == 'invalid'


async def test_a_link_with_tampered_claims_is_refused(db, smtp_server, clock):
    first = await factories.make_active_patient(email='first@example.com')
    second = await factories.make_active_patient(email='second@example.com')
    token, _ = await _link_for(first.email, smtp_server)
    header, _, signature = token.split('.')
    claims = _claims(token) | {'sub': str((await PortalAccount.get(patient_id=second.id)).id)}
    payload = _forge(claims, 'any-key-the-payload-is-what-matters-here').split('.')[1]
    assert await _reason(f'{header}.{payload}.{signature}') == 'invalid'


async def test_a_link_for_another_audience_is_refused(db, smtp_server, clock, secret_key):
    patient = await factories.make_active_patient(email='jamie@example.com')
    token, _ = await _link_for(patient.email, smtp_server)
    assert await _reason(_forge(_claims(token) | {'aud': 'eyecare-portal:other'}, secret_key)) == 'invalid'


async def test_a_link_from_another_issuer_is_refused(db, smtp_server, clock, secret_key):
    patient = await factories.make_active_patient(email='jamie@example.com')
    token, _ = await _link_for(patient.email, smtp_server)
    assert await _reason(_forge(_claims(token) | {'iss': 'http://evil.example.com'}, secret_key)) == 'invalid'


@pytest.mark.parametrize('algorithm', ['none', 'HS384', 'HS512'])
async def test_a_link_signed_with_another_algorithm_is_refused(db, smtp_server, clock, secret_key, algorithm):
    patient = await factories.make_active_patient(email='jamie@example.com')
    token, _ = await _link_for(patient.email, smtp_server)
    forged = _forge(_claims(token), None if algorithm == 'none' else secret_key, algorithm)
    assert jwt.get_unverified_header(forged)['alg'] == algorithm
    assert await _reason(forged) == 'invalid'


@pytest.mark.parametrize('garbage', ['', 'not-a-token', 'a.b.c', 'eyJhbGciOiJIUzI1NiJ9..'])
async def test_garbage_is_not_a_link(db, garbage):
    assert await _reason(garbage) == 'invalid'


async def test_a_link_without_a_matching_row_is_refused(db, smtp_server, clock, secret_key):
    patient = await factories.make_active_patient(email='jamie@example.com')
    token, _ = await _link_for(patient.email, smtp_server)
    assert await _reason(_forge(_claims(token) | {'jti': 'made-up-jti-0123456789'}, secret_key)) == 'invalid'


async def test_the_link_of_a_disabled_account_is_refused(db, smtp_server, clock):
    staff = await factories.make_staff()
    patient = await factories.make_active_patient(staff, email='jamie@example.com')
    token, _ = await _link_for(patient.email, smtp_server)
    await disable_portal(patient.id, staff, audit.Actor('staff', staff.id, staff.name))
    assert await _reason(token) == 'disabled'


# --- the one-time code -----------------------------------------------------------------------------


async def test_the_code_signs_in_once(db, smtp_server, clock):
    patient = await factories.make_active_patient(email='jamie@example.com')
    token, code = await _link_for(patient.email, smtp_server)
    account, session_token = await magic_link.sign_in_with_code(' JAMIE@example.com', f'{code[:3]} {code[3:]}', CLIENT)
    assert account.patient_id == patient.id and await sessions.resolve_patient_session(session_token)
    with pytest.raises(CodeRejected):
        await magic_link.sign_in_with_code(patient.email, code, CLIENT)
    assert await _reason(token) == 'used'  # code and link are one credential


async def test_a_wrong_code_is_refused(db, smtp_server, clock):
    patient = await factories.make_active_patient(email='jamie@example.com')
    _, code = await _link_for(patient.email, smtp_server)
    wrong = f'{(int(code) + 1) % 1_000_000:06d}'
    for attempt in (wrong, '12345', '', 'abcdef'):
        with pytest.raises(CodeRejected):
            await magic_link.sign_in_with_code(patient.email, attempt, CLIENT)
    await magic_link.sign_in_with_code(patient.email, code, CLIENT)


async def test_a_code_for_an_unknown_address_is_refused(db, smtp_server, clock):
    await factories.make_active_patient(email='jamie@example.com')
    with pytest.raises(CodeRejected):
        await magic_link.sign_in_with_code('nobody@example.com', '123456', CLIENT)


async def test_five_wrong_codes_burn_the_link(db, smtp_server, clock):
    patient = await factories.make_active_patient(email='jamie@example.com')
    token, code = await _link_for(patient.email, smtp_server)
    wrong = f'{(int(code) + 1) % 1_000_000:06d}'
    for _ in range(magic_link.MAX_CODE_ATTEMPTS):
        with pytest.raises(CodeRejected):
            await magic_link.sign_in_with_code(patient.email, wrong, CLIENT)
    with pytest.raises(CodeRejected):
        await magic_link.sign_in_with_code(patient.email, code, CLIENT)
    assert await _reason(token) == 'blocked'


async def test_a_burst_of_parallel_guesses_gets_no_more_than_five_tries(db, smtp_server, clock):
    patient = await factories.make_active_patient(email='jamie@example.com')
    token, code = await _link_for(patient.email, smtp_server)
    # All wrong: the right code inside the burst may be among the first five tries the database sees (which
    # signs in, rightly), since parallel guesses are not counted in the order they were sent.
    guesses = [f'{(int(code) + n) % 1_000_000:06d}' for n in range(1, 20)]
    results = await asyncio.gather(
        *(magic_link.sign_in_with_code(patient.email, guess, CLIENT) for guess in guesses), return_exceptions=True
    )
    assert all(isinstance(r, CodeRejected) for r in results), [r for r in results if not isinstance(r, CodeRejected)]
    assert (await LoginToken.get(account__patient_id=patient.id)).code_attempts == magic_link.MAX_CODE_ATTEMPTS
    with pytest.raises(CodeRejected):  # the burst burnt the link: the right code comes too late
        await magic_link.sign_in_with_code(patient.email, code, CLIENT)
    assert await PortalSession.all().count() == 0


# --- throttling ------------------------------------------------------------------------------------


@pytest.mark.parametrize('address', ['jamie@example.com', 'nobody@example.com'])
async def test_a_second_request_within_a_minute_is_refused_for_known_and_unknown_addresses(
    db, smtp_server, clock, address
):
    await factories.make_active_patient(email='jamie@example.com')
    await magic_link.request_login_link(address, CLIENT)
    with pytest.raises(TooManyRequests) as error:
        await magic_link.request_login_link(address.upper(), '198.51.100.1')
    assert str(error.value) == 'Please wait a minute before asking for another link.'
    clock.advance(61)
    await magic_link.request_login_link(address, CLIENT)


async def test_an_address_gets_five_links_in_fifteen_minutes(db, smtp_server, clock):
    patient = await factories.make_active_patient(email='jamie@example.com')
    for n in range(5):
        await magic_link.request_login_link(patient.email, f'198.51.100.{n}')
        clock.advance(61)
    with pytest.raises(TooManyRequests) as error:
        await magic_link.request_login_link(patient.email, '198.51.100.99')
    assert error.value.kind == 'address'
    assert str(error.value).startswith('Please wait 10 minutes before asking for another link')  # 15 - 5 x 61 s
    clock.advance(15 * 60 - 5 * 61 + 1)
    await magic_link.request_login_link(patient.email, '198.51.100.99')
    await smtp_server.wait_for(patient.email, count=6)


async def test_the_wait_is_told_the_same_for_known_and_unknown_addresses(db, smtp_server, clock):
    await factories.make_active_patient(email='jamie@example.com')
    addresses = ('jamie@example.com', 'nobody@example.com')
    for _ in range(5):
        for address in addresses:
            await magic_link.request_login_link(address, CLIENT)
        clock.advance(61)
    answers = []
    for address in addresses:
        with pytest.raises(TooManyRequests) as error:
            await magic_link.request_login_link(address, CLIENT)
        answers.append(str(error.value))
    assert answers[0] == answers[1]
    assert 'at most 5 links to one address in 15 minutes' in answers[0]


async def test_thirty_patients_on_one_shared_wifi_all_get_their_links(db, smtp_server, clock):
    """A waiting room: one public address, many patients asking within a quarter of an hour."""
    staff = await factories.make_staff()
    patients = [await factories.make_active_patient(staff, email=f'patient{n}@example.com') for n in range(30)]
    for patient in patients:
        await magic_link.request_login_link(patient.email, CLIENT)
        clock.advance(25)
    for patient in patients:
        await smtp_server.wait_for(patient.email)
    assert await LoginToken.all().count() == 30


async def test_one_client_address_is_still_limited_and_told_why(db, smtp_server, clock):
    for n in range(magic_link.PER_CLIENT_15_MINUTES):
        await magic_link.request_login_link(f'someone{n}@example.com', CLIENT)
    clock.advance(5 * 60)
    with pytest.raises(TooManyRequests) as error:
        await magic_link.request_login_link('someone-else@example.com', CLIENT)
    assert error.value.kind == 'client'
    assert str(error.value).startswith('Please wait 10 minutes before asking for another link')
    assert 'internet connection' in str(error.value)
    assert error.value.retry_after_seconds == 10 * 60
    await magic_link.request_login_link('someone-else@example.com', '198.51.100.1')
    clock.advance(10 * 60 + 1)
    await magic_link.request_login_link('yet-another@example.com', CLIENT)


# --- logs ------------------------------------------------------------------------------------------


async def test_logs_never_carry_the_token_the_code_or_the_full_email(db, smtp_server, clock, caplog):
    caplog.set_level(logging.INFO)  # the app's level; at DEBUG, database drivers echo SQL parameters
    caplog.set_level(logging.DEBUG, logger='services')
    caplog.set_level(logging.DEBUG, logger='portal')
    patient = await factories.make_active_patient(email='jamie.secret@example.com')
    token, code = await _link_for(patient.email, smtp_server)
    await magic_link.check_link(token)
    with pytest.raises(CodeRejected):
        await magic_link.sign_in_with_code(patient.email, f'{(int(code) + 1) % 1_000_000:06d}', CLIENT)
    await magic_link.sign_in_with_link(token, CLIENT)
    with pytest.raises(LinkUnusable):
        await magic_link.sign_in_with_link(token, CLIENT)
    with pytest.raises(TooManyRequests):
        await magic_link.request_login_link(patient.email, CLIENT)
    await magic_link.request_login_link('unknown.person@example.com', CLIENT)

    app_records = [r for r in caplog.records if not r.name.startswith('mail.log')]  # aiosmtpd is the mail server
    text = '\n'.join(f'{r.name} {r.getMessage()} {r.exc_text or ""}' for r in app_records)
    assert app_records, 'expected the login flow to log something'
    for secret in (token, _claims(token)['jti'], 'jamie.secret@example.com', 'unknown.person@example.com'):
        assert secret not in text
    assert not re.search(rf'(?<!\d){code}(?!\d)', text)
