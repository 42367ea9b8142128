"""The downloadable Rx: a one-page US Letter PDF carrying what US rules ask of a released prescription.

Same content as the print view (`/rx/{id}`), in the PDFs' own typeface (services/pdf_text.py) so a
patient's name prints as typed. Built to be readable when faxed: black text of at least 10 pt, no grey
fills behind values, thin black rules.
A copy that must not be filled (expired, replaced, void) carries the word across the page in outline.
"""

import io
from datetime import date

from fpdf import FPDF
from fpdf.fonts import FontFace

from services.pdf_text import FAMILY, new_document, printable
from services.prescriptions import RxDocument
from services.rx_verification import Share

SPECTACLE_COLUMNS = ('Eye', 'Sphere', 'Cylinder', 'Axis', 'Add', 'Prism / base')
CONTACT_COLUMNS = ('Eye', 'Power', 'Cylinder', 'Axis', 'Add', 'Base curve', 'Diameter')
LABEL_WIDTH = 40  # mm: the longest label, "Lens (OD and OS)", in bold 11 pt
QR_SIZE = 32  # mm: a phone reads it from arm's length, a fax keeps its modules


def render(document: RxDocument, today: date, share: Share | None = None) -> bytes:
    """The PDF bytes for one prescription; `today` is the practice's date (for EXPIRED); `share` adds the
    verification code and its QR (every released Rx has one)."""
    patient, practice = document.patient, document.practice
    pdf = new_document()
    pdf.set_title(printable(f'{document.kind} prescription - {patient.full_name}'))
    pdf.set_author(printable(practice.name))
    pdf.set_creator('Patient Portal')
    pdf.set_margins(18, 16, 18)
    pdf.set_auto_page_break(False)  # one page, always
    pdf.add_page()

    pdf.set_font(FAMILY, 'B', 16)
    pdf.cell(0, 8, printable(practice.name), new_x='LMARGIN', new_y='NEXT')
    pdf.set_font(FAMILY, '', 11)
    contact = '   '.join(p for p in (f'Phone: {practice.phone}' if practice.phone else '', _fax(document)) if p)
    for line in (practice.address, contact):
        if line:
            pdf.cell(0, 5.5, printable(line), new_x='LMARGIN', new_y='NEXT')
    pdf.ln(4)

    stamp = document.stamp(today)
    pdf.set_font(FAMILY, 'B', 15)
    title = f'{document.kind} prescription' + (f' - {stamp}' if stamp else '')
    pdf.cell(0, 8, printable(title), new_x='LMARGIN', new_y='NEXT')
    pdf.ln(1)
    _pairs(pdf, document.facts())
    pdf.ln(3)

    pdf.set_font(FAMILY, '', 11)
    columns = list(CONTACT_COLUMNS if document.is_contact_lens else SPECTACLE_COLUMNS)
    dominance = document.is_contact_lens and any(e.dominance for e in document.eyes)
    if dominance:
        columns.append('Dominance')
    heading = FontFace(emphasis='BOLD')
    widths = (30, 18, 21, 13, 15, 27, 23, 30) if document.is_contact_lens else (34, 24, 24, 18, 22, 56)
    with pdf.table(
        headings_style=heading,
        text_align='CENTER',
        line_height=7.5,
        borders_layout='ALL',
        col_widths=widths[: len(columns)],
        width=sum(widths[: len(columns)]),
        align='LEFT',
    ) as table:
        table.row(columns)
        for eye in document.eyes:
            values = [eye.label, eye.sphere, eye.cylinder, eye.axis, eye.add]
            values += [eye.base_curve, eye.diameter] if document.is_contact_lens else [eye.prism]
            if dominance:
                values.append(eye.dominance)
            table.row([printable(v) or '-' for v in values])
    pdf.ln(2)
    _pairs(pdf, document.lens_lines())
    if document.prescription.notes:
        _pairs(pdf, [('Notes', document.prescription.notes[:600])])

    pdf.ln(4)
    pdf.set_font(FAMILY, 'B', 12)
    pdf.cell(0, 7, 'Prescriber', new_x='LMARGIN', new_y='NEXT')
    _pairs(pdf, document.prescriber_facts())
    if document.signature:
        pdf.ln(3)
        pdf.set_font(FAMILY, 'B', 11)
        pdf.multi_cell(0, 6, printable(document.signature), align='L', new_x='LMARGIN', new_y='NEXT')
    if document.release_note:
        pdf.ln(3)
        pdf.set_font(FAMILY, '', 10)
        pdf.multi_cell(0, 5, printable(document.release_note), align='L', new_x='LMARGIN', new_y='NEXT')
    if share:
        _verification(pdf, share)
    if stamp:
        _stamp(pdf, stamp)
    return bytes(pdf.output())


def _verification(pdf: FPDF, share: Share) -> None:
    """The QR and the typed form at the foot of the page: how an optician or seller checks this copy."""
    top = max(pdf.get_y() + 6, pdf.h - 16 - QR_SIZE)
    if top + QR_SIZE > pdf.h - 6:
        top = pdf.h - 6 - QR_SIZE
    left = pdf.l_margin
    pdf.image(io.BytesIO(share.qr_png()), x=left, y=top, w=QR_SIZE, h=QR_SIZE)
    pdf.set_xy(left + QR_SIZE + 4, top + 2)
    pdf.set_font(FAMILY, 'B', 11)
    pdf.cell(0, 6, 'Check this prescription', new_x='LEFT', new_y='NEXT')
    pdf.set_font(FAMILY, '', 10)
    where = printable(f'Scan the code, or go to {share.verify_page} and enter:')
    pdf.multi_cell(0, 5, where, align='L', new_x='LEFT', new_y='NEXT')
    pdf.set_font('Courier', 'B', 13)
    pdf.cell(0, 7, share.display, new_x='LEFT', new_y='NEXT')
    pdf.set_font(FAMILY, '', 9)
    pdf.multi_cell(0, 4.5, 'It shows whether this prescription is current, expired, replaced or void.', align='L')


def _fax(document: RxDocument) -> str:
    return f'Fax: {document.practice.fax}' if document.practice.fax else ''


def _stamp(pdf: FPDF, word: str) -> None:
    """The word across the page, outlined so the values under it stay readable on a fax."""
    pdf.set_font(FAMILY, 'B', 80)
    pdf.set_draw_color(160, 0, 0)
    pdf.set_line_width(0.6)
    width = pdf.get_string_width(word)
    x, y = (pdf.w - width) / 2, pdf.h / 2 + 20
    with pdf.rotation(angle=30, x=pdf.w / 2, y=pdf.h / 2):
        pdf.text_mode = 'STROKE'
        pdf.text(x, y, word)
        pdf.text_mode = 'FILL'
    pdf.set_draw_color(0, 0, 0)


def _pairs(pdf: FPDF, pairs: list[tuple[str, str]]) -> None:
    for label, value in pairs:
        pdf.set_font(FAMILY, 'B', 11)
        pdf.cell(LABEL_WIDTH, 6, printable(label))
        pdf.set_font(FAMILY, '', 11)
        pdf.multi_cell(0, 6, printable(value), align='L', new_x='LMARGIN', new_y='NEXT')


def filename(document: RxDocument) -> str:
    """A name a patient recognises in their downloads folder, without anything that could break a header."""
    kind = 'contact-lens' if document.is_contact_lens else 'glasses'
    return f'rx-{kind}-{document.prescription.issue_date.isoformat()}.pdf'
