"""One line per record: a practice, patients, staff and their clinical and billing history."""

import itertools
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pyotp

from models.appointment import Appointment, AppointmentRequest
from models.billing import Invoice
from models.consent import ConsentMethod, DigitalDeliveryConsent
from models.patient import Patient
from models.practice import Location, Practice, Provider
from models.prescription import Prescription, PrescriptionEye, RxStatus
from models.staff import StaffUser
from models.verification import RxVerificationCode
from portal import keys
from services import audit, invoices, payments, staff_totp, verification_codes
from services.appointments import today_in
from services.invoices import LineDraft
from services.portal_access import enable_portal
from services.staff_auth import create_staff

_seq = itertools.count(1)
STAFF_PASSWORD = 'correct horse battery'
# Every administrator the factories make has two-step sign-in on (the console requires it) with this secret:
# tests type its codes (`totp_code`), as the admin would read them off their phone.
ADMIN_TOTP_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP'
PRACTICE_ZONE = 'America/New_York'


def today() -> date:
    """The test practice's date, which the services check dates against, not the machine's: from midnight
    UTC to midnight in New York the two differ, and an exam dated by the machine is 'in the future'."""
    return today_in(PRACTICE_ZONE)


async def make_practice(**fields: object) -> Practice:
    defaults = dict(
        name='Clearview Eye Care',
        phone='(555) 010-2000',
        address_line1='12 Harbor Street',
        city='Portland',
        state='ME',
        postal_code='04101',
        time_zone=PRACTICE_ZONE,
        portal_url='http://portal.test',
    )
    return await Practice.create(**{**defaults, **fields})


async def make_ready_practice(**fields: object) -> Practice:
    """A practice whose setup is complete: details, one location and one provider."""
    practice = await make_practice(**fields)
    await make_location(practice)
    await make_provider(practice)
    return practice


async def make_provider(practice: Practice, **fields: object) -> Provider:
    defaults = dict(name='Dana Whitfield', credentials='OD', licence_number='ME-OD-4471', licence_state='ME')
    return await Provider.create(practice=practice, **{**defaults, **fields})


async def make_location(practice: Practice, **fields: object) -> Location:
    return await Location.create(
        practice=practice, **{**dict(name='Main office', address='12 Harbor Street'), **fields}
    )


async def make_staff(
    role: str = 'admin', email: str | None = None, name: str = 'Riley Front Desk', *, totp: bool | None = None
) -> StaffUser:
    """A member with `STAFF_PASSWORD`; administrators (or `totp=True`) with two-step sign-in on, as the console
    requires of them, under `ADMIN_TOTP_SECRET` (`totp=False`: an administrator who has not set it up yet)."""
    staff = await create_staff(email or f'staff{next(_seq)}@example.org', name, STAFF_PASSWORD, role)
    if role == 'admin' if totp is None else totp:
        staff.totp_secret = _sealed_admin_secret()
        await staff.save(update_fields=['totp_secret'])
    return staff


def _sealed_admin_secret() -> str:
    """Sealed under the key of the test's `secret_key` (conftest), which the portal under test derives too.
    A seed outside the fixtures (a bench script) gets a key of its own: it never signs an admin in."""
    try:
        return staff_totp.seal(ADMIN_TOTP_SECRET)
    except RuntimeError:
        staff_totp.configure(keys.totp_key('factories-' + 'k' * 40))
        return staff_totp.seal(ADMIN_TOTP_SECRET)


