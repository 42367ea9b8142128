"""CSV imports: the remembered column mapping per kind, the background job, and the rows it held or refused."""

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class ImportKind(StrEnum):
    PATIENTS = 'patients'
    PRESCRIPTIONS = 'prescriptions'
    APPOINTMENTS = 'appointments'
    INVOICES = 'invoices'


class JobStatus(StrEnum):
    QUEUED = 'queued'  # waiting for a worker to claim it
    RUNNING = 'running'  # claimed; `heartbeat_at` says the worker is alive
    DONE = 'done'
    FAILED = 'failed'  # the file could not be read at all (nothing was written)


class RowOutcome(StrEnum):
    REFUSED = 'refused'  # not imported; the reason says why
    HELD = 'held'  # ambiguous match: waits for a person to pick the patient or create a new one
    NOTE = 'note'  # imported, but something was left alone (an active portal account's login email)


# The column mapping last used for a kind: the next import of that kind starts from it.
class ImportMapping(Model):
    id = fields.IntField(primary_key=True)
    kind = fields.CharEnumField(ImportKind, unique=True)
    mapping = fields.JSONField(default=dict)  # field name -> CSV column heading
    updated_at = fields.DatetimeField(auto_now=True)


# One upload, applied by whichever app instance claims it first; resumable from `next_row`.
class ImportJob(Model):
    id = fields.IntField(primary_key=True)
    kind = fields.CharEnumField(ImportKind)
    status = fields.CharEnumField(JobStatus, default=JobStatus.QUEUED, db_index=True)
    file_name = fields.CharField(max_length=200, default='')
    content = fields.TextField()  # the decoded file: a restarted or second instance reads it from here
    mapping = fields.JSONField(default=dict)
    created_by = fields.ForeignKeyField('models.StaffUser', related_name=False, null=True, on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField(auto_now_add=True)
    started_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)
    worker = fields.CharField(max_length=64, default='')  # the instance that claimed it
    heartbeat_at = fields.DatetimeField(null=True)
    total_rows = fields.IntField(default=0)
    next_row = fields.IntField(default=0)  # rows before this index are applied (committed with their chunk)
    created = fields.IntField(default=0)
    updated = fields.IntField(default=0)
    unchanged = fields.IntField(default=0)
    refused = fields.IntField(default=0)
    held = fields.IntField(default=0)
    error = fields.CharField(max_length=500, default='')


# A row the job refused, held for review, or imported with a note; a held row records its resolution.
class ImportRow(Model):
    id = fields.IntField(primary_key=True)
    job = fields.ForeignKeyField('models.ImportJob', related_name='rows')
    row_number = fields.IntField()  # as a spreadsheet numbers it: the header is row 1
    outcome = fields.CharEnumField(RowOutcome)
    reason = fields.CharField(max_length=500)
    values = fields.JSONField(default=dict)  # field name -> text, for the review list
    candidates = fields.JSONField(default=list)  # patient ids a held row could be
    patient_id = fields.IntField(null=True)
    resolved_at = fields.DatetimeField(null=True)
    resolved_by_label = fields.CharField(max_length=200, default='')

    class Meta:
        indexes = (('job_id', 'outcome'),)
