"""The verification desk: sellers' contact-lens verification requests, logged, matched, answered in time.

A seller asks the prescriber to verify a contact-lens prescription (16 CFR 315.5) by phone, fax or
email; staff log it as it arrives. The deadline is eight business hours from receipt, counted as 315.2
defines them in the prescriber's time zone (`verification_deadline`). Staff answer Verified, Inaccurate
(with the correct prescription from the record) or Invalid (with the reason); the answer goes to the
seller by email through the outbox, and every step is audited.

An open request past its deadline is *passively verified*: the seller may fill it. That state is derived
when a request is read (`Desk.passive`), not written by a background loop: it is true the moment the
deadline passes whether or not any loop ran, and nothing has to be undone if the clock or the deadline
rule changes. The answer can still be sent later (the seller may then stop an order); it is marked late.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from tortoise.transactions import in_transaction

from models.patient import Patient
from models.practice import Practice
from models.prescription import Prescription, RxKind, RxStatus
from models.staff import StaffUser
from models.verification import InvalidReason, RequestChannel, RequestStatus, VerificationRequest
from services import audit, events, outbox, prescriptions, verification_deadline
from services.appointments import local_time, today_in
from services.email_addresses import InvalidEmail, validated_email
from services.errors import DomainError, NotFound
from services.prescriptions import EyeRow, long_date
from services.typed_text import checked_line

EYES = ('OD', 'OS')
# What a seller states per eye, in the order an optician reads it; compared as numbers where they are.
STATED_FIELDS = (
    ('sphere', 'Power'),
    ('cylinder', 'Cylinder'),
    ('axis', 'Axis'),
    ('add', 'Add'),
    ('base_curve', 'Base curve'),
    ('diameter', 'Diameter'),
)
REASON_LABELS = {
    InvalidReason.EXPIRED: 'The prescription has expired.',
    InvalidReason.NO_RX: 'We have no contact lens prescription on file for this patient.',
    InvalidReason.NOT_OUR_PATIENT: 'This person is not a patient of our practice.',
}
OUTCOME_LABELS = {
    RequestStatus.VERIFIED: 'Verified',
    RequestStatus.INACCURATE: 'Inaccurate',
    RequestStatus.INVALID: 'Invalid',
}
CHANNEL_LABELS = {RequestChannel.PHONE: 'Phone', RequestChannel.FAX: 'Fax', RequestChannel.EMAIL: 'Email'}


class InvalidRequest(DomainError):
    pass


class AlreadyAnswered(DomainError):
    def __init__(self) -> None:
        super().__init__('This request has already been answered. The list shows its answer.')


@dataclass
class RequestInput:
    seller_name: str
    seller_email: str
    channel: str
    received_at: datetime  # aware
    patient_name: str
    patient_id: int | None = None
    patient_dob: date | None = None
    seller_phone: str = ''
    seller_fax: str = ''
    count_saturday: bool = False
    brand: str = ''
    quantity: str = ''
    eyes: dict[str, dict[str, str]] = field(default_factory=dict)  # 'OD' -> {'sphere': '-2.50', ...}


@dataclass(frozen=True)
class Comparison:
    eye: str
    label: str
    stated: str
    on_record: str

    @property
    def matches(self) -> bool:
        if self.label == 'Brand':
            return brand_matches(self.stated, self.on_record)
        return _canonical(self.stated) == _canonical(self.on_record)


@dataclass(frozen=True)
class DeskRow:
    """One request as the desk shows it: its deadline, time left and whether silence has verified it."""

    request: VerificationRequest
    now: datetime
    time_zone: str

    @property
    def is_open(self) -> bool:
        return self.request.status == RequestStatus.OPEN

    @property
    def passive(self) -> bool:
        """Unanswered past the deadline: passively verified (the seller may fill it)."""
        return self.is_open and self.now >= self.request.due_at

    @property
    def due_today(self) -> bool:
        today = local_time(self.now, self.time_zone).date()
        return self.is_open and not self.passive and local_time(self.request.due_at, self.time_zone).date() == today

    @property
    def hours_left(self) -> float:
        return verification_deadline.business_hours_left(
            self.request.due_at, self.now, self.time_zone, count_saturday=self.request.count_saturday
        )

    @property
    def state(self) -> str:
        if self.passive:
            return 'Passively verified'
        if self.is_open:
            return 'Open'
        return OUTCOME_LABELS[RequestStatus(self.request.status)]


def _canonical(value: str) -> str:
    """'-2.5', '-2.50' and '−2.50' are one power; 'PL' is 0; 'DS' (no cylinder) is empty; 90 and 090 one axis."""
    text = (value or '').strip().upper().replace('\u2212', '-').replace('+', '')
    if text in ('', '-', 'DS', 'SPH', '\u2014'):
        return ''
    if text in ('PL', 'PLANO'):
        return '0'
    try:
        return str(Decimal(text).normalize() + 0)
    except InvalidOperation:
        return text


def _clean(text: str, label: str, limit: int) -> str:
    """The seller's words kept as stated (spaces tidied), or refused: never silently cut short."""
    return checked_line(text, label, limit, refuse=InvalidRequest)


