"""Which CSV column holds which field: guessed from the headings, remembered per kind for the next import,
and the template files (headings plus example rows) staff can download and fill in."""

import csv
import io
import re

from models.csv_import import ImportKind, ImportMapping
from services.csv_import import kinds
from services.csv_import.rows import Field
from services.errors import DomainError

# Views of the registry (each kind's module holds its own fields, template rows and label).
FIELDS: dict[ImportKind, tuple[Field, ...]] = {kind: rules.FIELDS for kind, rules in kinds.REGISTRY.items()}
TEMPLATES: dict[ImportKind, list[list[str]]] = {kind: rules.TEMPLATE for kind, rules in kinds.REGISTRY.items()}
KIND_LABELS: dict[ImportKind, str] = kinds.labels()


class MappingInvalid(DomainError):
    pass


def _key(text: str) -> str:
    return re.sub(r'[^a-z0-9#]+', ' ', (text or '').lower()).strip()


def fields_of(kind: ImportKind) -> tuple[Field, ...]:
    return kinds.rules(kind).FIELDS


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
    writer.writerows(kinds.rules(kind).TEMPLATE)
    return '\ufeff' + out.getvalue()
