"""Release evidence (FTC Eyeglass and Contact Lens Rules): consent, paper confirmations, and the record.

Digital release needs the patient's consent first, naming the method (the portal). Without it the
portal shows no Rx, and the practice prints the Rx and keeps the patient's signed confirmation of
receipt or a note that they refused to sign. A prescriber with no financial interest in selling
eyewear is exempt (`Practice.eyewear_sales_exemption`). The evidence view joins the Rx with its audit
rows (made available, viewed, printed, downloaded), the consent and the confirmations.
"""

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models.audit import AuditEvent
from models.consent import ConfirmationKind, ConsentMethod, DigitalDeliveryConsent, ReleaseConfirmation
from models.patient import Patient
from models.practice import Practice
from models.prescription import Prescription, RxStatus
from models.staff import StaffUser
from services import audit, events
from services.errors import DomainError, NotFound
from services.typed_text import checked_line

METHOD_LABELS = {
    ConsentMethod.IN_OFFICE: 'Signed in the office',
    ConsentMethod.PHONE: 'Recorded by phone',
    ConsentMethod.PORTAL: 'Ticked by the patient in the portal',
}
CONFIRMATION_LABELS = {
    ConfirmationKind.SIGNED: 'Patient signed confirmation of receipt',
    ConfirmationKind.REFUSED: 'Patient refused to sign confirmation',
}
EVIDENCE_ACTIONS = {
    'rx.made_available': 'Made available',
    'rx.viewed': 'Viewed',
    'rx.list_viewed': 'Viewed in list',
    'rx.printed': 'Printed',
    'rx.downloaded': 'Downloaded',
    'rx.staff_printed': 'Printed by staff',
    'rx.verified': 'Verified by a viewer at /verify',
}


class ConsentError(DomainError):
    pass


async def current_consent(patient_id: int) -> DigitalDeliveryConsent | None:
    return (
        await DigitalDeliveryConsent.filter(patient_id=patient_id, withdrawn_at__isnull=True)
        .order_by('-given_at', '-id')
        .first()
    )


async def may_release_digitally(patient_id: int, practice: Practice) -> bool:
    """The portal may show this patient's Rx: consent on file, or the practice is exempt.

    Asked on every view of the list (never cached: a withdrawal counts at once), as an EXISTS: no row to
    sort and build, which the list does not need.
    """
    if practice.eyewear_sales_exemption:
        return True
    return await DigitalDeliveryConsent.exists(patient_id=patient_id, withdrawn_at__isnull=True)


async def record_consent(
    patient_id: int, method: ConsentMethod | str, actor: audit.Actor, *, staff: StaffUser | None = None
) -> DigitalDeliveryConsent:
    """Record the patient's consent to receive prescriptions through the portal (how, who, when)."""
    try:
        method = ConsentMethod(method)
    except ValueError:
        raise ConsentError('Choose how the patient gave consent: in the office, by phone, or in the portal.') from None
    if method != ConsentMethod.PORTAL and staff is None:
        raise ConsentError('Consent given in the office or by phone is recorded by a staff member.')
    if not await Patient.exists(id=patient_id):
        raise NotFound('patient')
    existing = await current_consent(patient_id)
    if existing is not None:
        return existing  # consent already on file: the first record is the evidence
    async with in_transaction():
        consent = await DigitalDeliveryConsent.create(
            patient_id=patient_id,
            method=method,
            recorded_by=staff,
            recorded_by_label=staff.name if staff else 'patient',
            given_at=datetime.now(UTC),
        )
        await audit.record(
            'rx.consent_recorded',
            actor,
            patient_id=patient_id,
            object_type='consent',
            object_id=consent.id,
            detail={'method': method.value},
        )
    await events.publish(patient_id, events.PRESCRIPTIONS)
    return consent


async def record_confirmation(
    rx_id: int, kind: ConfirmationKind | str, actor: audit.Actor, *, staff: StaffUser, note: str = ''
) -> ReleaseConfirmation:
    """The paper release: the patient signed for the printed Rx, or refused to sign (kept three years)."""
    try:
        kind = ConfirmationKind(kind)
    except ValueError:
        raise ConsentError('Choose whether the patient signed or refused to sign.') from None
    note = checked_line(note, 'note', 300, refuse=ConsentError)
    rx = await Prescription.get_or_none(id=rx_id)
    if rx is None:
        raise NotFound('prescription')
    if rx.status == RxStatus.DRAFT:
        raise ConsentError('Sign the prescription before recording that the patient received it.')
    async with in_transaction():
        confirmation = await ReleaseConfirmation.create(
            prescription_id=rx.id,
            patient_id=rx.patient_id,
            kind=kind,
            note=note,
            recorded_by=staff,
            recorded_by_label=staff.name,
        )
        await audit.record(
            'rx.confirmation_recorded',
            actor,
            patient_id=rx.patient_id,
            object_type='prescription',
            object_id=rx.id,
            detail={'kind': kind.value},
        )
    return confirmation


