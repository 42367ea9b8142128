"""Small pieces the staff pages share: portal badges, practice-time formatting, the activation help card."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from nicegui import ui

PORTAL_BADGES = {
    'active': ('Portal active', 'positive'),
    'disabled': ('Portal disabled', 'grey-7'),
    'none': ('No portal', 'grey-8'),
}


def portal_badge(status: str) -> ui.badge:
    text, color = PORTAL_BADGES[status]
    return ui.badge(text, color=color).props('outline' if status == 'none' else '')


def us_date(day: date | None) -> str:
    return day.strftime('%m/%d/%Y') if day else ''


def local_time(moment: datetime | None, time_zone: str) -> str:
    """A stored UTC time on the practice's wall clock, e.g. 'Apr 12, 2025, 3:04 PM EDT'."""
    if moment is None:
        return ''
    local = moment.astimezone(ZoneInfo(time_zone))
    hour = local.hour % 12 or 12
    return f'{local:%b} {local.day}, {local.year}, {hour}:{local:%M %p %Z}'


def activation_help(*, expanded: bool = False) -> None:
    """Domain rule 10: the activation steps live in the console, where staff need them."""
    with (
        ui.expansion('How to activate the patient portal', icon='help_outline', value=expanded)
        .classes('w-full bg-blue-1 rounded-borders')
        .props('dense header-class="text-weight-medium" toggle-aria-label=""')
    ):
        with ui.element('ol').classes('q-pl-lg q-my-sm').style('list-style: decimal'):
            for step in (
                'Find the patient above and open their profile.',
                'Check the email address on file with the patient; use Edit to add or correct it. '
                'Each patient needs their own address: a parent and child can share one, but only one '
                'of them can have an active portal.',
                'Open the ⋯ menu and choose Enable Patient Portal.',
                'Tell the patient to go to the portal and enter that email address: a login link arrives '
                'at once, and every later visit works the same way (no password).',
                'Optional: from the ⋯ menu, send the login link by email now, or notify the patient by text.',
                'If the patient says no link arrived, look at Messages on the profile: it shows when each '
                'email was sent and what the mail server answered. Ask them to check spam or junk, then resend.',
            ):
                with ui.element('li').classes('q-mb-xs'):
                    ui.label(step)
        ui.label(
            'The login email cannot be changed while the portal is active: disable the portal, correct the '
            'address, then enable it again.'
        ).classes('text-caption text-grey-8')
