"""Two-step sign-in is required of administrators: one without it (just created, just promoted, or reset)
reaches only its set-up page, from every staff route, download and open page's handler, until it is on.
Front-desk members stay free to set it up or not; demo accounts are exempt (docs/security.md says why)."""

import re

import pyotp
import pytest
from nicegui import ui
from nicegui.testing import User

from models.outbox import OutboxMessage
from models.staff import StaffUser
from pages.staff.page import ENROL_URL, PAGE_ROLES, enrol_url, return_path
from portal.app import is_public
from services import audit, staff_totp, team
from tests import factories
from tests.portal_user import staff_sign_in
from tests.security.test_route_walk import PARAMETER, _get_routes, _two_patients
from tests.test_staff_console import choose, open_profile


async def test_an_admin_without_two_step_sign_in_reaches_only_its_set_up_until_it_is_on(user: User):
    _, b, records = await _two_patients()
    ids = records[b.id] | {'kind': 'patients'}
    admin = await factories.make_staff('admin', name='Ada Admin', totp=False)

    await staff_sign_in(user, admin)  # the password is right: a session, but only for the set-up page
    await user.should_see(staff_totp.ENROL_FIRST, retries=100)
    staff_routes = sorted(r for r in _get_routes() if r.startswith('/staff') and not is_public(r, demo=False))
    assert set(PAGE_ROLES) <= set(staff_routes) and '/staff/audit.csv' in staff_routes
    for route in staff_routes:
        path = PARAMETER.sub(lambda m: str(ids[m.group(1)]), route)
        response = await user.http_client.get(path, follow_redirects=False)
        if route == ENROL_URL:
            assert response.status_code == 200
            continue
        assert (response.status_code, response.headers.get('location')) == (303, ENROL_URL), path
        assert 'Brightwater' not in response.text, path

    await user.open(ENROL_URL)
    await _set_up_two_step_and_continue(user)

    await user.should_see('Find a patient', retries=100)  # the console, at last
    await open_profile(user, b)
    assert (await user.http_client.get('/staff/import/template-patients.csv')).status_code == 200
    await user.open(ENROL_URL)  # and it stays on: no way to turn it off, only to move it to a new phone
    await user.should_see(marker='totp-kept')
    await user.should_not_see(marker='totp-off')


async def test_an_open_page_of_a_member_made_admin_acts_no_more_until_two_step_sign_in_is_on(user: User):
    patient = await factories.make_active_patient()
    member = await staff_sign_in(user, await factories.make_staff('staff', name='Sam Desk'))
    await open_profile(user, patient)
    await StaffUser.filter(id=member.id).update(role='admin')  # behind the page's back: no event, only the check

    choose(user, 'Send login link by email')

    await user.should_see(staff_totp.ENROL_FIRST, retries=200)
    assert not await OutboxMessage.filter(patient_id=patient.id).exists()


async def test_promotion_on_the_team_page_sends_the_members_open_page_to_the_set_up(user: User):
    patient = await factories.make_patient()
    admin = await factories.make_staff('admin', name='Ada Admin')
    member = await staff_sign_in(user, await factories.make_staff('staff', name='Sam Desk'))
    await open_profile(user, patient)

    await team.change_role(member.id, 'admin', audit.Actor.staff(admin))  # pushes a change event

    await user.should_see(staff_totp.ENROL_FIRST, retries=200)


async def test_the_team_page_says_a_promoted_member_must_set_up_two_step_sign_in(user: User):
    await factories.make_ready_practice()
    await staff_sign_in(user, await factories.make_staff('admin', name='Ada Admin'))
    member = await factories.make_staff('staff', name='Sam Desk')
    await user.open('/staff/team')
    await user.should_see(marker='admins-need-totp')
    await user.should_not_see(marker=f'totp-due-{member.id}')
    [role] = user.find(marker=f'role-{member.id}').elements
    with user.client:
        role.value = 'admin'

    await user.should_see(marker=f'totp-due-{member.id}', retries=200)
    assert (await StaffUser.get(id=member.id)).role == 'admin'


async def test_a_front_desk_member_may_sign_in_without_two_step_sign_in(user: User):
    patient = await factories.make_patient(last_name='Brightwater')
    await staff_sign_in(user, await factories.make_staff('staff', name='Sam Desk'))
    await user.should_see('Find a patient')
    await user.should_not_see(staff_totp.ENROL_FIRST)
    response = await user.http_client.get(f'/staff/patients/{patient.id}', follow_redirects=False)
    assert response.status_code == 200


async def test_an_admin_cannot_turn_two_step_sign_in_off_but_a_front_desk_member_can(db):
    admin = await factories.make_staff('admin')
    desk = await factories.make_staff('staff', totp=True)

    with pytest.raises(staff_totp.MustKeep):
        await staff_totp.turn_off(admin.id, await factories.totp_code(admin), audit.Actor.staff(admin))
    await staff_totp.turn_off(desk.id, await factories.totp_code(desk), audit.Actor.staff(desk))

    assert staff_totp.is_enabled(await StaffUser.get(id=admin.id))
    assert not staff_totp.is_enabled(await StaffUser.get(id=desk.id))


async def test_demo_accounts_are_exempt_and_only_administrators_must_enrol(db):
    admin = await factories.make_staff('admin', totp=False)
    desk = await factories.make_staff('staff')
    assert staff_totp.must_enrol(admin) and not staff_totp.must_enrol(desk)

    admin.is_demo = True  # seeded by --demo: a portal without --demo refuses to start with it
    assert not staff_totp.must_enrol(admin) and not staff_totp.must_keep(admin)


async def test_an_admin_sent_to_sign_in_from_a_link_arrives_there_after_setting_up_two_step_sign_in(user: User):
    admin = await factories.make_staff('admin', name='Ada Admin', totp=False)
    response = await user.http_client.get('/staff/requests', follow_redirects=False)
    assert response.headers['location'] == '/staff/login?next=/staff/requests'

    await staff_sign_in(user, admin, path=response.headers['location'])
    await user.should_see(staff_totp.ENROL_FIRST, retries=100)
    await _set_up_two_step_and_continue(user)

    await user.should_see('Appointment requests', retries=100)  # where the link led, not the search page
    assert user.back_history[-1].startswith('/staff/requests')


async def test_the_set_up_page_never_sends_an_admin_off_the_console():
    assert enrol_url('//evil.example/staff') == ENROL_URL and enrol_url('/staff') == ENROL_URL
    assert enrol_url('/staff/requests') == ENROL_URL + '?next=/staff/requests'
    assert [return_path(p) for p in ('https://evil.example', '//evil.example', '/staff/team')] == [
        '/staff',
        '/staff',
        '/staff/team',
    ]


async def _set_up_two_step_and_continue(user: User) -> None:
    """On the set-up page: scan (read the key), type the app's code, turn it on, continue to the console."""
    user.find(marker='totp-start').click()
    await user.should_see(marker='totp-secret')
    secret = re.sub(r'\s', '', user.find(marker='totp-secret').elements.pop().text.split(':', 1)[1])
    user.find(kind=ui.input, content='Code').type(pyotp.TOTP(secret).now())
    user.find(marker='totp-turn-on').click()
    await user.should_see(marker='recovery-codes', retries=100)
    user.find(marker='totp-continue').click()
