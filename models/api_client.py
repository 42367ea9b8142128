"""Backend systems (an EHR, an integration engine) that call the FHIR API, and the source ids they send.

An API client holds SMART `system/` scopes and a bearer token; the database keeps only the token's hash
(like staff sessions), so a leaked database yields no usable token. Revoking sets `revoked_at`: the token
stops working at once and the row stays, because the audit trail names the client.
"""

from tortoise import fields
from tortoise.models import Model


class ApiClient(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200)
    scopes = fields.CharField(max_length=1000)  # space-separated, as SMART writes them: 'system/Patient.read ...'
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    created_by = fields.ForeignKeyField('models.StaffUser', related_name=False, null=True, on_delete=fields.SET_NULL)
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()


class ExternalIdentifier(Model):
    """An id a source system gave one of our records (a FHIR `identifier` system + value).

    A resource sent again with the same identifier updates the record it created instead of duplicating
    it. The pair is unique per resource type, so one source id can never point at two records.
    """

    id = fields.IntField(primary_key=True)
    resource_type = fields.CharField(max_length=40)  # the FHIR resource type: Patient, Practitioner, ...
    system = fields.CharField(max_length=300)
    value = fields.CharField(max_length=200)
    object_id = fields.IntField()  # the id of our record of that type (a plain id: records are never deleted)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        unique_together = (('resource_type', 'system', 'value'),)
        indexes = (('resource_type', 'object_id'),)
