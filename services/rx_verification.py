"""Verifiable prescriptions: one shared code per released Rx, withdrawn by the patient, looked up at /verify.

Signing an Rx gives it a code (`issue_code`, inside the signing transaction). The patient may stop
sharing: the code is withdrawn and a new one issued, so whoever still holds the old one learns nothing.
A lookup answers with the Rx as issued and its status, or with one sentence that is the same for a
code that never existed, a withdrawn one and a mistyped one. Each answered lookup is audited with the
viewer's address (release evidence); lookups are rate-limited per address, so guessing among about
2**103 codes is pointless twice over.
"""

import io
from dataclasses import dataclass
from datetime import UTC, date, datetime

import segno
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.audit import AuditEvent
from models.practice import Practice
from models.prescription import Prescription, RxStatus
from models.verification import RxVerificationCode
from services import audit, events, magic_link, prescriptions, rx_release, throttle, verification_codes
from services.appointments import today_in
from services.errors import DomainError, NotFound
from services.prescriptions import RxDocument

SHAREABLE = (RxStatus.FINAL, RxStatus.SUPERSEDED, RxStatus.VOID)  # a void Rx still answers "Void"
LOOKUPS_PER_15_MINUTES = 30
LOOKUPS_PER_DAY = 200
FIFTEEN_MINUTES, DAY = 15 * 60, 24 * 3600
NOT_SHARED = (
    'No shared prescription has this code. Check the letters and try again; if it is right, the patient '
    'may have stopped sharing this prescription or may have a newer code.'
)

CURRENT, EXPIRED, REPLACED, VOID = 'Current', 'Expired', 'Replaced by a newer prescription', 'Void'


class TooManyLookups(DomainError):
    """Refused before looking: this address used its look-ups, or the shared limits cannot be reached
    (they fail closed, and the seller is told it is on our side, not theirs)."""

    def __init__(self, blocked: throttle.Blocked) -> None:
        self.unavailable = blocked.limit is throttle.UNAVAILABLE
        if self.unavailable:
            message = 'Prescriptions cannot be checked at the moment. Please try again in a minute.'
        else:
            message = f'Too many look-ups from this address. Please wait {blocked.wait_in_words} and try again.'
        super().__init__(message)


@dataclass(frozen=True)
class Verification:
    """What /verify shows: the Rx as issued and its status, nothing else of the patient."""

    document: RxDocument
    status: str
    code: str

    @property
    def facts(self) -> list[tuple[str, str]]:
        """The printed facts without the date of birth (the holder of a code learns no more than the Rx)."""
        return [(label, value) for label, value in self.document.facts() if label != 'Date of birth']


@dataclass(frozen=True)
class Share:
    """What a copy of the Rx carries so that anyone can check it: the code, its page, its QR."""

    code: str
    site: str  # the portal's address, where /verify is

    @property
    def display(self) -> str:
        return verification_codes.display(self.code)

    @property
    def verify_page(self) -> str:
        return f'{self.site}/verify'

    @property
    def url(self) -> str:
        return f'{self.verify_page}?code={self.display}'

    def qr_svg(self) -> str:
        """Inline SVG (for the print view and the portal); dark modules on white, quiet zone included."""
        return _qr(self.url).svg_inline(scale=4, border=4, dark='#000', light='#fff', title=f'QR code: {self.url}')

    def qr_png(self) -> bytes:
        """A PNG for the PDF: a crisp 1-pixel module scaled up, readable after a fax."""
        out = io.BytesIO()
        _qr(self.url).save(out, kind='png', scale=10, border=4)
        return out.getvalue()


def _qr(url: str) -> segno.QRCode:
    return segno.make(url, error='m', micro=False)


def share_for(code: str | None, practice: Practice) -> Share | None:
    if code is None:
        return None
    return Share(code=code, site=magic_link.portal_url(practice).rstrip('/'))


async def share_of(document: RxDocument) -> Share | None:
    """The code every copy of this Rx carries (None for a draft)."""
    return share_for(await current_code(document.prescription), document.practice)


def status_word(rx: Prescription, today: date) -> str:
    if rx.status == RxStatus.VOID:
        return VOID
    if rx.status == RxStatus.SUPERSEDED:
        return REPLACED
    return EXPIRED if prescriptions.is_expired(rx, today) else CURRENT


async def _new_code(rx_id: int) -> RxVerificationCode:
    for _ in range(5):  # a collision among 2**103 codes will not happen; the loop only makes it harmless
        try:
            async with in_transaction():
                return await RxVerificationCode.create(prescription_id=rx_id, code=verification_codes.new_code())
        except IntegrityError:
            continue
    raise RuntimeError('could not draw a unique verification code')


async def issue_code(rx_id: int) -> RxVerificationCode:
    """The Rx's first code (called when it is signed; inside the caller's transaction)."""
    return await _new_code(rx_id)


