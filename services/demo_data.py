"""Demo rows (marked `is_demo` by the seed) and real ones never share a running portal.

A portal started without `--demo` on a database that holds demo rows would keep the demo admin with its
published password; one started with `--demo` on a database with real records would show their login
links in the dev mailbox. `python main.py` checks `demo_state()` before serving and refuses both;
`python main.py remove-demo` deletes the demo rows and keeps the real ones.
"""

from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.consent import DigitalDeliveryConsent, ReleaseConfirmation
from models.outbox import OutboxMessage
from models.patient import Patient
from models.practice import Practice
from models.staff import StaffUser
from models.verification import VerificationRequest
from services.errors import DomainError


@dataclass(frozen=True)
class DemoState:
    demo_staff: int
    demo_patients: int
    demo_practices: int
    real_staff: int
    real_patients: int
    real_practices: int

    @property
    def has_demo(self) -> bool:
        return bool(self.demo_staff or self.demo_patients or self.demo_practices)

    @property
    def has_real(self) -> bool:
        return bool(self.real_staff or self.real_patients or self.real_practices)


@dataclass(frozen=True)
class RemovedDemo:
    staff: int
    patients: int
    practice_removed: bool


class DemoStillInUse(DomainError):
    pass


async def demo_state() -> DemoState:
    return DemoState(
        demo_staff=await StaffUser.filter(is_demo=True).count(),
        demo_patients=await Patient.filter(is_demo=True).count(),
        demo_practices=await Practice.filter(is_demo=True).count(),
        real_staff=await StaffUser.filter(is_demo=False).count(),
        real_patients=await Patient.filter(is_demo=False).count(),
        real_practices=await Practice.filter(is_demo=False).count(),
    )


async def remove_demo() -> RemovedDemo:
    """Delete the demo patients (with their records), the demo staff accounts and, unless real patients
    were entered into it, the demo practice with its locations and providers; all or nothing.

    The audit trail is kept: its rows name records by plain ids, and the database refuses to delete them.
    A demo practice that real patients belong to stays, no longer marked demo (edit it in Practice settings).
    """
    try:
        async with in_transaction():
            patient_ids = await Patient.filter(is_demo=True).values_list('id', flat=True)
            # Kept by the database on purpose (evidence of release): these go first, explicitly.
            await ReleaseConfirmation.filter(patient_id__in=patient_ids).delete()
            await DigitalDeliveryConsent.filter(patient_id__in=patient_ids).delete()
            await VerificationRequest.filter(patient_id__in=patient_ids).delete()
            await OutboxMessage.filter(patient_id__in=patient_ids).delete()  # they quote the demo patients
            await Patient.filter(id__in=patient_ids).delete()  # their records follow (ON DELETE CASCADE)
            staff_ids = await StaffUser.filter(is_demo=True).values_list('id', flat=True)
            await StaffUser.filter(id__in=staff_ids).delete()
            practice_removed = False
            for practice in await Practice.filter(is_demo=True):
                if await Patient.exists(practice_id=practice.id):
                    practice.is_demo = False
                    await practice.save(update_fields=['is_demo'])
                else:
                    await VerificationRequest.filter(practice_id=practice.id).delete()
                    await practice.delete()
                    practice_removed = True
    except IntegrityError as error:
        raise DemoStillInUse(f'Some demo record is still used by a real one ({error}). Nothing was removed.') from error
    return RemovedDemo(staff=len(staff_ids), patients=len(patient_ids), practice_removed=practice_removed)
