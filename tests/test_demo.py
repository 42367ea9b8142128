"""The demo practice: seeded once on an empty database, with the awkward cases the domain rules are about."""

from datetime import UTC, datetime

from tortoise.functions import Count

from models.appointment import Appointment, AppointmentRequest
from models.audit import AuditEvent
from models.billing import Invoice, InvoiceLine, Payment
from models.patient import Patient
from models.portal_account import PortalAccount
from models.practice import Location, Practice, Provider
from models.prescription import Prescription, PrescriptionEye
from models.staff import StaffUser
from services import billing, magic_link, staff_auth
from services.demo_practice import (
    DEMO_ADMIN_EMAIL,
    DEMO_PASSWORD,
    DEMO_PATIENT_EMAIL,
    DEMO_SHARED_EMAIL,
    seed_demo_practice,
)
from services.email_addresses import is_valid_email
from services.providers import npi_check_digit_ok
from services.setup_status import setup_status
from tests import factories
from tests.mail import SmtpServer, link_in

BASE_URL = 'http://localhost:8095'
ALL_MODELS = (
    Practice,
    Location,
    Provider,
    StaffUser,
    Patient,
    PortalAccount,
    Prescription,
    PrescriptionEye,
    Appointment,
    AppointmentRequest,
    Invoice,
    InvoiceLine,
    Payment,
    AuditEvent,
)


async def _row_counts() -> dict[str, int]:
    return {model.__name__: await model.all().count() for model in ALL_MODELS}


async def test_empty_database_gets_a_practice_with_locations_providers_and_staff(db):
    seed = await seed_demo_practice(BASE_URL + '/')
    assert seed.seeded and seed.demo_logins
    practice = await Practice.get()
    assert practice.portal_url == BASE_URL
    assert practice.time_zone == 'America/New_York'
    assert practice.phone and practice.address
    assert await Location.all().count() == 2
    providers = await Provider.all()
    assert 2 <= len(providers) <= 3
    assert all(p.credentials and p.licence_number and p.licence_state for p in providers)
    assert 20 <= await Patient.all().count() <= 30


async def test_the_demo_practice_is_set_up_through_the_setup_services(db):
    await seed_demo_practice(BASE_URL)
    assert (await setup_status()).complete
    assert all(npi_check_digit_ok(p.npi) for p in await Provider.all())
    assert await AuditEvent.filter(action='practice.created').count() == 1
    assert await AuditEvent.filter(action='provider.added').count() == await Provider.all().count()


async def test_demo_admin_signs_in_with_the_printed_password(db):
    await seed_demo_practice(BASE_URL)
    admin = await staff_auth.authenticate(DEMO_ADMIN_EMAIL, DEMO_PASSWORD)
    assert admin.role == 'admin'
    assert admin.password_hash.startswith('$argon2id$')
    assert await StaffUser.filter(role='staff').count() >= 1


async def test_parent_and_child_share_one_email_and_only_one_has_the_portal(db):
    await seed_demo_practice(BASE_URL)
    sharing = await Patient.filter(email_normalized=DEMO_SHARED_EMAIL)
    assert len(sharing) == 2
    assert len({p.email for p in sharing}) == 2, 'typed differently, the same address once normalised'
    assert (
        await PortalAccount.filter(patient_id__in=[p.id for p in sharing], active_email__not_isnull=True).count() == 1
    )


async def test_one_patient_has_no_email_and_one_an_invalid_email(db):
    await seed_demo_practice(BASE_URL)
    assert await Patient.filter(email='').count() == 1
    emails = [p.email for p in await Patient.exclude(email='')]
    assert sum(not is_valid_email(e) for e in emails) == 1


async def test_a_pending_appointment_request_waits_for_staff(db):
    await seed_demo_practice(BASE_URL)
    assert await AppointmentRequest.filter(status='pending').exists()


async def test_prescriptions_include_expired_ones_and_contact_lenses_with_the_lens_details(db):
    await seed_demo_practice(BASE_URL)
    today = factories.today()
    assert await Prescription.filter(expiry_date__lt=today).exists()
    assert await Prescription.filter(expiry_date__gte=today).exists()
    lens_eyes = await PrescriptionEye.filter(prescription__kind='contact_lens')
    assert lens_eyes
    assert all(e.manufacturer and e.brand and e.base_curve and e.diameter for e in lens_eyes)
    for rx in await Prescription.filter(kind='contact_lens'):
        assert (rx.expiry_date - rx.issue_date).days >= 365 or rx.expiry_reason, 'a short CL expiry needs a reason'
    counts = await Prescription.annotate(n=Count('eyes')).values_list('n', flat=True)
    assert set(counts) == {2}, 'every prescription has an OD and an OS'


