"""A patient's prescriptions, shaped for the portal, and the optometric way of writing their values.

Every function takes the signed-in patient's id and filters by it: another patient's prescription is
reported exactly like one that does not exist. Releasing an Rx (view, print, download) is audited,
because that log is the practice's evidence that the patient received it.
"""

import functools
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from tortoise.backends.base.client import BaseDBAsyncClient

from models.consent import DigitalDeliveryConsent
from models.patient import Patient
from models.practice import Practice, Provider
from models.prescription import Prescription, PrescriptionEye, RxStatus
from models.verification import RxVerificationCode
from services import audit, joined, rx_release
from services.appointments import local_time
from services.errors import NotFound

KIND_LABELS = {'spectacle': 'Glasses', 'contact_lens': 'Contact lens'}
PURPOSE_LABELS = {
    'distance': 'Distance',
    'near': 'Near (reading)',
    'computer': 'Computer (intermediate)',
    'progressive': 'Progressive (all distances)',
    'other': 'Other',
}
STATUS_LABELS = {'draft': 'Draft', 'final': 'Signed', 'superseded': 'Replaced', 'void': 'Void'}
PATIENT_VISIBLE = (RxStatus.FINAL, RxStatus.SUPERSEDED)
EYE_LABELS = {'OD': 'OD (right eye)', 'OS': 'OS (left eye)'}
RELEASE_ACTIONS = ('rx.viewed', 'rx.printed', 'rx.downloaded', 'rx.staff_printed')


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


def format_prism(value: Decimal | None, base: str, vertical: Decimal | None = None, vertical_base: str = '') -> str:
    """'1.00 BI' or '1.00 BI, 0.50 BU': the horizontal and vertical components with their bases."""
    parts = [f'{amount:.2f} {side}'.strip() for amount, side in ((value, base), (vertical, vertical_base)) if amount]
    return ', '.join(parts)


def format_cylinder(value: Decimal | None) -> str:
    """A sphere-only eye prints DS, never a bare hyphen a reader could take for a smudge."""
    return 'DS' if value is None or value == 0 else format_power(value)


def format_pd(rx: Prescription) -> str:
    if rx.pd_binocular is not None:
        return f'{rx.pd_binocular:.1f} mm'
    if rx.pd_od is not None and rx.pd_os is not None:
        return f'OD {rx.pd_od:.1f} / OS {rx.pd_os:.1f} mm'
    return ''


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
    dominance: str
    dominant_eye: str  # 'Yes' / 'No': the phone's narrow table has no room for 'Non-dominant'
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
            cylinder=format_cylinder(eye.cylinder),
            axis=format_axis(eye.axis),
            add=eye.add_level or format_power(eye.add),
            prism=format_prism(eye.prism, eye.prism_base, eye.prism_vertical, eye.prism_vertical_base),
            dominance={'D': 'Dominant', 'N': 'Non-dominant'}.get(eye.dominance, ''),
            dominant_eye={'D': 'Yes', 'N': 'No'}.get(eye.dominance, ''),
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


def purpose_label(prescription: Prescription) -> str:
    return PURPOSE_LABELS.get(prescription.purpose.value, '') if prescription.purpose else ''


def is_expired(prescription: Prescription, today: date) -> bool:
    """Expired the day after its expiry date; `today` is the practice's date, not the server's."""
    return prescription.expiry_date < today


def long_date(value: date) -> str:
    """'March 4, 2025': no 03/04 that a patient could read as April 3."""
    return f'{value:%B} {value.day}, {value.year}'


async def prescriptions_for(patient_id: int) -> list[Prescription]:
    """What the patient sees: signed prescriptions, current ones first and replaced ones below, latest
    first within each; never drafts or void ones. One statement, however many: each Rx with its prescriber
    and its eyes (`rx.provider`, `rx.eyes`), written once rather than built by Tortoise on every page
    (`services.joined`; issue 11).

    The page shows them only once `rx_release.may_release_digitally` allows (consent or exemption); it reads
    them with that check and their share codes in the same statement (`released_with_codes`).
    """
    items, _ = await released_with_codes(patient_id, consent_required=False)
    return items


