"""Absurd ids in addresses: every route with a path parameter, signed in to both trees, answers 404 (or
its own refusal), never a 500. Ids beyond the database's integer range used to reach the database."""

import re

from nicegui import app
from nicegui.testing import User

from portal.ids import MAX_ID, parse_id
from tests import factories
from tests.mail import SmtpServer
from tests.portal_user import sign_in
from tests.test_staff_console import staff_sign_in

ABSURD = ['99999999999999999999', str(MAX_ID + 1), '-1', '0', '007x', 'abc', '%C2%B2', '1e3', '%20%31', '1.5', '%00']
PARAMETER = re.compile(r'\{([^}:]+)(?::([^}]+))?\}')


def _routes_with_parameters() -> list[str]:
    paths = {route.path for route in app._iter_http_routes() if hasattr(route, 'methods')}  # noqa: SLF001
    return sorted(p for p in paths if PARAMETER.search(p))


async def _signed_in_to_both_trees(user: User, smtp_server: SmtpServer) -> None:
    patient = await factories.make_active_patient()
    await factories.make_invoice(patient, [('Comprehensive eye exam', 15000)])
    await factories.make_spectacle_rx(patient, await factories.make_provider(patient.practice))
    await staff_sign_in(user)
    await sign_in(user, smtp_server, patient)


async def test_absurd_ids_in_any_route_are_not_found_never_a_server_error(user: User, smtp_server: SmtpServer):
    await _signed_in_to_both_trees(user, smtp_server)
    routes = _routes_with_parameters()
    assert {'/rx/{rx_id:id}.pdf', '/rx/{rx_id:id}', '/billing/{invoice_id:id}.pdf', '/staff/rx/{rx_id:id}.pdf'} <= set(
        routes
    )
    assert not [r for r in routes if ':int}' in r], 'ids use the {name:id} convertor (portal/ids.py)'

    for route in routes:
        for value in ABSURD:
            path = PARAMETER.sub(value, route)
            response = await user.http_client.get(path)
            assert response.status_code < 500, (path, response.status_code)
            if PARAMETER.search(route).group(2) == 'id' or route.endswith('{patient_id}'):
                assert response.status_code == 404, (path, response.status_code)


async def test_the_issue_reproduction_is_a_404(user: User, smtp_server: SmtpServer):
    await _signed_in_to_both_trees(user, smtp_server)

    for path in ('/rx/99999999999999999999.pdf', '/rx/99999999999999999999', '/staff/rx/99999999999999999999.pdf'):
        assert (await user.http_client.get(path)).status_code == 404, path


async def test_absurd_ids_in_query_parameters_are_ignored(user: User, smtp_server: SmtpServer):
    await _signed_in_to_both_trees(user, smtp_server)

    for value in ABSURD:
        for path in (f'/staff/requests?location={value}', f'/staff/release-evidence.csv?patient={value}'):
            response = await user.http_client.get(path)
            assert response.status_code == 200, (path, response.status_code)


def test_parse_id_accepts_only_plain_numbers_in_range():
    assert parse_id('42') == 42 and parse_id(str(MAX_ID)) == MAX_ID
    for text in ('', None, '0', '-1', '²', '٣', str(MAX_ID + 1), '1 ', '+1', '1_000'):
        assert parse_id(text) is None, text
