"""Privacy and audit: a patient sees only their own records whatever id is in the URL, and releases are logged."""

from nicegui.testing import User

from models.audit import AuditEvent
from services import prescriptions
from services.errors import NotFound
from tests import factories
from tests.mail import SmtpServer
from tests.portal_user import log_out, sign_in


async def test_another_patients_prescription_is_not_found_exactly_like_a_missing_one(
    user: User, smtp_server: SmtpServer
):
    patient = await factories.make_active_patient()
    other = await factories.make_active_patient(first_name='Other')
    theirs = await factories.make_spectacle_rx(other)
    await sign_in(user, smtp_server, patient)

    mine_missing = await user.http_client.get(f'/rx/{theirs.id + 1000}')
    theirs_page = await user.http_client.get(f'/rx/{theirs.id}')
    assert mine_missing.status_code == theirs_page.status_code == 404
    assert 'could not be found' in theirs_page.text
    assert other.last_name not in theirs_page.text

    pdf_missing = await user.http_client.get(f'/rx/{theirs.id + 1000}.pdf')
    theirs_pdf = await user.http_client.get(f'/rx/{theirs.id}.pdf')
    assert pdf_missing.status_code == theirs_pdf.status_code == 404
    assert pdf_missing.text == theirs_pdf.text
    assert not await AuditEvent.filter(action__startswith='rx.', object_id=theirs.id).exists()


async def test_another_patients_prescriptions_never_appear_in_the_list(user: User, smtp_server: SmtpServer):
    patient = await factories.make_active_patient()
    await factories.give_consent(patient)  # past the consent question, to the (empty) list
    other = await factories.make_active_patient()
    await factories.make_contact_lens_rx(other)
    await factories.make_invoice(other, [('Someone else’s frames', 30000)])
    await sign_in(user, smtp_server, patient)
    await user.open('/prescriptions')
    await user.should_see('No prescriptions yet')
    await user.should_not_see('AcmeDaily')
    await user.open('/billing')
    await user.should_not_see('Someone else’s frames')


async def test_services_filter_by_the_patient_they_are_given(db):
    patient = await factories.make_patient()
    other = await factories.make_patient()
    theirs = await factories.make_spectacle_rx(other)
    assert await prescriptions.prescriptions_for(patient.id) == []
    try:
        await prescriptions.prescription_for(patient.id, theirs.id)
        raise AssertionError("another patient's prescription was returned")
    except NotFound as error:
        assert str(error) == 'That prescription could not be found.'


async def test_views_prints_and_downloads_are_audited_with_the_patient_and_address(user: User, smtp_server: SmtpServer):
    patient = await factories.make_active_patient()
    rx = await factories.make_spectacle_rx(patient)
    await sign_in(user, smtp_server, patient)  # lands on the list: the first release
    account_id = (await patient.portal_account).id

    await user.open(f'/rx/{rx.id}')
    await user.http_client.get(f'/rx/{rx.id}.pdf')

    events = await AuditEvent.filter(patient_id=patient.id, action__startswith='rx.').order_by('id')
    assert [e.action for e in events] == ['rx.list_viewed', 'rx.viewed', 'rx.downloaded']
    for event in events:
        assert (event.actor_type, event.actor_id) == ('patient', account_id)
        assert event.client_address
    assert events[0].detail == {'prescription_ids': [rx.id]}
    assert events[1].object_id == events[2].object_id == rx.id


async def test_a_signed_out_patient_cannot_download_a_pdf(user: User, smtp_server: SmtpServer):
    patient = await factories.make_active_patient()
    rx = await factories.make_spectacle_rx(patient)
    await sign_in(user, smtp_server, patient)
    await log_out(user)
    response = await user.http_client.get(f'/rx/{rx.id}.pdf')
    assert (response.status_code, response.headers['location']) == (303, '/login')
