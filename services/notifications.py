"""Staff-initiated messages to a patient: the portal invitation by email and by text.

Both are delivered at once (not in the background) so the staff member sees, on the profile, whether
the mail server or SMS provider accepted the message while the patient is still at the desk. Without an
SMS provider the portal sends no text: staff copy it into the practice's own phone system, and the
row says so.
"""

from tortoise.transactions import in_transaction

from models.outbox import Channel, OutboxMessage, Purpose
from models.patient import Patient
from models.portal_account import PortalAccount
from models.practice import Practice
from services import audit, events, magic_link, outbox
from services.errors import DomainError, NotFound
from services.phones import display_phone, textable_phone
from services.portal_access import PortalNotActive

# Domain rule 6, word for word.
TEXT_TEMPLATE = (
    'Message from {practice_name}: Please navigate to {portal_url} to access your patient portal. Once you '
    'enter your email address, you will receive a link to log in. The patient portal gives you access to '
    'view your prescriptions, invoices, and appointments. Reply or call {practice_phone} with questions.'
)


class TextNeedsActivePortal(DomainError):
    def __init__(self) -> None:
        super().__init__(
            'Enable the patient portal first: the text asks the patient to log in with their email address, '
            'which only works once the portal is active.'
        )


class NotReachableByText(DomainError):
    def __init__(self, reason: str) -> None:
        super().__init__(f'This patient cannot be reached by text: {reason} Use email, or call the patient.')


class NoSmsProvider(DomainError):
    def __init__(self) -> None:
        super().__init__(
            'The portal has no SMS provider, so it cannot send texts. Copy the text into your phone system instead.'
        )


REPLIES_NOT_READ = (
    'Replies to this text go to the practice phone number; the portal does not read them. '
    'A patient who replies STOP will no longer receive texts from the portal.'
)
portal_url = magic_link.portal_url


def can_send_texts() -> bool:
    """Whether an SMS provider is configured; without one the page offers to copy the text instead."""
    return outbox.can_send(Channel.SMS)


def text_invitation(practice: Practice) -> str:
    """The text message of rule 6, filled in for this practice."""
    return TEXT_TEMPLATE.format(
        practice_name=practice.name, portal_url=portal_url(practice), practice_phone=display_phone(practice.phone)
    )


async def _patient(patient_id: int) -> Patient:
    patient = await Patient.get_or_none(id=patient_id).select_related('practice')
    if patient is None:
        raise NotFound('patient')
    return patient


async def send_login_link_email(patient_id: int, actor: audit.Actor) -> OutboxMessage:
    """Email a fresh login link (older links stop working) and try the mail server right away.

    Returns the outbox row as left by the attempt: `sent` with the server's reply, or `queued` with
    the error and a retry time.
    """
    account = await PortalAccount.get_or_none(patient_id=patient_id)
    if account is None or not account.is_active:
        raise PortalNotActive()
    issued = await magic_link.issue_link(account, actor, purpose=Purpose.INVITATION)
    return await outbox.deliver(issued.message_id) or await OutboxMessage.get(id=issued.message_id)


async def _textable(patient_id: int) -> tuple[Patient, str]:
    patient = await _patient(patient_id)
    if not await PortalAccount.exists(patient_id=patient.id, active_email__not_isnull=True):
        raise TextNeedsActivePortal()
    return patient, textable_phone(patient.phone)


async def send_text_invitation(patient_id: int, actor: audit.Actor) -> OutboxMessage:
    """Text the rule-6 invitation through the SMS provider (via the outbox), and audit it."""
    patient, to = await _textable(patient_id)
    if not can_send_texts():
        raise NoSmsProvider()
    if patient.text_blocked_reason:
        raise NotReachableByText(patient.text_blocked_reason)
    async with in_transaction():  # no text leaves the outbox without its audit row
        message = await outbox.enqueue_text(
            to=to,
            body=text_invitation(patient.practice),
            purpose=Purpose.TEXT_INVITATION,
            patient=patient,
            sent_by=actor.label if actor.type == 'staff' else '',
        )
        await _audit_text('portal.text_sent', actor, patient, message, to)
    return await outbox.deliver(message.id) or await OutboxMessage.get(id=message.id)


async def record_copied_text_invitation(patient_id: int, actor: audit.Actor) -> OutboxMessage:
    """Staff copied the invitation into the practice's phone system: the row says "copied", not "sent"."""
    patient, to = await _textable(patient_id)
    async with in_transaction():
        message = await outbox.record_copied_text(
            to=to,
            body=text_invitation(patient.practice),
            purpose=Purpose.TEXT_INVITATION,
            patient=patient,
            sent_by=actor.label if actor.type == 'staff' else '',
        )
        await _audit_text('portal.text_copied', actor, patient, message, to)
    await events.publish(patient.id, events.MESSAGES)
    return message


async def _audit_text(action: str, actor: audit.Actor, patient: Patient, message: OutboxMessage, to: str) -> None:
    await audit.record(
        action,
        actor,
        patient_id=patient.id,
        object_type='outbox_message',
        object_id=message.id,
        detail={'message_id': message.id, 'to': f'***{to[-4:]}'},
    )
