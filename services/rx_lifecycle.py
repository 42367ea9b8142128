"""Writing and signing prescriptions: draft -> final (signed) -> superseded | void.

A draft is editable and invisible to the patient. Signing is done by the staff account linked to the
Rx's provider; it records who and when, makes the Rx immutable, supersedes the older final Rx of the
same kind and purpose (after the prescriber confirms), and writes the "made available" audit row that
starts the practice's release evidence. Every write and its audit row commit together; the change
event goes out after the commit so the patient's open Prescriptions tab shows the Rx without a reload.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.transactions import in_transaction

from models.patient import Patient
from models.practice import Provider
from models.prescription import Prescription, PrescriptionEye, RxKind, RxStatus
from models.staff import StaffUser
from services import audit, events, rx_release, rx_verification
from services.appointments import today_in
from services.errors import DomainError, NotFound
from services.rx_validation import InvalidPrescription, RxInput, RxValues, validate
from services.typed_text import checked_line

VOID_REASON_MIN = 3


class PrescriptionLocked(DomainError):
    def __init__(self, status: str) -> None:
        words = {
            RxStatus.FINAL: 'is signed',
            RxStatus.SUPERSEDED: 'has been replaced',
            RxStatus.VOID: 'is void',
        }.get(RxStatus(status), 'is not a draft')
        super().__init__(
            f'This prescription {words} and can no longer be changed. Void it and write a new one if it is wrong.'
        )


class NotThePrescriber(DomainError):
    def __init__(self, provider: Provider) -> None:
        super().__init__(
            f'Only the staff account linked to {provider.display_name} can sign this prescription. '
            'Ask them to sign it, or link your account to them under Team.'
        )


class SupersedeConfirmationNeeded(DomainError):
    """Signing would replace current prescriptions: the page asks the prescriber to confirm them."""

    def __init__(self, current: list[Prescription]) -> None:
        self.current = current
        dates = ', '.join(f'{rx.issue_date:%m/%d/%Y}' for rx in current)
        super().__init__(
            f'Signing replaces the current prescription of the same kind and purpose (issued {dates}). '
            'The patient will see it marked as replaced.'
        )


class InvalidVoid(DomainError):
    pass


@dataclass(frozen=True)
class SignResult:
    prescription: Prescription
    superseded: list[Prescription]
    paper_confirmation_needed: bool  # no digital-delivery consent and no exemption: print it, record receipt


async def prescriptions_for_staff(patient_id: int) -> list[Prescription]:
    """Every Rx of the patient, drafts included, latest first, with provider, signer and eyes (three queries)."""
    return (
        await Prescription.filter(patient_id=patient_id)
        .select_related('provider', 'signed_by')
        .prefetch_related('eyes')
        .order_by('-issue_date', '-id')
    )


async def _patient(patient_id: int) -> Patient:
    patient = await Patient.filter(id=patient_id).select_related('practice').first()
    if patient is None:
        raise NotFound('patient')
    return patient


async def _checked(patient: Patient, form: RxInput) -> RxValues:
    values = validate(
        form,
        today=today_in(patient.practice.time_zone),
        spectacle_expiry_months=patient.practice.spectacle_expiry_months,
    )
    provider = await Provider.filter(id=values.provider_id, practice_id=patient.practice.id).first()
    if provider is None or not provider.is_active:
        raise InvalidPrescription('Choose a prescriber of this practice who is still active.')
    return values


def _columns(values: RxValues) -> dict[str, object]:
    return dict(
        kind=values.kind.value,
        provider_id=values.provider_id,
        purpose=values.purpose,
        exam_date=values.exam_date,
        issue_date=values.issue_date,
        expiry_date=values.expiry_date,
        expiry_reason=values.expiry_reason,
        notes=values.notes,
        pd_binocular=values.pd_binocular,
        pd_od=values.pd_od,
        pd_os=values.pd_os,
        replacement_schedule=values.replacement_schedule,
    )


async def _write_eyes(rx: Prescription, values: RxValues) -> None:
    await PrescriptionEye.filter(prescription_id=rx.id).delete()
    await PrescriptionEye.bulk_create([PrescriptionEye(prescription_id=rx.id, **eye.__dict__) for eye in values.eyes])


async def save_draft(
    patient_id: int, form: RxInput, actor: audit.Actor, *, staff: StaffUser | None = None, rx_id: int | None = None
) -> Prescription:
    """Create a draft, or change one that is still a draft (never a signed Rx)."""
    patient = await _patient(patient_id)
    values = await _checked(patient, form)
    async with in_transaction():
        if rx_id is None:
            rx = await Prescription.create(
                patient_id=patient.id, status=RxStatus.DRAFT, created_by=staff, **_columns(values)
            )
            action = 'rx.drafted'
        else:
            rx = await Prescription.filter(id=rx_id, patient_id=patient.id).select_for_update().first()
            if rx is None:
                raise NotFound('prescription')
            if rx.status != RxStatus.DRAFT:
                raise PrescriptionLocked(rx.status)
            await Prescription.filter(id=rx.id).update(**_columns(values))
            action = 'rx.draft_changed'
        await _write_eyes(rx, values)
        await audit.record(action, actor, patient_id=patient.id, object_type='prescription', object_id=rx.id)
    await events.publish(patient.id, events.PRESCRIPTIONS)
    return await Prescription.get(id=rx.id)


def _same_use(rx: Prescription) -> dict[str, object]:
    """What makes two Rx compete: same patient, kind and (for glasses) purpose."""
    same: dict[str, object] = dict(patient_id=rx.patient_id, kind=rx.kind, status=RxStatus.FINAL)
    if rx.kind == RxKind.SPECTACLE:
        same['purpose'] = rx.purpose
    return same


async def current_of_same_use(rx_id: int) -> list[Prescription]:
    """The final prescriptions that signing this draft would supersede (for the confirmation)."""
    rx = await Prescription.get_or_none(id=rx_id)
    if rx is None:
        raise NotFound('prescription')
    return await Prescription.filter(**_same_use(rx)).exclude(id=rx.id).order_by('-issue_date')


async def sign(
    rx_id: int,
    staff: StaffUser,
    actor: audit.Actor,
    *,
    confirm_supersede: bool = False,
    signed_at: datetime | None = None,
) -> SignResult:
    """Finalise the draft as its prescriber; older final Rx of the same use become superseded.

    `signed_at` is for records signed on paper earlier and entered now (the demo, imports); the console
    always signs at the current time.
    """
    rx = await Prescription.filter(id=rx_id).select_related('provider', 'patient__practice').first()
    if rx is None:
        raise NotFound('prescription')
    if rx.status != RxStatus.DRAFT:
        raise PrescriptionLocked(rx.status)
    if not staff.is_active or staff.provider_id != rx.provider_id:  # type: ignore[attr-defined]
        raise NotThePrescriber(rx.provider)
    current = await current_of_same_use(rx.id)
    if current and not confirm_supersede:
        raise SupersedeConfirmationNeeded(current)
    patient = rx.patient
    digital = await rx_release.may_release_digitally(patient.id, patient.practice)
    now = signed_at or datetime.now(UTC)
    async with in_transaction():
        # Conditional update: of two signers at once, one wins and the other is told it is signed.
        changed = await Prescription.filter(id=rx.id, status=RxStatus.DRAFT).update(
            status=RxStatus.FINAL, signed_by_id=staff.id, signed_at=now
        )
        if not changed:
            raise PrescriptionLocked(RxStatus.FINAL)
        older = await _supersede_older(rx, patient.id, actor)
        await audit.record('rx.signed', actor, patient_id=patient.id, object_type='prescription', object_id=rx.id)
        await rx_verification.issue_code(rx.id)  # the code printed on every copy: /verify answers for it
        await audit.record(
            'rx.made_available',
            actor,
            patient_id=patient.id,
            object_type='prescription',
            object_id=rx.id,
            detail={'portal': digital, 'exempt': patient.practice.eyewear_sales_exemption},
        )
    await events.publish(patient.id, events.PRESCRIPTIONS)
    signed = await Prescription.filter(id=rx.id).select_related('provider', 'signed_by').get()
    return SignResult(signed, older, paper_confirmation_needed=not digital)


async def _supersede_older(rx: Prescription, patient_id: int, actor: audit.Actor) -> list[Prescription]:
    """Inside the signing transaction: every other Rx of the same use is now replaced by `rx`, each audited."""
    older = await Prescription.filter(**_same_use(rx)).exclude(id=rx.id).select_for_update()
    for old in older:
        await Prescription.filter(id=old.id, status=RxStatus.FINAL).update(
            status=RxStatus.SUPERSEDED, superseded_by_id=rx.id
        )
        await audit.record(
            'rx.superseded',
            actor,
            patient_id=patient_id,
            object_type='prescription',
            object_id=old.id,
            detail={'superseded_by': rx.id},
        )
    return list(older)


async def record_signed_elsewhere(
    rx_id: int,
    actor: audit.Actor,
    *,
    signed_at: datetime,
    superseded_by_id: int | None = None,
    superseded: bool = False,
) -> Prescription:
    """Make a draft final as its prescriber signed it in another system (the FHIR API), at `signed_at`.

    The same steps as `sign` (older final Rx of the same use superseded, verification code, "made
    available" audit row, the patient's open tab told) except the signer check: no staff account of this
    portal signed it. An Rx that the source system already marks as replaced (`superseded`) is recorded
    as such, pointing at its successor when that is known, and replaces nothing. Marked `imported`.
    """
    rx = await Prescription.filter(id=rx_id).select_related('patient__practice').first()
    if rx is None:
        raise NotFound('prescription')
    if rx.status != RxStatus.DRAFT:
        raise PrescriptionLocked(rx.status)
    patient = rx.patient
    digital = await rx_release.may_release_digitally(patient.id, patient.practice)
    status = RxStatus.SUPERSEDED if superseded else RxStatus.FINAL
    async with in_transaction():
        changed = await Prescription.filter(id=rx.id, status=RxStatus.DRAFT).update(
            status=status, signed_at=signed_at, imported=True, superseded_by_id=superseded_by_id
        )
        if not changed:
            raise PrescriptionLocked(RxStatus.FINAL)
        if not superseded:  # an Rx already replaced in the source system replaces nothing
            await _supersede_older(rx, patient.id, actor)
        detail = {'signed_elsewhere': True, 'signed_at': signed_at.isoformat()}
        await audit.record(
            'rx.signed', actor, patient_id=patient.id, object_type='prescription', object_id=rx.id, detail=detail
        )
        await rx_verification.issue_code(rx.id)
        await audit.record(
            'rx.made_available',
            actor,
            patient_id=patient.id,
            object_type='prescription',
            object_id=rx.id,
            detail={'portal': digital, 'exempt': patient.practice.eyewear_sales_exemption},
        )
    await events.publish(patient.id, events.PRESCRIPTIONS)
    return await Prescription.get(id=rx.id)


async def void(rx_id: int, reason: str, actor: audit.Actor) -> Prescription:
    """Withdraw a draft or a current Rx (a mistake); the reason stays in the record. Nothing is deleted."""
    reason = checked_line(reason, 'reason', 300, refuse=InvalidVoid)
    if len(reason) < VOID_REASON_MIN:
        raise InvalidVoid('Say why this prescription is void (for example "entered for the wrong patient").')
    rx = await Prescription.get_or_none(id=rx_id)
    if rx is None:
        raise NotFound('prescription')
    if rx.status not in (RxStatus.DRAFT, RxStatus.FINAL):
        raise PrescriptionLocked(rx.status)
    async with in_transaction():
        changed = await Prescription.filter(id=rx.id, status=rx.status).update(
            status=RxStatus.VOID, void_reason=reason, voided_at=datetime.now(UTC)
        )
        if not changed:
            raise PrescriptionLocked(RxStatus.VOID)
        await audit.record(
            'rx.voided',
            actor,
            patient_id=rx.patient_id,
            object_type='prescription',
            object_id=rx.id,
            detail={'reason': reason, 'was': rx.status.value},
        )
    await events.publish(rx.patient_id, events.PRESCRIPTIONS)
    return await Prescription.get(id=rx.id)
