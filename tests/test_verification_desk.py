"""The verification desk page: log a seller's request, see it matched against the record, answer it; the
header counts requests to answer; the profile shows who looked an Rx up at /verify."""

from datetime import date

from nicegui.testing import User

from models.verification import RequestStatus, VerificationRequest
from services import rx_verification, verification_codes
from tests import factories
from tests.mail import SmtpServer, body
from tests.portal_user import wait_until
from tests.test_staff_console import open_profile, staff_sign_in


async def test_staff_log_a_request_see_the_mismatch_and_answer_inaccurate(user: User, smtp_server: SmtpServer):
    practice = await factories.make_ready_practice()
    patient = await factories.make_patient(
        practice, first_name='Jamie', last_name='Rivera', date_of_birth=date(1990, 4, 2)
    )
    await factories.make_contact_lens_rx(patient)  # OD -2.50, OS -2.25
    await staff_sign_in(user)
    await user.open('/staff/verifications')
    await user.should_see('No verification requests yet.', retries=100)

    user.find('Log a request').click()
    await user.should_see('Log a verification request', retries=100)
    user.find(marker='seller').type('LensMart Online')
    user.find(marker='seller-email').type('verify@lensmart.example')
    user.find(marker='patient-name').type('Rivera')
    user.find(marker='patient-dob').type('1990-04-02')
    user.find(marker='find-patient').click()
    await user.should_see('Rivera, Jamie (born 04/02/1990)', retries=100)
    user.find(marker='brand').type('AcmeDaily 1-Day')
    user.find(marker='OD-sphere').type('-2.50')
    user.find(marker='OS-sphere').type('-2.00')
    user.find(marker='save-request').click()

    await user.should_see('Request logged.', retries=100)
    await user.should_see('1 stated value differs from the record.', retries=100)
    request = await VerificationRequest.get(seller_name='LensMart Online')
    assert request.patient_id == patient.id and request.channel == 'phone'

    async def counted() -> bool:  # the header hears the change event on its own task
        return user.find(marker='open-verifications').elements.pop().text == '1'

    await wait_until(counted)

    user.find(marker=f'answer-inaccurate-{request.id}').click()
    await user.should_see('receives the correct prescription from the record', retries=100)
    user.find(marker='send-answer').click()
    await user.should_see('Answer sent to the seller: Inaccurate.', retries=100)
    email = await smtp_server.wait_for('verify@lensmart.example')
    assert 'OS: Power -2.25, Base curve 8.60, Diameter 14.20' in body(email)
    await request.refresh_from_db()
    assert request.status == RequestStatus.INACCURATE


async def test_invalid_needs_its_reason_on_the_page(user: User, smtp_server: SmtpServer):
    practice = await factories.make_ready_practice()
    staff = await staff_sign_in(user)
    from services import audit
    from services import verification_requests as desk
    from tests.test_verification_requests import _form

    request = await desk.log_request(practice, _form(None), audit.Actor.staff(staff), staff)
    await user.open('/staff/verifications')
    await user.should_see('Not matched to a patient of the practice.', retries=100)
    user.find(marker=f'answer-invalid-{request.id}').click()
    await user.should_see('Answer Invalid', retries=100)
    user.find(marker='send-answer').click()
    await user.should_see('Choose why it is invalid', retries=100)
    user.find(marker='invalid-reason').elements.pop().value = 'not_our_patient'
    user.find(marker='send-answer').click()
    await user.should_see('Answer sent to the seller: Invalid.', retries=100)

    async def answered() -> bool:
        return (await VerificationRequest.get(id=request.id)).status == RequestStatus.INVALID

    await wait_until(answered)


async def test_the_profile_says_when_a_viewer_verified_an_rx(user: User):
    practice = await factories.make_ready_practice()
    patient = await factories.make_patient(practice)
    rx = await factories.make_spectacle_rx(patient)
    code = await rx_verification.current_code(rx)
    assert (await user.http_client.get(f'/verify?code={verification_codes.display(code)}')).status_code == 200
    await staff_sign_in(user)
    await open_profile(user, patient)
    await user.should_see('Verified by a viewer at ', retries=100)
