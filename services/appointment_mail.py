"""Every email text about appointments and requests, in one place so they can move into templates.

Each function returns (subject, body) and knows nothing of the database: callers pass what they read.
"""

from dataclasses import dataclass

Mail = tuple[str, str]


@dataclass(frozen=True)
class Visit:
    """An appointment as a patient reads it: every value already written in the practice's zone."""

    day: str  # 'Tuesday, March 4, 2025'
    time: str  # '9:30 AM EST'
    visit_type: str
    provider: str
    location: str  # name, then address
    map_url: str = ''


@dataclass(frozen=True)
class From:
    practice: str
    phone: str
    portal_url: str


def _details(visit: Visit) -> str:
    lines = [f'When: {visit.day} at {visit.time}', f'Visit: {visit.visit_type}']
    if visit.provider:
        lines.append(f'With: {visit.provider}')
    if visit.location:
        lines.append(f'Where: {visit.location}')
    if visit.map_url:
        lines.append(f'Map: {visit.map_url}')
    return '\n'.join(lines)


def _footer(sender: From) -> str:
    parts = []
    if sender.portal_url:
        parts.append(f'You can see your appointments in your patient portal: {sender.portal_url}')
    if sender.phone:
        parts.append(f'To change or cancel, please call {sender.phone}.')
    parts.append(sender.practice)
    return '\n\n'.join(parts)


def scheduled(name: str, visit: Visit, sender: From) -> Mail:
    body = f'Hello {name},\n\nYour appointment request has been scheduled.\n\n{_details(visit)}\n\n{_footer(sender)}\n'
    return f'Your appointment at {sender.practice}', body


def booked(name: str, visit: Visit, sender: From) -> Mail:
    body = f'Hello {name},\n\nAn appointment has been booked for you.\n\n{_details(visit)}\n\n{_footer(sender)}\n'
    return f'Your appointment at {sender.practice}', body


def rescheduled(name: str, visit: Visit, sender: From) -> Mail:
    body = f'Hello {name},\n\nYour appointment has moved to a new time.\n\n{_details(visit)}\n\n{_footer(sender)}\n'
    return f'Your appointment at {sender.practice} has moved', body


def cancelled(name: str, visit: Visit, reason: str, sender: From) -> Mail:
    why = f'\nReason: {reason}\n' if reason else ''
    body = (
        f'Hello {name},\n\nYour appointment on {visit.day} at {visit.time} has been cancelled.\n{why}\n'
        f'{_footer(sender)}\n'
    )
    return f'Your appointment at {sender.practice} is cancelled', body


def declined(name: str, reason: str, reply: str, sender: From) -> Mail:
    body = (
        f'Hello {name},\n\nThe practice answered your appointment request ("{reason}"):\n\n{reply}\n\n'
        f'{_footer(sender)}\n'
    )
    return f'About your appointment request at {sender.practice}', body


def reminder(name: str, visit: Visit, sender: From) -> Mail:
    body = (
        f'Hello {name},\n\nThis is a reminder of your upcoming appointment.\n\n{_details(visit)}\n\n{_footer(sender)}\n'
    )
    return f'Reminder: your appointment at {sender.practice}', body
