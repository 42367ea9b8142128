"""Email upkeep (`/staff/email-upkeep`): patients whose address is missing, invalid, shared or bouncing."""

from datetime import datetime

from nicegui import ui

from pages.access import StaffViewer
from pages.staff.page import staff_page
from services.email_upkeep import PROBLEM_LABELS, Problem, UpkeepReport, email_upkeep


@staff_page('/email-upkeep', title='Email upkeep')
async def email_upkeep_page(viewer: StaffViewer) -> None:
    report = await email_upkeep()
    ui.label('Email upkeep').classes('text-h5').props('role=heading aria-level=1')
    ui.label(
        'Patients whose email address needs attention. A patient needs their own valid address before the '
        'portal can be enabled. Open the profile, use Edit to correct the address; the row then leaves this list.'
    ).classes('text-grey-8')
    with ui.row().classes('gap-3'):
        for problem in Problem:
            with ui.card().classes('q-pa-sm').props('flat bordered').mark(f'count-{problem}'):
                ui.label(str(report.counts[problem])).classes('text-h6')
                ui.label(PROBLEM_LABELS[problem]).classes('text-caption text-grey-8')
    _imported(report)
    if not report.rows:
        ui.label('Every patient has their own valid email address. Nothing to fix.').props('role=status')
        return
    ui.label('Addresses to fix').classes('text-h6').props('role=heading aria-level=2')
    with ui.element('q-markup-table').props('flat bordered separator=horizontal').classes('w-full'):
        with ui.element('thead'), ui.element('tr'):
            for heading in ('Patient', 'Email on file', 'Problem', 'Details', 'Imported'):
                with ui.element('th').classes('text-left'):
                    ui.label(heading)
        with ui.element('tbody'):
            for row in report.rows:
                with ui.element('tr').mark(f'upkeep-{row.problem}'):
                    with ui.element('td'):
                        ui.link(row.name, f'/staff/patients/{row.patient_id}').classes('text-weight-medium')
                    with ui.element('td'):
                        ui.label(row.email or 'none').classes('' if row.email else 'text-grey-7 text-italic')
                    with ui.element('td'):
                        ui.label(PROBLEM_LABELS[row.problem])
                    with ui.element('td').style('white-space: normal; max-width: 24rem'):
                        ui.label(row.detail)
                    with ui.element('td'):
                        ui.label(_imported_on(row.imported_at))


def _imported_on(moment: datetime | None) -> str:
    return moment.strftime('%b %-d, %Y') if moment else ''


def _imported(report: UpkeepReport) -> None:
    """After a CSV import: which of its patients staff can enable now, and how many need a better address."""
    if not report.imported_ready and not report.imported_needing_address:
        return
    ui.label('Imported patients').classes('text-h6').props('role=heading aria-level=2')
    ui.label(
        f'{report.imported_ready} imported patient{"s" if report.imported_ready != 1 else ""} could have the '
        f'portal enabled now (their own valid address, no portal yet); {report.imported_needing_address} '
        'need a better address first (listed below with their import date). Importing never enables a portal: '
        'open the profile and choose Enable Patient Portal from its ⋯ menu, one patient at a time.'
    ).classes('text-grey-8').mark('imported-summary')
    if not report.ready_rows:
        return
    with ui.element('q-markup-table').props('flat bordered separator=horizontal').classes('w-full'):
        with ui.element('thead'), ui.element('tr'):
            for heading in ('Ready for the portal', 'Email on file', 'Imported'):
                with ui.element('th').classes('text-left'):
                    ui.label(heading)
        with ui.element('tbody'):
            for ready in report.ready_rows:
                with ui.element('tr').mark('upkeep-ready'):
                    with ui.element('td'):
                        ui.link(ready.name, f'/staff/patients/{ready.patient_id}').classes('text-weight-medium')
                    with ui.element('td'):
                        ui.label(ready.email)
                    with ui.element('td'):
                        ui.label(_imported_on(ready.imported_at))
    if report.imported_ready > len(report.ready_rows):
        ui.label(f'Showing the {len(report.ready_rows)} most recently imported.').classes('text-caption')
