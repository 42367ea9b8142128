"""VisionPrescription <-> our prescription (per-eye Rx), written through the console's Rx services.

R4 has no element for the expiry, its reason, PD, lens manufacturer, add designation, purpose, exam date,
"replaced by" or the void reason: they travel as extensions under `EXTENSION` (docs/fhir.md). Status:
final <-> active, draft <-> draft, superseded <-> cancelled (+ replaced-by), void <-> entered-in-error.
A final Rx arriving through the API is recorded as signed by its prescriber in the source system
(`rx_lifecycle.record_signed_elsewhere`): it reaches the patient's open portal like a console-signed one.
"""

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from models.patient import Patient
from models.practice import Provider
from models.prescription import Prescription, RxKind, RxPurpose, RxStatus
from portal.ids import parse_id
from services import audit, rx_lifecycle
from services.errors import DomainError, NotFound
from services.fhir_r4.common import (
    UCUM,
    FhirProblem,
    Warnings,
    ext,
    extension_value,
    identifier_pairs,
    identifiers_of,
    ids_for_identifier,
    matched_record,
    parse,
    read_record,
    reference_id,
    remember_identifiers,
)
from services.rx_validation import EyeInput, RxInput

RESOURCE_TYPE = 'VisionPrescription'
PRODUCT_SYSTEM = 'http://terminology.hl7.org/CodeSystem/ex-visionprescriptionproduct'
PRODUCTS = {'lens': RxKind.SPECTACLE, 'contact': RxKind.CONTACT_LENS}
EYES = {'right': 'OD', 'left': 'OS'}
STATUS_TO_FHIR = {
    RxStatus.FINAL: 'active',
    RxStatus.DRAFT: 'draft',
    RxStatus.SUPERSEDED: 'cancelled',
    RxStatus.VOID: 'entered-in-error',
}
FHIR_TO_STATUS = {fhir: ours for ours, fhir in STATUS_TO_FHIR.items()}
BASES = {'in': 'BI', 'out': 'BO', 'up': 'BU', 'down': 'BD'}
FHIR_BASES = {ours: fhir for fhir, ours in BASES.items()}
# Replacement schedules with a UCUM duration; any other schedule travels as the Quantity's unit text.
SCHEDULES = {
    'daily': (1, 'd', 'day'),
    'two-weekly': (2, 'wk', 'weeks'),
    'monthly': (1, 'mo', 'month'),
    'quarterly': (3, 'mo', 'months'),
}

EXPIRY = ext('rx-expiry')
EXPIRY_REASON = ext('rx-expiry-reason')
EXAM_DATE = ext('rx-exam-date')
PURPOSE = ext('rx-purpose')
REPLACED_BY = ext('rx-replaced-by')
VOID_REASON = ext('rx-void-reason')
SIGNED_AT = ext('rx-signed-at')
NOTES = ext('rx-notes')
PD = ext('pupillary-distance')  # on the VisionPrescription: binocular; on a lensSpecification: that eye's
MANUFACTURER = ext('lens-manufacturer')
ADD_DESIGNATION = ext('add-designation')
DOMINANCE = ext('lens-dominance')
KNOWN_EXTENSIONS = {
    EXPIRY,
    EXPIRY_REASON,
    EXAM_DATE,
    PURPOSE,
    REPLACED_BY,
    VOID_REASON,
    SIGNED_AT,
    NOTES,
    PD,
    MANUFACTURER,
    ADD_DESIGNATION,
    DOMINANCE,
}


def _number(value: Decimal | None) -> float | int | None:
    """JSON numbers as written in the record: 2 decimals for powers, kept exact by going through str."""
    if value is None:
        return None
    return float(value)


def _mm(value: Decimal | None) -> dict[str, Any]:
    return {'value': float(value), 'unit': 'mm', 'system': UCUM, 'code': 'mm'}


