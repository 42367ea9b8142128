"""Prescription rows: glasses and contact-lens Rx signed in the practice's previous system, recorded as such.

A row is matched to its patient by chart number and to its prescriber by NPI (else by name), and its
values go through the console's own checks (`rx_validation.validate`: ranges, steps, a contact-lens Rx
shorter than a year needs its reason). An imported Rx keeps its prescriber, signing date and status as
the file says, is marked `imported` (shown as signed in another system, never "signed ... on <import
date>"), and follows the signing rules: a current Rx replaces the older current one of the same use, and
one older than a current Rx on file is recorded as replaced by it.

Re-importing changes nothing: a row is matched to the Rx it created by its "Rx id" (kept as a source
identifier, as the FHIR API keeps one), or without one by patient, kind, issue date and identical values.
A signed Rx never changes; the file may only move one from current to replaced or void.
"""

import asyncio
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time

from models.api_client import ExternalIdentifier
from models.audit import AuditEvent
from models.consent import DigitalDeliveryConsent
from models.patient import Patient
from models.practice import Practice, Provider
from models.prescription import Prescription, PrescriptionEye, RxKind, RxStatus
from models.verification import RxVerificationCode
from services import audit, events, verification_codes
from services.appointments import to_utc, today_in
from services.csv_import.rows import CHART_NUMBER_ALIASES, Action, Field, RowPlan, earlier_rows
from services.fhir_r4.common import BASE
from services.patients import fold, parse_date
from services.rx_validation import EYES, EyeInput, InvalidPrescription, RxInput, RxValues, validate

RESOURCE_TYPE = 'VisionPrescription'  # the source identifiers live with those the FHIR API keeps
RX_ID_SYSTEM = BASE + '/sid/csv-import-rx-id'
SIGNED_AT_NOON = time(12)  # a signing date without a time: noon in the practice's zone keeps the day

EYE_FIELDS = (
    # (suffix, label, extra aliases written after the eye: "OD sph", "Right cyl")
    ('sphere', 'sphere / CL power', ('sph', 'sphere', 'power', 'pwr')),
    ('cylinder', 'cylinder', ('cyl',)),
    ('axis', 'axis', ('ax',)),
    ('add', 'add', ('addition', 'near add')),
    ('prism', 'prism', ('prism horizontal', 'h prism', 'horizontal prism')),
    ('prism_base', 'prism base', ('base', 'h base', 'horizontal prism base')),
    ('prism_vertical', 'vertical prism', ('prism vertical', 'v prism')),
    ('prism_vertical_base', 'vertical prism base', ('v base', 'prism vertical base')),
    ('base_curve', 'base curve', ('bc',)),
    ('diameter', 'diameter', ('dia', 'diam')),
    ('brand', 'brand', ('lens', 'lens brand')),
    ('manufacturer', 'manufacturer', ('mfr', 'maker', 'lens manufacturer')),
    ('dominance', 'dominance', ('dominant',)),
)
EYE_WORDS = {'OD': ('od', 'right', 're', 'r'), 'OS': ('os', 'left', 'le', 'l')}


def _eye_fields(eye: str) -> tuple[Field, ...]:
    return tuple(
        Field(
            f'{eye.lower()}_{suffix}',
            f'{eye} {label}',
            aliases=tuple(f'{word} {alias}' for word in EYE_WORDS[eye] for alias in (label, *aliases)),
        )
        for suffix, label, aliases in EYE_FIELDS
    )


