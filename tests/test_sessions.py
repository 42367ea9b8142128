"""Server-side sessions: idle and absolute timeouts, logout, and disabling the portal end them."""

from datetime import UTC, datetime, timedelta

from models.patient import Patient
from models.portal_account import PortalAccount
from models.practice import Practice
from models.sessions import PortalSession, StaffSession
from models.staff import StaffUser
from services import audit, patient_portal, sessions
from services.portal_access import disable_portal
from tests import factories
from tests.queries import count_queries

CLIENT = '203.0.113.9'


async def _patient_session() -> tuple[PortalAccount, str]:
    patient = await factories.make_active_patient()
    account = await PortalAccount.get(patient_id=patient.id)
    return account, await sessions.open_patient_session(account, CLIENT)


async def _staff_session() -> tuple[StaffUser, str]:
    staff = await factories.make_staff()
    return staff, await sessions.open_staff_session(staff, CLIENT)


def _ago(**delta: float) -> datetime:
    return datetime.now(UTC) - timedelta(**delta)


async def test_an_open_patient_session_resolves_to_its_account(db):
    account, token = await _patient_session()
    assert (await sessions.resolve_patient_session(token)).id == account.id


async def test_the_session_brings_the_patient_and_their_practice_in_one_statement(db):
    """What a page reads first: one query, and every field as a separate read gives it (on both databases)."""
    account, token = await _patient_session()
    with count_queries() as queries:
        resolved = await sessions.resolve_patient_session(token)
        patient = await patient_portal.signed_in_patient(resolved)
    assert queries.count == 1, queries.statements
    for loaded, fresh in (
        (resolved, await PortalAccount.get(id=account.id)),
        (patient, await Patient.get(id=account.patient_id)),
        (patient.practice, await Practice.get(id=patient.practice_id)),
    ):
        assert {name: getattr(loaded, name) for name in fresh._meta.fields_db_projection} == {
            name: getattr(fresh, name) for name in fresh._meta.fields_db_projection
        }


async def test_the_database_keeps_only_a_hash_of_the_session_token(db):
    _, token = await _patient_session()
    row = await PortalSession.get()
    assert row.token_hash == sessions.token_hash(token) and token not in row.token_hash
    assert row.client_address == CLIENT


async def test_unknown_or_missing_tokens_resolve_to_nobody(db):
    await _patient_session()
    assert await sessions.resolve_patient_session(None) is None
    assert await sessions.resolve_patient_session('') is None
    assert await sessions.resolve_patient_session('made-up-token') is None
    assert await sessions.resolve_staff_session('made-up-token') is None


async def test_a_patient_session_ends_after_thirty_idle_minutes(db):
    _, token = await _patient_session()
    await PortalSession.all().update(last_seen_at=_ago(minutes=29))
    assert await sessions.resolve_patient_session(token) is not None
    await PortalSession.all().update(last_seen_at=_ago(minutes=30, seconds=1))
    assert await sessions.resolve_patient_session(token) is None
    assert (await PortalSession.get()).revoked_at is not None
    await PortalSession.all().update(last_seen_at=_ago(minutes=1))
    assert await sessions.resolve_patient_session(token) is None  # once ended, it stays ended


async def test_activity_keeps_a_session_alive(db):
    _, token = await _patient_session()
    await PortalSession.all().update(last_seen_at=_ago(minutes=20))
    assert await sessions.resolve_patient_session(token) is not None
    assert (await PortalSession.get()).last_seen_at > _ago(minutes=1)


async def test_a_patient_session_ends_at_its_absolute_limit_however_active(db):
    _, token = await _patient_session()
    row = await PortalSession.get()
    assert timedelta(hours=11, minutes=59) < row.expires_at - row.created_at <= timedelta(hours=12)
    await PortalSession.all().update(expires_at=_ago(seconds=1), last_seen_at=_ago(seconds=1))
    assert await sessions.resolve_patient_session(token) is None


async def test_timeouts_are_configurable(db):
    sessions.configure(idle_minutes=5, absolute_hours=1)
    try:
        _, token = await _patient_session()
        row = await PortalSession.get()
        assert row.expires_at - row.created_at <= timedelta(hours=1)
        await PortalSession.all().update(last_seen_at=_ago(minutes=5, seconds=1))
        assert await sessions.resolve_patient_session(token) is None
    finally:
        sessions.configure(idle_minutes=30, absolute_hours=12)


async def test_logout_revokes_the_session(db):
    _, token = await _patient_session()
    _, other = await _patient_session()
    await sessions.close_patient_session(token)
    assert await sessions.resolve_patient_session(token) is None
    assert await sessions.resolve_patient_session(other) is not None  # only that session ends


async def test_disabling_the_portal_ends_open_sessions(db):
    account, token = await _patient_session()
    second = await sessions.open_patient_session(account, '198.51.100.1')
    staff = await factories.make_staff()
    await disable_portal(account.patient_id, staff, audit.Actor('staff', staff.id, staff.name))
    assert await sessions.resolve_patient_session(token) is None
    assert await sessions.resolve_patient_session(second) is None
    assert await PortalSession.filter(revoked_at=None).count() == 0


async def test_a_session_of_an_inactive_account_resolves_to_nobody(db):
    account, token = await _patient_session()
    await PortalAccount.filter(id=account.id).update(active_email=None)  # even if its rows were not revoked
    assert await sessions.resolve_patient_session(token) is None


async def test_staff_sessions_time_out_and_end_at_logout_like_patient_sessions(db):
    staff, idle = await _staff_session()
    assert (await sessions.resolve_staff_session(idle)).id == staff.id
    _, absolute = await _staff_session()
    _, logout = await _staff_session()

    await StaffSession.filter(token_hash=sessions.token_hash(idle)).update(last_seen_at=_ago(minutes=31))
    await StaffSession.filter(token_hash=sessions.token_hash(absolute)).update(expires_at=_ago(seconds=1))
    await sessions.close_staff_session(logout)

    for token in (idle, absolute, logout):
        assert await sessions.resolve_staff_session(token) is None


async def test_a_deactivated_staff_member_loses_their_session(db):
    staff, token = await _staff_session()
    await StaffUser.filter(id=staff.id).update(is_active=False)
    assert await sessions.resolve_staff_session(token) is None
