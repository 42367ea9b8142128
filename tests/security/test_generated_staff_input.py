"""Generated bad input on the staff side: team members, the create-staff command, API clients, sign-in and the
contact lens verification desk. Each input is stored exactly (as its rule tidies it) or refused with a sentence,
with nothing written; a sign-in with any typed address or password is "not correct", never a server error."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from models.api_client import ApiClient
from models.audit import AuditEvent
from models.outbox import OutboxMessage
from models.practice import Practice
from models.staff import StaffUser
from models.verification import VerificationRequest
from services import api_clients, audit, staff_auth, team, verification_requests
from services.errors import DomainError
from tests import factories
from tests.security.generated import ATTACKS, FEW, GENERATED, HUGE, TYPED, counts, one_line

EMAILS = st.one_of(TYPED, st.emails(), st.builds(lambda local: f'{local}@example.org', TYPED))
PASSWORD = 'correct horse battery staple 42'


@GENERATED
@given(name=TYPED, email=EMAILS)
@example(name=HUGE, email='ann@example.org')
@example(name='Ann', email='ann\x00@example.org')
@example(name='Ann\r\nBcc: x@evil.test', email='ann@example.org')
@example(name='\u200fמרים\u200f', email='miriam@example.org')
async def test_a_team_member_is_stored_exactly_or_refused(db, smtp_server, name: str, email: str):
    await factories.make_ready_practice() if not await Practice.exists() else None
    await StaffUser.filter(role='staff').delete()
    before = await counts(StaffUser, AuditEvent, OutboxMessage)
    try:
        member = await team.add_member(name, email, 'staff', audit.SYSTEM)
    except DomainError as refused:
        assert str(refused).strip() and len(str(refused)) < 1_000
        assert await counts(StaffUser, AuditEvent, OutboxMessage) == before
        return
    stored = await StaffUser.get(id=member.id)
    assert stored.name == one_line(name) and stored.email == email.strip().lower()


@settings(FEW, max_examples=6)  # each accepted name hashes a password with argon2
@given(name=TYPED, email=EMAILS)
@example(name=HUGE, email='ann@example.org')
@example(name='Ann\x00', email='ann@example.org')
@example(name='  Ann   Lee ', email='ann@example.org')
async def test_the_create_staff_command_stores_exactly_or_refuses(db, name: str, email: str):
    await StaffUser.all().delete()
    try:
        member = await staff_auth.create_staff(email, name, PASSWORD, 'admin')
    except DomainError as refused:
        assert str(refused).strip() and len(str(refused)) < 1_000
        assert not await StaffUser.exists()
        return
    stored = await StaffUser.get(id=member.id)
    assert stored.name == one_line(name) and stored.email == email.strip().lower()


@GENERATED
@given(name=TYPED)
@example(name=HUGE)
@example(name='Main\x00EHR')
@example(name='<script>alert(1)</script>')
async def test_an_api_client_is_named_exactly_or_refused(db, name: str):
    before = await counts(ApiClient, AuditEvent)
    try:
        new = await api_clients.create_client(name, 'system/Patient.read', audit.SYSTEM)
    except DomainError as refused:
        assert str(refused).strip()
        assert await counts(ApiClient, AuditEvent) == before
        return
    assert (await ApiClient.get(id=new.client.id)).name == one_line(name)


@settings(FEW, max_examples=4)  # each try runs argon2 once, on purpose
@given(email=EMAILS, password=TYPED)
@example(email='riley@example.org\x00', password=PASSWORD)
@example(email=HUGE, password=HUGE)
@example(email='riley@example.org', password='\x00')
async def test_signing_in_with_anything_typed_is_not_correct_never_a_server_error(db, email: str, password: str):
    if not await StaffUser.exists():
        await factories.make_staff(email='riley@example.org')
    with pytest.raises(staff_auth.SignInFailed):
        await staff_auth.authenticate(email, password)


def _request(**typed: object) -> verification_requests.RequestInput:
    fields: dict = {
        'seller_name': 'Lens Direct',
        'seller_email': 'orders@lens.example',
        'channel': 'email',
        'received_at': datetime.now(UTC) - timedelta(minutes=5),
        'patient_name': 'Jamie Rivera',
    }
    return verification_requests.RequestInput(**{**fields, **typed})


async def _log(form: verification_requests.RequestInput) -> VerificationRequest | None:
    """The request as stored, or None when it was refused with a sentence and nothing was written."""
    practice = await Practice.first() or await factories.make_ready_practice()
    staff = await StaffUser.first() or await factories.make_staff()
    before = await counts(VerificationRequest, AuditEvent)
    try:
        request = await verification_requests.log_request(practice, form, audit.SYSTEM, staff)
    except DomainError as refused:
        assert str(refused).strip() and len(str(refused)) < 1_000
        assert await counts(VerificationRequest, AuditEvent) == before
        return None
    return await VerificationRequest.get(id=request.id)


@GENERATED
@given(seller=TYPED, patient_name=TYPED, phone=TYPED)
@example(seller=HUGE, patient_name='Jamie Rivera', phone='')
@example(seller='Lens\x00Direct', patient_name='Jamie Rivera', phone='')
@example(seller='Lens Direct', patient_name='Jamie\x1b[31m', phone='')
@example(seller='Lens Direct', patient_name='Jamie Rivera', phone='207\x00555')
async def test_a_verification_request_keeps_the_seller_s_words_exactly_or_refuses(
    db, seller: str, patient_name: str, phone: str
):
    stored = await _log(_request(seller_name=seller, patient_name=patient_name, seller_phone=phone))
    if stored is not None:
        assert (stored.seller_name, stored.patient_name) == (one_line(seller), one_line(patient_name))
        assert stored.seller_phone == one_line(phone)


@GENERATED
@given(brand=TYPED, sphere=TYPED, quantity=TYPED)
@example(brand=HUGE, sphere='-2.50', quantity='')
@example(brand='Acuvue', sphere='-2.50\x00', quantity='')
@example(brand='Acuvue', sphere='-2.50', quantity='6 boxes\u202e')
async def test_a_verification_request_s_stated_values_are_kept_exactly_or_refused(
    db, brand: str, sphere: str, quantity: str
):
    eyes = {'OD': {'sphere': sphere}, 'OS': {'sphere': '-2.00'}}
    stored = await _log(_request(brand=brand, quantity=quantity, eyes=eyes))
    if stored is not None:
        assert stored.stated['brand'] == one_line(brand) and stored.stated['quantity'] == one_line(quantity)
        assert stored.stated['eyes']['OD']['sphere'] == one_line(sphere)


async def test_staff_side_names_with_attacks_are_refused_with_a_sentence(db, smtp_server):
    await factories.make_ready_practice()
    await factories.make_staff()
    before = await counts(StaffUser, ApiClient, VerificationRequest, AuditEvent)
    for typed in ATTACKS:
        for write in (
            team.add_member(typed, 'new.member@example.com', 'staff', audit.SYSTEM),
            staff_auth.create_staff('new.admin@example.com', typed, PASSWORD, 'admin'),
            api_clients.create_client(typed, 'system/Patient.read', audit.SYSTEM),
        ):
            with pytest.raises(DomainError, match='cannot be saved|at most'):
                await write
        assert await _log(_request(seller_name=typed)) is None
    assert await counts(StaffUser, ApiClient, VerificationRequest, AuditEvent) == before