LABEL = 'Prescriptions'
FIELDS = (
    Field('rx_id', 'Rx id', aliases=('rx #', 'rx no', 'rx number', 'prescription id', 'prescription #', 'source id')),
    Field('chart_number', 'Chart number', True, CHART_NUMBER_ALIASES),
    Field('kind', 'Type', aliases=('kind', 'rx type', 'lens type', 'glasses or contacts', 'product')),
    Field('purpose', 'Purpose', aliases=('use', 'lens use', 'glasses for')),
    Field('exam_date', 'Exam date', aliases=('exam', 'examined', 'exam on', 'date of exam')),
    Field('issue_date', 'Issue date', True, ('issued', 'rx date', 'date written', 'written', 'date issued', 'date')),
    Field('signed_on', 'Signed on', aliases=('signed', 'signing date', 'date signed', 'signed date')),
    Field('expiry_date', 'Expiry date', aliases=('expires', 'expiry', 'expiration', 'expiration date', 'exp date')),
    Field('expiry_reason', 'Expiry reason', aliases=('reason for short expiry', 'expiration reason')),
    Field('prescriber', 'Prescriber', aliases=('doctor', 'provider', 'optometrist', 'prescribed by', 'dr')),
    Field('prescriber_npi', 'Prescriber NPI', aliases=('npi', 'provider npi', 'doctor npi')),
    Field('status', 'Status', aliases=('rx status', 'state')),
    Field('void_reason', 'Void reason', aliases=('reason void', 'voided because')),
    Field('pd', 'PD', aliases=('pupillary distance', 'binocular pd', 'pd binocular')),
    Field('pd_od', 'PD OD', aliases=('od pd', 'right pd', 'pd right')),
    Field('pd_os', 'PD OS', aliases=('os pd', 'left pd', 'pd left')),
    Field('replacement', 'Replacement', aliases=('replacement schedule', 'wear schedule', 'schedule')),
    Field('notes', 'Notes', aliases=('comments', 'note', 'remarks')),
    *_eye_fields('OD'),
    *_eye_fields('OS'),
)


def _template_row(**values: str) -> list[str]:
    return [values.get(f.name, '') for f in FIELDS]


TEMPLATE = [
    _template_row(
        rx_id='RX-5001',
        chart_number='1001',
        kind='Glasses',
        purpose='Distance',
        exam_date='2025-03-04',
        issue_date='2025-03-04',
        expiry_date='2027-03-04',
        prescriber='Dana Whitfield',
        prescriber_npi='1234567893',
        status='Final',
        pd='63.0',
        od_sphere='-2.25',
        od_cylinder='-0.75',
        od_axis='090',
        od_add='+1.50',
        os_sphere='-2.00',
        os_cylinder='-0.50',
        os_axis='085',
        os_add='+1.50',
        os_prism='1.00',
        os_prism_base='BI',
    ),
    _template_row(
        rx_id='RX-5002',
        chart_number='1001',
        kind='Contact lens',
        exam_date='03/04/2025',
        issue_date='03/04/2025',
        expiry_date='03/04/2026',
        prescriber='Dana Whitfield',
        status='Expired',
        replacement='daily',
        od_sphere='-2.50',
        od_base_curve='8.60',
        od_diameter='14.2',
        od_brand='AcmeDaily 1-Day',
        os_sphere='-2.25',
        os_base_curve='8.60',
        os_diameter='14.2',
        os_brand='AcmeDaily 1-Day',
    ),
]

ACTION_LABELS = {
    Action.CREATE: 'New prescription',
    Action.UPDATE: 'Status change',
    Action.UNCHANGED: 'No change',
    Action.REFUSED: 'Refused',
    Action.HELD: 'Held for review',
}

