from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class Channel(StrEnum):
    EMAIL = 'email'
    SMS = 'sms'


class Status(StrEnum):
    QUEUED = 'queued'
    SENDING = 'sending'
    SENT = 'sent'  # a transport's receipt said it reached the recipient's server or carrier
    FAILED = 'failed'
    COPIED = 'copied'  # staff copied the text into the practice's own phone system: the portal sent nothing


class Purpose(StrEnum):
    LOGIN_LINK = 'login_link'  # the patient asked on the login page
    INVITATION = 'invitation'  # staff emailed the portal invitation with a login link
    TEXT_INVITATION = 'text_invitation'
    STAFF_PASSWORD = 'staff_password'  # a team member's set-password link (invitation or reset)


# Every email and text is a row before it is sent: nothing is lost when the server is down.
class OutboxMessage(Model):
    id = fields.IntField(primary_key=True)
    channel = fields.CharField(max_length=10)  # a Channel
    purpose = fields.CharField(max_length=30)  # a Purpose, or a kind other services add (appointment, reminder)
    patient = fields.ForeignKeyField('models.Patient', related_name='messages', null=True, on_delete=fields.SET_NULL)
    to_address = fields.CharField(max_length=320)
    subject = fields.CharField(max_length=200, default='')
    body = fields.TextField()
    html_body = fields.TextField(default='', db_default='')  # the HTML alternative of an email; '' for texts
    status = fields.CharField(max_length=10, default='queued', db_index=True)  # a Status
    # Who sent it: the staff member's name, or '' (the patient's own request, or the portal on a schedule)
    # (a name kept as it was then: the row stays readable after the account is gone).
    sent_by = fields.CharField(max_length=200, default='', db_default='')
    permanent_failure = fields.BooleanField(
        default=False, db_default=False
    )  # refused for good (bounce, STOP): no retry helps
    attempts = fields.IntField(default=0)
    last_error = fields.TextField(default='')
    server_reply = fields.CharField(max_length=500, default='')
    created_at = fields.DatetimeField(auto_now_add=True)
    next_attempt_at = fields.DatetimeField(null=True)
    sent_at = fields.DatetimeField(null=True)
    expires_at = fields.DatetimeField(null=True)
