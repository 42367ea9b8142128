"""Setup, Practice settings and Team, as an administrator uses them (NiceGUI `user` fixture)."""

import re

from nicegui import ui
from nicegui.testing import User

from models.audit import AuditEvent
from models.practice import Location, Practice, Provider
from models.staff import StaffPasswordToken, StaffUser
from services import audit, team
from tests import factories
from tests.mail import SmtpServer, body
from tests.portal_user import log_out, staff_sign_in, wait_until

NEW_PASSWORD = 'lighthouse kettle orchard'
SET_LINK = re.compile(r'https?://[^/\s]+(/staff/set-password/\S+)')


async def sign_in(user: User, staff: StaffUser, password: str = factories.STAFF_PASSWORD) -> None:
    await staff_sign_in(user, staff, password=password)


def fill(user: User, marker: str, text: str) -> None:
    user.find(marker=marker).clear().type(text)


def choose(user: User, marker: str, value: object) -> None:
    """Set a select's value as picking an option does (its change handler runs)."""
    [element] = user.find(marker=marker).elements
    with user.client:
        element.value = value


# -- first-time setup ---------------------------------------------------------------------------------------


async def test_an_admin_on_an_empty_installation_lands_on_setup_and_completes_it(user: User):
    admin = await factories.make_staff('admin', name='Ada Admin')
    await sign_in(user, admin)
    await user.should_see('Set up your practice', retries=100)
    await user.should_see('http://portal.test', retries=100)  # PORTAL_BASE_URL, read-only, with where to change it
    await user.should_see('PORTAL_BASE_URL', retries=100)

    fill(user, 'practice-name', 'Harbor Eye Care')
    fill(user, 'practice-phone', '802 555 0100')
    fill(user, 'practice-tax-id', '12-345')
    choose(user, 'practice-time-zone', 'America/Chicago')
    user.find(marker='save-practice').click()
    await user.should_see('nine digits, such as 12-3456789', retries=100)
    fill(user, 'practice-tax-id', '123456789')
    user.find(marker='save-practice').click()
    await user.should_see('still needs an active location and an active provider', retries=100)
    practice = await Practice.get()
    assert (practice.name, practice.time_zone, practice.tax_id) == ('Harbor Eye Care', 'America/Chicago', '12-3456789')

    fill(user, 'location-name', 'Main office')
    user.find(marker='save-location').click()
    await user.should_see('still needs an active provider.', retries=100)

    fill(user, 'provider-name', 'Priya Raman')
    fill(user, 'provider-credentials', 'OD')
    fill(user, 'provider-license-number', 'OPT-0457')
    fill(user, 'provider-license-state', 'VT')
    fill(user, 'provider-npi', '1234567890')
    user.find(marker='save-provider').click()
    await user.should_see('last digit does not match', retries=100)
    fill(user, 'provider-npi', '1234567893')
    user.find(marker='save-provider').click()
    await user.should_see('Setup is complete.', retries=100)
    assert await Location.filter(is_active=True).count() == 1
    assert (await Provider.get()).npi == '1234567893'
    assert await AuditEvent.filter(actor_id=admin.id, action__in=('practice.created', 'location.added',
                                                                  'provider.added')).count() == 3  # fmt: skip


async def test_until_setup_is_done_staff_pages_say_what_is_missing(user: User):
    practice = await factories.make_practice()
    await factories.make_location(practice)
    desk = await factories.make_staff('staff', name='Sam Desk')
    await sign_in(user, desk)
    await user.should_see('still needs an active provider', retries=100)
    await user.should_see('ask an administrator to finish setup', retries=100)
    await user.should_not_see('Finish the setup')
    await user.open('/staff/setup')
    await user.should_see('This page is for administrators', retries=100)


async def test_an_admin_gets_a_link_to_the_setup_from_other_pages(user: User):
    await factories.make_practice()
    admin = await factories.make_staff('admin')
    await sign_in(user, admin)
    await user.should_see('still needs an active location and an active provider', retries=100)
    user.find(marker='finish-setup').click()
    await user.should_see('Set up your practice', retries=100)


async def test_a_new_patient_cannot_be_started_before_setup(user: User):
    await factories.make_practice()
    await sign_in(user, await factories.make_staff('staff'))
    [button] = user.find(kind=ui.button, content='New patient').elements
    assert not button.enabled  # the notice above says why, before anyone types a form
    user.find(kind=ui.button, content='New patient').click()
    await user.should_not_see('First name')


