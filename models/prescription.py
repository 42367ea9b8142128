from tortoise import fields
from tortoise.models import Model

KINDS = ('spectacle', 'contact_lens')


class Prescription(Model):
    id = fields.IntField(primary_key=True)
    patient = fields.ForeignKeyField('models.Patient', related_name='prescriptions')
    provider = fields.ForeignKeyField('models.Provider', related_name='prescriptions')
    kind = fields.CharField(max_length=20, default='spectacle')
    exam_date = fields.DateField()
    issue_date = fields.DateField()
    expiry_date = fields.DateField()
    expiry_reason = fields.CharField(max_length=300, default='')
    notes = fields.TextField(default='')
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        indexes = (('patient_id', 'issue_date'),)


# Values for one eye (OD right, OS left). Powers are dioptres; axis in degrees.
class PrescriptionEye(Model):
    id = fields.IntField(primary_key=True)
    prescription = fields.ForeignKeyField('models.Prescription', related_name='eyes')
    eye = fields.CharField(max_length=2)
    sphere = fields.DecimalField(max_digits=5, decimal_places=2)
    cylinder = fields.DecimalField(max_digits=5, decimal_places=2, null=True)
    axis = fields.IntField(null=True)
    add = fields.DecimalField(max_digits=4, decimal_places=2, null=True)
    prism = fields.DecimalField(max_digits=4, decimal_places=2, null=True)
    prism_base = fields.CharField(max_length=10, default='')
    manufacturer = fields.CharField(max_length=100, default='')
    brand = fields.CharField(max_length=100, default='')
    base_curve = fields.DecimalField(max_digits=4, decimal_places=2, null=True)
    diameter = fields.DecimalField(max_digits=4, decimal_places=2, null=True)