async def log_request(
    practice: Practice, form: RequestInput, actor: audit.Actor, staff: StaffUser
) -> VerificationRequest:
    """Record a request as it arrived; its deadline is computed now, from the receipt time."""
    seller = _clean(form.seller_name, 'seller', 200)
    if not seller:
        raise InvalidRequest('Enter the seller (the store or website asking).')
    try:
        email = validated_email(form.seller_email)
    except InvalidEmail:
        raise InvalidRequest('Enter the email address the answer goes to (the seller asked for it).') from None
    try:
        channel = RequestChannel(form.channel)
    except ValueError:
        raise InvalidRequest('Choose how the request arrived: phone, fax or email.') from None
    if form.received_at.tzinfo is None:
        raise InvalidRequest('Enter when the request was received.')
    if form.received_at > datetime.now(UTC):
        raise InvalidRequest('The time received cannot be in the future.')
    name = _clean(form.patient_name, "patient's name", 200)
    if not name and form.patient_id is None:
        raise InvalidRequest("Enter the patient's name as the seller gave it.")
    patient = None
    if form.patient_id is not None:
        patient = await Patient.filter(id=form.patient_id, practice_id=practice.id).first()
        if patient is None:
            raise NotFound('patient')
        name = name or patient.full_name[:200]  # a 100-character first and last name make 201
    stated = {
        'brand': _clean(form.brand, 'brand', 120),
        'quantity': _clean(form.quantity, 'quantity', 60),
        'eyes': {
            eye: {
                key: _clean((form.eyes.get(eye) or {}).get(key, ''), f'{label.lower()} ({eye})', 20)
                for key, label in STATED_FIELDS
            }
            for eye in EYES
        },
    }
    due = verification_deadline.deadline(form.received_at, practice.time_zone, count_saturday=form.count_saturday)
    async with in_transaction():
        request = await VerificationRequest.create(
            practice_id=practice.id,
            patient=patient,
            patient_name=name,
            patient_dob=form.patient_dob,
            seller_name=seller,
            seller_email=email,
            seller_phone=_clean(form.seller_phone, "seller's phone", 40),
            seller_fax=_clean(form.seller_fax, "seller's fax", 40),
            channel=channel,
            received_at=form.received_at,
            count_saturday=form.count_saturday,
            due_at=due,
            stated=stated,
            created_by=staff,
        )
        await audit.record(
            'verification.logged',
            actor,
            patient_id=patient.id if patient else None,
            object_type='verification_request',
            object_id=request.id,
            detail={'channel': channel.value, 'due_at': due.isoformat(), 'count_saturday': form.count_saturday},
        )
    await events.publish(patient.id if patient else events.ANY_PATIENT, events.VERIFICATIONS)
    return request


