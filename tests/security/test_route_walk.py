"""Walk every registered route as an attacker would: patient A with patient B's ids, a patient on staff
routes, a front-desk member on administrator routes. Nothing of B reaches A, nothing of the console
reaches a patient, nothing of an administrator's reaches the front desk. A route added later is walked too,
and one whose path parameter this walk does not know fails it until it is taught."""

import re

from nicegui import app, ui
from nicegui.testing import User

from pages.staff.page import PAGE_ROLES
from portal.app import is_public
from tests import factories
from tests.mail import SmtpServer
from tests.portal_user import sign_in

PARAMETER = re.compile(r'\{([^}:]+)(?::[^}]+)?\}')
ADMIN_DOWNLOADS = {'/staff/audit.csv', '/staff/release-evidence.csv', '/staff/import/template-{kind}.csv'}


def _get_routes() -> set[str]:
    return {
        route.path
        for route in app._iter_http_routes()  # noqa: SLF001
        if 'GET' in getattr(route, 'methods', ()) and not route.path.startswith(('/_nicegui', '/fhir/'))
    }


async def _two_patients():
    """Patient A (who signs in) and patient B, each with an Rx, an invoice and an appointment."""
    a = await factories.make_active_patient(first_name='Avery', last_name='Ashdown', email='avery@example.org')
    b = await factories.make_active_patient(first_name='Blair', last_name='Brightwater', email='blair@example.org')
    provider = await factories.make_provider(await a.practice)
    records = {}
    for patient in (a, b):
        records[patient.id] = {
            'rx_id': (await factories.make_spectacle_rx(patient, provider)).id,
            'invoice_id': (await factories.make_invoice(patient, [('Comprehensive eye exam', 15000)])).id,
            'appointment_id': (await factories.make_appointment(patient)).id,
            'patient_id': patient.id,
        }
    return a, b, records


async def test_patient_a_reaches_nothing_of_patient_b_and_nothing_of_the_console(user: User, smtp_server: SmtpServer):
    a, b, records = await _two_patients()
    await sign_in(user, smtp_server, a)
    theirs = records[b.id]

    for route in sorted(_get_routes()):
        if is_public(route, demo=False):
            continue
        names = PARAMETER.findall(route)
        unknown = [n for n in names if n not in theirs and n != 'kind']
        assert not unknown, f'{route}: teach this walk which record {unknown} names'
        path = PARAMETER.sub(lambda m: str(theirs.get(m.group(1), 'x')), route)
        response = await user.http_client.get(path)
        assert response.status_code < 500, (path, response.status_code)
        if route.startswith('/staff'):
            assert response.status_code == 303 and response.headers['location'].startswith('/staff/login'), path
            continue
        if names:
            assert response.status_code == 404, (path, response.status_code)
        assert 'Brightwater' not in response.text, path
        assert 'Blair' not in response.text, path

    await user.open('/prescriptions')  # and A's own still answer
    await user.should_see('Your prescriptions')


async def test_the_front_desk_reaches_no_administrator_page_or_export(user: User):
    await factories.make_patient()
    desk = await factories.make_staff(role='staff', name='Dana Desk', email='dana@example.org')
    await user.open('/staff/login')
    user.find(kind=ui.input, content='Email').type(desk.email)
    user.find(kind=ui.input, content='Password').type(factories.STAFF_PASSWORD)
    user.find(kind=ui.button, content='Sign in').click()
    await user.should_see('Dana Desk (staff)', retries=100)

    admin_pages = sorted(path for path, role in PAGE_ROLES.items() if role == 'admin')
    assert {'/staff/team', '/staff/settings', '/staff/audit', '/staff/api-clients'} <= set(admin_pages)
    for path in admin_pages:
        await user.open(path)
        await user.should_see('This page is for administrators')
    for route in sorted(ADMIN_DOWNLOADS):
        assert route in _get_routes(), route
        response = await user.http_client.get(PARAMETER.sub('patients', route))
        assert response.status_code == 403, (route, response.status_code)
