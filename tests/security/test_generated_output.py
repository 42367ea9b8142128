"""Where typed text comes out again: generated names and free text, anything the services store, print in
the Rx and receipt PDFs without a server error (core fonts hold Latin-1 only: other characters print as ?),
go into email Subject and To headers without letting a line break start a header of its own, are escaped
in the HTML part, and show as text, not markup, in the staff console."""

import io
from email import message_from_bytes, policy

from hypothesis import example, given
from hypothesis import strategies as st
from nicegui import ui
from nicegui.testing import User
from pypdf import PdfReader

from models.appointment import AppointmentRequest
from models.billing import Invoice, InvoiceLine
from models.outbox import OutboxMessage
from models.patient import Patient
from models.portal_account import PortalAccount
from models.practice import Practice
from models.prescription import Prescription, PrescriptionEye
from services import invoice_pdf, magic_link, prescriptions, rx_pdf
from services.outbox import SmtpTransport
from services.typed_text import unstorable
from tests import factories
from tests.security.generated import FEW, TYPED
from tests.test_staff_console import staff_sign_in

MARKUP = '<b>bold</b><script>alert(1)</script>'


def _stored(max_size: int) -> st.SearchStrategy[str]:
    """What the services keep: one line, no control character, within the column."""
    return TYPED.map(lambda text: ' '.join(text.split())[:max_size]).filter(lambda text: text and not unstorable(text))


WORDS = st.one_of(_stored(100), st.sampled_from(['\u200fמרים\u200f', '👁️‍🗨️ Zoë', MARKUP[:100], 'W' * 100]))


def _pdf_text(data: bytes) -> str:
    assert data.startswith(b'%PDF')
    return '\n'.join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


async def _case() -> tuple[Patient, Prescription, Invoice]:
    if not await Patient.exists():
        await factories.make_ready_practice()
        patient = await factories.make_patient()
        await factories.make_contact_lens_rx(patient)
        await factories.make_invoice(patient, [('Exam', 12_000)])
    return await Patient.first(), await Prescription.first(), await Invoice.first()


@FEW
@given(name=WORDS, free=st.one_of(_stored(200), st.just('x' * 200)))
@example(name='Ann', free='<b>Frames</b> & "lenses"')
async def test_generated_text_prints_in_the_rx_and_receipt_pdfs(db, name: str, free: str):
    patient, rx, invoice = await _case()
    await Patient.filter(id=patient.id).update(first_name=name, last_name=name, address=free)
    await Practice.all().update(name=free)
    await PrescriptionEye.filter(prescription_id=rx.id).update(brand=free[:100], manufacturer=name)
    await Prescription.filter(id=rx.id).update(notes=free)
    await InvoiceLine.filter(invoice_id=invoice.id).update(description=free)

    rx_text = _pdf_text(rx_pdf.render(await prescriptions.document_for_staff(rx.id), factories.today()))
    receipt = await invoice_pdf.receipt_document(invoice.id, patient.id)
    receipt_text = _pdf_text(invoice_pdf.render(receipt, factories.today()))
    if name.isascii() and len(name) < 20:
        assert name in rx_text and name in receipt_text  # printed as it was typed, markup and all


@FEW
@given(practice_name=st.one_of(_stored(200), st.just('P' * 200)), first_name=WORDS)
@example(practice_name='Lakeside\r\nBcc: x@evil.test', first_name='Ann\r\nBcc: y@evil.test')
@example(practice_name=MARKUP, first_name=MARKUP[:100])
async def test_names_in_an_email_stay_in_their_header_and_are_escaped_in_its_html(
    db, practice_name: str, first_name: str
):
    """The practice's name is in the Subject and the From name; the patient's in the body."""
    if not await Patient.exists():
        await factories.make_ready_practice()
        await factories.make_active_patient()
    await Practice.all().update(name=practice_name)
    await Patient.all().update(first_name=first_name)
    account = await PortalAccount.first()
    issued = await magic_link.issue_link(account, magic_link.audit.SYSTEM, purpose='login_link')
    message = await OutboxMessage.get(id=issued.message_id)
    assert len(message.subject) <= 200 and '\n' not in message.subject and '\r' not in message.subject

    smtp = SmtpTransport(host='127.0.0.1', port=25, mail_from='portal@practice.test')
    html, name = message.html_body, practice_name  # the From name: the practice's, as the outbox passes it
    built = smtp.build(to=message.to_address, subject=message.subject, body=message.body, html=html, sender_name=name)
    parsed = message_from_bytes(built.as_bytes(), policy=policy.default)
    assert parsed['Bcc'] is None and parsed['Cc'] is None  # no line break started a header of its own
    assert ' '.join(str(parsed['Subject']).split()) == message.subject and str(parsed['To']) == message.to_address
    assert parsed['From'].addresses[0].display_name == ' '.join(practice_name.split())
    if '<script>' in practice_name + first_name:
        assert '<script>' not in message.html_body and '&lt;script&gt;' in message.html_body


async def test_a_request_s_typed_markup_shows_as_text_in_the_staff_console(user: User):
    await factories.make_ready_practice()
    patient = await factories.make_patient(first_name='<i>Ann</i>', last_name='Lee')
    await factories.make_appointment_request(patient, reason=MARKUP, preferred_times='<img src=x onerror=alert(1)>')
    await staff_sign_in(user)
    await user.open('/staff/requests')
    await user.should_see(MARKUP)  # the characters themselves, not bold text and no script
    await user.should_see('<img src=x onerror=alert(1)>')
    await user.should_see('<i>Ann</i> Lee')
    for typed in (MARKUP, '<img src=x onerror=alert(1)>', '<i>Ann</i>'):
        shown = user.find(content=typed).elements
        assert shown and not any(isinstance(element, ui.html | ui.markdown) for element in shown)
    assert await AppointmentRequest.filter(reason=MARKUP).exists()