def _duration(schedule: str) -> dict[str, Any]:
    if schedule in SCHEDULES:
        amount, code, unit = SCHEDULES[schedule]
        return {'value': amount, 'unit': unit, 'system': UCUM, 'code': code}
    return {'unit': schedule}


def to_fhir(rx: Prescription, identifiers: list[dict[str, str]]) -> dict[str, Any]:
    """The resource for one Rx with its eyes prefetched."""
    extensions: list[dict[str, Any]] = [
        {'url': EXAM_DATE, 'valueDate': rx.exam_date.isoformat()},
        {'url': EXPIRY, 'valueDate': rx.expiry_date.isoformat()},
    ]
    if rx.expiry_reason:
        extensions.append({'url': EXPIRY_REASON, 'valueString': rx.expiry_reason})
    if rx.purpose:
        extensions.append({'url': PURPOSE, 'valueCode': RxPurpose(rx.purpose).value})
    if rx.pd_binocular is not None:
        extensions.append({'url': PD, 'valueQuantity': _mm(rx.pd_binocular)})
    if rx.signed_at is not None:
        extensions.append({'url': SIGNED_AT, 'valueDateTime': rx.signed_at.astimezone(UTC).isoformat()})
    if rx.superseded_by_id is not None:  # type: ignore[attr-defined]
        extensions.append(
            {'url': REPLACED_BY, 'valueReference': {'reference': f'{RESOURCE_TYPE}/{rx.superseded_by_id}'}}
        )  # type: ignore[attr-defined]
    if rx.void_reason:
        extensions.append({'url': VOID_REASON, 'valueString': rx.void_reason})
    if rx.notes:
        extensions.append({'url': NOTES, 'valueString': rx.notes})
    contact = rx.kind == RxKind.CONTACT_LENS
    monocular = {'OD': rx.pd_od, 'OS': rx.pd_os}
    specs = []
    for eye in sorted(rx.eyes, key=lambda e: (e.eye != 'OD', e.id)):
        spec: dict[str, Any] = {
            'product': {'coding': [{'system': PRODUCT_SYSTEM, 'code': 'contact' if contact else 'lens'}]},
            'eye': 'right' if eye.eye == 'OD' else 'left',
        }
        spec['power' if contact else 'sphere'] = _number(eye.sphere)
        if eye.cylinder is not None:
            spec['cylinder'] = _number(eye.cylinder)
            spec['axis'] = eye.axis
        prisms = [
            {'amount': _number(amount), 'base': FHIR_BASES[base]}
            for amount, base in ((eye.prism, eye.prism_base), (eye.prism_vertical, eye.prism_vertical_base))
            if amount is not None and base
        ]
        if prisms:
            spec['prism'] = prisms
        if eye.add is not None:
            spec['add'] = _number(eye.add)
        if eye.base_curve is not None:
            spec['backCurve'] = _number(eye.base_curve)
        if eye.diameter is not None:
            spec['diameter'] = _number(eye.diameter)
        if contact and rx.replacement_schedule:
            spec['duration'] = _duration(rx.replacement_schedule)
        if eye.brand:
            spec['brand'] = eye.brand
        eye_extensions = []
        if eye.manufacturer:
            eye_extensions.append({'url': MANUFACTURER, 'valueString': eye.manufacturer})
        if eye.add_level:
            eye_extensions.append({'url': ADD_DESIGNATION, 'valueCode': eye.add_level})
        if eye.dominance:
            eye_extensions.append({'url': DOMINANCE, 'valueCode': eye.dominance})
        if monocular.get(eye.eye) is not None:
            eye_extensions.append({'url': PD, 'valueQuantity': _mm(monocular[eye.eye])})
        if eye_extensions:
            spec['extension'] = eye_extensions
        specs.append(spec)
    resource: dict[str, Any] = {'resourceType': RESOURCE_TYPE, 'id': str(rx.id), 'extension': extensions}
    if identifiers:
        resource['identifier'] = identifiers
    resource.update(
        {
            'status': STATUS_TO_FHIR[RxStatus(rx.status)],
            'created': rx.issue_date.isoformat(),
            'patient': {'reference': f'Patient/{rx.patient_id}'},  # type: ignore[attr-defined]
            'dateWritten': rx.issue_date.isoformat(),
            'prescriber': {'reference': f'Practitioner/{rx.provider_id}'},  # type: ignore[attr-defined]
            'lensSpecification': specs,
        }
    )
    return resource


