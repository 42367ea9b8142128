from tortoise import fields
from tortoise.models import Model


# Append-only evidence (kept at least three years). Plain ids, not foreign keys, so deleting
# anything else can never cascade into the audit trail.
class AuditEvent(Model):
    id = fields.BigIntField(primary_key=True)
    at = fields.DatetimeField(auto_now_add=True, db_index=True)
    actor_type = fields.CharField(max_length=10)  # staff | patient | system
    actor_id = fields.IntField(null=True)
    actor_label = fields.CharField(max_length=200, default='')
    action = fields.CharField(max_length=50, db_index=True)
    patient_id = fields.IntField(null=True, db_index=True)
    object_type = fields.CharField(max_length=30, default='')
    object_id = fields.IntField(null=True)
    client_address = fields.CharField(max_length=64, default='')
    detail = fields.JSONField(default=dict)