KIND_WORDS = {
    RxKind.SPECTACLE: ('glasses', 'spectacle', 'spectacles', 'eyeglasses', 'specs', 'lens', 'lenses', 'sv', 'rx'),
    RxKind.CONTACT_LENS: ('contact lens', 'contact lenses', 'contact', 'contacts', 'cl', 'cls', 'soft cl'),
}
STATUS_WORDS = {
    # the file's word -> (our status, whether the source calls it expired)
    **dict.fromkeys(('', 'final', 'current', 'active', 'signed', 'valid', 'issued'), (RxStatus.FINAL, False)),
    'expired': (RxStatus.FINAL, True),
    **dict.fromkeys(
        ('replaced', 'superseded', 'cancelled', 'canceled', 'inactive', 'old'), (RxStatus.SUPERSEDED, False)
    ),
    **dict.fromkeys(('void', 'voided', 'entered in error', 'error', 'deleted'), (RxStatus.VOID, False)),
}
PURPOSE_WORDS = {
    'reading': 'near',
    'readers': 'near',
    'intermediate': 'computer',
    'office': 'computer',
    'progressives': 'progressive',
    'pal': 'progressive',
    'multifocal': 'progressive',
    'dist': 'distance',
    'far': 'distance',
}
DRAFT_WORDS = ('draft', 'pending', 'unsigned', 'in progress')
TITLES = {'dr', 'doctor', 'od', 'o d', 'md', 'do', 'faao', 'optometrist', 'ophthalmologist', 'mr', 'mrs', 'ms'}
EYE_COLUMNS = tuple(f'{eye.lower()}_{suffix}' for eye in EYES for suffix, _, _ in EYE_FIELDS)
DEFAULT_VOID_REASON = 'void in the previous system'


@dataclass
class Prepared:
    """A row after the checks that need nothing from the database: its values, or the reason it is refused."""

    row_number: int
    values: dict[str, str]
    reason: str = ''


@dataclass
class RxPlan(RowPlan):
    rx: RxValues | None = None  # the checked values of a new Rx
    status: RxStatus | None = None  # the status the file gives it
    signed_at: datetime | None = None
    void_reason: str = ''
    existing: Prescription | None = None  # the Rx an earlier import of this row created
    superseded_by: int | None = None  # set on apply: a newer current Rx of the same use already on file


def _words(text: str) -> str:
    return ' '.join(re.sub(r'[^a-z0-9]+', ' ', (text or '').lower()).split())


def _kind_of(text: str, values: dict[str, str]) -> RxKind | None:
    written = _words(text)
    if not written:  # no type column: lens fitting values say contact lens
        fitting = ('base_curve', 'diameter', 'brand', 'manufacturer')
        contact = any(values.get(f'{eye.lower()}_{name}') for eye in EYES for name in fitting)
        return RxKind.CONTACT_LENS if contact else RxKind.SPECTACLE
    for kind, words in KIND_WORDS.items():
        if written in words or written == kind.value.replace('_', ' '):
            return kind
    return None


def identity(values: dict[str, str]) -> tuple[str, ...]:
    """What makes two rows of one file the same Rx: its Rx id, else patient, kind, date and every value."""
    rx_id = values.get('rx_id', '').strip().lower()
    if rx_id:
        return ('id', rx_id)
    return (
        'rx',
        values.get('chart_number', '').strip().lower(),
        _words(values.get('kind', '')),
        values.get('issue_date', '').strip(),
        *(values.get(name, '').strip().upper() for name in EYE_COLUMNS),
    )


def duplicates(rows: list[tuple[int, dict[str, str]]]) -> dict[int, int]:
    """row number -> the earlier row of the same Rx, over the whole file (the first one wins)."""
    return earlier_rows(rows, identity)


def prepare(rows: list[tuple[int, dict[str, str]]], duplicate_of: dict[int, int]) -> list[Prepared]:
    """Duplicates and rows without a chart number are refused here; the rest are checked in `plan`."""
    prepared = []
    for number, values in rows:
        if number in duplicate_of:
            what = 'Rx id' if values.get('rx_id') else 'patient, type, issue date and values'
            reason = f'Duplicate in the file: the same {what} as row {duplicate_of[number]}.'
            prepared.append(Prepared(number, values, reason))
        elif not values.get('chart_number', '').strip():
            prepared.append(
                Prepared(number, values, 'No chart number: a prescription is matched to its patient by chart number.')
            )
        else:
            prepared.append(Prepared(number, values))
    return prepared


def _name_key(text: str) -> frozenset[str]:
    """A prescriber's name as a set of words without titles: 'Dr. Whitfield, Dana OD' = 'Dana Whitfield'."""
    return frozenset(word for word in fold(text).split() if word not in TITLES)


