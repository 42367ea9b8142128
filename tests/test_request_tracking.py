"""NiceGUI's request tracking runs as the portal's plain ASGI middleware, and the browser storage still works."""

from nicegui import app
from nicegui.storage import RequestTrackingMiddleware
from nicegui.testing import User

from pages.access import PATIENT_SESSION_KEY
from portal.request_tracking import RequestTracking
from tests import factories
from tests.mail import SmtpServer
from tests.portal_user import sign_in


async def test_the_portals_request_tracking_replaces_nicegui_s_in_the_same_place(user: User):
    await user.open('/login')
    kinds = [middleware.cls for middleware in app.user_middleware]
    assert RequestTrackingMiddleware not in kinds
    # Still inside the session middleware (it reads the session) and outside the guard (which reads the storage).
    names = [kind.__name__ for kind in kinds]
    assert names.index('SessionMiddleware') < names.index('RequestTracking') < names.index('GuardMiddleware')
    assert kinds.count(RequestTracking) == 1


async def test_a_signed_in_browser_keeps_its_session_across_requests_and_nothing_stays_in_flight(
    user: User, smtp_server: SmtpServer
):
    patient = await factories.make_active_patient(first_name='Noor')
    await sign_in(user, smtp_server, patient)
    await user.open('/billing')
    await user.should_see('Hello, Noor')
    assert any(PATIENT_SESSION_KEY in storage for storage in app.storage._users.values())
    assert not app.storage._active_request_sessions  # every request's count was given back
