"""An open page obeys the session: every event re-checks it, revocation pushes the page away, and the
middleware denies every path that is not on the public list."""

import re
from datetime import UTC, datetime, timedelta

from nicegui import app, ui
from nicegui.testing import User

from models.appointment import AppointmentRequest
from models.outbox import OutboxMessage
from models.sessions import PortalSession, StaffSession
from pages.access import PATIENT_SESSION_KEY
from portal.app import is_public
from services import audit, events, portal_access, sessions
from tests import factories
from tests.mail import SmtpServer
from tests.portal_user import sign_in
from tests.test_staff_console import choose, open_profile, staff_sign_in


async def test_an_open_prescriptions_page_leaves_when_staff_disable_the_portal(user: User, smtp_server: SmtpServer):
    patient = await factories.make_active_patient()
    await factories.make_spectacle_rx(patient, await factories.make_provider(patient.practice))
    await sign_in(user, smtp_server, patient)
    await user.should_see('Your prescriptions')

    staff = await factories.make_staff()
    await portal_access.disable_portal(patient.id, staff, audit.Actor.staff(staff))  # pushes a change event

    await user.should_see('turned off by the practice', retries=200)
    await user.should_not_see('Your prescriptions')


async def test_an_open_appointments_page_files_nothing_once_the_session_is_gone(user: User, smtp_server: SmtpServer):
    patient = await factories.make_active_patient()
    await sign_in(user, smtp_server, patient)
    await user.open('/appointments')
    user.find(kind=ui.textarea).type('Blurry vision when reading')
    # Revoked behind the page's back, without any event: only the per-event check can notice.
    await PortalSession.filter(account__patient_id=patient.id).update(revoked_at=datetime.now(UTC))

    user.find(kind=ui.button, content='Send request').click()

    await user.should_see('You have logged out', retries=200)
    assert not await AppointmentRequest.filter(patient_id=patient.id).exists()


async def test_logging_out_elsewhere_sends_the_open_tab_to_the_login(user: User, smtp_server: SmtpServer):
    patient = await factories.make_active_patient()
    await sign_in(user, smtp_server, patient)
    await user.open('/billing')
    await sessions.close_patient_session(app.storage.user[PATIENT_SESSION_KEY])  # as the logout of another tab

    await user.should_see('You have logged out', retries=200)


async def test_a_staff_page_left_open_after_sign_out_sends_no_link(user: User, smtp_server: SmtpServer):
    patient = await factories.make_active_patient()
    staff = await staff_sign_in(user)
    await open_profile(user, patient)
    await StaffSession.filter(staff_id=staff.id).update(revoked_at=datetime.now(UTC))  # no event: a silent sign-out

    choose(user, 'Send login link by email')

    await user.should_see('You have signed out', retries=200)
    assert not await OutboxMessage.filter(patient_id=patient.id).exists()


async def test_a_staff_page_idle_past_the_timeout_does_not_act(user: User, smtp_server: SmtpServer):
    patient = await factories.make_active_patient()
    staff = await staff_sign_in(user)
    await open_profile(user, patient)
    two_hours_ago = datetime.now(UTC) - timedelta(hours=2)
    await StaffSession.filter(staff_id=staff.id).update(last_seen_at=two_hours_ago)

    choose(user, 'Send login link by email')

    await user.should_see('after a period without activity', retries=200)
    assert not await OutboxMessage.filter(patient_id=patient.id).exists()


async def test_a_deactivated_staff_members_open_page_leaves_at_once(user: User):
    patient = await factories.make_patient()
    staff = await staff_sign_in(user)
    await open_profile(user, patient)
    await type(staff).filter(id=staff.id).update(is_active=False)  # as the Team page's Deactivate does

    await events.publish_staff(staff.id, events.SESSION)

    await user.should_see('has been deactivated', retries=200)


async def test_a_staff_member_on_an_admin_page_sees_it_is_for_administrators(user: User):
    from pages.staff.page import staff_page

    @staff_page('/test-admin-only', title='Admin only', role='admin')
    async def admin_only(viewer: object) -> None:
        ui.label('Secret settings')

    front_desk = await factories.make_staff(role='staff')
    await user.open('/staff/login')
    user.find(kind=ui.input, content='Email').type(front_desk.email)
    user.find(kind=ui.input, content='Password').type(factories.STAFF_PASSWORD)
    user.find(kind=ui.button, content='Sign in').click()
    await user.should_see('Riley Front Desk (staff)', retries=100)
    await user.open('/staff/test-admin-only')
    await user.should_see('This page is for administrators')
    await user.should_not_see('Secret settings')


async def test_every_route_is_guarded_unless_it_is_on_the_public_list(user: User):
    """Walk every registered route as an anonymous visitor: only the public list answers."""
    await user.open('/login')  # the app is built
    paths = {route.path for route in app._iter_http_routes() if hasattr(route, 'methods')}  # noqa: SLF001
    guarded = sorted(p for p in paths if not is_public(p, demo=False))
    assert {'/prescriptions', '/billing', '/appointments', '/staff', '/staff/patients/{patient_id}'} <= set(guarded)
    for path in guarded:
        concrete = re.sub(r'\{[^}]+\}', '1', path)  # every path parameter, ids and tokens alike
        response = await user.http_client.get(concrete)
        assert response.status_code == 303, path
        login = '/staff/login' if concrete.startswith('/staff') else '/login'
        assert response.headers['location'].startswith(login), path


async def test_every_fhir_route_without_a_token_is_401_never_a_redirect(user: User):
    """The FHIR API skips the session guard (TOKEN_PATHS) because each of its routes demands a bearer token."""
    await user.open('/login')
    routes = [r for r in app._iter_http_routes() if hasattr(r, 'methods') and r.path.startswith('/fhir/')]  # noqa: SLF001
    assert routes
    for route in routes:
        concrete = re.sub(r'\{[^}]+\}', '1', route.path)
        for method in sorted(route.methods - {'HEAD'}):
            response = await user.http_client.request(method, concrete)
            expected = 200 if concrete == '/fhir/R4/metadata' else 401
            assert response.status_code == expected, (method, concrete)
            assert response.headers['content-type'].startswith('application/fhir+json'), (method, concrete)


async def test_a_route_added_later_without_joining_a_list_is_guarded(user: User):
    await user.open('/login')

    @app.get('/added-later')
    def added_later() -> dict:
        return {'secret': 1}

    @app.get('/staff/added-later')
    def staff_added_later() -> dict:
        return {'secret': 2}

    patient_response = await user.http_client.get('/added-later')
    staff_response = await user.http_client.get('/staff/added-later')
    assert (patient_response.status_code, patient_response.headers['location']) == (303, '/login')
    assert staff_response.status_code == 303
    assert staff_response.headers['location'].startswith('/staff/login')


def test_the_public_list_is_exact():
    assert is_public('/login/link/abc', demo=False)
    assert is_public('/staff/login', demo=False)
    assert not is_public('/loginx', demo=False)
    assert not is_public('/staff', demo=False)
    assert not is_public('/staff/loginx', demo=False)
    assert not is_public('/dev/mailbox', demo=False)
    assert is_public('/fhir/R4/Patient', demo=False)  # token-guarded by its own router, never by a session
    assert not is_public('/fhirx', demo=False)
    assert is_public('/dev/mailbox', demo=True)
    assert not is_public('/', demo=True)