class _Context:
    """What one chunk's rows are checked against: the practice, its prescribers and the chunk's patients."""

    def __init__(self, practice: Practice, providers: list[Provider], patients: list[Patient]) -> None:
        self.practice = practice
        self.today = today_in(practice.time_zone)
        self.by_npi: dict[str, list[Provider]] = {}
        self.by_name: dict[frozenset[str], list[Provider]] = {}
        for provider in providers:
            if provider.npi:
                self.by_npi.setdefault(re.sub(r'\D', '', provider.npi), []).append(provider)
            self.by_name.setdefault(_name_key(provider.name), []).append(provider)
        self.by_chart: dict[str, list[Patient]] = {}
        for patient in patients:
            self.by_chart.setdefault(patient.chart_number.strip().lower(), []).append(patient)

    def patient(self, chart: str) -> Patient:
        found = self.by_chart.get(chart.strip().lower(), [])
        if not found:
            raise InvalidPrescription(
                f'No patient with chart number {chart} is on file. Import the patients first, or correct the '
                'chart number.'
            )
        if len(found) > 1:
            raise InvalidPrescription(f'{len(found)} patients have chart number {chart}; correct their charts first.')
        return found[0]

    def prescriber(self, name: str, npi: str) -> Provider:
        digits = re.sub(r'\D', '', npi or '')
        if digits:
            found = self.by_npi.get(digits, [])
            if len(found) == 1:
                return found[0]
            if not found:
                raise InvalidPrescription(
                    f'No prescriber with NPI {npi.strip()} is on file. Add them under Team with their NPI, or '
                    'correct the NPI.'
                )
        if not name.strip():
            raise InvalidPrescription('The prescriber is missing: name them (or give their NPI) on every row.')
        found = self.by_name.get(_name_key(name), [])
        if not found:
            raise InvalidPrescription(
                f'No prescriber named "{name.strip()}" is on file. Add them under Team, or correct the name.'
            )
        if len(found) > 1:
            raise InvalidPrescription(
                f'More than one prescriber is named "{name.strip()}". Add an NPI column to tell them apart.'
            )
        return found[0]


def _date(values: dict[str, str], name: str, label: str) -> date | None:
    text = values.get(name, '').strip()
    if not text:
        return None
    found = parse_date(text)
    if found is None:
        raise InvalidPrescription(f'{label} "{text}" is not a date. Write it as 2025-03-04 or 03/04/2025.')
    return found


def _eye_input(values: dict[str, str], eye: str) -> EyeInput:
    prefix = eye.lower() + '_'
    get = lambda suffix: values.get(prefix + suffix, '')  # noqa: E731
    return EyeInput(
        sphere=get('sphere'),
        cylinder=get('cylinder'),
        axis=get('axis'),
        add=get('add'),
        prism_horizontal=get('prism'),
        prism_horizontal_base=get('prism_base'),
        prism_vertical=get('prism_vertical'),
        prism_vertical_base=get('prism_vertical_base'),
        base_curve=get('base_curve'),
        diameter=get('diameter'),
        dominance=get('dominance'),
        manufacturer=get('manufacturer'),
        brand=get('brand'),
    )


def _status(values: dict[str, str]) -> tuple[RxStatus, bool]:
    written = _words(values.get('status', ''))
    if written in DRAFT_WORDS:
        raise InvalidPrescription('Only signed prescriptions are imported; this one is a draft in the previous system.')
    if written not in STATUS_WORDS:
        raise InvalidPrescription(
            f'Status "{values.get("status", "").strip()}" is not one this import knows: write final (or current), '
            'expired, replaced or void.'
        )
    return STATUS_WORDS[written]


