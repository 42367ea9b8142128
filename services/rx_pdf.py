"""The downloadable Rx: a one-page PDF carrying what US rules ask of a released prescription.

Same content as the print view (`/rx/{id}`), drawn with fpdf2's core fonts so no font files ship
with the app. Core fonts are Latin-1 only: text is folded to it rather than failing on a name.
"""

from fpdf import FPDF
from fpdf.fonts import FontFace

from services.prescriptions import RxDocument, long_date

SPECTACLE_COLUMNS = ('Eye', 'Sphere', 'Cylinder', 'Axis', 'Add', 'Prism / base')
CONTACT_COLUMNS = ('Eye', 'Sphere', 'Cylinder', 'Axis', 'Add', 'Base curve', 'Diameter')


def _latin1(text: str) -> str:
    replacements = {'\u2013': '-', '\u2014': '-', '\u2019': "'", '\u2018': "'", '\u201c': '"', '\u201d': '"'}
    for char, plain in replacements.items():
        text = text.replace(char, plain)
    return text.encode('latin-1', 'replace').decode('latin-1')


def render(document: RxDocument) -> bytes:
    """The PDF bytes for one prescription."""
    rx, patient, provider, practice = document.prescription, document.patient, document.provider, document.practice
    pdf = FPDF(format='letter')
    pdf.set_title(_latin1(f'{document.kind} prescription - {patient.full_name}'))
    pdf.set_author(_latin1(practice.name))
    pdf.set_creator('Patient Portal')
    pdf.set_margins(18, 18, 18)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()

    pdf.set_font('Helvetica', 'B', 16)
    pdf.cell(0, 8, _latin1(practice.name), new_x='LMARGIN', new_y='NEXT')
    pdf.set_font('Helvetica', '', 10)
    for line in (practice.address, f'Phone: {practice.phone}' if practice.phone else ''):
        if line:
            pdf.cell(0, 5, _latin1(line), new_x='LMARGIN', new_y='NEXT')
    pdf.ln(4)

    pdf.set_font('Helvetica', 'B', 14)
    pdf.cell(0, 8, _latin1(f'{document.kind} prescription'), new_x='LMARGIN', new_y='NEXT')
    pdf.ln(1)
    _pairs(
        pdf,
        [
            ('Patient', patient.full_name),
            ('Date of birth', long_date(patient.date_of_birth)),
            ('Exam date', long_date(rx.exam_date)),
            ('Issue date', long_date(rx.issue_date)),
            ('Expiry date', long_date(rx.expiry_date)),
        ]
        + ([('Expiry reason', rx.expiry_reason)] if rx.expiry_reason else []),
    )
    pdf.ln(3)

    pdf.set_font('Helvetica', '', 10)
    columns = CONTACT_COLUMNS if document.is_contact_lens else SPECTACLE_COLUMNS
    heading = FontFace(emphasis='BOLD', fill_color=(235, 235, 235))
    with pdf.table(headings_style=heading, text_align='CENTER', line_height=7) as table:
        table.row(columns)
        for eye in document.eyes:
            values = [eye.label, eye.sphere, eye.cylinder, eye.axis, eye.add]
            values += [eye.base_curve, eye.diameter] if document.is_contact_lens else [eye.prism]
            table.row([_latin1(v) or '-' for v in values])
    if document.is_contact_lens:
        pdf.ln(3)
        for eye in document.eyes:
            _pairs(pdf, [(f'{eye.eye} lens', ' - '.join(p for p in (eye.manufacturer, eye.brand) if p) or '-')])
    if rx.notes:
        pdf.ln(3)
        _pairs(pdf, [('Notes', rx.notes)])

    pdf.ln(6)
    pdf.set_font('Helvetica', 'B', 11)
    pdf.cell(0, 6, 'Prescriber', new_x='LMARGIN', new_y='NEXT')
    _pairs(
        pdf,
        [
            ('Name', provider.display_name),
            ('Licence', document.licence or '-'),
        ]
        + ([('NPI', provider.npi)] if provider.npi else [])
        + [('Practice', ', '.join(p for p in (practice.name, practice.address, practice.phone) if p))],
    )
    pdf.ln(6)
    pdf.set_font('Helvetica', 'I', 8)
    pdf.multi_cell(
        0,
        4,
        align='L',
        text=_latin1(
            f'Released to the patient through the {practice.name} patient portal. '
            'No in-office signature is needed for this copy.'
        ),
    )
    return bytes(pdf.output())


def _pairs(pdf: FPDF, pairs: list[tuple[str, str]]) -> None:
    for label, value in pairs:
        pdf.set_font('Helvetica', 'B', 10)
        pdf.cell(32, 6, _latin1(label))
        pdf.set_font('Helvetica', '', 10)
        pdf.multi_cell(0, 6, _latin1(value), align='L', new_x='LMARGIN', new_y='NEXT')


def filename(document: RxDocument) -> str:
    """A name a patient recognises in their downloads folder, without anything that could break a header."""
    kind = 'contact-lens' if document.is_contact_lens else 'glasses'
    return f'rx-{kind}-{document.prescription.issue_date.isoformat()}.pdf'
