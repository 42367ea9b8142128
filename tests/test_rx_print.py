"""The released copy (print view and PDF): what an optician needs to fill it, on one faxable Letter page."""

import io
from datetime import date, timedelta

from nicegui import ui
from nicegui.testing import User
from pypdf import PdfReader

from models.prescription import Prescription
from services import audit, prescriptions, rx_lifecycle, rx_pdf
from services.rx_validation import EyeInput, RxInput
from tests import factories
from tests.mail import SmtpServer
from tests.portal_user import sign_in


async def _signed(patient, provider, prescriber, form: RxInput, confirm: bool = False) -> Prescription:
    actor = audit.Actor.staff(prescriber)
    draft = await rx_lifecycle.save_draft(patient.id, form, actor, staff=prescriber)
    return (await rx_lifecycle.sign(draft.id, prescriber, actor, confirm_supersede=confirm)).prescription


def _glasses(provider_id: int, exam: date, **fields: object) -> RxInput:
    return RxInput(
        kind='spectacle',
        provider_id=provider_id,
        exam_date=exam,
        issue_date=exam,
        purpose='computer',
        pd_od='31.5',
        pd_os='32',
        eyes={
            'OD': EyeInput(sphere='PL', add='+1.25', prism_horizontal='1', prism_horizontal_base='BI'),
            'OS': EyeInput(sphere='-1.25', cylinder='+0.75', axis='5', add='+1.25'),
        },
        **fields,
    )


def _lenses(provider_id: int, exam: date, **fields: object) -> RxInput:
    eye = EyeInput(sphere='-3.50', base_curve='8.4', diameter='14.0', manufacturer='CooperVision', brand='Biofinity')
    return RxInput(
        kind='contact_lens',
        provider_id=provider_id,
        exam_date=exam,
        issue_date=exam,
        replacement_schedule='Monthly',
        eyes={'OD': eye, 'OS': EyeInput(**{**eye.__dict__, 'add': 'MED', 'dominance': 'N'})},
        **fields,
    )


async def _practice():
    practice = await factories.make_practice(fax='(555) 010-2001')
    provider = await factories.make_provider(practice, npi='1234567893')
    return practice, provider, await factories.make_prescriber(provider)


def _pdf_text(content: bytes) -> tuple[str, int]:
    reader = PdfReader(io.BytesIO(content))
    return '\n'.join(page.extract_text() for page in reader.pages), len(reader.pages)


async def test_spectacle_pdf_prints_ds_pl_pd_purpose_fax_license_and_the_signature(db):
    practice, provider, prescriber = await _practice()
    patient = await factories.make_patient(practice)
    await factories.give_consent(patient)
    rx = await _signed(patient, provider, prescriber, _glasses(provider.id, factories.today()))
    document = await prescriptions.prescription_for(patient.id, rx.id)
    text, pages = _pdf_text(rx_pdf.render(document, factories.today()))
    assert pages == 1
    od = next(line for line in text.splitlines() if line.startswith('OD'))
    assert 'PL' in od and 'DS' in od and '1.00 BI' in od
    os_line = next(line for line in text.splitlines() if line.startswith('OS'))
    assert '-1.25' in os_line and '+0.75' in os_line and '005' in os_line
    for needed in (
        'Purpose',
        'Computer',
        'OD 31.5 / OS 32.0 mm',
        'Fax: (555) 010-2001',
        'License',
        'ME-OD-4471 (ME)',
        'NPI',
        '1234567893',
        f'Electronically signed by {provider.name}, OD, on ',
        'No in-office signature needed',
        'Cylinder',
    ):
        assert needed in text, needed
    assert 'Licence' not in text and 'EXPIRED' not in text and 'REPLACED' not in text


async def test_contact_lens_pdf_says_power_and_keeps_the_expiry_reason_off_the_copy(db):
    practice, provider, prescriber = await _practice()
    patient = await factories.make_patient(practice)
    await factories.give_consent(patient)
    exam = factories.today() - timedelta(days=3)
    form = _lenses(provider.id, exam, expiry_date=exam + timedelta(days=180), expiry_reason='Giant papillary review')
    rx = await _signed(patient, provider, prescriber, form)
    document = await prescriptions.prescription_for(patient.id, rx.id)
    text, pages = _pdf_text(rx_pdf.render(document, factories.today()))
    assert pages == 1
    for needed in ('Power', 'Base curve', 'Diameter', '8.40', '14.00', 'CooperVision - Biofinity', 'Monthly', 'MED'):
        assert needed in text, needed
    assert 'Sphere' not in text
    assert 'Giant papillary' not in text
    assert (await Prescription.get(id=rx.id)).expiry_reason == 'Giant papillary review'