def _check(item: Prepared, context: _Context) -> RxPlan:
    """One row against the chunk's context: the Rx it describes, or the reason it is refused (CPU only)."""
    values = item.values
    if item.reason:
        return RxPlan(item.row_number, Action.REFUSED, values, item.reason)
    try:
        patient = context.patient(values['chart_number'])
    except InvalidPrescription as error:
        return RxPlan(item.row_number, Action.REFUSED, values, str(error))
    try:
        status, expired = _status(values)
        kind = _kind_of(values.get('kind', ''), values)
        if kind is None:
            raise InvalidPrescription(f'Type "{values.get("kind", "").strip()}" is neither glasses nor contact lenses.')
        provider = context.prescriber(values.get('prescriber', ''), values.get('prescriber_npi', ''))
        issue = _date(values, 'issue_date', 'Issue date')
        if issue is None:
            raise InvalidPrescription('Enter the issue date.')
        exam = _date(values, 'exam_date', 'Exam date') or issue
        signed_on = _date(values, 'signed_on', 'Signing date') or issue
        if signed_on > context.today:
            raise InvalidPrescription('The signing date cannot be in the future.')
        purpose = _words(values.get('purpose', '')) or 'other'  # the previous system may not say
        purpose = PURPOSE_WORDS.get(purpose, purpose)
        form = RxInput(
            kind=kind.value,
            provider_id=provider.id,
            exam_date=exam,
            issue_date=issue,
            purpose=purpose if kind == RxKind.SPECTACLE else '',
            expiry_date=_date(values, 'expiry_date', 'Expiry date'),
            expiry_reason=values.get('expiry_reason', ''),
            notes=values.get('notes', ''),
            pd_binocular=values.get('pd', ''),
            pd_od=values.get('pd_od', ''),
            pd_os=values.get('pd_os', ''),
            replacement_schedule=values.get('replacement', ''),
            eyes={eye: _eye_input(values, eye) for eye in EYES},
        )
        rx = validate(form, today=context.today, spectacle_expiry_months=context.practice.spectacle_expiry_months)
        if expired and rx.expiry_date >= context.today:
            raise InvalidPrescription(
                f'The status says expired, but the expiry date ({rx.expiry_date:%m/%d/%Y}) has not passed. Correct '
                'the expiry date or the status.'
            )
    except InvalidPrescription as error:
        return RxPlan(item.row_number, Action.REFUSED, values, str(error), patient=patient)
    void_reason = ' '.join(values.get('void_reason', '').split())[:300] if status == RxStatus.VOID else ''
    return RxPlan(
        item.row_number,
        Action.CREATE,
        values,
        patient=patient,
        rx=rx,
        status=status,
        signed_at=to_utc(signed_on, SIGNED_AT_NOON, context.practice.time_zone),
        void_reason=(void_reason or DEFAULT_VOID_REASON) if status == RxStatus.VOID else '',
    )


def _columns(rx: RxValues) -> dict[str, object]:
    return dict(
        kind=rx.kind.value,
        provider_id=rx.provider_id,
        purpose=rx.purpose,
        exam_date=rx.exam_date,
        issue_date=rx.issue_date,
        expiry_date=rx.expiry_date,
        expiry_reason=rx.expiry_reason,
        notes=rx.notes,
        pd_binocular=rx.pd_binocular,
        pd_od=rx.pd_od,
        pd_os=rx.pd_os,
        replacement_schedule=rx.replacement_schedule,
    )


def _same_values(stored: Prescription, rx: RxValues) -> bool:
    if any(getattr(stored, column) != value for column, value in _columns(rx).items()):
        return False
    eyes = {eye.eye: eye for eye in stored.eyes}
    for eye in rx.eyes:
        if eye.eye not in eyes or any(getattr(eyes[eye.eye], name) != value for name, value in eye.__dict__.items()):
            return False
    return len(eyes) == len(rx.eyes)