async def read(rx_id: int) -> dict[str, Any]:
    rx = await Prescription.filter(id=rx_id).prefetch_related('eyes').first()
    return await read_record(RESOURCE_TYPE, rx, 'prescription', to_fhir)


def _date_filter(text: str) -> dict[str, date]:
    prefixes = {'eq': '', 'ge': '__gte', 'le': '__lte', 'gt': '__gt', 'lt': '__lt'}
    prefix, value = (text[:2], text[2:]) if text[:2] in prefixes else ('eq', text)
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        raise FhirProblem(400, 'date must be a date, such as ge2025-01-01.', 'date') from None
    return {f'issue_date{prefixes[prefix]}': day}


async def search(params: dict[str, str], limit: int) -> list[dict[str, Any]]:
    query = Prescription.all()
    if 'patient' in params:
        query = query.filter(patient_id=parse_id(params['patient'].rpartition('/')[2]) or 0)
    if 'identifier' in params:
        query = query.filter(id__in=await ids_for_identifier(RESOURCE_TYPE, params['identifier']))
    if '_id' in params:
        query = query.filter(id=parse_id(params['_id']) or 0)
    if 'status' in params:
        statuses = [FHIR_TO_STATUS[s] for s in params['status'].split(',') if s in FHIR_TO_STATUS]
        query = query.filter(status__in=statuses)
    if 'date' in params:
        query = query.filter(**_date_filter(params['date']))
    rows = await query.order_by('-issue_date', '-id').limit(limit).prefetch_related('eyes')
    found = await identifiers_of(RESOURCE_TYPE, [rx.id for rx in rows])
    return [to_fhir(rx, found.get(rx.id, [])) for rx in rows]


def _decimal_text(value: Decimal | None) -> str:
    return '' if value is None else format(value, 'f')


def _mm_value(quantity: Any, where: str) -> str:
    if quantity is None or quantity.value is None:
        raise FhirProblem(422, f'{where} needs a valueQuantity in mm.', where)
    if (quantity.code or quantity.unit or 'mm') != 'mm':
        raise FhirProblem(422, f'{where} must be in mm.', where)
    return _decimal_text(quantity.value)


def _schedule(duration: Any, where: str) -> str:
    if duration is None:
        return ''
    for name, (amount, code, _) in SCHEDULES.items():
        if duration.code == code and duration.value is not None and Decimal(duration.value) == amount:
            return name
    if duration.value is None and duration.unit:
        return duration.unit
    raise FhirProblem(
        422,
        f'{where}: a wear duration of {duration.value} {duration.code or duration.unit} is not a '
        'replacement schedule this portal keeps (daily, two-weekly, monthly, quarterly).',
        where,
    )


