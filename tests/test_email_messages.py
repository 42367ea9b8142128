"""Every email the portal sends reads well and lands in the inbox: headers, both parts, one button, low spam score."""

import os
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import parseaddr, parsedate_to_datetime

import pytest

from models.portal_account import PortalAccount
from services import appointment_mail, audit, magic_link, outbox, verification_requests
from tests import factories
from tests.mail import SmtpServer, body

BASE_URL = 'https://portal.lakesideeyecare.com'
MAIL_FROM = 'Lakeside Family Eye Care <portal@lakesideeyecare.com>'
STAFF = audit.Actor('staff', 1, 'Riley Front Desk')
VISIT = appointment_mail.Visit(
    day='Tuesday, March 4, 2025',
    time='9:30 AM EST',
    visit_type='Eye exam',
    provider='Dr. Maya Chen, OD',
    location='Lakeside Family Eye Care, 12 Harbor Road, Portland, ME 04101',
)
SENDER = appointment_mail.From(practice='Lakeside Family Eye Care', phone='(207) 555-0100', portal_url=BASE_URL)


@pytest.fixture
async def production_like(db, smtp_server: SmtpServer, secret_key: str) -> SmtpServer:
    magic_link.configure(magic_link.LinkSettings(secret=secret_key, base_url=BASE_URL, valid_minutes=15))
    outbox.configure(outbox.SmtpTransport(host='127.0.0.1', port=smtp_server.port, mail_from=MAIL_FROM))
    return smtp_server


async def _every_kind_of_email(smtp_server: SmtpServer) -> dict[str, EmailMessage]:
    practice = await factories.make_practice(
        name='Lakeside Family Eye Care', phone='(207) 555-0100', portal_url=BASE_URL
    )
    patient = await factories.make_active_patient(practice=practice, first_name='Jamie', email='jamie.rivera@gmail.com')
    account = await PortalAccount.get(patient_id=patient.id)
    sent: dict[str, int] = {}
    sent['login link'] = (
        await magic_link.issue_link(account, audit.Actor.patient(account.id), purpose='login_link')
    ).message_id
    sent['invitation'] = (await magic_link.issue_link(account, STAFF, purpose='invitation')).message_id
    for kind, (subject, text) in {
        'appointment booked': appointment_mail.booked('Jamie', VISIT, SENDER),
        'request scheduled': appointment_mail.scheduled('Jamie', VISIT, SENDER),
        'appointment cancelled': appointment_mail.cancelled('Jamie', VISIT, 'The doctor is ill.', SENDER),
        'request declined': appointment_mail.declined('Jamie', 'Eye exam', 'Please call us to find a time.', SENDER),
        'reminder': appointment_mail.reminder('Jamie', VISIT, SENDER),
    }.items():
        message = await outbox.enqueue_email(
            to=patient.email, subject=subject, body=text, purpose='appointment', patient=patient
        )
        sent[kind] = message.id
    emails = {}
    for number, (kind, message_id) in enumerate(sent.items(), start=1):
        assert (await outbox.deliver(message_id)).status == 'sent'
        emails[kind] = await smtp_server.wait_for(patient.email, count=number)
    # A seller's verification answer (sent at once by the desk); to the same inbox so it is collected here.
    await factories.make_contact_lens_rx(patient)
    staff = await factories.make_staff()
    request = await verification_requests.log_request(
        practice,
        verification_requests.RequestInput(
            seller_name='LensMart Online',
            seller_email=patient.email,
            channel='fax',
            received_at=datetime.now(UTC) - timedelta(minutes=5),
            patient_name='',
            patient_id=patient.id,
            brand='AcmeDaily 1-Day',
            eyes={'OD': {'sphere': '-2.50'}, 'OS': {'sphere': '-2.00'}},
        ),
        STAFF,
        staff,
    )
    await verification_requests.answer(request.id, 'inaccurate', STAFF, staff)
    emails['verification answer'] = await smtp_server.wait_for(patient.email, count=len(sent) + 1)
    return emails


async def test_every_email_has_date_message_id_on_the_sending_domain_and_the_practice_in_from(production_like):
    emails = await _every_kind_of_email(production_like)

    message_ids = set()
    for kind, email in emails.items():
        assert parsedate_to_datetime(email['Date']).tzinfo is not None, kind
        assert re.fullmatch(r'<[^@\s]+@lakesideeyecare\.com>', email['Message-ID']), (kind, email['Message-ID'])
        message_ids.add(email['Message-ID'])
        name, address = parseaddr(email['From'])
        assert (name, address) == ('Lakeside Family Eye Care', 'portal@lakesideeyecare.com'), kind
    assert len(message_ids) == len(emails)


async def test_every_email_has_a_plain_part_and_an_html_alternative(production_like):
    emails = await _every_kind_of_email(production_like)

    for kind, email in emails.items():
        assert email.get_content_type() == 'multipart/alternative', kind
        html = email.get_body(preferencelist=('html',)).get_content()
        assert 'Jamie' in body(email) and 'Jamie' in html, kind
        assert '<script' not in html and '<img' not in html, kind  # works where images and scripts are blocked
        assert 'name="viewport"' in html and 'max-width:560px' in html, kind  # readable on a phone


async def test_link_emails_have_one_large_button_to_the_link(production_like):
    emails = await _every_kind_of_email(production_like)

    for kind in ('login link', 'invitation'):
        email = emails[kind]
        html = email.get_body(preferencelist=('html',)).get_content()
        link = re.search(r'https://\S+/login/link/\S+', body(email)).group(0)
        buttons = re.findall(r'<a href="([^"]+)" style="display:block; padding:16px 20px', html)
        assert buttons == [link], kind
        assert 'font-size:19px' in html


async def test_the_invitation_explains_the_portal_instead_of_saying_ignore_it(production_like):
    emails = await _every_kind_of_email(production_like)

    invitation, login = body(emails['invitation']), body(emails['login link'])
    assert 'has set up your patient portal' in invitation
    assert 'Every later visit works the same way, with no password' in invitation
    assert f'go to {BASE_URL}' in invitation and '(207) 555-0100' in invitation
    assert 'ignore' not in invitation
    assert 'If you did not ask for this email you can ignore it' in login
    assert emails['invitation']['Subject'] == 'Your patient portal at Lakeside Family Eye Care'


def _spamassassin() -> str | None:
    found = shutil.which('spamassassin')
    if found is None and os.environ.get('CI'):
        pytest.fail("spamassassin is missing on CI: .ci/run installs Debian's spamassassin package")
    return found


async def test_every_email_scores_under_one_point_in_spamassassin(production_like):
    program = _spamassassin()
    if program is None:
        pytest.skip('spamassassin is not installed (apt-get install spamassassin); CI runs this test')
    emails = await _every_kind_of_email(production_like)

    scores = {}
    for kind, email in emails.items():
        result = subprocess.run(
            [program, '-L', '-t'], input=email.as_bytes(), capture_output=True, timeout=120, check=False
        )
        report = result.stdout.decode(errors='replace')
        scores[kind] = float(re.search(r'X-Spam-Status: \w+, score=(-?[\d.]+)', report).group(1))
        assert scores[kind] < 1.0, (kind, report[report.find('Content analysis details') :])
