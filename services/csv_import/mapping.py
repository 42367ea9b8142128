"""Which CSV column holds which field: guessed from the headings, remembered per kind for the next import,
and the template files (headings plus example rows) staff can download and fill in."""

import csv
import io
import re
from dataclasses import dataclass

from models.csv_import import ImportKind, ImportMapping
from services.errors import DomainError


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    required: bool = False
    aliases: tuple[str, ...] = ()


FIELDS: dict[ImportKind, tuple[Field, ...]] = {
    ImportKind.PATIENTS: (
        Field('chart_number', 'Chart number', aliases=('chart', 'chart no', 'chart #', 'mrn', 'patient id', 'account')),
        Field('first_name', 'First name', True, ('first', 'firstname', 'given name', 'forename')),
        Field('last_name', 'Last name', True, ('last', 'lastname', 'surname', 'family name')),
        Field('date_of_birth', 'Date of birth', True, ('dob', 'birth date', 'birthdate', 'birthday', 'born')),
        Field('email', 'Email', aliases=('e-mail', 'email address', 'mail')),
        Field('phone', 'Phone', aliases=('mobile', 'cell', 'phone number', 'telephone', 'mobile phone')),
        Field('address', 'Address', aliases=('street', 'street address', 'home address')),
    ),
}

TEMPLATES: dict[ImportKind, list[list[str]]] = {
    ImportKind.PATIENTS: [
        [
            '1001',
            'Jamie',
            'Rivera',
            '1985-04-12',
            'jamie.rivera@example.com',
            '(207) 555-0134',
            '12 Harbor St, Portland',
        ],
        ['1002', 'Ana', 'Müller', '04/30/1990', '', '207-555-0188', ''],
    ],
}

KIND_LABELS = {ImportKind.PATIENTS: 'Patients', ImportKind.PRESCRIPTIONS: 'Prescriptions'}


class MappingInvalid(DomainError):
    pass


def _key(text: str) -> str:
    return re.sub(r'[^a-z0-9#]+', ' ', (text or '').lower()).strip()


def fields_of(kind: ImportKind) -> tuple[Field, ...]:
    try:
        return FIELDS[kind]
    except KeyError:
        raise MappingInvalid(f'Importing {kind.value} is not available yet.') from None


def guess(kind: ImportKind, headers: list[str], remembered: dict[str, str] | None = None) -> dict[str, str]:
    """field -> heading: the remembered mapping where its headings are in this file, else by name."""
    by_key = {_key(h): h for h in headers if h}
    mapping: dict[str, str] = {}
    for field in fields_of(kind):
        heading = (remembered or {}).get(field.name)
        if heading in headers:
            mapping[field.name] = heading
            continue
        for candidate in (field.name, field.label, *field.aliases):
            if (found := by_key.get(_key(candidate))) is not None:
                mapping[field.name] = found
                break
    return mapping


def checked(kind: ImportKind, headers: list[str], mapping: dict[str, str]) -> dict[str, str]:
    """The mapping without blanks; MappingInvalid when a required field has no column or a column is unknown."""
    mapping = {name: heading for name, heading in mapping.items() if heading}
    known = {f.name for f in fields_of(kind)}
    for name, heading in mapping.items():
        if name not in known:
            raise MappingInvalid(f'"{name}" is not a field of this import.')
        if heading not in headers:
            raise MappingInvalid(f'The file has no column "{heading}".')
    missing = [f.label for f in fields_of(kind) if f.required and f.name not in mapping]
    if missing:
        raise MappingInvalid('Choose the column for: ' + ', '.join(missing) + '.')
    return mapping


async def remembered(kind: ImportKind) -> dict[str, str]:
    row = await ImportMapping.get_or_none(kind=kind)
    return dict(row.mapping) if row else {}


async def remember(kind: ImportKind, mapping: dict[str, str]) -> None:
    row = await ImportMapping.get_or_none(kind=kind)
    if row is None:
        await ImportMapping.create(kind=kind, mapping=mapping)
    elif row.mapping != mapping:
        row.mapping = mapping
        await row.save()


def template_csv(kind: ImportKind) -> str:
    """Headings and example rows, UTF-8 with a BOM so Excel shows 'Müller' right."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator='\r\n')
    writer.writerow([f.label for f in fields_of(kind)])
    writer.writerows(TEMPLATES[kind])
    return '\ufeff' + out.getvalue()