async def test_names_in_any_latin_greek_or_cyrillic_script_print_as_typed_and_others_as_a_question_mark(db):
    practice, provider, prescriber = await _practice()
    patient = await factories.make_patient(practice, first_name='Łukasz', last_name='Dvořák-Nguyễn')
    await factories.give_consent(patient)
    exam = factories.today() - timedelta(days=3)
    form = _lenses(provider.id, exam, notes='Σοφία Ивановна Şahin; 山田 שרה')
    rx = await _signed(patient, provider, prescriber, form)
    data = rx_pdf.render(await prescriptions.prescription_for(patient.id, rx.id), factories.today())
    text, pages = _pdf_text(data)
    assert pages == 1 and 'Łukasz Dvořák-Nguyễn' in text
    assert 'Σοφία Ивановна Şahin; ?? ???' in text  # no glyph (or, right to left, no shaping): a visible "?"
    assert b'/FontFile2' in data and b'/Helvetica' not in data  # the typeface travels with the PDF


async def test_expired_and_replaced_copies_say_so_and_no_signature_claim_without_consent(db):
    practice, provider, prescriber = await _practice()
    practice.eyewear_sales_exemption = True  # released without consent: the copy must not claim it
    await practice.save()
    patient = await factories.make_patient(practice)
    old_exam = factories.today() - timedelta(days=900)
    old = await _signed(patient, provider, prescriber, _glasses(provider.id, old_exam))
    text, _ = _pdf_text(rx_pdf.render(await prescriptions.prescription_for(patient.id, old.id), factories.today()))
    assert 'EXPIRED' in text
    assert 'No in-office signature needed' not in text

    await _signed(patient, provider, prescriber, _glasses(provider.id, factories.today()), confirm=True)
    text, _ = _pdf_text(rx_pdf.render(await prescriptions.prescription_for(patient.id, old.id), factories.today()))
    assert 'REPLACED' in text


async def test_patient_ticks_consent_before_any_rx_is_shown(user: User, smtp_server: SmtpServer):
    patient = await factories.make_active_patient()
    rx = await factories.make_spectacle_rx(patient, consent=False)
    await sign_in(user, smtp_server, patient)
    await user.open('/prescriptions')
    await user.should_see('Receive your prescriptions here')
    await user.should_not_see('Glasses prescription')
    response = await user.http_client.get(f'/rx/{rx.id}.pdf')
    assert response.status_code == 404

    user.find(kind=ui.checkbox).click()
    user.find('Show my prescriptions').click()
    await user.should_see('Glasses prescription')
    await user.should_see('For: Distance')
    assert (await user.http_client.get(f'/rx/{rx.id}.pdf')).status_code == 200


async def test_a_signed_rx_appears_in_the_open_tab_without_reload(user: User, smtp_server: SmtpServer):
    patient = await factories.make_active_patient()
    await factories.give_consent(patient)
    practice = await patient.practice
    provider = await factories.make_provider(practice)
    prescriber = await factories.make_prescriber(provider)
    await sign_in(user, smtp_server, patient)
    await user.open('/prescriptions')
    await user.should_see('No prescriptions yet')
    draft = await rx_lifecycle.save_draft(
        patient.id, _lenses(provider.id, factories.today()), audit.Actor.staff(prescriber), staff=prescriber
    )
    await user.should_not_see('Contact lens prescription')  # a draft stays invisible
    await rx_lifecycle.sign(draft.id, prescriber, audit.Actor.staff(prescriber))
    await user.should_see('Contact lens prescription', retries=100)


async def test_replaced_rx_is_listed_below_the_current_one_and_marked(user: User, smtp_server: SmtpServer):
    patient = await factories.make_active_patient()
    await factories.give_consent(patient)
    provider = await factories.make_provider(await patient.practice)
    prescriber = await factories.make_prescriber(provider)
    old = await _signed(patient, provider, prescriber, _glasses(provider.id, factories.today() - timedelta(days=300)))
    new = await _signed(patient, provider, prescriber, _glasses(provider.id, factories.today()), confirm=True)
    await sign_in(user, smtp_server, patient)
    await user.open('/prescriptions')
    await user.should_see('Replaced')
    cards = sorted(user.find(kind=ui.html, content='prescription issued').elements, key=lambda e: e.id)
    assert f'/rx/{new.id}"' in cards[0].content and 'Current' in cards[0].content
    assert f'/rx/{old.id}"' in cards[1].content and 'Replaced' in cards[1].content
    await user.open(f'/rx/{old.id}')
    await user.should_see('Glasses prescription (replaced)')
    await user.should_see('Electronically signed by')


async def test_print_view_shows_fax_pd_and_us_license(user: User, smtp_server: SmtpServer):
    patient = await factories.make_active_patient()
    await factories.give_consent(patient)
    practice = await patient.practice
    practice.fax = '(555) 010-2001'
    await practice.save()
    provider = await factories.make_provider(practice)
    prescriber = await factories.make_prescriber(provider)
    rx = await _signed(patient, provider, prescriber, _glasses(provider.id, factories.today()))
    await sign_in(user, smtp_server, patient)
    await user.open(f'/rx/{rx.id}')
    for text in ('Fax: (555) 010-2001', 'License', 'OD 31.5 / OS 32.0 mm', 'Computer', 'No in-office signature needed'):
        await user.should_see(text)