def _compare(item: RxPlan, stored: Prescription) -> None:
    """The row's Rx is on file already: no change, or the one move a signed Rx may make (to replaced or void)."""
    assert item.rx is not None and item.status is not None
    item.existing = stored
    if not _same_values(stored, item.rx):
        item.action = Action.REFUSED
        item.reason = (
            f'This prescription was imported before (Rx id {item.values.get("rx_id")}) with other values. A signed '
            'prescription never changes: void it in the portal and import the correction under a new Rx id.'
        )
        return
    if stored.status == item.status or item.status == RxStatus.FINAL:
        item.action = Action.UNCHANGED  # replaced or voided since (here or by a newer import): it stays so
        return
    if stored.status == RxStatus.FINAL:
        item.action, item.changed = Action.UPDATE, ['status']
        return
    item.action = Action.REFUSED
    words = {RxStatus.SUPERSEDED: 'replaced', RxStatus.VOID: 'void'}
    item.reason = (
        f'This prescription is {words.get(stored.status, stored.status.value)} in the portal and '
        f'{words.get(item.status, item.status.value)} in the file; only a current prescription can become '
        'replaced or void.'
    )


async def plan(prepared: list[Prepared]) -> list[RxPlan]:
    """What each row would do: five queries for the whole chunk, the checks in a thread."""
    practice = await Practice.all().order_by('id').first()
    if practice is None:
        raise InvalidPrescription('The practice is not set up yet.')
    providers = await Provider.filter(practice_id=practice.id)
    charts = sorted({p.values['chart_number'].strip() for p in prepared if not p.reason})
    patients = await Patient.filter(chart_number__in=charts) if charts else []
    context = _Context(practice, providers, patients)
    plans = await asyncio.to_thread(lambda: [_check(item, context) for item in prepared])
    await _match(plans)
    return plans


async def _match(plans: list[RxPlan]) -> None:
    """Rows imported before: by Rx id (the source identifier), else by patient, kind, date and values."""
    rows = [p for p in plans if p.action == Action.CREATE]
    source_ids = {p.values['rx_id'].strip(): p for p in rows if p.values.get('rx_id', '').strip()}
    known = {}
    if source_ids:
        known = dict(
            await ExternalIdentifier.filter(
                resource_type=RESOURCE_TYPE, system=RX_ID_SYSTEM, value__in=list(source_ids)
            ).values_list('value', 'object_id')
        )
    plain = [p for p in rows if not p.values.get('rx_id', '').strip()]
    stored_by_id: dict[int, Prescription] = {}
    if known:
        for rx in await Prescription.filter(id__in=list(known.values())).prefetch_related('eyes'):
            stored_by_id[rx.id] = rx
    same_day: dict[tuple[int, str, date], list[Prescription]] = {}
    if plain:
        candidates = await Prescription.filter(
            imported=True,
            patient_id__in=sorted({p.patient.id for p in plain}),  # type: ignore[union-attr]
            issue_date__in=sorted({p.rx.issue_date for p in plain}),  # type: ignore[union-attr]
        ).prefetch_related('eyes')
        for rx in candidates:
            same_day.setdefault((rx.patient_id, rx.kind, rx.issue_date), []).append(rx)  # type: ignore[attr-defined]
    for source_id, item in source_ids.items():
        stored = stored_by_id.get(known.get(source_id, -1))
        if stored is None:
            continue
        if stored.patient_id != item.patient.id:  # type: ignore[attr-defined, union-attr]
            item.action = Action.REFUSED
            item.reason = f'Rx id {source_id} was imported before for another patient; check the chart number.'
            continue
        _compare(item, stored)
    for item in plain:
        assert item.rx is not None and item.patient is not None
        key = (item.patient.id, item.rx.kind.value, item.rx.issue_date)
        for stored in same_day.get(key, []):
            if _same_values(stored, item.rx):
                _compare(item, stored)
                break


def _use(patient_id: int, kind: str, purpose: object) -> tuple[int, str, object]:
    """What makes two Rx compete (as signing says): patient, kind and, for glasses, purpose."""
    return (patient_id, kind, purpose if kind == RxKind.SPECTACLE else None)


def _event(action: str, actor: audit.Actor, patient_id: int, rx_id: int, detail: dict) -> AuditEvent:
    return AuditEvent(
        action=action,
        actor_type=actor.type,
        actor_id=actor.id,
        actor_label=actor.label,
        client_address=actor.client_address,
        patient_id=patient_id,
        object_type='prescription',
        object_id=rx_id,
        detail=detail,
    )


