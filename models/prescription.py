"""Prescriptions: a spectacle or contact-lens Rx, its two eyes, and its lifecycle.

draft (editable, invisible to the patient) -> final (signed by the provider's linked staff account;
immutable from then) -> superseded (by a newer final Rx of the same kind and purpose) | void (reason).
"""

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class RxKind(StrEnum):
    SPECTACLE = 'spectacle'
    CONTACT_LENS = 'contact_lens'


KINDS = tuple(kind.value for kind in RxKind)


class RxStatus(StrEnum):
    DRAFT = 'draft'
    FINAL = 'final'
    SUPERSEDED = 'superseded'
    VOID = 'void'


class RxPurpose(StrEnum):
    """What a pair of glasses is for: a patient may hold a current distance and a current computer Rx."""

    DISTANCE = 'distance'
    NEAR = 'near'
    COMPUTER = 'computer'
    PROGRESSIVE = 'progressive'
    OTHER = 'other'


class Prescription(Model):
    id = fields.IntField(primary_key=True)
    patient = fields.ForeignKeyField('models.Patient', related_name='prescriptions')
    provider = fields.ForeignKeyField('models.Provider', related_name='prescriptions')
    kind = fields.CharField(max_length=20, default='spectacle')
    # Rows written before the lifecycle existed were shown to patients: the migration makes them final.
    status = fields.CharEnumField(RxStatus, default=RxStatus.DRAFT, db_default='draft')
    purpose = fields.CharEnumField(RxPurpose, null=True)  # spectacles only
    exam_date = fields.DateField()
    issue_date = fields.DateField()
    expiry_date = fields.DateField()
    expiry_reason = fields.CharField(max_length=300, default='')  # a shorter CL expiry's medical reason; never printed
    notes = fields.TextField(default='')
    # Pupillary distance in mm: binocular, or monocular per eye.
    pd_binocular = fields.DecimalField(max_digits=4, decimal_places=1, null=True)
    pd_od = fields.DecimalField(max_digits=4, decimal_places=1, null=True)
    pd_os = fields.DecimalField(max_digits=4, decimal_places=1, null=True)
    replacement_schedule = fields.CharField(
        max_length=100, default='', db_default=''
    )  # contact lenses: daily, two-weekly...
    signed_by = fields.ForeignKeyField(
        'models.StaffUser', related_name='signed_prescriptions', null=True, on_delete=fields.SET_NULL
    )
    signed_at = fields.DatetimeField(null=True)
    void_reason = fields.CharField(max_length=300, default='', db_default='')
    voided_at = fields.DatetimeField(null=True)
    superseded_by = fields.ForeignKeyField(
        'models.Prescription', related_name='supersedes', null=True, on_delete=fields.SET_NULL
    )
    created_by = fields.ForeignKeyField(
        'models.StaffUser', related_name='created_prescriptions', null=True, on_delete=fields.SET_NULL
    )
    imported = fields.BooleanField(
        default=False, db_default=False
    )  # written by a CSV import rather than in the console
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        indexes = (('patient_id', 'issue_date'), ('patient_id', 'status'))


# Columns added to existing tables carry a database default (db_default) so the migration can add them
# to tables that already hold rows.


# Values for one eye (OD right, OS left). Powers are diopters; axis in degrees; prism in prism diopters.
class PrescriptionEye(Model):
    id = fields.IntField(primary_key=True)
    prescription = fields.ForeignKeyField('models.Prescription', related_name='eyes')
    eye = fields.CharField(max_length=2)
    sphere = fields.DecimalField(max_digits=5, decimal_places=2)  # a contact lens's power
    cylinder = fields.DecimalField(max_digits=5, decimal_places=2, null=True)  # plus or minus, as written
    axis = fields.IntField(null=True)
    add = fields.DecimalField(max_digits=4, decimal_places=2, null=True)
    add_level = fields.CharField(
        max_length=4, default='', db_default=''
    )  # contact lenses: LOW / MED / HIGH instead of diopters
    dominance = fields.CharField(
        max_length=1, default='', db_default=''
    )  # multifocal contact lenses: D(ominant) / N(on-dominant)
    prism = fields.DecimalField(max_digits=4, decimal_places=2, null=True)  # horizontal component
    prism_base = fields.CharField(max_length=10, default='')  # BI / BO
    prism_vertical = fields.DecimalField(max_digits=4, decimal_places=2, null=True)
    prism_vertical_base = fields.CharField(max_length=2, default='', db_default='')  # BU / BD
    manufacturer = fields.CharField(max_length=100, default='')
    brand = fields.CharField(max_length=100, default='')
    base_curve = fields.DecimalField(max_digits=4, decimal_places=2, null=True)
    diameter = fields.DecimalField(max_digits=4, decimal_places=2, null=True)

    class Meta:
        # Every Rx list and copy reads its eyes by prescription: without it each read scanned the whole table.
        indexes = (('prescription_id',),)
