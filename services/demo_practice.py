"""A believable demo practice, seeded on an empty database by `python main.py --demo` (or PORTAL_DEMO).

It exists so a practice (or a developer) can try both trees at once: the staff console with a
signed-in admin, and the patient portal with a patient whose access is already enabled. The data
also covers the awkward cases the domain rules are about: a parent and a child sharing one email,
a patient with no email and one with a mistyped email, expired prescriptions, part-paid invoices
and a pending appointment request. Dates are relative to today; everything else is fixed, so two
demo runs on the same day look the same.
"""

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from models.appointment import Appointment, AppointmentRequest, VisitType
from models.patient import Patient
from models.practice import Location, Practice, Provider
from models.staff import StaffUser
from services import after_commit, audit, invoices, payments, rx_lifecycle, rx_release, verification_requests
from services.invoices import AdjustmentDraft, InvoiceDraft, LineDraft
from services.locations import LocationInput, add_location
from services.patients import save_patient
from services.payments import PaymentInput
from services.portal_access import enable_portal
from services.practice_setup import PracticeDetails, save_practice
from services.prescriptions import eye_rows
from services.providers import ProviderInput, add_provider
from services.rx_validation import EyeInput, RxInput, one_calendar_year_after
from services.staff_auth import create_staff

DEMO_ADMIN_EMAIL = 'admin@example.com'
DEMO_ADMIN_NAME = 'Jordan Avery'
DEMO_STAFF_EMAIL = 'frontdesk@example.com'
DEMO_STAFF_NAME = 'Sam Patel'
DEMO_PASSWORD = 'demo-password-1'
DEMO_PATIENT_EMAIL = 'maria.alvarez@example.com'  # portal enabled: the banner invites people to try it
DEMO_SHARED_EMAIL = 'okafor.family@example.net'  # a parent (portal enabled) and a child share it
TIME_ZONE = 'America/New_York'
SEED = 20240917


@dataclass(frozen=True)
class DemoSeed:
    """What start-up found: `seeded` on a fresh database; `demo_logins` when the demo accounts exist."""

    seeded: bool
    demo_logins: bool


@dataclass(frozen=True)
class _PatientRow:
    first: str
    last: str
    born: date
    email: str
    phone: str
    address: str
    portal: bool


# Invented people; phone numbers use the fictional 555-01xx range. The last column marks the
# patients whose portal is enabled. Ava's email is her father's, typed with capitals: the same
# email once normalised. Harold has no email; Tom's was mistyped (no @).
_PATIENT_TABLE = """
Maria     | Alvarez   | 1984-03-17 | maria.alvarez@example.com     | 0142 | 27 Maple Street, Burlington | yes
Daniel    | Okafor    | 1979-11-02 | okafor.family@example.net     | 0117 | 9 Ledge Road, Burlington | yes
Ava       | Okafor    | 2014-06-21 | Okafor.Family@example.net     | 0117 | 9 Ledge Road, Burlington |
Harold    | Jennings  | 1946-01-30 |                               | 0163 | 112 North Avenue, Burlington |
Chloe     | Nguyen    | 1996-09-05 | chloe.nguyen@example.org      | 0188 | 45 Pearl Street, Apt 3, Burlington | yes
Robert    | Kim       | 1968-04-11 | robert.kim@example.com        | 0121 | 3 Shelburne Road, South Burlington | yes
Tom       | Becker    | 1972-08-26 | tom.becker.example.com        | 0134 | 71 Church Street, Burlington |
Linda     | Moreau    | 1958-12-03 | linda.moreau@example.net      | 0109 | 18 Spear Street, South Burlington |
James     | O'Connell | 1989-02-14 | jim.oconnell@example.com      | 0175 | 260 College Street, Burlington |
Sofia     | Rossi     | 2001-07-09 | sofia.rossi@example.org       | 0152 | 5 Battery Street, Burlington |
William   | Tran      | 1955-05-22 | w.tran@example.com            | 0198 | 88 Dorset Street, South Burlington |
Emily     | Carter    | 1993-10-30 | emily.carter@example.net      | 0126 | 14 Bank Street, Burlington |
Noah      | Fischer   | 2009-01-18 | fischer.home@example.org      | 0139 | 33 Oak Street, Winooski |
Grace     | Liu       | 1981-06-06 | grace.liu@example.com         | 0144 | 402 Main Street, Winooski |
Patricia  | Dubois    | 1963-03-28 | pat.dubois@example.org        | 0103 | 7 Hinesburg Road, South Burlington |
Marcus    | Green     | 1977-09-13 | marcus.green@example.net      | 0190 | 51 Lakeview Terrace, Burlington |
Hannah    | Schultz   | 1999-11-24 | hannah.schultz@example.com    | 0111 | 120 Colchester Avenue, Burlington |
Omar      | Haddad    | 1986-02-02 | omar.haddad@example.org       | 0157 | 29 Williston Road, South Burlington |
Beatrice  | Walsh     | 1941-07-15 | bea.walsh@example.net         | 0128 | 66 Shelburne Street, Burlington |
Lucas     | Pereira   | 2005-04-03 | lucas.pereira@example.com     | 0183 | 15 Union Street, Burlington |
Mei       | Tanaka    | 1975-10-08 | mei.tanaka@example.org        | 0169 | 240 Pine Street, Burlington |
George    | Abernathy | 1950-08-19 | g.abernathy@example.com       | 0105 | 11 Farrell Street, South Burlington |
Priscilla | Boateng   | 1988-12-12 | priscilla.boateng@example.net | 0192 | 80 Malletts Bay Avenue, Winooski |
Kevin     | Murphy    | 1970-05-05 | kevin.murphy@example.com      | 0136 | 3 Prospect Street, Essex Junction |
Isabel    | Ortega    | 1994-01-27 | isabel.ortega@example.org     | 0171 | 47 Pearl Street, Essex Junction |
"""