async def apply(plans: list[RxPlan], practice: Practice, actor: audit.Actor, stamp: datetime) -> None:
    """Write the chunk's new Rx and status changes, with their eyes, source ids, verification codes and audit
    rows, in a handful of multi-row statements. Call inside the chunk's transaction.

    New Rx are decided oldest first, so a newer one replaces an older one of the same use as signing does
    (the current one on file included); one older than a current Rx on file is recorded as replaced by it.
    They go in with one multi-row insert; their ids are read back above the highest id before it, in
    insertion order, and checked against the rows (a mismatch rolls the chunk back, to be retried row by row).
    """
    creates = sorted(
        (p for p in plans if p.action == Action.CREATE),
        key=lambda p: (p.rx.issue_date, p.row_number),  # type: ignore[union-attr]
    )
    audit_rows: list[AuditEvent] = []
    if creates:
        audit_rows += await _insert(creates, practice, actor, stamp)
    for item in (p for p in plans if p.action == Action.UPDATE):
        audit_rows.append(await _change_status(item, actor, stamp))
    if audit_rows:
        await AuditEvent.bulk_create(audit_rows)


async def _insert(creates: list[RxPlan], practice: Practice, actor: audit.Actor, stamp: datetime) -> list[AuditEvent]:
    patient_ids = sorted({p.patient.id for p in creates})  # type: ignore[union-attr]
    current: dict[tuple[int, str, object], list[Prescription]] = {}  # the final Rx per use, on file or new
    for rx in await Prescription.filter(patient_id__in=patient_ids, status=RxStatus.FINAL).select_for_update():
        current.setdefault(_use(rx.patient_id, rx.kind, rx.purpose), []).append(rx)  # type: ignore[attr-defined]
    consenting = set(
        await DigitalDeliveryConsent.filter(patient_id__in=patient_ids, withdrawn_at__isnull=True).values_list(
            'patient_id', flat=True
        )
    )
    records: list[Prescription] = []
    replaced: list[tuple[Prescription, Prescription]] = []  # (older, the new Rx replacing it)
    for item in creates:
        values, patient = item.rx, item.patient
        assert values is not None and patient is not None and item.status is not None
        use = _use(patient.id, values.kind.value, values.purpose)
        status = item.status
        holders = current.get(use, [])
        newer = [rx for rx in holders if rx.issue_date > values.issue_date]  # only ever Rx on file: oldest first
        if status == RxStatus.FINAL and newer:
            latest = max(newer, key=lambda rx: (rx.issue_date, rx.id))
            status, item.superseded_by = RxStatus.SUPERSEDED, latest.id
            item.reason = (
                f'Recorded as replaced: a newer prescription of the same kind and purpose is on file (issued '
                f'{latest.issue_date:%m/%d/%Y}).'
            )
        record = Prescription(
            patient_id=patient.id,
            status=status,
            signed_at=item.signed_at,
            imported=True,
            superseded_by_id=item.superseded_by,
            void_reason=item.void_reason,
            voided_at=stamp if status == RxStatus.VOID else None,
            **_columns(values),
        )
        if status == RxStatus.FINAL:
            replaced += [(older, record) for older in holders]
            for older in holders:
                older.status = RxStatus.SUPERSEDED  # a new one not inserted yet goes in as replaced
            current[use] = [record]
        records.append(record)
        item.existing = record
    last = await Prescription.all().order_by('-id').limit(1).values_list('id', flat=True)
    await Prescription.bulk_create(records)
    found = (
        await Prescription.filter(id__gt=last[0] if last else 0, imported=True, patient_id__in=patient_ids)
        .order_by('id')
        .values_list('id', 'patient_id', 'issue_date')
    )
    expected = [(r.patient_id, r.issue_date) for r in records]  # type: ignore[attr-defined]
    if [(patient_id, issued) for _, patient_id, issued in found] != expected:
        raise RuntimeError('new prescriptions could not be read back')  # the chunk rolls back
    for record, (rx_id, _, _) in zip(records, found, strict=True):
        record.id = rx_id
        record._saved_in_db = True
    for older, newer_rx in replaced:
        older.superseded_by_id = newer_rx.id  # type: ignore[attr-defined]
    new_ids = {r.id for r in records}
    on_file = [older for older, _ in replaced if older.id not in new_ids]
    if on_file:  # locked above (select_for_update): still final
        await Prescription.bulk_update(on_file, fields=['status', 'superseded_by_id'])
    if new_replaced := [older for older, _ in replaced if older.id in new_ids]:
        await Prescription.bulk_update(new_replaced, fields=['superseded_by_id'])
    eyes: list[PrescriptionEye] = []
    source_ids: list[ExternalIdentifier] = []
    rows: list[AuditEvent] = []
    for item, record in zip(creates, records, strict=True):
        assert item.rx is not None and item.patient is not None and item.signed_at is not None
        patient_id = item.patient.id
        eyes += [PrescriptionEye(prescription_id=record.id, **eye.__dict__) for eye in item.rx.eyes]
        if source_id := item.values.get('rx_id', '').strip():
            source_ids.append(
                ExternalIdentifier(
                    resource_type=RESOURCE_TYPE, system=RX_ID_SYSTEM, value=source_id[:200], object_id=record.id
                )
            )
        signed = {'signed_elsewhere': True, 'signed_at': item.signed_at.isoformat(), 'row': item.row_number}
        rows.append(_event('rx.signed', actor, patient_id, record.id, signed))
        if item.status == RxStatus.VOID:
            rows.append(
                _event('rx.voided', actor, patient_id, record.id, {'reason': item.void_reason, 'was': 'imported'})
            )
        else:
            portal = practice.eyewear_sales_exemption or patient_id in consenting
            made = {'portal': portal, 'exempt': practice.eyewear_sales_exemption}
            rows.append(_event('rx.made_available', actor, patient_id, record.id, made))
    rows += [
        _event('rx.superseded', actor, older.patient_id, older.id, {'superseded_by': newer_rx.id})  # type: ignore[attr-defined]
        for older, newer_rx in replaced
    ]
    await PrescriptionEye.bulk_create(eyes)
    if source_ids:
        await ExternalIdentifier.bulk_create(source_ids)
    await RxVerificationCode.bulk_create(
        [RxVerificationCode(prescription_id=r.id, code=verification_codes.new_code()) for r in records]
    )
    return rows