@dataclass
class EvidenceRow:
    """One Rx and everything that shows it was released."""

    prescription: Prescription
    events: list[AuditEvent] = field(default_factory=list)
    confirmations: list[ReleaseConfirmation] = field(default_factory=list)
    consent: DigitalDeliveryConsent | None = None

    def count(self, action: str) -> int:
        return sum(1 for event in self.events if event.action == action)


async def release_evidence(
    *, patient_id: int | None = None, issued_from: date | None = None, issued_to: date | None = None
) -> list[EvidenceRow]:
    """Signed prescriptions (any later status) for a patient or an issue-date range, with their evidence.

    A fixed number of queries however many Rx: prescriptions, audit rows, confirmations, consents.
    """
    # Signed ones, and rows from before signing existed (final without a signature).
    query = Prescription.filter(Q(signed_at__isnull=False) | Q(status__in=(RxStatus.FINAL, RxStatus.SUPERSEDED)))
    if patient_id is not None:
        query = query.filter(patient_id=patient_id)
    if issued_from is not None:
        query = query.filter(issue_date__gte=issued_from)
    if issued_to is not None:
        query = query.filter(issue_date__lte=issued_to)
    prescriptions = await query.select_related('patient', 'provider', 'signed_by').order_by('-issue_date', '-id')
    if not prescriptions:
        return []
    rows = {rx.id: EvidenceRow(rx) for rx in prescriptions}
    patient_ids = {rx.patient_id for rx in prescriptions}
    for event in await AuditEvent.filter(patient_id__in=patient_ids, action__in=tuple(EVIDENCE_ACTIONS)).order_by(
        'at', 'id'
    ):
        ids = [event.object_id] if event.object_id else (event.detail or {}).get('prescription_ids', [])
        for rx_id in ids:
            if rx_id in rows:
                rows[rx_id].events.append(event)
    for confirmation in await ReleaseConfirmation.filter(prescription_id__in=tuple(rows)).order_by('recorded_at'):
        rows[confirmation.prescription_id].confirmations.append(confirmation)  # type: ignore[attr-defined]
    consents: dict[int, DigitalDeliveryConsent] = {}
    for consent in await DigitalDeliveryConsent.filter(patient_id__in=patient_ids).order_by('given_at', 'id'):
        consents.setdefault(consent.patient_id, consent)  # type: ignore[attr-defined]
    for row in rows.values():
        row.consent = consents.get(row.prescription.patient_id)  # type: ignore[attr-defined]
    return list(rows.values())


CSV_COLUMNS = (
    'rx_id',
    'patient',
    'date_of_birth',
    'kind',
    'status',
    'issue_date',
    'prescriber',
    'signed_by',
    'signed_at_utc',
    'made_available_at_utc',
    'viewed',
    'printed',
    'downloaded',
    'verified_at_verify_page',
    'first_viewed_at_utc',
    'consent_method',
    'consent_given_at_utc',
    'consent_recorded_by',
    'confirmations',
)


def _utc(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime('%Y-%m-%d %H:%M:%S') if moment else ''


def evidence_csv(rows: list[EvidenceRow]) -> str:
    """One line per Rx: what an auditor asks for, in UTC so the file means the same everywhere."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        rx = row.prescription
        made = next((e.at for e in row.events if e.action == 'rx.made_available'), None)
        viewed = [e.at for e in row.events if e.action in ('rx.viewed', 'rx.list_viewed')]
        writer.writerow(
            (
                rx.id,
                _safe(rx.patient.full_name),
                rx.patient.date_of_birth.isoformat(),
                rx.kind,
                rx.status.value,
                rx.issue_date.isoformat(),
                _safe(rx.provider.display_name),
                _safe(rx.signed_by.name if rx.signed_by else ''),
                _utc(rx.signed_at),
                _utc(made),
                len(viewed),
                row.count('rx.printed') + row.count('rx.staff_printed'),
                row.count('rx.downloaded'),
                row.count('rx.verified'),
                _utc(viewed[0] if viewed else None),
                row.consent.method.value if row.consent else '',
                _utc(row.consent.given_at if row.consent else None),
                _safe(row.consent.recorded_by_label if row.consent else ''),
                '; '.join(
                    f'{c.kind.value} {_utc(c.recorded_at)} by {_safe(c.recorded_by_label)}' for c in row.confirmations
                ),
            )
        )
    return out.getvalue()


def _safe(text: str) -> str:
    """No spreadsheet formula injection from a name typed into a form."""
    return f"'{text}" if text[:1] in ('=', '+', '-', '@', '\t', '\r') else text