def _form(model: Any, warnings: Warnings, resolved: dict[str, str]) -> tuple[RxInput, int]:
    """The console's Rx form filled from the resource, and the patient id; FhirProblem names what cannot map."""
    where = RESOURCE_TYPE
    patient_id = reference_id(model.patient, 'Patient', f'{where}.patient', resolved)
    provider_id = reference_id(model.prescriber, 'Practitioner', f'{where}.prescriber', resolved)
    extensions = model.extension
    specs = model.lensSpecification or []
    kinds: set[RxKind] = set()
    eyes: dict[str, EyeInput] = {}
    monocular: dict[str, str] = {}
    schedules: set[str] = set()
    for index, spec in enumerate(specs):
        at = f'{where}.lensSpecification[{index}]'
        codes = [c.code for c in (spec.product.coding or []) if c.code in PRODUCTS]
        if not codes:
            raise FhirProblem(
                422, f'{at}.product must be lens (glasses) or contact ({PRODUCT_SYSTEM}).', f'{at}.product'
            )
        kind = PRODUCTS[codes[0]]
        kinds.add(kind)
        eye = EYES.get(spec.eye or '')
        if eye is None:
            raise FhirProblem(422, f'{at}.eye must be right or left.', f'{at}.eye')
        if eye in eyes:
            raise FhirProblem(422, f'{at}: a second specification for the {spec.eye} eye; send one per eye.', at)
        contact = kind == RxKind.CONTACT_LENS
        for element in ('color',) + (
            ('prism',) if contact else ('backCurve', 'diameter', 'power', 'duration', 'brand')
        ):
            if getattr(spec, element, None):
                raise FhirProblem(
                    422,
                    f'{at}.{element} cannot be recorded on a {"contact lens" if contact else "glasses"} Rx here.',
                    f'{at}.{element}',
                    'not-supported',
                )
        if spec.note:
            warnings.add(f'{at}.note', 'Notes on a lens specification are not stored.')
        sphere = spec.power if contact and spec.power is not None else spec.sphere
        if contact and spec.power is not None and spec.sphere is not None and spec.power != spec.sphere:
            raise FhirProblem(422, f'{at}: sphere and power differ; a contact lens has one power.', f'{at}.power')
        horizontal = [p for p in spec.prism or [] if p.base in ('in', 'out')]
        vertical = [p for p in spec.prism or [] if p.base in ('up', 'down')]
        for position, prism in enumerate(spec.prism or []):
            if prism.base not in BASES:
                raise FhirProblem(422, f'{at}.prism[{position}].base must be in, out, up or down.', f'{at}.prism')
        if len(horizontal) > 1 or len(vertical) > 1:
            raise FhirProblem(422, f'{at}.prism: at most one horizontal and one vertical prism.', f'{at}.prism')
        add_level = extension_value(spec.extension, ADD_DESIGNATION, 'valueCode')
        if add_level is not None and spec.add is not None:
            raise FhirProblem(422, f'{at}: an add in diopters or an add designation, not both.', f'{at}.add')
        pd = extension_value(spec.extension, PD, 'valueQuantity')
        if pd is not None:
            monocular[eye] = _mm_value(pd, f'{at}.extension[pupillary-distance]')
        schedules.add(_schedule(spec.duration, f'{at}.duration'))
        eyes[eye] = EyeInput(
            sphere=_decimal_text(sphere) or '',
            cylinder=_decimal_text(spec.cylinder),
            axis='' if spec.axis is None else str(spec.axis),
            add=add_level if add_level is not None else _decimal_text(spec.add),
            prism_horizontal=_decimal_text(horizontal[0].amount) if horizontal else '',
            prism_horizontal_base=BASES[horizontal[0].base] if horizontal else '',
            prism_vertical=_decimal_text(vertical[0].amount) if vertical else '',
            prism_vertical_base=BASES[vertical[0].base] if vertical else '',
            base_curve=_decimal_text(spec.backCurve),
            diameter=_decimal_text(spec.diameter),
            dominance=extension_value(spec.extension, DOMINANCE, 'valueCode') or '',
            manufacturer=extension_value(spec.extension, MANUFACTURER, 'valueString') or '',
            brand=spec.brand or '',
        )
    if len(kinds) != 1:
        raise FhirProblem(
            422,
            f'{where}.lensSpecification: one product (lens or contact) for both eyes.',
            f'{where}.lensSpecification',
        )
    if set(eyes) != {'OD', 'OS'}:
        raise FhirProblem(
            422,
            f'{where}.lensSpecification needs the right and the left eye.',
            f'{where}.lensSpecification',
            'required',
        )
    if len(schedules) > 1:
        raise FhirProblem(422, 'Both eyes need the same wear duration.', f'{where}.lensSpecification.duration')
    kind = kinds.pop()
    written = model.dateWritten.date() if isinstance(model.dateWritten, datetime) else model.dateWritten
    exam = extension_value(extensions, EXAM_DATE, 'valueDate') or written
    purpose = extension_value(extensions, PURPOSE, 'valueCode') or ''
    if kind == RxKind.SPECTACLE and not purpose:
        purpose = RxPurpose.OTHER.value
        warnings.add(f'{where}.extension', f'No {PURPOSE} extension: the purpose of the glasses is recorded as other.')
    if purpose and purpose not in {p.value for p in RxPurpose}:
        raise FhirProblem(422, f'{where}: purpose {purpose!r} is not one of {", ".join(RxPurpose)}.', PURPOSE)
    binocular = extension_value(extensions, PD, 'valueQuantity')
    form = RxInput(
        kind=kind.value,
        provider_id=provider_id,
        exam_date=exam,
        issue_date=written,
        purpose=purpose if kind == RxKind.SPECTACLE else '',
        expiry_date=extension_value(extensions, EXPIRY, 'valueDate'),
        expiry_reason=extension_value(extensions, EXPIRY_REASON, 'valueString') or '',
        notes=extension_value(extensions, NOTES, 'valueString') or '',
        pd_binocular=_mm_value(binocular, f'{where}.extension[pupillary-distance]') if binocular else '',
        pd_od=monocular.get('OD', ''),
        pd_os=monocular.get('OS', ''),
        replacement_schedule=schedules.pop() if schedules else '',
        eyes=eyes,
    )
    return form, patient_id


