from tortoise import fields
from tortoise.models import Model

ROLES = ('admin', 'staff')


class StaffUser(Model):
    id = fields.IntField(primary_key=True)
    email = fields.CharField(max_length=320, unique=True)
    name = fields.CharField(max_length=200)
    role = fields.CharField(max_length=10, default='staff')
    password_hash = fields.CharField(max_length=200)
    is_active = fields.BooleanField(default=True)
    failed_attempts = fields.IntField(default=0)
    locked_until = fields.DatetimeField(null=True)
    last_login_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    # Independent of role: the account allowed to sign this provider's prescriptions.
    provider = fields.OneToOneField(
        'models.Provider', related_name='staff_account', null=True, on_delete=fields.SET_NULL
    )
    is_demo = fields.BooleanField(
        default=False, db_default=False
    )  # seeded by --demo; a real install refuses to start with one
    # Second factor (TOTP, RFC 6238): the shared secret encrypted under a key derived from the app secret;
    # '' until the member sets it up. The last accepted time step: a code is never accepted twice.
    totp_secret = fields.CharField(max_length=300, default='', db_default='')
    totp_last_step = fields.BigIntField(null=True)


# One emailed set-password link (a new member's invitation, or a reset). Only the jti's hash is stored.
class StaffPasswordToken(Model):
    id = fields.IntField(primary_key=True)
    staff = fields.ForeignKeyField('models.StaffUser', related_name='password_tokens')
    jti_hash = fields.CharField(max_length=64, unique=True)
    purpose = fields.CharField(max_length=10)  # invite | reset
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    invalidated_at = fields.DatetimeField(null=True)


# One-time codes for signing in without the authenticator app; only their hashes are stored.
class StaffRecoveryCode(Model):
    id = fields.IntField(primary_key=True)
    staff = fields.ForeignKeyField('models.StaffUser', related_name='recovery_codes')
    code_hash = fields.CharField(max_length=64, unique=True)
    used_at = fields.DatetimeField(null=True)
