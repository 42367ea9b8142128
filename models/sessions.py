from tortoise import fields
from tortoise.models import Model


# Server-side session: the browser holds a random token, the database only its hash.
class SessionBase(Model):
    id = fields.IntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_seen_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)
    client_address = fields.CharField(max_length=64, default='')

    class Meta:
        abstract = True


class PortalSession(SessionBase):
    account = fields.ForeignKeyField('models.PortalAccount', related_name='sessions')


class StaffSession(SessionBase):
    staff = fields.ForeignKeyField('models.StaffUser', related_name='sessions')
