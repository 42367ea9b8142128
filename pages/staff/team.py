"""Team (`/staff/team`, admin): who may use the console, in which role, and who signs which provider's Rx.

A new member gets an emailed link to choose their own password; nobody types a password for someone else.
Deactivating ends the member's open sessions at once (their open pages leave).
Administrators must use two-step sign-in: the page says who has yet to set it up (they do at their next sign-in).
"""

from collections.abc import Awaitable, Callable

from nicegui import ui

from models.staff import StaffUser
from pages.access import StaffViewer
from pages.staff.components import local_time
from pages.staff.page import staff_page
from pages.staff.practice_forms import attempt, problem_label
from services import providers, staff_totp, team

ROLE_OPTIONS = {'staff': 'Staff (front desk)', 'admin': 'Administrator'}
NO_PROVIDER = 0


TOTP_DUE = 'Must set up two-step sign-in at the next sign-in'


def _role_changed(member: StaffUser, role: str) -> str:
    if role == 'admin' and not member.totp_secret and not member.is_demo:
        return f'{member.name} is now an administrator and must set up two-step sign-in at the next sign-in.'
    return ''


@staff_page('/team', title='Team', role='admin')
async def team_page(viewer: StaffViewer) -> None:
    ui.label('Team').classes('text-h5').props('role=heading aria-level=1')

    with ui.card().classes('w-full q-pa-md').props('flat bordered'):
        ui.label('Add a team member').classes('text-h6').props('role=heading aria-level=2')
        ui.label(
            'They receive an email with a link to choose their own password (the link works for 72 hours). '
            'An administrator then sets up two-step sign-in at the first sign-in.'
        ).classes('text-grey-8')
        with ui.row().classes('w-full items-start gap-3'):
            name = ui.input('Name').props('outlined dense').classes('col-grow').mark('member-name')
            email = ui.input('Email').props('outlined dense type=email').classes('col-grow').mark('member-email')
            role = (
                ui.select(ROLE_OPTIONS, value='staff', label='Role')
                .props('outlined dense')
                .style('min-width: 12rem')
                .mark('member-role')
            )
        add_problem = problem_label()

        async def add() -> None:
            address = (email.value or '').strip()
            if await attempt(
                add_problem,
                lambda: team.add_member(name.value or '', address, role.value or '', viewer.actor),
                f'Invitation sent to {address}',
            ):
                name.value, email.value, role.value = '', '', 'staff'
                members.refresh()

        ui.button('Add and send the invitation', icon='person_add', on_click=add).mark('add-member')

    @ui.refreshable
    async def members() -> None:
        rows = await team.list_team()
        provider_options = {NO_PROVIDER: 'None'} | {
            p.id: p.display_name for p in await providers.list_providers(active_only=True)
        }
        with ui.element('q-markup-table').props('flat bordered separator=horizontal').classes('w-full'):
            with ui.element('thead'), ui.element('tr'):
                for heading in ('Name', 'Email', 'Role', 'Signs prescriptions as', 'Status', 'Actions'):
                    with ui.element('th').classes('text-left'):
                        ui.label(heading)
            with ui.element('tbody'):
                for member in rows:
                    _member_row(member, provider_options)

    def _member_row(member: StaffUser, provider_options: dict[int, str]) -> None:
        options = dict(provider_options)
        if member.provider_id and member.provider_id not in options:  # linked to a since-deactivated provider
            options[member.provider_id] = f'{member.provider.display_name} (inactive)'
        with ui.element('tr').mark(f'member-{member.id}'):
            with ui.element('td'):
                ui.label(member.name + (' (you)' if member.id == viewer.staff.id else ''))
            with ui.element('td'):
                ui.label(member.email)
            with ui.element('td'):
                ui.select(
                    ROLE_OPTIONS,
                    value=member.role,
                    on_change=lambda e, m=member: act(
                        problem, lambda: team.change_role(m.id, e.value, viewer.actor), _role_changed(m, e.value)
                    ),
                ).props(f'dense borderless aria-label="Role of {member.name}"').mark(f'role-{member.id}')
            with ui.element('td'):
                ui.select(
                    options,
                    value=member.provider_id or NO_PROVIDER,
                    on_change=lambda e, m=member, o=options: act(
                        problem,
                        lambda: team.link_provider(m.id, e.value or None, viewer.actor),
                        f'{m.name} signs prescriptions as {o[e.value]}.'
                        if e.value
                        else f'{m.name} no longer signs prescriptions.',
                    ),
                ).props(f'dense borderless aria-label="Provider signed by {member.name}"').mark(
                    f'provider-link-{member.id}'
                )
            with ui.element('td'):
                if not member.is_active:
                    ui.badge('Deactivated', color='grey-7')
                elif not member.password_hash:
                    ui.badge('Invited', color='deep-orange-10').props('outline')
                elif team.is_locked(member):
                    ui.badge('Locked', color='negative').mark(f'locked-{member.id}')
                    until = local_time(member.locked_until, viewer.practice.time_zone if viewer.practice else 'UTC')
                    ui.label(f'after repeated failed sign-ins, until {until}').classes('text-caption')
                else:
                    ui.badge('Active', color='green-9')
                if member.is_active and staff_totp.must_enrol(member):
                    ui.label(TOTP_DUE).classes('text-caption').mark(f'totp-due-{member.id}')
            with ui.element('td'), ui.row().classes('gap-1 no-wrap'):
                if member.is_active and team.is_locked(member):
                    ui.button(
                        'Unlock',
                        on_click=lambda m=member: act(problem, lambda: team.unlock(m.id, viewer.actor), 'Unlocked'),
                    ).props('flat dense no-caps').mark(f'unlock-{member.id}')
                if member.is_active and member.totp_secret:
                    ui.button(
                        'Reset two-step sign-in',
                        on_click=lambda m=member: act(
                            problem,
                            lambda: team.reset_second_factor(m.id, viewer.actor),
                            f'{m.name} must set it up again at the next sign-in'
                            if staff_totp.must_keep(m)
                            else f'{m.name} signs in with the password alone until setting it up again',
                        ),
                    ).props('flat dense no-caps').mark(f'reset-totp-{member.id}')
                if member.is_active:
                    ui.button(
                        'Send password link',
                        on_click=lambda m=member: act(
                            problem, lambda: team.send_password_reset(m.id, viewer.actor), f'Link sent to {m.email}'
                        ),
                    ).props('flat dense no-caps').mark(f'reset-{member.id}')
                    ui.button(
                        'Deactivate',
                        on_click=lambda m=member: act(problem, lambda: team.deactivate(m.id, viewer.actor)),
                    ).props('flat dense no-caps color=negative').mark(f'deactivate-{member.id}')
                else:
                    ui.button(
                        'Reactivate',
                        on_click=lambda m=member: act(problem, lambda: team.reactivate(m.id, viewer.actor)),
                    ).props('flat dense no-caps').mark(f'reactivate-{member.id}')

    async def act(problem: ui.label, action: Callable[[], Awaitable[object]], done: str = '') -> None:
        """Every change re-reads the table, so a refused one shows the stored value again."""
        await attempt(problem, action, done)
        members.refresh()

    with ui.card().classes('w-full q-pa-md').props('flat bordered'):
        ui.label('Members').classes('text-h6').props('role=heading aria-level=2')
        ui.label(
            'Administrators manage settings and the team; staff work with patients. Independent of role, the '
            "account linked to a provider is the one that signs that provider's prescriptions."
        ).classes('text-grey-8')
        ui.label(
            'Administrators must use two-step sign-in. Someone added as or made an administrator without it is '
            'asked to set it up at their next sign-in, before they can use the console.'
        ).classes('text-grey-8').mark('admins-need-totp')
        problem = problem_label().mark('team-problem')
        await members()
