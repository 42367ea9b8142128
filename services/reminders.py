"""Reminder emails a practice-set number of hours before each booked appointment.

One reminder per appointment time: the appointment's `reminder_for` is claimed by one atomic update
(`reminder_for IS NULL` and the same start), in the same transaction that queues the email, so a second
runner (another instance, or a pass after a restart) finds nothing to claim. Rescheduling clears the
claim and withdraws a queued reminder; cancelling withdraws it.
"""

import logging
from datetime import UTC, datetime, timedelta

from tortoise.transactions import in_transaction

from models.appointment import Appointment, AppointmentStatus
from models.outbox import OutboxMessage
from models.practice import Practice
from services import appointment_mail, appointments, events, outbox

log = logging.getLogger(__name__)

PURPOSE = 'reminder'


async def queue_due(now: datetime | None = None, limit: int = 200) -> list[int]:
    """Queue the reminders that are due; returns the outbox ids this runner queued (and so must send)."""
    now = now or datetime.now(UTC)
    queued: list[int] = []
    for practice in await Practice.all():
        cutoff = now + timedelta(hours=practice.reminder_lead_hours)
        due = (
            await Appointment.filter(
                patient__practice_id=practice.id,
                status=AppointmentStatus.BOOKED,
                reminder_for__isnull=True,
                starts_at__gt=now,
                starts_at__lte=cutoff,
            )
            .select_related('patient', 'provider', 'location')
            .order_by('starts_at', 'id')
            .limit(limit)
        )
        for appointment in due:
            message = await _claim_and_queue(appointment, practice)
            if message is not None:
                queued.append(message.id)
                await events.publish(appointment.patient_id, events.MESSAGES)
    return queued


async def _claim_and_queue(appointment: Appointment, practice: Practice) -> OutboxMessage | None:
    patient = appointment.patient
    async with in_transaction():
        claimed = await Appointment.filter(
            id=appointment.id,
            status=AppointmentStatus.BOOKED,
            starts_at=appointment.starts_at,
            reminder_for__isnull=True,
        ).update(reminder_for=appointment.starts_at)
        if not claimed or not patient.email:
            return None  # another runner has it (or there is no address: the claim stops us asking again)
        subject, body = appointment_mail.reminder(
            patient.first_name, appointments.visit_of(appointment, practice), appointments.sender_of(practice)
        )
        message = await outbox.enqueue_email(
            to=patient.email, subject=subject, body=body, purpose=PURPOSE, patient=patient
        )
        await Appointment.filter(id=appointment.id).update(reminder_message_id=message.id)
    return message


async def send_due(now: datetime | None = None) -> int:
    """One pass of the background loop: queue what is due, then send what this pass queued."""
    sent = 0
    for message_id in await queue_due(now):
        result = await outbox.deliver(message_id)
        sent += bool(result and result.status == 'sent')
    return sent