async def desk(practice: Practice, now: datetime | None = None) -> list[DeskRow]:
    """Open requests by time left (due today first, as the deadline sorts them), then passively verified,
    then the last answered ones. Two queries."""
    now = now or datetime.now(UTC)
    requests = await VerificationRequest.filter(practice_id=practice.id).select_related('patient').order_by('due_at')
    rows = [DeskRow(r, now, practice.time_zone) for r in requests]
    live = [r for r in rows if r.is_open and not r.passive]
    passive = sorted((r for r in rows if r.passive), key=lambda r: r.request.due_at, reverse=True)
    answered = sorted((r for r in rows if not r.is_open), key=lambda r: r.request.answered_at or now, reverse=True)
    return live + passive + answered[:50]


async def open_count(now: datetime | None = None) -> int:
    """Requests still waiting for an answer before their deadline (the console header's number)."""
    return await VerificationRequest.filter(status=RequestStatus.OPEN, due_at__gt=now or datetime.now(UTC)).count()


async def get(request_id: int) -> VerificationRequest:
    request = await VerificationRequest.filter(id=request_id).select_related('patient', 'practice').first()
    if request is None:
        raise NotFound('verification request')
    return request


async def current_contact_lens_rx(patient_id: int) -> Prescription | None:
    """The patient's current contact-lens Rx (final), with its eyes and prescriber; None when there is none."""
    return (
        await Prescription.filter(patient_id=patient_id, kind=RxKind.CONTACT_LENS, status=RxStatus.FINAL)
        .select_related('provider')
        .prefetch_related('eyes')
        .order_by('-issue_date', '-id')
        .first()
    )


async def current_contact_lens_rxs(patient_ids: set[int]) -> dict[int, Prescription]:
    """The current contact-lens Rx of each patient, in two queries however many (for the desk)."""
    found: dict[int, Prescription] = {}
    for rx in (
        await Prescription.filter(patient_id__in=patient_ids, kind=RxKind.CONTACT_LENS, status=RxStatus.FINAL)
        .prefetch_related('eyes')
        .order_by('-issue_date', '-id')
    ):
        found.setdefault(rx.patient_id, rx)  # type: ignore[attr-defined]
    return found


def compare(request: VerificationRequest, rx: Prescription) -> list[Comparison]:
    """Each stated value next to the record's, written the same way (brand first)."""
    rows = {row.eye: row for row in prescriptions.eye_rows(rx)}
    stated = request.stated or {}
    result = []
    record_brand = {' '.join(p for p in (r.manufacturer, r.brand) if p) for r in rows.values()}
    result.append(Comparison('', 'Brand', stated.get('brand', ''), ' / '.join(sorted(record_brand))))
    for eye in EYES:
        row = rows.get(eye)
        for key, label in STATED_FIELDS:
            result.append(
                Comparison(eye, label, (stated.get('eyes', {}).get(eye) or {}).get(key, ''), _value(row, key))
            )
    return result


def _value(row: EyeRow | None, key: str) -> str:
    if row is None:
        return ''
    value = getattr(row, key)
    return '' if key == 'cylinder' and value == 'DS' else value


def brand_matches(stated: str, on_record: str) -> bool:
    """A seller writes 'Acuvue Oasys 1-Day' for 'Johnson & Johnson - Acuvue Oasys 1-Day': contained is a match."""
    a, b = ' '.join(stated.lower().split()), ' '.join(on_record.lower().split())
    return bool(a) and (a in b or b in a)