async def current_code(rx: Prescription) -> str | None:
    """The Rx's shared code, drawing one for a released Rx signed before codes existed; None for drafts."""
    if rx.status not in SHAREABLE:
        return None
    row = await RxVerificationCode.filter(prescription_id=rx.id, withdrawn_at__isnull=True).order_by('-id').first()
    if row is None:
        row = await _new_code(rx.id)
    return row.code


@dataclass(frozen=True)
class PatientList:
    """The Prescriptions tab: whether the portal may show the patient's Rx, which, and the current ones' codes."""

    allowed: bool
    items: list[Prescription]
    codes: dict[int, str]


async def patient_list(patient_id: int, practice: Practice) -> PatientList:
    """What the Prescriptions tab shows, in one statement for a patient who has any (`prescriptions.
    released_with_codes`): the list only with consent on file or the practice exempt (`rx_release`), asked on
    every view. An empty list asks about consent once more, to tell "no consent yet" from "no Rx yet"."""
    required = not practice.eyewear_sales_exemption
    items, codes = await prescriptions.released_with_codes(patient_id, consent_required=required)
    allowed = bool(items) or await rx_release.may_release_digitally(patient_id, practice)
    missing = [rx for rx in items if rx.status == RxStatus.FINAL and rx.id not in codes]
    if missing:  # released before codes existed
        codes |= await current_codes(missing)
    return PatientList(allowed, items, codes)


async def current_codes(rxs: list[Prescription]) -> dict[int, str]:
    """Codes for a list of prescriptions in one query (drawing the missing ones)."""
    ids = [rx.id for rx in rxs if rx.status in SHAREABLE]
    found = {
        row.prescription_id: row.code  # type: ignore[attr-defined]
        for row in await RxVerificationCode.filter(prescription_id__in=ids, withdrawn_at__isnull=True).order_by('id')
    }
    missing = [RxVerificationCode(prescription_id=rx_id, code=verification_codes.new_code()) for rx_id in ids]
    missing = [row for row in missing if row.prescription_id not in found]  # type: ignore[attr-defined]
    if missing:  # released before codes existed: drawn together, so the page's query count stays constant
        await RxVerificationCode.bulk_create(missing)
        found.update({row.prescription_id: row.code for row in missing})  # type: ignore[attr-defined]
    return found


async def stop_sharing(patient_id: int, rx_id: int, actor: audit.Actor) -> str:
    """Withdraw the Rx's code and issue a new one; returns the new code. The old one then answers NOT_SHARED."""
    rx = await Prescription.filter(id=rx_id, patient_id=patient_id, status__in=SHAREABLE).first()
    if rx is None:
        raise NotFound('prescription')
    async with in_transaction():
        withdrawn = await RxVerificationCode.filter(prescription_id=rx.id, withdrawn_at__isnull=True).update(
            withdrawn_at=datetime.now(UTC)
        )
        fresh = await RxVerificationCode.create(prescription_id=rx.id, code=verification_codes.new_code())
        await audit.record(
            'rx.sharing_stopped',
            actor,
            patient_id=patient_id,
            object_type='prescription',
            object_id=rx.id,
            detail={'withdrawn': withdrawn},
        )
    await events.publish(patient_id, events.PRESCRIPTIONS)
    return fresh.code


def viewer(client_address: str) -> audit.Actor:
    """Whoever holds a code: known only by the address they came from."""
    return audit.Actor('public', None, 'verification viewer', client_address)


async def look_up(typed: str, client_address: str) -> Verification | None:
    """The shared Rx for a typed or scanned code, or None (unknown, withdrawn or malformed: alike).

    Raises TooManyLookups when this address has looked up too many codes (any answer counts).
    """
    blocked = await throttle.current().attempt(
        [
            throttle.Limit(f'verify:{client_address}', LOOKUPS_PER_15_MINUTES, FIFTEEN_MINUTES),
            throttle.Limit(f'verify-day:{client_address}', LOOKUPS_PER_DAY, DAY),
        ]
    )
    if blocked is not None:
        raise TooManyLookups(blocked)
    code = verification_codes.normalized(typed)
    if code is None:
        return None
    row = await RxVerificationCode.filter(code=code, withdrawn_at__isnull=True).first()
    if row is None:
        return None
    document = await prescriptions.document_for_staff(row.prescription_id)  # type: ignore[attr-defined]
    if document.prescription.status not in SHAREABLE:
        return None
    today = today_in(document.practice.time_zone)
    status = status_word(document.prescription, today)
    await audit.record(
        'rx.verified',
        viewer(client_address),
        patient_id=document.patient.id,
        object_type='prescription',
        object_id=document.prescription.id,
        detail={'status': status},
    )
    return Verification(document=document, status=status, code=code)


async def verified_views(patient_id: int) -> list[AuditEvent]:
    """The /verify looks at this patient's prescriptions, latest first (for the profile)."""
    return await AuditEvent.filter(patient_id=patient_id, action='rx.verified').order_by('-at', '-id').limit(50)
