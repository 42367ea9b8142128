"""Staff-initiated messages to a patient: the login link by email and the portal invitation by text.

Both are delivered at once (not in the background) so the staff member sees, on the profile, whether
the mail server or SMS channel accepted the message while the patient is still at the desk.
"""

from tortoise.transactions import in_transaction

from models.outbox import OutboxMessage
from models.patient import Patient
from models.portal_account import PortalAccount
from models.practice import Practice
from services import audit, magic_link, outbox
from services.errors import DomainError, NotFound
from services.patients import textable_phone
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


def portal_url(practice: Practice) -> str:
    """The address patients are sent to: the practice's own setting, else the portal's base URL."""
    return (practice.portal_url or '').strip() or magic_link.link_settings().base_url


def text_invitation(practice: Practice) -> str:
    """The text message of rule 6, filled in for this practice."""
    return TEXT_TEMPLATE.format(
        practice_name=practice.name, portal_url=portal_url(practice), practice_phone=practice.phone
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
    issued = await magic_link.issue_link(account, actor, purpose='invitation')
    return await outbox.deliver(issued.message_id) or await OutboxMessage.get(id=issued.message_id)


async def send_text_invitation(patient_id: int, actor: audit.Actor) -> OutboxMessage:
    """Text the rule-6 invitation to the patient's phone through the outbox, and audit it."""
    patient = await _patient(patient_id)
    if not await PortalAccount.exists(patient_id=patient.id, active_email__not_isnull=True):
        raise TextNeedsActivePortal()
    to = textable_phone(patient.phone)
    async with in_transaction():  # no text leaves the outbox without its audit row
        message = await outbox.enqueue_text(
            to=to, body=text_invitation(patient.practice), purpose='text_invitation', patient=patient
        )
        await audit.record(
            'portal.text_sent',
            actor,
            patient_id=patient.id,
            object_type='outbox_message',
            object_id=message.id,
            detail={'message_id': message.id, 'to': f'***{to[-4:]}'},
        )
    return await outbox.deliver(message.id) or await OutboxMessage.get(id=message.id)