TOWN_ZIP_CODES = {'Burlington': '05401', 'South Burlington': '05403', 'Winooski': '05404', 'Essex Junction': '05452'}


def _patient_rows(table: str) -> tuple[_PatientRow, ...]:
    rows = []
    for line in table.strip().splitlines():
        first, last, born, email, phone, address, portal = (cell.strip() for cell in line.split('|'))
        rows.append(
            _PatientRow(
                first,
                last,
                date.fromisoformat(born),
                email,
                f'(802) 555-{phone}',
                f'{address}, VT {TOWN_ZIP_CODES[address.rpartition(", ")[2]]}',
                portal == 'yes',
            )
        )
    return tuple(rows)


PATIENTS = _patient_rows(_PATIENT_TABLE)

CONTACT_LENSES = (
    ('Johnson & Johnson Vision', 'Acuvue Oasys 1-Day', Decimal('8.50'), Decimal('14.30')),
    ('Alcon', 'Dailies Total1', Decimal('8.50'), Decimal('14.10')),
    ('CooperVision', 'Biofinity', Decimal('8.60'), Decimal('14.00')),
    ('Bausch + Lomb', 'Ultra', Decimal('8.50'), Decimal('14.20')),
)
SHORT_CL_EXPIRY_REASON = 'Corneal neovascularization under monitoring: lens wear re-evaluated after 6 months.'
VISIT_REASONS = ('Comprehensive eye exam', 'Contact lens follow-up', 'Glasses fitting', 'Dry eye evaluation')
DEMO_VISIT_TYPES = {
    'Comprehensive eye exam': VisitType.EYE_EXAM,
    'Contact lens follow-up': VisitType.FOLLOW_UP,
    'Glasses fitting': VisitType.GLASSES_PROBLEM,
}
PRICES = {  # (cents, taxable): Vermont taxes non-prescription goods; exams and Rx eyewear are exempt
    'Comprehensive eye exam': (15000, False),
    'Contact lens fitting': (9500, False),
    'Retinal imaging (Optomap)': (3900, False),
    'Single-vision lenses, anti-reflective': (21000, False),
    'Progressive lenses, anti-reflective': (38500, False),
    'Frames: Silhouette titanium': (24900, False),
    'Annual supply, daily contact lenses': (54000, False),
    'Lens cleaning kit': (1800, True),
    'Non-prescription sunglasses': (8900, True),
}


