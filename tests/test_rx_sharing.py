"""Every released copy carries its verification code: QR and typed form on the PDF and the print view; the
patient shares it from the Prescriptions tab and can stop sharing."""

import io

import zxingcpp
from nicegui.testing import User
from pypdf import PdfReader

from models.verification import RxVerificationCode
from services import prescriptions, rx_pdf, rx_verification
from tests import factories
from tests.mail import SmtpServer
from tests.portal_user import sign_in, wait_until


async def test_the_pdf_carries_a_qr_that_opens_verify_with_the_code_and_the_typed_code(db):
    patient = await factories.make_active_patient()
    practice = await patient.practice
    practice.portal_url = 'https://portal.lakeside.example'
    await practice.save()
    rx = await factories.make_spectacle_rx(patient)
    document = await prescriptions.prescription_for(patient.id, rx.id)
    share = await rx_verification.share_of(document)

    page = PdfReader(io.BytesIO(rx_pdf.render(document, factories.today(), share))).pages[0]

    assert share.display in page.extract_text() and 'portal.lakeside.example/verify' in page.extract_text()
    (image,) = page.images
    (barcode,) = zxingcpp.read_barcodes(image.image)
    assert barcode.text == f'https://portal.lakeside.example/verify?code={share.display}'


def press(user: User, action: str, rx_id: int) -> None:
    """A click on one of the list's HTML buttons, as its one listener reports it (`blocks.on_actions`)."""
    user.find(marker='rx-list').trigger('click', {'action': action, 'id': rx_id})


async def test_patient_shares_and_stops_sharing_from_the_prescriptions_tab(user: User, smtp_server: SmtpServer):
    patient = await factories.make_active_patient()
    rx = await factories.make_spectacle_rx(patient)
    await sign_in(user, smtp_server, patient)
    await user.open('/prescriptions')
    await user.should_see('Share with an optician or store', retries=100)
    first = await rx_verification.current_code(rx)

    press(user, 'share', rx.id)
    await user.should_see('Share this prescription', retries=100)
    await user.should_see(rx_verification.share_for(first, await patient.practice).display, retries=100)
    user.find('Close').click()

    press(user, 'stop-sharing', rx.id)
    await user.should_see('Stop sharing this prescription?', retries=100)
    user.find(marker='confirm-stop-sharing').click()
    await user.should_see('Sharing stopped. The old code no longer works.', retries=100)

    async def withdrawn() -> bool:
        return await RxVerificationCode.filter(prescription_id=rx.id, withdrawn_at__isnull=False).exists()

    await wait_until(withdrawn)
    assert await rx_verification.look_up(first, '203.0.113.9') is None
    assert await rx_verification.current_code(rx) != first


async def test_a_share_click_naming_a_prescription_the_list_does_not_offer_does_nothing(
    user: User, smtp_server: SmtpServer
):
    patient = await factories.make_active_patient()
    other = await factories.make_active_patient(first_name='Other', email='other@example.org')
    theirs = await factories.make_spectacle_rx(other)
    await factories.make_spectacle_rx(patient)
    await sign_in(user, smtp_server, patient)
    await user.open('/prescriptions')
    await user.should_see('Share with an optician or store', retries=100)
    codes = await RxVerificationCode.filter(prescription_id=theirs.id).values_list('withdrawn_at', flat=True)

    press(user, 'stop-sharing', theirs.id)  # an id typed into the browser's console
    press(user, 'share', theirs.id)
    press(user, 'share', 'not a number')  # type: ignore[arg-type]
    press(user, 'unknown', theirs.id)
    await user.should_not_see('Stop sharing this prescription?')
    await user.should_not_see('Share this prescription')
    assert await RxVerificationCode.filter(prescription_id=theirs.id).values_list('withdrawn_at', flat=True) == codes


async def test_the_print_view_shows_the_code(user: User, smtp_server: SmtpServer):
    patient = await factories.make_active_patient()
    rx = await factories.make_spectacle_rx(patient)
    await sign_in(user, smtp_server, patient)
    await user.open(f'/rx/{rx.id}')
    await user.should_see('Check this prescription', retries=100)
    code = await rx_verification.current_code(rx)
    await user.should_see(rx_verification.share_for(code, await patient.practice).display, retries=100)