async def test_invoices_are_paid_part_paid_or_open_with_insurance_tax_and_payments(db):
    await seed_demo_practice('http://portal.test')
    practice = await Practice.get()
    assert practice.tax_id
    views = [view for patient in await Patient.all() for view in (await billing.billing_for(patient.id)).invoices]
    statuses = {view.status for view in views}
    assert {'paid', 'open'} <= statuses
    assert any(0 < view.totals.patient_paid_cents < view.totals.patient_responsibility_cents for view in views)
    assert any(view.totals.tax_cents > 0 for view in views)
    assert any(view.totals.insurance_portion_cents > 0 for view in views)
    assert any(view.totals.adjustments_cents > 0 for view in views)
    assert all(view.invoice.provider_id for view in views)
    maria = await Patient.get(email=DEMO_PATIENT_EMAIL)
    assert any(view.overdue for view in (await billing.billing_for(maria.id)).invoices)


async def test_appointments_lie_in_the_past_and_in_the_future(db):
    await seed_demo_practice(BASE_URL)
    starts = await Appointment.all().values_list('starts_at', flat=True)
    now = datetime.now(UTC)
    assert any(s < now for s in starts) and any(s > now for s in starts)


async def test_the_patient_named_in_the_banner_can_log_in_at_once(db, smtp_server: SmtpServer):
    await seed_demo_practice(BASE_URL)
    assert await PortalAccount.filter(active_email=DEMO_PATIENT_EMAIL).exists()
    assert await AuditEvent.filter(action='portal.enabled').count() >= 2
    await magic_link.request_login_link(DEMO_PATIENT_EMAIL, '127.0.0.1')
    assert '/login/link/' in link_in(await smtp_server.wait_for(DEMO_PATIENT_EMAIL))


async def test_seeding_again_changes_nothing(db):
    first = await seed_demo_practice(BASE_URL)
    before = await _row_counts()
    second = await seed_demo_practice(BASE_URL)
    assert first.seeded and not second.seeded and second.demo_logins
    assert await _row_counts() == before


async def test_a_database_that_already_has_a_practice_gets_no_demo_data(db):
    await factories.make_practice()
    seed = await seed_demo_practice(BASE_URL)
    assert not seed.seeded and not seed.demo_logins
    assert await Patient.all().count() == 0
    assert not await StaffUser.exists(email=DEMO_ADMIN_EMAIL)


async def test_demo_prescriptions_are_signed_through_the_services_with_plausible_values(db):
    from decimal import Decimal

    from models.prescription import RxStatus
    from services.rx_validation import one_calendar_year_after

    await seed_demo_practice(BASE_URL)
    rxs = await Prescription.all().select_related('patient', 'signed_by').prefetch_related('eyes')
    assert {rx.status for rx in rxs} == {RxStatus.FINAL, RxStatus.SUPERSEDED}
    assert all(rx.signed_by.provider_id == rx.provider_id for rx in rxs), 'signed by the linked prescriber'
    for rx in rxs:
        born = rx.patient.date_of_birth
        age = rx.issue_date.year - born.year - ((rx.issue_date.month, rx.issue_date.day) < (born.month, born.day))
        for eye in rx.eyes:
            assert eye.sphere % Decimal('0.25') == 0 and (eye.cylinder or 0) % Decimal('0.25') == 0
            if rx.kind == 'spectacle' and rx.purpose.value != 'computer':
                assert (eye.add is not None) == (age >= 42), f'an add at {age} years'
                if eye.add is not None:
                    assert Decimal('0.75') <= eye.add <= Decimal('2.50') and eye.add % Decimal('0.25') == 0
        if rx.kind == 'contact_lens' and not rx.expiry_reason:
            assert rx.expiry_date == one_calendar_year_after(rx.issue_date)
    assert any(rx.status == RxStatus.SUPERSEDED and rx.superseded_by_id for rx in rxs)