async def seed_demo_practice(base_url: str) -> DemoSeed:
    """Seed once: on a database that already has a practice this does nothing (restarts are safe)."""
    async with after_commit.outer_transaction():  # its services announce once all of it is saved
        if await Practice.exists():
            return DemoSeed(seeded=False, demo_logins=await StaffUser.exists(email=DEMO_ADMIN_EMAIL))
        await _seed(base_url.rstrip('/'))
        # Seeded on an empty database: every row here is the demo's. Marked, so a start without --demo
        # refuses until `remove-demo` has removed them (services/demo_data.py).
        await StaffUser.all().update(is_demo=True)
        await Patient.all().update(is_demo=True)
        await Practice.all().update(is_demo=True)
    return DemoSeed(seeded=True, demo_logins=True)


async def _seed(base_url: str) -> None:
    rng = random.Random(SEED)
    zone = ZoneInfo(TIME_ZONE)
    today = datetime.now(zone).date()
    admin = await create_staff(DEMO_ADMIN_EMAIL, DEMO_ADMIN_NAME, DEMO_PASSWORD, 'admin')
    await create_staff(DEMO_STAFF_EMAIL, DEMO_STAFF_NAME, DEMO_PASSWORD, 'staff')
    actor = audit.Actor.staff(admin)
    # The practice, its offices and providers go through the same services as the setup pages.
    practice = await save_practice(
        PracticeDetails(
            name='Lakeside Family Eye Care',
            phone='(802) 555-0100',
            fax='(802) 555-0199',
            address_line1='418 Elm Street',
            address_line2='Suite 200',
            city='Burlington',
            state='VT',
            postal_code='05401',
            tax_id='03-0412876',
            time_zone=TIME_ZONE,
        ),
        actor,
    )
    practice.portal_url = base_url
    practice.sales_tax_percent = Decimal('6')  # Vermont: on non-prescription goods only (see PRICES)
    await practice.save(update_fields=['portal_url', 'sales_tax_percent'])
    locations = [
        await add_location(
            LocationInput(
                'Burlington (Elm Street)', '418 Elm Street, Suite 200, Burlington, VT 05401', '(802) 555-0100'
            ),
            actor,
        ),
        await add_location(
            LocationInput(
                'South Burlington (Dorset Plaza)', '150 Dorset Street, South Burlington, VT 05403', '(802) 555-0101'
            ),
            actor,
        ),
    ]
    providers = [
        await add_provider(ProviderInput('Priya Raman', 'OD', 'OPT-0457', 'VT', '1679543219'), actor),
        await add_provider(ProviderInput('Marcus Bell', 'MD', 'MD-042-0011881', 'VT', '1548263791'), actor),
        await add_provider(ProviderInput('Elena Sokolova', 'OD, FAAO', 'OPT-0612', 'VT', '1932874567'), actor),
    ]
    # Each provider signs with the staff account linked to them; the first is the owner, the demo admin.
    admin.provider = providers[0]
    await admin.save(update_fields=['provider_id'])
    prescribers = {providers[0].id: admin}
    for provider in providers[1:]:
        account = await create_staff(
            f'{provider.name.split()[0].lower()}@example.com', provider.name, DEMO_PASSWORD, 'staff'
        )
        account.provider = provider
        await account.save(update_fields=['provider_id'])
        prescribers[provider.id] = account

    patients: list[Patient] = []
    for number, row in enumerate(PATIENTS, start=1):
        patient = Patient(
            practice=practice,
            first_name=row.first,
            last_name=row.last,
            date_of_birth=row.born,
            email=row.email,
            phone=row.phone,
            address=row.address,
            chart_number=f'LFE-{1000 + number}',
        )
        patients.append(await save_patient(patient))

    appointments: list[Appointment] = []
    for index, (row, patient) in enumerate(zip(PATIENTS, patients, strict=True)):
        age = (today - row.born).days // 365
        provider = providers[index % len(providers)]
        location = locations[index % len(locations)]

        # Consent to digital delivery for the portal patients; the others get paper (and sign for it).
        if row.portal:
            await rx_release.record_consent(patient.id, 'in_office', actor, staff=admin)

        # Spectacle prescriptions, written and signed through the console's services: a current one for
        # most; for every third an older one it replaced; some with only an expired Rx on file.
        issued = today - timedelta(days=rng.randint(20, 600))
        if index % 7 == 6:
            issued = today - timedelta(days=rng.randint(800, 1100))  # only an expired Rx on file
        if index % 3 == 0:
            older = issued - timedelta(days=760)
            await _spectacle_rx(rng, patient, providers[0], prescribers, older)
        await _spectacle_rx(rng, patient, provider, prescribers, issued)
        if index % 5 == 0 and age >= 45:  # a separate computer pair for some presbyopes
            await _spectacle_rx(rng, patient, provider, prescribers, issued, purpose='computer')

        # Contact lenses for about half: current, expired, and one with a documented short expiry.
        if index % 2 == 0 and age >= 12:
            cl_issued = today - timedelta(days=rng.randint(30, 300) if index % 4 == 0 else rng.randint(400, 700))
            await _contact_lens_rx(rng, patient, provider, prescribers, cl_issued, short=index == 8)

        # Appointments: the last exam (completed) and, for most, one coming up in the practice's hours.
        appointments.append(
            _appointment(
                patient, provider, location, issued, rng, zone, reason='Comprehensive eye exam', status='completed'
            )
        )
        if index % 5 != 4:
            when = today + timedelta(days=rng.randint(1, 60))
            reason = VISIT_REASONS[index % len(VISIT_REASONS)]
            appointments.append(_appointment(patient, provider, location, when, rng, zone, reason=reason))
        if index % 6 == 1:
            missed = today - timedelta(days=rng.randint(5, 40))
            appointments.append(
                _appointment(
                    patient, provider, location, missed, rng, zone, reason='Glasses fitting', status='cancelled'
                )
            )

        # Invoices: the exam (paid in full), and for some an eyewear order that is part-paid or still open,
        # with insurance, a discount or a taxable extra; all written through the billing service.
        exam_lines = ['Comprehensive eye exam'] + (['Retinal imaging (Optomap)'] if age >= 40 else [])
        await _invoice(patient, provider, issued, exam_lines, actor, pay='full')
        if index % 3 != 2:
            order = ['Frames: Silhouette titanium']
            order.append(
                'Progressive lenses, anti-reflective' if age >= 42 else 'Single-vision lenses, anti-reflective'
            )
            if index % 5 == 1:
                order.append('Lens cleaning kit')
            pay = ('part', 'open', 'full')[index % 3]
            order_date = today - timedelta(days=rng.randint(3, 50))
            await _invoice(
                patient, provider, order_date, order, actor, pay=pay, insured=index % 4 == 0, discount=index % 6 == 3
            )
        if row.first == 'Maria':  # the portal demo patient has one of each: paid, part-paid, open and overdue
            await _invoice(
                patient,
                provider,
                today - timedelta(days=45),
                ['Contact lens fitting', 'Annual supply, daily contact lenses', 'Non-prescription sunglasses'],
                actor,
                pay='part',
                insured=True,
            )

    await Appointment.bulk_create(appointments)

    by_name = {patient.full_name: patient for patient in patients}
    await AppointmentRequest.create(
        patient=by_name['Chloe Nguyen'],
        reason='Annual exam and contact lens renewal; my current lenses run out next month.',
        preferred_times='Weekday mornings before 10, or Saturday',
        visit_type=VisitType.CONTACT_LENS_FITTING,
        location=locations[0],
        pending_slot=1,
    )
    await AppointmentRequest.create(
        patient=by_name['Daniel Okafor'],
        reason='Follow-up for my daughter Ava after a school vision screening.',
        preferred_times='After 3 pm on weekdays',
        visit_type=VisitType.FOLLOW_UP,
        pending_slot=1,
    )
    for row, patient in zip(PATIENTS, patients, strict=True):
        if row.portal:
            await enable_portal(patient.id, admin, actor)
    await _verification_requests(practice, by_name['Maria Alvarez'], admin, actor)


