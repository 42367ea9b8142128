from tortoise import fields
from tortoise.models import Model


# Every email and text is a row before it is sent: nothing is lost when the server is down.
class OutboxMessage(Model):
    id = fields.IntField(primary_key=True)
    channel = fields.CharField(max_length=10)  # email | sms
    purpose = fields.CharField(max_length=30)  # login_link | invitation | text_invitation
    patient = fields.ForeignKeyField('models.Patient', related_name='messages', null=True, on_delete=fields.SET_NULL)
    to_address = fields.CharField(max_length=320)
    subject = fields.CharField(max_length=200, default='')
    body = fields.TextField()
    status = fields.CharField(max_length=10, default='queued', db_index=True)  # queued | sending | sent | failed
    attempts = fields.IntField(default=0)
    last_error = fields.TextField(default='')
    server_reply = fields.CharField(max_length=500, default='')
    created_at = fields.DatetimeField(auto_now_add=True)
    next_attempt_at = fields.DatetimeField(null=True)
    sent_at = fields.DatetimeField(null=True)
    expires_at = fields.DatetimeField(null=True)