async def answer(
    request_id: int, outcome: str, actor: audit.Actor, staff: StaffUser, *, reason: str = ''
) -> VerificationRequest:
    """Answer the seller: the email goes through the outbox; the row and its audit commit together."""
    request = await get(request_id)
    if request.status != RequestStatus.OPEN:
        raise AlreadyAnswered()
    try:
        outcome = RequestStatus(outcome)
    except ValueError:
        raise InvalidRequest('Choose Verified, Inaccurate or Invalid.') from None
    if outcome == RequestStatus.OPEN:
        raise InvalidRequest('Choose Verified, Inaccurate or Invalid.')
    practice = request.practice
    rx = await current_contact_lens_rx(request.patient_id) if request.patient_id else None  # type: ignore[attr-defined]
    invalid_reason = ''
    if outcome == RequestStatus.INVALID:
        try:
            invalid_reason = InvalidReason(reason).value
        except ValueError:
            raise InvalidRequest(
                'Choose why it is invalid: expired, no prescription on file, or not our patient.'
            ) from None
        rx = None
    elif rx is None:
        raise InvalidRequest(
            'There is no current contact lens prescription on file to verify or correct: answer Invalid.'
        )
    elif prescriptions.is_expired(rx, today_in(practice.time_zone)):
        raise InvalidRequest(
            f'The contact lens prescription on file expired on {long_date(rx.expiry_date)}: answer Invalid (expired).'
        )
    now = datetime.now(UTC)
    late = now >= request.due_at
    document = await prescriptions.document_for_staff(rx.id) if rx else None
    async with in_transaction():
        done = await VerificationRequest.filter(id=request.id, status=RequestStatus.OPEN).update(
            status=outcome,
            invalid_reason=invalid_reason,
            prescription_id=rx.id if rx else None,
            answered_at=now,
            answered_by_id=staff.id,
        )
        if not done:
            raise AlreadyAnswered()
        message = await outbox.enqueue_template(
            'verification_answer',
            to=request.seller_email,
            purpose='verification',
            patient=request.patient,
            sent_by=staff.name,
            outcome=OUTCOME_LABELS[outcome],
            inaccurate=outcome == RequestStatus.INACCURATE,
            reason=REASON_LABELS.get(InvalidReason(invalid_reason), '') if invalid_reason else '',
            seller_name=request.seller_name,
            patient_name=request.patient_name,
            patient_dob=long_date(request.patient_dob) if request.patient_dob else '',
            received=_local(request.received_at, practice.time_zone),
            stated=_stated_lines(request),
            rx_lines=_rx_lines(document) if document else [],
            prescriber=_prescriber_lines(document) if document else [],
            practice_name=practice.name,
            practice_phone=practice.phone,
            practice_fax=practice.fax,
            practice_address=practice.address,
        )
        await audit.record(
            'verification.answered',
            actor,
            patient_id=request.patient_id,  # type: ignore[attr-defined]
            object_type='verification_request',
            object_id=request.id,
            detail={
                'outcome': outcome.value,
                'reason': invalid_reason,
                'prescription': rx.id if rx else None,
                'late': late,
                'message': message.id,
            },
        )
    await events.publish(request.patient_id or events.ANY_PATIENT, events.VERIFICATIONS)  # type: ignore[attr-defined]
    outbox.deliver_soon(message.id)
    return await get(request.id)


def _local(moment: datetime, time_zone: str) -> str:
    local = local_time(moment, time_zone)
    return f'{long_date(local.date())} at {local:%-I:%M %p} {local.tzname()}'


def _stated_lines(request: VerificationRequest) -> list[str]:
    stated = request.stated or {}
    lines = [f'Lens: {stated["brand"]}'] if stated.get('brand') else []
    if stated.get('quantity'):
        lines.append(f'Quantity: {stated["quantity"]}')
    for eye in EYES:
        values = stated.get('eyes', {}).get(eye) or {}
        parts = [f'{label} {values[key]}' for key, label in STATED_FIELDS if values.get(key)]
        if parts:
            lines.append(f'{eye}: ' + ', '.join(parts))
    return lines


def _rx_lines(document: prescriptions.RxDocument) -> list[str]:
    """The prescription as it is on record, in optical notation: what an Inaccurate answer must carry."""
    rx = document.prescription
    lines = [f'Issued {long_date(rx.issue_date)}, expires {long_date(rx.expiry_date)}']
    lines += [f'{label}: {value}' for label, value in document.lens_lines()]
    for eye in document.eyes:
        parts = [f'{label} {_value(eye, key)}' for key, label in STATED_FIELDS if _value(eye, key)]
        lines.append(f'{eye.eye}: ' + ', '.join(parts))
    if rx.replacement_schedule:
        lines.append(f'Replacement: {rx.replacement_schedule}')
    return lines


def _prescriber_lines(document: prescriptions.RxDocument) -> list[str]:
    return [f'{label}: {value}' for label, value in document.prescriber_facts() if label in ('Name', 'License', 'NPI')]