async def _verification_requests(practice: Practice, patient: Patient, admin: StaffUser, actor: audit.Actor) -> None:
    """The desk with something on it: a seller's request with one value that differs from Maria's contact
    lens Rx, one about someone who is not a patient, and one left unanswered past its deadline."""
    rx = await verification_requests.current_contact_lens_rx(patient.id)
    rows = eye_rows(rx) if rx else []
    stated = {r.eye: {'sphere': r.sphere, 'base_curve': r.base_curve, 'diameter': r.diameter} for r in rows}
    if 'OS' in stated:
        stated['OS']['sphere'] = '-4.00'  # the seller misread the left eye
    brand = rows[0].brand if rows else ''
    now = datetime.now(UTC)
    for seller, email, name, patient_id, received, eyes in (
        ('LensMart Online', 'verify@lensmart.example', patient.full_name, patient.id, now - timedelta(hours=1), stated),
        ('QuickContacts', 'rx@quickcontacts.example', 'Jordan Pike', None, now - timedelta(minutes=20), {}),
        ('LensMart Online', 'verify@lensmart.example', patient.full_name, patient.id, now - timedelta(days=9), stated),
    ):
        form = verification_requests.RequestInput(
            seller_name=seller,
            seller_email=email,
            channel='fax',
            received_at=received,
            patient_name=name,
            patient_id=patient_id,
            brand=brand,
            eyes=eyes,
        )
        await verification_requests.log_request(practice, form, actor, admin)