def _signed_at(model: Any) -> datetime:
    signed = extension_value(model.extension, SIGNED_AT, 'valueDateTime')
    if isinstance(signed, datetime):
        return signed if signed.tzinfo else signed.replace(tzinfo=UTC)
    written = model.dateWritten
    if isinstance(written, datetime):
        return written if written.tzinfo else written.replace(tzinfo=UTC)
    return datetime.combine(written, time(12), tzinfo=UTC)


async def _same_as_stored(rx: Prescription, form: RxInput) -> bool:
    """Whether a locked (signed) Rx is being re-sent unchanged: then a re-send is a no-op, not a refusal."""
    patient = await rx_lifecycle._patient(rx.patient_id)  # type: ignore[attr-defined]
    values = await rx_lifecycle._checked(patient, form)
    for column, value in rx_lifecycle._columns(values).items():
        if getattr(rx, column) != value:
            return False
    stored = {e.eye: e for e in await rx.eyes.all()}
    for eye in values.eyes:
        if eye.eye not in stored:
            return False
        if any(getattr(stored[eye.eye], name) != value for name, value in eye.__dict__.items()):
            return False
    return True


async def write(
    body: Any, actor: audit.Actor, record_id: int | None, warnings: Warnings, resolved: dict[str, str]
) -> tuple[int, bool]:
    model = parse(RESOURCE_TYPE, body, KNOWN_EXTENSIONS, warnings)
    status = FHIR_TO_STATUS.get(model.status or '')
    if status is None:
        raise FhirProblem(
            422,
            f'{RESOURCE_TYPE}.status must be active, draft, cancelled or entered-in-error.',
            f'{RESOURCE_TYPE}.status',
        )
    pairs = identifier_pairs(model.identifier, f'{RESOURCE_TYPE}.identifier')
    form, patient_id = _form(model, warnings, resolved)
    eye_index = {EYES.get(spec.eye or '', ''): i for i, spec in enumerate(model.lensSpecification or [])}
    if not await Patient.exists(id=patient_id):
        raise FhirProblem(
            422, f'{RESOURCE_TYPE}.patient: Patient/{patient_id} does not exist.', f'{RESOURCE_TYPE}.patient'
        )
    if not await Provider.exists(id=form.provider_id):
        raise FhirProblem(
            422,
            f'{RESOURCE_TYPE}.prescriber: Practitioner/{form.provider_id} does not exist.',
            f'{RESOURCE_TYPE}.prescriber',
        )
    if record_id is None:
        record_id = await matched_record(RESOURCE_TYPE, pairs)
    try:
        if record_id is not None:
            rx = await Prescription.get_or_none(id=record_id)
            if rx is None:
                raise NotFound('prescription')
            if rx.patient_id != patient_id:  # type: ignore[attr-defined]
                raise FhirProblem(
                    409, f'{RESOURCE_TYPE}/{rx.id} belongs to another patient.', f'{RESOURCE_TYPE}.patient', 'conflict'
                )
            if rx.status != RxStatus.DRAFT:
                await _update_locked(rx, form, status, model, actor)
                await remember_identifiers(RESOURCE_TYPE, rx.id, pairs)
                return rx.id, False
            rx = await rx_lifecycle.save_draft(patient_id, form, actor, rx_id=rx.id)
            created = False
        else:
            rx = await rx_lifecycle.save_draft(patient_id, form, actor)
            created = True
        await remember_identifiers(RESOURCE_TYPE, rx.id, pairs)
        await _apply_status(rx.id, status, model, actor, resolved)
    except (FhirProblem, NotFound):
        raise
    except DomainError as error:
        raise FhirProblem(422, str(error), _element_of(str(error), eye_index)) from None
    return rx.id, created


