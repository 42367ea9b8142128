"""Generated bad input through the CSV import, by its public steps (read the upload, preview, start, run): each
generated row is imported exactly, as the patient form's rules tidy it, or refused (or held) with a reason,
and the job always finishes; a file holding a NUL byte, which is not text, is refused before any job starts."""

import csv
import io
from itertools import count

from hypothesis import example, given
from hypothesis import strategies as st

from models.csv_import import ImportJob, ImportRow, JobStatus
from models.patient import Patient
from models.practice import Practice
from models.staff import StaffUser
from services.csv_import import jobs, mapping
from services.csv_import.reading import UnreadableFile
from tests import factories
from tests.security.generated import FEW, HUGE, TYPED, one_line

HEADER = ['Chart #', 'First Name', 'Last Name', 'DOB', 'E-mail', 'Address']
CELL = st.one_of(TYPED, st.sampled_from(['Zoë', 'jamie@example.org', '\u202eevil', '=HYPERLINK("x")', HUGE]))
ROWS = st.lists(st.tuples(CELL, CELL, CELL, CELL), min_size=1, max_size=4)
_charts = count(1)


def _file(rows: list[tuple[str, str, str, str]], charts: list[str]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for chart, (first, last, email, address) in zip(charts, rows, strict=True):
        writer.writerow([chart, first, last, '1980-05-17', email, address])
    return out.getvalue().encode()


async def _admin() -> StaffUser:
    if not await Practice.exists():
        await factories.make_ready_practice()
    return await StaffUser.first() or await factories.make_staff('admin')


@FEW
@given(rows=ROWS)
@example(rows=[('Jamie', 'Rivera', 'jamie@example.org', HUGE)])
@example(rows=[('Ja\x1bmie', 'Rivera', '', ''), ('Ann', 'Lee', 'ann@example.org', '1 Main St')])
@example(rows=[('Jamie', 'Rivera\x00', '', ''), ('Ann', 'Lee', '', '')])
@example(rows=[('\u200fמרים\u200f', 'Cohen', 'miriam@example.org\r\nBcc: x@evil.test', '<b>2 Elm</b>')])
async def test_each_generated_row_is_imported_exactly_or_refused_and_the_job_finishes(db, rows):
    admin = await _admin()
    charts = [f'G{next(_charts)}' for _ in rows]
    data = _file(rows, charts)
    try:
        upload = jobs.read_upload('generated.csv', data)
    except UnreadableFile as refused:
        assert b'\x00' in data and 'NUL' in str(refused)
        return
    assert b'\x00' not in data
    guessed = mapping.guess('patients', upload.table.headers)
    preview = await jobs.preview('patients', upload, guessed)
    assert sum(preview.counts.values()) == len(rows)
    job = await jobs.start_import('patients', upload, guessed, admin)
    assert await jobs.claim(job.id, 'fuzz-worker')
    await jobs.run(job.id, 'fuzz-worker')
    assert (await ImportJob.get(id=job.id)).status == JobStatus.DONE
    for number, (chart, (first, last, email, address)) in enumerate(zip(charts, rows, strict=True), start=2):
        patient = await Patient.get_or_none(chart_number=chart)
        if patient is None:
            row = await ImportRow.get(job_id=job.id, row_number=number)
            assert row.reason.strip() and len(row.reason) < 500
            continue
        assert (patient.first_name, patient.last_name) == (one_line(first), one_line(last))
        assert (patient.email, patient.address) == (email.strip(), one_line(address))


async def test_a_file_with_a_nul_byte_is_refused_with_its_line_before_a_job_starts(db):
    await _admin()
    data = _file([('Jamie', 'Rivera', '', ''), ('Ann', 'Le\x00e', '', '')], ['G1', 'G2'])
    try:
        jobs.read_upload('damaged.csv', data)
    except UnreadableFile as refused:
        assert 'Line 3' in str(refused)
    else:
        raise AssertionError('a file with a NUL byte was read')
    assert not await ImportJob.exists()