def _add_for_age(age: int) -> str:
    """The reading add presbyopia asks for at each age (none before the early forties)."""
    for limit, add in ((42, ''), (45, '+1.00'), (50, '+1.50'), (55, '+2.00'), (60, '+2.25')):
        if age < limit:
            return add
    return '+2.50'


def _age(patient: Patient, on: date) -> int:
    born = patient.date_of_birth
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _text(value: Decimal) -> str:
    return f'{value:+.2f}'


async def _signed(patient: Patient, provider: Provider, prescribers: dict[int, StaffUser], form: RxInput) -> None:
    """Write the Rx as a draft and sign it as its prescriber, replacing an older one of the same use."""
    prescriber = prescribers[provider.id]
    actor = audit.Actor.staff(prescriber)
    draft = await rx_lifecycle.save_draft(patient.id, form, actor, staff=prescriber)
    assert form.issue_date is not None
    signed_at = datetime.combine(form.issue_date, time(16, 30), tzinfo=ZoneInfo(TIME_ZONE)).astimezone(UTC)
    await rx_lifecycle.sign(draft.id, prescriber, actor, confirm_supersede=True, signed_at=signed_at)


async def _spectacle_rx(
    rng: random.Random,
    patient: Patient,
    provider: Provider,
    prescribers: dict[int, StaffUser],
    issued: date,
    *,
    purpose: str = '',
) -> None:
    add = _add_for_age(_age(patient, issued))
    if purpose == 'computer' and add:
        add = _text(Decimal(add) - Decimal('0.50')) if Decimal(add) > 1 else add  # intermediate, not reading
    sphere = _quarter(rng, -5.5, 2.5)
    prism = rng.random() < 0.12
    eyes = {}
    for eye in ('OD', 'OS'):
        cylinder = _quarter(rng, -2.0, -0.25) if rng.random() < 0.7 else None
        eyes[eye] = EyeInput(
            sphere=_text(sphere + _quarter(rng, -0.5, 0.5)),
            cylinder=_text(cylinder) if cylinder is not None else '',
            axis=str(rng.randint(1, 180)) if cylinder is not None else '',
            add=add,
            prism_horizontal='1.00' if prism else '',
            prism_horizontal_base=('BI' if eye == 'OD' else 'BO') if prism else '',
        )
    pd = Decimal(rng.randint(58 * 2, 68 * 2)) / 2
    form = RxInput(
        kind='spectacle',
        provider_id=provider.id,
        exam_date=issued,
        issue_date=issued,
        purpose=purpose or ('progressive' if add else 'distance'),
        pd_binocular=str(pd),
        eyes=eyes,
    )
    await _signed(patient, provider, prescribers, form)