async def _apply_status(rx_id: int, status: RxStatus, model: Any, actor: audit.Actor, resolved: dict[str, str]) -> None:
    if status == RxStatus.FINAL:
        await rx_lifecycle.record_signed_elsewhere(rx_id, actor, signed_at=_signed_at(model))
    elif status == RxStatus.SUPERSEDED:
        successor = extension_value(model.extension, REPLACED_BY, 'valueReference')
        successor_id = None
        if successor is not None:
            try:
                successor_id = reference_id(successor, RESOURCE_TYPE, REPLACED_BY, resolved)
            except FhirProblem:
                successor_id = None
            if successor_id is not None and not await Prescription.exists(id=successor_id):
                successor_id = None
        await rx_lifecycle.record_signed_elsewhere(
            rx_id, actor, signed_at=_signed_at(model), superseded=True, superseded_by_id=successor_id
        )
    elif status == RxStatus.VOID:
        reason = extension_value(model.extension, VOID_REASON, 'valueString') or 'entered in error in the source system'
        await rx_lifecycle.void(rx_id, reason, actor)


async def _update_locked(rx: Prescription, form: RxInput, status: RxStatus, model: Any, actor: audit.Actor) -> None:
    """A signed Rx never changes; the source may re-send it unchanged, or withdraw it (entered-in-error)."""
    if status == RxStatus.VOID and rx.status in (RxStatus.FINAL, RxStatus.DRAFT):
        reason = extension_value(model.extension, VOID_REASON, 'valueString') or 'entered in error in the source system'
        await rx_lifecycle.void(rx.id, reason, actor)
        return
    if status == rx.status and await _same_as_stored(rx, form):
        return
    raise FhirProblem(409, str(rx_lifecycle.PrescriptionLocked(rx.status)), f'{RESOURCE_TYPE}', 'conflict')


def _element_of(message: str, eye_index: dict[str, int]) -> str:
    lowered = message.lower()
    for words, element in (
        (('right eye',), f'{RESOURCE_TYPE}.lensSpecification[{eye_index.get("OD", 0)}]'),
        (('left eye',), f'{RESOURCE_TYPE}.lensSpecification[{eye_index.get("OS", 1)}]'),
        (('expir', 'expire'), EXPIRY),
        (('pd:',), PD),
        (('exam date',), EXAM_DATE),
        (('issue date',), 'VisionPrescription.dateWritten'),
        (('prescriber',), 'VisionPrescription.prescriber'),
        (('glasses are for',), PURPOSE),
    ):
        if any(word in lowered for word in words):
            return element
    return RESOURCE_TYPE


async def patient_of(record_id: int) -> int | None:
    row = await Prescription.filter(id=record_id).values_list('patient_id', flat=True)
    return row[0] if row else None
