"""Verification: the code that lets anyone holding it check a released Rx, and sellers' verification requests.

A code is kept as its own lookup key (24 letters, about 103.7 random bits), not as a hash: the patient's
print view and PDF show it again every time, so it must be readable, and what it unlocks is the Rx the
patient chose to hand over (never the patient's record). A withdrawn code stays in the table (the
audit names it) but resolves to nothing, exactly like a code that never existed.
"""

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class RxVerificationCode(Model):
    id = fields.IntField(primary_key=True)
    prescription = fields.ForeignKeyField('models.Prescription', related_name='verification_codes')
    code = fields.CharField(max_length=24, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    withdrawn_at = fields.DatetimeField(null=True)

    class Meta:
        # The Prescriptions tab reads each Rx's code with the list: without it, every load scanned the table.
        indexes = (('prescription_id',),)


class RequestChannel(StrEnum):
    PHONE = 'phone'
    FAX = 'fax'
    EMAIL = 'email'


class RequestStatus(StrEnum):
    OPEN = 'open'
    VERIFIED = 'verified'
    INACCURATE = 'inaccurate'
    INVALID = 'invalid'


class InvalidReason(StrEnum):
    EXPIRED = 'expired'
    NO_RX = 'no_rx'
    NOT_OUR_PATIENT = 'not_our_patient'


class VerificationRequest(Model):
    """A seller's contact-lens verification request (16 CFR 315.5), logged by staff as it arrives.

    `due_at` is computed once from `received_at` (8 business hours, prescriber's time zone). An open
    request past `due_at` is passively verified: that is derived when read, never stored.
    """

    id = fields.IntField(primary_key=True)
    practice = fields.ForeignKeyField('models.Practice', related_name='verification_requests')
    patient = fields.ForeignKeyField(
        'models.Patient', related_name='verification_requests', null=True, on_delete=fields.SET_NULL
    )
    patient_name = fields.CharField(max_length=200)  # as the seller states it
    patient_dob = fields.DateField(null=True)
    seller_name = fields.CharField(max_length=200)
    seller_email = fields.CharField(max_length=320)
    seller_phone = fields.CharField(max_length=40, default='')
    seller_fax = fields.CharField(max_length=40, default='')
    channel = fields.CharEnumField(RequestChannel)
    received_at = fields.DatetimeField()
    count_saturday = fields.BooleanField(default=False)
    due_at = fields.DatetimeField(db_index=True)
    stated = fields.JSONField(default=dict)  # brand, quantity and per-eye values as the seller states them
    status = fields.CharEnumField(RequestStatus, default=RequestStatus.OPEN)
    invalid_reason = fields.CharField(max_length=20, default='')
    prescription = fields.ForeignKeyField(
        'models.Prescription', related_name='verification_requests', null=True, on_delete=fields.SET_NULL
    )
    answered_at = fields.DatetimeField(null=True)
    answered_by = fields.ForeignKeyField(
        'models.StaffUser', related_name='answered_verifications', null=True, on_delete=fields.SET_NULL
    )
    created_by = fields.ForeignKeyField(
        'models.StaffUser', related_name='logged_verifications', null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        indexes = (('practice_id', 'status'),)
