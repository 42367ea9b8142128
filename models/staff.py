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