async def released_with_codes(patient_id: int, *, consent_required: bool) -> tuple[list[Prescription], dict[int, str]]:
    """`prescriptions_for`, and each current Rx's share code (by Rx id; one drawn before codes existed has
    none yet). With `consent_required`, nothing unless the patient's consent to digital delivery is on file:
    the Prescriptions tab's whole read in one statement, the consent asked on every view as before."""
    statuses = [status.value for status in PATIENT_VISIBLE]
    rows = await _LISTS[consent_required].rows([patient_id, *statuses, RxStatus.FINAL.value])
    items: dict[int, Prescription] = {}
    eyes: dict[int, dict[int, PrescriptionEye]] = {}
    codes: dict[int, tuple[int, str]] = {}  # the newest unwithdrawn code (two page loads may have drawn one each)
    for row in rows:  # one row per eye (and code), in the list's order
        rx_id = row['r_id']
        if rx_id not in items:
            items[rx_id] = joined.build(Prescription, row, 'r')
            joined.attach(items[rx_id], 'provider', joined.build(Provider, row, 'p'))
            eyes[rx_id] = {}
        if row['e_id'] is not None and row['e_id'] not in eyes[rx_id]:
            eyes[rx_id][row['e_id']] = joined.build(PrescriptionEye, row, 'e')
        if row['v_id'] is not None and row['v_id'] > codes.get(rx_id, (0, ''))[0]:
            codes[rx_id] = (row['v_id'], row['v_code'])
    for rx_id, rx in items.items():
        rx.eyes._set_result_for_query(list(eyes[rx_id].values()))  # as Tortoise's prefetch_related leaves it
    ordered = sorted(items.values(), key=lambda rx: rx.status != RxStatus.FINAL)  # stable: keeps date order inside
    return ordered, {rx_id: code for rx_id, (_, code) in codes.items()}


def _list_statement(connection: BaseDBAsyncClient, consent_required: bool) -> str:
    """Each Rx with its prescriber, its eyes (through the eye table's index on its prescription) and, for a
    current one, its unwithdrawn share codes (the code table's index); with `consent_required`, only while
    the patient's consent is on file."""
    patient = joined.parameter(connection, 1)
    statuses = ', '.join(joined.parameter(connection, n) for n in range(2, 2 + len(PATIENT_VISIBLE)))
    final = joined.parameter(connection, 2 + len(PATIENT_VISIBLE))
    rx_table, eye_table = Prescription._meta.db_table, PrescriptionEye._meta.db_table
    consent = (
        f' AND EXISTS (SELECT 1 FROM "{DigitalDeliveryConsent._meta.db_table}" c '
        f'WHERE c."patient_id" = {patient} AND c."withdrawn_at" IS NULL)'
        if consent_required
        else ''
    )
    return (
        f'SELECT {joined.selected(Prescription, "r")}, {joined.selected(Provider, "p")}, '
        f'{joined.selected(PrescriptionEye, "e")}, v."id" AS "v_id", v."code" AS "v_code" '
        f'FROM "{rx_table}" r JOIN "{Provider._meta.db_table}" p ON p."id" = r."provider_id" '
        f'LEFT JOIN "{eye_table}" e ON e."prescription_id" = r."id" '
        f'LEFT JOIN "{RxVerificationCode._meta.db_table}" v ON v."prescription_id" = r."id" '
        f'AND v."withdrawn_at" IS NULL AND r."status" = {final} '
        f'WHERE r."patient_id" = {patient} AND r."status" IN ({statuses}){consent} '
        'ORDER BY r."issue_date" DESC, r."id" DESC, e."id"'
    )


# One statement with the consent check, one without.
_LISTS = {
    required: joined.Statement(Prescription, functools.partial(_list_statement, consent_required=required))
    for required in (False, True)
}


