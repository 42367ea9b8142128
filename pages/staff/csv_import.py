"""CSV import (`/staff/import`, administrators): upload a file, map its columns, preview row by row, import
in the background with live progress, and resolve the rows held for review.

The job lives in the database, so a reload (or another admin's screen) shows it where it stands; the
page follows it through the import's staff events, never by polling.
"""

import asyncio

from fastapi.responses import Response
from nicegui import ui
from nicegui.events import UploadEventArguments, ValueChangeEventArguments

from models.csv_import import ImportJob, ImportKind, ImportRow, JobStatus, RowOutcome
from pages.access import StaffViewer
from pages.staff import router
from pages.staff.page import download_viewer, staff_page
from services import events
from services.csv_import import jobs, kinds, mapping
from services.csv_import.reading import MAX_BYTES
from services.csv_import.rows import Action
from services.errors import DomainError

TEMPLATE_URL = '/staff/import/template-{kind}.csv'
STATUS_LABELS = {
    JobStatus.QUEUED: 'Waiting to start',
    JobStatus.RUNNING: 'Importing',
    JobStatus.DONE: 'Finished',
    JobStatus.FAILED: 'Could not be read',
}


@router.get('/import/template-{kind}.csv', response_model=None)
async def import_template(kind: str) -> Response:
    viewer = await download_viewer(role='admin')
    if viewer is None:
        return Response('Only administrators can import records.', status_code=403, media_type='text/plain')
    try:
        text = mapping.template_csv(ImportKind(kind))
    except (ValueError, KeyError, DomainError):
        return Response('No such template.', status_code=404, media_type='text/plain')
    return Response(
        text.encode('utf-8'),
        media_type='text/csv; charset=utf-8',
        headers={'Content-Disposition': f'attachment; filename="{kind}-template.csv"'},
    )


