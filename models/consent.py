"""Release evidence the FTC Eyeglass and Contact Lens Rules ask a practice to keep (at least three years).

Digital delivery needs the patient's consent, given before release and naming the method (the portal).
Without it, the practice hands over paper and keeps the patient's signed confirmation of receipt, or a
note that the patient refused to sign. Nothing in the app deletes these rows.
"""

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class ConsentMethod(StrEnum):
    IN_OFFICE = 'in_office'  # signed in the office
    PHONE = 'phone'  # recorded by staff on the phone
    PORTAL = 'portal'  # ticked by the patient in the portal before any Rx was shown


class DigitalDeliveryConsent(Model):
    id = fields.IntField(primary_key=True)
    patient = fields.ForeignKeyField('models.Patient', related_name='delivery_consents', on_delete=fields.RESTRICT)
    method = fields.CharEnumField(ConsentMethod)
    delivery = fields.CharField(max_length=50, default='patient portal')  # the delivery method consented to
    recorded_by = fields.ForeignKeyField(
        'models.StaffUser', related_name='recorded_consents', null=True, on_delete=fields.SET_NULL
    )
    recorded_by_label = fields.CharField(max_length=200, default='')  # kept if the staff account goes
    given_at = fields.DatetimeField()
    withdrawn_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)


class ConfirmationKind(StrEnum):
    SIGNED = 'signed'  # the patient signed a confirmation of receipt of the paper copy
    REFUSED = 'refused'  # the patient refused to sign; the practice notes it


class ReleaseConfirmation(Model):
    id = fields.IntField(primary_key=True)
    prescription = fields.ForeignKeyField(
        'models.Prescription', related_name='release_confirmations', on_delete=fields.RESTRICT
    )
    patient = fields.ForeignKeyField('models.Patient', related_name='release_confirmations', on_delete=fields.RESTRICT)
    kind = fields.CharEnumField(ConfirmationKind)
    note = fields.CharField(max_length=300, default='')
    recorded_by = fields.ForeignKeyField(
        'models.StaffUser', related_name='recorded_confirmations', null=True, on_delete=fields.SET_NULL
    )
    recorded_by_label = fields.CharField(max_length=200, default='')
    recorded_at = fields.DatetimeField(auto_now_add=True)