@dataclass(frozen=True)
class RxDocument:
    """Everything a printed or downloaded Rx must carry (patient, dates, prescriber, practice, eyes)."""

    prescription: Prescription
    patient: Patient
    provider: Provider
    practice: Practice
    eyes: list[EyeRow]
    consent_on_file: bool = False  # only then does the copy say no in-office signature is needed

    @property
    def kind(self) -> str:
        return kind_label(self.prescription)

    @property
    def purpose(self) -> str:
        return purpose_label(self.prescription)

    @property
    def pd(self) -> str:
        return format_pd(self.prescription)

    @property
    def is_replaced(self) -> bool:
        return self.prescription.status == RxStatus.SUPERSEDED

    @property
    def is_void(self) -> bool:
        return self.prescription.status == RxStatus.VOID

    def is_expired(self, today: date) -> bool:
        return is_expired(self.prescription, today)

    @property
    def signature(self) -> str:
        """'Electronically signed by Dana Whitfield, OD, on March 4, 2025' (the practice's date).

        An Rx signed in another system and imported says only 'Signed by …': it may have been signed on paper.
        """
        rx = self.prescription
        if rx.signed_at is None or rx.status == RxStatus.DRAFT:
            return ''
        day = local_time(rx.signed_at, self.practice.time_zone).date()
        how = 'Signed' if rx.imported and rx.signed_by_id is None else 'Electronically signed'  # type: ignore[attr-defined]
        return f'{how} by {self.provider.display_name}, on {long_date(day)}'

    @property
    def is_contact_lens(self) -> bool:
        return self.prescription.kind == 'contact_lens'

    def stamp(self, today: date) -> str:
        """The word printed across a copy that must not be used to fill: VOID, REPLACED or EXPIRED."""
        if self.is_void:
            return 'VOID'
        if self.is_replaced:
            return 'REPLACED'
        return 'EXPIRED' if self.is_expired(today) else ''

    def facts(self) -> list[tuple[str, str]]:
        """Label and value pairs of the printed copy, in print order (never the expiry reason: it is
        kept in the record, not released)."""
        rx, patient = self.prescription, self.patient
        pairs = [
            ('Patient', patient.full_name),
            ('Date of birth', long_date(patient.date_of_birth)),
            ('Exam date', long_date(rx.exam_date)),
            ('Issue date', long_date(rx.issue_date)),
            ('Expiry date', long_date(rx.expiry_date)),
        ]
        if self.purpose:
            pairs.append(('Purpose', self.purpose))
        if self.pd:
            pairs.append(('PD', self.pd))
        if rx.replacement_schedule:
            pairs.append(('Replacement', rx.replacement_schedule))
        return pairs

    def lens_lines(self) -> list[tuple[str, str]]:
        """Contact lens manufacturer and brand per eye (one line when both eyes wear the same lens)."""
        if not self.is_contact_lens:
            return []
        names = {e.eye: ' - '.join(p for p in (e.manufacturer, e.brand) if p) or 'not specified' for e in self.eyes}
        if len(set(names.values())) == 1:
            return [('Lens (OD and OS)', next(iter(names.values())))]
        return [(f'Lens {eye}', name) for eye, name in names.items()]

    def prescriber_facts(self) -> list[tuple[str, str]]:
        provider, practice = self.provider, self.practice
        pairs = [('Name', provider.display_name), ('License', self.licence or '-')]
        if provider.npi:
            pairs.append(('NPI', provider.npi))
        pairs.append(('Practice', ', '.join(p for p in (practice.name, practice.address) if p)))
        pairs.append(('Phone', practice.phone))
        if practice.fax:
            pairs.append(('Fax', practice.fax))
        return pairs

    @property
    def release_note(self) -> str:
        if not self.consent_on_file:
            return ''
        return (
            f"Released to the patient through the {self.practice.name} patient portal with the patient's consent.\n"
            'No in-office signature needed.'
        )

    @property
    def licence(self) -> str:
        number, state = self.provider.licence_number, self.provider.licence_state
        return f'{number} ({state})' if number and state else number


async def prescription_for(patient_id: int, prescription_id: int) -> RxDocument:
    """One of the patient's own released prescriptions, or NotFound: someone else's, a draft, a void one,
    or any before the patient's consent to digital delivery is treated as missing."""
    prescription = (
        await Prescription.filter(id=prescription_id, patient_id=patient_id, status__in=PATIENT_VISIBLE)
        .select_related('patient', 'provider__practice')
        .prefetch_related('eyes')
        .first()
    )
    if prescription is None:
        raise NotFound('prescription')
    document = await _document(prescription)
    if not document.consent_on_file and not document.practice.eyewear_sales_exemption:
        raise NotFound('prescription')
    return document


async def document_for_staff(prescription_id: int) -> RxDocument:
    """Any prescription for the console's printout (drafts and void ones included, marked as such)."""
    prescription = (
        await Prescription.filter(id=prescription_id)
        .select_related('patient', 'provider__practice')
        .prefetch_related('eyes')
        .first()
    )
    if prescription is None:
        raise NotFound('prescription')
    return await _document(prescription)


async def _document(prescription: Prescription) -> RxDocument:
    return RxDocument(
        prescription=prescription,
        patient=prescription.patient,
        provider=prescription.provider,
        practice=prescription.provider.practice,
        eyes=eye_rows(prescription),
        consent_on_file=await rx_release.current_consent(prescription.patient_id) is not None,
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