class ImportScreen:
    def __init__(self, viewer: StaffViewer) -> None:
        self.viewer = viewer
        self.kind = ImportKind.PATIENTS
        self.upload: jobs.Upload | None = None
        self.mapping: dict[str, str] = {}
        self.preview: jobs.Preview | None = None
        self.recent: list[ImportJob] = []
        self.noted: dict[int, int] = {}  # job id -> rows imported with a note
        self.held: list[tuple[ImportRow, list]] = []
        self._loading = asyncio.Lock()

    async def build(self) -> None:
        self.client = ui.context.client
        ui.label('Import records').classes('text-h5').props('role=heading aria-level=1')
        ui.label(
            "Bring records over from the practice's previous system with a CSV file (UTF-8 or Windows, comma or "
            'semicolon, a first line naming the columns), one file per kind of record. Importing the same file '
            "again changes nothing; an updated file changes only what changed. Importing never enables a patient's "
            'portal.'
        ).classes('text-grey-8')
        with ui.card().classes('w-full q-pa-md').props('flat bordered'):
            ui.label('1. Choose the file').classes('text-h6').props('role=heading aria-level=2')
            with ui.row().classes('items-center gap-4'):
                ui.select(kinds.labels(), value=self.kind, label='What the file holds', on_change=self.set_kind).props(
                    'outlined dense'
                ).style('min-width: 200px').mark('import-kind')
                self.template_link()
            # Quasar's uploader nests its file input in an unnamed button (axe: nested-interactive, label):
            # it stays hidden, and a named button opens its file dialog from the same click.
            uploader = (
                ui.upload(auto_upload=True, max_file_size=MAX_BYTES, on_upload=self.on_upload)
                .props('accept=.csv,text/csv,text/plain')
                .classes('hidden')
                .mark('import-upload')
            )
            ui.button('Choose a CSV file', icon='upload_file').props('outline no-caps').on(
                'click', js_handler=f'() => document.querySelector("#c{uploader.id} input[type=file]").click()'
            ).mark('import-choose')
        self.mapping_section()
        self.preview_section()
        await self.load()
        self.jobs_section()
        self.review_section()
        unsubscribe = events.subscribe_staff(self.viewer.staff.id, self.on_event)
        ui.context.client.on_delete(unsubscribe)

    async def load(self) -> tuple[bool, bool]:
        """Read the jobs and the held rows; whether each differs from what is drawn."""
        drawn_jobs, drawn_held = self._jobs_content(), _held_content(self.held)
        self.recent = await jobs.recent_jobs(5)
        self.noted = await jobs.noted_counts([job.id for job in self.recent])
        self.held = [(row, await jobs.candidates(row)) for row in await jobs.held_for_review(50)]
        return self._jobs_content() != drawn_jobs, _held_content(self.held) != drawn_held

    def _jobs_content(self) -> list[tuple]:
        return [
            (job.id, job.status, job.next_row, job.created, job.updated, job.unchanged, job.refused, job.held)
            + (jobs.interrupted(job), self.noted.get(job.id, 0))
            for job in self.recent
        ]

    async def on_event(self, event: events.Event) -> None:
        if event.topic == jobs.IMPORT_EVENTS:
            await self.reload()

    async def reload(self) -> None:
        """Read again and redraw each section only if what it shows changed (a new job is a change). An event
        that changes nothing (the job's last announcement, another staff member's) would otherwise delete a
        button under a click on its way. One reload at a time: two events' loads compared with the same
        earlier state would both redraw, and the second would delete the first one's buttons."""
        async with self._loading:
            jobs_changed, held_changed = await self.load()
            if jobs_changed:
                self.jobs_section.refresh()
            if held_changed:
                self.review_section.refresh()

    @ui.refreshable_method
    def template_link(self) -> None:
        ui.link('Download the template (with example rows)', TEMPLATE_URL.format(kind=self.kind.value)).mark(
            'import-template'
        )

    async def set_kind(self, event: ValueChangeEventArguments) -> None:
        """Another kind: its template, and the file (if one is chosen) mapped again to that kind's fields."""
        self.kind = ImportKind(event.value)
        self.template_link.refresh()
        self.preview = None
        if self.upload is not None:
            self.mapping = mapping.guess(self.kind, self.upload.table.headers, await mapping.remembered(self.kind))
        self.mapping_section.refresh()
        self.preview_section.refresh()

    async def on_upload(self, event: UploadEventArguments) -> None:
        try:
            self.upload = jobs.read_upload(event.file.name, await event.file.read())
        except DomainError as error:
            ui.notify(str(error), type='negative')
            return
        self.mapping = mapping.guess(self.kind, self.upload.table.headers, await mapping.remembered(self.kind))
        self.preview = None
        self.mapping_section.refresh()
        self.preview_section.refresh()

    @ui.refreshable_method
    def mapping_section(self) -> None:
        if self.upload is None:
            return
        with ui.card().classes('w-full q-pa-md').props('flat bordered').mark('import-mapping'):
            ui.label('2. Match the columns').classes('text-h6').props('role=heading aria-level=2')
            rows = len(self.upload.table.rows)
            ui.label(
                f'{self.upload.file_name}: {rows:,} row{"s" if rows != 1 else ""}. Check which column holds what; '
                'the choice is remembered for the next file.'
            ).classes('text-grey-8')
            options = {'': '(not in this file)'} | {h: h for h in self.upload.table.headers if h}
            with ui.grid(columns='repeat(auto-fill, minmax(220px, 1fr))').classes('w-full gap-3'):
                for field in mapping.fields_of(self.kind):
                    label = field.label + (' (required)' if field.required else '')
                    ui.select(
                        options,
                        value=self.mapping.get(field.name, ''),
                        label=label,
                        on_change=lambda e, name=field.name: self.set_column(name, e.value),
                    ).props('outlined dense').mark(f'column-{field.name}')
            ui.button('Preview', on_click=self.make_preview).props('unelevated').mark('import-preview')

    def set_column(self, name: str, heading: str | None) -> None:
        self.mapping[name] = heading or ''
        self.preview = None
        self.preview_section.refresh()

    async def make_preview(self) -> None:
        if self.upload is None:
            return
        try:
            self.preview = await jobs.preview(self.kind, self.upload, self.mapping)
        except DomainError as error:
            ui.notify(str(error), type='negative')
            return
        self.preview_section.refresh()

    @ui.refreshable_method
    def preview_section(self) -> None:
        preview = self.preview
        if preview is None:
            return
        with ui.card().classes('w-full q-pa-md').props('flat bordered').mark('import-preview-result'):
            ui.label('3. Preview').classes('text-h6').props('role=heading aria-level=2')
            labels = kinds.rules(self.kind).ACTION_LABELS
            summary = ', '.join(f'{labels[a].lower()}: {n:,}' for a, n in preview.counts.items())
            ui.label(f'{preview.total:,} rows. {summary[:1].upper()}{summary[1:]}.').props('role=status').mark(
                'preview-summary'
            )
            if len(preview.rows) < preview.total:
                ui.label(f'The first {len(preview.rows):,} rows are listed, refused and held ones first.').classes(
                    'text-grey-8'
                )
            columns = [
                {'name': 'row', 'label': 'Row', 'field': 'row', 'align': 'left'},
                {'name': 'action', 'label': 'Action', 'field': 'action', 'align': 'left'},
                {'name': 'name', 'label': 'Patient', 'field': 'name', 'align': 'left'},
                {'name': 'reason', 'label': 'Reason', 'field': 'reason', 'align': 'left', 'classes': 'wrap'},
            ]
            rows = [
                {
                    'row': r.row_number,
                    'action': labels[r.action],
                    'name': r.name,
                    'reason': r.reason or ', '.join(r.changed),
                }
                for r in preview.rows
            ]
            ui.table(columns=columns, rows=rows, row_key='row', pagination=25).props(
                'flat bordered dense wrap-cells'
            ).classes('w-full').mark('preview-table')
            importable = preview.counts[Action.CREATE] + preview.counts[Action.UPDATE]
            ui.button(f'Import {importable:,} row{"s" if importable != 1 else ""}', on_click=self.start).props(
                'unelevated color=primary'
            ).mark('import-start').set_enabled(importable > 0 or preview.counts[Action.HELD] > 0)

    async def start(self) -> None:
        if self.upload is None:
            return
        try:
            job = await jobs.start_import(self.kind, self.upload, self.mapping, self.viewer.staff)
        except DomainError as error:
            ui.notify(str(error), type='negative')
            return
        jobs.run_in_background(job.id)
        self.upload, self.preview = None, None
        self.mapping_section.refresh()
        self.preview_section.refresh()
        await self.reload()

    @ui.refreshable_method
    def jobs_section(self) -> None:
        if not self.recent:
            return
        with ui.card().classes('w-full q-pa-md').props('flat bordered').mark('import-jobs'):
            ui.label('Imports').classes('text-h6').props('role=heading aria-level=2')
            for job in self.recent:
                self.job_row(job)

    def job_row(self, job: ImportJob) -> None:
        with ui.column().classes('w-full gap-1 q-py-sm').mark(f'import-job-{job.id}'):
            when = job.created_at.strftime('%m/%d/%Y %H:%M UTC')
            ui.label(f'{job.file_name or "CSV file"} ({job.kind.value}, {when}): {STATUS_LABELS[job.status]}').classes(
                'text-weight-medium'
            )
            if job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
                share = job.next_row / job.total_rows if job.total_rows else 0
                ui.linear_progress(value=round(share, 3), show_value=False, size='12px').props(
                    f'aria-label="Import progress" aria-valuenow={round(share * 100)}'
                ).mark('import-progress')
                ui.label(f'{job.next_row:,} of {job.total_rows:,} rows done. You can leave this page.').props(
                    'role=status'
                )
                if jobs.interrupted(job):
                    ui.label(
                        'Interrupted (the app stopped or restarted). It goes on from where it stopped within a '
                        'minute or two; nothing of it is lost or applied twice.'
                    ).classes('text-weight-medium').mark('import-interrupted')
            elif job.status == JobStatus.FAILED:
                ui.label(job.error).classes('text-negative')
            if job.status != JobStatus.QUEUED:
                ui.label(
                    f'New: {job.created:,} · Updated: {job.updated:,} · No change: {job.unchanged:,} · '
                    f'Refused: {job.refused:,} · Held for review: {job.held:,}'
                    + (f' · Imported with a note: {noted:,}' if (noted := self.noted.get(job.id, 0)) else '')
                ).props('role=status').mark('import-result')
            if job.refused or job.held or self.noted.get(job.id):
                ui.button('Show refused and noted rows', on_click=lambda j=job: self.show_rows(j)).props(
                    'flat dense no-caps'
                )

    async def show_rows(self, job: ImportJob) -> None:
        from pages.dialog import titled_dialog

        rows = await jobs.job_rows(job.id)
        # In the page itself, not beside the button: a progress event may redraw the jobs list meanwhile.
        with (
            self.client.content,
            titled_dialog(f'Rows of {job.file_name or "the import"}', style='max-width: 900px') as dialog,
        ):
            labels = {RowOutcome.REFUSED: 'Refused', RowOutcome.HELD: 'Held', RowOutcome.NOTE: 'Imported, note'}
            ui.table(
                columns=[
                    {'name': 'row', 'label': 'Row', 'field': 'row', 'align': 'left'},
                    {'name': 'outcome', 'label': 'Outcome', 'field': 'outcome', 'align': 'left'},
                    {'name': 'reason', 'label': 'Reason', 'field': 'reason', 'align': 'left'},
                ],
                rows=[{'row': r.row_number, 'outcome': labels[r.outcome], 'reason': r.reason} for r in rows],
                row_key='row',
                pagination=20,
            ).props('flat bordered dense wrap-cells').classes('w-full')
            ui.button('Close', on_click=dialog.close).props('flat')
        dialog.open()

    @ui.refreshable_method
    def review_section(self) -> None:
        if not self.held:
            return
        with ui.card().classes('w-full q-pa-md').props('flat bordered').mark('import-review'):
            ui.label('Held for review').classes('text-h6').props('role=heading aria-level=2')
            ui.label(
                'These rows could be more than one patient already on file. Pick the patient they belong to, or '
                'create a new patient.'
            ).classes('text-grey-8')
            for row, candidates in self.held:
                values = row.values
                with ui.column().classes('w-full gap-1 q-py-sm').mark(f'held-{row.id}'):
                    ui.label(
                        f'Row {row.row_number}: {values.get("first_name", "")} {values.get("last_name", "")}, '
                        f'born {values.get("date_of_birth", "")}, chart {values.get("chart_number") or "none"}'
                    ).classes('text-weight-medium')
                    ui.label(row.reason).classes('text-grey-8')
                    with ui.row().classes('gap-2'):
                        for patient in candidates:
                            ui.button(
                                f'Same as {patient.full_name} (chart {patient.chart_number or "none"}, '
                                f'{patient.email or "no email"})',
                                on_click=lambda r=row, p=patient.id: self.resolve(r, p),
                            ).props('outline dense no-caps').mark(f'resolve-{row.id}-{patient.id}')
                        ui.button('Create a new patient', on_click=lambda r=row: self.resolve(r, None)).props(
                            'outline dense no-caps'
                        ).mark(f'resolve-{row.id}-new')

    async def resolve(self, row: ImportRow, patient_id: int | None) -> None:
        # The job's events may redraw the list (and delete this button) meanwhile: speak from the page itself.
        with self.client:
            try:
                patient = await jobs.resolve_held(row.id, patient_id, self.viewer.staff, self.viewer.actor)
            except DomainError as error:
                ui.notify(str(error), type='negative')
            else:
                ui.notify(f'Row {row.row_number} saved to {patient.full_name}.', type='positive')
        await self.reload()


def _held_content(held: list[tuple[ImportRow, list]]) -> list[tuple]:
    """What the review list shows: the rows and their candidates as drawn."""
    return [
        (
            row.id,
            row.row_number,
            row.reason,
            sorted(row.values.items()),
            [(p.id, p.full_name, p.chart_number, p.email) for p in candidates],
        )
        for row, candidates in held
    ]


@staff_page('/import', title='Import records', role='admin')
async def import_page(viewer: StaffViewer) -> None:
    await ImportScreen(viewer).build()