async def _contact_lens_rx(
    rng: random.Random,
    patient: Patient,
    provider: Provider,
    prescribers: dict[int, StaffUser],
    issued: date,
    short: bool,
) -> None:
    age = _age(patient, issued)
    manufacturer, brand, base_curve, diameter = CONTACT_LENSES[rng.randrange(len(CONTACT_LENSES))]
    sphere = _quarter(rng, -6.0, 1.0)
    multifocal = bool(_add_for_age(age))
    eyes = {
        eye: EyeInput(
            sphere=_text(sphere + _quarter(rng, -0.5, 0.5)),
            add=('HIGH' if age >= 55 else 'MED') if multifocal else '',
            dominance=('D' if eye == 'OD' else 'N') if multifocal else '',
            manufacturer=manufacturer,
            brand=brand,
            base_curve=str(base_curve),
            diameter=str(diameter),
        )
        for eye in ('OD', 'OS')
    }
    form = RxInput(
        kind='contact_lens',
        provider_id=provider.id,
        exam_date=issued,
        issue_date=issued,
        expiry_date=issued + timedelta(days=182) if short else one_calendar_year_after(issued),
        expiry_reason=SHORT_CL_EXPIRY_REASON if short else '',
        replacement_schedule='Daily disposable' if '1-Day' in brand or 'Dailies' in brand else 'Monthly',
        eyes=eyes,
    )
    await _signed(patient, provider, prescribers, form)


def _appointment(
    patient: Patient,
    provider: Provider,
    location: Location,
    day: date,
    rng: random.Random,
    zone: ZoneInfo,
    *,
    reason: str,
    status: str = 'booked',
) -> Appointment:
    """A slot in office hours (8:30 to 16:30 local, on the half hour, weekdays) stored in UTC."""
    while day.weekday() >= 5:
        day += timedelta(days=1)
    slot = time(8 + rng.randint(0, 8), rng.choice((0, 30)))
    starts_at = datetime.combine(day, slot, tzinfo=zone).astimezone(UTC)
    return Appointment(
        patient=patient,
        provider=provider,
        location=location,
        starts_at=starts_at,
        duration_minutes=60 if reason == 'Comprehensive eye exam' else 30,
        reason=reason,
        visit_type=DEMO_VISIT_TYPES.get(reason, VisitType.OTHER),
        status=status,
        cancel_reason='Patient called to reschedule' if status == 'cancelled' else '',
    )


async def _invoice(
    patient: Patient,
    provider: Provider,
    issued: date,
    descriptions: list[str],
    actor: audit.Actor,
    *,
    pay: str,
    insured: bool = False,
    discount: bool = False,
) -> None:
    """An invoice written and paid through the billing service, so its totals are derived like any other."""
    lines = [LineDraft(d, PRICES[d][0], taxable=PRICES[d][1], service_date=issued) for d in descriptions]
    gross = sum(line.unit_cents for line in lines)
    draft = InvoiceDraft(
        issued_on=issued,
        due_on=issued + timedelta(days=30),
        provider_id=provider.id,
        lines=lines,
        insurance_expected_cents=gross * 3 // 10 // 100 * 100 if insured else 0,
        insurance_paid_cents=gross * 3 // 10 // 100 * 100 if insured and pay == 'full' else 0,
        adjustments=[AdjustmentDraft('discount', 2000, 'Second pair discount')] if discount else [],
    )
    invoice = await invoices.write_invoice(patient.id, draft, actor)
    balance = invoices.totals_of(await invoices.load_invoice(invoice.id)).balance_cents
    paid = {'full': balance, 'part': balance // 2 // 100 * 100, 'open': 0}[pay]
    if paid:
        method = 'hsa_fsa' if insured else 'card'
        await payments.record_payment(invoice.id, PaymentInput(paid, issued, method), actor)


def _quarter(rng: random.Random, low: float, high: float) -> Decimal:
    """A lens power in the quarter-dioptre steps a prescription uses."""
    return Decimal(rng.randint(int(low * 4), int(high * 4))) / 4