async def test_a_set_up_practice_shows_no_setup_notice(user: User):
    await factories.make_ready_practice()
    await sign_in(user, await factories.make_staff('admin'))
    await user.should_see('Find a patient', retries=100)
    await user.should_not_see('Setup is not finished')


# -- practice settings ---------------------------------------------------------------------------------------


async def test_practice_settings_are_edited_with_clear_messages(user: User):
    practice = await factories.make_ready_practice()
    await sign_in(user, await factories.make_staff('admin'))
    await user.open('/staff/settings')
    await user.should_see('Prescriptions, reminders and billing', retries=100)
    fill(user, 'settings-expiry', '0')
    user.find(marker='save-settings').click()
    await user.should_see('between 1 and 120 months', retries=100)
    fill(user, 'settings-expiry', '12')
    fill(user, 'settings-sales-tax', '6.25')
    fill(user, 'settings-payment-url', 'https://pay.example.com/harbor')
    user.find(marker='settings-exemption').click()
    user.find(marker='save-settings').click()
    await user.should_see('Settings saved', retries=100)
    stored = await Practice.get(id=practice.id)
    assert stored.spectacle_expiry_months == 12 and stored.eyewear_sales_exemption
    assert str(stored.sales_tax_percent) == '6.250' and stored.payment_url == 'https://pay.example.com/harbor'

    fill(user, 'practice-phone', '12')
    user.find(marker='save-practice').click()
    await user.should_see('is not a valid phone number', retries=100)


async def test_locations_are_added_and_deactivated_from_practice_settings(user: User):
    practice = await factories.make_ready_practice()
    first = await Location.get()
    await sign_in(user, await factories.make_staff('admin'))
    await user.open('/staff/settings')
    user.find(marker=f'deactivate-location-{first.id}').click()
    await user.should_see('only active location', retries=100)

    user.find(marker='add-location').click()
    await user.should_see('New location', retries=100)
    fill(user, 'location-name', 'Dorset Plaza')
    fill(user, 'location-phone', '802 555 0101')
    user.find(marker='dialog-save').click()
    await wait_until(lambda: _count_active(Location, 2))
    await user.should_not_see('New location', retries=100)  # the dialog closed
    await user.should_see('Dorset Plaza', retries=100)  # and the table, redrawn, shows both: click its button
    user.find(marker=f'deactivate-location-{first.id}').click()
    await wait_until(lambda: _inactive(Location, first.id))
    await user.should_see(marker=f'reactivate-location-{first.id}', retries=100)
    assert await Location.filter(practice_id=practice.id, is_active=True).count() == 1


async def test_providers_are_added_and_edited_from_practice_settings(user: User):
    await factories.make_ready_practice()
    await sign_in(user, await factories.make_staff('admin'))
    await user.open('/staff/settings')
    user.find(marker='add-provider').click()
    await user.should_see('New provider', retries=100)
    fill(user, 'provider-name', 'Marcus Bell')
    fill(user, 'provider-credentials', 'MD')
    fill(user, 'provider-license-number', 'MD-042')
    fill(user, 'provider-license-state', 'New Hampshire')
    fill(user, 'provider-npi', '1548263791')
    user.find(marker='dialog-save').click()
    await user.should_see('Marcus Bell, MD', retries=100)
    bell = await Provider.get(name='Marcus Bell')
    assert bell.licence_state == 'NH'

    user.find(marker=f'edit-provider-{bell.id}').click()
    await user.should_see('Edit provider', retries=100)
    fill(user, 'provider-credentials', 'MD, PhD')
    user.find(marker='dialog-save').click()
    await user.should_see('Marcus Bell, MD, PhD', retries=100)


async def _count_active(model: type, count: int) -> bool:
    return await model.filter(is_active=True).count() == count


async def _inactive(model: type, row_id: int) -> bool:
    return not (await model.get(id=row_id)).is_active


# -- team ----------------------------------------------------------------------------------------------------


