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
