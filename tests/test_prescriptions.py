"""Prescriptions: the patient's own, latest first, formatted the optometric way, printable and downloadable."""

import io
from datetime import timedelta
from decimal import Decimal

from nicegui import ui
from nicegui.testing import User
from pypdf import PdfReader
from tortoise.models import Model

from models.audit import AuditEvent
from models.prescription import Prescription
from services import prescriptions
from services.prescriptions import format_axis, format_power, format_prism
from tests import factories
from tests.mail import SmtpServer
from tests.portal_user import sign_in, wait_until
from tests.queries import count_queries


def test_values_are_written_the_optometric_way():
    assert format_power(Decimal('1.25')) == '+1.25'
    assert format_power(Decimal('-2')) == '-2.00'
    assert format_power(Decimal('0'), plano=True) == 'PL'
    assert format_power(None) == ''
    assert format_axis(90) == '090'
    assert format_axis(5) == '005'
    assert format_axis(180) == '180'
    assert format_prism(Decimal('1'), 'BI') == '1.00 BI'
    assert format_prism(None, '') == ''


async def test_prescription_list_shows_own_prescriptions_latest_first_with_expired_marked(
    user: User, smtp_server: SmtpServer
):
    patient = await factories.make_active_patient()
    await factories.make_spectacle_rx(patient, issued=factories.today() - timedelta(days=1000))
    await factories.make_contact_lens_rx(patient, issued=factories.today() - timedelta(days=20))
    await sign_in(user, smtp_server, patient)

    await user.open('/prescriptions')
    await user.should_see('Hello, Jamie')
    await user.should_see('Contact lens prescription')
    await user.should_see('Glasses prescription')
    await user.should_see('Expired')
    await user.should_see('AcmeDaily 1-Day')
    await user.should_see('-2.25')
    await user.should_see('090')
    await user.should_see('1.00 BI')
    await user.should_see('Dana Whitfield, OD')
    cards = sorted(user.find(kind=ui.html, content='prescription issued').elements, key=lambda e: e.id)  # page order
    headings = [card.content.split('</h2>')[0].rsplit('>', 1)[1] for card in cards]
    assert headings.index('Contact lens prescription') < headings.index('Glasses prescription')
    expired = next(card.content for card in cards if 'Glasses prescription' in card.content)
    assert 'href="/appointments#request"' in expired and 'Request an exam' in expired  # no dead end


async def test_home_goes_to_prescriptions(user: User, smtp_server: SmtpServer):
    patient = await factories.make_active_patient()
    await sign_in(user, smtp_server, patient)
    await user.open('/')
    await user.should_see('Your prescriptions')


async def test_print_view_carries_everything_a_released_rx_must(user: User, smtp_server: SmtpServer):
    patient = await factories.make_active_patient()
    rx = await factories.make_spectacle_rx(patient)
    await sign_in(user, smtp_server, patient)

    await user.open(f'/rx/{rx.id}')
    for text in (
        patient.full_name,
        'Exam date',
        'Issue date',
        'Expiry date',
        'Dana Whitfield, OD',
        'ME-OD-4471',
        '12 Harbor Street',
        '(555) 010-2000',
        '-2.25',
        '-0.75',
        '090',
        '+1.50',
        '1.00 BI',
    ):
        await user.should_see(text)
    assert await AuditEvent.filter(action='rx.viewed', object_id=rx.id, patient_id=patient.id).count() == 1


async def test_print_button_prints_and_is_audited(user: User, smtp_server: SmtpServer):
    patient = await factories.make_active_patient()
    rx = await factories.make_spectacle_rx(patient)
    await sign_in(user, smtp_server, patient)
    await user.open(f'/rx/{rx.id}')
    user.find(kind=ui.button, content='Print').click()
    await wait_until(AuditEvent.filter(action='rx.printed', object_id=rx.id).exists)
    event = await AuditEvent.get(action='rx.printed', object_id=rx.id)
    assert (event.actor_type, event.patient_id) == ('patient', patient.id)
    assert event.client_address


async def test_pdf_download_is_a_real_pdf_with_the_required_fields_and_is_audited(user: User, smtp_server: SmtpServer):
    patient = await factories.make_active_patient()
    rx = await factories.make_contact_lens_rx(patient)
    await sign_in(user, smtp_server, patient)

    response = await user.http_client.get(f'/rx/{rx.id}.pdf')
    assert response.status_code == 200
    assert response.headers['content-type'] == 'application/pdf'
    assert 'attachment' in response.headers['content-disposition']
    text = '\n'.join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    for needed in (
        patient.full_name,
        'Exam date',
        'Issue date',
        'Expiry date',
        'Dana Whitfield, OD',
        'ME-OD-4471',
        'Clearview Eye Care',
        '12 Harbor Street',
        '(555) 010-2000',
        '-2.50',
        '-2.25',
        '8.60',
        '14.20',
        'Acme Vision',
        'AcmeDaily 1-Day',
    ):
        assert needed in text, needed
    event = await AuditEvent.get(action='rx.downloaded', object_id=rx.id)
    assert (event.actor_type, event.patient_id) == ('patient', patient.id)
    assert event.client_address


async def test_prescription_list_runs_the_same_number_of_queries_for_one_or_many(db):
    patient = await factories.make_patient()
    await factories.make_spectacle_rx(patient)
    with count_queries() as one:
        await prescriptions.prescriptions_for(patient.id)
    for _ in range(12):
        await factories.make_contact_lens_rx(patient)
    with count_queries() as many:
        items = await prescriptions.prescriptions_for(patient.id)
    assert len(items) == 13
    assert all(len(rx.eyes) == 2 and rx.provider.name for rx in items)
    assert many.count == one.count


async def test_the_list_reads_every_field_of_each_rx_its_prescriber_and_its_eyes_in_one_statement(db):
    """The list's own statement (services.joined) gives what Tortoise's own reads give, on both databases."""
    patient = await factories.make_patient()
    other = await factories.make_patient()
    spectacles = await factories.make_spectacle_rx(patient)
    lenses = await factories.make_contact_lens_rx(patient)
    await factories.make_spectacle_rx(other)
    with count_queries() as queries:
        items = await prescriptions.prescriptions_for(patient.id)
    assert queries.count == 1, queries.statements
    assert {rx.id for rx in items} == {spectacles.id, lenses.id}  # the patient's own, nobody else's

    def fields_of(row: Model) -> dict:
        return {name: getattr(row, name) for name in row._meta.fields_db_projection}

    for rx in items:
        fresh = await Prescription.get(id=rx.id).prefetch_related('provider', 'eyes')
        assert fields_of(rx) == fields_of(fresh)
        assert fields_of(rx.provider) == fields_of(fresh.provider)
        assert [fields_of(eye) for eye in rx.eyes] == [fields_of(eye) for eye in sorted(fresh.eyes, key=lambda e: e.id)]


async def test_prescriptions_page_runs_the_same_number_of_queries_for_one_or_many(user: User, smtp_server: SmtpServer):
    patient = await factories.make_active_patient()
    await factories.make_spectacle_rx(patient)
    await sign_in(user, smtp_server, patient)
    with count_queries() as one:
        await user.open('/prescriptions')
    for _ in range(12):
        await factories.make_spectacle_rx(patient)
    with count_queries() as many:
        await user.open('/prescriptions')
    assert one.count > 0
    assert many.count == one.count, many.statements