async def _change_status(item: RxPlan, actor: audit.Actor, stamp: datetime) -> AuditEvent:
    """A current Rx the file now calls replaced or void (the only moves a signed Rx makes)."""
    stored, patient = item.existing, item.patient
    assert stored is not None and patient is not None
    if item.status == RxStatus.VOID:
        changed = await Prescription.filter(id=stored.id, status=RxStatus.FINAL).update(
            status=RxStatus.VOID, void_reason=item.void_reason, voided_at=stamp
        )
        event = _event('rx.voided', actor, patient.id, stored.id, {'reason': item.void_reason, 'was': 'final'})
    else:
        changed = await Prescription.filter(id=stored.id, status=RxStatus.FINAL).update(status=RxStatus.SUPERSEDED)
        event = _event('rx.superseded', actor, patient.id, stored.id, {'row': item.row_number})
    if not changed:
        raise RuntimeError(f'prescription {stored.id} changed meanwhile')  # the chunk retries row by row
    return event


async def after_commit(plans: Iterable[RxPlan]) -> None:
    """The patients whose prescriptions changed: their open Prescriptions tab shows them without a reload."""
    for patient_id in sorted({p.patient.id for p in plans if p.action in (Action.CREATE, Action.UPDATE) and p.patient}):
        await events.publish(patient_id, events.PRESCRIPTIONS)