async def totp_code(staff: StaffUser) -> str:
    """The code the factories' authenticator app shows for `staff` now, at a time step the portal has not
    accepted yet (a code works once: a second sign-in within 30 seconds takes the next step's code, which
    the portal accepts for clock drift; a third forgets the last accepted step)."""
    last = (await StaffUser.get(id=staff.id)).totp_last_step
    now = time.time()
    for at in (now, now + staff_totp.STEP_SECONDS):
        if last is None or last < int(at // staff_totp.STEP_SECONDS):
            return pyotp.TOTP(ADMIN_TOTP_SECRET).at(at)
    await StaffUser.filter(id=staff.id).update(totp_last_step=None)
    return pyotp.TOTP(ADMIN_TOTP_SECRET).at(now)


async def make_prescriber(provider: Provider, role: str = 'staff') -> StaffUser:
    """The staff account linked to `provider`: the one that may sign its prescriptions."""
    staff = await make_staff(role, name=provider.name)
    staff.provider = provider
    await staff.save(update_fields=['provider_id'])
    return staff


async def make_patient(practice: Practice | None = None, **fields: object) -> Patient:
    from services.patients import save_patient

    practice = practice or await Practice.first() or await make_practice()
    n = next(_seq)
    defaults = dict(
        first_name='Jamie',
        last_name=f'Rivera{n}',
        date_of_birth=date(1985, 4, 12),
        email=f'jamie{n}@example.com',
        phone='(555) 010-3000',
    )
    return await save_patient(Patient(practice=practice, **{**defaults, **fields}))


async def make_active_patient(staff: StaffUser | None = None, **fields: object) -> Patient:
    patient = await make_patient(**fields)
    staff = staff or await make_staff()
    await enable_portal(patient.id, staff, audit.Actor('staff', staff.id, staff.name))
    return patient


async def give_consent(patient: Patient) -> DigitalDeliveryConsent:
    """The patient's consent to digital delivery, on file (signed in the office)."""
    existing = await DigitalDeliveryConsent.filter(patient_id=patient.id).first()
    return existing or await DigitalDeliveryConsent.create(
        patient_id=patient.id, method=ConsentMethod.IN_OFFICE, recorded_by_label='factory', given_at=datetime.now(UTC)
    )


async def make_spectacle_rx(
    patient: Patient,
    provider: Provider | None = None,
    *,
    issued: date | None = None,
    consent: bool = True,
    **fields: object,
) -> Prescription:
    """A released (final) spectacle Rx, written straight to the tables; `consent` puts consent on file."""
    provider = provider or await Provider.first() or await make_provider(await patient.practice)
    issued = issued or today() - timedelta(days=30)
    if consent:
        await give_consent(patient)
    rx = await Prescription.create(
        patient=patient,
        provider=provider,
        kind='spectacle',
        exam_date=issued,
        issue_date=issued,
        expiry_date=issued + timedelta(days=730),
        **{'status': RxStatus.FINAL, 'purpose': 'distance', **fields},
    )
    await PrescriptionEye.create(
        prescription=rx, eye='OD', sphere=Decimal('-2.25'), cylinder=Decimal('-0.75'), axis=90, add=Decimal('1.50')
    )
    await PrescriptionEye.create(
        prescription=rx,
        eye='OS',
        sphere=Decimal('-2.00'),
        cylinder=Decimal('-0.50'),
        axis=85,
        add=Decimal('1.50'),
        prism=Decimal('1.00'),
        prism_base='BI',
    )
    if rx.status != RxStatus.DRAFT:  # as signing draws it
        await RxVerificationCode.create(prescription=rx, code=verification_codes.new_code())
    return rx


async def make_contact_lens_rx(
    patient: Patient, provider: Provider | None = None, *, issued: date | None = None, consent: bool = True
) -> Prescription:
    provider = provider or await Provider.first() or await make_provider(await patient.practice)
    issued = issued or today() - timedelta(days=60)
    if consent:
        await give_consent(patient)
    rx = await Prescription.create(
        patient=patient,
        provider=provider,
        kind='contact_lens',
        status=RxStatus.FINAL,
        exam_date=issued,
        issue_date=issued,
        expiry_date=issued + timedelta(days=365),
    )
    for eye, sphere in (('OD', '-2.50'), ('OS', '-2.25')):
        await PrescriptionEye.create(
            prescription=rx,
            eye=eye,
            sphere=Decimal(sphere),
            manufacturer='Acme Vision',
            brand='AcmeDaily 1-Day',
            base_curve=Decimal('8.60'),
            diameter=Decimal('14.20'),
        )
    await RxVerificationCode.create(prescription=rx, code=verification_codes.new_code())
    return rx


async def make_appointment(patient: Patient, *, in_days: int = 14, **fields: object) -> Appointment:
    starts = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=in_days)
    return await Appointment.create(patient=patient, starts_at=starts, **{'reason': 'Comprehensive eye exam', **fields})


async def make_appointment_request(patient: Patient, **fields: object) -> AppointmentRequest:
    """A pending request in the next free pending slot (the database allows three per patient)."""
    if fields.get('status', 'pending') == 'pending' and 'pending_slot' not in fields:
        taken = await AppointmentRequest.filter(patient=patient, status='pending').values_list(
            'pending_slot', flat=True
        )
        fields['pending_slot'] = min(set(range(1, 4)) - set(taken))
    defaults = dict(reason='Annual exam', preferred_times='Weekday mornings')
    return await AppointmentRequest.create(patient=patient, **{**defaults, **fields})


async def make_invoice(
    patient: Patient,
    lines: list[tuple[str, int] | LineDraft],
    paid_cents: int = 0,
    *,
    number: str | None = None,
    issued_on: date | None = None,
    due_on: date | None = None,
    **fields: object,
) -> Invoice:
    """Written through the billing service (so tax, audit and events are real); `paid_cents` as one card payment.

    Other `fields` go to the draft: provider_id, insurance_expected_cents, insurance_paid_cents, adjustments.
    """
    issued_on = issued_on or today() - timedelta(days=10)
    drafts = [line if isinstance(line, LineDraft) else LineDraft(line[0], line[1]) for line in lines]
    draft = invoices.InvoiceDraft(issued_on=issued_on, lines=drafts, due_on=due_on, **fields)  # type: ignore[arg-type]
    invoice = await invoices.write_invoice(patient.id, draft, audit.SYSTEM)
    if number:
        invoice.number = number
        await invoice.save(update_fields=['number'])
    if paid_cents:
        await payments.record_payment(
            invoice.id, payments.PaymentInput(paid_cents, today()), audit.SYSTEM, confirm_credit=True
        )
    return invoice
