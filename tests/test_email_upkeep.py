"""Email upkeep (rule 9): missing, invalid, shared and bouncing addresses, counted, each row leaving once fixed."""

from datetime import UTC, datetime

from nicegui.testing import User

from models.outbox import OutboxMessage
from models.patient import Patient
from services import audit, outbox
from services.email_upkeep import Problem, email_upkeep
from services.patients import PatientInput, update_patient
from services.portal_access import enable_portal
from tests import factories
from tests.test_staff_console import staff_sign_in

STAFF = audit.Actor('staff', None, 'Riley Front Desk')


def _form(patient, email: str) -> PatientInput:
    return PatientInput(
        first_name=patient.first_name,
        last_name=patient.last_name,
        date_of_birth=patient.date_of_birth.isoformat(),
        email=email,
        phone=patient.phone,
    )


async def _bounce(patient) -> OutboxMessage:
    return await OutboxMessage.create(
        channel='email',
        purpose='invitation',
        patient=patient,
        to_address=patient.email,
        body='...',
        status='failed',
        permanent_failure=True,
        last_error='SMTPRecipientsRefused: 550 5.1.1 mailbox unavailable',
    )


async def test_upkeep_lists_each_kind_of_problem_with_its_count(db):
    await factories.make_patient(last_name='Fine', email='fine@example.com')
    await factories.make_patient(last_name='Missing', email='')
    await factories.make_patient(last_name='Invalid', email='jamie@@example')
    await factories.make_patient(last_name='Parent', email='family@example.com')
    await factories.make_patient(last_name='Child', email=' Family@Example.com')
    bouncing = await factories.make_patient(last_name='Bouncing', email='gone@example.com')
    await _bounce(bouncing)

    report = await email_upkeep()

    assert report.counts == {Problem.MISSING: 1, Problem.INVALID: 1, Problem.SHARED: 2, Problem.BOUNCING: 1}
    kinds = {(row.name.split(',')[0], row.problem) for row in report.rows}
    assert kinds == {
        ('Missing', Problem.MISSING),
        ('Invalid', Problem.INVALID),
        ('Parent', Problem.SHARED),
        ('Child', Problem.SHARED),
        ('Bouncing', Problem.BOUNCING),
    }
    [child] = [row for row in report.rows if row.name.startswith('Child')]
    assert child.detail.startswith('Also used by Jamie Parent')
    [bounce] = [row for row in report.rows if row.problem == Problem.BOUNCING]
    assert '550' in bounce.detail


async def test_a_fixed_address_leaves_the_list(db):
    invalid = await factories.make_patient(last_name='Invalid', email='jamie@@example')
    bouncing = await factories.make_patient(last_name='Bouncing', email='gone@example.com')
    await _bounce(bouncing)
    assert len((await email_upkeep()).rows) == 2

    await update_patient(invalid.id, _form(invalid, 'jamie@example.com'), STAFF)
    await update_patient(bouncing.id, _form(bouncing, 'jamie.new@example.com'), STAFF)

    report = await email_upkeep()
    assert report.rows == [] and set(report.counts.values()) == {0}


async def test_a_bounce_followed_by_an_accepted_message_to_the_same_address_is_not_listed(db, smtp_server):
    patient = await factories.make_patient(email='back@example.com')
    await _bounce(patient)
    message = await outbox.enqueue_email(
        to=patient.email, subject='Hi', body='Hello', purpose='reminder', patient=patient
    )
    assert (await outbox.deliver(message.id)).status == 'sent'

    assert (await email_upkeep()).counts[Problem.BOUNCING] == 0


async def test_a_permanent_smtp_refusal_is_not_retried_and_counts_as_a_bounce(db, smtp_server):
    patient = await factories.make_patient(email='nobody@example.com')
    smtp_server.refuse('nobody@example.com')
    message = await outbox.enqueue_email(
        to=patient.email, subject='Hi', body='Hello', purpose='reminder', patient=patient
    )

    failed = await outbox.deliver(message.id)

    assert (failed.status, failed.permanent_failure, failed.attempts, failed.next_attempt_at) == (
        'failed',
        True,
        1,
        None,
    )
    assert (await email_upkeep()).counts[Problem.BOUNCING] == 1


async def test_upkeep_page_shows_counts_and_links_each_row_to_the_profile(user: User):
    await factories.make_patient(first_name='Jamie', last_name='Missing', email='')
    invalid = await factories.make_patient(first_name='Alex', last_name='Typo', email='alex@@example')
    await staff_sign_in(user)

    await user.open('/staff/email-upkeep')

    await user.should_see('Email upkeep')
    await user.should_see('Missing, Jamie')
    await user.should_see('Typo, Alex')
    await user.should_see('Not a valid address')
    link = user.find('Typo, Alex').elements.pop()
    assert link.props['href'] == f'/staff/patients/{invalid.id}'
    await update_patient(invalid.id, _form(invalid, 'alex@example.com'), STAFF)
    await user.open('/staff/email-upkeep')
    await user.should_see('Missing, Jamie')
    await user.should_not_see('Typo, Alex')


async def _imported(**fields):
    patient = await factories.make_patient(**fields)
    patient.imported_at = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    await patient.save(update_fields=['imported_at'])
    return patient


async def test_imported_patients_are_split_into_ready_for_the_portal_and_needing_an_address(db):
    ready = await _imported(last_name='Ready', email='ready@example.com')
    await _imported(last_name='Enabled', email='enabled@example.com')
    enabled = await Patient.get(last_name='Enabled')
    await enable_portal(enabled.id, await factories.make_staff(), STAFF)
    await _imported(last_name='Blank', email='')
    await _imported(last_name='Typo', email='jamie@@example')
    await _imported(last_name='Twin', email='twins@example.com')
    await factories.make_patient(last_name='Sibling', email='Twins@example.com')
    await _bounce(await _imported(last_name='Gone', email='gone@example.com'))
    await factories.make_patient(last_name='Keyed', email='keyed@example.com')  # typed in, not imported

    report = await email_upkeep()

    assert [(row.patient_id, row.name, row.email) for row in report.ready_rows] == [
        (ready.id, f'Ready, {ready.first_name}', 'ready@example.com')
    ]
    assert (report.imported_ready, report.imported_needing_address) == (1, 4)
    imported = {row.name.split(',')[0] for row in report.rows if row.imported_at is not None}
    assert imported == {'Blank', 'Typo', 'Twin', 'Gone'}


async def test_whether_an_address_is_valid_is_kept_with_the_record_as_it_changes(db):
    patient = await factories.make_patient(last_name='Typo', email='a@@b')
    assert (await Patient.get(id=patient.id)).email_valid is False

    await update_patient(patient.id, _form(patient, 'a@example.com'), STAFF)
    assert (await Patient.get(id=patient.id)).email_valid is True
    assert (await email_upkeep()).counts[Problem.INVALID] == 0


async def test_upkeep_page_lists_imported_patients_ready_for_the_portal(user: User):
    ready = await _imported(first_name='Ida', last_name='Imported', email='ida@example.com')
    await _imported(first_name='Noel', last_name='Noaddress', email='')
    await staff_sign_in(user)

    await user.open('/staff/email-upkeep')

    await user.should_see('1 imported patient could have the portal enabled now')
    await user.should_see('1 need a better address first')
    link = user.find('Imported, Ida').elements.pop()
    assert link.props['href'] == f'/staff/patients/{ready.id}'
    await user.should_see('Nov 20, 2026')
