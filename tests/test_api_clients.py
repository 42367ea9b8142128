"""API clients: SMART system scopes, a token shown once and kept only as a hash, revocation, the admin page."""

import pytest
from nicegui import ui
from nicegui.testing import User

from models.api_client import ApiClient
from models.audit import AuditEvent
from services import api_clients, audit
from services.api_clients import ApiClientInvalid
from services.sessions import token_hash
from tests import factories
from tests.test_staff_console import staff_sign_in


async def test_a_new_client_gets_a_token_the_database_keeps_only_as_a_hash(db):
    staff = await factories.make_staff()
    new = await api_clients.create_client(
        'Main EHR', 'system/Patient.read system/VisionPrescription.write', audit.Actor.staff(staff)
    )
    stored = await ApiClient.get(id=new.client.id)
    assert stored.token_hash == token_hash(new.token) and new.token not in stored.token_hash
    assert stored.scope_list == ['system/Patient.read', 'system/VisionPrescription.write']
    assert (await api_clients.authenticate(new.token)).id == stored.id
    assert await api_clients.authenticate(new.token + 'x') is None
    row = await AuditEvent.get(action='api_client.created')
    assert new.token not in str(row.detail)


async def test_a_revoked_token_stops_working_at_once(db):
    staff = await factories.make_staff()
    new = await api_clients.create_client('Lab', ['system/*.read'], audit.Actor.staff(staff))
    await api_clients.revoke_client(new.client.id, audit.Actor.staff(staff))
    assert await api_clients.authenticate(new.token) is None
    assert await AuditEvent.exists(action='api_client.revoked', object_id=new.client.id)


@pytest.mark.parametrize('scope', ['patient/Patient.read', 'system/Observation.read', 'system/Patient.delete', ''])
def test_scopes_outside_what_the_portal_grants_are_refused(scope):
    with pytest.raises(ApiClientInvalid):
        api_clients.validated_scopes(scope)


def test_scopes_grant_what_they_name():
    scopes = ['system/Patient.read', 'system/VisionPrescription.*', 'system/*.read']
    assert api_clients.allows(scopes, 'Patient', 'read')
    assert not api_clients.allows(scopes, 'Patient', 'write')
    assert api_clients.allows(scopes, 'VisionPrescription', 'write')
    assert api_clients.allows(scopes, 'Location', 'read')
    assert not api_clients.allows(['system/Patient.write'], 'Practitioner', 'write')


async def test_an_admin_creates_a_client_sees_its_token_once_and_revokes_it(user: User):
    await staff_sign_in(user)
    await user.open('/staff/api-clients')
    await user.should_see('No API clients yet.')
    user.find(marker='client-name').type('Main EHR')
    user.find(marker='create-client').click()
    await user.should_see('Token for Main EHR')
    token = user.find(marker='client-token').elements.pop().value
    client = await ApiClient.get(name='Main EHR')
    assert client.token_hash == token_hash(token)

    await user.open('/staff/api-clients')  # the token is never shown again
    await user.should_see('Main EHR')
    await user.should_not_see(token)
    user.find(marker=f'revoke-{client.id}').click()
    await user.should_see('Revoke Main EHR?')
    user.find(marker='confirm-revoke').click()
    await user.should_see('Revoked')
    assert await api_clients.authenticate(token) is None


async def test_front_desk_staff_cannot_open_the_api_clients_page(user: User):
    front_desk = await factories.make_staff(role='staff')
    await user.open('/staff/login')
    user.find(kind=ui.input, content='Email').type(front_desk.email)
    user.find(kind=ui.input, content='Password').type(factories.STAFF_PASSWORD)
    user.find(kind=ui.button, content='Sign in').click()
    await user.should_see('(staff)', retries=100)
    await user.open('/staff/api-clients')
    await user.should_see('This page is for administrators')
