"""Importing a file of one kind the way the page does, for service tests: preview, then the job, to the end."""

from models.csv_import import ImportJob
from services.csv_import import jobs, mapping
from services.csv_import.rows import RowPlan


async def run_kind(kind: str, data: bytes, staff: object, file_name: str = 'export.csv') -> tuple[list, ImportJob]:
    """The preview's plan of every row (in file order) and the finished job."""
    upload = jobs.read_upload(file_name, data)
    guessed = mapping.guess(kind, upload.table.headers)
    preview = await jobs.preview(kind, upload, guessed)
    job = await jobs.start_import(kind, upload, guessed, staff)
    assert await jobs.claim(job.id, 'test-worker')
    await jobs.run(job.id, 'test-worker')
    plans: list[RowPlan] = sorted(preview.rows, key=lambda row: row.row_number)
    return plans, await ImportJob.get(id=job.id)