async def test_an_admin_invites_a_member_who_sets_a_password_through_the_emailed_link(
    user: User, smtp_server: SmtpServer
):
    await factories.make_ready_practice(name='Harbor Eye Care')
    await sign_in(user, await factories.make_staff('admin', name='Ada Admin'))
    await user.open('/staff/team')
    fill(user, 'member-name', 'Casey Lens')
    fill(user, 'member-email', 'casey@example.org')
    user.find(marker='add-member').click()
    await user.should_see('Invitation sent to casey@example.org', retries=100)
    await user.should_see('Invited', retries=100)
    message = await smtp_server.wait_for('casey@example.org')
    path = SET_LINK.search(body(message)).group(1)

    await log_out(user, '/staff/logout')  # the frame's Sign out form
    await user.should_see('Staff sign-in')
    await user.open(path)
    await user.should_see('For Casey Lens (casey@example.org)', retries=100)
    assert (await StaffPasswordToken.get()).used_at is None  # opening the page consumed nothing
    fill(user, 'new-password', 'too short')
    fill(user, 'repeat-password', 'too short')
    user.find(marker='set-password').click()
    await user.should_see('at least 15 characters', retries=100)
    fill(user, 'new-password', NEW_PASSWORD)
    fill(user, 'repeat-password', NEW_PASSWORD)
    user.find(marker='set-password').click()
    await user.should_see('Your password is set', retries=100)

    await user.open(path)
    await user.should_see('already been used', retries=100)
    await sign_in(user, await StaffUser.get(email='casey@example.org'), NEW_PASSWORD)


async def test_deactivating_and_reactivating_a_member_from_the_team_page(user: User):
    await factories.make_ready_practice()
    await sign_in(user, await factories.make_staff('admin', name='Ada Admin'))
    member = await factories.make_staff('staff', name='Sam Desk')
    await user.open('/staff/team')
    user.find(marker=f'deactivate-{member.id}').click()
    await user.should_see(marker=f'reactivate-{member.id}', retries=100)
    await user.should_see('Deactivated', retries=100)
    assert not (await StaffUser.get(id=member.id)).is_active
    user.find(marker=f'reactivate-{member.id}').click()
    await user.should_see(marker=f'deactivate-{member.id}', retries=100)
    assert (await StaffUser.get(id=member.id)).is_active


async def test_the_last_admin_cannot_demote_or_deactivate_themselves(user: User):
    await factories.make_ready_practice()
    admin = await factories.make_staff('admin', name='Ada Admin')
    await sign_in(user, admin)
    await user.open('/staff/team')
    await user.should_see(marker=f'role-{admin.id}', retries=100)
    choose(user, f'role-{admin.id}', 'staff')
    await user.should_see('Ada Admin is the only active administrator', retries=100)
    user.find(marker=f'deactivate-{admin.id}').click()
    await user.should_see('cannot be deactivated', retries=100)
    assert (await StaffUser.get(id=admin.id)).role == 'admin'


async def test_a_member_is_linked_to_a_provider_and_made_an_admin(user: User):
    await factories.make_ready_practice()
    provider = await Provider.get()
    await sign_in(user, await factories.make_staff('admin', name='Ada Admin'))
    member = await factories.make_staff('staff', name='Dana Whitfield')
    await user.open('/staff/team')
    await user.should_see(marker=f'provider-link-{member.id}', retries=100)
    choose(user, f'provider-link-{member.id}', provider.id)
    await wait_until(lambda: _linked(member.id, provider.id))

    async def table_reread() -> bool:  # the change re-reads the table: wait for the new row
        try:
            links = user.find(marker=f'provider-link-{member.id}').elements
            return any(e.value == provider.id for e in links) and bool(user.find(marker=f'role-{member.id}').elements)
        except AssertionError:
            return False

    await wait_until(table_reread)
    choose(user, f'role-{member.id}', 'admin')
    await wait_until(lambda: _role(member.id, 'admin'))


async def test_staff_cannot_open_the_admin_pages(user: User):
    await factories.make_ready_practice()
    await sign_in(user, await factories.make_staff('staff'))
    for path in ('/staff/team', '/staff/settings'):
        await user.open(path)
        await user.should_see('This page is for administrators', retries=100)
        await user.should_not_see('Add a team member')


async def test_a_deactivated_members_open_page_leaves(user: User):
    await factories.make_ready_practice()
    admin = await factories.make_staff('admin', name='Ada Admin')
    member = await factories.make_staff('staff', name='Sam Desk')
    await sign_in(user, member)
    await team.deactivate(member.id, audit.Actor.staff(admin))
    await user.should_see('Staff sign-in', retries=200)


async def _linked(staff_id: int, provider_id: int) -> bool:
    return (await StaffUser.get(id=staff_id)).provider_id == provider_id


async def _role(staff_id: int, role: str) -> bool:
    return (await StaffUser.get(id=staff_id)).role == role
