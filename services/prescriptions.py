"""A patient's prescriptions, shaped for the portal, and the optometric way of writing their values.

Every function takes the signed-in patient's id and filters by it: another patient's prescription is
reported exactly like one that does not exist. Releasing an Rx (view, print, download) is audited,
because that log is the practice's evidence that the patient received it.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from models.patient import Patient
from models.practice import Practice, Provider
from models.prescription import Prescription, PrescriptionEye
from services import audit
from services.errors import NotFound

KIND_LABELS = {'spectacle': 'Glasses', 'contact_lens': 'Contact lens'}
EYE_LABELS = {'OD': 'OD (right eye)', 'OS': 'OS (left eye)'}
RELEASE_ACTIONS = ('rx.viewed', 'rx.printed', 'rx.downloaded')


def format_power(value: Decimal | None, *, plano: bool = False) -> str:
    """Dioptres with a sign and two decimals (+1.25, -2.00); `plano` writes a zero sphere as PL."""
    if value is None:
        return ''
    if value == 0:
        return 'PL' if plano else '0.00'
    return f'{value:+.2f}'


def format_axis(value: int | None) -> str:
    """Axis in degrees, always three digits (090) so a smudged print cannot turn 90 into 9."""
    return '' if value is None else f'{value:03d}'


def format_prism(value: Decimal | None, base: str) -> str:
    if value is None or value == 0:
        return ''
    return f'{value:.2f} {base}'.strip()


def format_mm(value: Decimal | None) -> str:
    return '' if value is None else f'{value:.2f}'


@dataclass(frozen=True)
class EyeRow:
    """One eye, written out the way an optician reads it."""

    eye: str
    label: str
    sphere: str
    cylinder: str
    axis: str
    add: str
    prism: str
    manufacturer: str
    brand: str
    base_curve: str
    diameter: str

    @classmethod
    def of(cls, eye: PrescriptionEye) -> 'EyeRow':
        return cls(
            eye=eye.eye,
            label=EYE_LABELS.get(eye.eye, eye.eye),
            sphere=format_power(eye.sphere, plano=True),
            cylinder=format_power(eye.cylinder),
            axis=format_axis(eye.axis),
            add=format_power(eye.add),
            prism=format_prism(eye.prism, eye.prism_base),
            manufacturer=eye.manufacturer,
            brand=eye.brand,
            base_curve=format_mm(eye.base_curve),
            diameter=format_mm(eye.diameter),
        )


def eye_rows(prescription: Prescription) -> list[EyeRow]:
    """OD first, then OS, from the prefetched eyes."""
    order = {'OD': 0, 'OS': 1}
    return [EyeRow.of(eye) for eye in sorted(prescription.eyes, key=lambda e: (order.get(e.eye, 2), e.id))]


def kind_label(prescription: Prescription) -> str:
    return KIND_LABELS.get(prescription.kind, prescription.kind)


def is_expired(prescription: Prescription, today: date) -> bool:
    """Expired the day after its expiry date; `today` is the practice's date, not the server's."""
    return prescription.expiry_date < today


def long_date(value: date) -> str:
    """'March 4, 2025': no 03/04 that a patient could read as April 3."""
    return f'{value:%B} {value.day}, {value.year}'


async def prescriptions_for(patient_id: int) -> list[Prescription]:
    """The patient's prescriptions, latest first, with provider and eyes: two queries, however many."""
    return (
        await Prescription.filter(patient_id=patient_id)
        .select_related('provider')
        .prefetch_related('eyes')
        .order_by('-issue_date', '-id')
    )


@dataclass(frozen=True)
class RxDocument:
    """Everything a printed or downloaded Rx must carry (patient, dates, prescriber, practice, eyes)."""

    prescription: Prescription
    patient: Patient
    provider: Provider
    practice: Practice
    eyes: list[EyeRow]

    @property
    def kind(self) -> str:
        return kind_label(self.prescription)

    @property
    def is_contact_lens(self) -> bool:
        return self.prescription.kind == 'contact_lens'

    @property
    def licence(self) -> str:
        number, state = self.provider.licence_number, self.provider.licence_state
        return f'{number} ({state})' if number and state else number


async def prescription_for(patient_id: int, prescription_id: int) -> RxDocument:
    """One of the patient's own prescriptions, or NotFound: someone else's is treated as missing."""
    prescription = (
        await Prescription.filter(id=prescription_id, patient_id=patient_id)
        .select_related('patient', 'provider__practice')
        .prefetch_related('eyes')
        .first()
    )
    if prescription is None:
        raise NotFound('prescription')
    return RxDocument(
        prescription=prescription,
        patient=prescription.patient,
        provider=prescription.provider,
        practice=prescription.provider.practice,
        eyes=eye_rows(prescription),
    )


async def record_release(document: RxDocument, action: str, actor: audit.Actor) -> None:
    """Log a view, print or download of this Rx: the practice's evidence that it was released."""
    if action not in RELEASE_ACTIONS:
        raise ValueError(f'not a release action: {action}')
    await audit.record(
        action,
        actor,
        patient_id=document.patient.id,
        object_type='prescription',
        object_id=document.prescription.id,
    )


async def record_list_view(patient_id: int, prescriptions: list[Prescription], actor: audit.Actor) -> None:
    """The list shows every value too, so showing it is a release: one row naming the prescriptions shown."""
    if not prescriptions:
        return
    await audit.record(
        'rx.list_viewed',
        actor,
        patient_id=patient_id,
        object_type='prescription',
        detail={'prescription_ids': [p.id for p in prescriptions]},
    )
