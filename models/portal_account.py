from tortoise import fields
from tortoise.models import Model


# Portal access of one patient.
#
# `active_email` holds the normalised login email while the account is active and NULL otherwise.
# Its unique constraint is what makes "one active portal account per email" a database rule:
# NULLs never collide, so disabled accounts and parent/child records sharing an address coexist.
class PortalAccount(Model):
    id = fields.IntField(primary_key=True)
    patient = fields.OneToOneField('models.Patient', related_name='portal_account')
    login_email = fields.CharField(max_length=320)
    active_email = fields.CharField(max_length=320, null=True, unique=True)
    enabled_at = fields.DatetimeField(null=True)
    enabled_by = fields.ForeignKeyField('models.StaffUser', related_name=False, null=True, on_delete=fields.SET_NULL)
    disabled_at = fields.DatetimeField(null=True)
    disabled_by = fields.ForeignKeyField('models.StaffUser', related_name=False, null=True, on_delete=fields.SET_NULL)
    last_login_at = fields.DatetimeField(null=True)

    @property
    def is_active(self) -> bool:
        return self.active_email is not None


# One issued magic link. Only hashes are stored: the JWT's jti and the one-time code.
class LoginToken(Model):
    id = fields.IntField(primary_key=True)
    account = fields.ForeignKeyField('models.PortalAccount', related_name='login_tokens')
    jti_hash = fields.CharField(max_length=64, unique=True)
    code_hash = fields.CharField(max_length=64)
    code_attempts = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    invalidated_at = fields.DatetimeField(null=True)
    client_address = fields.CharField(max_length=64, default='')
